/* test_timeline.c - the failover timeline: phases of a writer change, folding, closing, gaps. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "gp_check.h"
#include "cluster/timeline.h"

#define MS(x) ((uint64_t)(x)*1000000ull)

/* A phase in whole ms (NaN as -1), for exact comparisons. */
static long ms_of(const gp_tl_rec_t *r, gp_tl_phase_t ph)
{
	double s = gp_tl_phase_s(r, ph);
	return isnan(s) ? -1 : lround(s * 1000.0);
}

/* db1 writer, answers every 10 ms until 995 ms, probes fine every 250 ms up to 750 ms. */
static void steady(gp_timeline_t *tl)
{
	gp_tl_rec_t closed;
	gp_timeline_init(tl);
	ck_assert(!gp_timeline_change(tl, -1, 0, NULL, "db1", GP_REASON_INITIAL, false, MS(1),
	                              &closed));
	ck_assert(!tl->last.valid); /* the first writer is not a failover */
	for (int t = 0; t <= 750; t += 250) {
		gp_timeline_probe(tl, 0, true, MS(t));
		gp_timeline_probe(tl, 1, true, MS(t));
	}
	for (int t = 5; t <= 995; t += 10)
		gp_timeline_answer(tl, 0, MS(t));
}

START_TEST(test_kill_with_eviction)
{
	gp_timeline_t tl;
	gp_tl_rec_t closed;
	steady(&tl);
	/* Killed at ~996 ms; the refused probe at 1004 ms makes db2 the writer at once. */
	ck_assert(!gp_timeline_change(&tl, 0, 1, "db1", "db2", GP_REASON_DOWN, true, MS(1004),
	                              &closed));
	gp_timeline_probe(&tl, 0, false, MS(1004));
	const gp_tl_rec_t *r = &tl.last;
	ck_assert(r->valid && r->open && r->busy);
	ck_assert_int_eq(ms_of(r, GP_TL_DETECT), 9); /* last answer 995 -> 1004 */
	ck_assert_int_eq(ms_of(r, GP_TL_EVICT), -1);
	ck_assert_int_eq(ms_of(r, GP_TL_FIRST_ANSWER), -1);
	ck_assert_int_eq(ms_of(r, GP_TL_GAP), -1); /* not known before the first answer */
	gp_timeline_evicted(&tl, 1, MS(1005));     /* another node's eviction: not ours */
	gp_timeline_evicted(&tl, 0, MS(1007));
	gp_timeline_evicted(&tl, 0, MS(1500)); /* counted once */
	ck_assert_int_eq(ms_of(r, GP_TL_EVICT), 3);
	/* The old writer still answers (a statement that finished): a gap, not a first answer. */
	gp_timeline_answer(&tl, 0, MS(1010));
	ck_assert_int_eq(ms_of(r, GP_TL_FIRST_ANSWER), -1);
	gp_timeline_answer(&tl, 1, MS(1054));
	ck_assert_int_eq(ms_of(r, GP_TL_FIRST_ANSWER), 50);
	ck_assert_int_eq(ms_of(r, GP_TL_GAP), 44); /* 1010 -> 1054 */
	for (int t = 1060; t < 2000; t += 10)
		gp_timeline_answer(&tl, 1, MS(t));
	gp_timeline_answer(&tl, 1, MS(2200)); /* a stall soon after: part of the change */
	ck_assert_int_eq(ms_of(r, GP_TL_GAP), 210);
	ck_assert(!gp_timeline_tick(&tl, MS(1054) + GP_TL_TAIL_NS - 1, &closed));
	gp_timeline_answer(&tl, 1, MS(1054) + GP_TL_TAIL_NS + MS(900)); /* 1.7 s later */
	ck_assert(gp_timeline_tick(&tl, MS(1054) + GP_TL_TAIL_NS + MS(1000), &closed));
	ck_assert(!closed.open && !r->open);
	ck_assert_int_eq(ms_of(&closed, GP_TL_GAP), 210); /* the late stall came after the tail */
	ck_assert(!gp_timeline_tick(&tl, MS(99000), &closed));
	char sum[200];
	gp_tl_summary(&closed, sum, sizeof(sum));
	ck_assert_str_eq(sum, "9.0 ms to detect, 3.0 ms to evict, 50 ms to the first answer, "
	                      "longest gap 210 ms");
}
END_TEST

START_TEST(test_detected_at_first_failed_probe)
{
	gp_timeline_t tl;
	gp_tl_rec_t closed;
	steady(&tl);
	/* monitor.fall = 2: a time-out at 1000 ms, the second at 2000 ms marks db1 down. */
	gp_timeline_probe(&tl, 0, false, MS(1000));
	gp_timeline_probe(&tl, 0, false, MS(2000)); /* not the first: detection stays */
	gp_timeline_change(&tl, 0, 1, "db1", "db2", GP_REASON_DOWN, true, MS(2000), &closed);
	ck_assert_uint_eq(tl.last.detected_ns, MS(1000));
	ck_assert_int_eq(ms_of(&tl.last, GP_TL_DETECT), 5); /* last sign of life: answer at 995 */
	/* A good probe in between would have reset it. */
	steady(&tl);
	gp_timeline_probe(&tl, 0, false, MS(1000));
	gp_timeline_probe(&tl, 0, true, MS(1250));
	gp_timeline_change(&tl, 0, 1, "db1", "db2", GP_REASON_DOWN, true, MS(1500), &closed);
	ck_assert_int_eq(ms_of(&tl.last, GP_TL_DETECT), 250); /* good probe 1250 -> 1500 */
}
END_TEST

START_TEST(test_planned_change)
{
	gp_timeline_t tl;
	gp_tl_rec_t closed;
	steady(&tl);
	/* Maintenance: nothing failed, the change is the detection. */
	gp_timeline_change(&tl, 0, 1, "db1", "db2", GP_REASON_MAINTENANCE, false, MS(1150),
	                   &closed);
	const gp_tl_rec_t *r = &tl.last;
	ck_assert_int_eq(ms_of(r, GP_TL_DETECT), 0);
	ck_assert(r->busy); /* answered at 995: within GP_TL_BUSY_NS */
	gp_timeline_answer(&tl, 1, MS(1250));
	ck_assert_int_eq(ms_of(r, GP_TL_FIRST_ANSWER), 100);
	/* The gap starts at the change (t0): the quiet 995-1150 ms before it is not counted. */
	ck_assert_int_eq(ms_of(r, GP_TL_GAP), 100);
}
END_TEST

START_TEST(test_fold_through_no_writer)
{
	gp_timeline_t tl;
	gp_tl_rec_t closed;
	steady(&tl);
	gp_timeline_change(&tl, 0, -1, "db1", NULL, GP_REASON_DOWN, true, MS(1004), &closed);
	gp_timeline_answer(&tl, 0, MS(1006)); /* from the old writer: no first answer */
	ck_assert(!gp_timeline_change(&tl, -1, 1, NULL, "db2", GP_REASON_INITIAL, false, MS(1500),
	                              &closed));
	const gp_tl_rec_t *r = &tl.last;
	ck_assert_uint_eq(r->changes, 2);
	ck_assert_str_eq(r->from_name, "db1");
	ck_assert_str_eq(r->to_name, "db2");
	ck_assert_int_eq(r->reason, GP_REASON_DOWN);
	gp_timeline_answer(&tl, 1, MS(1520));
	ck_assert_int_eq(ms_of(r, GP_TL_FIRST_ANSWER), 516);
	ck_assert_int_eq(ms_of(r, GP_TL_GAP), 514);
	/* The next change after the first answer closes this record and opens another. */
	ck_assert(gp_timeline_change(&tl, 1, 0, "db2", "db1", GP_REASON_FAILBACK, false, MS(2000),
	                             &closed));
	ck_assert_str_eq(closed.from_name, "db1");
	ck_assert(!closed.open);
	ck_assert_str_eq(tl.last.from_name, "db2");
	ck_assert_uint_eq(tl.last.changes, 1);
}
END_TEST

START_TEST(test_idle_endpoint)
{
	gp_timeline_t tl;
	gp_tl_rec_t closed;
	steady(&tl);
	/* Nothing answered for a minute before the kill: no gap to speak of. */
	gp_timeline_probe(&tl, 0, true, MS(60000));
	gp_timeline_change(&tl, 0, 1, "db1", "db2", GP_REASON_DOWN, true, MS(60100), &closed);
	const gp_tl_rec_t *r = &tl.last;
	ck_assert(!r->busy);
	ck_assert_int_eq(ms_of(r, GP_TL_DETECT), 100);
	gp_timeline_answer(&tl, 1, MS(90000)); /* someone connects half a minute later */
	ck_assert_int_eq(ms_of(r, GP_TL_FIRST_ANSWER), 29900);
	ck_assert_int_eq(ms_of(r, GP_TL_GAP), -1);
	ck_assert(gp_timeline_tick(&tl, MS(90000) + GP_TL_TAIL_NS, &closed));
	ck_assert_int_eq(ms_of(&closed, GP_TL_GAP), -1);
	char sum[200];
	gp_tl_summary(&closed, sum, sizeof(sum));
	ck_assert_str_eq(sum, "100 ms to detect, no eviction, 29900 ms to the first answer, "
	                      "no gap (the endpoint was idle)");
}
END_TEST

START_TEST(test_no_first_answer)
{
	gp_timeline_t tl;
	gp_tl_rec_t closed;
	steady(&tl);
	gp_timeline_change(&tl, 0, 1, "db1", "db2", GP_REASON_DOWN, true, MS(1004), &closed);
	ck_assert(!gp_timeline_tick(&tl, MS(1004) + GP_TL_WAIT_NS - 1, &closed));
	ck_assert(gp_timeline_tick(&tl, MS(1004) + GP_TL_WAIT_NS, &closed));
	ck_assert_int_eq(ms_of(&closed, GP_TL_FIRST_ANSWER), -1);
	/* Busy before, nothing since: the outage lasted at least until the close. */
	ck_assert_int_eq(ms_of(&closed, GP_TL_GAP), 1004 + 60000 - 995);
	char sum[200];
	gp_tl_summary(&closed, sum, sizeof(sum));
	ck_assert(strstr(sum, "no answer from the new writer"));
}
END_TEST

START_TEST(test_remap)
{
	gp_timeline_t tl;
	gp_tl_rec_t closed;
	steady(&tl);
	gp_timeline_change(&tl, 0, 1, "db1", "db2", GP_REASON_DOWN, true, MS(1004), &closed);
	int map[2] = {-1, 0}; /* db1 removed, db2 moves to index 0 */
	gp_timeline_remap(&tl, map, 2);
	ck_assert_int_eq(tl.last.from, -1);
	ck_assert_int_eq(tl.last.to, 0);
	ck_assert_uint_eq(tl.good_ns[0], MS(750));
	gp_timeline_answer(&tl, 0, MS(1100));
	ck_assert_int_eq(ms_of(&tl.last, GP_TL_FIRST_ANSWER), 96);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(gp_tl_phase_name(GP_TL_DETECT), "detect");
	ck_assert_str_eq(gp_tl_phase_name(GP_TL_EVICT), "evict");
	ck_assert_str_eq(gp_tl_phase_name(GP_TL_FIRST_ANSWER), "first_answer");
	ck_assert_str_eq(gp_tl_phase_name(GP_TL_GAP), "gap");
	gp_tl_rec_t none = {0};
	ck_assert(isnan(gp_tl_phase_s(&none, GP_TL_DETECT)));
	char sum[64];
	gp_tl_summary(&none, sum, sizeof(sum));
	ck_assert_str_eq(sum, "no writer change yet");
}
END_TEST

static Suite *timeline_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_kill_with_eviction);
	tcase_add_test(tc, test_detected_at_first_failed_probe);
	tcase_add_test(tc, test_planned_change);
	tcase_add_test(tc, test_fold_through_no_writer);
	tcase_add_test(tc, test_idle_endpoint);
	tcase_add_test(tc, test_no_first_answer);
	tcase_add_test(tc, test_remap);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(timeline_suite(), CK_ENV);
}
