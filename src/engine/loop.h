/* SPDX-License-Identifier: MIT */
/*
 * The event loop: one per process or thread, no global state. It owns a
 * libcurl multi handle (all HTTP I/O of every bridge on the loop), a timer
 * heap and a clock. Many bridges can share one loop.
 *
 * With a virtual clock (tests) the loop does not sleep: when nothing but
 * timers is pending it advances the clock straight to the next timer, so a
 * day of polling runs in milliseconds.
 *
 * Ownership & concurrency: everything runs on the thread that calls
 * nsc_loop_run(). Only nsc_loop_stop() and nsc_loop_stop_from_signal() may
 * be called from other threads or a signal handler.
 */
#ifndef NSC_ENGINE_LOOP_H
#define NSC_ENGINE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "clock.h"
#include "engine/timers.h"
#include "error.h"

struct nsc_loop;

/* An HTTP transfer on the loop; `done` runs on the loop when it finishes. */
struct nsc_loop_transfer {
	CURL *easy;
	void (*done)(struct nsc_loop_transfer *t, CURLcode result);
};

nsc_rc nsc_loop_new(const struct nsc_clock *clock, struct nsc_loop **out);
void nsc_loop_free(struct nsc_loop *loop);

/*
 * Bounds the connections the loop's transfers share (libcurl keeps them
 * alive and reuses them across every bridge on the loop): at most
 * per_host open to one host (more requests wait their turn), at most
 * cached kept alive in all. 0 leaves a bound as it is.
 */
nsc_rc nsc_loop_set_connection_limits(struct nsc_loop *loop, long per_host, long cached);

const struct nsc_clock *nsc_loop_clock(const struct nsc_loop *loop);
int64_t nsc_loop_wall_ms(const struct nsc_loop *loop);
int64_t nsc_loop_mono_ms(const struct nsc_loop *loop);

/* Runs fn(arg) after delay_ms (0 = on the next turn). *id may be NULL. */
nsc_rc nsc_loop_timer_in(struct nsc_loop *loop, int64_t delay_ms, nsc_timer_fn fn, void *arg,
			 uint64_t *id);
/* Cancels a pending timer and zeroes *id; harmless when it is 0 or already fired. */
void nsc_loop_timer_cancel(struct nsc_loop *loop, uint64_t *id);

/* Starts a transfer whose easy handle the caller configured. */
nsc_rc nsc_loop_transfer_start(struct nsc_loop *loop, struct nsc_loop_transfer *t);
/* Aborts a running transfer without calling `done`. */
void nsc_loop_transfer_abort(struct nsc_loop *loop, struct nsc_loop_transfer *t);

/*
 * Runs until nsc_loop_stop() or until nothing is pending (no timers, no
 * transfers). A stop request ends one run and is then cleared, so the loop
 * can be run again. Returns NSC_OK, or NSC_ERR_IO if polling failed.
 */
nsc_rc nsc_loop_run(struct nsc_loop *loop);
void nsc_loop_stop(struct nsc_loop *loop);
/* Async-signal-safe stop: only writes one byte to the loop's wake pipe. */
void nsc_loop_stop_from_signal(struct nsc_loop *loop);
bool nsc_loop_stopped(const struct nsc_loop *loop);

#endif
