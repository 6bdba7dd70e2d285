/* SPDX-License-Identifier: MIT */
/* The fetch frame (see frame.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "engine/frame.h"

#define COMP "frame"
/* Longest wait between two attempts inside one frame. */
#define NSC_FRAME_RETRY_CAP_MS (5 * 60 * 1000)

static const char *const frame_state_names[] = {
#define X(n) #n,
	NSC_FRAME_STATES(X)
#undef X
};

const char *nsc_frame_state_name(enum nsc_frame_state s)
{
	return (unsigned)s < NSC_FS_COUNT_ ? frame_state_names[s] : "?";
}

static void frame_set_state(struct nsc_frame *f, enum nsc_frame_state to, const char *caller)
{
	if (f->state == to)
		return;
	nsc_trace(f->d.log, COMP, "event=transition from=%s to=%s by=%s", nsc_frame_state_name(f->state),
		  nsc_frame_state_name(to), caller);
	f->state = to;
}
#define FRAME_GOTO(f, s) frame_set_state((f), (s), __func__)

static void step_session(struct nsc_frame *f);

static void finish(struct nsc_frame *f, nsc_rc rc, const char *message)
{
	f->result.rc = rc;
	f->result.verdict = nsc_rc_verdict(rc);
	f->result.attempts = f->attempt;
	snprintf(f->result.message, sizeof(f->result.message), "%s",
		 message && *message ? message : nsc_strerror(rc));
	nsc_payload_free(&f->payload);
	nsc_batch_clear(&f->batch);
	FRAME_GOTO(f, NSC_FS_DONE);
	if (f->done)
		f->done(f->done_arg, &f->result);
}

/*
 * The frame's move after a failed step, a pure function of where the frame
 * is (frame.h). Every failure happens inside a counted attempt
 * (begin_attempt() is the only way into a step), so a retry always waits at
 * least the backoff's first delay and no failure of any step can become a
 * tight loop.
 */
/* AUTH means "the vendor dropped the session" only when the vendor's data said it. */
static bool vendor_step(enum nsc_frame_state step)
{
	return step == NSC_FS_FETCHING || step == NSC_FS_TRANSFORMING;
}

enum nsc_frame_move nsc_frame_next_move(enum nsc_frame_state step, enum nsc_verdict v,
					unsigned attempt, int max_retries, bool reauthenticated,
					int64_t hold_off_ms)
{
	switch (v) {
	case NSC_VERDICT_AUTH:
		if (vendor_step(step))
			return reauthenticated ? NSC_FRAME_GIVE_UP : NSC_FRAME_RELOGIN;
		/* A login or an output that says "unauthorized": a temporary failure. */
		/* fall through */
	case NSC_VERDICT_RETRY:
		if (hold_off_ms > 0 || attempt == 0)
			return NSC_FRAME_GIVE_UP; /* the vendor said when; the cycle waits */
		if (max_retries >= 0 && attempt <= (unsigned)max_retries)
			return NSC_FRAME_BACKOFF;
		return NSC_FRAME_GIVE_UP;
	case NSC_VERDICT_OK: /* a failure without an error code: a bug, ends the frame */
	case NSC_VERDICT_REJECTED:
	case NSC_VERDICT_DROP:
	case NSC_VERDICT_FATAL:
		break;
	}
	return NSC_FRAME_END;
}

const char *nsc_frame_move_name(enum nsc_frame_move m)
{
	switch (m) {
	case NSC_FRAME_BACKOFF:
		return "backoff";
	case NSC_FRAME_RELOGIN:
		return "relogin";
	case NSC_FRAME_GIVE_UP:
		return "give_up";
	case NSC_FRAME_END:
		return "end";
	}
	return "?";
}

static void begin_attempt(struct nsc_frame *f)
{
	f->attempt++;
	step_session(f);
}

static void on_backoff_over(void *arg)
{
	struct nsc_frame *f = arg;
	f->timer = 0;
	begin_attempt(f);
}

/* The one place where a failed step's verdict becomes the frame's next move. */
static void fail(struct nsc_frame *f, nsc_rc rc, const char *message)
{
	enum nsc_verdict v = nsc_rc_verdict(rc);
	enum nsc_frame_state step = f->state;
	const char *msg = message && *message ? message : nsc_strerror(rc);
	nsc_payload_free(&f->payload);
	nsc_batch_clear(&f->batch);

	/* Reading the hold-off clears it, so each failure's own ask counts once. */
	int64_t hold = f->d.source->hold_off_ms ? f->d.source->hold_off_ms(f->d.source_ctx) : 0;
	if (hold > f->result.hold_off_ms)
		f->result.hold_off_ms = hold;

	enum nsc_frame_move move =
		nsc_frame_next_move(step, v, f->attempt, f->max_retries, f->reauthenticated, hold);
	int64_t wait = move == NSC_FRAME_BACKOFF
			       ? nsc_backoff_delay(&f->retry_backoff, f->attempt, f->d.rng)
			       : 0;
	/*
	 * Detail, not a warning: the bridge reports how the frame ended, once
	 * per frame, and a rejected login once per distinct problem.
	 */
	nsc_log_write(f->d.log, v == NSC_VERDICT_REJECTED ? NSC_LOG_DEBUG : NSC_LOG_INFO, COMP,
		      "event=step_failed source=%s step=%s verdict=%s attempt=%u next=%s "
		      "retry_in_ms=%lld msg=\"%s\"",
		      f->d.source->name, nsc_frame_state_name(step), nsc_verdict_name(v), f->attempt,
		      nsc_frame_move_name(move), (long long)wait, msg);
	if (f->d.attempt_failed)
		f->d.attempt_failed(f->d.attempt_failed_arg, rc, msg);
	if (v == NSC_VERDICT_AUTH && vendor_step(step))
		nsc_session_reset(f->d.session);

	switch (move) {
	case NSC_FRAME_RELOGIN:
		/* The vendor dropped the session: log in again at once, once per frame. */
		f->reauthenticated = true;
		begin_attempt(f);
		return;
	case NSC_FRAME_BACKOFF:
		FRAME_GOTO(f, NSC_FS_BACKOFF);
		if (nsc_loop_timer_in(f->d.loop, wait, on_backoff_over, f, &f->timer) == NSC_OK)
			return;
		finish(f, NSC_ERR_NOMEM, "cannot schedule a retry");
		return;
	case NSC_FRAME_GIVE_UP:
		if (hold > 0)
			nsc_dbg(f->d.log, COMP, "event=hold_off source=%s ms=%lld", f->d.source->name,
				(long long)hold);
		finish(f, v == NSC_VERDICT_AUTH ? NSC_ERR_RETRY : rc, msg);
		return;
	case NSC_FRAME_END:
		if (v == NSC_VERDICT_OK)
			finish(f, NSC_ERR_INTERNAL, "step failed without an error code");
		else
			finish(f, rc, msg);
		return;
	}
}

/*
 * The time span of the batch's documents, for hosts that reload after a
 * backfill. Profiles do not count: Nightscout reads the latest one on every
 * reload whatever its time, and a profile's time is when its settings
 * start (the simulator's is years old), not when data arrived.
 */
static void note_batch_span(struct nsc_frame *f)
{
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (c == NSC_COLL_PROFILE)
			continue;
		size_t n = nsc_batch_count(&f->batch, (enum nsc_collection)c);
		for (size_t i = 0; i < n; i++) {
			int64_t t;
			if (nsc_doc_time_ms(nsc_batch_get(&f->batch, (enum nsc_collection)c, i), &t) != NSC_OK)
				continue;
			if (f->result.batch_oldest_ms == 0 || t < f->result.batch_oldest_ms)
				f->result.batch_oldest_ms = t;
			if (t > f->result.batch_newest_ms)
				f->result.batch_newest_ms = t;
		}
	}
}

/* Remembers the newest reading of the batch, for the user's summary. */
static void note_newest_reading(struct nsc_frame *f)
{
	size_t n = nsc_batch_count(&f->batch, NSC_COLL_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		struct json_object *doc = nsc_batch_get(&f->batch, NSC_COLL_ENTRIES, i), *v;
		int64_t t;
		if (nsc_doc_time_ms(doc, &t) != NSC_OK || t <= f->result.new_sgv_ms)
			continue;
		if (!json_object_object_get_ex(doc, "sgv", &v))
			continue;
		f->result.new_sgv_ms = t;
		f->result.new_sgv = json_object_get_int(v);
		const char *dir = "";
		if (json_object_object_get_ex(doc, "direction", &v))
			dir = json_object_get_string(v);
		snprintf(f->result.new_direction, sizeof(f->result.new_direction), "%s", dir ? dir : "");
	}
}

/* The fetch's documents are stored or dropped: the driver may move its read position. */
static void consumed(struct nsc_frame *f)
{
	if (f->d.source->consumed)
		f->d.source->consumed(f->d.source_ctx);
}

static void persist(struct nsc_frame *f)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	FRAME_GOTO(f, NSC_FS_PERSISTING);
	memset(&f->result.written, 0, sizeof(f->result.written));
	nsc_rc rc = NSC_OK;
	if (nsc_batch_total(&f->batch) > 0)
		rc = f->d.output->write(f->d.output_ctx, &f->batch, &f->result.written, &err);
	if (rc != NSC_OK) {
		fail(f, rc, err.msg);
		return;
	}
	consumed(f);
	if (f->result.written.stored[NSC_COLL_ENTRIES] > 0)
		note_newest_reading(f);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (f->result.written.stored[c] > 0) {
			note_batch_span(f);
			break;
		}
	}
	struct nsc_last_known lk;
	nsc_error_clear(&err);
	if (f->d.output->last_known(f->d.output_ctx, &lk, &err) == NSC_OK)
		f->result.newest_entry_ms = lk.ms[NSC_COLL_ENTRIES];
	finish(f, NSC_OK, NULL);
}

static void transform(struct nsc_frame *f)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	FRAME_GOTO(f, NSC_FS_TRANSFORMING);
	size_t skipped = 0;
	nsc_rc rc = f->d.source->transform(f->d.source_ctx, &f->payload, &f->window, &f->batch, &skipped,
					   &err);
	f->result.skipped += skipped;
	if (skipped)
		nsc_warn(f->d.log, COMP, "event=records_skipped source=%s count=%zu", f->d.source->name,
			 skipped);
	nsc_payload_free(&f->payload);
	if (rc != NSC_OK) {
		/* An unusable payload is skipped for good: reading it again would drop it again. */
		if (nsc_rc_verdict(rc) == NSC_VERDICT_DROP)
			consumed(f);
		fail(f, rc, err.msg);
		return;
	}
	persist(f);
}

static void on_fetch_continue(void *arg)
{
	struct nsc_frame *f = arg;
	f->timer = 0;
	if (f->step_rc != NSC_OK) {
		fail(f, f->step_rc, f->step_message);
		return;
	}
	transform(f);
}

static void fetch_done(void *arg, nsc_rc rc, const char *message)
{
	struct nsc_frame *f = arg;
	if (f->state != NSC_FS_FETCHING)
		return; /* cancelled meanwhile */
	f->step_rc = rc;
	snprintf(f->step_message, sizeof(f->step_message), "%s", message ? message : "");
	/* Continue on the next loop turn, so a driver may call done() before returning. */
	if (nsc_loop_timer_in(f->d.loop, 0, on_fetch_continue, f, &f->timer) != NSC_OK)
		on_fetch_continue(f);
}

static void determine_gaps(struct nsc_frame *f)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	FRAME_GOTO(f, NSC_FS_GAPS);
	memset(&f->window, 0, sizeof(f->window));
	nsc_rc rc = f->d.output->last_known(f->d.output_ctx, &f->window.last_known, &err);
	if (rc != NSC_OK) {
		fail(f, rc, err.msg);
		return;
	}
	int64_t now = nsc_loop_wall_ms(f->d.loop);
	if (f->ranged) {
		/* A backfill page: the whole range, whatever the output holds already. */
		f->window.from_ms = f->range_from_ms;
		f->window.to_ms = f->range_to_ms;
		f->window.history = true;
	} else {
		int64_t floor_ms = now - f->d.lookback_ms;
		int64_t from = f->window.last_known.ms[NSC_COLL_ENTRIES];
		f->window.from_ms = from > floor_ms ? from : floor_ms;
		f->window.to_ms = now;
	}
	f->window.interval_ms = f->d.timing->expected_interval_ms;
	nsc_dbg(f->d.log, COMP, "event=gap source=%s from_ms=%lld to_ms=%lld history=%s", f->d.source->name,
		(long long)f->window.from_ms, (long long)f->window.to_ms, f->window.history ? "yes" : "no");

	FRAME_GOTO(f, NSC_FS_FETCHING);
	f->d.source->fetch(f->d.source_ctx, &f->window, &f->payload, fetch_done, f);
}

static void session_ready(void *arg, nsc_rc rc, const char *message)
{
	struct nsc_frame *f = arg;
	if (f->state != NSC_FS_SESSION)
		return;
	if (rc != NSC_OK) {
		fail(f, rc, message);
		return;
	}
	determine_gaps(f);
}

static void step_session(struct nsc_frame *f)
{
	FRAME_GOTO(f, NSC_FS_SESSION);
	nsc_session_require(f->d.session, session_ready, f);
}

void nsc_frame_init(struct nsc_frame *f, const struct nsc_frame_deps *deps)
{
	memset(f, 0, sizeof(*f));
	f->d = *deps;
	f->state = NSC_FS_IDLE;
	f->max_retries = deps->timing->max_retries;
	nsc_batch_init(&f->batch);
	f->retry_backoff = (struct nsc_backoff){
		.base_ms = deps->timing->retry_base_ms > 0 ? deps->timing->retry_base_ms : 1000,
		.cap_ms = NSC_FRAME_RETRY_CAP_MS,
		.factor = 2.0,
		.jitter = 0.2,
	};
}

nsc_rc nsc_frame_start(struct nsc_frame *f, nsc_frame_done_fn done, void *arg)
{
	if (f->state != NSC_FS_IDLE && f->state != NSC_FS_DONE)
		return NSC_ERR_STATE;
	memset(&f->result, 0, sizeof(f->result));
	f->attempt = 0;
	f->reauthenticated = f->single_login;
	f->done = done;
	f->done_arg = arg;
	begin_attempt(f);
	return NSC_OK;
}

void nsc_frame_set_range(struct nsc_frame *f, int64_t from_ms, int64_t to_ms)
{
	f->ranged = true;
	f->range_from_ms = from_ms;
	f->range_to_ms = to_ms;
}

void nsc_frame_clear_range(struct nsc_frame *f)
{
	f->ranged = false;
}

void nsc_frame_cancel(struct nsc_frame *f)
{
	nsc_loop_timer_cancel(f->d.loop, &f->timer);
	if (f->d.session->waiter_arg == f)
		f->d.session->waiter = NULL;
	nsc_payload_free(&f->payload);
	nsc_batch_clear(&f->batch);
	f->done = NULL;
	f->state = NSC_FS_IDLE;
}

void nsc_frame_fini(struct nsc_frame *f)
{
	nsc_frame_cancel(f);
}
