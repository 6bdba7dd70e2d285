/* SPDX-License-Identifier: MIT */
/* Medtronic CareLink's settings rows (see setting_row.h). */
#include "config.h"

#include "setting_row.h"
#include "sources/source_rows.h"

static const char *const regions[] = { "us", "eu", NULL };

const struct nsc_setting nsc_carelink_settings[] = {
	/* Accepted as nightscout-connect took them; the token file is the login now. */
	NSC_ROW("CONNECT_CARELINK_USERNAME", STRING, SOURCE, NSC_AT_STR(carelink_username),
		.help = "CareLink account user name; accepted for compatibility, not needed: "
			"the sign-in is CONNECT_CARELINK_TOKEN_FILE"),
	NSC_ROW("CONNECT_CARELINK_PASSWORD", SECRET, SOURCE, NSC_AT_STR(carelink_password),
		.help = "CareLink account password; accepted for compatibility, not needed: "
			"the sign-in is CONNECT_CARELINK_TOKEN_FILE"),
	NSC_ROW_CHOICE("CONNECT_CARELINK_REGION", carelink_region, regions,
		       "eu", "CareLink region (eu is the rest of the world)"),
	NSC_ROW_SERVER("CONNECT_CARELINK_SERVER", carelink_server, "CareLink", "CONNECT_CARELINK_REGION"),
	NSC_ROW_TEXT("CONNECT_COUNTRY_CODE", carelink_country_code, COUNTRY, NULL,
		     "Country of the CareLink account, two letters like de or us"),
	NSC_ROW_TEXT("CONNECT_CARELINK_PATIENT_USERNAME",
		     carelink_patient_username, NONE, NULL,
		     "CareLink user name of the patient to read when logging in as a care "
		     "partner; default the account's own data"),
	NSC_ROW_TEXT("CONNECT_CARELINK_TOKEN_FILE", carelink_token_file, NONE,
		     "./carelink-logindata.json",
		     "File holding the CareLink sign-in tokens: written by "
		     "`nightscout-connect carelink-login`, kept fresh by the bridge"),
};

const size_t nsc_carelink_settings_count =
	sizeof(nsc_carelink_settings) / sizeof(nsc_carelink_settings[0]);
