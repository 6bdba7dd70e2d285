/* SPDX-License-Identifier: MIT */
/*
 * The bridge: wires a source and an output to the session, the fetch frame
 * and the cycle (see bridge.h). Policy after a frame lives in schedule.c;
 * this file applies it and keeps the user informed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/announce.h"
#include "engine/bridge.h"
#include "engine/login_hold.h"
#include "timeutil.h"
#include "sources/registry.h"

#define COMP "bridge"

struct nsc_bridge {
	struct nsc_loop *loop;
	struct nsc_log *log;
	const struct nsc_config *cfg;
	struct nsc_bridge_options opts;

	const struct nsc_source_driver *source;
	void *source_ctx;
	const struct nsc_output_driver *output;
	void *output_ctx;

	struct nsc_source_timing timing; /* the driver's, tuned for this instance */
	struct nsc_rng rng;
	struct nsc_session session;
	struct nsc_frame frame;
	struct nsc_schedule_policy policy;
	struct nsc_cycle_counters counters;
	uint64_t cycle_timer;
	bool running, finished;
	char rejected_message[NSC_ERROR_MSG_MAX]; /* what the user was last told */
	char *hold_path;        /* the lockout guard on disk (NULL: kept in memory only) */
	bool hold_on_disk;      /* a hold file may exist: the next accepted login removes it */
	struct nsc_login_hold hold;
	struct nsc_announcer *announcer; /* CONNECT_ANNOUNCE; NULL when off */

	struct nsc_bridge_stats stats;
};

static void frame_done(void *arg, const struct nsc_frame_result *r);

static void finish_bridge(struct nsc_bridge *b);

static void start_frame(void *arg)
{
	struct nsc_bridge *b = arg;
	b->cycle_timer = 0;
	if (!b->running)
		return;
	if (b->opts.backfill) {
		int64_t from, to;
		if (!nsc_backfill_next_page(b->opts.backfill, &from, &to)) {
			finish_bridge(b);
			return;
		}
		nsc_frame_set_range(&b->frame, from, to);
		nsc_dbg(b->log, COMP, "event=backfill_page from_ms=%lld to_ms=%lld", (long long)from,
			(long long)to);
	}
	if (nsc_frame_start(&b->frame, frame_done, b) != NSC_OK)
		nsc_err(b->log, COMP, "event=frame_not_started state=%s", nsc_frame_state_name(b->frame.state));
}

static void finish_bridge(struct nsc_bridge *b)
{
	b->running = false;
	b->finished = true;
	nsc_loop_timer_cancel(b->loop, &b->cycle_timer);
	if (b->opts.finished)
		b->opts.finished(b->opts.finished_arg, b);
}

static void record(struct nsc_bridge *b, const struct nsc_frame_result *r)
{
	struct nsc_bridge_stats *st = &b->stats;
	st->last_rc = r->rc;
	st->records_skipped += r->skipped;
	st->frames++;
	if ((unsigned)r->verdict <= NSC_VERDICT_FATAL)
		st->by_verdict[r->verdict]++;
	st->last_attempt_ms = nsc_loop_wall_ms(b->loop);
	if (r->verdict == NSC_VERDICT_OK)
		st->failed_in_row = 0;
	switch (r->verdict) {
	case NSC_VERDICT_OK:
		st->frames_ok++;
		st->last_success_ms = nsc_loop_wall_ms(b->loop);
		st->last_error[0] = '\0';
		for (int c = 0; c < NSC_COLL_COUNT; c++) {
			st->stored[c] += r->written.stored[c];
			st->duplicates[c] += r->written.duplicates[c];
		}
		if (r->newest_entry_ms > st->newest_entry_ms)
			st->newest_entry_ms = r->newest_entry_ms;
		if (r->new_sgv_ms > st->new_sgv_ms) {
			st->new_sgv_ms = r->new_sgv_ms;
			st->new_sgv = r->new_sgv;
			memcpy(st->new_direction, r->new_direction, sizeof(st->new_direction));
		}
		return;
	case NSC_VERDICT_DROP:
		st->payloads_dropped++;
		break;
	case NSC_VERDICT_REJECTED:
		st->frames_rejected++;
		break;
	case NSC_VERDICT_RETRY:
	case NSC_VERDICT_AUTH:
	case NSC_VERDICT_FATAL:
		st->frames_failed++;
		break;
	}
	snprintf(st->last_error, sizeof(st->last_error), "%s", r->message);
}

/* Every failed attempt, while the frame still retries: health shows it at once. */
static void attempt_failed(void *arg, nsc_rc rc, const char *message)
{
	struct nsc_bridge *b = arg;
	struct nsc_bridge_stats *st = &b->stats;
	enum nsc_verdict v = nsc_rc_verdict(rc);
	if ((unsigned)v <= NSC_VERDICT_FATAL)
		st->failed_attempts[v]++;
	st->failed_in_row++;
	st->last_attempt_ms = st->last_failure_ms = nsc_loop_wall_ms(b->loop);
	st->last_rc = rc;
	snprintf(st->last_error, sizeof(st->last_error), "%s", message ? message : nsc_strerror(rc));
	if (b->opts.attempt_failed)
		b->opts.attempt_failed(b->opts.frame_done_arg, b);
}

static void report(struct nsc_bridge *b, const struct nsc_frame_result *r, int64_t next_ms)
{
	const char *src = b->source->name;
	switch (r->verdict) {
	case NSC_VERDICT_OK:
		b->rejected_message[0] = '\0';
		nsc_info(b->log, COMP,
			 "event=frame_ok source=%s entries=%zu treatments=%zu devicestatus=%zu profile=%zu "
			 "duplicates=%zu next_in_s=%lld",
			 src, r->written.stored[NSC_COLL_ENTRIES], r->written.stored[NSC_COLL_TREATMENTS],
			 r->written.stored[NSC_COLL_DEVICESTATUS], r->written.stored[NSC_COLL_PROFILE],
			 r->written.duplicates[NSC_COLL_ENTRIES] + r->written.duplicates[NSC_COLL_TREATMENTS] +
				 r->written.duplicates[NSC_COLL_DEVICESTATUS] +
				 r->written.duplicates[NSC_COLL_PROFILE],
			 (long long)(next_ms / 1000));
		return;
	case NSC_VERDICT_REJECTED:
		/* One plain message per distinct problem; repeats are only noted. */
		if (strcmp(b->rejected_message, r->message) != 0) {
			snprintf(b->rejected_message, sizeof(b->rejected_message), "%s", r->message);
			nsc_err(b->log, COMP,
				"event=login_rejected source=%s next_attempt_in_min=%lld msg=\"%s. nsconnect will "
				"not try again for %lld minutes, to protect the account from being locked.\"",
				src, (long long)(next_ms / 60000), r->message, (long long)(next_ms / 60000));
		} else {
			nsc_info(b->log, COMP, "event=login_still_rejected source=%s rejections=%u next_attempt_in_min=%lld",
				 src, b->counters.rejected_in_row, (long long)(next_ms / 60000));
		}
		return;
	case NSC_VERDICT_DROP:
		nsc_err(b->log, COMP, "event=payload_dropped source=%s dropped_total=%llu msg=\"%s\"", src,
			(unsigned long long)b->stats.payloads_dropped, r->message);
		return;
	case NSC_VERDICT_RETRY:
	case NSC_VERDICT_AUTH:
		nsc_warn(b->log, COMP, "event=frame_failed source=%s failed_in_row=%u next_in_s=%lld msg=\"%s\"",
			 src, b->counters.failed_in_row, (long long)(next_ms / 1000), r->message);
		return;
	case NSC_VERDICT_FATAL:
		nsc_err(b->log, COMP, "event=bridge_stopped source=%s msg=\"%s\"", src, r->message);
		return;
	}
}

/*
 * A backfill's delay before its next frame, -1 when it is over: the pause
 * between pages, or the wait the cycle would make after a failed poll
 * before the same page is read again.
 */
static int64_t backfill_next(struct nsc_bridge *b, const struct nsc_frame_result *r, int64_t cycle_next)
{
	struct nsc_backfill *bf = b->opts.backfill;
	enum nsc_backfill_move m = nsc_backfill_after(bf, r->verdict);
	nsc_dbg(b->log, COMP, "event=backfill_move move=%s reached_ms=%lld failed_in_row=%u",
		nsc_backfill_move_name(m), (long long)bf->reached_ms, bf->failed_in_row);
	switch (m) {
	case NSC_BACKFILL_NEXT:
		return r->hold_off_ms > bf->pause_ms ? r->hold_off_ms : bf->pause_ms;
	case NSC_BACKFILL_AGAIN:
		return cycle_next;
	case NSC_BACKFILL_STOP:
	case NSC_BACKFILL_DONE:
		break;
	}
	return -1;
}

/* Writes the lockout guard after a rejected login, removes it after an accepted one. */
static void keep_hold(struct nsc_bridge *b, const struct nsc_frame_result *r, int64_t cycle_ms)
{
	if (b->hold_path == NULL)
		return;
	struct nsc_error err = { 0 };
	if (r->verdict == NSC_VERDICT_REJECTED && cycle_ms >= 0) {
		int64_t now = nsc_loop_wall_ms(b->loop);
		b->hold.rejected_at_ms = now;
		b->hold.until_ms = now + cycle_ms;
		b->hold.rejections = b->counters.rejected_in_row;
		snprintf(b->hold.message, sizeof(b->hold.message), "%s", r->message);
		b->hold_on_disk = true;
		if (nsc_login_hold_save(b->hold_path, &b->hold, b->cfg, &err) != NSC_OK)
			nsc_warn(b->log, COMP, "event=login_hold_not_saved msg=\"%s; a restart would log in again "
				 "before the wait is over\"", err.msg);
	} else if (r->verdict == NSC_VERDICT_OK && b->hold_on_disk) {
		if (nsc_login_hold_clear(b->hold_path, &err) != NSC_OK)
			nsc_warn(b->log, COMP, "event=login_hold_not_removed msg=\"%s\"", err.msg);
		else
			b->hold_on_disk = false;
	}
}

static void frame_done(void *arg, const struct nsc_frame_result *r)
{
	struct nsc_bridge *b = arg;
	record(b, r);
	nsc_announcer_frame(b->announcer, r, nsc_loop_wall_ms(b->loop), b->output, b->output_ctx);
	int64_t cycle = nsc_schedule_next(&b->policy, &b->counters, r, nsc_loop_wall_ms(b->loop), &b->rng);
	int64_t next = b->opts.backfill ? backfill_next(b, r, cycle) : cycle;
	keep_hold(b, r, cycle);
	b->stats.next_frame_in_ms = next;
	/* A rejected login's advice is the lockout guard's wait, backfill or not. */
	report(b, r, r->verdict == NSC_VERDICT_REJECTED ? cycle : next);
	if (b->opts.frame_done)
		b->opts.frame_done(b->opts.frame_done_arg, b, r);
	if (next < 0 || b->opts.once) {
		finish_bridge(b);
		return;
	}
	if (nsc_loop_timer_in(b->loop, next, start_frame, b, &b->cycle_timer) != NSC_OK) {
		nsc_err(b->log, COMP, "event=bridge_stopped msg=\"out of memory scheduling the next frame\"");
		finish_bridge(b);
	}
}

static uint64_t default_seed(const struct nsc_bridge *b)
{
	return (uint64_t)nsc_clock_wall(&nsc_clock_system) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)b;
}

nsc_rc nsc_bridge_new_with(struct nsc_loop *loop, const struct nsc_config *cfg, struct nsc_log *log,
			   const struct nsc_bridge_options *opts,
			   const struct nsc_source_driver *source,
			   const struct nsc_output_driver *output, struct nsc_bridge **out,
			   struct nsc_error *err)
{
	struct nsc_bridge *b = calloc(1, sizeof(*b));
	if (!b)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
	b->loop = loop;
	b->log = log;
	b->cfg = cfg;
	if (opts)
		b->opts = *opts;
	b->source = source;
	b->output = output;
	b->stats.next_frame_in_ms = -1;
	b->hold_path = nsc_login_hold_path(cfg, source->name);
	nsc_rng_seed(&b->rng, b->opts.rng_seed ? b->opts.rng_seed : default_seed(b));

	struct nsc_source_env env = { .config = cfg, .log = log, .loop = loop };
	nsc_rc rc = source->create(&env, &b->source_ctx, err);
	if (rc != NSC_OK) {
		free(b->hold_path);
		free(b);
		return rc;
	}
	rc = nsc_output_open(output, cfg, log, &b->output_ctx, err);
	if (rc != NSC_OK) {
		source->destroy(b->source_ctx);
		free(b->hold_path);
		free(b);
		return rc;
	}
	/*
	 * A backfill reads the past: whether readings are stale now is not its
	 * business; a probe (doctor) stores nothing, announcements included.
	 */
	rc = b->opts.backfill || b->opts.probe ? NSC_OK : nsc_announcer_new(cfg, log, source, &b->announcer, err);
	if (rc != NSC_OK) {
		output->close(b->output_ctx);
		source->destroy(b->source_ctx);
		free(b->hold_path);
		free(b);
		return rc;
	}
	b->timing = source->timing;
	if (source->tune_timing)
		source->tune_timing(b->source_ctx, &b->timing);
	if (cfg->poll_interval_ms > 0)
		nsc_timing_set_interval(&b->timing, cfg->poll_interval_ms);
	nsc_session_init(&b->session, source, b->source_ctx, &b->timing, loop, log);
	struct nsc_frame_deps deps = {
		.loop = loop, .log = log, .rng = &b->rng, .session = &b->session,
		.source = source, .source_ctx = b->source_ctx, .timing = &b->timing,
		.output = output, .output_ctx = b->output_ctx,
		.lookback_ms = cfg->lookback_ms,
		.attempt_failed = attempt_failed, .attempt_failed_arg = b,
	};
	nsc_frame_init(&b->frame, &deps);
	b->frame.single_login = b->opts.probe;
	nsc_schedule_policy_for(&b->policy, &b->timing);
	*out = b;
	return NSC_OK;
}

nsc_rc nsc_bridge_new(struct nsc_loop *loop, const struct nsc_config *cfg, struct nsc_log *log,
		      const struct nsc_bridge_options *opts, struct nsc_bridge **out,
		      struct nsc_error *err)
{
	const struct nsc_source_driver *src = nsc_source_driver_for(cfg->source);
	if (!src)
		return nsc_error_set(err, NSC_ERR_UNSUPPORTED,
				     "CONNECT_SOURCE=%s is not available in this version of nsconnect yet",
				     nsc_source_name(cfg->source));
	const struct nsc_output_driver *o = nsc_output_driver_for(cfg->output);
	if (!o)
		return nsc_error_set(err, NSC_ERR_UNSUPPORTED,
				     "CONNECT_OUTPUT=%s is not available in this version of nsconnect yet",
				     nsc_output_kind_name(cfg->output));
	return nsc_bridge_new_with(loop, cfg, log, opts, src, o, out, err);
}

/*
 * How long a rejected login written by an earlier run still holds (0:
 * none, or the settings changed since); restores the guard's count and
 * tells the user.
 */
static int64_t held_for(struct nsc_bridge *b)
{
	if (b->hold_path == NULL || b->hold_on_disk)
		return 0;
	struct nsc_error err = { 0 };
	nsc_rc rc = nsc_login_hold_load(b->hold_path, &b->hold, &err);
	if (rc == NSC_ERR_NOT_FOUND)
		return 0;
	b->hold_on_disk = true;
	if (rc != NSC_OK) {
		nsc_warn(b->log, COMP, "event=login_hold_unreadable msg=\"%s; it is ignored\"", err.msg);
		memset(&b->hold, 0, sizeof(b->hold));
		return 0;
	}
	int64_t now = nsc_loop_wall_ms(b->loop);
	if (!nsc_login_hold_matches(&b->hold, b->cfg)) {
		nsc_info(b->log, COMP, "event=login_hold_lifted source=%s msg=\"the settings changed since the "
			 "rejected login; logging in now\"", b->source->name);
		memset(&b->hold, 0, sizeof(b->hold));
		return 0;
	}
	if (b->hold.until_ms <= now)
		return 0;
	int64_t wait = b->hold.until_ms - now;
	b->counters.rejected_in_row = b->hold.rejections;
	snprintf(b->rejected_message, sizeof(b->rejected_message), "%s", b->hold.message);
	snprintf(b->stats.last_error, sizeof(b->stats.last_error), "%s", b->hold.message);
	b->stats.last_rc = NSC_ERR_REJECTED;
	b->stats.next_frame_in_ms = wait;
	char when[40] = "";
	(void)nsc_time_format_iso(b->hold.until_ms, when, sizeof(when));
	nsc_err(b->log, COMP,
		"event=login_held source=%s next_attempt_at=%s next_attempt_in_min=%lld msg=\"%s. An earlier "
		"run's login was rejected; nsconnect will not try again before %s, to protect the account "
		"from being locked.\"",
		b->source->name, when, (long long)((wait + 59999) / 60000), b->hold.message, when);
	return wait;
}

/* A once/backfill run that starts inside a hold: ends as a rejected frame would, without a login. */
static void finish_held(void *arg)
{
	struct nsc_bridge *b = arg;
	b->cycle_timer = 0;
	if (!b->running)
		return;
	struct nsc_frame_result r = { .rc = NSC_ERR_REJECTED, .verdict = NSC_VERDICT_REJECTED };
	char when[40] = "";
	(void)nsc_time_format_iso(b->hold.until_ms, when, sizeof(when));
	snprintf(r.message, sizeof(r.message), "%.700s (login held until %s)", b->hold.message, when);
	record(b, &r);
	if (b->opts.frame_done)
		b->opts.frame_done(b->opts.frame_done_arg, b, &r);
	finish_bridge(b);
}

nsc_rc nsc_bridge_start(struct nsc_bridge *b)
{
	if (b->running)
		return NSC_ERR_STATE;
	b->running = true;
	b->finished = false;
	nsc_info(b->log, COMP, "event=bridge_started source=%s output=%s", b->source->name, b->output->name);
	int64_t wait = held_for(b);
	if (wait > 0 && (b->opts.once || b->opts.backfill)) {
		/* A one-shot run does not sit out the wait: it ends at once, as rejected. */
		return nsc_loop_timer_in(b->loop, 0, finish_held, b, &b->cycle_timer);
	}
	return nsc_loop_timer_in(b->loop, wait, start_frame, b, &b->cycle_timer);
}

void nsc_bridge_stop(struct nsc_bridge *b)
{
	if (!b)
		return;
	b->running = false;
	nsc_loop_timer_cancel(b->loop, &b->cycle_timer);
	nsc_frame_cancel(&b->frame);
	/* No answer of the driver's step in flight may arrive after this. */
	if (b->source->cancel)
		b->source->cancel(b->source_ctx);
	nsc_session_abort(&b->session);
}

void nsc_bridge_free_except_output(struct nsc_bridge *b, struct nsc_bridge_output *out)
{
	out->driver = b ? b->output : NULL;
	out->ctx = b ? b->output_ctx : NULL;
	if (!b)
		return;
	nsc_bridge_stop(b);
	nsc_frame_fini(&b->frame);
	nsc_session_fini(&b->session);
	b->source->destroy(b->source_ctx);
	nsc_announcer_free(b->announcer);
	free(b->hold_path);
	free(b);
}

void nsc_bridge_free(struct nsc_bridge *b)
{
	struct nsc_bridge_output out;
	nsc_bridge_free_except_output(b, &out);
	if (out.driver)
		out.driver->close(out.ctx);
}

void nsc_bridge_pending(const struct nsc_bridge *b, uint64_t *bytes, uint64_t *batches)
{
	*bytes = *batches = 0;
	if (b->output->pending)
		b->output->pending(b->output_ctx, bytes, batches);
}

void nsc_bridge_set_drain(struct nsc_bridge *b, int64_t drain_ms)
{
	if (b->output->set_drain)
		b->output->set_drain(b->output_ctx, drain_ms);
}

const char *nsc_bridge_source_name(const struct nsc_bridge *b)
{
	return b->source->name;
}

const char *nsc_bridge_output_name(const struct nsc_bridge *b)
{
	return b->output->name;
}

nsc_rc nsc_bridge_flush(struct nsc_bridge *b, int64_t idle_ms, struct nsc_error *err)
{
	if (!b->output->flush)
		return NSC_OK;
	return b->output->flush(b->output_ctx, idle_ms, err);
}

bool nsc_bridge_delivered(const struct nsc_bridge *b, struct nsc_write_result *out)
{
	if (!b->output->delivered)
		return false;
	b->output->delivered(b->output_ctx, out);
	return true;
}

void nsc_bridge_set_max_retries(struct nsc_bridge *b, int max_retries)
{
	b->frame.max_retries = max_retries < 0 ? 0 : max_retries;
}

bool nsc_bridge_finished(const struct nsc_bridge *b)
{
	return b->finished;
}

const struct nsc_bridge_stats *nsc_bridge_stats(const struct nsc_bridge *b)
{
	return &b->stats;
}

const struct nsc_session *nsc_bridge_session(const struct nsc_bridge *b)
{
	return &b->session;
}
