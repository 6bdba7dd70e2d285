/* SPDX-License-Identifier: MIT */
/* LibreLinkUp's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const regions[] = { "US", "EU", "EU2", "DE", "FR", "JP", "AP",
				       "AU", "AE", "CA", "LA", "RU", "CN", NULL };

const struct nsc_setting nsc_librelinkup_settings[] = {
	NSC_ROW("CONNECT_LINK_UP_USERNAME", "link-up-username", STRING, SOURCE,
		NSC_AT_STR(linkup_username), .required = true,
		.help = "LibreLinkUp account e-mail (the follower account)"),
	NSC_ROW("CONNECT_LINK_UP_PASSWORD", "link-up-password", SECRET, SOURCE,
		NSC_AT_STR(linkup_password), .required = true,
		.help = "LibreLinkUp account password, kept exactly as given"),
	NSC_ROW("CONNECT_LINK_UP_REGION", "link-up-region", ENUM, SOURCE,
		NSC_AT_STR(linkup_region), .check = NSC_CHECK_ENUM, .choices = regions,
		.default_text = "EU", .help = "LibreLinkUp region"),
	NSC_ROW("CONNECT_LINK_UP_SERVER", "link-up-server", URL, SOURCE,
		NSC_AT_STR(linkup_server), .check = NSC_CHECK_SERVER,
		.help = "LibreLinkUp server instead of the region's; default from "
			"CONNECT_LINK_UP_REGION"),
	NSC_ROW("CONNECT_LINK_UP_PATIENT_ID", "link-up-patient-id", STRING, SOURCE,
		NSC_AT_STR(linkup_patient_id),
		.help = "Which followed patient to read, the patient id LibreLinkUp shows; "
			"default the first connection"),
	NSC_ROW("CONNECT_LINK_UP_VERSION", "link-up-version", STRING, SOURCE,
		NSC_AT_STR(linkup_version), .check = NSC_CHECK_VERSION, .default_text = "4.16.0",
		.help = "App version sent to LibreLinkUp"),
	NSC_ROW("CONNECT_LINK_UP_PRODUCT", "link-up-product", STRING, SOURCE,
		NSC_AT_STR(linkup_product), .default_text = "llu.android",
		.help = "App product sent to LibreLinkUp, llu.android or llu.ios"),
};

const size_t nsc_librelinkup_settings_count =
	sizeof(nsc_librelinkup_settings) / sizeof(nsc_librelinkup_settings[0]);
