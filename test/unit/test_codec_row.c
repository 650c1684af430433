/* test_codec_row.c - Check unit tests for reading a text row's first column (myp_row.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "gp_check.h"
#include "codec/myp.h"

#define K41  0xAFA28Eull /* caps of a MariaDB 10.11 client (fixture captures) */
#define DEOF MYP_CLIENT_DEPRECATE_EOF

typedef struct row_case {
	const char *hex; /* the row payload */
	myp_status_t st; /* expected status */
	uint64_t val;    /* expected value when MYP_OK */
} row_case_t;

static const row_case_t row_cases[] = {
        {"01 |0|", MYP_OK, 0},
        {"01 |7|", MYP_OK, 7},
        {"02 |42|", MYP_OK, 42},
        {"0a |4294967296|", MYP_OK, 4294967296ull},
        {"14 |18446744073709551615|", MYP_OK, UINT64_MAX},
        {"02 |42| 03 |abc|", MYP_OK, 42},              /* more columns follow */
        {"fc 0300 |123|", MYP_OK, 123},                /* a long length prefix */
        {"14 |18446744073709551616|", MYP_EPROTO, 0},  /* one past UINT64_MAX */
        {"15 |100000000000000000000|", MYP_EPROTO, 0}, /* 21 digits */
        {"fb", MYP_EPROTO, 0},                         /* NULL */
        {"00", MYP_EPROTO, 0},                         /* empty */
        {"02 |-1|", MYP_EPROTO, 0},
        {"03 |1.5|", MYP_EPROTO, 0},
        {"03 | 12|", MYP_EPROTO, 0},
        {"ff", MYP_EPROTO, 0},
};

START_TEST(test_row_first_uint)
{
	const row_case_t *c = &row_cases[_i];
	uint8_t b[64];
	size_t n = unhex(c->hex, b, sizeof(b));
	uint64_t v = 12345;
	myp_status_t st = myp_row_first_uint(b, n, &v);
	ck_assert_msg(st == c->st, "%s: status %d, want %d", c->hex, st, c->st);
	ck_assert_uint_eq(v, c->st == MYP_OK ? c->val : 12345); /* untouched unless OK */
}
END_TEST

/* Every cut of a valid row asks for more, each in an exactly-sized block (ASan). */
START_TEST(test_row_first_uint_cut)
{
	uint8_t b[64];
	size_t n = unhex("14 |18446744073709551615|", b, sizeof(b));
	for (size_t k = 0; k < n; k++) {
		uint8_t *p = malloc(k ? k : 1);
		ck_assert_ptr_nonnull(p);
		memcpy(p, b, k);
		uint64_t v = 9;
		ck_assert_int_eq(myp_row_first_uint(p, k, &v), MYP_NEED_MORE);
		ck_assert_uint_eq(v, 9);
		free(p);
	}
}
END_TEST

/* The answer to SELECT LAST_INSERT_ID() as move.c reads it: the one row myp_resp_is_row
 * names, then the end of the response (MariaDB 10.11's column definition, both EOF styles). */
#define CMD_LID "03 |SELECT LAST_INSERT_ID()|"
#define DEF_LID "03|def|00 00 00 10|LAST_INSERT_ID()|00 0c 3f00 15000000 08 a100 00 0000"

static void lid_response(uint64_t caps, const char *const *pkts, uint64_t want)
{
	uint8_t cmd[64], b[128];
	size_t cn = unhex(CMD_LID, cmd, sizeof(cmd));
	myp_resp_t r;
	myp_resp_begin(&r, caps, cmd, cn);
	bool got = false;
	uint64_t v = 0;
	myp_resp_event_t ev = MYP_RESP_CONTINUE;
	for (size_t i = 0; pkts[i]; i++) {
		ck_assert_int_eq(ev, MYP_RESP_CONTINUE);
		size_t n = unhex(pkts[i], b, sizeof(b));
		if (myp_resp_is_row(&r, (uint32_t)n, b, n)) {
			ck_assert(!got);
			ck_assert_int_eq(myp_row_first_uint(b, n, &v), MYP_OK);
			got = true;
		}
		ev = myp_resp_feed_server(&r, (uint32_t)n, b, n);
	}
	ck_assert_int_eq(ev, MYP_RESP_DONE);
	ck_assert(!r.failed);
	ck_assert(got);
	ck_assert_uint_eq(v, want);
}

START_TEST(test_row_lid_response)
{
	static const char *const eof[] = {"01",     DEF_LID,        "fe 0000 0200",
	                                  "01 |5|", "fe 0000 0200", NULL};
	static const char *const deof[] = {"01", DEF_LID, "02 |77|", "fe 00 00 0200 0000", NULL};
	lid_response(K41, eof, 5);
	lid_response(K41 | DEOF, deof, 77);
}
END_TEST

static Suite *row_suite(void)
{
	Suite *s = suite_create("codec_row");
	TCase *tc = tcase_create("row");
	tcase_add_loop_test(tc, test_row_first_uint, 0, sizeof(row_cases) / sizeof(row_cases[0]));
	tcase_add_test(tc, test_row_first_uint_cut);
	tcase_add_test(tc, test_row_lid_response);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(row_suite(), CK_ENV);
}
