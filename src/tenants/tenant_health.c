/* SPDX-License-Identifier: MIT */
/* A bridge's statistics as a health board entry (see tenant_health.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tenants/tenant_health.h"

static enum nsc_health_state state_of(const struct nsc_bridge *b, const struct nsc_bridge_stats *st)
{
	if (nsc_bridge_finished(b))
		return NSC_HEALTH_STOPPED;
	if (st->frames == 0 && st->last_failure_ms == 0)
		return NSC_HEALTH_STARTING;
	switch (nsc_rc_verdict(st->last_rc)) {
	case NSC_VERDICT_OK:
		return NSC_HEALTH_OK;
	case NSC_VERDICT_REJECTED:
		return NSC_HEALTH_REJECTED;
	case NSC_VERDICT_FATAL:
		return NSC_HEALTH_STOPPED;
	case NSC_VERDICT_RETRY:
	case NSC_VERDICT_AUTH:
	case NSC_VERDICT_DROP:
		break;
	}
	return NSC_HEALTH_FAILING;
}

void nsc_tenant_health_fill(struct nsc_health_tenant *h, const char *name, const struct nsc_bridge *b,
			    int64_t started_ms)
{
	const struct nsc_bridge_stats *st = nsc_bridge_stats(b);
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->source, sizeof(h->source), "%s", nsc_bridge_source_name(b));
	snprintf(h->output, sizeof(h->output), "%s", nsc_bridge_output_name(b));
	h->state = state_of(b, st);
	h->started_ms = started_ms;
	h->last_attempt_ms = st->last_attempt_ms;
	h->last_success_ms = st->last_success_ms;
	h->newest_reading_ms = st->newest_entry_ms;
	h->next_poll_ms = st->next_frame_in_ms >= 0 && st->last_attempt_ms > 0 && !nsc_bridge_finished(b)
				  ? st->last_attempt_ms + st->next_frame_in_ms
				  : 0;
	h->consecutive_failures = st->failed_in_row;
	h->polls = st->frames;
	h->logins = nsc_bridge_session(b)->logins;
	h->login_rejections = st->frames_rejected;
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		h->stored[c] = st->stored[c];
	for (int v = 0; v <= NSC_VERDICT_FATAL; v++)
		h->failures[v] = v == NSC_VERDICT_OK ? 0 : st->failed_attempts[v];
	if (st->last_error[0]) {
		snprintf(h->error_class, sizeof(h->error_class), "%s", nsc_health_verdict_name(nsc_rc_verdict(st->last_rc)));
		snprintf(h->last_error, sizeof(h->last_error), "%s", st->last_error);
	}
	nsc_bridge_pending(b, &h->spool_bytes, &h->spool_batches);
}

void nsc_tenant_health_refused(struct nsc_health_tenant *h, const char *name, enum nsc_health_state state,
			       const char *error_class, const char *problem)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->state = state;
	snprintf(h->error_class, sizeof(h->error_class), "%s", error_class);
	snprintf(h->last_error, sizeof(h->last_error), "%s", problem ? problem : "");
}
