/* SPDX-License-Identifier: MIT */
/*
 * The fetch frame: one attempt to move new data from the source to the
 * output.
 *
 *   SESSION -> GAPS -> FETCHING -> TRANSFORMING -> PERSISTING -> DONE
 *       ^                 |                            |
 *       +-- BACKOFF <-----+---- RETRY verdict ---------+
 *
 * An attempt is one pass from SESSION on; each is counted when it begins,
 * so every failure, whatever its step, belongs to a counted attempt. Each
 * failure's verdict decides (nsc_frame_next_move): RETRY waits the backoff
 * for the attempt just made (never less than its first delay) and tries
 * again, up to the source's max_retries, unless the vendor asked for a
 * hold-off (a Retry-After, an account lock): then the frame ends and the
 * cycle waits at least that long. AUTH from the vendor (fetch, transform)
 * drops the session and logs in again at once, once per frame; AUTH from
 * a login or the output is a RETRY. REJECTED, DROP and FATAL end the frame
 * at once. A frame therefore makes at most max_retries + 2 attempts. The
 * cycle (schedule.h) decides what happens after the frame.
 */
#ifndef NSC_ENGINE_FRAME_H
#define NSC_ENGINE_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "engine/backoff.h"
#include "engine/loop.h"
#include "engine/session.h"
#include "log.h"
#include "output.h"
#include "source.h"

#define NSC_FRAME_STATES(X)                                                       \
	X(IDLE) X(SESSION) X(GAPS) X(FETCHING) X(TRANSFORMING) X(PERSISTING) X(BACKOFF) \
	X(DONE)
#define NSC_FS_ENUM_(n) NSC_FS_##n,
enum nsc_frame_state { NSC_FRAME_STATES(NSC_FS_ENUM_) NSC_FS_COUNT_ };
#undef NSC_FS_ENUM_

const char *nsc_frame_state_name(enum nsc_frame_state s);

/* What the frame does after a failed step. */
enum nsc_frame_move {
	NSC_FRAME_BACKOFF, /* wait the backoff for this attempt, then a new attempt */
	NSC_FRAME_RELOGIN, /* the vendor dropped the session: a new attempt at once */
	NSC_FRAME_GIVE_UP, /* end the frame as a temporary failure (RETRY) */
	NSC_FRAME_END,     /* end the frame with the step's own code */
};
const char *nsc_frame_move_name(enum nsc_frame_move m);

/*
 * The move for a failure of `step` with verdict v in attempt `attempt`
 * (1 for the first), pure so that every step x verdict pair is tested.
 */
enum nsc_frame_move nsc_frame_next_move(enum nsc_frame_state step, enum nsc_verdict v,
					unsigned attempt, int max_retries, bool reauthenticated,
					int64_t hold_off_ms);

struct nsc_frame_result {
	nsc_rc rc;                /* NSC_OK or the code that ended the frame */
	enum nsc_verdict verdict; /* nsc_rc_verdict(rc) */
	char message[NSC_ERROR_MSG_MAX];
	unsigned attempts;        /* attempts made (1 + retries + a re-login) */
	struct nsc_write_result written;
	size_t skipped;           /* records the transform could not use */
	int64_t newest_entry_ms;  /* newest entry the output now holds, 0 if none */
	int64_t hold_off_ms;      /* the vendor asked us to stay away this long (0: no ask) */
	/* Times of the oldest and newest document of a batch that stored something (0: none). */
	int64_t batch_oldest_ms, batch_newest_ms;
	/* The newest reading this frame stored (new_sgv 0 when it stored none). */
	int64_t new_sgv_ms;
	int new_sgv;
	char new_direction[24];
};

typedef void (*nsc_frame_done_fn)(void *arg, const struct nsc_frame_result *r);

struct nsc_frame_deps {
	struct nsc_loop *loop;
	struct nsc_log *log;
	struct nsc_rng *rng;
	struct nsc_session *session;
	const struct nsc_source_driver *source;
	void *source_ctx;
	const struct nsc_source_timing *timing; /* this instance's */
	const struct nsc_output_driver *output;
	void *output_ctx;
	int64_t lookback_ms;      /* never fetch further back than now - lookback */
	/* Told of every failed attempt, before the frame retries or ends (may be NULL). */
	void (*attempt_failed)(void *arg, nsc_rc rc, const char *message);
	void *attempt_failed_arg;
};

struct nsc_frame {
	enum nsc_frame_state state;
	struct nsc_frame_deps d;
	struct nsc_backoff retry_backoff;
	int max_retries; /* the source's, unless the host overrides it */

	unsigned attempt;
	bool reauthenticated;
	/* No second login within a frame, even after a vendor's AUTH (doctor's "one login"). */
	bool single_login;
	/* A backfill page to read instead of the gap (nsc_frame_set_range). */
	bool ranged;
	int64_t range_from_ms, range_to_ms;
	struct nsc_fetch_window window;
	struct nsc_payload payload;
	struct nsc_batch batch;

	uint64_t timer;
	nsc_rc step_rc;
	char step_message[NSC_ERROR_MSG_MAX];

	struct nsc_frame_result result;
	nsc_frame_done_fn done;
	void *done_arg;
};

void nsc_frame_init(struct nsc_frame *f, const struct nsc_frame_deps *deps);
void nsc_frame_fini(struct nsc_frame *f);
/* Starts a frame; `done` is called once from the loop when it ends. */
nsc_rc nsc_frame_start(struct nsc_frame *f, nsc_frame_done_fn done, void *arg);
/*
 * The frames from now on read [from_ms, to_ms] as a backfill page (a
 * history window, source.h) instead of the gap after the output's
 * last-known times; nsc_frame_clear_range() goes back to the gap.
 */
void nsc_frame_set_range(struct nsc_frame *f, int64_t from_ms, int64_t to_ms);
void nsc_frame_clear_range(struct nsc_frame *f);
/* Abandons a running frame without calling `done`. */
void nsc_frame_cancel(struct nsc_frame *f);

#endif
