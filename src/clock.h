/* SPDX-License-Identifier: MIT */
/*
 * Injectable clock. Wall time (epoch ms, UTC) is what readings and schedules
 * are expressed in; monotonic time is what timers count in, so a wall-clock
 * step does not make a timer fire early or hours late. A test clock moves
 * both together when the loop advances it.
 */
#ifndef NSC_SRC_CLOCK_H
#define NSC_SRC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct nsc_clock {
	int64_t (*wall_ms)(void *ctx);
	int64_t (*mono_ms)(void *ctx);
	/*
	 * Only for virtual clocks: move time forward by `ms` instead of
	 * sleeping. NULL for the real clock.
	 */
	void (*advance)(void *ctx, int64_t ms);
	void *ctx;
};

/* The real clock (CLOCK_REALTIME / CLOCK_MONOTONIC). */
extern const struct nsc_clock nsc_clock_system;

/* A virtual clock for tests: starts at `start_wall_ms`, moves only when advanced. */
struct nsc_fake_clock {
	int64_t wall;
	int64_t mono;
};
void nsc_fake_clock_init(struct nsc_fake_clock *fc, int64_t start_wall_ms, struct nsc_clock *out);
void nsc_fake_clock_advance(struct nsc_fake_clock *fc, int64_t ms);

static inline int64_t nsc_clock_wall(const struct nsc_clock *c) { return c->wall_ms(c->ctx); }
static inline int64_t nsc_clock_mono(const struct nsc_clock *c) { return c->mono_ms(c->ctx); }
static inline bool nsc_clock_is_virtual(const struct nsc_clock *c) { return c->advance != NULL; }

#endif
