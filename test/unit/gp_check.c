/* gp_check.c - how every unit-test program runs its Check suite: a run of no test fails. */
#include <stdio.h>
#include <stdlib.h>

#include "gp_check.h"

int gp_check_run(Suite *s, enum print_output mode)
{
	SRunner *sr = srunner_create(s);
	int ran, failed;

	srunner_run_all(sr, mode);
	ran = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (ran == 0) {
		fprintf(stderr,
		        "FAIL: no test ran (do CK_RUN_SUITE, CK_RUN_CASE or CK_INCLUDE_TAGS "
		        "select none?)\n");
		return EXIT_FAILURE;
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
