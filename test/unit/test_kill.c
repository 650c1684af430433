/* test_kill.c - table-driven tests of KILL statement recognition and rewriting. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gp_check.h"
#include "kill.h"

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

START_TEST(test_kill_rewrite)
{
	char sql[] = "KILL QUERY 1073741825;";
	gp_kill_t k;
	ck_assert(gp_kill_parse(sql, strlen(sql), &k));
	ck_assert(gp_kill_rewrite(sql, &k, 57));
	ck_assert_str_eq(sql, "KILL QUERY 57        ;");
	gp_kill_t k2;
	ck_assert(gp_kill_parse(sql, strlen(sql), &k2));
	ck_assert_uint_eq(k2.id, 57);
	char small[] = "KILL 5";
	ck_assert(gp_kill_parse(small, strlen(small), &k));
	ck_assert(!gp_kill_rewrite(small, &k, 1234));
	ck_assert_str_eq(small, "KILL 5");
}
END_TEST

static Suite *kill_suite(void)
{
	Suite *s = suite_create("kill");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_kill_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_kill_truncated_never_reads_past_end);
	tcase_add_test(tc, test_kill_rewrite);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(kill_suite(), CK_NORMAL);
}
