/* SPDX-License-Identifier: MIT */
/* Dexcom Share's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const regions[] = { "us", "ous", "jp", NULL };

const struct nsc_setting nsc_dexcom_settings[] = {
	NSC_ROW("CONNECT_SHARE_ACCOUNT_NAME", "share-account-name", STRING, SOURCE,
		NSC_AT_STR(share_account_name), .required = true,
		.help = "Dexcom account user name or e-mail of the sharing account"),
	NSC_ROW("CONNECT_SHARE_PASSWORD", "share-password", SECRET, SOURCE,
		NSC_AT_STR(share_password), .required = true,
		.help = "Dexcom account password, kept exactly as given"),
	NSC_ROW("CONNECT_SHARE_REGION", "share-region", ENUM, SOURCE, NSC_AT_STR(share_region),
		.check = NSC_CHECK_ENUM, .choices = regions, .default_text = "us",
		.help = "Dexcom Share region: us, ous (outside the US) or jp (Japan)"),
	NSC_ROW("CONNECT_SHARE_SERVER", "share-server", URL, SOURCE, NSC_AT_STR(share_server),
		.check = NSC_CHECK_SERVER,
		.help = "Dexcom Share server instead of the region's; default from "
			"CONNECT_SHARE_REGION"),
};

const size_t nsc_dexcom_settings_count =
	sizeof(nsc_dexcom_settings) / sizeof(nsc_dexcom_settings[0]);
