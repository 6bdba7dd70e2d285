/* SPDX-License-Identifier: MIT */
/* The system clock and a virtual clock for tests. */
#include "config.h"

#include <time.h>

#include "clock.h"

static int64_t ts_ms(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t system_wall(void *ctx)
{
	(void)ctx;
	return ts_ms(CLOCK_REALTIME);
}

static int64_t system_mono(void *ctx)
{
	(void)ctx;
	return ts_ms(CLOCK_MONOTONIC);
}

const struct nsc_clock nsc_clock_system = {
	.wall_ms = system_wall,
	.mono_ms = system_mono,
	.advance = NULL,
	.ctx = NULL,
};

static int64_t fake_wall(void *ctx)
{
	return ((struct nsc_fake_clock *)ctx)->wall;
}

static int64_t fake_mono(void *ctx)
{
	return ((struct nsc_fake_clock *)ctx)->mono;
}

static void fake_advance(void *ctx, int64_t ms)
{
	nsc_fake_clock_advance(ctx, ms);
}

void nsc_fake_clock_init(struct nsc_fake_clock *fc, int64_t start_wall_ms, struct nsc_clock *out)
{
	fc->wall = start_wall_ms;
	fc->mono = 1000000; /* arbitrary non-zero origin, like a real monotonic clock */
	out->wall_ms = fake_wall;
	out->mono_ms = fake_mono;
	out->advance = fake_advance;
	out->ctx = fc;
}

void nsc_fake_clock_advance(struct nsc_fake_clock *fc, int64_t ms)
{
	if (ms > 0) {
		fc->wall += ms;
		fc->mono += ms;
	}
}
