/* gp_check.h - how every unit-test program runs its Check suite: a run of no test fails. */
#ifndef GP_CHECK_H
#define GP_CHECK_H

#include <check.h>

/*
 * Runs the suite (freeing it with its runner) and returns the program's exit status: 0 when
 * at least one test ran and none failed. Zero tests is a failure, not a pass: CK_RUN_SUITE,
 * CK_RUN_CASE or CK_INCLUDE_TAGS left in the environment, or a suite that lost its cases,
 * would otherwise turn the program green without checking anything.
 */
int gp_check_run(Suite *s, enum print_output mode);

#endif
