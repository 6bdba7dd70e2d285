/* SPDX-License-Identifier: MIT */
/*
 * A spooled output: what the engine sees of every remote output (MongoDB,
 * Nightscout REST). It wraps a synchronous backend so that the engine loop
 * never waits on the network, and so that nothing is lost when the store is
 * down or the process dies.
 *
 *   engine write(batch) --append, fsync--> spool dir --writer thread--> backend
 *
 * - write() serialises the batch into one spool file (written to a temporary
 *   name, fsync'd, renamed, directory fsync'd) and returns NSC_OK; it only
 *   waits on the local disk. When the spool holds more than its limit it
 *   returns NSC_ERR_RETRY ("spool full"), so the engine backs off and the data
 *   stays at the vendor.
 * - One writer thread replays spool files in order (oldest first) through
 *   backend->write(). A RETRY verdict leaves the file and waits (the
 *   engine's backoff: 2 s doubling to 60 s, with up to 20 % jitter, on the
 *   clock the caller gives, so tests drive it on a virtual one); success deletes it; DROP/FATAL verdicts move it to
 *   <spool>/rejected/ with a logged error, so one bad batch cannot block the
 *   rest.
 * - The spool survives restarts: open() finds the files left by an earlier
 *   run and the writer replays them first. Backends are idempotent, so a
 *   batch replayed after a crash between "stored" and "deleted" changes
 *   nothing.
 * - last_known() never touches the network: it returns, per collection, the
 *   newest of what the backend reported (queried on the writer thread at
 *   start and refreshed after writes) and of what the spool holds.
 * - close() asks the writer to finish: it keeps draining for up to
 *   `drain_timeout_ms`, then stops; what is left stays on disk for next time.
 *
 * Ownership & concurrency: backend ops run only on the writer thread after
 * open (open itself runs backend->open on the caller's thread). The spool
 * state shared with the engine thread is guarded by one mutex.
 */
#ifndef NSC_OUTPUTS_SPOOLED_H
#define NSC_OUTPUTS_SPOOLED_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "output.h"

struct nsc_spooled;

struct nsc_spooled_options {
	const char *dir;           /* spool directory (created 0700 if missing) */
	uint64_t max_bytes;        /* refuse new batches beyond this much spooled data */
	int64_t drain_timeout_ms;  /* how long close() keeps draining */
	int64_t retry_min_ms;      /* first wait after a backend RETRY (default 2000) */
	int64_t retry_max_ms;      /* longest wait (default 60000) */
	const struct nsc_clock *clock; /* NULL: the system clock */
	uint64_t rng_seed;         /* for the backoff's jitter; 0: from time and address */
	/* Called on the writer thread after a batch reached the backend (may be NULL). */
	void (*stored)(void *arg, const struct nsc_write_result *res);
	void *stored_arg;
};

nsc_rc nsc_spooled_open(const struct nsc_output_driver *backend, const struct nsc_config *cfg,
			struct nsc_log *log, const struct nsc_spooled_options *opts,
			struct nsc_spooled **out, struct nsc_error *err);
void nsc_spooled_close(struct nsc_spooled *s);
nsc_rc nsc_spooled_last_known(struct nsc_spooled *s, struct nsc_last_known *out,
			      struct nsc_error *err);
/* res->stored counts what was spooled (the backend dedups later). */
nsc_rc nsc_spooled_write(struct nsc_spooled *s, const struct nsc_batch *b,
			 struct nsc_write_result *res, struct nsc_error *err);

/* For health and tests. */
struct nsc_spooled_status {
	size_t pending_batches;
	uint64_t pending_bytes;
	uint64_t replayed_batches;  /* reached the backend */
	uint64_t rejected_batches;  /* moved to rejected/ */
	uint64_t progress;          /* batches, and parts the backend reported, delivered */
	nsc_rc last_backend_rc;
	char last_backend_error[NSC_ERROR_MSG_MAX];
};
void nsc_spooled_status(struct nsc_spooled *s, struct nsc_spooled_status *out);
/* What the backend said of every batch delivered since open (new and already held), summed. */
void nsc_spooled_delivered(struct nsc_spooled *s, struct nsc_write_result *out);
/*
 * Blocks until the spool is empty, as long as it makes progress: it gives
 * up (NSC_ERR_RETRY) once nothing reached the backend for idle_ms, and
 * every batch or part of one that gets through starts that wait afresh.
 * NSC_OK when empty.
 */
nsc_rc nsc_spooled_wait_empty(struct nsc_spooled *s, int64_t idle_ms);

/*
 * The engine-facing face of a remote output, built at run time over any
 * backend given as a value: named like the backend, with the spool's
 * operations and `spooled_over` = backend, so nsc_output_open() opens the
 * backend behind a spool (cfg->spool_dir, cfg->spool_max_bytes). The
 * output registry builds one per remote output.
 */
struct nsc_output_driver nsc_spooled_driver(const struct nsc_output_driver *backend);
nsc_rc nsc_spooled_driver_open(const struct nsc_output_driver *backend, const struct nsc_config *cfg,
			       struct nsc_log *log, void **ctx, struct nsc_error *err);

void nsc_spooled_options_from_config(struct nsc_spooled_options *o, const struct nsc_config *cfg);
void nsc_spooled_driver_close(void *ctx);
nsc_rc nsc_spooled_driver_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err);
nsc_rc nsc_spooled_driver_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
				struct nsc_error *err);
nsc_rc nsc_spooled_driver_flush(void *ctx, int64_t timeout_ms, struct nsc_error *err);

#endif
