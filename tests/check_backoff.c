/* SPDX-License-Identifier: MIT */
/* Backoff maths: nominal values, cap, jitter bounds, and the RNG. */
#include "config.h"

#include "engine/backoff.h"
#include "engine/schedule.h"
#include "nsc_check.h"

START_TEST(nominal_doubles_until_cap)
{
	struct nsc_backoff b = { .base_ms = 1000, .cap_ms = 10000, .factor = 2.0, .jitter = 0 };
	ck_assert_int_eq(nsc_backoff_nominal(&b, 0), 0);
	ck_assert_int_eq(nsc_backoff_nominal(&b, 1), 1000);
	ck_assert_int_eq(nsc_backoff_nominal(&b, 2), 2000);
	ck_assert_int_eq(nsc_backoff_nominal(&b, 3), 4000);
	ck_assert_int_eq(nsc_backoff_nominal(&b, 4), 8000);
	ck_assert_int_eq(nsc_backoff_nominal(&b, 5), 10000);
	ck_assert_int_eq(nsc_backoff_nominal(&b, 60), 10000);
	ck_assert_int_eq(nsc_backoff_nominal(&b, 4000000000u), 10000);
}
END_TEST

START_TEST(other_factor)
{
	struct nsc_backoff b = { .base_ms = 500, .cap_ms = 100000, .factor = 3.0, .jitter = 0 };
	ck_assert_int_eq(nsc_backoff_nominal(&b, 3), 4500);
	/* A factor below 1 would shrink delays; it is treated as 1. */
	struct nsc_backoff flat = { .base_ms = 500, .cap_ms = 100000, .factor = 0.5, .jitter = 0 };
	ck_assert_int_eq(nsc_backoff_nominal(&flat, 7), 500);
}
END_TEST

START_TEST(no_jitter_means_exact)
{
	struct nsc_backoff b = { .base_ms = 1000, .cap_ms = 10000, .factor = 2.0, .jitter = 0 };
	struct nsc_rng rng;
	nsc_rng_seed(&rng, 42);
	for (unsigned a = 1; a < 8; a++)
		ck_assert_int_eq(nsc_backoff_delay(&b, a, &rng), nsc_backoff_nominal(&b, a));
}
END_TEST

START_TEST(jitter_stays_between_nominal_and_cap)
{
	struct nsc_backoff b = { .base_ms = 1000, .cap_ms = 10000, .factor = 2.0, .jitter = 0.5 };
	struct nsc_rng rng;
	nsc_rng_seed(&rng, 7);
	for (unsigned a = 1; a <= 6; a++) {
		int64_t nominal = nsc_backoff_nominal(&b, a);
		int64_t hi = nominal * 3 / 2 > 10000 ? 10000 : nominal * 3 / 2;
		int64_t min_seen = INT64_MAX, max_seen = 0;
		for (int i = 0; i < 2000; i++) {
			int64_t d = nsc_backoff_delay(&b, a, &rng);
			ck_assert_int_ge(d, nominal);
			ck_assert_int_le(d, hi);
			if (d < min_seen)
				min_seen = d;
			if (d > max_seen)
				max_seen = d;
		}
		if (nominal < 10000) /* below the cap the jitter really spreads the delays */
			ck_assert_int_gt(max_seen - min_seen, (hi - nominal) / 2);
		else
			ck_assert_int_eq(max_seen, 10000);
	}
}
END_TEST

START_TEST(rng_is_deterministic_and_uniform_enough)
{
	struct nsc_rng a, b;
	nsc_rng_seed(&a, 99);
	nsc_rng_seed(&b, 99);
	for (int i = 0; i < 100; i++)
		ck_assert_uint_eq(nsc_rng_next(&a), nsc_rng_next(&b));
	double sum = 0;
	for (int i = 0; i < 10000; i++) {
		double u = nsc_rng_unit(&a);
		ck_assert(u >= 0.0 && u < 1.0);
		sum += u;
	}
	ck_assert(sum / 10000 > 0.45 && sum / 10000 < 0.55);
	for (int i = 0; i < 1000; i++) {
		int64_t v = nsc_rng_below(&a, 18000);
		ck_assert(v >= 0 && v < 18000);
	}
	ck_assert_int_eq(nsc_rng_below(&a, 0), 0);
}
END_TEST

START_TEST(engine_policies_have_documented_numbers)
{
	struct nsc_source_timing t = { .expected_interval_ms = 300000 };
	struct nsc_schedule_policy p;
	nsc_schedule_policy_for(&p, &t);
	const int64_t min = 60000;
	/* Failed frames: 1, 2, 4, 8 minutes, then 15 at most. */
	ck_assert_int_eq(nsc_backoff_nominal(&p.failure, 1), 1 * min);
	ck_assert_int_eq(nsc_backoff_nominal(&p.failure, 4), 8 * min);
	ck_assert_int_eq(nsc_backoff_nominal(&p.failure, 5), 15 * min);
	/* Rejected logins: 30 minutes, doubling, 6 hours at most. */
	ck_assert_int_eq(nsc_backoff_nominal(&p.lockout, 1), 30 * min);
	ck_assert_int_eq(nsc_backoff_nominal(&p.lockout, 2), 60 * min);
	ck_assert_int_eq(nsc_backoff_nominal(&p.lockout, 4), 240 * min);
	ck_assert_int_eq(nsc_backoff_nominal(&p.lockout, 5), 360 * min);
	ck_assert_int_eq(nsc_backoff_nominal(&p.lockout, 50), 360 * min);
}
END_TEST

static Suite *backoff_suite(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("backoff");
	tcase_add_test(tc, nominal_doubles_until_cap);
	tcase_add_test(tc, other_factor);
	tcase_add_test(tc, no_jitter_means_exact);
	tcase_add_test(tc, jitter_stays_between_nominal_and_cap);
	tcase_add_test(tc, rng_is_deterministic_and_uniform_enough);
	tcase_add_test(tc, engine_policies_have_documented_numbers);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(backoff_suite)
