/* SPDX-License-Identifier: MIT */
/*
 * Check suite for timeutil (ISO-8601 <-> epoch ms, civil-date arithmetic)
 * and trend (direction table, parsing, rate thresholds).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsc_check.h"
#include "timeutil.h"
#include "trend.h"

/* 2024-01-01T10:00:00.000Z, as stored by Nightscout (reference §1.5). */
#define T_2024_0101_10 INT64_C(1704103200000)

static void assert_format(int64_t ms, const char *want)
{
	char buf[NSC_ISO_BUF];

	ck_assert_int_eq(nsc_time_format_iso(ms, buf, sizeof(buf)), NSC_OK);
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(strlen(buf), NSC_ISO_MS_LEN);
}

static void assert_parse(const char *text, int64_t want_ms, int want_offset)
{
	int64_t ms = 0;
	int off = 12345;

	ck_assert_msg(nsc_time_parse_iso(text, &ms, &off) == NSC_OK, "parse failed: %s", text);
	ck_assert_msg(ms == want_ms, "%s: got %lld want %lld", text, (long long)ms,
		      (long long)want_ms);
	ck_assert_msg(off == want_offset, "%s: offset %d want %d", text, off, want_offset);
}

static void assert_reject(const char *text)
{
	int64_t ms = 777;
	int off = 555;

	ck_assert_msg(nsc_time_parse_iso(text, &ms, &off) == NSC_ERR_PARSE, "accepted: \"%s\"",
		      text);
}

START_TEST(test_days_from_civil)
{
	ck_assert_int_eq(nsc_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(nsc_days_from_civil(1970, 1, 2), 1);
	ck_assert_int_eq(nsc_days_from_civil(1969, 12, 31), -1);
	/* 30 years, 7 of them leap (72 76 80 84 88 92 96). */
	ck_assert_int_eq(nsc_days_from_civil(2000, 1, 1), 30 * 365 + 7);
	/* 2000 is a leap year (divisible by 400): Feb 29 exists, Mar 1 is two days after Feb 28. */
	ck_assert_int_eq(nsc_days_from_civil(2000, 3, 1) - nsc_days_from_civil(2000, 2, 28), 2);
	/* 1900 is not (divisible by 100). */
	ck_assert_int_eq(nsc_days_from_civil(1900, 3, 1) - nsc_days_from_civil(1900, 2, 28), 1);
	ck_assert_int_eq(nsc_days_from_civil(2024, 3, 1) - nsc_days_from_civil(2024, 2, 28), 2);
	ck_assert_int_eq(nsc_days_from_civil(2023, 3, 1) - nsc_days_from_civil(2023, 2, 28), 1);
	/* Year lengths. */
	ck_assert_int_eq(nsc_days_from_civil(2025, 1, 1) - nsc_days_from_civil(2024, 1, 1), 366);
	ck_assert_int_eq(nsc_days_from_civil(2024, 1, 1) - nsc_days_from_civil(2023, 1, 1), 365);
	/* 400-year cycle has 146097 days, also across year 0. */
	ck_assert_int_eq(nsc_days_from_civil(2000, 1, 1) - nsc_days_from_civil(1600, 1, 1), 146097);
	ck_assert_int_eq(nsc_days_from_civil(400, 1, 1) - nsc_days_from_civil(0, 1, 1), 146097);
	/* Consecutive days never skip across a whole century. */
	for (int64_t y = 1999; y <= 2101; y++) {
		ck_assert_int_eq(nsc_days_from_civil(y + 1, 1, 1) - nsc_days_from_civil(y, 12, 31), 1);
	}
	ck_assert_int_eq(nsc_days_from_civil(2024, 1, 1) * NSC_MS_PER_DAY + 10 * NSC_MS_PER_HOUR,
			 T_2024_0101_10);
}
END_TEST

START_TEST(test_format_known)
{
	assert_format(0, "1970-01-01T00:00:00.000Z");
	assert_format(T_2024_0101_10, "2024-01-01T10:00:00.000Z");
	assert_format(1613057404186, "2021-02-11T15:30:04.186Z");
	assert_format(946684800000, "2000-01-01T00:00:00.000Z");
	assert_format(951782400000, "2000-02-29T00:00:00.000Z");
	/* 2024-02-29T12:34:56.789Z */
	assert_format(1709210096789, "2024-02-29T12:34:56.789Z");
	assert_format(1709251199999, "2024-02-29T23:59:59.999Z");
	assert_format(1709251200000, "2024-03-01T00:00:00.000Z");
	/* Around the DST switches in Europe and the US: UTC output is unaffected. */
	assert_format(1711846800000, "2024-03-31T01:00:00.000Z");
	assert_format(1710054000000, "2024-03-10T07:00:00.000Z");
	assert_format(1730595600000, "2024-11-03T01:00:00.000Z");
	assert_format(INT64_C(2147483647000), "2038-01-19T03:14:07.000Z");
}
END_TEST

START_TEST(test_format_negative)
{
	assert_format(-1, "1969-12-31T23:59:59.999Z");
	assert_format(-1000, "1969-12-31T23:59:59.000Z");
	assert_format(-1001, "1969-12-31T23:59:58.999Z");
	assert_format(-NSC_MS_PER_DAY, "1969-12-31T00:00:00.000Z");
	assert_format(-NSC_MS_PER_DAY - 1, "1969-12-30T23:59:59.999Z");
	assert_format(-86400001 + 1, "1969-12-31T00:00:00.000Z");
	assert_format(-2208988800000, "1900-01-01T00:00:00.000Z");
}
END_TEST

START_TEST(test_format_range)
{
	char buf[NSC_ISO_BUF];
	char small[NSC_ISO_MS_LEN];
	int64_t first = nsc_days_from_civil(0, 1, 1) * NSC_MS_PER_DAY;
	int64_t end = nsc_days_from_civil(10000, 1, 1) * NSC_MS_PER_DAY;

	assert_format(first, "0000-01-01T00:00:00.000Z");
	assert_format(end - 1, "9999-12-31T23:59:59.999Z");
	ck_assert_int_eq(nsc_time_format_iso(first - 1, buf, sizeof(buf)), NSC_ERR_RANGE);
	ck_assert_int_eq(nsc_time_format_iso(end, buf, sizeof(buf)), NSC_ERR_RANGE);
	ck_assert_int_eq(nsc_time_format_iso(INT64_MAX, buf, sizeof(buf)), NSC_ERR_RANGE);
	ck_assert_int_eq(nsc_time_format_iso(INT64_MIN, buf, sizeof(buf)), NSC_ERR_RANGE);
	/* One byte short of room for the terminator. */
	ck_assert_int_eq(nsc_time_format_iso(0, small, sizeof(small)), NSC_ERR_RANGE);
	ck_assert_int_eq(nsc_time_format_iso(0, buf, NSC_ISO_MS_LEN + 1), NSC_OK);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
}
END_TEST

START_TEST(test_parse_forms)
{
	/* Every accepted spelling of the same instant. */
	assert_parse("2024-01-01T10:00:00.000Z", T_2024_0101_10, 0);
	assert_parse("2024-01-01T10:00:00Z", T_2024_0101_10, 0);
	assert_parse("2024-01-01T10:00Z", T_2024_0101_10, 0);
	assert_parse("2024-01-01T10:00:00", T_2024_0101_10, 0);
	assert_parse("2024-01-01T10:00", T_2024_0101_10, 0);
	assert_parse("2024-01-01 10:00:00", T_2024_0101_10, 0);
	assert_parse("2024-01-01 10:00:00.000Z", T_2024_0101_10, 0);
	assert_parse("2024-01-01T11:00:00.000+01:00", T_2024_0101_10, 60);
	assert_parse("2024-01-01T11:00:00+0100", T_2024_0101_10, 60);
	assert_parse("2024-01-01T11:00:00+01", T_2024_0101_10, 60);
	assert_parse("2024-01-01T05:00:00-05:00", T_2024_0101_10, -300);
	assert_parse("2024-01-01T15:30:00+05:30", T_2024_0101_10, 330);
	assert_parse("2024-01-01T15:30:00+0530", T_2024_0101_10, 330);
	assert_parse("2024-01-01T10:00:00+00:00", T_2024_0101_10, 0);
	assert_parse("2024-01-01T10:00:00-00:00", T_2024_0101_10, 0);
	/* An offset that moves the instant into the previous day and year. */
	assert_parse("2024-01-01T01:00:00+10:00", T_2024_0101_10 - 19 * NSC_MS_PER_HOUR, 600);
	assert_parse("2023-12-31T23:00:00-11:00", T_2024_0101_10, -660);
}
END_TEST

START_TEST(test_parse_fraction)
{
	assert_parse("2024-01-01T10:00:00.1Z", T_2024_0101_10 + 100, 0);
	assert_parse("2024-01-01T10:00:00.12Z", T_2024_0101_10 + 120, 0);
	assert_parse("2024-01-01T10:00:00.123Z", T_2024_0101_10 + 123, 0);
	/* Microseconds and beyond are truncated, never rounded. */
	assert_parse("2024-01-01T10:00:00.123999Z", T_2024_0101_10 + 123, 0);
	assert_parse("2024-01-01T10:00:00.9999999999+01:00", T_2024_0101_10 - 3600000 + 999, 60);
	assert_parse("2024-01-01T10:00:00.000000Z", T_2024_0101_10, 0);
	assert_parse("2024-01-01T10:00:00.007", T_2024_0101_10 + 7, 0);
}
END_TEST

START_TEST(test_parse_calendar)
{
	/* Leap years. */
	assert_parse("2024-02-29T00:00:00Z", 1709164800000, 0);
	assert_parse("2000-02-29T00:00:00Z", 951782400000, 0);
	assert_parse("2000-01-01T00:00:00.000Z", 946684800000, 0);
	assert_parse("1970-01-01T00:00:00Z", 0, 0);
	assert_parse("1969-12-31T23:59:59.999Z", -1, 0);
	assert_parse("2021-02-11T15:30:04.186Z", 1613057404186, 0);
	assert_parse("2024-12-31T23:59:59.999Z",
		     nsc_days_from_civil(2025, 1, 1) * NSC_MS_PER_DAY - 1, 0);
	/* Local wall times that do not exist / are ambiguous in DST zones are plain instants here. */
	assert_parse("2024-03-31T02:30:00", 1711852200000, 0);
	assert_parse("2024-10-27T02:30:00", 1729996200000, 0);
}
END_TEST

START_TEST(test_parse_roundtrip)
{
	/* Every millisecond pattern over a spread of instants survives format -> parse. */
	static const int64_t samples[] = {
		0, -1, 1, 999, -999, T_2024_0101_10, 1709210096789, 951868799999, -2208988800001,
		253402300799999, -62167219200000,
	};
	char buf[NSC_ISO_BUF];

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		int64_t back = 0;
		int off = -1;

		ck_assert_int_eq(nsc_time_format_iso(samples[i], buf, sizeof(buf)), NSC_OK);
		ck_assert_int_eq(nsc_time_parse_iso(buf, &back, &off), NSC_OK);
		ck_assert_int_eq(back, samples[i]);
		ck_assert_int_eq(off, 0);
	}
	for (int64_t ms = T_2024_0101_10 - 5 * NSC_MS_PER_DAY; ms < T_2024_0101_10 + 400 * NSC_MS_PER_DAY;
	     ms += 7 * NSC_MS_PER_HOUR + 13 * NSC_MS_PER_MINUTE + 17 * NSC_MS_PER_SECOND + 19) {
		int64_t back = 0;

		ck_assert_int_eq(nsc_time_format_iso(ms, buf, sizeof(buf)), NSC_OK);
		ck_assert_int_eq(nsc_time_parse_iso(buf, &back, NULL), NSC_OK);
		ck_assert_int_eq(back, ms);
	}
}
END_TEST

START_TEST(test_parse_tz_independent)
{
	/* Parsing must not consult the process time zone. */
	int64_t a = 0, b = 0;

	ck_assert_int_eq(setenv("TZ", "America/New_York", 1), 0);
	ck_assert_int_eq(nsc_time_parse_iso("2024-07-01T12:00:00", &a, NULL), NSC_OK);
	ck_assert_int_eq(setenv("TZ", "Australia/Lord_Howe", 1), 0);
	ck_assert_int_eq(nsc_time_parse_iso("2024-07-01T12:00:00", &b, NULL), NSC_OK);
	ck_assert_int_eq(a, b);
	ck_assert_int_eq(a, nsc_days_from_civil(2024, 7, 1) * NSC_MS_PER_DAY + 12 * NSC_MS_PER_HOUR);
	assert_format(a, "2024-07-01T12:00:00.000Z");
	unsetenv("TZ");
}
END_TEST

START_TEST(test_parse_reject)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2024",
		"2024-01-01",              /* no time */
		"2024-01-01T",
		"2024-01-01T10",
		"2024-01-01T10:0",
		"2024-01-01T10:00:0",
		"2024-13-01T10:00:00Z",    /* month 13 */
		"2024-00-01T10:00:00Z",    /* month 0 */
		"2024-02-30T10:00:00Z",    /* Feb 30 */
		"2023-02-29T10:00:00Z",    /* not a leap year */
		"1900-02-29T10:00:00Z",    /* century, not a leap year */
		"2024-04-31T10:00:00Z",
		"2024-01-00T10:00:00Z",
		"2024-01-32T10:00:00Z",
		"2024-01-01T25:00:00Z",    /* hour 25 */
		"2024-01-01T24:00:00Z",
		"2024-01-01T10:60:00Z",
		"2024-01-01T10:00:60Z",
		"2024-01-01T10:00:00.Z",   /* fraction without digits */
		"2024-01-01T10:00:00ZZ",   /* trailing junk */
		"2024-01-01T10:00:00Z ",
		"2024-01-01T10:00:00.000Zjunk",
		"2024-01-01T10:00:00+1",
		"2024-01-01T10:00:00+01:0",
		"2024-01-01T10:00:00+010",
		"2024-01-01T10:00:00+01:00:00",
		"2024-01-01T10:00:00+25:00",
		"2024-01-01T10:00:00+01:60",
		"2024-01-01T10:00:00 +01:00",
		" 2024-01-01T10:00:00Z",
		"2024-1-01T10:00:00Z",
		"2024/01/01T10:00:00Z",
		"2024-01-01X10:00:00Z",
		"24-01-01T10:00:00Z",
		"1704103200000",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_reject(bad[i]);
	ck_assert_int_eq(nsc_time_parse_iso(NULL, &(int64_t){ 0 }, NULL), NSC_ERR_PARSE);
}
END_TEST

/* ---- trend ---- */

START_TEST(test_trend_table)
{
	static const char *const want[NSC_TREND_COUNT] = {
		"NONE",          "DoubleUp",   "SingleUp",   "FortyFiveUp",    "Flat",
		"FortyFiveDown", "SingleDown", "DoubleDown", "NOT COMPUTABLE", "RATE OUT OF RANGE",
	};

	for (int i = 0; i < NSC_TREND_COUNT; i++) {
		enum nsc_trend t = NSC_TREND_FLAT;
		char digit[2] = { (char)('0' + i), '\0' };

		ck_assert_str_eq(nsc_trend_direction((enum nsc_trend)i), want[i]);
		ck_assert(nsc_trend_parse(want[i], &t));
		ck_assert_int_eq(t, i);
		t = NSC_TREND_FLAT;
		ck_assert(nsc_trend_parse(digit, &t));
		ck_assert_int_eq(t, i);
	}
	ck_assert_int_eq(NSC_TREND_FLAT, 4);
	ck_assert_int_eq(NSC_TREND_RATE_OUT_OF_RANGE, 9);
	/* Out-of-range values do not index past the table. */
	ck_assert_str_eq(nsc_trend_direction((enum nsc_trend)10), "NONE");
	ck_assert_str_eq(nsc_trend_direction((enum nsc_trend)-1), "NONE");
}
END_TEST

START_TEST(test_trend_parse_spellings)
{
	enum nsc_trend t;

	ck_assert(nsc_trend_parse("flat", &t));
	ck_assert_int_eq(t, NSC_TREND_FLAT);
	ck_assert(nsc_trend_parse("SINGLEUP", &t));
	ck_assert_int_eq(t, NSC_TREND_SINGLE_UP);
	ck_assert(nsc_trend_parse("fortyFiveDown", &t));
	ck_assert_int_eq(t, NSC_TREND_FORTY_FIVE_DOWN);
	ck_assert(nsc_trend_parse("NotComputable", &t));
	ck_assert_int_eq(t, NSC_TREND_NOT_COMPUTABLE);
	ck_assert(nsc_trend_parse("not computable", &t));
	ck_assert_int_eq(t, NSC_TREND_NOT_COMPUTABLE);
	ck_assert(nsc_trend_parse("RateOutOfRange", &t));
	ck_assert_int_eq(t, NSC_TREND_RATE_OUT_OF_RANGE);
	ck_assert(nsc_trend_parse("rateoutofrange", &t));
	ck_assert_int_eq(t, NSC_TREND_RATE_OUT_OF_RANGE);
	ck_assert(nsc_trend_parse("NOTCOMPUTABLE", &t));
	ck_assert_int_eq(t, NSC_TREND_NOT_COMPUTABLE);
	ck_assert(nsc_trend_parse("rateoutofrange", &t));
	ck_assert_int_eq(t, NSC_TREND_RATE_OUT_OF_RANGE);
	t = NSC_TREND_FLAT;
	ck_assert(nsc_trend_parse("None", &t));
	ck_assert_int_eq(t, NSC_TREND_NONE);
	ck_assert(nsc_trend_parse("DoubleDown", &t));
	ck_assert_int_eq(t, NSC_TREND_DOUBLE_DOWN);

	static const char *const bad[] = {
		"", "10", "-1", "44", " 4", "4 ", "Up", "Flatt", "TripleUp", "Double Up", "Not-Computable",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = NSC_TREND_FLAT;
		ck_assert_msg(!nsc_trend_parse(bad[i], &t), "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(t, NSC_TREND_NONE);
	}
	t = NSC_TREND_FLAT;
	ck_assert(!nsc_trend_parse(NULL, &t));
	ck_assert_int_eq(t, NSC_TREND_NONE);
}
END_TEST

START_TEST(test_trend_rate)
{
	ck_assert_int_eq(nsc_trend_from_rate(3.0), NSC_TREND_DOUBLE_UP);
	ck_assert_int_eq(nsc_trend_from_rate(10.0), NSC_TREND_DOUBLE_UP);
	ck_assert_int_eq(nsc_trend_from_rate(2.999), NSC_TREND_SINGLE_UP);
	ck_assert_int_eq(nsc_trend_from_rate(2.0), NSC_TREND_SINGLE_UP);
	ck_assert_int_eq(nsc_trend_from_rate(1.999), NSC_TREND_FORTY_FIVE_UP);
	ck_assert_int_eq(nsc_trend_from_rate(1.0), NSC_TREND_FORTY_FIVE_UP);
	ck_assert_int_eq(nsc_trend_from_rate(0.999), NSC_TREND_FLAT);
	ck_assert_int_eq(nsc_trend_from_rate(0.0), NSC_TREND_FLAT);
	ck_assert_int_eq(nsc_trend_from_rate(-0.999), NSC_TREND_FLAT);
	ck_assert_int_eq(nsc_trend_from_rate(-1.0), NSC_TREND_FORTY_FIVE_DOWN);
	ck_assert_int_eq(nsc_trend_from_rate(-1.999), NSC_TREND_FORTY_FIVE_DOWN);
	ck_assert_int_eq(nsc_trend_from_rate(-2.0), NSC_TREND_SINGLE_DOWN);
	ck_assert_int_eq(nsc_trend_from_rate(-2.999), NSC_TREND_SINGLE_DOWN);
	ck_assert_int_eq(nsc_trend_from_rate(-3.0), NSC_TREND_DOUBLE_DOWN);
	ck_assert_int_eq(nsc_trend_from_rate(-30.0), NSC_TREND_DOUBLE_DOWN);
	ck_assert_int_eq(nsc_trend_from_rate(NAN), NSC_TREND_NOT_COMPUTABLE);
}
END_TEST

static Suite *timeutil_suite(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc = tcase_create("time");

	tcase_add_test(tc, test_days_from_civil);
	tcase_add_test(tc, test_format_known);
	tcase_add_test(tc, test_format_negative);
	tcase_add_test(tc, test_format_range);
	tcase_add_test(tc, test_parse_forms);
	tcase_add_test(tc, test_parse_fraction);
	tcase_add_test(tc, test_parse_calendar);
	tcase_add_test(tc, test_parse_roundtrip);
	tcase_add_test(tc, test_parse_tz_independent);
	tcase_add_test(tc, test_parse_reject);
	suite_add_tcase(s, tc);

	tc = tcase_create("trend");
	tcase_add_test(tc, test_trend_table);
	tcase_add_test(tc, test_trend_parse_spellings);
	tcase_add_test(tc, test_trend_rate);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(timeutil_suite)
