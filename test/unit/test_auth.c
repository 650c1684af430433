/* test_auth.c - Check unit tests for mysql_native_password learning (proxy/session/auth.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "codec/myp.h"
#include "gp_check.h"
#include "session/auth.h"

/*
 * The logins marked captured are real: test/unit/fixtures/auth/capture_auth.py logged in to
 * MariaDB 10.11.19 as u@'%' (IDENTIFIED BY 'pw') twice, once with a wrong password, and as
 * nopw@'%' (no password); the server's answers are noted. The stored hashes are the
 * authentication_string of those accounts in mysql.global_priv. The real_clients packets were
 * recorded by a relay between MariaDB 10.11.19 and two real clients logging in as u and then
 * running COM_CHANGE_USER back to u (PHP 8.2 mysqli on mysqlnd, a C program on libmariadb
 * 3.3's mysql_change_user): the server answered every one with OK.
 */

#define U_HASH     "*D821809F681A40A6E379B50D0463EFAE20BDD122" /* u@'%' */
#define OTHER_HASH "*023494FBCDFBF9C93B6B2663B348A1C4A939B247" /* u@'10.0.0.%' */
#define SHA1_PW    "1a91d62f7ca67399625a4368a6ab5d4a3baa6073"  /* SHA1("pw") */

typedef struct login {
	const char *nonce; /* the greeting's 20 bytes */
	const char *reply; /* the client's answer */
} login_t;

/* captured: the server answered OK */
static const login_t login1 = {"613e515e635768293056407b6f3869282c404060",
                               "00145c156290b3c2e27d8dc65b48b89576462c6f"};
/* captured: the server answered OK */
static const login_t login2 = {"763545382b6a57537b343032485553224b366932",
                               "7d10d8750194d8194058a75fe2b303fba67f50bc"};
/* captured: a wrong password, the server answered ERR 1045 */
static const login_t wrong = {"597e317371606c7e56725b5268356c4142645046",
                              "2a9ea48155bd1b5eeb454b61c3f095189e50cc89"};
/* captured: nopw with an empty reply, the server answered OK */
static const char *const nopw_nonce = "28743442316b4a7178295f263a34354b5a656961";

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2) {
		unsigned v;

		if (n >= cap || sscanf(s, "%2x", &v) != 1)
			ck_abort_msg("bad fixture");
		out[n++] = (uint8_t)v;
	}
	return n;
}

static gp_auth_hash_t hash_of(const char *text)
{
	gp_auth_hash_t h;

	ck_assert(gp_auth_hash_parse(text, strlen(text), &h));
	return h;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

START_TEST(test_hash_parse)
{
	gp_auth_hash_t h = hash_of(U_HASH), lower;
	uint8_t raw[GP_AUTH_SHA1_LEN];
	char text[] = U_HASH;

	ck_assert(!h.empty);
	ck_assert_uint_eq(h.h[0], 0xD8);
	ck_assert_uint_eq(h.h[19], 0x22);
	for (char *c = text; *c; c++)
		*c = (char)((*c >= 'A' && *c <= 'F') ? *c - 'A' + 'a' : *c);
	lower = hash_of(text);
	ck_assert_int_eq(memcmp(lower.h, h.h, GP_AUTH_SHA1_LEN), 0);
	/* the 20 raw bytes */
	memcpy(raw, h.h, sizeof(raw));
	ck_assert(gp_auth_hash_parse(raw, sizeof(raw), &lower));
	ck_assert_int_eq(memcmp(lower.h, h.h, GP_AUTH_SHA1_LEN), 0);
	/* no password */
	ck_assert(gp_auth_hash_parse("", 0, &lower));
	ck_assert(lower.empty);
	/* anything else: a bad digit, no star, another plugin's string, an old-password hash */
	text[7] = 'g';
	ck_assert(!gp_auth_hash_parse(text, strlen(text), &lower));
	ck_assert(all_zero(&lower, sizeof(lower)));
	ck_assert(!gp_auth_hash_parse(&U_HASH[1], 40, &lower)); /* no star */
	ck_assert(!gp_auth_hash_parse("XD821809F681A40A6E379B50D0463EFAE20BDD122", 41, &lower));
	ck_assert(!gp_auth_hash_parse("LIEvGDGjHTmKyz3peLRjPqahOct5n6/BQCNm1bOvot4", 43, &lower));
	ck_assert(!gp_auth_hash_parse("6f8c114b58f2ce9e", 16, &lower));
}
END_TEST

START_TEST(test_learn_and_reply)
{
	gp_auth_hash_t stored = hash_of(U_HASH);
	gp_auth_secret_t s;
	uint8_t nonce[21], reply[GP_AUTH_SHA1_LEN], want[GP_AUTH_SHA1_LEN], out[GP_AUTH_SHA1_LEN];
	size_t nn = unhex(login1.nonce, nonce, sizeof(nonce));
	size_t rn = unhex(login1.reply, reply, sizeof(reply));

	ck_assert(gp_auth_native_learn(nonce, nn, reply, rn, &stored, &s));
	ck_assert(!s.empty);
	unhex(SHA1_PW, want, sizeof(want));
	ck_assert_int_eq(memcmp(s.sha1, want, sizeof(want)), 0);
	/* the reply to the second login's nonce is the one the server accepted there */
	nn = unhex(login2.nonce, nonce, sizeof(nonce));
	unhex(login2.reply, want, sizeof(want));
	ck_assert_uint_eq(gp_auth_native_reply(&s, nonce, nn, out), GP_AUTH_SHA1_LEN);
	ck_assert_int_eq(memcmp(out, want, sizeof(want)), 0);
	/* the same nonce with the NUL an AuthSwitchRequest carries */
	nonce[20] = 0;
	memset(out, 0, sizeof(out));
	ck_assert_uint_eq(gp_auth_native_reply(&s, nonce, 21, out), GP_AUTH_SHA1_LEN);
	ck_assert_int_eq(memcmp(out, want, sizeof(want)), 0);
	/* nonces of another length: nothing */
	ck_assert_uint_eq(gp_auth_native_reply(&s, nonce, 19, out), 0);
	nonce[20] = 'x';
	ck_assert_uint_eq(gp_auth_native_reply(&s, nonce, 21, out), 0);
	ck_assert_uint_eq(gp_auth_native_reply(&s, NULL, 20, out), 0);
	ck_assert(gp_auth_secret_matches(&s, &stored));
	gp_auth_secret_wipe(&s);
	ck_assert(all_zero(&s, sizeof(s)));
}
END_TEST

START_TEST(test_learn_refused)
{
	gp_auth_hash_t stored = hash_of(U_HASH), other = hash_of(OTHER_HASH), none;
	gp_auth_secret_t s;
	uint8_t nonce[20], reply[20], changed[20];

	unhex(wrong.nonce, nonce, sizeof(nonce));
	unhex(wrong.reply, reply, sizeof(reply));
	/* a wrong password (the server refused it): nothing learned, nothing left */
	memset(&s, 0xAA, sizeof(s));
	ck_assert(!gp_auth_native_learn(nonce, 20, reply, 20, &stored, &s));
	ck_assert(all_zero(&s, sizeof(s)));
	/* a good login checked against another row's hash (u@'10.0.0.%'): refused */
	unhex(login1.nonce, nonce, sizeof(nonce));
	unhex(login1.reply, reply, sizeof(reply));
	ck_assert(!gp_auth_native_learn(nonce, 20, reply, 20, &other, &s));
	ck_assert(all_zero(&s, sizeof(s)));
	/* the reply under another nonce; a cut reply; an empty reply to a password */
	unhex(login2.nonce, nonce, sizeof(nonce));
	ck_assert(!gp_auth_native_learn(nonce, 20, reply, 20, &stored, &s));
	unhex(login1.nonce, nonce, sizeof(nonce));
	ck_assert(!gp_auth_native_learn(nonce, 20, reply, 19, &stored, &s));
	ck_assert(!gp_auth_native_learn(nonce, 20, reply, 0, &stored, &s));
	ck_assert(!gp_auth_native_learn(nonce, 19, reply, 20, &stored, &s));
	ck_assert(all_zero(&s, sizeof(s)));
	/* learned, then the password changes: the secret no longer matches */
	ck_assert(gp_auth_native_learn(nonce, 20, reply, 20, &stored, &s));
	ck_assert(!gp_auth_secret_matches(&s, &other));
	ck_assert(gp_auth_hash_parse("", 0, &none));
	ck_assert(!gp_auth_secret_matches(&s, &none));
	/* a password that is not that of the stored hash */
	memcpy(changed, reply, sizeof(changed));
	changed[0] ^= 1;
	ck_assert(!gp_auth_native_learn(nonce, 20, changed, 20, &stored, &s));
}
END_TEST

START_TEST(test_empty_password)
{
	gp_auth_hash_t none, stored = hash_of(U_HASH);
	gp_auth_secret_t s;
	uint8_t nonce[20], reply[20], out[20];

	unhex(nopw_nonce, nonce, sizeof(nonce));
	ck_assert(gp_auth_hash_parse("", 0, &none));
	/* captured: nopw's empty reply, accepted */
	ck_assert(gp_auth_native_learn(nonce, 20, NULL, 0, &none, &s));
	ck_assert(s.empty);
	ck_assert_uint_eq(gp_auth_native_reply(&s, nonce, 20, out), 0);
	ck_assert(gp_auth_secret_matches(&s, &none));
	ck_assert(!gp_auth_secret_matches(&s, &stored));
	/* a reply to an account without a password: refused, as the server does */
	unhex(login1.reply, reply, sizeof(reply));
	ck_assert(!gp_auth_native_learn(nonce, 20, reply, 20, &none, &s));
	ck_assert(all_zero(&s, sizeof(s)));
}
END_TEST

typedef struct real_client {
	const char *name;
	const char *greeting;   /* the server's greeting */
	const char *hsresp;     /* the client's handshake response (user u, password pw) */
	const char *authswitch; /* the server's AuthSwitchRequest after COM_CHANGE_USER to u */
	const char *reply;      /* the client's answer to it */
} real_client_t;

/* captured (see the top) */
static const real_client_t real_clients[] = {
        {"mysqlnd (PHP 8.2 mysqli)",
         "0a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275"
         "3100290000006f6d584e5f72422f00fef7080240ff81150000000000001d0000"
         "00622326336e5025675a6a2929006d7973716c5f6e61746976655f7061737377"
         "6f726400",
         "8da21a00000000c0080000000000000000000000000000000000000000000000"
         "750014abf29a983a1ea397e15e1df3f93917b2308ef0d974006d7973716c5f6e"
         "61746976655f70617373776f7264002c0c5f636c69656e745f6e616d65076d79"
         "73716c6e640c5f7365727665725f686f7374093132372e302e302e31",
         "fe6d7973716c5f6e61746976655f70617373776f7264006f6d584e5f72422f62"
         "2326336e5025675a6a292900",
         "abf29a983a1ea397e15e1df3f93917b2308ef0d9"},
        {"libmariadb 3.3",
         "0a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275"
         "31002a0000005d6151507d482c4400fef7080240ff81150000000000001d0000"
         "0053517d437440212535777a21006d7973716c5f6e61746976655f7061737377"
         "6f726400",
         "8ca2be00000010002d000000000000000000000000000000000000001d000000"
         "750014e032fc5751a91dbab0eaa5efc12ec690000230a674006d7973716c5f6e"
         "61746976655f70617373776f7264006c035f6f73054c696e75780c5f636c6965"
         "6e745f6e616d650a6c69626d617269616462045f7069640531373239340f5f63"
         "6c69656e745f76657273696f6e06332e332e3230095f706c6174666f726d0678"
         "38365f36340c5f7365727665725f686f7374093132372e302e302e31",
         "fe6d7973716c5f6e61746976655f70617373776f7264005d6151507d482c4453"
         "517d437440212535777a2100",
         "e032fc5751a91dbab0eaa5efc12ec690000230a6"},
};

START_TEST(test_real_clients)
{
	const real_client_t *c = &real_clients[_i];
	gp_auth_hash_t stored = hash_of(U_HASH);
	gp_auth_secret_t s;
	myp_greeting_t g;
	myp_hsresp_t r;
	myp_authswitch_t sw;
	uint8_t gb[256], rb[512], sb[128], want[GP_AUTH_SHA1_LEN], out[GP_AUTH_SHA1_LEN];
	size_t gn = unhex(c->greeting, gb, sizeof(gb)), rn = unhex(c->hsresp, rb, sizeof(rb));
	size_t sn = unhex(c->authswitch, sb, sizeof(sb));

	ck_assert_int_eq(myp_greeting_parse(gb, gn, &g), MYP_OK);
	ck_assert_int_eq(myp_hsresp_parse(rb, rn, &r), MYP_OK);
	ck_assert_uint_eq(g.scramble_len, 20);
	/* the login the client made, with the greeting's nonce */
	ck_assert_msg(
	        gp_auth_native_learn(g.scramble, g.scramble_len, r.auth, r.auth_len, &stored, &s),
	        "%s: login not learned", c->name);
	unhex(SHA1_PW, want, sizeof(want));
	ck_assert_int_eq(memcmp(s.sha1, want, sizeof(want)), 0);
	/* the proxy answers the server's switch (20 bytes and a NUL) as the client did */
	ck_assert_int_eq(myp_authswitch_parse(sb, sn, &sw), MYP_OK);
	ck_assert_uint_eq(sw.data_len, 21);
	unhex(c->reply, want, sizeof(want));
	ck_assert_uint_eq(gp_auth_native_reply(&s, sw.data, sw.data_len, out), GP_AUTH_SHA1_LEN);
	ck_assert_int_eq(memcmp(out, want, sizeof(want)), 0);
	gp_auth_secret_wipe(&s);
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("native");

	tcase_add_test(tc, test_hash_parse);
	tcase_add_test(tc, test_learn_and_reply);
	tcase_add_test(tc, test_learn_refused);
	tcase_add_test(tc, test_empty_password);
	tcase_add_loop_test(tc, test_real_clients, 0,
	                    sizeof(real_clients) / sizeof(real_clients[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(auth_suite(), CK_ENV);
}
