/* SPDX-License-Identifier: MIT */
/* ISO 8601 times for the test Nightscout (see iso_time.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>

#include "iso_time.h"

static int two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

bool tsns_parse_iso(const char *s, long long *ms, int *off_min)
{
	int year = 0, mon, day, hour, min, sec = 0, off = 0;
	long frac = 0;

	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		year = year * 10 + (s[i] - '0');
	}
	if (s[4] != '-' || (mon = two_digits(s + 5)) < 1 || s[7] != '-' ||
	    (day = two_digits(s + 8)) < 1 || (s[10] != 'T' && s[10] != ' ') ||
	    (hour = two_digits(s + 11)) < 0 || s[13] != ':' || (min = two_digits(s + 14)) < 0)
		return false;
	s += 16;
	if (*s == ':') {
		if ((sec = two_digits(s + 1)) < 0)
			return false;
		s += 3;
		if (*s == '.') {
			int digits = 0;

			for (s++; isdigit((unsigned char)*s); s++, digits++)
				if (digits < 3)
					frac = frac * 10 + (*s - '0');
			if (digits == 0)
				return false;
			for (; digits < 3; digits++)
				frac *= 10;
		}
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1, oh, om = 0;

		if ((oh = two_digits(s + 1)) < 0)
			return false;
		s += 3;
		if (*s == ':')
			s++;
		if (*s) {
			if ((om = two_digits(s)) < 0)
				return false;
			s += 2;
		}
		off = sign * (oh * 60 + om);
	}
	if (*s)
		return false;

	struct tm tm = { 0 };
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*ms = ((long long)t - off * 60LL) * 1000LL + frac;
	if (off_min)
		*off_min = off;
	return true;
}

void tsns_format_iso(long long ms, char out[TSNS_ISO_BUF])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, TSNS_ISO_BUF, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
