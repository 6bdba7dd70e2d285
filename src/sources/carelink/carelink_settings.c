/* SPDX-License-Identifier: MIT */
/* Medtronic CareLink's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const regions[] = { "us", "eu", NULL };

const struct nsc_setting nsc_carelink_settings[] = {
	NSC_ROW("CONNECT_CARELINK_USERNAME", "carelink-username", STRING, SOURCE,
		NSC_AT_STR(carelink_username), .required = true,
		.help = "CareLink account user name"),
	NSC_ROW("CONNECT_CARELINK_PASSWORD", "carelink-password", SECRET, SOURCE,
		NSC_AT_STR(carelink_password), .required = true,
		.help = "CareLink account password, kept exactly as given"),
	NSC_ROW("CONNECT_CARELINK_REGION", "carelink-region", ENUM, SOURCE,
		NSC_AT_STR(carelink_region), .check = NSC_CHECK_ENUM, .choices = regions,
		.default_text = "eu", .help = "CareLink region (eu is the rest of the world)"),
	NSC_ROW("CONNECT_CARELINK_SERVER", "carelink-server", URL, SOURCE,
		NSC_AT_STR(carelink_server), .check = NSC_CHECK_SERVER,
		.help = "CareLink server instead of the region's; default from "
			"CONNECT_CARELINK_REGION"),
	NSC_ROW("CONNECT_COUNTRY_CODE", "country-code", STRING, SOURCE,
		NSC_AT_STR(carelink_country_code), .check = NSC_CHECK_COUNTRY,
		.help = "Country of the CareLink account, two letters like de or us"),
	NSC_ROW("CONNECT_CARELINK_PATIENT_USERNAME", "carelink-patient-username", STRING,
		SOURCE, NSC_AT_STR(carelink_patient_username),
		.help = "CareLink user name of the patient to read when logging in as a care "
			"partner; default the account's own data"),
};

const size_t nsc_carelink_settings_count =
	sizeof(nsc_carelink_settings) / sizeof(nsc_carelink_settings[0]);
