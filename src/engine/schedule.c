/* SPDX-License-Identifier: MIT */
/* When the next frame runs (see schedule.h). */
#include "config.h"

#include "engine/schedule.h"

void nsc_schedule_policy_for(struct nsc_schedule_policy *p, const struct nsc_source_timing *t)
{
	p->interval_ms = t->expected_interval_ms > 0 ? t->expected_interval_ms : 5 * 60 * 1000;
	p->buffer_ms = t->align_buffer_ms;
	p->jitter_ms = t->align_jitter_ms;
	p->failure = (struct nsc_backoff){
		.base_ms = 60 * 1000, .cap_ms = 15 * 60 * 1000, .factor = 2.0, .jitter = 0.2,
	};
	p->lockout = (struct nsc_backoff){
		.base_ms = NSC_LOCKOUT_MIN_MS, .cap_ms = NSC_LOCKOUT_MAX_MS, .factor = 2.0, .jitter = 0.1,
	};
}

int64_t nsc_schedule_aligned(int64_t newest_ms, int64_t now_ms, int64_t interval_ms,
			     int64_t buffer_ms, int64_t jitter_sample_ms)
{
	if (interval_ms <= 0)
		interval_ms = 1;
	if (newest_ms <= 0)
		return now_ms + interval_ms + jitter_sample_ms;
	/*
	 * Pick the slot without the jitter, then add it: a poll made at
	 * slot+buffer+jitter must lead to the next slot, never to a second
	 * poll of the same one because this time's jitter came out larger.
	 */
	int64_t k = 1;
	if (newest_ms + interval_ms + buffer_ms <= now_ms)
		k = (now_ms - newest_ms - buffer_ms) / interval_ms + 1;
	int64_t t = newest_ms + k * interval_ms + buffer_ms;
	while (t <= now_ms)
		t += interval_ms;
	return t + jitter_sample_ms;
}

static int64_t policy_delay(const struct nsc_schedule_policy *p, struct nsc_cycle_counters *c,
			    const struct nsc_frame_result *r, int64_t now_ms, struct nsc_rng *rng)
{
	int64_t jitter = nsc_rng_below(rng, p->jitter_ms);
	switch (r->verdict) {
	case NSC_VERDICT_OK:
		c->failed_in_row = 0;
		c->rejected_in_row = 0;
		return nsc_schedule_aligned(r->newest_entry_ms, now_ms, p->interval_ms, p->buffer_ms,
					    jitter) -
		       now_ms;
	case NSC_VERDICT_DROP:
		c->rejected_in_row = 0;
		return p->interval_ms + jitter;
	case NSC_VERDICT_RETRY:
	case NSC_VERDICT_AUTH:
		c->rejected_in_row = 0;
		c->failed_in_row++;
		return nsc_backoff_delay(&p->failure, c->failed_in_row, rng);
	case NSC_VERDICT_REJECTED:
		c->rejected_in_row++;
		return nsc_backoff_delay(&p->lockout, c->rejected_in_row, rng);
	case NSC_VERDICT_FATAL:
		return -1;
	}
	return -1;
}

int64_t nsc_schedule_next(const struct nsc_schedule_policy *p, struct nsc_cycle_counters *c,
			  const struct nsc_frame_result *r, int64_t now_ms, struct nsc_rng *rng)
{
	int64_t next = policy_delay(p, c, r, now_ms, rng);
	/* The vendor's own "come back later" is a floor, never shortened by our policy. */
	if (next >= 0 && r->verdict != NSC_VERDICT_OK && r->hold_off_ms > next)
		next = r->hold_off_ms;
	return next;
}
