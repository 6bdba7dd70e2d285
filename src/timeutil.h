/* SPDX-License-Identifier: MIT */
/*
 * Time helpers. Internally every instant is epoch milliseconds UTC.
 * Output strings are exactly what Nightscout stores for `dateString`,
 * `sysTime` and `created_at`: `YYYY-MM-DDTHH:mm:ss.SSSZ` (moment's
 * toISOString()).
 */
#ifndef NSC_SRC_TIMEUTIL_H
#define NSC_SRC_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define NSC_ISO_MS_LEN 24 /* "2024-01-01T10:00:00.000Z" */
#define NSC_ISO_BUF 32

#define NSC_MS_PER_SECOND INT64_C(1000)
#define NSC_MS_PER_MINUTE INT64_C(60000)
#define NSC_MS_PER_HOUR INT64_C(3600000)
#define NSC_MS_PER_DAY INT64_C(86400000)

/*
 * Formats epoch ms as UTC ISO-8601 with milliseconds and `Z`. Works for
 * negative values and years 0000..9999; returns NSC_ERR_RANGE outside that
 * or if `size` < NSC_ISO_MS_LEN + 1.
 */
nsc_rc nsc_time_format_iso(int64_t epoch_ms, char *buf, size_t size);

/*
 * Parses ISO-8601 the way Nightscout's moment.parseZone does for the forms
 * we meet: `YYYY-MM-DDTHH:mm[:ss[.fraction]]` followed by `Z`, `±HH:MM`,
 * `±HHMM`, `±HH` or nothing (then UTC). A space may replace `T`. Fraction
 * digits beyond milliseconds are truncated. On success sets *epoch_ms and,
 * if utc_offset_min is not NULL, the offset in minutes east of UTC.
 */
nsc_rc nsc_time_parse_iso(const char *text, int64_t *epoch_ms, int *utc_offset_min);

/* Days since 1970-01-01 for a proleptic Gregorian date (no time zone involved). */
int64_t nsc_days_from_civil(int64_t year, unsigned month, unsigned day);
/* Inverse of nsc_days_from_civil: the date of day z since 1970-01-01. */
void nsc_civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day);
/* Floor division (b > 0) and its remainder in [0, b), right for negative a too. */
int64_t nsc_floor_div(int64_t a, int64_t b, int64_t *rem);

#endif
