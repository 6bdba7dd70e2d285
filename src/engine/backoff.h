/* SPDX-License-Identifier: MIT */
/*
 * Backoff and jitter, as pure functions of their parameters.
 *
 * nominal(n) = min(cap, base * factor^(n-1)) for attempt n >= 1.
 * With jitter j, the delay is drawn uniformly from [nominal, nominal*(1+j)]
 * and then capped: never shorter than its nominal value (so a 30-minute
 * lockout wait is at least 30 minutes) and never longer than the cap.
 *
 * The random source is an explicit state (splitmix64), so tests pin it.
 */
#ifndef NSC_ENGINE_BACKOFF_H
#define NSC_ENGINE_BACKOFF_H

#include <stdint.h>

struct nsc_rng {
	uint64_t state;
};

void nsc_rng_seed(struct nsc_rng *r, uint64_t seed);
uint64_t nsc_rng_next(struct nsc_rng *r);
/* Uniform in [0, 1). */
double nsc_rng_unit(struct nsc_rng *r);
/* Uniform integer in [0, bound); 0 when bound <= 0. */
int64_t nsc_rng_below(struct nsc_rng *r, int64_t bound);

struct nsc_backoff {
	int64_t base_ms;
	int64_t cap_ms;
	double factor; /* >= 1 */
	double jitter; /* >= 0, fraction of the nominal delay added at random */
};

int64_t nsc_backoff_nominal(const struct nsc_backoff *b, unsigned attempt);
int64_t nsc_backoff_delay(const struct nsc_backoff *b, unsigned attempt, struct nsc_rng *rng);

#endif
