/* SPDX-License-Identifier: MIT */
/*
 * The contract between the engine and a source driver.
 *
 * A driver is protocol only: it logs in, fetches raw payloads and turns
 * them into Nightscout documents. It never retries, never sleeps and never
 * decides what happens after a failure: every step ends by calling its
 * `done` callback exactly once with an nsc_rc, and the engine's machines
 * act on that code's verdict (error.h).
 *
 * Steps run on the loop thread. A step may call `done` before it returns
 * (the engine defers the continuation), or later from a loop callback.
 * At most one step runs at a time. After `cancel` the driver must not
 * call the pending step's `done` at all (the engine has moved on).
 */
#ifndef NSC_SRC_SOURCE_H
#define NSC_SRC_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "nsc_config.h"
#include "error.h"
#include "log.h"

struct nsc_loop;

/* Completion of an asynchronous step; `message` is plain words or NULL. */
typedef void (*nsc_step_done_fn)(void *arg, nsc_rc rc, const char *message);

/* Timing a source declares; the engine's policy uses it, the driver does not. */
struct nsc_source_timing {
	int64_t expected_interval_ms; /* sensor cadence, e.g. 5 min */
	int64_t align_buffer_ms;      /* wait after the expected reading time, e.g. 18 s */
	int64_t align_jitter_ms;      /* random extra wait in [0, jitter), spreads load */
	int64_t session_refresh_ms;   /* refresh the session after this long (0 = never) */
	int64_t session_expire_ms;    /* session is dead after this long (0 = never) */
	int max_retries;              /* extra attempts within one fetch frame */
	int64_t retry_base_ms;        /* first retry delay within a frame */
};

/*
 * Sets the cadence to interval_ms (a configured poll interval). Buffer,
 * jitter and the first retry delay shrink with it, to a tenth of the
 * interval at most, so a poll still lands just after the reading is due.
 */
void nsc_timing_set_interval(struct nsc_source_timing *t, int64_t interval_ms);

/* What a fetch asks for: the window to cover and the last-known times. */
struct nsc_fetch_window {
	int64_t from_ms;              /* exclusive lower bound */
	int64_t to_ms;                /* now */
	int64_t interval_ms;          /* the cadence in use (size requests by it) */
	struct nsc_last_known last_known;
	/*
	 * A backfill page: [from_ms, to_ms] is a range to read whole, every
	 * time-series collection (entries, treatments, devicestatus) from
	 * from_ms on, however far back the lookback reaches and whatever
	 * last_known says (it holds the output's times all the same, for
	 * documents outside time, such as a profile stored once). to_ms is
	 * in the past only for drivers whose history.page_ms is set; the
	 * others get one page ending now.
	 */
	bool history;
};

/* What a source keeps and how `backfill` reads it (nsc_source_driver.history). */
struct nsc_source_history {
	/* How far back the vendor serves data; 0: everything it ever stored. */
	int64_t kept_ms;
	/*
	 * The range one backfill page asks for (sized to the vendor's limits
	 * and to memory); 0: the vendor only serves its recent data, so a
	 * backfill is one ordinary fetch from the start of what it keeps.
	 */
	int64_t page_ms;
	/* The least wait between two pages, for the vendor's rate limits. */
	int64_t pause_ms;
};

/* A raw payload as the vendor sent it (owned by the engine). */
struct nsc_payload {
	char *data;
	size_t len;
};
void nsc_payload_free(struct nsc_payload *p);

struct nsc_source_env {
	const struct nsc_config *config;
	struct nsc_log *log;
	struct nsc_loop *loop;
};

struct nsc_source_driver {
	const char *name;           /* "simulator", "dexcomshare", … */
	const char *display_name;   /* "Dexcom Share", shown in user messages */
	struct nsc_source_timing timing;
	struct nsc_source_history history;

	nsc_rc (*create)(const struct nsc_source_env *env, void **ctx, struct nsc_error *err);
	void (*destroy)(void *ctx);

	/*
	 * Session steps; authenticate NULL means no session is needed.
	 * authenticate -> (authorize, optional) -> established. A rejected login
	 * ends with NSC_ERR_REJECTED and a message saying what the user must fix.
	 */
	void (*authenticate)(void *ctx, nsc_step_done_fn done, void *arg);
	void (*authorize)(void *ctx, nsc_step_done_fn done, void *arg);
	/*
	 * Optional: adjusts the timing for this instance (a configured cadence,
	 * say). The engine copies `timing` and calls this once after create.
	 */
	void (*tune_timing)(void *ctx, struct nsc_source_timing *t);

	/* Forget the session (vendor killed it, or it expired). */
	void (*drop_session)(void *ctx);

	/*
	 * Optional: abandon the step in flight (abort its transfer) without
	 * calling its `done`. Called when the bridge stops; harmless when no
	 * step runs.
	 */
	void (*cancel)(void *ctx);

	/*
	 * Optional: after a step failed, how long the vendor asked us to stay
	 * away (a Retry-After header, an account lock's duration), in ms; 0
	 * when it said nothing. Reading it clears it. The engine then makes no
	 * further attempt in this frame and starts the next one no sooner.
	 */
	int64_t (*hold_off_ms)(void *ctx);

	/*
	 * Optional, for `doctor`: the base URLs (scheme, host, port; never a
	 * credential) this instance talks to, at most max into urls; returns
	 * how many. NULL: it talks to no server.
	 */
	size_t (*servers)(void *ctx, const char **urls, size_t max);
	/*
	 * Optional, for `doctor`, after authorize: what the account can see and
	 * which of it the bridge reads, in plain words ("2 connections: ...").
	 * NULL: an account has only its own data.
	 */
	void (*describe_selection)(void *ctx, char *buf, size_t size);

	/* Fetch raw data for the window into *out (engine frees it). */
	void (*fetch)(void *ctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		      nsc_step_done_fn done, void *arg);

	/*
	 * Optional: what the last fetch read is done with, stored by the output
	 * (its write returned OK) or dropped as unusable. A driver that keeps a
	 * read position of its own (the Nightscout source's v3 history
	 * bookmarks) moves it here, never at the fetch, so documents whose
	 * write failed are read again.
	 */
	void (*consumed)(void *ctx);

	/*
	 * Pure: payload -> documents. NSC_ERR_DROP (with err) for a payload
	 * that cannot be used; individual bad records are skipped and counted
	 * in *skipped.
	 */
	nsc_rc (*transform)(void *ctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			    struct nsc_batch *out, size_t *skipped, struct nsc_error *err);
};

#endif
