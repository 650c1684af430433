/* test_priv.c - Check unit tests for mysql.global_priv rows (proxy/cluster/priv.c). */
#include <check.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <string.h>

#include "cluster/priv.h"
#include "gp_check.h"
#include "session/auth.h"

/*
 * Rows marked captured were read from MariaDB 10.11.19 (SELECT User, Host, Priv FROM
 * mysql.global_priv) after mariadb-install-db and:
 *   CREATE USER u@'%' IDENTIFIED BY 'pw'; CREATE USER nopw@'%';
 *   CREATE USER ed@'%' IDENTIFIED VIA ed25519 USING PASSWORD('edpw');
 *   CREATE USER alt@'%' IDENTIFIED VIA ed25519 USING PASSWORD('a1')
 *       OR mysql_native_password USING PASSWORD('a2');
 *   CREATE USER alt2@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('b1') OR unix_socket;
 *   CREATE USER locked@'%' IDENTIFIED BY 'lk' ACCOUNT LOCK;
 *   CREATE USER expired@'%' IDENTIFIED BY 'ex' PASSWORD EXPIRE;
 *   CREATE USER life@'%' IDENTIFIED BY 'lf' PASSWORD EXPIRE INTERVAL 30 DAY;
 *   CREATE USER never@'%' IDENTIFIED BY 'nv' PASSWORD EXPIRE NEVER;
 *   CREATE USER pam@'%' IDENTIFIED VIA pam USING 'mariadb'; CREATE ROLE r1;
 * (life's row was rewritten once by JSON_SET, hence its spaces). On that server, with
 * default_password_lifetime=1, a row without password_last_changed could not log in (1820)
 * while root's, with the default 0, could: what gp_priv_password_expired follows.
 */

#define CHANGED 1796620886 /* password_last_changed of the captured rows */
#define DAY     86400

typedef struct row {
	const char *user, *host, *priv;
} row_t;

/* captured */
static const row_t r_u = {"u", "%",
                          "{\"access\":549755812863,\"version_id\":101119,\"plugin\":\"mysql_"
                          "native_password\",\"authentication_string\":\"*D821809F681A40A6E379"
                          "B50D0463EFAE20BDD122\",\"password_last_changed\":1796620886}"};
static const row_t r_nopw = {"nopw", "%",
                             "{\"access\":549755812863,\"version_id\":101119,\"plugin\":\"mysql_"
                             "native_password\",\"authentication_string\":\"\",\"password_last_"
                             "changed\":1796620886}"};
static const row_t r_ed = {"ed", "%",
                           "{\"access\":0,\"version_id\":101119,\"plugin\":\"ed25519\","
                           "\"authentication_string\":\"LIEvGDGjHTmKyz3peLRjPqahOct5n6/BQCNm1bOv"
                           "ot4\",\"password_last_changed\":1796620886}"};
static const row_t r_alt = {"alt", "%",
                            "{\"access\":0,\"version_id\":101119,\"plugin\":\"mysql_native_"
                            "password\",\"authentication_string\":\"*B41910D7DAC74DF9025801DCAA1"
                            "BAF6C8F03D6C5\",\"auth_or\":[{\"plugin\":\"ed25519\",\"authentica"
                            "tion_string\":\"vkM3wTubZs8FkjLeMva0lepHIVtg7r/dQhXJ1H1QZoY\"},{}],"
                            "\"password_last_changed\":1796620886}"};
static const row_t r_alt2 = {"alt2", "%",
                             "{\"access\":0,\"version_id\":101119,\"plugin\":\"mysql_native_"
                             "password\",\"authentication_string\":\"*3DF9846B32755CB73D44AF1A04"
                             "19513B43D2DA48\",\"auth_or\":[{},{\"plugin\":\"unix_socket\"}],"
                             "\"password_last_changed\":1796620886}"};
static const row_t r_locked = {"locked", "%",
                               "{\"access\":0,\"version_id\":101119,\"plugin\":\"mysql_native_"
                               "password\",\"authentication_string\":\"*22EBF238034017A55FADD233"
                               "05256F120695A006\",\"account_locked\":true,\"password_last_"
                               "changed\":1796620886}"};
static const row_t r_expired = {"expired", "%",
                                "{\"access\":0,\"version_id\":101119,\"plugin\":\"mysql_native_"
                                "password\",\"authentication_string\":\"*537E32E777563FF4B84AFC6"
                                "4557B4A20B8810094\",\"password_last_changed\":0,\"password_"
                                "lifetime\":-1}"};
static const row_t r_life = {"life", "%",
                             "{\"access\": 0, \"version_id\": 101119, \"plugin\": \"mysql_native_"
                             "password\", \"authentication_string\": \"*C032AC9E7C2CA7CA817BDD86"
                             "26FE25F427188C10\", \"password_last_changed\": 1796620886, "
                             "\"password_lifetime\": 30}"};
static const row_t r_never = {"never", "%",
                              "{\"access\":0,\"version_id\":101119,\"plugin\":\"mysql_native_"
                              "password\",\"authentication_string\":\"*9C4563B19476919F62EE13FD9"
                              "719F132A90B1404\",\"password_last_changed\":1796620886,\"password_"
                              "lifetime\":0}"};
static const row_t r_pam = {"pam", "%",
                            "{\"access\":0,\"version_id\":101119,\"plugin\":\"pam\",\"authentica"
                            "tion_string\":\"mariadb\",\"password_last_changed\":1796620888}"};
static const row_t r_role = {"r1", "", "{\"access\":0,\"version_id\":101119,\"is_role\":true}"};
static const row_t r_root = {"root", "localhost", "{\"access\":18446744073709551615}"};
static const row_t r_anon = {"", "vm", "{}"};
static const row_t r_sys = {"mariadb.sys", "localhost",
                            "{\"access\":0,\"plugin\":\"mysql_native_password\",\"authentication"
                            "_string\":\"\",\"account_locked\":true,\"password_last_changed\":0}"};

static gp_priv_t parse(const row_t *r)
{
	gp_priv_t p;

	ck_assert_int_eq(gp_priv_parse(r->user, strlen(r->user), r->host, strlen(r->host), r->priv,
	                               strlen(r->priv), &p),
	                 GP_OK);
	ck_assert_str_eq(p.user, r->user);
	ck_assert_str_eq(p.host, r->host);
	return p;
}

/* The stored hash of a password, as the server computes it. */
static gp_auth_hash_t hash_of_password(const char *pw)
{
	struct sha1_ctx c;
	uint8_t h1[SHA1_DIGEST_SIZE];
	gp_auth_hash_t h = {.empty = false};

	sha1_init(&c);
	sha1_update(&c, strlen(pw), (const uint8_t *)pw);
	sha1_digest(&c, SHA1_DIGEST_SIZE, h1);
	sha1_update(&c, SHA1_DIGEST_SIZE, h1);
	sha1_digest(&c, SHA1_DIGEST_SIZE, h.h);
	return h;
}

/* A native alternative whose stored hash is that of pw (read as the session will). */
static void assert_native(const gp_priv_auth_t *a, const char *pw)
{
	gp_auth_hash_t want = hash_of_password(pw), got;

	ck_assert_str_eq(a->plugin, "mysql_native_password");
	ck_assert(a->native);
	ck_assert(gp_auth_hash_parse(a->auth_string, a->auth_string_len, &got));
	ck_assert(!got.empty);
	ck_assert_int_eq(memcmp(got.h, want.h, GP_AUTH_SHA1_LEN), 0);
}

START_TEST(test_native)
{
	gp_priv_t p = parse(&r_u);

	ck_assert_uint_eq(p.nauth, 1);
	assert_native(&p.auth[0], "pw");
	ck_assert_str_eq(p.auth[0].auth_string, "*D821809F681A40A6E379B50D0463EFAE20BDD122");
	ck_assert(!p.locked && !p.expired && !p.is_role);
	ck_assert_int_eq(p.password_last_changed, CHANGED);
	ck_assert_int_eq(p.password_lifetime, -1);
	ck_assert(gp_priv_learnable(&p));
	gp_priv_wipe(&p);
	ck_assert_uint_eq(p.nauth, 0);
	ck_assert_uint_eq(p.auth[0].auth_string[1], 0);

	p = parse(&r_nopw);
	ck_assert(p.auth[0].native);
	ck_assert_uint_eq(p.auth[0].auth_string_len, 0);
	ck_assert(gp_priv_learnable(&p));
	gp_priv_wipe(&p);
}
END_TEST

START_TEST(test_other_plugins)
{
	gp_priv_t p = parse(&r_ed);

	ck_assert_uint_eq(p.nauth, 1);
	ck_assert_str_eq(p.auth[0].plugin, "ed25519");
	ck_assert_str_eq(p.auth[0].auth_string, "LIEvGDGjHTmKyz3peLRjPqahOct5n6/BQCNm1bOvot4");
	ck_assert(!p.auth[0].native);
	ck_assert(!gp_priv_learnable(&p));
	gp_priv_wipe(&p);

	p = parse(&r_pam);
	ck_assert_str_eq(p.auth[0].plugin, "pam");
	ck_assert_str_eq(p.auth[0].auth_string, "mariadb");
	ck_assert(!gp_priv_learnable(&p));
	gp_priv_wipe(&p);
}
END_TEST

START_TEST(test_auth_or)
{
	/* ed25519 OR native: the {} stands for the top-level native pair, second */
	gp_priv_t p = parse(&r_alt);

	ck_assert_uint_eq(p.nauth, 2);
	ck_assert_str_eq(p.auth[0].plugin, "ed25519");
	ck_assert_str_eq(p.auth[0].auth_string, "vkM3wTubZs8FkjLeMva0lepHIVtg7r/dQhXJ1H1QZoY");
	ck_assert(!p.auth[0].native);
	assert_native(&p.auth[1], "a2");
	ck_assert(gp_priv_learnable(&p));
	gp_priv_wipe(&p);

	/* native OR unix_socket: the {} first; unix_socket has no string */
	p = parse(&r_alt2);
	ck_assert_uint_eq(p.nauth, 2);
	assert_native(&p.auth[0], "b1");
	ck_assert_str_eq(p.auth[1].plugin, "unix_socket");
	ck_assert_str_eq(p.auth[1].auth_string, "");
	ck_assert(!p.auth[1].native);
	ck_assert(gp_priv_learnable(&p));
	gp_priv_wipe(&p);
}
END_TEST

START_TEST(test_lock_and_expiry)
{
	gp_priv_t p = parse(&r_locked);
	int64_t now = CHANGED + DAY;

	ck_assert(p.locked);
	ck_assert(!gp_priv_learnable(&p));
	assert_native(&p.auth[0], "lk");
	gp_priv_wipe(&p);

	p = parse(&r_expired);
	ck_assert(p.expired);
	ck_assert(gp_priv_password_expired(&p, now, 0));
	gp_priv_wipe(&p);

	/* 30 days from the change; the global default does not apply to it */
	p = parse(&r_life);
	ck_assert_int_eq(p.password_lifetime, 30);
	ck_assert(!gp_priv_password_expired(&p, CHANGED + 30 * DAY, 1));
	ck_assert(gp_priv_password_expired(&p, CHANGED + 30 * DAY + 1, 0));
	assert_native(&p.auth[0], "lf");
	gp_priv_wipe(&p);

	/* never: whatever the default */
	p = parse(&r_never);
	ck_assert_int_eq(p.password_lifetime, 0);
	ck_assert(!gp_priv_password_expired(&p, CHANGED + 1000 * DAY, 1));
	gp_priv_wipe(&p);

	/* the default lifetime for -1 / absent */
	p = parse(&r_u);
	ck_assert(!gp_priv_password_expired(&p, CHANGED + 5 * DAY, 0));
	ck_assert(!gp_priv_password_expired(&p, CHANGED + 5 * DAY, 5));
	ck_assert(gp_priv_password_expired(&p, CHANGED + 5 * DAY + 1, 5));
	gp_priv_wipe(&p);

	/* root: no plugin, no change date: native without a password, expired by a default
	 * lifetime only (as 10.11 does), not by itself */
	p = parse(&r_root);
	ck_assert(p.auth[0].native);
	ck_assert_uint_eq(p.auth[0].auth_string_len, 0);
	ck_assert(!p.expired);
	ck_assert(!gp_priv_password_expired(&p, now, 0));
	ck_assert(gp_priv_password_expired(&p, now, 1));
	gp_priv_wipe(&p);

	p = parse(&r_sys);
	ck_assert(p.locked && p.expired);
	ck_assert(!gp_priv_learnable(&p));
	gp_priv_wipe(&p);
}
END_TEST

START_TEST(test_roles_and_anonymous)
{
	gp_priv_t p = parse(&r_role);

	ck_assert(p.is_role);
	ck_assert(!gp_priv_learnable(&p));
	gp_priv_wipe(&p);
	p = parse(&r_anon);
	ck_assert_str_eq(p.user, "");
	ck_assert_uint_eq(p.nauth, 1);
	ck_assert(p.auth[0].native && p.auth[0].auth_string_len == 0);
	gp_priv_wipe(&p);
}
END_TEST

START_TEST(test_bad_rows)
{
	static const char *const bad[] = {
	        "",
	        "not json",
	        "[1,2]",
	        "{\"plugin\":5}",
	        "{\"authentication_string\":null}",
	        "{\"account_locked\":\"yes\"}",
	        "{\"password_last_changed\":\"0\"}",
	        "{\"password_last_changed\":1.5}",
	        "{\"password_lifetime\":1e300}",
	        "{\"auth_or\":{}}",
	        "{\"auth_or\":[]}",
	        "{\"auth_or\":[{},5]}",
	        "{\"plugin\":\"a\",\"plugin\":\"b\"}",
	        "{\"auth_or\":[{},{},{},{},{},{},{},{},{}]}",
	};
	gp_priv_t p;
	char long_user[GP_PRIV_USER_MAX + 2];
	char long_plugin[200];

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		gp_status_t st = gp_priv_parse("u", 1, "%", 1, bad[k], strlen(bad[k]), &p);

		ck_assert_msg(st == (k == 13 ? GP_ELIMIT : GP_EPROTO), "row %zu: %d", k, st);
		ck_assert_uint_eq(p.user[0], 0); /* wiped */
	}
	memset(long_user, 'x', sizeof(long_user));
	ck_assert_int_eq(gp_priv_parse(long_user, sizeof(long_user), "%", 1, "{}", 2, &p),
	                 GP_ELIMIT);
	ck_assert_int_eq(gp_priv_parse(long_user, GP_PRIV_USER_MAX, "%", 1, "{}", 2, &p), GP_OK);
	snprintf(long_plugin, sizeof(long_plugin), "{\"plugin\":\"%0*d\"}", 70, 0);
	ck_assert_int_eq(gp_priv_parse("u", 1, "%", 1, long_plugin, strlen(long_plugin), &p),
	                 GP_ELIMIT);
	/* eight alternatives fit; a native hash of the wrong form is not native */
	ck_assert_int_eq(gp_priv_parse("u", 1, "%", 1,
	                               "{\"auth_or\":[{},{},{},{},{},{},{},{}],"
	                               "\"authentication_string\":\"*00\"}",
	                               67, &p),
	                 GP_OK);
	ck_assert_uint_eq(p.nauth, 8);
	ck_assert(!p.auth[7].native);
	ck_assert(!gp_priv_learnable(&p));
	gp_priv_wipe(&p);
}
END_TEST

static Suite *priv_suite(void)
{
	Suite *s = suite_create("priv");
	TCase *tc = tcase_create("global_priv");

	tcase_add_test(tc, test_native);
	tcase_add_test(tc, test_other_plugins);
	tcase_add_test(tc, test_auth_or);
	tcase_add_test(tc, test_lock_and_expiry);
	tcase_add_test(tc, test_roles_and_anonymous);
	tcase_add_test(tc, test_bad_rows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(priv_suite(), CK_ENV);
}
