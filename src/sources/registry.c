/* The driver registry (registry.h): one line per source. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "source.h"
#include "sources/dexcom/dexcom.h"
#include "sources/carelink/carelink.h"
#include "sources/glooko/glooko.h"
#include "sources/librelinkup/librelinkup.h"
#include "sources/nightscout/nightscout.h"
#include "sources/registry.h"
#include "sources/simulator/simulator.h"
#include "sources/source_rows.h"

#define ROWS(vendor_) .rows = nsc_##vendor_##_settings, .n_rows = &nsc_##vendor_##_settings_count

static const struct nsc_source_entry entries[] = {
	{ .name = "simulator", .title = "Simulator", .driver = &nsc_source_simulator,
	  .help = "built-in simulated CGM readings, for trying the bridge and for tests",
	  ROWS(simulator) },
	{ .name = "dexcomshare", .title = "Dexcom Share", .driver = &nsc_source_dexcomshare,
	  .help = "Dexcom Share, the follower service of Dexcom's apps", ROWS(dexcom) },
	{ .name = "linkup", .title = "LibreLinkUp", .driver = &nsc_source_linkup,
	  .help = "Abbott's LibreLinkUp follower service (FreeStyle Libre)", ROWS(librelinkup) },
	{ .name = "nightscout", .title = "Nightscout", .driver = &nsc_source_nightscout,
	  .help = "another Nightscout site: entries, treatments, device status and profiles", ROWS(nightscout) },
	{ .name = "glooko", .title = "Glooko", .driver = &nsc_source_glooko,
	  .help = "Glooko's cloud (Omnipod 5, CamAPS FX, many pumps and meters)", ROWS(glooko) },
	{ .name = "minimedcarelink", .title = "Medtronic CareLink", .driver = &nsc_source_carelink,
	  .help = "Medtronic CareLink (MiniMed 780G, Simplera, Guardian), care partner or patient", ROWS(carelink) },
};

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

const struct nsc_source_entry *nsc_source_entries(size_t *count)
{
	*count = N_ENTRIES;
	return entries;
}

const struct nsc_source_entry *nsc_source_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_ENTRIES; i++) {
		if (strcasecmp(entries[i].name, name) == 0)
			return &entries[i];
	}
	return NULL;
}

const struct nsc_source_driver *nsc_source_driver_for(const struct nsc_source_entry *source)
{
	return source ? source->driver : NULL;
}

char *nsc_source_names(char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < N_ENTRIES; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", entries[i].name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}
