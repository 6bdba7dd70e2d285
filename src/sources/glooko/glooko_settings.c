/* SPDX-License-Identifier: MIT */
/* Glooko's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const envs[] = { "default", "us", "eu", "de-fr", "ca", "development", "production", NULL };

const struct nsc_setting nsc_glooko_settings[] = {
	NSC_ROW_ACCOUNT("CONNECT_GLOOKO_EMAIL", glooko_email,
			"Glooko account e-mail"),
	NSC_ROW_PASSWORD("CONNECT_GLOOKO_PASSWORD", glooko_password, "Glooko"),
	NSC_ROW_CHOICE("CONNECT_GLOOKO_ENV", glooko_env, envs, "default",
		       "Glooko service: default (or us), eu, de-fr, ca, development or production; each "
		       "picks the API host and the web origin Glooko expects"),
	NSC_ROW_SERVER("CONNECT_GLOOKO_SERVER", glooko_server, "Glooko API", "CONNECT_GLOOKO_ENV"),
	NSC_ROW_TEXT("CONNECT_GLOOKO_TIMEZONE", glooko_timezone, TIMEZONE,
		     NULL,
		     "Time zone of the pump, meter and CGM clocks, an IANA zone name like "
		     "Europe/Berlin (right on both sides of daylight-saving changes); default "
		     "none (then CONNECT_GLOOKO_TIMEZONE_OFFSET, else this machine's zone)"),
	/* a decimal number of hours and a has_ flag: config.c reads it */
	NSC_ROW("CONNECT_GLOOKO_TIMEZONE_OFFSET", NUMBER, SOURCE,
		.check = NSC_CHECK_OWN,
		.help = "Fixed offset of the device clocks from UTC in hours, a number from -14 "
			"to 14 like 1 or -5.5, as nightscout-connect took it; an hour off across "
			"daylight-saving changes, so prefer CONNECT_GLOOKO_TIMEZONE; default none"),
};

const size_t nsc_glooko_settings_count =
	sizeof(nsc_glooko_settings) / sizeof(nsc_glooko_settings[0]);
