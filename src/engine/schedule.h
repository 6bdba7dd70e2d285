/* SPDX-License-Identifier: MIT */
/*
 * The cycle's policy: when the next frame starts, given how the last one
 * ended. Pure functions of their inputs (time and randomness are passed in).
 *
 * - Success: align to the sensor cadence. The next poll is the first
 *   `newest + k*interval + buffer + jitter` that lies in the future, so a
 *   new reading is fetched within about buffer+jitter of its arrival.
 * - DROP: the payload was unusable; poll again one interval later.
 * - RETRY (after the frame's own retries): exponential backoff on the
 *   number of failed frames in a row (1, 2, 4 … minutes, capped).
 * - REJECTED: the lockout guard. Never a tight loop: at least 30 minutes,
 *   doubling with each rejection in a row up to 6 hours.
 * - FATAL: no next frame.
 * - After any failure, a hold-off the vendor asked for (frame result) is
 *   the least the next frame waits.
 */
#ifndef NSC_ENGINE_SCHEDULE_H
#define NSC_ENGINE_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/backoff.h"
#include "engine/frame.h"

#define NSC_LOCKOUT_MIN_MS (30 * 60 * 1000)
#define NSC_LOCKOUT_MAX_MS (6 * 60 * 60 * 1000)

struct nsc_schedule_policy {
	int64_t interval_ms;       /* sensor cadence */
	int64_t buffer_ms;         /* wait after the expected reading */
	int64_t jitter_ms;         /* random extra in [0, jitter) */
	struct nsc_backoff failure; /* after RETRY frames */
	struct nsc_backoff lockout; /* after REJECTED frames */
};

struct nsc_cycle_counters {
	unsigned failed_in_row;   /* frames that ended RETRY/AUTH */
	unsigned rejected_in_row; /* frames that ended REJECTED */
};

/* The policy for a source's timing, with the engine's failure and lockout backoffs. */
void nsc_schedule_policy_for(struct nsc_schedule_policy *p, const struct nsc_source_timing *t);

/*
 * newest + k*interval + buffer + jitter_sample for the smallest k >= 1 whose
 * newest + k*interval + buffer is after now (the jitter never makes the same
 * slot polled twice). With no reading yet (newest <= 0): now + interval + jitter.
 */
int64_t nsc_schedule_aligned(int64_t newest_ms, int64_t now_ms, int64_t interval_ms,
			     int64_t buffer_ms, int64_t jitter_sample_ms);

/*
 * Updates the counters for a finished frame and returns the delay in ms
 * until the next frame, or -1 when the bridge must stop (FATAL).
 */
int64_t nsc_schedule_next(const struct nsc_schedule_policy *p, struct nsc_cycle_counters *c,
			  const struct nsc_frame_result *r, int64_t now_ms, struct nsc_rng *rng);

#endif
