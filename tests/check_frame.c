/* SPDX-License-Identifier: MIT */
/*
 * The fetch frame: one frame per verdict a step can return, with the
 * scripted source and the in-memory output, on a virtual clock.
 */
#include "config.h"

#include <string.h>

#include "engine/frame.h"
#include "fake_source.h"
#include "harness.h"
#include "nsc_check.h"

#define MIN 60000LL

struct fr {
	struct harness h;
	struct fake_source *src;
	struct fake_output *out;
	struct nsc_rng rng;
	struct nsc_session s;
	struct nsc_frame f;
	int done_calls;
	struct nsc_frame_result r;
	int64_t started_mono;
	int64_t done_mono;
};

static void fr_init(struct fr *t)
{
	memset(t, 0, sizeof(*t));
	harness_setup(&t->h, NSC_LOG_TRACE);
	struct nsc_source_env env = { .log = t->h.log, .loop = t->h.loop };
	void *sctx, *octx;
	ck_assert_int_eq(fake_source_driver.create(&env, &sctx, NULL), NSC_OK);
	ck_assert_int_eq(fake_output_driver.open(NULL, t->h.log, &octx, NULL), NSC_OK);
	t->src = sctx;
	t->out = octx;
	t->out->loop = t->h.loop;
	nsc_rng_seed(&t->rng, 5);
	nsc_session_init(&t->s, &fake_source_driver, sctx, &fake_source_driver.timing, t->h.loop, t->h.log);
	struct nsc_frame_deps d = {
		.loop = t->h.loop, .log = t->h.log, .rng = &t->rng, .session = &t->s,
		.source = &fake_source_driver, .source_ctx = sctx, .timing = &fake_source_driver.timing,
		.output = &fake_output_driver, .output_ctx = octx,
		.lookback_ms = 48 * 60 * MIN,
	};
	nsc_frame_init(&t->f, &d);
}

static void fr_fini(struct fr *t)
{
	nsc_frame_fini(&t->f);
	nsc_session_fini(&t->s);
	fake_output_driver.close(t->out);
	fake_source_driver.destroy(t->src);
	harness_teardown(&t->h);
}

static void on_done(void *arg, const struct nsc_frame_result *r)
{
	struct fr *t = arg;
	t->done_calls++;
	t->r = *r;
	t->done_mono = nsc_loop_mono_ms(t->h.loop);
	nsc_loop_stop(t->h.loop);
}

/* Runs one frame to its end (on_done stops the loop; an hour is the safety limit). */
static void run_frame(struct fr *t)
{
	t->started_mono = nsc_loop_mono_ms(t->h.loop);
	ck_assert_int_eq(nsc_frame_start(&t->f, on_done, t), NSC_OK);
	harness_run_for(&t->h, 60 * MIN);
	ck_assert_int_eq(t->done_calls, 1);
	ck_assert_int_eq(t->f.state, NSC_FS_DONE);
}

START_TEST(ok_stores_and_reports_newest)
{
	struct fr t;
	fr_init(&t);
	run_frame(&t);
	ck_assert_int_eq(t.r.rc, NSC_OK);
	ck_assert_int_eq(t.r.verdict, NSC_VERDICT_OK);
	ck_assert_uint_eq(t.r.attempts, 1);
	ck_assert_uint_eq(t.r.written.stored[NSC_COLL_ENTRIES], 1);
	ck_assert_int_eq(t.r.newest_entry_ms, HARNESS_START_MS);
	ck_assert_int_eq(t.r.new_sgv, 100);
	ck_assert_str_eq(t.r.new_direction, "Flat");
	/* The first gap goes back the whole lookback, not further. */
	ck_assert_int_eq(t.src->last_window.from_ms, HARNESS_START_MS - 48 * 60 * MIN);
	ck_assert_int_eq(t.src->last_window.to_ms, HARNESS_START_MS);
	fr_fini(&t);
}
END_TEST

START_TEST(gap_starts_at_last_known)
{
	struct fr t;
	fr_init(&t);
	t.out->lk.ms[NSC_COLL_ENTRIES] = HARNESS_START_MS - 20 * MIN;
	run_frame(&t);
	ck_assert_int_eq(t.src->last_window.from_ms, HARNESS_START_MS - 20 * MIN);
	fr_fini(&t);
}
END_TEST

START_TEST(retry_then_success_waits_between_attempts)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.src->fetch, NSC_ERR_RETRY);
	fake_script_push(&t.src->fetch, NSC_ERR_RETRY);
	run_frame(&t);
	ck_assert_int_eq(t.r.rc, NSC_OK);
	ck_assert_uint_eq(t.r.attempts, 3);
	ck_assert_uint_eq(t.src->fetch_calls, 3);
	ck_assert_uint_eq(t.src->auth_calls, 1); /* data failures reuse the session */
	/* Backoff 30 s then 60 s (plus at most 20 % jitter each). */
	int64_t waited = t.done_mono - t.started_mono;
	ck_assert_int_ge(waited, 90000);
	ck_assert_int_le(waited, 108000);
	fr_fini(&t);
}
END_TEST

START_TEST(retry_exhausted)
{
	struct fr t;
	fr_init(&t);
	for (int i = 0; i < 5; i++)
		fake_script_push(&t.src->fetch, NSC_ERR_RETRY);
	run_frame(&t);
	ck_assert_int_eq(t.r.verdict, NSC_VERDICT_RETRY);
	ck_assert_uint_eq(t.src->fetch_calls, 3); /* 1 + max_retries (2) */
	ck_assert_uint_eq(t.out->write_calls, 0);
	fr_fini(&t);
}
END_TEST

START_TEST(hold_off_ends_the_frame_without_retrying)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.src->fetch, NSC_ERR_RETRY);
	t.src->hold_off_ms = 120000; /* the vendor said Retry-After: 120 */
	run_frame(&t);
	ck_assert_int_eq(t.r.verdict, NSC_VERDICT_RETRY);
	ck_assert_uint_eq(t.src->fetch_calls, 1);
	ck_assert_int_eq(t.r.hold_off_ms, 120000);
	ck_assert_int_eq(t.src->hold_off_ms, 0); /* read once, cleared */
	ck_assert_int_eq(t.done_mono - t.started_mono, 0); /* no in-frame wait */
	fr_fini(&t);
}
END_TEST

START_TEST(window_carries_the_cadence)
{
	struct fr t;
	fr_init(&t);
	run_frame(&t);
	ck_assert_int_eq(t.src->last_window.interval_ms, 5 * MIN);
	ck_assert_int_eq(t.r.hold_off_ms, 0);
	fr_fini(&t);
}
END_TEST

START_TEST(auth_relogs_once)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.src->fetch, NSC_ERR_AUTH);
	run_frame(&t);
	ck_assert_int_eq(t.r.rc, NSC_OK);
	ck_assert_uint_eq(t.src->auth_calls, 2);
	ck_assert_uint_eq(t.src->drops, 1);
	ck_assert_uint_eq(t.src->fetch_calls, 2);
	/* Re-login is immediate, not after a backoff or the session timer. */
	ck_assert_int_lt(t.done_mono - t.started_mono, 1000);
	fr_fini(&t);
}
END_TEST

START_TEST(single_login_frame_gives_up_on_auth)
{
	/* doctor's probe: the login it made is the only one, even when the data call says unauthorized. */
	struct fr t;
	fr_init(&t);
	t.f.single_login = true;
	fake_script_push(&t.src->fetch, NSC_ERR_AUTH);
	run_frame(&t);
	ck_assert_int_eq(t.r.verdict, NSC_VERDICT_RETRY);
	ck_assert_uint_eq(t.src->auth_calls, 1);
	ck_assert_uint_eq(t.src->fetch_calls, 1);
	fr_fini(&t);
}
END_TEST

START_TEST(auth_twice_is_a_retry_verdict)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.src->fetch, NSC_ERR_AUTH);
	fake_script_push(&t.src->fetch, NSC_ERR_AUTH);
	run_frame(&t);
	ck_assert_int_eq(t.r.verdict, NSC_VERDICT_RETRY);
	ck_assert_uint_eq(t.src->auth_calls, 2); /* never a login loop */
	fr_fini(&t);
}
END_TEST

START_TEST(rejected_login_ends_frame_without_retry)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.src->auth, NSC_ERR_REJECTED);
	run_frame(&t);
	ck_assert_int_eq(t.r.verdict, NSC_VERDICT_REJECTED);
	ck_assert_uint_eq(t.src->auth_calls, 1);
	ck_assert_uint_eq(t.src->fetch_calls, 0);
	ck_assert_ptr_nonnull(strstr(t.r.message, "check FAKE_PASSWORD"));
	fr_fini(&t);
}
END_TEST

START_TEST(drop_is_not_retried)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.src->transform, NSC_ERR_DROP);
	run_frame(&t);
	ck_assert_int_eq(t.r.verdict, NSC_VERDICT_DROP);
	ck_assert_uint_eq(t.src->fetch_calls, 1);
	ck_assert_uint_eq(t.out->write_calls, 0);
	ck_assert_int_eq(harness_count_lines(&t.h, "scripted transform failure"), 1);
	fr_fini(&t);
}
END_TEST

START_TEST(fatal_from_output)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.out->write, NSC_ERR_CONFIG);
	run_frame(&t);
	ck_assert_int_eq(t.r.verdict, NSC_VERDICT_FATAL);
	ck_assert_uint_eq(t.out->write_calls, 1);
	fr_fini(&t);
}
END_TEST

START_TEST(output_outage_is_retried)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.out->write, NSC_ERR_IO);
	run_frame(&t);
	ck_assert_int_eq(t.r.rc, NSC_OK);
	ck_assert_uint_eq(t.out->write_calls, 2);
	ck_assert_uint_eq(t.out->held, 1);
	fr_fini(&t);
}
END_TEST

/* Running out of memory is temporary: retried after the backoff, not the end of the bridge. */
START_TEST(out_of_memory_is_retried)
{
	struct fr t;
	fr_init(&t);
	ck_assert_int_eq(nsc_rc_verdict(NSC_ERR_NOMEM), NSC_VERDICT_RETRY);
	fake_script_push(&t.src->transform, NSC_ERR_NOMEM);
	run_frame(&t);
	ck_assert_int_eq(t.r.rc, NSC_OK);
	ck_assert_uint_eq(t.r.attempts, 2);
	ck_assert_int_ge(t.src->fetch.at_ms[1] - t.src->fetch.at_ms[0], 30000);
	ck_assert_uint_eq(t.out->held, 1);
	fr_fini(&t);
}
END_TEST

START_TEST(login_outage_counts_as_attempt)
{
	struct fr t;
	fr_init(&t);
	fake_script_push(&t.src->auth, NSC_ERR_RETRY);
	run_frame(&t);
	ck_assert_int_eq(t.r.rc, NSC_OK);
	ck_assert_uint_eq(t.src->auth_calls, 2);
	ck_assert_uint_eq(t.r.attempts, 2);
	fr_fini(&t);
}
END_TEST


/* ---- every step x every verdict ---------------------------------------- */

static const enum nsc_frame_state matrix_steps[] = {
	NSC_FS_SESSION, NSC_FS_GAPS, NSC_FS_FETCHING, NSC_FS_TRANSFORMING, NSC_FS_PERSISTING,
};
static const nsc_rc matrix_codes[] = {
	NSC_ERR_RETRY, NSC_ERR_AUTH, NSC_ERR_REJECTED, NSC_ERR_DROP, NSC_ERR_CONFIG,
};
#define N_STEPS (sizeof(matrix_steps) / sizeof(matrix_steps[0]))
#define N_CODES (sizeof(matrix_codes) / sizeof(matrix_codes[0]))

/* The script of the step that fails (the fake driver's or the memory output's). */
static struct fake_script *script_for(struct fr *t, enum nsc_frame_state step)
{
	switch (step) {
	case NSC_FS_SESSION:
		return &t->src->auth;
	case NSC_FS_GAPS:
		return &t->out->last_known;
	case NSC_FS_FETCHING:
		return &t->src->fetch;
	case NSC_FS_TRANSFORMING:
		return &t->src->transform;
	case NSC_FS_PERSISTING:
		return &t->out->write;
	default:
		ck_abort_msg("no script for step %s", nsc_frame_state_name(step));
	}
	return NULL;
}

/*
 * The step fails every time it runs. Whatever the step and the verdict,
 * the frame ends, makes a bounded number of attempts, and an attempt after
 * a temporary failure comes no sooner than the backoff says (30 s, then
 * 60 s, each with at most 20 % jitter); only the vendor's AUTH earns one
 * immediate re-login.
 */
START_TEST(every_step_every_verdict)
{
	enum nsc_frame_state step = matrix_steps[_i / N_CODES];
	nsc_rc code = matrix_codes[_i % N_CODES];
	enum nsc_verdict v = nsc_rc_verdict(code);
	bool vendor = step == NSC_FS_FETCHING || step == NSC_FS_TRANSFORMING;
	struct fr t;
	fr_init(&t);
	struct fake_script *sc = script_for(&t, step);
	sc->always = code;
	run_frame(&t);

	unsigned want_attempts;
	enum nsc_verdict want_verdict;
	if (v == NSC_VERDICT_AUTH && vendor) {
		want_attempts = 2; /* one re-login, then a temporary failure */
		want_verdict = NSC_VERDICT_RETRY;
	} else if (v == NSC_VERDICT_RETRY || v == NSC_VERDICT_AUTH) {
		want_attempts = 3; /* 1 + max_retries */
		want_verdict = NSC_VERDICT_RETRY;
	} else {
		want_attempts = 1;
		want_verdict = v;
	}
	ck_assert_msg(t.r.attempts == want_attempts, "step %s verdict %s: %u attempts, want %u",
		      nsc_frame_state_name(step), nsc_verdict_name(v), t.r.attempts, want_attempts);
	ck_assert_int_eq(t.r.verdict, want_verdict);
	/* Each attempt reached the failing step exactly once. */
	unsigned step_calls = sc->calls;
	if (step == NSC_FS_GAPS)
		step_calls = t.out->last_known.calls; /* persist never ran, so all are gaps */
	ck_assert_uint_eq(step_calls, want_attempts);

	/* The time between attempts, on the virtual clock. */
	for (unsigned k = 1; k < want_attempts; k++) {
		int64_t gap = sc->at_ms[k] - sc->at_ms[k - 1];
		if (v == NSC_VERDICT_AUTH && vendor) {
			ck_assert_int_lt(gap, 1000); /* the re-login is immediate */
			continue;
		}
		int64_t nominal = k == 1 ? 30000 : 60000;
		ck_assert_msg(gap >= nominal && gap <= nominal * 12 / 10,
			      "step %s verdict %s: attempt %u came %lld ms after the one before",
			      nsc_frame_state_name(step), nsc_verdict_name(v), k + 1, (long long)gap);
	}
	/* Nothing stored by a frame that failed. */
	ck_assert_uint_eq(t.out->held, 0);
	fr_fini(&t);
}
END_TEST

/* The pure move table: for every state and verdict, a retry is never free. */
START_TEST(no_move_retries_without_waiting)
{
	for (int st = 0; st < NSC_FS_COUNT_; st++) {
		for (int v = NSC_VERDICT_OK; v <= NSC_VERDICT_FATAL; v++) {
			for (unsigned attempt = 0; attempt < 6; attempt++) {
				for (int re = 0; re < 2; re++) {
					enum nsc_frame_move m = nsc_frame_next_move(
						(enum nsc_frame_state)st, (enum nsc_verdict)v, attempt, 2,
						re != 0, 0);
					if (m == NSC_FRAME_BACKOFF) {
						/* A backoff is for a counted attempt, within the limit. */
						ck_assert_uint_ge(attempt, 1);
						ck_assert_uint_le(attempt, 2);
						ck_assert(v == NSC_VERDICT_RETRY || v == NSC_VERDICT_AUTH);
					}
					if (m == NSC_FRAME_RELOGIN) {
						/* Only once per frame, only for the vendor's AUTH. */
						ck_assert_int_eq(v, NSC_VERDICT_AUTH);
						ck_assert_int_eq(re, 0);
						ck_assert(st == NSC_FS_FETCHING || st == NSC_FS_TRANSFORMING);
					}
					/* A hold-off always ends the frame. */
					enum nsc_frame_move h = nsc_frame_next_move(
						(enum nsc_frame_state)st, (enum nsc_verdict)v, attempt, 2,
						re != 0, 1000);
					ck_assert(h != NSC_FRAME_BACKOFF);
				}
			}
		}
	}
	/* Attempt 1's backoff waits the first delay: nominal(1) is the base, never 0. */
	struct nsc_backoff b = { .base_ms = 30000, .cap_ms = 300000, .factor = 2.0, .jitter = 0.2 };
	ck_assert_int_eq(nsc_backoff_nominal(&b, 1), 30000);
}
END_TEST

static Suite *frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("verdicts");
	tcase_add_test(tc, ok_stores_and_reports_newest);
	tcase_add_test(tc, gap_starts_at_last_known);
	tcase_add_test(tc, retry_then_success_waits_between_attempts);
	tcase_add_test(tc, retry_exhausted);
	tcase_add_test(tc, hold_off_ends_the_frame_without_retrying);
	tcase_add_test(tc, window_carries_the_cadence);
	tcase_add_test(tc, auth_relogs_once);
	tcase_add_test(tc, single_login_frame_gives_up_on_auth);
	tcase_add_test(tc, auth_twice_is_a_retry_verdict);
	tcase_add_test(tc, rejected_login_ends_frame_without_retry);
	tcase_add_test(tc, drop_is_not_retried);
	tcase_add_test(tc, fatal_from_output);
	tcase_add_test(tc, output_outage_is_retried);
	tcase_add_test(tc, login_outage_counts_as_attempt);
	tcase_add_test(tc, out_of_memory_is_retried);
	suite_add_tcase(s, tc);
	TCase *m = tcase_create("matrix");
	tcase_add_loop_test(m, every_step_every_verdict, 0, (int)(N_STEPS * N_CODES));
	tcase_add_test(m, no_move_retries_without_waiting);
	suite_add_tcase(s, m);
	return s;
}

NSC_CHECK_MAIN(frame_suite)
