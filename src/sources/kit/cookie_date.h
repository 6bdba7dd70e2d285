/* SPDX-License-Identifier: MIT */
/*
 * The date of a cookie's Expires attribute, read the way RFC 6265 §5.1.1
 * tells a user agent to: the text is split at delimiters, and the first
 * token of each shape found is the time (hh:mm:ss), the day of the month,
 * the month (its first three letters) and the year, in whatever order
 * they come. So one reader takes RFC 1123 ("Sun, 06 Nov 1994 08:49:37
 * GMT"), the old Netscape and RFC 850 forms ("Sunday, 06-Nov-94 08:49:37
 * GMT") and asctime ("Sun Nov  6 08:49:37 1994"). Two-digit years 70-99
 * are 19xx, 00-69 are 20xx. The zone is always GMT whatever it says.
 *
 * Ownership & concurrency: pure.
 */
#ifndef NSC_SRC_SOURCES_KIT_COOKIE_DATE_H
#define NSC_SRC_SOURCES_KIT_COOKIE_DATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * text[0, len) as epoch ms into *epoch_ms. NSC_ERR_PARSE when a part is
 * missing or out of range (hour 24, year before 1601, Feb 30, ...).
 */
nsc_rc nsc_cookie_date_parse(const char *text, size_t len, int64_t *epoch_ms);

#endif
