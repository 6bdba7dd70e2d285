/* SPDX-License-Identifier: MIT */
/* Glooko's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const envs[] = { "default", "eu", "development", "production", NULL };

const struct nsc_setting nsc_glooko_settings[] = {
	NSC_ROW("CONNECT_GLOOKO_EMAIL", "glooko-email", STRING, SOURCE, NSC_AT_STR(glooko_email),
		.required = true, .help = "Glooko account e-mail"),
	NSC_ROW("CONNECT_GLOOKO_PASSWORD", "glooko-password", SECRET, SOURCE,
		NSC_AT_STR(glooko_password), .required = true,
		.help = "Glooko account password, kept exactly as given"),
	NSC_ROW("CONNECT_GLOOKO_ENV", "glooko-env", ENUM, SOURCE, NSC_AT_STR(glooko_env),
		.check = NSC_CHECK_ENUM, .choices = envs, .default_text = "default",
		.help = "Glooko service (default is the US one)"),
	NSC_ROW("CONNECT_GLOOKO_SERVER", "glooko-server", URL, SOURCE, NSC_AT_STR(glooko_server),
		.check = NSC_CHECK_SERVER,
		.help = "Glooko API server instead of CONNECT_GLOOKO_ENV's; default from "
			"CONNECT_GLOOKO_ENV"),
	NSC_ROW("CONNECT_GLOOKO_TIMEZONE", "glooko-timezone", STRING, SOURCE,
		NSC_AT_STR(glooko_timezone), .check = NSC_CHECK_TIMEZONE,
		.help = "Time zone of the Glooko device clock, an IANA zone name like "
			"Europe/Berlin; default none (UTC unless CONNECT_GLOOKO_TIMEZONE_OFFSET "
			"is set)"),
	NSC_ROW("CONNECT_GLOOKO_TIMEZONE_OFFSET", "glooko-timezone-offset", NUMBER, SOURCE,
		.check = NSC_CHECK_OWN,
		.help = "Fixed offset of the Glooko device clock from UTC in hours, a number "
			"from -14 to 14 like 1 or -5.5; default none (prefer "
			"CONNECT_GLOOKO_TIMEZONE)"),
};

const size_t nsc_glooko_settings_count =
	sizeof(nsc_glooko_settings) / sizeof(nsc_glooko_settings[0]);
