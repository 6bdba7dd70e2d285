/* SPDX-License-Identifier: MIT */
/* Help texts of the nightscout-connect command. */
#ifndef NSC_CLI_USAGE_H
#define NSC_CLI_USAGE_H

#include <stdio.h>

/* Exit statuses, documented in README.md and in `--help`. */
enum nsc_exit {
	NSC_EXIT_OK = 0,        /* success; for capture: new data stored */
	NSC_EXIT_INTERNAL = 1,  /* internal error (out of memory, bug), or stopped by a fatal error */
	NSC_EXIT_USAGE = 2,     /* bad command line or configuration */
	NSC_EXIT_NO_DATA = 3,   /* capture: the cycle worked but nothing new arrived */
	NSC_EXIT_TEMPFAIL = 4,  /* capture: source or output unreachable, after retries; backfill: not finished */
	NSC_EXIT_REJECTED = 5,  /* capture: the vendor refused the login; user action needed */
	NSC_EXIT_DROPPED = 6,   /* capture: the vendor's payload could not be used */
};

void nsc_usage_main(FILE *out);
void nsc_usage_forever(FILE *out);
void nsc_usage_capture(FILE *out);
void nsc_usage_backfill(FILE *out);
void nsc_usage_settings(FILE *out);
void nsc_usage_carelink_login(FILE *out);
void nsc_usage_serve(FILE *out);
void nsc_usage_doctor(FILE *out);
/* Every setting, grouped, with flag, default and help. */
void nsc_usage_print_settings(FILE *out);

#endif
