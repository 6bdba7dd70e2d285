/* SPDX-License-Identifier: MIT */
/*
 * Closing outputs off the loop. Closing a spooled output waits for its
 * writer (the drain, a request in flight), which must not hold up the
 * other bridges on the loop; a small pool of threads does it and then
 * frees the configuration and logger the output used.
 *
 * Ownership & concurrency: add, busy_with and wait are called from one
 * thread (the loop's); the workers take jobs under the closer's mutex.
 */
#ifndef NSC_TENANTS_CLOSER_H
#define NSC_TENANTS_CLOSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/bridge.h"
#include "error.h"
#include "log.h"
#include "nsc_config.h"

struct nsc_closer;

nsc_rc nsc_closer_new(unsigned max_threads, struct nsc_closer **out);

/*
 * Closes out's output on a worker, then frees cfg (nsc_config_free and
 * free) and log (nsc_log_free); all three belong to the closer from now
 * on. When no worker can be had, closes right here.
 */
void nsc_closer_add(struct nsc_closer *c, struct nsc_bridge_output out, struct nsc_config *cfg,
		    struct nsc_log *log);

/* Whether an output still closing uses dir (its spool or output folder). */
bool nsc_closer_busy_with(struct nsc_closer *c, const char *dir);

/* Waits up to timeout_ms for every close to end; returns how many are left. */
size_t nsc_closer_wait(struct nsc_closer *c, int64_t timeout_ms);

/*
 * Ends the workers. With closes left (a wait that timed out), the workers
 * are left to finish on their own while the process exits, and whatever
 * they use (the root logger) must not be freed.
 */
void nsc_closer_free(struct nsc_closer *c);

#endif
