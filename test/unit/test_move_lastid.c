/* test_move_lastid.c - Check unit tests for reading LAST_INSERT_ID() off the old leg. */
#include <check.h>
#include <string.h>

#include "fixture.h"
#include "gp_check.h"
#include "session/move_replay.h"

#define K41  0xAFA28Eull /* caps of a MariaDB 10.11 client (fixture captures) */
#define DEOF MYP_CLIENT_DEPRECATE_EOF

#define CMD_LID "03 |SELECT LAST_INSERT_ID()|"
#define DEF_LID "03|def|00 00 00 10|LAST_INSERT_ID()|00 0c 3f00 15000000 08 a100 00 0000"
#define EOF2    "fe 0000 0200"
#define OKEOF2  "fe 00 00 0200 0000"
#define ERR_RO  "ff 4704 |#08S01WSREP has not yet prepared node for application use|"

/* Feed the answer pkts (NULL-ended) to a read begun with caps, up to the first step that is
 * not SENT (a DONE only at the last packet). */
static gp_replay_step_t feed(gp_move_replay_t *r, uint64_t caps, const char *const *pkts)
{
	uint8_t cmd[64], b[256];
	size_t cn = unhex(CMD_LID, cmd, sizeof(cmd));
	memset(r, 0, sizeof(*r));
	r->insert_id = 99; /* a stale value: only a DONE may replace it */
	myp_resp_begin(&r->resp, caps, cmd, cn);
	gp_replay_step_t st = GP_REPLAY_SENT;
	for (size_t i = 0; pkts[i] && st == GP_REPLAY_SENT; i++) {
		size_t n = unhex(pkts[i], b, sizeof(b));
		gp_pkt_t pkt = {
		        .len = (uint32_t)n, .seq = (uint8_t)(i + 1), .p = b, .n = (uint32_t)n};
		st = gp_move_replay_id_packet(r, &pkt);
		ck_assert(st != GP_REPLAY_DONE || !pkts[i + 1]);
	}
	return st;
}

START_TEST(test_lastid_read)
{
	static const char *const eof[] = {"01", DEF_LID, EOF2, "02 |42|", EOF2, NULL};
	static const char *const deof[] = {"01", DEF_LID, "01 |0|", OKEOF2, NULL};
	gp_move_replay_t r;
	ck_assert_int_eq(feed(&r, K41, eof), GP_REPLAY_DONE);
	ck_assert(r.id_read);
	ck_assert_uint_eq(r.insert_id, 42);
	ck_assert_int_eq(feed(&r, K41 | DEOF, deof), GP_REPLAY_DONE);
	ck_assert(r.id_read);
	ck_assert_uint_eq(r.insert_id, 0); /* 0 read: nothing to replay, not "unknown" */
}
END_TEST

/* The collation comes in the same row: a name is kept, anything else is not (id still read). */
START_TEST(test_lastid_collation)
{
	static const char *const both[] = {
	        "02", DEF_LID, DEF_LID, EOF2, "02 |42| 12 |utf8mb4_unicode_ci|", EOF2, NULL};
	static const char *const odd[] = {"02", DEF_LID, DEF_LID, EOF2, "02 |42| 03 |a'b|",
	                                  EOF2, NULL};
	gp_move_replay_t r;
	ck_assert_int_eq(feed(&r, K41, both), GP_REPLAY_DONE);
	ck_assert(r.id_read && r.coll_read);
	ck_assert_uint_eq(r.insert_id, 42);
	ck_assert_str_eq(r.collation, "utf8mb4_unicode_ci");
	ck_assert_int_eq(feed(&r, K41, odd), GP_REPLAY_DONE);
	ck_assert(r.id_read && !r.coll_read);
}
END_TEST

/* Anything but one row of one unsigned number leaves id_read clear: the tracked value stays. */
START_TEST(test_lastid_refused)
{
	static const char *const err[] = {ERR_RO, NULL};
	static const char *const null_row[] = {"01", DEF_LID, "fb", OKEOF2, NULL};
	static const char *const two_rows[] = {"01", DEF_LID, "01 |1|", "01 |2|", NULL};
	static const char *const no_row[] = {"01", DEF_LID, OKEOF2, NULL};
	static const char *const text[] = {"01", DEF_LID, "02 |-1|", NULL};
	static const char *const ok[] = {"00 00 00 0200 0000", NULL};
	static const char *const *const cases[] = {err, null_row, two_rows, no_row, text, ok};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gp_move_replay_t r;
		ck_assert_msg(feed(&r, K41 | DEOF, cases[i]) == GP_REPLAY_FAILED, "case %zu", i);
		ck_assert_msg(!r.id_read, "case %zu", i);
	}
}
END_TEST

static Suite *move_lastid_suite(void)
{
	Suite *s = suite_create("move_lastid");
	TCase *tc = tcase_create("read");
	tcase_add_test(tc, test_lastid_read);
	tcase_add_test(tc, test_lastid_collation);
	tcase_add_test(tc, test_lastid_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(move_lastid_suite(), CK_ENV);
}
