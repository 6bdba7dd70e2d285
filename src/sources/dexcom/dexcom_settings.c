/* SPDX-License-Identifier: MIT */
/* Dexcom Share's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const regions[] = { "us", "ous", "jp", NULL };

const struct nsc_setting nsc_dexcom_settings[] = {
	NSC_ROW_ACCOUNT("CONNECT_SHARE_ACCOUNT_NAME", share_account_name,
			"Dexcom account user name or e-mail of the sharing account"),
	NSC_ROW_PASSWORD("CONNECT_SHARE_PASSWORD", share_password, "Dexcom"),
	NSC_ROW_CHOICE("CONNECT_SHARE_REGION", share_region, regions, "us",
		       "Dexcom Share region: us, ous (outside the US) or jp (Japan)"),
	NSC_ROW_SERVER("CONNECT_SHARE_SERVER", share_server, "Dexcom Share", "CONNECT_SHARE_REGION"),
};

const size_t nsc_dexcom_settings_count =
	sizeof(nsc_dexcom_settings) / sizeof(nsc_dexcom_settings[0]);
