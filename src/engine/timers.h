/* SPDX-License-Identifier: MIT */
/*
 * A min-heap of timers keyed by (due time, insertion order): timers due at
 * the same millisecond fire in the order they were added. Times are in the
 * loop's monotonic milliseconds. Pure data structure, no clock inside.
 */
#ifndef NSC_ENGINE_TIMERS_H
#define NSC_ENGINE_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef void (*nsc_timer_fn)(void *arg);

struct nsc_timer {
	int64_t due;
	uint64_t id; /* never 0; also the tie-breaker */
	nsc_timer_fn fn;
	void *arg;
};

struct nsc_timers {
	struct nsc_timer *heap;
	size_t len, cap;
	uint64_t next_id;
};

void nsc_timers_init(struct nsc_timers *t);
void nsc_timers_free(struct nsc_timers *t);
nsc_rc nsc_timers_add(struct nsc_timers *t, int64_t due, nsc_timer_fn fn, void *arg, uint64_t *id);
/* Removes the timer; false when it already fired or never existed. */
bool nsc_timers_cancel(struct nsc_timers *t, uint64_t id);
/* Earliest due time; false when empty. */
bool nsc_timers_next_due(const struct nsc_timers *t, int64_t *due);
/* Pops the earliest timer if it is due at `now`. */
bool nsc_timers_pop_due(struct nsc_timers *t, int64_t now, struct nsc_timer *out);
static inline size_t nsc_timers_count(const struct nsc_timers *t) { return t->len; }

#endif
