/* SPDX-License-Identifier: MIT */
/* LibreLinkUp's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const regions[] = { "US", "EU", "EU2", "DE", "FR", "JP", "AP",
				       "AU", "AE", "CA", "LA", "RU", "CN", NULL };

const struct nsc_setting nsc_librelinkup_settings[] = {
	NSC_ROW_ACCOUNT("CONNECT_LINK_UP_USERNAME", linkup_username,
			"LibreLinkUp account e-mail (the follower account)"),
	NSC_ROW_PASSWORD("CONNECT_LINK_UP_PASSWORD", linkup_password, "LibreLinkUp"),
	NSC_ROW_CHOICE("CONNECT_LINK_UP_REGION", linkup_region, regions, "EU",
		       "LibreLinkUp region"),
	NSC_ROW_SERVER("CONNECT_LINK_UP_SERVER", linkup_server, "LibreLinkUp", "CONNECT_LINK_UP_REGION"),
	NSC_ROW_TEXT("CONNECT_LINK_UP_PATIENT_ID", linkup_patient_id, NONE,
		     NULL,
		     "Which followed patient to read, the patient id LibreLinkUp shows; default "
		     "the first connection"),
	NSC_ROW_TEXT("CONNECT_LINK_UP_VERSION", linkup_version, VERSION,
		     "4.16.0", "App version sent to LibreLinkUp"),
	NSC_ROW_TEXT("CONNECT_LINK_UP_PRODUCT", linkup_product, NONE,
		     "llu.android", "App product sent to LibreLinkUp, llu.android or llu.ios"),
};

const size_t nsc_librelinkup_settings_count =
	sizeof(nsc_librelinkup_settings) / sizeof(nsc_librelinkup_settings[0]);
