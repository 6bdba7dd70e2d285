/* SPDX-License-Identifier: MIT */
/*
 * A bridge: one source, one output, their session, the fetch frame and the
 * cycle that schedules it, all on a loop the caller owns (several bridges
 * may share one loop). It holds no global state.
 */
#ifndef NSC_ENGINE_BRIDGE_H
#define NSC_ENGINE_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/backfill.h"
#include "engine/frame.h"
#include "engine/loop.h"
#include "engine/schedule.h"
#include "engine/session.h"
#include "log.h"
#include "nsc_config.h"
#include "output.h"
#include "source.h"

struct nsc_bridge_stats {
	uint64_t frames_ok, frames_failed, frames_rejected, payloads_dropped;
	uint64_t records_skipped;
	uint64_t stored[NSC_COLL_COUNT];
	uint64_t duplicates[NSC_COLL_COUNT];
	int64_t newest_entry_ms;     /* newest reading the output holds */
	int64_t new_sgv_ms;          /* newest reading stored by this bridge (0: none) */
	int new_sgv;
	char new_direction[24];
	int64_t last_success_ms;    /* wall time of the last successful frame */
	int64_t next_frame_in_ms;   /* delay chosen after the last frame (-1: none) */
	nsc_rc last_rc;             /* how the last frame ended */
	uint64_t frames;            /* every frame that ended */
	uint64_t by_verdict[NSC_VERDICT_FATAL + 1]; /* frames by how they ended */
	/* Attempts (a frame retries inside itself) that failed, by verdict, and since the last success. */
	uint64_t failed_attempts[NSC_VERDICT_FATAL + 1];
	unsigned failed_in_row;
	int64_t last_attempt_ms;    /* wall time the last attempt ended (0: none yet) */
	int64_t last_failure_ms;    /* wall time of the last failed attempt (0: none) */
	char last_error[NSC_ERROR_MSG_MAX]; /* plain words, empty after a success */
};

struct nsc_bridge;

/* Called once when the bridge stops by itself (once-mode done, or FATAL). */
typedef void (*nsc_bridge_finished_fn)(void *arg, struct nsc_bridge *b);
/* Called after every frame, once the stats include it (hosts watch the bridge with it). */
typedef void (*nsc_bridge_frame_fn)(void *arg, struct nsc_bridge *b, const struct nsc_frame_result *r);

struct nsc_bridge_options {
	bool once;                       /* stop after the first frame */
	uint64_t rng_seed;               /* 0: seeded from time and address */
	nsc_bridge_finished_fn finished; /* may be NULL */
	void *finished_arg;
	nsc_bridge_frame_fn frame_done;  /* may be NULL */
	void *frame_done_arg;
	/* Called (with frame_done_arg) after every failed attempt inside a frame, once the stats include it. */
	void (*attempt_failed)(void *arg, struct nsc_bridge *b);
	/*
	 * A backfill to run instead of polling (backfill.h; the caller's, it
	 * outlives the bridge): each frame reads its next page; the bridge
	 * finishes when every page is read or the backfill stopped.
	 */
	struct nsc_backfill *backfill;
	/*
	 * A probe (doctor's one login and read): no announcement is written, and
	 * a vendor's AUTH after the login ends the frame instead of a second login.
	 */
	bool probe;
};

/*
 * Creates the bridge for cfg (its source and output drivers). Tests pass
 * their own drivers with nsc_bridge_new_with().
 */
nsc_rc nsc_bridge_new(struct nsc_loop *loop, const struct nsc_config *cfg, struct nsc_log *log,
		      const struct nsc_bridge_options *opts, struct nsc_bridge **out,
		      struct nsc_error *err);
nsc_rc nsc_bridge_new_with(struct nsc_loop *loop, const struct nsc_config *cfg, struct nsc_log *log,
			   const struct nsc_bridge_options *opts,
			   const struct nsc_source_driver *source,
			   const struct nsc_output_driver *output, struct nsc_bridge **out,
			   struct nsc_error *err);

/* Schedules the first frame now. */
nsc_rc nsc_bridge_start(struct nsc_bridge *b);
/* Cancels what is pending; the bridge does nothing more until started again. */
void nsc_bridge_stop(struct nsc_bridge *b);
/* Stops, closes the output (flushing it) and frees everything. */
void nsc_bridge_free(struct nsc_bridge *b);

/* A bridge's output, handed over to be closed elsewhere. */
struct nsc_bridge_output {
	const struct nsc_output_driver *driver;
	void *ctx;
};
/*
 * Stops and frees the bridge but its output, which goes to *out: closing
 * may wait for a spool to drain, which a host running many bridges does
 * off the loop (driver->close(ctx); the config and log the bridge was
 * made with must live until then).
 */
void nsc_bridge_free_except_output(struct nsc_bridge *b, struct nsc_bridge_output *out);

/* What waits in the output's spool (0 and 0 for an output without one). */
void nsc_bridge_pending(const struct nsc_bridge *b, uint64_t *bytes, uint64_t *batches);
/* How long closing the output may keep sending what waits (outputs with a spool). */
void nsc_bridge_set_drain(struct nsc_bridge *b, int64_t drain_ms);
const char *nsc_bridge_source_name(const struct nsc_bridge *b);
const char *nsc_bridge_output_name(const struct nsc_bridge *b);

/*
 * Waits until the output holds everything the bridge wrote (a spooled
 * output may still be sending), as long as something gets through at
 * least every idle_ms. NSC_OK, or NSC_ERR_RETRY with err saying what
 * still waits and why.
 */
nsc_rc nsc_bridge_flush(struct nsc_bridge *b, int64_t idle_ms, struct nsc_error *err);

/*
 * What the store said of everything the bridge delivered (new documents and
 * those it held already), for an output that only accepts in write() (a
 * spool); false when write()'s own results, in the stats, are the store's.
 */
bool nsc_bridge_delivered(const struct nsc_bridge *b, struct nsc_write_result *out);
/* Retries inside one frame (the source's own number by default; 0 = one attempt). */
void nsc_bridge_set_max_retries(struct nsc_bridge *b, int max_retries);

bool nsc_bridge_finished(const struct nsc_bridge *b);
const struct nsc_bridge_stats *nsc_bridge_stats(const struct nsc_bridge *b);
const struct nsc_session *nsc_bridge_session(const struct nsc_bridge *b);

#endif
