/* test_kill.c - table-driven tests of KILL translation and of who may KILL whom. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gp_check.h"
#include "codec/myp.h"
#include "session/auth.h"
#include "session/kill.h"

typedef struct kill_case {
	const char *sql; /* statement text */
	bool ok;         /* recognised */
	bool query;      /* KILL QUERY */
	uint64_t id;     /* id named */
	const char *hs;  /* HARD/SOFT as written */
} kill_case_t;

static const kill_case_t cases[] = {
        {"KILL 1073741825", true, false, 1073741825, ""},
        {"kill query 1073741825", true, true, 1073741825, ""},
        {"  KILL\tCONNECTION\n42 ;", true, false, 42, ""},
        {"KILL HARD QUERY 7;", true, true, 7, "HARD"},
        {"KILL SOFT 9", true, false, 9, "SOFT"},
        {"KILL QUERY ID 5", false, false, 0, ""},
        {"KILL USER app", false, false, 0, ""},
        {"KILL", false, false, 0, ""},
        {"KILL ", false, false, 0, ""},
        {"KILLQUERY 5", false, false, 0, ""},
        {"KILL 5 6", false, false, 0, ""},
        {"KILL 5; SELECT 1", false, false, 0, ""},
        {"SELECT 1", false, false, 0, ""},
        {"KILL 99999999999999999999", false, false, 0, ""},
        {"KILL -5", false, false, 0, ""},
        {"/* c */ KILL 5", false, false, 0, ""},
        {"", false, false, 0, ""},
};

START_TEST(test_kill_table)
{
	const kill_case_t *c = &cases[_i];
	gp_kill_t k;
	bool ok = gp_kill_parse(c->sql, strlen(c->sql), &k);
	ck_assert_msg(ok == c->ok, "'%s': parse %d, expected %d", c->sql, ok, c->ok);
	if (!ok)
		return;
	ck_assert_int_eq(k.query, c->query);
	ck_assert_uint_eq(k.id, c->id);
	ck_assert_str_eq(k.hardsoft, c->hs);
}
END_TEST

START_TEST(test_kill_truncated_never_reads_past_end)
{
	/* Every prefix of a valid statement parses without reading beyond n. */
	const char *full = "KILL QUERY 1073741825";
	size_t n = strlen(full);
	for (size_t i = 0; i <= n; i++) {
		char *buf = malloc(i ? i : 1);
		memcpy(buf, full, i);
		gp_kill_t k;
		bool ok = gp_kill_parse(buf, i, &k);
		if (ok)
			ck_assert_uint_le(k.id_off + k.id_len, i);
		free(buf);
	}
}
END_TEST

/* The same-node translation: the statement's id rewritten in the COM_QUERY by the codec. */
START_TEST(test_kill_rewrite)
{
	uint8_t pkt[] = "\x03KILL QUERY 1073741825;";
	size_t n = sizeof(pkt) - 1;
	gp_kill_t k;
	ck_assert(gp_kill_parse((const char *)pkt + 1, n - 1, &k));
	ck_assert_int_eq(myp_query_set_number(pkt, n, k.id_off, k.id_len, 57), MYP_OK);
	ck_assert_str_eq((const char *)pkt, "\x03KILL QUERY 57        ;");
	gp_kill_t k2;
	ck_assert(gp_kill_parse((const char *)pkt + 1, n - 1, &k2));
	ck_assert_uint_eq(k2.id, 57);
	uint8_t small[] = "\x03KILL 5";
	ck_assert(gp_kill_parse((const char *)small + 1, sizeof(small) - 2, &k));
	ck_assert_int_eq(myp_query_set_number(small, sizeof(small) - 1, k.id_off, k.id_len, 1234),
	                 MYP_EPROTO);
	ck_assert_str_eq((const char *)small, "\x03KILL 5");
}
END_TEST

/* mysql_native_password's formula, checked against an independent computation
 * (Python hashlib: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))). */
START_TEST(test_auth_native_scramble)
{
	uint8_t scramble[24], out[MYP_NATIVE_AUTH_LEN];
	static const uint8_t want[MYP_NATIVE_AUTH_LEN] = {0xb3, 0x2b, 0xb3, 0xa5, 0x83, 0xe1, 0x34,
	                                                  0x0c, 0x0a, 0x11, 0x08, 0xd5, 0x8b, 0x1b,
	                                                  0xe4, 0x97, 0x81, 0xad, 0x8c, 0x2f};
	for (int i = 0; i < 24; i++)
		scramble[i] = (uint8_t)(i + 1);
	gp_auth_native_scramble("secret", scramble, 20, out);
	ck_assert_mem_eq(out, want, sizeof(want));
	/* a longer scramble (the trailing NUL of a greeting's) counts only its first 20 bytes */
	gp_auth_native_scramble("secret", scramble, 24, out);
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(test_kill_sql_and_message)
{
	char buf[64];
	gp_kill_t k;
	ck_assert(gp_kill_parse("KILL HARD QUERY 1073741825", 26, &k));
	ck_assert(gp_kill_sql(buf, sizeof(buf), &k, 42));
	ck_assert_str_eq(buf, "KILL HARD QUERY 42");
	ck_assert(gp_kill_parse("kill 1073741825", 15, &k));
	ck_assert(gp_kill_sql(buf, sizeof(buf), &k, 4294967295u));
	ck_assert_str_eq(buf, "KILL CONNECTION 4294967295");
	ck_assert(!gp_kill_sql(buf, 10, &k, 7)); /* does not fit */
	ck_assert_str_eq(gp_kill_message(buf, sizeof(buf), 1095, 1073741825),
	                 "You are not owner of thread 1073741825");
	ck_assert_str_eq(gp_kill_message(buf, sizeof(buf), 1094, 1073741999),
	                 "Unknown thread id: 1073741999");
	ck_assert_ptr_null(gp_kill_message(buf, sizeof(buf), 1317, 1));
}
END_TEST

/* ---- login names ---- */

typedef struct login_case {
	const char *a; /* first session's name as sent */
	uint16_t a_cs; /* its collation id (0: not known) */
	bool a_hs;     /* sent in the handshake (else COM_CHANGE_USER) */
	const char *b; /* second session's */
	uint16_t b_cs; /* ... */
	bool b_hs;     /* ... */
	bool same;     /* the server finds them equal (or the proxy cannot prove it: false) */
} login_case_t;

#define UTF8MB4 45
#define LATIN1  8
#define SWE7    10

static const login_case_t login_cases[] = {
        {"app", UTF8MB4, true, "app", LATIN1, true, true},
        {"app", UTF8MB4, true, "App", UTF8MB4, true, false}, /* strcmp: case matters */
        {"app", UTF8MB4, true, "app2", UTF8MB4, true, false},
        {"app", UTF8MB4, true, "", UTF8MB4, true, false},
        {"", UTF8MB4, true, "", UTF8MB4, true, true},
        /* the handshake drops enclosing quotes; COM_CHANGE_USER does not */
        {"'low'", UTF8MB4, true, "low", UTF8MB4, true, true},
        {"'low'", UTF8MB4, false, "low", UTF8MB4, true, false},
        {"'low", UTF8MB4, true, "'low", UTF8MB4, true, true},
        {"'", UTF8MB4, true, "'", UTF8MB4, false, true},
        {"''", UTF8MB4, true, "", UTF8MB4, false, true},
        /* change-user logins with no collation known: plain ASCII still compares */
        {"app", UTF8MB4, true, "app", 0, false, true},
        {"a@b", UTF8MB4, true, "a@b", 0, false, false}, /* may be swe7: É */
        {"a@b", UTF8MB4, true, "a@b", LATIN1, false, true},
        {"a[b", SWE7, true, "a[b", SWE7, true, true},
        {"a[b", SWE7, true, "a[b", UTF8MB4, true, false},
        /* non-ASCII: equal only in the same collation */
        {"J\xc3\xb6rg", UTF8MB4, true, "J\xc3\xb6rg", UTF8MB4, true, true},
        {"J\xc3\xb6rg", UTF8MB4, true, "J\xc3\xb6rg", 224, true, false},
        {"J\xf6rg", LATIN1, true, "J\xc3\xb6rg", UTF8MB4, true, false},
        {"J\xc3\xb6rg", 0, false, "J\xc3\xb6rg", 0, false, false},
};

START_TEST(test_kill_login_table)
{
	const login_case_t *c = &login_cases[_i];
	gp_kill_login_t a = {0}, b = {0};
	gp_kill_login_set(&a, (const uint8_t *)c->a, strlen(c->a), c->a_cs, c->a_hs);
	gp_kill_login_set(&b, (const uint8_t *)c->b, strlen(c->b), c->b_cs, c->b_hs);
	ck_assert_msg(gp_kill_login_same(&a, &b) == c->same, "[%s] vs [%s]: expected %d", c->a,
	              c->b, c->same);
	ck_assert_msg(gp_kill_login_same(&b, &a) == c->same, "symmetric");
	gp_kill_login_clear(&a);
	gp_kill_login_clear(&b);
}
END_TEST

START_TEST(test_kill_login_lengths)
{
	uint8_t name[400];
	gp_kill_login_t a = {0}, b = {0}, unset = {0};
	memset(name, 'u', sizeof(name));
	/* The handshake keeps 128 characters: 130 and 128 u's are one user to the server. */
	gp_kill_login_set(&a, name, 130, UTF8MB4, true);
	gp_kill_login_set(&b, name, 128, UTF8MB4, true);
	ck_assert(a.known && a.len == 128);
	ck_assert(gp_kill_login_same(&a, &b));
	/* COM_CHANGE_USER keeps the whole name: longer ones are not held. */
	gp_kill_login_set(&a, name, 129, UTF8MB4, false);
	ck_assert(!a.known);
	ck_assert(!gp_kill_login_same(&a, &a));
	ck_assert(!gp_kill_login_same(&unset, &unset));
	/* Enclosing quotes are looked for within the server's 384-byte buffer only. */
	name[0] = '\'';
	name[383] = '\'';
	gp_kill_login_set(&a, name, 400, UTF8MB4, true);
	ck_assert(a.known && a.len == 128 && a.name[0] == 'u');
	name[383] = 'u';
	name[399] = '\'';
	gp_kill_login_set(&a, name, 400, UTF8MB4, true);
	ck_assert(a.known && a.len == 128 && a.name[0] == '\'');
	/* A non-ASCII name is held only while the server cuts nothing off it. */
	memset(name, 0xc3, sizeof(name));
	gp_kill_login_set(&a, name, 128, UTF8MB4, true);
	ck_assert(a.known);
	gp_kill_login_set(&a, name, 129, UTF8MB4, true);
	ck_assert(!a.known && !a.name);
	/* A move hands the name over and leaves the source unknown; its log form is quoted. */
	char buf[80];
	gp_kill_login_set(&a, (const uint8_t *)"bob smith", 9, UTF8MB4, true);
	gp_kill_login_move(&b, &a);
	ck_assert(b.known && b.len == 9 && !a.known && !a.name);
	ck_assert_str_eq(gp_kill_login_log(buf, sizeof(buf), &b), "\"bob smith\"");
	ck_assert_str_eq(gp_kill_login_log(buf, sizeof(buf), &a), "-");
	gp_kill_login_clear(&a);
	gp_kill_login_clear(&b);
}
END_TEST

/* ---- SHOW GRANTS lines (as MariaDB 10.11 prints them) ---- */

typedef struct grant_case {
	const char *line; /* a SHOW GRANTS row */
	bool allows;      /* it lets the holder KILL other users' threads */
} grant_case_t;

static const grant_case_t grant_cases[] = {
        {"GRANT ALL PRIVILEGES ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD "
         "'*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3'",
         true},
        {"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED VIA mysql_native_password "
         "USING 'invalid' OR unix_socket WITH GRANT OPTION",
         true},
        {"GRANT CONNECTION ADMIN ON *.* TO `cadm`@`%` IDENTIFIED BY PASSWORD "
         "'*0685218EEB454B6556F3B93B256744EE246F3B9A'",
         true},
        {"GRANT SUPER ON *.* TO `sup`@`%`", true},
        {"GRANT SELECT, PROCESS, SUPER, REPLICATION CLIENT ON *.* TO `m`@`%`", true},
        {"GRANT RELOAD, CONNECTION ADMIN, READ_ONLY ADMIN ON *.* TO `x`@`%`", true},
        {"GRANT CONNECTION ADMIN ON *.* TO `killer`", true}, /* the active role's line */
        {"GRANT CONNECTION ADMIN ON *.* TO killer", true},   /* sql_quote_show_create=0 */
        {"GRANT SUPER ON *.* TO \"u\"@\"%\"", true},         /* ANSI_QUOTES */
        {"GRANT USAGE ON *.* TO `low`@`%` IDENTIFIED BY PASSWORD "
         "'*1E8FE4A49477DD721A4EAA4F31DBF12A57BE181D'",
         false},
        {"GRANT PROCESS, REPLICATION CLIENT ON *.* TO `monitor`@`%`", false},
        {"GRANT SELECT, INSERT ON `accdb`.* TO `low`@`%`", false},
        {"GRANT ALL PRIVILEGES ON `accdb`.* TO `low`@`%`", false},
        {"GRANT SUPER ON `t`.* TO `low`@`%`", false},
        {"GRANT `killer` TO `rusr`@`%`", false},
        {"GRANT `killer` TO `root`@`localhost` WITH ADMIN OPTION", false},
        {"GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION", false},
        {"GRANT EXECUTE ON PROCEDURE `mysql`.`addgeometrycolumn` TO `rusr`@`%`", false},
        {"SET DEFAULT ROLE `killer` FOR `rusr`@`%`", false},
        {"GRANT SELECT (`c2`, `c,1`), INSERT (`c2`) ON `accdb`.`we\"``ird, (x)` TO `rusr`@`%`",
         false},
        /* names built to look like a global grant stay names */
        {"GRANT `SUPER` TO `u`@`%`", false},
        {"GRANT `x ON *.* TO` TO `u`@`%`", false},
        {"GRANT `x`` ON *.* TO` TO `u`@`%`", false},
        {"GRANT SELECT (`SUPER) ON *.* TO`) ON `d`.`t` TO `u`@`%`", false},
        {"GRANT SELECT (\"a\"\") ON *.* TO\") ON d.t TO u@\"%\"", false},
        {"GRANT SELECT (a), SUPER ON `d`.`t` TO `u`@`%`", false},
        {"GRANT SUPERUSER ON *.* TO `u`", false},
        {"GRANT SUPER ON *.*TO `u`", false},
        {"GRANT SUPER ON *.* ", false},
        {"GRANT SUPER) ON *.* TO `u`", false},
        {"grant super on *.* to `u`", false}, /* the server prints keywords in capitals */
        {"GRANT ", false},
        {"", false},
};

START_TEST(test_kill_grant_table)
{
	const grant_case_t *c = &grant_cases[_i];
	ck_assert_msg(gp_kill_grant_allows(c->line, strlen(c->line)) == c->allows,
	              "[%s]: expected %d", c->line, c->allows);
}
END_TEST

START_TEST(test_kill_grant_prefixes)
{
	/* Every prefix of a line is decided from what it shows, without reading past it: a
	 * prefix that ends before "*.* TO " never allows. */
	for (size_t c = 0; c < sizeof(grant_cases) / sizeof(grant_cases[0]); c++) {
		const char *full = grant_cases[c].line;
		size_t n = strlen(full);
		const char *tail = strstr(full, " ON *.* TO ");
		for (size_t i = 0; i <= n; i++) {
			char *buf = malloc(i ? i : 1);
			memcpy(buf, full, i);
			bool allows = gp_kill_grant_allows(buf, i);
			free(buf);
			if (allows)
				ck_assert_msg(grant_cases[c].allows && tail &&
				                      i >= (size_t)(tail - full) +
				                                      strlen(" ON *.* TO "),
				              "[%.*s] allows", (int)i, full);
			else if (grant_cases[c].allows && tail && i == n)
				ck_abort_msg("[%s] whole does not allow", full);
		}
	}
}
END_TEST

START_TEST(test_kill_grant_row)
{
	/* A text-protocol row: one length-encoded string. */
	static const char line[] = "GRANT SUPER ON *.* TO `u`@`%`";
	uint8_t row[300];
	size_t n = strlen(line);
	row[0] = (uint8_t)n;
	memcpy(row + 1, line, n);
	ck_assert(gp_kill_grant_row_allows(row, n + 1));
	ck_assert(!gp_kill_grant_row_allows(row, 10)); /* cut before "ON": not decided */
	/* a long row (lenenc 0xFC) seen through a prefix: decided by what is there */
	row[0] = 0xFC;
	row[1] = 0x00;
	row[2] = 0x01; /* 256 bytes, of which the prefix shows n */
	memcpy(row + 3, line, n);
	ck_assert(gp_kill_grant_row_allows(row, n + 3));
	uint8_t null_row[1] = {0xFB};
	ck_assert(!gp_kill_grant_row_allows(null_row, 1));
	ck_assert(!gp_kill_grant_row_allows(row, 0));
}
END_TEST

START_TEST(test_kill_slots)
{
	uint32_t inflight = 0;
	for (int i = 0; i < GP_KILL_JOBS_MAX; i++)
		ck_assert(gp_kill_slot_take(&inflight));
	ck_assert_uint_eq(inflight, GP_KILL_JOBS_MAX);
	ck_assert(!gp_kill_slot_take(&inflight)); /* the 17th is refused */
	ck_assert_uint_eq(inflight, GP_KILL_JOBS_MAX);
	gp_kill_slot_give(&inflight);
	ck_assert(gp_kill_slot_take(&inflight));
	inflight = 0;
	gp_kill_slot_give(&inflight); /* never below zero */
	ck_assert_uint_eq(inflight, 0);
}
END_TEST

static Suite *kill_suite(void)
{
	Suite *s = suite_create("kill");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_kill_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_kill_truncated_never_reads_past_end);
	tcase_add_test(tc, test_kill_rewrite);
	tcase_add_test(tc, test_auth_native_scramble);
	tcase_add_test(tc, test_kill_sql_and_message);
	suite_add_tcase(s, tc);
	tc = tcase_create("rights");
	tcase_add_loop_test(tc, test_kill_login_table, 0,
	                    (int)(sizeof(login_cases) / sizeof(login_cases[0])));
	tcase_add_test(tc, test_kill_login_lengths);
	tcase_add_loop_test(tc, test_kill_grant_table, 0,
	                    (int)(sizeof(grant_cases) / sizeof(grant_cases[0])));
	tcase_add_test(tc, test_kill_grant_prefixes);
	tcase_add_test(tc, test_kill_grant_row);
	tcase_add_test(tc, test_kill_slots);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(kill_suite(), CK_NORMAL);
}
