/* SPDX-License-Identifier: MIT */
/*
 * A running bridge as the health board shows it: state, times, counters
 * and the last error in plain words, from the bridge's own statistics.
 * Used for every tenant of `serve` and for the one bridge of `forever`.
 */
#ifndef NSC_TENANTS_TENANT_HEALTH_H
#define NSC_TENANTS_TENANT_HEALTH_H

#include <stdint.h>

#include "engine/bridge.h"
#include "health/board.h"

/* Fills *h (all of it) for bridge b named name, started at started_ms (wall time). */
void nsc_tenant_health_fill(struct nsc_health_tenant *h, const char *name, const struct nsc_bridge *b,
			    int64_t started_ms);

/* A tenant without a bridge (its settings were refused, or it could not start): problem in plain words. */
void nsc_tenant_health_refused(struct nsc_health_tenant *h, const char *name, enum nsc_health_state state,
			       const char *error_class, const char *problem);

#endif
