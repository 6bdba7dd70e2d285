/* SPDX-License-Identifier: MIT */
/*
 * Check suite for tzone: system zone files (tzdata, TZDIR set to
 * /usr/share/zoneinfo), TZif files this suite writes itself (v1, v2 with a
 * slim table and a footer, truncated and hostile ones), POSIX rules, fixed
 * offsets, and the machine's zone.
 *
 * Every expected instant is a literal derived by hand from
 * 2025-01-01T00:00Z = 1735689600 s and day counts (and cross-checked with
 * Python's zoneinfo), never computed by the code under test.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsc_check.h"
#include "tzone.h"

#define S INT64_C(1000) /* ms per second */
#define MIN (60 * S)
#define HOUR (3600 * S)

/* DST changes as UTC instants (ms). */
#define BERLIN_2025_SPRING INT64_C(1743296400000) /* 2025-03-30T01:00Z, +1 h -> +2 h */
#define BERLIN_2025_AUTUMN INT64_C(1761440400000) /* 2025-10-26T01:00Z, +2 h -> +1 h */
#define BERLIN_2026_SPRING INT64_C(1774746000000) /* 2026-03-29T01:00Z */
#define BERLIN_2026_AUTUMN INT64_C(1792890000000) /* 2026-10-25T01:00Z */
#define NY_2025_SPRING INT64_C(1741503600000)     /* 2025-03-09T07:00Z, -5 h -> -4 h */
#define NY_2025_AUTUMN INT64_C(1762063200000)     /* 2025-11-02T06:00Z, -4 h -> -5 h */
#define NY_2026_SPRING INT64_C(1772953200000)     /* 2026-03-08T07:00Z */
#define NY_2026_AUTUMN INT64_C(1793512800000)     /* 2026-11-01T06:00Z */
#define BERLIN_2060_SPRING INT64_C(2847661200000) /* 2060-03-28T01:00Z (last Sunday) */
#define BERLIN_2060_AUTUMN INT64_C(2866410000000) /* 2060-10-31T01:00Z */
#define NY_2060_SPRING INT64_C(2846473200000)     /* 2060-03-14T07:00Z (second Sunday) */
#define NY_2060_AUTUMN INT64_C(2867032800000)     /* 2060-11-07T06:00Z (first Sunday) */
#define SYDNEY_2025_AUTUMN INT64_C(1743868800000) /* 2025-04-05T16:00Z, +11 h -> +10 h */
#define SYDNEY_2025_SPRING INT64_C(1759593600000) /* 2025-10-04T16:00Z, +10 h -> +11 h */
#define SYDNEY_2060_AUTUMN INT64_C(2848233600000) /* 2060-04-03T16:00Z */
#define SYDNEY_2060_SPRING INT64_C(2863958400000) /* 2060-10-02T16:00Z */
#define ADELAIDE_2025_AUTUMN INT64_C(1743870600000) /* 2025-04-05T16:30Z, +10:30 -> +9:30 */
#define ADELAIDE_2025_SPRING INT64_C(1759595400000) /* 2025-10-04T16:30Z, +9:30 -> +10:30 */
#define JUNE_2025 INT64_C(1748736000000)          /* 2025-06-01T00:00Z */

static char tmpdir[64];

static void use_system_zones(void)
{
	ck_assert_int_eq(setenv("TZDIR", "/usr/share/zoneinfo", 1), 0);
}

static struct nsc_tz *load(const char *name)
{
	struct nsc_tz *tz = NULL;
	struct nsc_error err = {0};
	nsc_rc rc = nsc_tz_load(name, &tz, &err);

	ck_assert_msg(rc == NSC_OK, "%s: %s", name, err.msg);
	ck_assert_str_eq(nsc_tz_name(tz), name);
	return tz;
}

static struct nsc_tz *posix(const char *rule)
{
	struct nsc_tz *tz = NULL;
	struct nsc_error err = {0};

	ck_assert_msg(nsc_tz_from_posix(rule, &tz, &err) == NSC_OK, "%s: %s", rule, err.msg);
	return tz;
}

/* The offset is `before` until 1 ms before t and `after` from t on. */
static void assert_change(const struct nsc_tz *tz, int64_t t, int32_t before, int32_t after)
{
	int32_t b = nsc_tz_offset_at(tz, t - 1), a = nsc_tz_offset_at(tz, t);

	ck_assert_msg(b == before && a == after, "%s at %lld: %d -> %d, want %d -> %d",
		      nsc_tz_name(tz), (long long)t, b, a, before, after);
	/* And an hour away on either side, well clear of the change. */
	ck_assert_int_eq(nsc_tz_offset_at(tz, t - HOUR), before);
	ck_assert_int_eq(nsc_tz_offset_at(tz, t + HOUR), after);
}

static void assert_l2u(const struct nsc_tz *tz, int64_t local, enum nsc_tz_fold fold,
		       enum nsc_tz_kind want_kind, int64_t want_utc, int32_t want_off)
{
	int64_t utc = 0;
	int32_t off = 0;
	enum nsc_tz_kind kind = nsc_tz_local_to_utc(tz, local, fold, &utc, &off);

	ck_assert_msg(kind == want_kind && utc == want_utc && off == want_off,
		      "%s local %lld fold %d: kind %d utc %lld off %d, want %d %lld %d", nsc_tz_name(tz),
		      (long long)local, (int)fold, (int)kind, (long long)utc, off, (int)want_kind,
		      (long long)want_utc, want_off);
}

/*
 * Every 5 minutes of the wall-clock day around a change at UTC instant t
 * from offset b to a (s): before the change's wall-clock span the time is
 * L - b, after it L - a; inside it a gap maps with b (GAP, offset a) and an
 * overlap gives L - b (EARLIER) or L - a (LATER). Then offset_at of the
 * result must be the offset returned, and result + offset the wall clock.
 */
static void sweep_change(const struct nsc_tz *tz, int64_t t, int32_t b, int32_t a)
{
	int64_t lo = t + (a < b ? a : b) * S, hi = t + (a < b ? b : a) * S;
	int64_t day = t + b * S - 14 * HOUR;

	for (int64_t l = day; l <= day + 28 * HOUR; l += 5 * MIN) {
		for (int f = NSC_TZ_EARLIER; f <= NSC_TZ_LATER; f++) {
			if (l < lo) {
				assert_l2u(tz, l, f, NSC_TZ_UNIQUE, l - b * S, b);
			} else if (l >= hi) {
				assert_l2u(tz, l, f, NSC_TZ_UNIQUE, l - a * S, a);
			} else if (a > b) {
				assert_l2u(tz, l, f, NSC_TZ_GAP, l - b * S, a);
			} else {
				int32_t o = f == NSC_TZ_EARLIER ? b : a;
				assert_l2u(tz, l, f, NSC_TZ_AMBIGUOUS, l - o * S, o);
			}
			int64_t utc;
			int32_t off;
			enum nsc_tz_kind k = nsc_tz_local_to_utc(tz, l, f, &utc, &off);
			ck_assert_int_eq(nsc_tz_offset_at(tz, utc), off);
			ck_assert(utc + off * S == (k == NSC_TZ_GAP ? l + (a - b) * S : l));
		}
	}
}

/* A year's two changes: into summer time at `on`, out of it at `off`, exact and swept. */
static void check_year(const struct nsc_tz *tz, int64_t on, int64_t off, int32_t std, int32_t dst)
{
	assert_change(tz, on, std, dst);
	assert_change(tz, off, dst, std);
	sweep_change(tz, on, std, dst);
	sweep_change(tz, off, dst, std);
}

START_TEST(test_berlin_changes)
{
	use_system_zones();
	struct nsc_tz *tz = load("Europe/Berlin");

	check_year(tz, BERLIN_2025_SPRING, BERLIN_2025_AUTUMN, 3600, 7200);
	check_year(tz, BERLIN_2026_SPRING, BERLIN_2026_AUTUMN, 3600, 7200);
	/* The brief's examples: 02:30 on 2025-03-30 never happened -> 01:30Z (03:30 CEST). */
	assert_l2u(tz, BERLIN_2025_SPRING + 90 * MIN, NSC_TZ_EARLIER, NSC_TZ_GAP,
		   INT64_C(1743298200000), 7200);
	/* 02:30 on 2025-10-26 happened at 00:30Z (CEST) and at 01:30Z (CET). */
	assert_l2u(tz, BERLIN_2025_AUTUMN + 90 * MIN, NSC_TZ_EARLIER, NSC_TZ_AMBIGUOUS,
		   INT64_C(1761438600000), 7200);
	assert_l2u(tz, BERLIN_2025_AUTUMN + 90 * MIN, NSC_TZ_LATER, NSC_TZ_AMBIGUOUS,
		   INT64_C(1761442200000), 3600);
	/* Winter and summer, far from any change. */
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), 7200);
	ck_assert_int_eq(nsc_tz_offset_at(tz, INT64_C(1735689600000)), 3600);
	nsc_tz_free(tz);
}
END_TEST

START_TEST(test_new_york_changes)
{
	use_system_zones();
	struct nsc_tz *tz = load("America/New_York");

	check_year(tz, NY_2025_SPRING, NY_2025_AUTUMN, -18000, -14400);
	check_year(tz, NY_2026_SPRING, NY_2026_AUTUMN, -18000, -14400);
	/* 01:30 on 2025-11-02 happens at 05:30Z (EDT) and 06:30Z (EST). */
	assert_l2u(tz, NY_2025_AUTUMN - 4 * HOUR - 30 * MIN, NSC_TZ_EARLIER, NSC_TZ_AMBIGUOUS,
		   INT64_C(1762061400000), -14400);
	assert_l2u(tz, NY_2025_AUTUMN - 4 * HOUR - 30 * MIN, NSC_TZ_LATER, NSC_TZ_AMBIGUOUS,
		   INT64_C(1762065000000), -18000);
	nsc_tz_free(tz);
}
END_TEST

/* Beyond the file's table (Debian's run to 2037) the footer rule decides; it must match the rule alone. */
START_TEST(test_far_future_footer)
{
	use_system_zones();
	struct {
		const char *zone, *rule;
		int64_t spring, autumn;
		int32_t std, dst;
	} cases[] = {
		{"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3", BERLIN_2060_SPRING, BERLIN_2060_AUTUMN,
		 3600, 7200},
		{"America/New_York", "EST5EDT,M3.2.0,M11.1.0", NY_2060_SPRING, NY_2060_AUTUMN, -18000,
		 -14400},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_tz *file = load(cases[i].zone), *rule = posix(cases[i].rule);
		check_year(file, cases[i].spring, cases[i].autumn, cases[i].std, cases[i].dst);
		check_year(rule, cases[i].spring, cases[i].autumn, cases[i].std, cases[i].dst);
		for (int64_t t = cases[i].spring - 40 * 24 * HOUR; t < cases[i].autumn + 40 * 24 * HOUR;
		     t += 6 * HOUR + 7 * MIN)
			ck_assert_int_eq(nsc_tz_offset_at(file, t), nsc_tz_offset_at(rule, t));
		/* The rule also holds in 2025, where the file still has its table. */
		if (i == 0)
			check_year(rule, BERLIN_2025_SPRING, BERLIN_2025_AUTUMN, 3600, 7200);
		nsc_tz_free(file);
		nsc_tz_free(rule);
	}
}
END_TEST

START_TEST(test_southern_and_half_hours)
{
	use_system_zones();
	struct nsc_tz *syd = load("Australia/Sydney");
	struct nsc_tz *syd_rule = posix("AEST-10AEDT,M10.1.0,M4.1.0/3");
	struct nsc_tz *adl = load("Australia/Adelaide");
	struct nsc_tz *kol = load("Asia/Kolkata");

	check_year(syd, SYDNEY_2025_SPRING, SYDNEY_2025_AUTUMN, 36000, 39600);
	/* Summer time spans the new year down south. */
	ck_assert_int_eq(nsc_tz_offset_at(syd, INT64_C(1735689600000)), 39600);
	ck_assert_int_eq(nsc_tz_offset_at(syd_rule, INT64_C(1735689600000)), 39600);
	ck_assert_int_eq(nsc_tz_offset_at(syd_rule, JUNE_2025), 36000);
	check_year(syd, SYDNEY_2060_SPRING, SYDNEY_2060_AUTUMN, 36000, 39600);
	check_year(syd_rule, SYDNEY_2060_SPRING, SYDNEY_2060_AUTUMN, 36000, 39600);
	check_year(syd_rule, SYDNEY_2025_SPRING, SYDNEY_2025_AUTUMN, 36000, 39600);
	/* 02:30 on 2025-10-05 never happened: mapped with +10 h -> 2025-10-04T16:30Z. */
	assert_l2u(syd, SYDNEY_2025_SPRING + 630 * MIN, NSC_TZ_LATER, NSC_TZ_GAP,
		   INT64_C(1759595400000), 39600);

	check_year(adl, ADELAIDE_2025_SPRING, ADELAIDE_2025_AUTUMN, 34200, 37800);

	ck_assert_int_eq(nsc_tz_offset_at(kol, JUNE_2025), 19800);
	ck_assert_int_eq(nsc_tz_offset_at(kol, INT64_C(1735689600000)), 19800);
	/* 05:30 on 2025-06-01 in India is midnight UTC. */
	assert_l2u(kol, JUNE_2025 + 330 * MIN, NSC_TZ_EARLIER, NSC_TZ_UNIQUE, JUNE_2025, 19800);
	nsc_tz_free(syd);
	nsc_tz_free(syd_rule);
	nsc_tz_free(adl);
	nsc_tz_free(kol);
}
END_TEST

START_TEST(test_utc_and_fixed)
{
	use_system_zones();
	struct nsc_tz *utc = load("UTC");
	struct nsc_tz *tz = NULL;

	ck_assert_int_eq(nsc_tz_offset_at(utc, JUNE_2025), 0);
	ck_assert_int_eq(nsc_tz_offset_at(utc, -INT64_C(5364662400000)), 0);
	assert_l2u(utc, JUNE_2025, NSC_TZ_LATER, NSC_TZ_UNIQUE, JUNE_2025, 0);
	nsc_tz_free(utc);

	ck_assert_int_eq(nsc_tz_fixed(7200, &tz), NSC_OK);
	ck_assert_str_eq(nsc_tz_name(tz), "UTC+02:00");
	ck_assert_int_eq(nsc_tz_offset_at(tz, BERLIN_2025_AUTUMN), 7200);
	assert_l2u(tz, JUNE_2025, NSC_TZ_EARLIER, NSC_TZ_UNIQUE, JUNE_2025 - 2 * HOUR, 7200);
	nsc_tz_free(tz);

	ck_assert_int_eq(nsc_tz_fixed(-12600, &tz), NSC_OK);
	ck_assert_str_eq(nsc_tz_name(tz), "UTC-03:30");
	assert_l2u(tz, JUNE_2025, NSC_TZ_EARLIER, NSC_TZ_UNIQUE, JUNE_2025 + 210 * MIN, -12600);
	nsc_tz_free(tz);

	ck_assert_int_eq(nsc_tz_fixed(0, &tz), NSC_OK);
	ck_assert_str_eq(nsc_tz_name(tz), "UTC");
	nsc_tz_free(tz);
	ck_assert_int_eq(nsc_tz_fixed(24 * 3600 + 1, &tz), NSC_ERR_RANGE);
	ck_assert_ptr_null(tz);

	tz = posix("<+0330>-3:30");
	ck_assert_str_eq(nsc_tz_name(tz), "<+0330>-3:30");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), 12600);
	assert_l2u(tz, JUNE_2025, NSC_TZ_EARLIER, NSC_TZ_UNIQUE, JUNE_2025 - 210 * MIN, 12600);
	nsc_tz_free(tz);
}
END_TEST

START_TEST(test_posix_forms)
{
	/* Thursday 26:00 is Friday 02:00 (v3 hours beyond 24): 2025-03-28T00:00Z. */
	struct nsc_tz *tz = posix("IST-2IDT,M3.4.4/26,M10.5.0");
	assert_change(tz, INT64_C(1743120000000), 7200, 10800);
	assert_change(tz, INT64_C(1761433200000), 10800, 7200); /* 2025-10-26 02:00 IDT = 25th 23:00Z */
	nsc_tz_free(tz);

	/* Negative times: 23:00 the day before, local -2 h -> 2025-03-30T01:00Z. */
	tz = posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	assert_change(tz, BERLIN_2025_SPRING, -7200, -3600);
	assert_change(tz, BERLIN_2025_AUTUMN, -3600, -7200);
	sweep_change(tz, BERLIN_2025_SPRING, -7200, -3600);
	nsc_tz_free(tz);

	/* Jn never counts Feb 29: J60 is March 1 in 2024 and 2023; J300 is 2024-10-27 (ends at 00:00 DST). */
	tz = posix("STD0DST,J60/0,J300/0");
	assert_change(tz, INT64_C(1709251200000), 0, 3600);
	assert_change(tz, INT64_C(1677628800000), 0, 3600);
	assert_change(tz, INT64_C(1729983600000), 3600, 0);
	nsc_tz_free(tz);

	/* n counts from 0 with Feb 29: 59 is 2024-02-29 but 2023-03-01. */
	tz = posix("STD0DST,59/0,300/0");
	assert_change(tz, INT64_C(1709164800000), 0, 3600);
	assert_change(tz, INT64_C(1677628800000), 0, 3600);
	nsc_tz_free(tz);

	/* Summer time all year: each end (Dec 31 25:00 EDT) meets the next start (Jan 1 00:00 EST). */
	tz = posix("EST5EDT,0/0,J365/25");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), -14400);
	ck_assert_int_eq(nsc_tz_offset_at(tz, INT64_C(1735707600000) - 1), -14400); /* 2025-01-01T05:00Z */
	ck_assert_int_eq(nsc_tz_offset_at(tz, INT64_C(1735707600000)), -14400);
	assert_l2u(tz, JUNE_2025, NSC_TZ_LATER, NSC_TZ_UNIQUE, JUNE_2025 + 4 * HOUR, -14400);
	nsc_tz_free(tz);

	/* An explicit summer offset two hours ahead. */
	tz = posix("AAA3BBB1,M3.2.0,M11.1.0");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), -3600);
	ck_assert_int_eq(nsc_tz_offset_at(tz, INT64_C(1735689600000)), -10800);
	nsc_tz_free(tz);

	const char *bad[] = {"",
			     "CET",
			     "CE-1",
			     "CET-1CEST",
			     "CET-1CEST,M3.5.0",
			     "CET-1CEST,M13.5.0,M10.5.0/3",
			     "CET-1CEST,M3.6.0,M10.5.0/3",
			     "CET-1CEST,M3.5.7,M10.5.0/3",
			     "CET-1CEST,M3.5.0,M10.5.0/168",
			     "CET-1CEST,J0,J300",
			     "CET-1CEST,366,300",
			     "CET-25",
			     "CET-1:60",
			     "<AB>-1",
			     "<+03-3",
			     "CET-1CEST,M3.5.0,M10.5.0/3x",
			     ",M3.5.0,M10.5.0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nsc_error err = {0};
		tz = (struct nsc_tz *)1;
		ck_assert_msg(nsc_tz_from_posix(bad[i], &tz, &err) == NSC_ERR_CONFIG, "accepted '%s'",
			      bad[i]);
		ck_assert_ptr_null(tz);
		ck_assert_ptr_nonnull(strstr(err.msg, "not a POSIX TZ rule"));
	}
}
END_TEST

/* ---- TZif files written here ---- */

struct buf {
	unsigned char b[8192];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (n == 0) /* p may be NULL then, which memcpy does not allow */
		return;
	ck_assert(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_be(struct buf *b, uint64_t v, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned char c = (unsigned char)(v >> (8 * (bytes - 1 - i)));
		put(b, &c, 1);
	}
}

struct zone_spec {
	size_t ntimes;
	const int64_t *times;
	const unsigned char *idx;
	size_t ntypes;
	const int32_t *utoff;
	const unsigned char *isdst;
	size_t nleap; /* leap-second records, to be skipped */
};

/* One header and data block; tsize 4 or 8. */
static void put_block(struct buf *b, char version, size_t tsize, const struct zone_spec *z)
{
	static const unsigned char zero[15];

	put(b, "TZif", 4);
	put(b, &version, 1);
	put(b, zero, 15);
	put_be(b, z->ntypes, 4); /* isutcnt */
	put_be(b, z->ntypes, 4); /* isstdcnt */
	put_be(b, z->nleap, 4);
	put_be(b, z->ntimes, 4);
	put_be(b, z->ntypes, 4);
	put_be(b, 4, 4); /* charcnt: "ABC\0" */
	for (size_t i = 0; i < z->ntimes; i++)
		put_be(b, (uint64_t)z->times[i], tsize);
	put(b, z->idx, z->ntimes);
	for (size_t i = 0; i < z->ntypes; i++) {
		put_be(b, (uint32_t)z->utoff[i], 4);
		put(b, &z->isdst[i], 1);
		put_be(b, 0, 1);
	}
	put(b, "ABC", 4);
	for (size_t i = 0; i < z->nleap; i++) {
		put_be(b, (uint64_t)(78796800 + 15778800 * (int64_t)i), tsize);
		put_be(b, i + 1, 4);
	}
	for (size_t i = 0; i < 2 * z->ntypes; i++)
		put_be(b, 0, 1);
}

static void write_zone(const char *name, const struct buf *b)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b->b, 1, b->n, f), b->n);
	ck_assert_int_eq(fclose(f), 0);
}

/* A "slim" Berlin: LMT, then 1996's two changes, then the footer alone. */
static const int64_t slim_times[] = {828234000, 846378000}; /* 1996-03-31T01:00Z, 1996-10-27T01:00Z */
static const unsigned char slim_idx[] = {2, 1};
static const int32_t slim_off[] = {3208, 3600, 7200};
static const unsigned char slim_dst[] = {0, 0, 1};
static const struct zone_spec slim = {2, slim_times, slim_idx, 3, slim_off, slim_dst, 2};
/* A decoy v1 block: a reader that used it would see +05:00 forever. */
static const int32_t decoy_off[] = {18000};
static const unsigned char decoy_dst[] = {0};
static const struct zone_spec decoy = {0, NULL, NULL, 1, decoy_off, decoy_dst, 1};

static void build_v2(struct buf *b, char version, const char *footer)
{
	b->n = 0;
	put_block(b, version, 4, &decoy);
	put_block(b, version, 8, &slim);
	put(b, "\n", 1);
	put(b, footer, strlen(footer));
	put(b, "\n", 1);
}

static void setup_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_tzone.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(setenv("TZDIR", tmpdir, 1), 0);
}

static void teardown_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_slim_file_versions)
{
	static const char versions[] = {'2', '3', '4'};
	struct buf b;

	for (size_t v = 0; v < sizeof(versions); v++) {
		build_v2(&b, versions[v], "CET-1CEST,M3.5.0,M10.5.0/3");
		write_zone("Slim", &b);
		struct nsc_tz *tz = load("Slim");
		/* Type 0 (LMT +0:53:28) before the first transition, as RFC 8536 says. */
		ck_assert_int_eq(nsc_tz_offset_at(tz, -INT64_C(5364662400000)), 3208);
		ck_assert_int_eq(nsc_tz_offset_at(tz, 828234000 * S - 1), 3208);
		ck_assert_int_eq(nsc_tz_offset_at(tz, 828234000 * S), 7200);
		/* The last transition, then the footer from there on. */
		assert_change(tz, 846378000 * S, 7200, 3600);
		check_year(tz, BERLIN_2025_SPRING, BERLIN_2025_AUTUMN, 3600, 7200);
		check_year(tz, BERLIN_2060_SPRING, BERLIN_2060_AUTUMN, 3600, 7200);
		nsc_tz_free(tz);
	}

	/* No footer rule: the last type stays. */
	build_v2(&b, '2', "");
	write_zone("NoRule", &b);
	struct nsc_tz *tz = load("NoRule");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), 3600);
	nsc_tz_free(tz);
}
END_TEST

START_TEST(test_v1_file)
{
	struct buf b = {.n = 0};
	static const int64_t times[] = {-1, 638326800}; /* 32-bit times, one before the epoch */
	static const unsigned char idx[] = {1, 0};
	static const int32_t off[] = {-18000, -14400};
	static const unsigned char dst[] = {0, 1};
	static const struct zone_spec z = {2, times, idx, 2, off, dst, 3};

	put_block(&b, '\0', 4, &z);
	write_zone("Old", &b);
	struct nsc_tz *tz = load("Old");
	ck_assert_int_eq(nsc_tz_offset_at(tz, -2 * S), -18000);
	ck_assert_int_eq(nsc_tz_offset_at(tz, -1 * S), -14400);
	ck_assert_int_eq(nsc_tz_offset_at(tz, 638326800 * S), -18000);
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), -18000);
	nsc_tz_free(tz);
}
END_TEST

static void assert_refused(const char *name)
{
	struct nsc_tz *tz = (struct nsc_tz *)1;
	struct nsc_error err = {0};
	char want[300];

	ck_assert_msg(nsc_tz_load(name, &tz, &err) == NSC_ERR_CONFIG, "accepted '%s'", name);
	ck_assert_ptr_null(tz);
	snprintf(want, sizeof(want), "unknown time zone '%s'", name);
	ck_assert_msg(strstr(err.msg, want), "'%s': %s", name, err.msg);
}

START_TEST(test_truncated_and_hostile)
{
	struct buf good, b;

	build_v2(&good, '2', "CET-1CEST,M3.5.0,M10.5.0/3");
	/* Every proper prefix of a valid file is refused (the footer's newline is last). */
	for (size_t n = 0; n < good.n; n++) {
		b = good;
		b.n = n;
		write_zone("Cut", &b);
		assert_refused("Cut");
	}
	write_zone("Cut", &good);
	nsc_tz_free(load("Cut"));

	/* A cut system file, too. */
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	ck_assert_ptr_nonnull(f);
	b.n = fread(b.b, 1, sizeof(b.b), f);
	fclose(f);
	ck_assert_uint_gt(b.n, 1000);
	b.n /= 2;
	write_zone("HalfBerlin", &b);
	assert_refused("HalfBerlin");

	/* Offsets of fields in the 64-bit block's header. */
	size_t h2 = 44 + 0 * 5 + 1 * 6 + 4 + 1 * 8 + 2; /* after the decoy v1 block */
	struct {
		size_t at;
		unsigned char byte;
	} pokes[] = {
		{0, 'X'},                        /* magic */
		{28 + 3, 2},                     /* v1 leapcnt: the skip misses the second header */
		{4, '1'},                        /* version */
		{h2 + 32, 0xff},                 /* timecnt huge */
		{h2 + 28, 0x7f},                 /* leapcnt huge */
		{h2 + 36 + 3, 0},                /* typecnt 0 */
		{h2 + 20 + 3, 1},                /* isutcnt neither 0 nor typecnt */
		{h2 + 44 + 16, 3},               /* a type index beyond the types */
		{h2 + 44 + 4, 0x7f},             /* first time after the second */
		{h2 + 44 + 18 + 4, 2},           /* isdst not 0 or 1 */
		{h2 + 44 + 18 + 5, 4},           /* designation index beyond the characters */
		{h2 + 44 + 18, 0x7f},            /* offset beyond 26 hours */
		{good.n - 1, 'x'},               /* footer without its closing newline */
		{good.n - 2, '?'},               /* footer not a rule */
	};
	for (size_t i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
		b = good;
		b.b[pokes[i].at] = pokes[i].byte;
		write_zone("Poked", &b);
		struct nsc_tz *tz = NULL;
		ck_assert_msg(nsc_tz_load("Poked", &tz, NULL) == NSC_ERR_CONFIG, "poke %zu accepted", i);
	}
	/* Any single byte changed: loaded or refused, never read out of bounds (run under ASan). */
	static const unsigned char values[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '\n'};
	for (size_t at = 0; at < good.n; at++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			b = good;
			b.b[at] = values[v];
			write_zone("Poked", &b);
			struct nsc_tz *tz = NULL;
			nsc_rc rc = nsc_tz_load("Poked", &tz, NULL);
			ck_assert_msg(rc == NSC_OK || rc == NSC_ERR_CONFIG, "byte %zu: %d", at, (int)rc);
			if (tz) {
				int64_t u;
				int32_t o;
				(void)nsc_tz_offset_at(tz, JUNE_2025);
				(void)nsc_tz_local_to_utc(tz, JUNE_2025, NSC_TZ_LATER, &u, &o);
			}
			nsc_tz_free(tz);
		}
	}
	/* A valid start, then padding beyond the size cap. */
	char path[128];
	snprintf(path, sizeof(path), "%s/Huge", tmpdir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(good.b, 1, good.n, f), good.n);
	ck_assert_int_eq(fseek(f, NSC_TZ_FILE_MAX, SEEK_SET), 0);
	ck_assert_int_eq(fputc('\n', f), '\n');
	ck_assert_int_eq(fclose(f), 0);
	assert_refused("Huge");
}
END_TEST

START_TEST(test_names_refused)
{
	use_system_zones();
	const char *bad[] = {"../../etc/passwd", "Europe/../Europe/Berlin", "/usr/share/zoneinfo/UTC",
			     "Europe/Ber lin", "Europe/Berlin;", "Europe\\Berlin", "", "Europe",
			     "Nowhere/City", "Europe/Berlin.bak"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i]);
	/* Names with '+', '-', '_' and digits are fine. */
	struct nsc_tz *tz = load("Etc/GMT+5");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), -18000);
	nsc_tz_free(tz);
	tz = load("America/Port-au-Prince");
	nsc_tz_free(tz);
}
END_TEST

static struct nsc_tz *local_from(const char *tz_env, const char *path)
{
	struct nsc_tz *tz = NULL;
	struct nsc_error err = {0};

	ck_assert_msg(nsc_tz_load_local_from(tz_env, path, &tz, &err) == NSC_OK, "%s", err.msg);
	return tz;
}

START_TEST(test_load_local)
{
	char link[128], copy[128];
	struct buf b;

	use_system_zones();
	struct nsc_tz *tz = NULL;
	ck_assert_int_eq(setenv("TZ", ":America/New_York", 1), 0);
	ck_assert_int_eq(nsc_tz_load_local(&tz, NULL), NSC_OK);
	ck_assert_str_eq(nsc_tz_name(tz), "America/New_York");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), -14400);
	nsc_tz_free(tz);
	ck_assert_int_eq(setenv("TZ", "Europe/Berlin", 1), 0);
	ck_assert_int_eq(nsc_tz_load_local(&tz, NULL), NSC_OK);
	ck_assert_str_eq(nsc_tz_name(tz), "Europe/Berlin");
	nsc_tz_free(tz);
	ck_assert_int_eq(unsetenv("TZ"), 0);

	tz = local_from("CET-1CEST,M3.5.0,M10.5.0/3", "/nonexistent");
	assert_change(tz, BERLIN_2025_SPRING, 3600, 7200);
	nsc_tz_free(tz);

	tz = local_from(NULL, "/nonexistent/localtime");
	ck_assert_str_eq(nsc_tz_name(tz), "UTC");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), 0);
	nsc_tz_free(tz);

	snprintf(link, sizeof(link), "%s/localtime", tmpdir);
	ck_assert_int_eq(symlink("/usr/share/zoneinfo/Australia/Sydney", link), 0);
	tz = local_from(NULL, link);
	ck_assert_str_eq(nsc_tz_name(tz), "Australia/Sydney");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), 36000);
	nsc_tz_free(tz);
	/* $TZ naming no zone falls back to the file; an empty one too. */
	tz = local_from("Nowhere/City", link);
	ck_assert_str_eq(nsc_tz_name(tz), "Australia/Sydney");
	nsc_tz_free(tz);
	tz = local_from("", link);
	ck_assert_str_eq(nsc_tz_name(tz), "Australia/Sydney");
	nsc_tz_free(tz);

	build_v2(&b, '2', "CET-1CEST,M3.5.0,M10.5.0/3");
	write_zone("copy", &b);
	snprintf(copy, sizeof(copy), "%s/copy", tmpdir);
	tz = local_from(NULL, copy);
	ck_assert_str_eq(nsc_tz_name(tz), "localtime");
	ck_assert_int_eq(nsc_tz_offset_at(tz, JUNE_2025), 7200);
	nsc_tz_free(tz);

	/* Present but broken is an error, not UTC. */
	b.n = 10;
	write_zone("copy", &b);
	struct nsc_error err = {0};
	ck_assert_int_eq(nsc_tz_load_local_from(NULL, copy, &tz, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown time zone 'localtime'"));
}
END_TEST

static Suite *tzone_suite(void)
{
	Suite *s = suite_create("tzone");
	TCase *sys = tcase_create("system zones");
	TCase *files = tcase_create("own files");

	tcase_add_test(sys, test_berlin_changes);
	tcase_add_test(sys, test_new_york_changes);
	tcase_add_test(sys, test_far_future_footer);
	tcase_add_test(sys, test_southern_and_half_hours);
	tcase_add_test(sys, test_utc_and_fixed);
	tcase_add_test(sys, test_posix_forms);
	tcase_add_test(sys, test_names_refused);
	suite_add_tcase(s, sys);
	tcase_add_checked_fixture(files, setup_tmp, teardown_tmp);
	tcase_add_test(files, test_slim_file_versions);
	tcase_add_test(files, test_v1_file);
	tcase_add_test(files, test_truncated_and_hostile);
	tcase_add_test(files, test_load_local);
	suite_add_tcase(s, files);
	return s;
}

NSC_CHECK_MAIN(tzone_suite)
