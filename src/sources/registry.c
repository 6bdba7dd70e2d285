/* SPDX-License-Identifier: MIT */
/* The source drivers this build has, by configured kind; timing and payload helpers. */
#include "config.h"

#include <stdlib.h>

#include "source.h"
#include "sources/dexcom.h"
#include "sources/librelinkup.h"
#include "sources/simulator.h"

const struct nsc_source_driver *nsc_source_driver_for(enum nsc_source_kind kind)
{
	switch (kind) {
	case NSC_SOURCE_SIMULATOR:
		return &nsc_source_simulator;
	case NSC_SOURCE_DEXCOMSHARE:
		return &nsc_source_dexcomshare;
	case NSC_SOURCE_LINKUP:
		return &nsc_source_linkup;
	case NSC_SOURCE_NONE:
	case NSC_SOURCE_NIGHTSCOUT:
	case NSC_SOURCE_GLOOKO:
	case NSC_SOURCE_CARELINK:
		break;
	}
	return NULL;
}

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
