/* SPDX-License-Identifier: MIT */
/* The Nightscout source's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

const struct nsc_setting nsc_nightscout_settings[] = {
	NSC_ROW("CONNECT_SOURCE_ENDPOINT", URL, SOURCE,
		NSC_AT_STR(source_endpoint), .check = NSC_CHECK_ENDPOINT, .required = true,
		.help = "Nightscout site to read from, optionally with a ?token= query"),
	NSC_ROW("CONNECT_SOURCE_API_SECRET", SECRET, SOURCE,
		NSC_AT_STR(source_api_secret),
		.help = "API secret of the Nightscout site to read from; optional"),
	NSC_ROW("CONNECT_SOURCE_COLLECTIONS", STRING, SOURCE, NSC_AT_STR(source_collections),
		.default_text = "entries,treatments,devicestatus,profile",
		.help = "Which collections to copy from the Nightscout source, comma-separated "
			"(profiles is read as profile)"),
	NSC_ROW("CONNECT_SOURCE_MAX_COUNT", INT, SOURCE, .default_text = "1000",
		NSC_AT_RANGE(UNSIGNED, source_max_count, 1, 10000, "documents", 1),
		.help = "How many documents the Nightscout source is asked for per page"),
};

const size_t nsc_nightscout_settings_count =
	sizeof(nsc_nightscout_settings) / sizeof(nsc_nightscout_settings[0]);
