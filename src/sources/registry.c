/* SPDX-License-Identifier: MIT */
/* The source drivers this build has, by configured kind. */
#include "config.h"

#include <stddef.h>

#include "source.h"
#include "sources/dexcom/dexcom.h"
#include "sources/librelinkup/librelinkup.h"
#include "sources/simulator/simulator.h"

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
