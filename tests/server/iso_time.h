/* SPDX-License-Identifier: MIT */
/*
 * ISO 8601 times for the test Nightscout, its own code (independent of the
 * client's timeutil): parsing the forms Nightscout's moment accepts from
 * uploaders, and formatting as Nightscout stores dates (UTC, ms, `Z`).
 */
#ifndef NSC_TESTS_SERVER_ISO_TIME_H
#define NSC_TESTS_SERVER_ISO_TIME_H

#include <stdbool.h>

#define TSNS_ISO_BUF 64

/* YYYY-MM-DD[T ]HH:MM[:SS[.frac]][Z|±HH[:MM|MM]] -> epoch ms and offset minutes (off_min may be NULL). */
bool tsns_parse_iso(const char *s, long long *ms, int *off_min);
/* epoch ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ" */
void tsns_format_iso(long long ms, char out[TSNS_ISO_BUF]);

#endif
