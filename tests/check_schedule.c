/* SPDX-License-Identifier: MIT */
/* The cycle's schedule: alignment to the sensor cadence and the policy per verdict. */
#include "config.h"

#include "engine/schedule.h"
#include "nsc_check.h"

#define MIN 60000LL
#define I (5 * MIN)

START_TEST(aligned_next_reading_plus_buffer)
{
	int64_t newest = 1704103200000LL;
	/* 10 s after a reading: wait for the next one, plus buffer and jitter. */
	ck_assert_int_eq(nsc_schedule_aligned(newest, newest + 10000, I, 18000, 5000), newest + I + 23000);
}
END_TEST

START_TEST(aligned_skips_missed_slots)
{
	int64_t newest = 1704103200000LL;
	/* Sensor silent for 17 minutes: the next slot after now, not one in the past. */
	int64_t now = newest + 17 * MIN;
	ck_assert_int_eq(nsc_schedule_aligned(newest, now, I, 18000, 0), newest + 4 * I + 18000);
	/* Exactly on a slot: that slot is not in the future, take the next. */
	now = newest + I + 18000;
	ck_assert_int_eq(nsc_schedule_aligned(newest, now, I, 18000, 0), newest + 2 * I + 18000);
}
END_TEST

START_TEST(aligned_never_polls_a_slot_twice)
{
	int64_t newest = 1704103200000LL;
	/* Polled at slot 1 + buffer + a small jitter; a larger jitter now must not give slot 1 again. */
	int64_t now = newest + I + 18000 + 1000;
	ck_assert_int_eq(nsc_schedule_aligned(newest, now, I, 18000, 17000), newest + 2 * I + 18000 + 17000);
}
END_TEST

START_TEST(aligned_without_reading)
{
	ck_assert_int_eq(nsc_schedule_aligned(0, 1000000, I, 18000, 700), 1000000 + I + 700);
}
END_TEST

START_TEST(aligned_property)
{
	struct nsc_rng rng;
	nsc_rng_seed(&rng, 3);
	for (int i = 0; i < 5000; i++) {
		int64_t newest = 1700000000000LL + nsc_rng_below(&rng, 1000000000);
		int64_t now = newest + nsc_rng_below(&rng, 6 * 3600 * 1000);
		int64_t jitter = nsc_rng_below(&rng, 18000);
		int64_t t = nsc_schedule_aligned(newest, now, I, 18000, jitter);
		ck_assert_int_gt(t, now);
		/* The first future slot: either the very next one, or the slot before is past. */
		ck_assert(t == newest + I + 18000 + jitter || t - jitter - I <= now);
		ck_assert_int_eq((t - newest - 18000 - jitter) % I, 0);
	}
}
END_TEST

static struct nsc_frame_result result(nsc_rc rc, int64_t newest)
{
	struct nsc_frame_result r = { .rc = rc, .verdict = nsc_rc_verdict(rc), .newest_entry_ms = newest };
	return r;
}

START_TEST(next_by_verdict)
{
	struct nsc_source_timing t = { .expected_interval_ms = I, .align_buffer_ms = 18000, .align_jitter_ms = 18000 };
	struct nsc_schedule_policy p;
	struct nsc_cycle_counters c = { 0 };
	struct nsc_rng rng;
	nsc_schedule_policy_for(&p, &t);
	nsc_rng_seed(&rng, 11);
	int64_t now = 1704103200000LL;

	struct nsc_frame_result r = result(NSC_ERR_RETRY, 0);
	int64_t d1 = nsc_schedule_next(&p, &c, &r, now, &rng);
	int64_t d2 = nsc_schedule_next(&p, &c, &r, now, &rng);
	ck_assert_uint_eq(c.failed_in_row, 2);
	ck_assert_int_ge(d1, 1 * MIN);
	ck_assert_int_le(d1, 1 * MIN * 12 / 10);
	ck_assert_int_ge(d2, 2 * MIN);

	r = result(NSC_OK, now - 60000);
	int64_t ok = nsc_schedule_next(&p, &c, &r, now, &rng);
	ck_assert_uint_eq(c.failed_in_row, 0);
	ck_assert_int_ge(ok, I - 60000 + 18000);
	ck_assert_int_lt(ok, I - 60000 + 36000);

	r = result(NSC_ERR_REJECTED, 0);
	int64_t l1 = nsc_schedule_next(&p, &c, &r, now, &rng);
	int64_t l2 = nsc_schedule_next(&p, &c, &r, now, &rng);
	ck_assert_uint_eq(c.rejected_in_row, 2);
	ck_assert_int_ge(l1, 30 * MIN);
	ck_assert_int_ge(l2, 60 * MIN);
	for (int i = 0; i < 20; i++)
		ck_assert_int_le(nsc_schedule_next(&p, &c, &r, now, &rng), 6 * 60 * MIN);

	r = result(NSC_ERR_DROP, 0);
	int64_t drop = nsc_schedule_next(&p, &c, &r, now, &rng);
	ck_assert_uint_eq(c.rejected_in_row, 0);
	ck_assert_int_ge(drop, I);
	ck_assert_int_lt(drop, I + 18000);

	r = result(NSC_ERR_CONFIG, 0);
	ck_assert_int_eq(nsc_schedule_next(&p, &c, &r, now, &rng), -1);
}
END_TEST

static Suite *schedule_suite(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("schedule");
	tcase_add_test(tc, aligned_next_reading_plus_buffer);
	tcase_add_test(tc, aligned_skips_missed_slots);
	tcase_add_test(tc, aligned_never_polls_a_slot_twice);
	tcase_add_test(tc, aligned_without_reading);
	tcase_add_test(tc, aligned_property);
	tcase_add_test(tc, next_by_verdict);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(schedule_suite)
