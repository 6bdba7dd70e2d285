/* SPDX-License-Identifier: MIT */
/* LibreLinkUp's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const regions[] = { "US", "EU", "EU2", "DE", "FR", "JP", "AP",
				       "AU", "AE", "CA", "LA", "RU", "CN", NULL };

const struct nsc_setting nsc_librelinkup_settings[] = {
	NSC_ROW_ACCOUNT("CONNECT_LINK_UP_USERNAME", "link-up-username", linkup_username,
			"LibreLinkUp account e-mail (the follower account)"),
	NSC_ROW_PASSWORD("CONNECT_LINK_UP_PASSWORD", "link-up-password", linkup_password,
			 "LibreLinkUp account password, kept exactly as given"),
	NSC_ROW_CHOICE("CONNECT_LINK_UP_REGION", "link-up-region", linkup_region, regions, "EU",
		       "LibreLinkUp region"),
	NSC_ROW_SERVER("CONNECT_LINK_UP_SERVER", "link-up-server", linkup_server,
		       "LibreLinkUp server instead of the region's; default from "
		       "CONNECT_LINK_UP_REGION"),
	NSC_ROW_TEXT("CONNECT_LINK_UP_PATIENT_ID", "link-up-patient-id", linkup_patient_id, NONE,
		     NULL,
		     "Which followed patient to read, the patient id LibreLinkUp shows; default "
		     "the first connection"),
	NSC_ROW_TEXT("CONNECT_LINK_UP_VERSION", "link-up-version", linkup_version, VERSION,
		     "4.16.0", "App version sent to LibreLinkUp"),
	NSC_ROW_TEXT("CONNECT_LINK_UP_PRODUCT", "link-up-product", linkup_product, NONE,
		     "llu.android", "App product sent to LibreLinkUp, llu.android or llu.ios"),
};

const size_t nsc_librelinkup_settings_count =
	sizeof(nsc_librelinkup_settings) / sizeof(nsc_librelinkup_settings[0]);
