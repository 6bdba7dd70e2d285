/* SPDX-License-Identifier: MIT */
/*
 * Shared glue for the Check suites: one main() per test binary that runs
 * the suite with CK_ENV (so CK_RUN_CASE, CK_FORK, CK_TAP_LOG_FILE_NAME work)
 * and exits non-zero on any failure.
 */
#ifndef NSC_TESTS_CHECK_H
#define NSC_TESTS_CHECK_H

#include <check.h>
#include <stdlib.h>

#define NSC_CHECK_MAIN(make_suite)                                   \
	int main(void)                                               \
	{                                                            \
		SRunner *sr = srunner_create(make_suite());          \
		srunner_run_all(sr, CK_ENV);                         \
		int failed = srunner_ntests_failed(sr);              \
		srunner_free(sr);                                    \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;    \
	}

#endif
