/* SPDX-License-Identifier: MIT */
/* Exponential backoff with capped, upward-only jitter (see backoff.h). */
#include "config.h"

#include "engine/backoff.h"

void nsc_rng_seed(struct nsc_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t nsc_rng_next(struct nsc_rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

double nsc_rng_unit(struct nsc_rng *r)
{
	return (double)(nsc_rng_next(r) >> 11) * 0x1.0p-53;
}

int64_t nsc_rng_below(struct nsc_rng *r, int64_t bound)
{
	if (bound <= 0)
		return 0;
	return (int64_t)(nsc_rng_next(r) % (uint64_t)bound);
}

int64_t nsc_backoff_nominal(const struct nsc_backoff *b, unsigned attempt)
{
	if (attempt == 0)
		return 0;
	double d = (double)b->base_ms;
	double factor = b->factor < 1.0 ? 1.0 : b->factor;
	for (unsigned i = 1; i < attempt && d < (double)b->cap_ms; i++)
		d *= factor;
	if (d > (double)b->cap_ms)
		return b->cap_ms;
	return (int64_t)d;
}

int64_t nsc_backoff_delay(const struct nsc_backoff *b, unsigned attempt, struct nsc_rng *rng)
{
	int64_t nominal = nsc_backoff_nominal(b, attempt);
	if (b->jitter <= 0.0 || !rng)
		return nominal;
	double d = (double)nominal * (1.0 + b->jitter * nsc_rng_unit(rng));
	if (d > (double)b->cap_ms)
		return b->cap_ms;
	return (int64_t)d;
}
