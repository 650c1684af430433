/* test_deadline.c - the deadline heap: order, re-arming, stopping, taking what is due. */
#include <check.h>
#include <stdlib.h>

#include "gp_check.h"
#include "base/deadline.h"

#define N 500

static int fired;
static void count_cb(gp_deadline_t *d)
{
	(void)d;
	fired++;
}

/* Every parent due no later than its children, and every slot naming its own index. */
static void check_heap(const gp_deadlines_t *h)
{
	for (uint32_t i = 0; i < h->n; i++) {
		ck_assert_uint_eq(h->heap[i]->slot, i + 1);
		if (i > 0)
			ck_assert_uint_le(h->heap[(i - 1) / 2]->at, h->heap[i]->at);
	}
}

START_TEST(test_order_and_due)
{
	gp_deadlines_t h = {0};
	gp_deadline_t d[4] = {{0}};
	uint64_t at[4] = {30, 10, 40, 20};
	for (int i = 0; i < 4; i++)
		ck_assert(gp_deadline_arm(&h, &d[i], at[i], count_cb));
	check_heap(&h);
	ck_assert_ptr_eq(gp_deadlines_first(&h), &d[1]);
	ck_assert_ptr_null(gp_deadlines_pop_due(&h, 9)); /* nothing due yet */
	ck_assert_ptr_eq(gp_deadlines_pop_due(&h, 25), &d[1]);
	ck_assert(!gp_deadline_armed(&d[1]));
	ck_assert_ptr_eq(gp_deadlines_pop_due(&h, 25), &d[3]);
	ck_assert_ptr_null(gp_deadlines_pop_due(&h, 25));
	/* Re-arming moves a deadline both ways; stopping an unarmed one does nothing. */
	ck_assert(gp_deadline_arm(&h, &d[2], 5, count_cb));
	ck_assert_ptr_eq(gp_deadlines_first(&h), &d[2]);
	ck_assert(gp_deadline_arm(&h, &d[2], 50, count_cb));
	ck_assert_ptr_eq(gp_deadlines_first(&h), &d[0]);
	gp_deadline_stop(&h, &d[1]);
	gp_deadline_stop(&h, &d[0]);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_ptr_eq(gp_deadlines_first(&h), &d[2]);
	gp_deadline_t *due = gp_deadlines_pop_due(&h, 50);
	ck_assert_ptr_eq(due, &d[2]);
	due->cb(due);
	ck_assert_int_eq(fired, 1);
	ck_assert_uint_eq(h.n, 0);
	gp_deadlines_free(&h);
}
END_TEST

/* Random arms, re-arms and stops against a plain array: the heap gives the same earliest
 * deadline after every step, and hands everything out in time order at the end. */
START_TEST(test_random_against_model)
{
	gp_deadlines_t h = {0};
	static gp_deadline_t d[N];
	static bool armed[N];
	srand(7);
	for (int step = 0; step < 20000; step++) {
		int i = rand() % N;
		if (rand() % 3 == 0) {
			gp_deadline_stop(&h, &d[i]);
			armed[i] = false;
		} else {
			ck_assert(gp_deadline_arm(&h, &d[i], (uint64_t)(rand() % 1000), count_cb));
			armed[i] = true;
		}
		ck_assert_int_eq(gp_deadline_armed(&d[i]), armed[i]);
		if (step % 97 == 0)
			check_heap(&h);
		uint64_t min = UINT64_MAX;
		uint32_t n = 0;
		for (int k = 0; k < N; k++)
			if (armed[k]) {
				n++;
				if (d[k].at < min)
					min = d[k].at;
			}
		ck_assert_uint_eq(h.n, n);
		if (n)
			ck_assert_uint_eq(gp_deadlines_first(&h)->at, min);
	}
	uint64_t last = 0;
	gp_deadline_t *x;
	uint32_t taken = 0, left = h.n;
	while ((x = gp_deadlines_pop_due(&h, UINT64_MAX)) != NULL) {
		ck_assert_uint_ge(x->at, last);
		last = x->at;
		taken++;
	}
	ck_assert_uint_eq(taken, left);
	gp_deadlines_free(&h);
}
END_TEST

START_TEST(test_reserve)
{
	gp_deadlines_t h = {0};
	ck_assert(gp_deadlines_reserve(&h, 1000));
	ck_assert_uint_ge(h.cap, 1000);
	uint32_t cap = h.cap;
	ck_assert(gp_deadlines_reserve(&h, 10)); /* never shrinks */
	ck_assert_uint_eq(h.cap, cap);
	gp_deadlines_free(&h);
	ck_assert_ptr_null(h.heap);
}
END_TEST

static Suite *deadline_suite(void)
{
	Suite *s = suite_create("deadline");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_order_and_due);
	tcase_add_test(tc, test_random_against_model);
	tcase_add_test(tc, test_reserve);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(deadline_suite(), CK_ENV);
}
