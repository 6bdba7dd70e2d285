/* SPDX-License-Identifier: MIT */
/* The simulator source's settings rows (see setting_row.h). */
#include "config.h"

#include <stdint.h>

#include "setting_row.h"
#include "sources/source_rows.h"

const struct nsc_setting nsc_simulator_settings[] = {
	NSC_ROW("CONNECT_SIMULATOR_SEED", INT, SOURCE, .default_text = "1",
		.store = NSC_STORE_UINT64, .offset = offsetof(struct nsc_config, simulator_seed),
		.check = NSC_CHECK_U64, .help = "Seed for the simulated readings"),
	NSC_ROW("CONNECT_SIMULATOR_INTERVAL", INT, SOURCE,
		.default_text = "300",
		NSC_AT_RANGE(INT64, simulator_interval_ms, 1, 3600, "seconds", 1000),
		.help = "Seconds between simulated readings (300 is a CGM's 5 minutes; short "
			"intervals are for tests)"),
	NSC_ROW("CONNECT_SIMULATOR_USERNAME", STRING, SOURCE,
		NSC_AT_STR(simulator_username), .needs = "CONNECT_SIMULATOR_PASSWORD",
		.help = "User name for the simulator's login, any text; optional (no login when "
			"unset), needs CONNECT_SIMULATOR_PASSWORD too"),
	NSC_ROW("CONNECT_SIMULATOR_PASSWORD", SECRET, SOURCE,
		NSC_AT_STR(simulator_password), .needs = "CONNECT_SIMULATOR_USERNAME",
		.help = "Password for the simulator's login, kept exactly as given; optional, "
			"needs CONNECT_SIMULATOR_USERNAME too"),
};

const size_t nsc_simulator_settings_count =
	sizeof(nsc_simulator_settings) / sizeof(nsc_simulator_settings[0]);
