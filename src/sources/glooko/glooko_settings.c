/* SPDX-License-Identifier: MIT */
/* Glooko's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const envs[] = { "default", "eu", "development", "production", NULL };

const struct nsc_setting nsc_glooko_settings[] = {
	NSC_ROW_ACCOUNT("CONNECT_GLOOKO_EMAIL", glooko_email,
			"Glooko account e-mail"),
	NSC_ROW_PASSWORD("CONNECT_GLOOKO_PASSWORD", glooko_password, "Glooko"),
	NSC_ROW_CHOICE("CONNECT_GLOOKO_ENV", glooko_env, envs, "default",
		       "Glooko service (default is the US one)"),
	NSC_ROW_SERVER("CONNECT_GLOOKO_SERVER", glooko_server, "Glooko API", "CONNECT_GLOOKO_ENV"),
	NSC_ROW_TEXT("CONNECT_GLOOKO_TIMEZONE", glooko_timezone, TIMEZONE,
		     NULL,
		     "Time zone of the Glooko device clock, an IANA zone name like "
		     "Europe/Berlin; default none (UTC unless CONNECT_GLOOKO_TIMEZONE_OFFSET is "
		     "set)"),
	/* a decimal number of hours and a has_ flag: config.c reads it */
	NSC_ROW("CONNECT_GLOOKO_TIMEZONE_OFFSET", NUMBER, SOURCE,
		.check = NSC_CHECK_OWN,
		.help = "Fixed offset of the Glooko device clock from UTC in hours, a number "
			"from -14 to 14 like 1 or -5.5; default none (prefer "
			"CONNECT_GLOOKO_TIMEZONE)"),
};

const size_t nsc_glooko_settings_count =
	sizeof(nsc_glooko_settings) / sizeof(nsc_glooko_settings[0]);
