/* SPDX-License-Identifier: MIT */
/*
 * The bridge's cycle over virtual days: cadence after successes, the
 * lockout guard after rejected logins, once-mode and fatal stops.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/bridge.h"
#include "fake_source.h"
#include "harness.h"
#include "nsc_check.h"

#define MIN 60000LL
#define HOUR (60 * MIN)

struct br {
	struct harness h;
	struct nsc_config cfg;
	struct nsc_bridge *b;
	int finished_calls;
	char hold_dir[64]; /* CONNECT_SPOOL_DIR for the lockout guard on disk; "" for none */
};

static void on_finished(void *arg, struct nsc_bridge *b)
{
	((struct br *)arg)->finished_calls++;
}

/* hold_dir: CONNECT_SPOOL_DIR for the lockout guard on disk; NULL keeps it in memory. */
static void br_init_held(struct br *t, bool once, enum nsc_log_level level,
			 const struct nsc_source_driver *drv, const char *hold_dir)
{
	memset(t, 0, sizeof(*t));
	if (hold_dir)
		snprintf(t->hold_dir, sizeof(t->hold_dir), "%s", hold_dir);
	harness_setup(&t->h, level);
	nsc_config_init(&t->cfg);
	t->cfg.lookback_ms = 48 * HOUR;
	/* The lockout guard stays in memory unless a test gives it a folder (hold_*). */
	free(t->cfg.spool_dir);
	t->cfg.spool_dir = t->hold_dir[0] ? strdup(t->hold_dir) : NULL;
	struct nsc_bridge_options o = { .once = once, .rng_seed = 17, .finished = on_finished, .finished_arg = t };
	struct nsc_error err;
	ck_assert_int_eq(nsc_bridge_new_with(t->h.loop, &t->cfg, t->h.log, &o, drv,
					     &fake_output_driver, &t->b, &err),
			 NSC_OK);
	ck_assert_ptr_nonnull(fake_source_last);
	ck_assert_int_eq(nsc_bridge_start(t->b), NSC_OK);
}

static void br_init_with(struct br *t, bool once, enum nsc_log_level level,
			 const struct nsc_source_driver *drv)
{
	br_init_held(t, once, level, drv, NULL);
}

static void br_init(struct br *t, bool once, enum nsc_log_level level)
{
	br_init_with(t, once, level, &fake_source_driver);
}

static void br_fini(struct br *t)
{
	nsc_bridge_free(t->b);
	nsc_config_free(&t->cfg);
	harness_teardown(&t->h);
}

START_TEST(polls_on_sensor_cadence)
{
	struct br t;
	br_init(&t, false, NSC_LOG_INFO);
	harness_run_for(&t.h, 2 * HOUR);
	/* One fetch at start, then one per reading slot at 5, 10 … 115 minutes: 1 + 23. */
	ck_assert_uint_eq(fake_source_last->fetch_calls, 24);
	ck_assert_uint_eq(fake_output_last->held, 24);
	/* Each poll comes 18..36 s after its reading slot, never before it. */
	int64_t to = fake_source_last->last_window.to_ms;
	int64_t after_slot = (to - HARNESS_START_MS) % (5 * MIN);
	ck_assert_int_ge(after_slot, 18000);
	ck_assert_int_lt(after_slot, 36000);
	ck_assert_uint_eq(fake_source_last->auth_calls, 3); /* login + refreshes at 50 and 100 min */
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_uint_eq(st->frames_ok, 24);
	ck_assert_uint_eq(st->stored[NSC_COLL_ENTRIES], 24);
	ck_assert_int_eq(t.finished_calls, 0);
	br_fini(&t);
}
END_TEST

START_TEST(instance_timing_sets_the_cadence)
{
	struct br t;
	br_init_with(&t, false, NSC_LOG_INFO, &fake_source_driver_fast);
	harness_run_for(&t.h, HOUR);
	/* The fake's readings are on a 5-minute grid, but it is polled every minute. */
	ck_assert_uint_ge(fake_source_last->fetch_calls, 59);
	ck_assert_uint_le(fake_source_last->fetch_calls, 60);
	br_fini(&t);
}
END_TEST

START_TEST(wrong_password_for_a_day_is_safe)
{
	struct br t;
	br_init(&t, false, NSC_LOG_INFO);
	for (int i = 0; i < FAKE_SCRIPT_MAX; i++)
		fake_script_push(&fake_source_last->auth, NSC_ERR_REJECTED);
	harness_run_for(&t.h, 24 * HOUR);
	unsigned attempts = fake_source_last->auth_calls;
	/* 0, 30 min, 1.5 h, 3.5 h, 7.5 h, 13.5 h, 19.5 h: at most 7 in a day, with jitter fewer. */
	ck_assert_uint_ge(attempts, 5);
	ck_assert_uint_le(attempts, 7);
	ck_assert_uint_eq(fake_source_last->fetch_calls, 0);
	/* One plain error message telling the user what to fix, not one per attempt. */
	ck_assert_int_eq(harness_count_lines(&t.h, "level=error"), 1);
	ck_assert_int_eq(harness_count_lines(&t.h, "check FAKE_PASSWORD"), 1);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=login_still_rejected"), (int)attempts - 1);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_uint_eq(st->frames_rejected, attempts);
	ck_assert_ptr_nonnull(strstr(st->last_error, "check FAKE_PASSWORD"));
	br_fini(&t);
}
END_TEST

START_TEST(login_flows_again_after_fix)
{
	struct br t;
	br_init(&t, false, NSC_LOG_INFO);
	fake_script_push(&fake_source_last->auth, NSC_ERR_REJECTED);
	fake_script_push(&fake_source_last->auth, NSC_ERR_REJECTED);
	/* Then the password is right. */
	harness_run_for(&t.h, 2 * HOUR);
	ck_assert_uint_eq(fake_source_last->auth_calls, 3);
	ck_assert_uint_gt(fake_output_last->held, 0);
	ck_assert_str_eq(nsc_bridge_stats(t.b)->last_error, "");
	br_fini(&t);
}
END_TEST

/* A bridge of the same settings started after a rejection, on the same clock. */
static void hold_restart(struct br *t, bool once)
{
	char dir[sizeof(t->hold_dir)];
	memcpy(dir, t->hold_dir, sizeof(dir));
	br_fini(t);
	br_init_held(t, once, NSC_LOG_INFO, &fake_source_driver, dir);
}

START_TEST(hold_survives_a_restart)
{
	struct br t;
	char made[] = "/tmp/nsc-hold-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(made));
	br_init_held(&t, false, NSC_LOG_INFO, &fake_source_driver, made);
	fake_script_push(&fake_source_last->auth, NSC_ERR_REJECTED);
	harness_run_for(&t.h, MIN);
	ck_assert_uint_eq(fake_source_last->auth_calls, 1);
	char path[128];
	snprintf(path, sizeof(path), "%s/login-hold-%s.json", t.hold_dir, fake_source_driver.name);
	ck_assert_int_eq(access(path, F_OK), 0);

	/* Restarted (systemd, the user): no login before the 30 minutes are over. */
	hold_restart(&t, false);
	harness_run_for(&t.h, 20 * MIN);
	ck_assert_uint_eq(fake_source_last->auth_calls, 0);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=login_held"), 1);
	ck_assert_ptr_nonnull(strstr(nsc_bridge_stats(t.b)->last_error, "check FAKE_PASSWORD"));
	harness_run_for(&t.h, 20 * MIN);
	ck_assert_uint_eq(fake_source_last->auth_calls, 1); /* after the wait, accepted */
	ck_assert_uint_gt(fake_output_last->held, 0);
	ck_assert_int_eq(access(path, F_OK), -1); /* the accepted login removed the hold */

	/* A once-run inside a hold ends rejected at once, without a login. */
	hold_restart(&t, false);
	fake_script_push(&fake_source_last->auth, NSC_ERR_REJECTED);
	harness_run_for(&t.h, MIN);
	hold_restart(&t, true);
	harness_run_for(&t.h, MIN);
	ck_assert_uint_eq(fake_source_last->auth_calls, 0);
	ck_assert_int_eq(t.finished_calls, 1);
	ck_assert_int_eq(nsc_rc_verdict(nsc_bridge_stats(t.b)->last_rc), NSC_VERDICT_REJECTED);

	char dir[sizeof(t.hold_dir)];
	memcpy(dir, t.hold_dir, sizeof(dir));
	br_fini(&t);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(failures_back_off_and_recover)
{
	struct br t;
	br_init(&t, false, NSC_LOG_INFO);
	/* Source down for 6 frames of 3 attempts each, then back. */
	for (int i = 0; i < 18; i++)
		fake_script_push(&fake_source_last->fetch, NSC_ERR_RETRY);
	harness_run_for(&t.h, 3 * HOUR);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_uint_eq(st->frames_failed, 6);
	ck_assert_uint_gt(st->frames_ok, 0);
	/* After recovery the reading at the end of the window is stored. */
	ck_assert_int_ge(st->newest_entry_ms, HARNESS_START_MS + 3 * HOUR - 5 * MIN);
	br_fini(&t);
}
END_TEST

START_TEST(vendor_hold_off_is_a_floor)
{
	struct br t;
	br_init(&t, false, NSC_LOG_INFO);
	fake_script_push(&fake_source_last->fetch, NSC_ERR_RETRY);
	fake_source_last->hold_off_ms = 7 * MIN; /* more than the first failure backoff (1 min) */
	harness_run_for(&t.h, 1000);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_uint_eq(st->frames_failed, 1);
	ck_assert_uint_eq(fake_source_last->fetch_calls, 1);
	ck_assert_int_eq(st->next_frame_in_ms, 7 * MIN);
	harness_run_for(&t.h, 7 * MIN - 2000);
	ck_assert_uint_eq(fake_source_last->fetch_calls, 1); /* not a moment early */
	harness_run_for(&t.h, 2000);
	ck_assert_uint_eq(fake_source_last->fetch_calls, 2);
	ck_assert_uint_eq(st->frames_ok, 1);
	br_fini(&t);
}
END_TEST

START_TEST(stop_during_a_hung_login_then_start_again)
{
	struct br t;
	br_init(&t, false, NSC_LOG_INFO);
	fake_source_last->auth_hangs = true;
	harness_run_for(&t.h, MIN);
	ck_assert(fake_source_last->auth_pending);
	ck_assert_int_eq(nsc_bridge_session(t.b)->state, NSC_SS_AUTHENTICATING);
	nsc_bridge_stop(t.b);
	ck_assert_uint_eq(fake_source_last->cancels, 1);
	ck_assert(!fake_source_last->auth_pending);
	/* The abandoned login is forgotten, so a new start logs in afresh. */
	ck_assert_int_eq(nsc_bridge_session(t.b)->state, NSC_SS_INACTIVE);
	fake_source_last->auth_hangs = false;
	ck_assert_int_eq(nsc_bridge_start(t.b), NSC_OK);
	harness_run_for(&t.h, MIN);
	ck_assert_uint_eq(fake_source_last->auth_calls, 2);
	ck_assert_uint_eq(nsc_bridge_stats(t.b)->frames_ok, 1);
	br_fini(&t);
}
END_TEST

START_TEST(poll_interval_setting_sets_the_cadence)
{
	struct br t;
	memset(&t, 0, sizeof(t));
	harness_setup(&t.h, NSC_LOG_INFO);
	nsc_config_init(&t.cfg);
	t.cfg.lookback_ms = 48 * HOUR;
	t.cfg.poll_interval_ms = 60000;
	struct nsc_bridge_options o = { .rng_seed = 17 };
	struct nsc_error err;
	ck_assert_int_eq(nsc_bridge_new_with(t.h.loop, &t.cfg, t.h.log, &o, &fake_source_driver,
					     &fake_output_driver, &t.b, &err),
			 NSC_OK);
	ck_assert_int_eq(nsc_bridge_start(t.b), NSC_OK);
	harness_run_for(&t.h, HOUR);
	ck_assert_uint_ge(fake_source_last->fetch_calls, 59);
	ck_assert_uint_le(fake_source_last->fetch_calls, 61);
	ck_assert_int_eq(fake_source_last->last_window.interval_ms, 60000);
	/* Buffer and jitter shrink to a tenth of the interval: each poll lands 0..12 s after its slot. */
	int64_t after_slot = (fake_source_last->last_window.to_ms - HARNESS_START_MS) % MIN;
	ck_assert_int_ge(after_slot, 6000);
	ck_assert_int_lt(after_slot, 12000);
	br_fini(&t);
}
END_TEST

START_TEST(once_mode_finishes_after_one_frame)
{
	struct br t;
	br_init(&t, true, NSC_LOG_INFO);
	harness_run_for(&t.h, HOUR);
	ck_assert_int_eq(t.finished_calls, 1);
	ck_assert(nsc_bridge_finished(t.b));
	ck_assert_uint_eq(fake_source_last->fetch_calls, 1);
	br_fini(&t);
}
END_TEST

START_TEST(fatal_stops_the_bridge)
{
	struct br t;
	br_init(&t, false, NSC_LOG_INFO);
	fake_script_push(&fake_output_last->write, NSC_ERR_CONFIG);
	harness_run_for(&t.h, HOUR);
	ck_assert_int_eq(t.finished_calls, 1);
	ck_assert_uint_eq(fake_source_last->fetch_calls, 1);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=bridge_stopped"), 1);
	br_fini(&t);
}
END_TEST

static Suite *bridge_suite(void)
{
	Suite *s = suite_create("bridge");
	TCase *tc = tcase_create("cycle");
	tcase_add_test(tc, polls_on_sensor_cadence);
	tcase_add_test(tc, instance_timing_sets_the_cadence);
	tcase_add_test(tc, wrong_password_for_a_day_is_safe);
	tcase_add_test(tc, hold_survives_a_restart);
	tcase_add_test(tc, login_flows_again_after_fix);
	tcase_add_test(tc, failures_back_off_and_recover);
	tcase_add_test(tc, vendor_hold_off_is_a_floor);
	tcase_add_test(tc, stop_during_a_hung_login_then_start_again);
	tcase_add_test(tc, poll_interval_setting_sets_the_cadence);
	tcase_add_test(tc, once_mode_finishes_after_one_frame);
	tcase_add_test(tc, fatal_stops_the_bridge);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(bridge_suite)
