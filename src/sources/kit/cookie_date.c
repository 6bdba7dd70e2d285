/* SPDX-License-Identifier: MIT */
/* A cookie's Expires date, read as RFC 6265 §5.1.1 says (see cookie_date.h). */
#include "config.h"

#include <stdbool.h>
#include <strings.h>

#include "sources/kit/cookie_date.h"
#include "timeutil.h"

/* RFC 6265's delimiter: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E. */
static bool is_delimiter(unsigned char c)
{
	return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
	       (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Reads min..max digits at t[*i]; what follows must be the end or a
 * non-digit. Advances *i past the digits.
 */
static bool digits(const char *t, size_t n, size_t *i, size_t min, size_t max, int *out)
{
	size_t start = *i;
	int v = 0;
	while (*i < n && is_digit(t[*i]) && *i - start < max)
		v = v * 10 + (t[(*i)++] - '0');
	if (*i - start < min || (*i < n && is_digit(t[*i])))
		return false;
	*out = v;
	return true;
}

/* A token that is min..max digits, then the end or anything not a digit. */
static bool number_token(const char *t, size_t n, size_t min, size_t max, int *out)
{
	size_t i = 0;
	return digits(t, n, &i, min, max, out);
}

/* hms-time = time-field ":" time-field ":" time-field, then anything not a digit. */
static bool time_token(const char *t, size_t n, int hms[3])
{
	size_t i = 0;
	for (int k = 0; k < 3; k++) {
		if (!digits(t, n, &i, 1, 2, &hms[k]))
			return false;
		if (k < 2 && (i >= n || t[i++] != ':'))
			return false;
	}
	return true;
}

static bool month_token(const char *t, size_t n, int *month)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	if (n < 3)
		return false;
	for (int m = 0; m < 12; m++) {
		if (strncasecmp(t, names + 3 * m, 3) == 0) {
			*month = m + 1;
			return true;
		}
	}
	return false;
}

static bool valid_date(int year, int month, int day)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	int last = days[month - 1] + (month == 2 && leap ? 1 : 0);
	return day >= 1 && day <= last;
}

nsc_rc nsc_cookie_date_parse(const char *text, size_t len, int64_t *epoch_ms)
{
	int hms[3] = { 0 }, day = 0, month = 0, year = 0;
	bool have_time = false, have_day = false, have_month = false, have_year = false;
	size_t i = 0;

	while (i < len) {
		while (i < len && is_delimiter((unsigned char)text[i]))
			i++;
		size_t start = i;
		while (i < len && !is_delimiter((unsigned char)text[i]))
			i++;
		const char *t = text + start;
		size_t n = i - start;
		if (n == 0)
			continue;
		if (!have_time && time_token(t, n, hms))
			have_time = true;
		else if (!have_day && number_token(t, n, 1, 2, &day))
			have_day = true;
		else if (!have_month && month_token(t, n, &month))
			have_month = true;
		else if (!have_year && number_token(t, n, 2, 4, &year))
			have_year = true;
	}
	if (!have_time || !have_day || !have_month || !have_year)
		return NSC_ERR_PARSE;
	if (year >= 70 && year <= 99)
		year += 1900;
	else if (year >= 0 && year <= 69)
		year += 2000;
	if (year < 1601 || hms[0] > 23 || hms[1] > 59 || hms[2] > 59 || !valid_date(year, month, day))
		return NSC_ERR_PARSE;
	int64_t days = nsc_days_from_civil(year, (unsigned)month, (unsigned)day);
	*epoch_ms = days * NSC_MS_PER_DAY + hms[0] * NSC_MS_PER_HOUR + hms[1] * NSC_MS_PER_MINUTE +
		    hms[2] * NSC_MS_PER_SECOND;
	return NSC_OK;
}
