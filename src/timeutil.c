/* SPDX-License-Identifier: MIT */
/*
 * Epoch-millisecond <-> ISO-8601 conversion with pure calendar arithmetic
 * (Howard Hinnant's civil-date algorithms), so results never depend on the
 * process time zone, DST rules or the C library's time functions.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>

#include "timeutil.h"

int64_t nsc_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	int64_t m = (int64_t)month;
	int64_t d = (int64_t)day;
	int64_t y = year - (m <= 2 ? 1 : 0);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                            /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;    /* [0, 146096] */

	return era * 146097 + doe - 719468;
}

void nsc_civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	int64_t d = doy - (153 * mp + 2) / 5 + 1;                            /* [1, 31] */
	int64_t m = mp < 10 ? mp + 3 : mp - 9;                               /* [1, 12] */

	*year = yoe + era * 400 + (m <= 2 ? 1 : 0);
	*month = (unsigned)m;
	*day = (unsigned)d;
}

int64_t nsc_floor_div(int64_t a, int64_t b, int64_t *rem)
{
	int64_t q = a / b;
	int64_t r = a % b;

	if (r < 0) {
		r += b;
		q -= 1;
	}
	*rem = r;
	return q;
}

nsc_rc nsc_time_format_iso(int64_t epoch_ms, char *buf, size_t size)
{
	int64_t ms_of_day, days, year;
	unsigned month, day;

	if (!buf || size < NSC_ISO_MS_LEN + 1)
		return NSC_ERR_RANGE;
	buf[0] = '\0';
	/* Four-digit years only: 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. */
	if (epoch_ms < nsc_days_from_civil(0, 1, 1) * NSC_MS_PER_DAY ||
	    epoch_ms >= nsc_days_from_civil(10000, 1, 1) * NSC_MS_PER_DAY)
		return NSC_ERR_RANGE;

	days = nsc_floor_div(epoch_ms, NSC_MS_PER_DAY, &ms_of_day);
	nsc_civil_from_days(days, &year, &month, &day);

	int hh = (int)(ms_of_day / NSC_MS_PER_HOUR);
	int mi = (int)(ms_of_day % NSC_MS_PER_HOUR / NSC_MS_PER_MINUTE);
	int ss = (int)(ms_of_day % NSC_MS_PER_MINUTE / NSC_MS_PER_SECOND);
	int ms = (int)(ms_of_day % NSC_MS_PER_SECOND);

	int n = snprintf(buf, size, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)year, month, day,
			 hh, mi, ss, ms);
	if (n != NSC_ISO_MS_LEN) {
		buf[0] = '\0';
		return NSC_ERR_INTERNAL;
	}
	return NSC_OK;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly `n` decimal digits at *p into *out and advances *p. */
static bool read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && is_leap(y))
		return 29;
	return dim[m - 1];
}

/* Parses `Z`, `±HH:MM`, `±HHMM`, `±HH` or nothing at *p; sets minutes east of UTC. */
static bool parse_offset(const char **p, int *offset_min)
{
	const char *s = *p;
	int sign, hh, mm = 0;

	if (*s == '\0') {
		*offset_min = 0;
		return true;
	}
	if (*s == 'Z' || *s == 'z') {
		*p = s + 1;
		*offset_min = 0;
		return true;
	}
	if (*s != '+' && *s != '-')
		return false;
	sign = *s == '-' ? -1 : 1;
	s++;
	if (!read_digits(&s, 2, &hh))
		return false;
	if (*s == ':') {
		s++;
		if (!read_digits(&s, 2, &mm))
			return false;
	} else if (is_digit(*s)) {
		if (!read_digits(&s, 2, &mm))
			return false;
	}
	if (hh > 23 || mm > 59)
		return false;
	*offset_min = sign * (hh * 60 + mm);
	*p = s;
	return true;
}

nsc_rc nsc_time_parse_iso(const char *text, int64_t *epoch_ms, int *utc_offset_min)
{
	const char *p = text;
	int year, month, day, hh, mi, ss = 0, ms = 0, offset = 0;

	if (!text || !epoch_ms)
		return NSC_ERR_PARSE;

	if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &month) ||
	    *p++ != '-' || !read_digits(&p, 2, &day))
		return NSC_ERR_PARSE;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return NSC_ERR_PARSE;
	p++;
	if (!read_digits(&p, 2, &hh) || *p++ != ':' || !read_digits(&p, 2, &mi))
		return NSC_ERR_PARSE;
	if (*p == ':') {
		p++;
		if (!read_digits(&p, 2, &ss))
			return NSC_ERR_PARSE;
		if (*p == '.' || *p == ',') {
			int ndigits = 0;

			p++;
			while (is_digit(*p)) {
				if (ndigits < 3)
					ms = ms * 10 + (*p - '0');
				ndigits++;
				p++;
			}
			if (ndigits == 0)
				return NSC_ERR_PARSE;
			for (int i = ndigits; i < 3; i++)
				ms *= 10;
		}
	}
	if (!parse_offset(&p, &offset) || *p != '\0')
		return NSC_ERR_PARSE;

	if (month < 1 || month > 12 || day < 1 ||
	    (unsigned)day > days_in_month(year, (unsigned)month))
		return NSC_ERR_PARSE;
	if (hh > 23 || mi > 59 || ss > 59)
		return NSC_ERR_PARSE;

	int64_t days = nsc_days_from_civil(year, (unsigned)month, (unsigned)day);
	int64_t local = days * NSC_MS_PER_DAY + hh * NSC_MS_PER_HOUR + mi * NSC_MS_PER_MINUTE +
			ss * NSC_MS_PER_SECOND + ms;

	*epoch_ms = local - (int64_t)offset * NSC_MS_PER_MINUTE;
	if (utc_offset_min)
		*utc_offset_min = offset;
	return NSC_OK;
}
