/* SPDX-License-Identifier: MIT */
/* The helpers of the source contract: cadence tuning and payloads (see source.h). */
#include "config.h"

#include <stdlib.h>

#include "source.h"

void nsc_timing_set_interval(struct nsc_source_timing *t, int64_t interval_ms)
{
	if (interval_ms <= 0)
		return;
	int64_t tenth = interval_ms / 10;
	t->expected_interval_ms = interval_ms;
	if (t->align_buffer_ms > tenth)
		t->align_buffer_ms = tenth;
	if (t->align_jitter_ms > tenth)
		t->align_jitter_ms = tenth;
	if (t->retry_base_ms > interval_ms)
		t->retry_base_ms = interval_ms;
}

void nsc_payload_free(struct nsc_payload *p)
{
	if (p == NULL)
		return;
	free(p->data);
	p->data = NULL;
	p->len = 0;
}
