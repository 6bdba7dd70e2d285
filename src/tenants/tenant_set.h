/* SPDX-License-Identifier: MIT */
/*
 * Many bridges on one loop, one per file of a tenants folder (the `serve`
 * command). Each NAME.env file holds one bridge's settings, over the
 * process's own settings as defaults; NAME is the tenant, and its log
 * lines carry tenant=NAME.
 *
 * - Isolation: a tenant whose settings are refused is reported (logged,
 *   and on the health board with the problems) and skipped; the others
 *   run. Each bridge's failures stay its own (the engine is per bridge).
 * - Folders: a tenant that does not set CONNECT_SPOOL_DIR or
 *   CONNECT_OUTPUT_DIR in its own file gets the process's (or the default)
 *   with /NAME added, so no two tenants share a spool or an output folder;
 *   two files naming the same folder are refused for the second.
 * - First polls are spread: a tenant starting with others waits a random
 *   part of a window that grows with their number (start_spacing_ms each),
 *   at most the cadence, so thousands never log in at once.
 * - nsc_tenant_set_scan() brings the running set in line with the folder:
 *   new files start, removed files stop (their output closed off the
 *   loop: a spool keeps what it could not send), changed files (by
 *   content) restart only their tenant, after its old output is closed.
 *
 * Ownership & concurrency: everything runs on the loop's thread; outputs
 * are closed on the closer's threads (closer.h).
 */
#ifndef NSC_TENANTS_TENANT_SET_H
#define NSC_TENANTS_TENANT_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/loop.h"
#include "error.h"
#include "health/board.h"
#include "log.h"
#include "nsc_config.h"

struct nsc_tenant_set_options {
	const char *dir;               /* the tenants folder */
	nsc_config_lookup_fn defaults; /* the process's settings; a tenant's file overrides them */
	void *defaults_ctx;
	struct nsc_log *log;           /* root logger; each tenant logs through a child of it */
	struct nsc_health_board *board; /* may be NULL */
	int64_t start_spacing_ms;      /* 0: 30 ms between first polls */
	uint64_t rng_seed;             /* 0: from the time */
};

/* What a scan did. */
struct nsc_tenant_scan {
	size_t started, restarted, stopped, invalid, unchanged;
};

struct nsc_tenant_set;

nsc_rc nsc_tenant_set_new(struct nsc_loop *loop, const struct nsc_tenant_set_options *o,
			  struct nsc_tenant_set **out, struct nsc_error *err);
/*
 * Reads the folder and applies what changed. retry_idle (a SIGHUP) also
 * restarts tenants that are not running (refused settings, a stopped
 * bridge) though their file is the same: a secret file they name may have
 * been fixed. NSC_ERR_CONFIG when the folder cannot be read (nothing
 * changes then).
 */
nsc_rc nsc_tenant_set_scan(struct nsc_tenant_set *ts, bool retry_idle, struct nsc_tenant_scan *out,
			   struct nsc_error *err);
/* About every second, on the loop: starts tenants whose old output has closed. */
void nsc_tenant_set_tick(struct nsc_tenant_set *ts);
/* Tenants whose bridge runs. */
size_t nsc_tenant_set_running(const struct nsc_tenant_set *ts);
size_t nsc_tenant_set_count(const struct nsc_tenant_set *ts);
/*
 * Stops every tenant and closes the outputs in parallel, each spool
 * sending what waits for at most budget_ms. True when all closed within
 * about twice the budget; false when some are still closing (a request in
 * flight): what they hold stays in their spools for the next start, and
 * the root logger must then stay alive (the process is ending).
 */
bool nsc_tenant_set_shutdown(struct nsc_tenant_set *ts, int64_t budget_ms);
void nsc_tenant_set_free(struct nsc_tenant_set *ts);

#endif
