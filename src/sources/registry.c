/* SPDX-License-Identifier: MIT */
/* The source drivers this build has, by configured kind; payload cleanup. */
#include "config.h"

#include <stdlib.h>

#include "source.h"
#include "sources/simulator.h"

const struct nsc_source_driver *nsc_source_driver_for(enum nsc_source_kind kind)
{
	switch (kind) {
	case NSC_SOURCE_SIMULATOR:
		return &nsc_source_simulator;
	case NSC_SOURCE_NONE:
	case NSC_SOURCE_DEXCOMSHARE:
	case NSC_SOURCE_LINKUP:
	case NSC_SOURCE_NIGHTSCOUT:
	case NSC_SOURCE_GLOOKO:
	case NSC_SOURCE_CARELINK:
		break;
	}
	return NULL;
}

void nsc_payload_free(struct nsc_payload *p)
{
	if (p == NULL)
		return;
	free(p->data);
	p->data = NULL;
	p->len = 0;
}
