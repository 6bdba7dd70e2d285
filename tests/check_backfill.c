/* SPDX-License-Identifier: MIT */
/*
 * The backfill: its plan (pages that cover the range exactly, clamped to
 * what the vendor keeps, resumed where it stopped), its move after each
 * verdict, and a bridge running it over the scripted source on virtual
 * time (ranged windows, a page read again after a failure, a rejected
 * login ending it at once).
 */
#include "config.h"

#include <string.h>

#include "engine/backfill.h"
#include "engine/bridge.h"
#include "fake_source.h"
#include "harness.h"
#include "nsc_check.h"

#define HOUR (60 * 60 * 1000LL)
#define DAY (24 * HOUR)
#define NOW (1000 * DAY + 7 * HOUR + 123)

static const struct nsc_source_history by_day = { .page_ms = DAY };
static const struct nsc_source_history recent_only = { .kept_ms = 24 * HOUR };

START_TEST(pages_cover_the_range_exactly)
{
	struct nsc_backfill bf;
	struct nsc_error err;
	ck_assert_int_eq(nsc_backfill_plan(&bf, &by_day, NOW - 90 * DAY - 5 * HOUR, 0, NOW, &err), NSC_OK);
	int64_t from, to, expect_from = NOW - 90 * DAY - 5 * HOUR;
	unsigned pages = 0;
	while (nsc_backfill_next_page(&bf, &from, &to)) {
		ck_assert_int_eq(from, expect_from); /* contiguous: each starts where the last ended */
		ck_assert_int_gt(to, from);
		ck_assert_int_le(to - from, DAY);
		ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_OK),
				 to == NOW ? NSC_BACKFILL_DONE : NSC_BACKFILL_NEXT);
		expect_from = to;
		ck_assert_uint_lt(++pages, 200);
	}
	ck_assert_int_eq(expect_from, NOW); /* ends now, as --until was not given */
	ck_assert_uint_eq(pages, 91);       /* 90 days and 5 hours: 90 full days and one short page */
	ck_assert_uint_eq(bf.pages_done, 91);
	ck_assert(nsc_backfill_fraction(&bf) == 1.0);
}
END_TEST

START_TEST(until_bounds_the_last_page)
{
	struct nsc_backfill bf;
	struct nsc_error err;
	int64_t from, to;
	ck_assert_int_eq(nsc_backfill_plan(&bf, &by_day, NOW - 10 * DAY, NOW - 8 * DAY - HOUR, NOW, &err), NSC_OK);
	ck_assert(nsc_backfill_next_page(&bf, &from, &to));
	ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_OK), NSC_BACKFILL_NEXT);
	ck_assert(nsc_backfill_next_page(&bf, &from, &to));
	ck_assert_int_eq(to, NOW - 8 * DAY - HOUR);
	ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_OK), NSC_BACKFILL_DONE);
	ck_assert(!nsc_backfill_next_page(&bf, &from, &to));
}
END_TEST

START_TEST(a_range_that_is_not_one_is_refused)
{
	struct nsc_backfill bf;
	struct nsc_error err;
	ck_assert_int_eq(nsc_backfill_plan(&bf, &by_day, NOW + HOUR, 0, NOW, &err), NSC_ERR_CONFIG);
	ck_assert_int_eq(nsc_backfill_plan(&bf, &by_day, NOW - DAY, NOW - 2 * DAY, NOW, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "--since must be before --until"));
	/* Older than a recent-only vendor keeps, wholly: nothing to read there. */
	ck_assert_int_eq(nsc_backfill_plan(&bf, &recent_only, NOW - 10 * DAY, NOW - 5 * DAY, NOW, &err), NSC_OK);
	ck_assert(bf.whole); /* the one answer it gives ends now, whatever --until says */
}
END_TEST

START_TEST(recent_only_vendor_is_one_fetch_from_what_it_keeps)
{
	struct nsc_backfill bf;
	struct nsc_error err;
	int64_t from, to;
	ck_assert_int_eq(nsc_backfill_plan(&bf, &recent_only, NOW - 90 * DAY, 0, NOW, &err), NSC_OK);
	ck_assert(bf.clamped && bf.whole);
	ck_assert(nsc_backfill_next_page(&bf, &from, &to));
	ck_assert_int_eq(from, NOW - 24 * HOUR);
	ck_assert_int_eq(to, NOW);
	ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_OK), NSC_BACKFILL_DONE);
	/* Asked for less than it keeps: from where asked, still to now. */
	ck_assert_int_eq(nsc_backfill_plan(&bf, &recent_only, NOW - 3 * HOUR, 0, NOW, &err), NSC_OK);
	ck_assert(!bf.clamped);
	ck_assert(nsc_backfill_next_page(&bf, &from, &to));
	ck_assert_int_eq(from, NOW - 3 * HOUR);
}
END_TEST

START_TEST(resume_goes_on_where_it_stopped)
{
	struct nsc_backfill bf;
	struct nsc_error err;
	int64_t from, to;
	ck_assert_int_eq(nsc_backfill_plan(&bf, &by_day, NOW - 30 * DAY, 0, NOW, &err), NSC_OK);
	nsc_backfill_resume(&bf, NOW - 12 * DAY);
	ck_assert(nsc_backfill_next_page(&bf, &from, &to));
	ck_assert_int_eq(from, NOW - 12 * DAY);
	ck_assert(nsc_backfill_fraction(&bf) > 0.59 && nsc_backfill_fraction(&bf) < 0.61);
	/* A saved point outside the plan is not trusted. */
	nsc_backfill_resume(&bf, NOW + DAY);
	ck_assert(nsc_backfill_next_page(&bf, &from, &to));
	ck_assert_int_eq(from, NOW - 12 * DAY);
}
END_TEST

START_TEST(moves_after_each_verdict)
{
	struct nsc_backfill bf;
	struct nsc_error err;
	int64_t from, to;
	ck_assert_int_eq(nsc_backfill_plan(&bf, &by_day, NOW - 3 * DAY, 0, NOW, &err), NSC_OK);
	/* Failures read the same page again, up to the limit. */
	for (int i = 1; i < NSC_BACKFILL_FAILED_PAGES; i++)
		ck_assert_int_eq(nsc_backfill_after(&bf, i % 2 ? NSC_VERDICT_RETRY : NSC_VERDICT_AUTH),
				 NSC_BACKFILL_AGAIN);
	ck_assert(nsc_backfill_next_page(&bf, &from, &to));
	ck_assert_int_eq(from, NOW - 3 * DAY);
	/* A success in between starts the count again. */
	ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_OK), NSC_BACKFILL_NEXT);
	ck_assert_uint_eq(bf.failed_in_row, 0);
	/* An unusable answer skips its page, counted. */
	ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_DROP), NSC_BACKFILL_NEXT);
	ck_assert_uint_eq(bf.pages_skipped, 1);
	ck_assert(nsc_backfill_next_page(&bf, &from, &to));
	ck_assert_int_eq(from, NOW - DAY);
	for (int i = 1; i < NSC_BACKFILL_FAILED_PAGES; i++)
		ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_RETRY), NSC_BACKFILL_AGAIN);
	ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_RETRY), NSC_BACKFILL_STOP);
	ck_assert_int_eq(bf.reached_ms, NOW - DAY); /* a stop keeps the point reached */
	ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_REJECTED), NSC_BACKFILL_STOP);
	ck_assert_int_eq(nsc_backfill_after(&bf, NSC_VERDICT_FATAL), NSC_BACKFILL_STOP);
	ck_assert_int_eq(bf.reached_ms, NOW - DAY);
}
END_TEST

/* ---- a bridge running a backfill over the scripted source ---------------- */

struct bfr {
	struct harness h;
	struct nsc_config cfg;
	struct nsc_source_driver drv;
	struct nsc_backfill plan;
	struct nsc_bridge *b;
	int finished;
	unsigned frames;
	int64_t windows_from[128], windows_to[128];
	bool history[128];
};

static void bfr_finished(void *arg, struct nsc_bridge *b)
{
	(void)b;
	((struct bfr *)arg)->finished++;
}

static void bfr_frame(void *arg, struct nsc_bridge *b, const struct nsc_frame_result *r)
{
	struct bfr *t = arg;
	(void)b;
	(void)r;
	if (t->frames < 128) {
		t->windows_from[t->frames] = fake_source_last->last_window.from_ms;
		t->windows_to[t->frames] = fake_source_last->last_window.to_ms;
		t->history[t->frames] = fake_source_last->last_window.history;
	}
	t->frames++;
}

static void bfr_start(struct bfr *t, int64_t span_ms)
{
	memset(t, 0, sizeof(*t));
	harness_setup(&t->h, NSC_LOG_INFO);
	nsc_config_init(&t->cfg);
	t->cfg.lookback_ms = 2 * HOUR; /* a backfill reads past it */
	t->drv = fake_source_driver;
	t->drv.history = by_day;
	struct nsc_error err;
	int64_t now = nsc_loop_wall_ms(t->h.loop);
	ck_assert_int_eq(nsc_backfill_plan(&t->plan, &t->drv.history, now - span_ms, 0, now, &err), NSC_OK);
	struct nsc_bridge_options o = {
		.rng_seed = 5, .finished = bfr_finished, .finished_arg = t,
		.frame_done = bfr_frame, .frame_done_arg = t, .backfill = &t->plan,
	};
	ck_assert_int_eq(nsc_bridge_new_with(t->h.loop, &t->cfg, t->h.log, &o, &t->drv, &fake_output_driver, &t->b,
					     &err),
			 NSC_OK);
	ck_assert_int_eq(nsc_bridge_start(t->b), NSC_OK);
}

static void bfr_fini(struct bfr *t)
{
	nsc_bridge_free(t->b);
	nsc_config_free(&t->cfg);
	harness_teardown(&t->h);
}

START_TEST(bridge_reads_each_page_as_a_history_window)
{
	struct bfr t;
	bfr_start(&t, 5 * DAY);
	int64_t start = t.plan.start_ms;
	harness_run_for(&t.h, HOUR);
	ck_assert_int_eq(t.finished, 1);
	ck_assert_uint_eq(t.frames, 5);
	for (unsigned i = 0; i < 5; i++) {
		ck_assert(t.history[i]);
		ck_assert_int_eq(t.windows_from[i], start + (int64_t)i * DAY);
		ck_assert_int_eq(t.windows_to[i], start + (int64_t)(i + 1) * DAY);
	}
	/* A history window carries the output's last-known times all the same (the source reads the page whole). */
	int64_t known = fake_source_last->last_window.last_known.ms[NSC_COLL_ENTRIES];
	ck_assert_int_gt(known, t.windows_from[3]);
	ck_assert_int_le(known, t.windows_to[3]);
	ck_assert_uint_eq(fake_output_last->held, 5);
	ck_assert_uint_eq(t.plan.pages_done, 5);
	bfr_fini(&t);
}
END_TEST

START_TEST(bridge_reads_a_failed_page_again_then_goes_on)
{
	struct bfr t;
	bfr_start(&t, 3 * DAY);
	/* The second page fails through all of its frame's attempts, once. */
	fake_script_push(&fake_source_last->fetch, NSC_OK);
	for (int i = 0; i <= fake_source_driver.timing.max_retries; i++)
		fake_script_push(&fake_source_last->fetch, NSC_ERR_RETRY);
	harness_run_for(&t.h, 6 * HOUR);
	ck_assert_int_eq(t.finished, 1);
	ck_assert_uint_eq(t.frames, 4); /* three pages, one of them twice */
	ck_assert_int_eq(t.windows_from[1], t.windows_from[2]);
	ck_assert_uint_eq(t.plan.pages_done, 3);
	ck_assert_int_eq(t.plan.reached_ms, t.plan.end_ms);
	bfr_fini(&t);
}
END_TEST

START_TEST(bridge_stops_at_a_rejected_login)
{
	struct bfr t;
	bfr_start(&t, 3 * DAY);
	fake_source_last->auth.always = NSC_ERR_REJECTED;
	harness_run_for(&t.h, 12 * HOUR);
	ck_assert_int_eq(t.finished, 1);
	ck_assert_uint_eq(fake_source_last->auth_calls, 1); /* the lockout guard: no second attempt */
	ck_assert_uint_eq(t.plan.pages_done, 0);
	ck_assert_int_eq(t.plan.reached_ms, t.plan.start_ms);
	bfr_fini(&t);
}
END_TEST

static Suite *backfill_suite(void)
{
	Suite *s = suite_create("backfill");
	TCase *plan = tcase_create("plan");
	tcase_add_test(plan, pages_cover_the_range_exactly);
	tcase_add_test(plan, until_bounds_the_last_page);
	tcase_add_test(plan, a_range_that_is_not_one_is_refused);
	tcase_add_test(plan, recent_only_vendor_is_one_fetch_from_what_it_keeps);
	tcase_add_test(plan, resume_goes_on_where_it_stopped);
	tcase_add_test(plan, moves_after_each_verdict);
	suite_add_tcase(s, plan);
	TCase *bridge = tcase_create("bridge");
	tcase_add_test(bridge, bridge_reads_each_page_as_a_history_window);
	tcase_add_test(bridge, bridge_reads_a_failed_page_again_then_goes_on);
	tcase_add_test(bridge, bridge_stops_at_a_rejected_login);
	suite_add_tcase(s, bridge);
	return s;
}

NSC_CHECK_MAIN(backfill_suite)
