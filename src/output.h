/* SPDX-License-Identifier: MIT */
/*
 * The contract between the engine and an output (filesystem, MongoDB,
 * Nightscout REST). An output is idempotent: writing the same batch twice
 * stores nothing new. It also answers the last-known time per collection,
 * from what it actually holds, so a restarted bridge fetches only the gap.
 */
#ifndef NSC_SRC_OUTPUT_H
#define NSC_SRC_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "diag.h"
#include "nsc_config.h"
#include "error.h"
#include "log.h"

struct nsc_write_result {
	size_t stored[NSC_COLL_COUNT];     /* new documents */
	size_t duplicates[NSC_COLL_COUNT]; /* already held, skipped or updated in place */
};

struct nsc_output_driver {
	const char *name; /* "filesystem", "mongo", "rest", "rest3" */

	/*
	 * Set on the engine-facing face of a remote output (spooled.h):
	 * nsc_output_open() opens this backend behind the spool (the face's
	 * own open() refuses with NSC_ERR_INTERNAL); the other operations
	 * are the spool's.
	 */
	const struct nsc_output_driver *spooled_over;

	nsc_rc (*open)(const struct nsc_config *cfg, struct nsc_log *log, void **ctx,
		       struct nsc_error *err);
	void (*close)(void *ctx); /* flushes; ctx is gone afterwards */

	nsc_rc (*last_known)(void *ctx, struct nsc_last_known *out, struct nsc_error *err);

	/*
	 * Stores the batch. Returns NSC_OK, or a code whose verdict says what
	 * the engine does (RETRY when the store is unreachable, FATAL when it
	 * cannot work at all).
	 */
	nsc_rc (*write)(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
			struct nsc_error *err);

	/*
	 * Optional, for outputs that accept data before it reaches the store
	 * (spooled.h): waits until everything written has arrived, as long as
	 * something arrives at least every idle_ms. NSC_OK when it has;
	 * NSC_ERR_RETRY with the store's last error when data still waits.
	 * NULL means write() already stored it.
	 */
	nsc_rc (*flush)(void *ctx, int64_t idle_ms, struct nsc_error *err);

	/*
	 * Optional, for backends that store a batch in many requests: `fn(arg)`
	 * is to be called (on the thread running write) each time a part of
	 * the batch reached the store, so a waiter tells a slow upload from a
	 * stuck one. The spool sets it once after open.
	 */
	void (*set_progress)(void *ctx, void (*fn)(void *arg), void *arg);
	/*
	 * Optional, for outputs whose write() only accepts (spooled.h): what
	 * the store said of everything delivered since open, new documents
	 * and those it held already. NULL: write()'s results are the store's.
	 */
	void (*delivered)(void *ctx, struct nsc_write_result *out);
	/*
	 * Optional, for outputs that accept before storing: what waits to
	 * reach the store (for health), and how long close() may keep
	 * sending it (what is left stays for the next start).
	 */
	void (*pending)(void *ctx, uint64_t *bytes, uint64_t *batches);
	void (*set_drain)(void *ctx, int64_t drain_ms);

	/*
	 * Optional, on a backend, for `doctor`: checks the store for cfg
	 * (reachable, may be written, ready) and says each finding; stores
	 * nothing that stays. Blocking.
	 */
	void (*diagnose)(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d);
};

/*
 * The output registry (outputs/registry.c) holds each output once, with
 * whether it is remote. nsc_output_driver_for() gives what the engine
 * uses: a local output itself, a remote one as its spooled face (the
 * spool wraps it when it is opened). NULL when this build lacks it.
 */
const struct nsc_output_driver *nsc_output_driver_for(enum nsc_output_kind kind);
/*
 * The same output without the spool: each write reaches the database or
 * Nightscout before it returns (blocking; for a thread of its own).
 */
const struct nsc_output_driver *nsc_output_backend_for(enum nsc_output_kind kind);
/*
 * Opens any driver: a spooled face opens its backend behind a spool, any
 * other driver through its own open(). Use this rather than d->open.
 */
nsc_rc nsc_output_open(const struct nsc_output_driver *d, const struct nsc_config *cfg,
		       struct nsc_log *log, void **ctx, struct nsc_error *err);

#endif
