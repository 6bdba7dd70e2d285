/* SPDX-License-Identifier: MIT */
/*
 * The settings table: every setting nsconnect reads, with its environment
 * name, its command-line flag (derived from the name: strip a leading
 * CONNECT_, lower-case, '_' -> '-'), its kind, group, default and a one-line
 * help that says the expected form. The CLI's --help and the README are
 * generated from it; config.c reads exactly these names.
 */
#include "config.h"

#include <string.h>

#include "nsc_config.h"

#define ROW(name_, flag_, kind_, group_, def_, help_)                          \
	{                                                                      \
		.name = (name_), .flag = (flag_), .kind = NSC_SETTING_##kind_, \
		.group = NSC_GROUP_##group_, .default_text = (def_),           \
		.help = (help_),                                               \
	}

static const struct nsc_setting settings[] = {
	/* general */
	ROW("CONNECT_SOURCE", "source", ENUM, GENERAL, NULL,
	    "Where readings come from: simulator, dexcomshare, linkup, nightscout, glooko or "
	    "minimedcarelink; required, no default."),
	ROW("CONNECT_OUTPUT", "output", ENUM, GENERAL, "auto",
	    "Where readings go: mongo, rest, rest3 or filesystem; default auto picks mongo when a "
	    "MongoDB URI is set, else rest when CONNECT_NIGHTSCOUT_ENDPOINT is set, else filesystem."),
	ROW("CONNECT_LOG_LEVEL", "log-level", ENUM, GENERAL, "info",
	    "How much to log: error, warn, info, debug or trace; default info."),
	ROW("CONNECT_LOOKBACK_HOURS", "lookback-hours", INT, GENERAL, "48",
	    "How far back to fetch when nothing is known yet, in whole hours from 1 to 2160; "
	    "default 48."),
	ROW("CONNECT_POLL_INTERVAL", "poll-interval", INT, GENERAL, NULL,
	    "Expected seconds between readings, which sets how often the source is polled (each "
	    "poll lands just after the next reading is due), a whole number from 1 to 3600; "
	    "default the source's own cadence (300 for Dexcom and LibreLinkUp). Below 60 vendors "
	    "may rate-limit or block the account."),
	ROW("CONNECT_HTTP_TIMEOUT", "http-timeout", INT, GENERAL, "30",
	    "Seconds a vendor request may take before it counts as failed and is retried later, a "
	    "whole number from 1 to 300; default 30."),

	/* simulator */
	ROW("CONNECT_SIMULATOR_SEED", "simulator-seed", INT, SIMULATOR, "1",
	    "Seed for the simulated readings, an unsigned 64-bit decimal number; default 1."),
	ROW("CONNECT_SIMULATOR_INTERVAL", "simulator-interval", INT, SIMULATOR, "300",
	    "Seconds between simulated readings, a whole number from 1 to 3600; default 300 "
	    "(a CGM's 5 minutes). Short intervals are for tests."),
	ROW("CONNECT_SIMULATOR_USERNAME", "simulator-username", STRING, SIMULATOR, NULL,
	    "User name for the simulator's login, any text; optional (no login when unset), needs "
	    "CONNECT_SIMULATOR_PASSWORD too."),
	ROW("CONNECT_SIMULATOR_PASSWORD", "simulator-password", SECRET, SIMULATOR, NULL,
	    "Password for the simulator's login, kept exactly as given "
	    "(or CONNECT_SIMULATOR_PASSWORD_FILE); optional, needs CONNECT_SIMULATOR_USERNAME too."),

	/* dexcomshare */
	ROW("CONNECT_SHARE_ACCOUNT_NAME", "share-account-name", STRING, DEXCOMSHARE, NULL,
	    "Dexcom account user name or e-mail of the sharing account; required for dexcomshare, "
	    "no default."),
	ROW("CONNECT_SHARE_PASSWORD", "share-password", SECRET, DEXCOMSHARE, NULL,
	    "Dexcom account password, kept exactly as given (or CONNECT_SHARE_PASSWORD_FILE); "
	    "required for dexcomshare, no default."),
	ROW("CONNECT_SHARE_REGION", "share-region", ENUM, DEXCOMSHARE, "us",
	    "Dexcom Share region: us, ous (outside the US) or jp (Japan); default us."),
	ROW("CONNECT_SHARE_SERVER", "share-server", URL, DEXCOMSHARE, NULL,
	    "Dexcom Share server instead of the region's: a host name, host:port or "
	    "http(s)://host[:port][/path]; default from CONNECT_SHARE_REGION."),

	/* linkup */
	ROW("CONNECT_LINK_UP_USERNAME", "link-up-username", STRING, LINKUP, NULL,
	    "LibreLinkUp account e-mail (the follower account); required for linkup, no default."),
	ROW("CONNECT_LINK_UP_PASSWORD", "link-up-password", SECRET, LINKUP, NULL,
	    "LibreLinkUp account password, kept exactly as given (or CONNECT_LINK_UP_PASSWORD_FILE); "
	    "required for linkup, no default."),
	ROW("CONNECT_LINK_UP_REGION", "link-up-region", ENUM, LINKUP, "EU",
	    "LibreLinkUp region: AE, AP, AU, CA, CN, DE, EU, EU2, FR, JP, LA, RU or US; default EU."),
	ROW("CONNECT_LINK_UP_SERVER", "link-up-server", URL, LINKUP, NULL,
	    "LibreLinkUp server instead of the region's: a host name, host:port or "
	    "http(s)://host[:port][/path]; default from CONNECT_LINK_UP_REGION."),
	ROW("CONNECT_LINK_UP_PATIENT_ID", "link-up-patient-id", STRING, LINKUP, NULL,
	    "Which followed patient to read, the patient id LibreLinkUp shows; default the first "
	    "connection."),
	ROW("CONNECT_LINK_UP_VERSION", "link-up-version", STRING, LINKUP, "4.16.0",
	    "App version sent to LibreLinkUp, digits and dots like 4.16.0; default 4.16.0."),
	ROW("CONNECT_LINK_UP_PRODUCT", "link-up-product", STRING, LINKUP, "llu.android",
	    "App product sent to LibreLinkUp, llu.android or llu.ios; default llu.android."),

	/* nightscout as a source */
	ROW("CONNECT_SOURCE_ENDPOINT", "source-endpoint", URL, NIGHTSCOUT_SOURCE, NULL,
	    "Nightscout site to read from, a full URL http(s)://host[:port][/path], optionally "
	    "with ?token=...; required for nightscout, no default."),
	ROW("CONNECT_SOURCE_API_SECRET", "source-api-secret", SECRET, NIGHTSCOUT_SOURCE, NULL,
	    "API secret of the Nightscout site to read from (or CONNECT_SOURCE_API_SECRET_FILE); "
	    "optional, no default."),

	/* glooko */
	ROW("CONNECT_GLOOKO_EMAIL", "glooko-email", STRING, GLOOKO, NULL,
	    "Glooko account e-mail; required for glooko, no default."),
	ROW("CONNECT_GLOOKO_PASSWORD", "glooko-password", SECRET, GLOOKO, NULL,
	    "Glooko account password, kept exactly as given (or CONNECT_GLOOKO_PASSWORD_FILE); "
	    "required for glooko, no default."),
	ROW("CONNECT_GLOOKO_ENV", "glooko-env", ENUM, GLOOKO, "default",
	    "Glooko service: default (US), eu, development or production; default default."),
	ROW("CONNECT_GLOOKO_SERVER", "glooko-server", URL, GLOOKO, NULL,
	    "Glooko API server instead of CONNECT_GLOOKO_ENV's: a host name, host:port or "
	    "http(s)://host[:port][/path]; default from CONNECT_GLOOKO_ENV."),
	ROW("CONNECT_GLOOKO_TIMEZONE", "glooko-timezone", STRING, GLOOKO, NULL,
	    "Time zone of the Glooko device clock, an IANA zone name like Europe/Berlin; "
	    "default none (UTC unless CONNECT_GLOOKO_TIMEZONE_OFFSET is set)."),
	ROW("CONNECT_GLOOKO_TIMEZONE_OFFSET", "glooko-timezone-offset", NUMBER, GLOOKO, NULL,
	    "Fixed offset of the Glooko device clock from UTC in hours, a number from -14 to 14 "
	    "like 1 or -5.5; default none (prefer CONNECT_GLOOKO_TIMEZONE)."),

	/* minimedcarelink */
	ROW("CONNECT_CARELINK_USERNAME", "carelink-username", STRING, CARELINK, NULL,
	    "CareLink account user name; required for minimedcarelink, no default."),
	ROW("CONNECT_CARELINK_PASSWORD", "carelink-password", SECRET, CARELINK, NULL,
	    "CareLink account password, kept exactly as given (or CONNECT_CARELINK_PASSWORD_FILE); "
	    "required for minimedcarelink, no default."),
	ROW("CONNECT_CARELINK_REGION", "carelink-region", ENUM, CARELINK, "eu",
	    "CareLink region: us or eu (rest of the world); default eu."),
	ROW("CONNECT_CARELINK_SERVER", "carelink-server", URL, CARELINK, NULL,
	    "CareLink server instead of the region's: a host name, host:port or "
	    "http(s)://host[:port][/path]; default from CONNECT_CARELINK_REGION."),
	ROW("CONNECT_COUNTRY_CODE", "country-code", STRING, CARELINK, NULL,
	    "Country of the CareLink account, two letters like de or us; no default."),
	ROW("CONNECT_CARELINK_PATIENT_USERNAME", "carelink-patient-username", STRING, CARELINK,
	    NULL,
	    "CareLink user name of the patient to read when logging in as a care partner; "
	    "default the account's own data."),

	/* REST outputs */
	ROW("CONNECT_NIGHTSCOUT_ENDPOINT", "nightscout-endpoint", URL, REST_OUTPUT, NULL,
	    "Nightscout site to write to: a host name, host:port or http(s)://host[:port][/path]; "
	    "no default, required for the rest and rest3 outputs."),
	ROW("CONNECT_API_SECRET", "api-secret", SECRET, REST_OUTPUT, NULL,
	    "API secret of the Nightscout site to write to (or CONNECT_API_SECRET_FILE); the rest "
	    "output needs it or CONNECT_NIGHTSCOUT_TOKEN; no default."),
	ROW("CONNECT_NIGHTSCOUT_TOKEN", "nightscout-token", SECRET, REST_OUTPUT, NULL,
	    "Access token of the Nightscout site to write to, like name-0123456789abcdef (or "
	    "CONNECT_NIGHTSCOUT_TOKEN_FILE); required for rest3; no default."),
	ROW("CONNECT_REST_CONCURRENCY", "rest-concurrency", INT, REST_OUTPUT, "4",
	    "How many documents the rest3 output posts at once, over kept-alive connections, a "
	    "whole number from 1 to 16; default 4 (1 sends one document at a time)."),

	/* MongoDB output */
	ROW("MONGODB_URI", "mongodb-uri", SECRET, MONGO_OUTPUT, NULL,
	    "Nightscout's MongoDB, a connection string mongodb://[user:password@]host[:port]/db or "
	    "mongodb+srv://... (or MONGODB_URI_FILE); no default."),
	ROW("MONGO_CONNECTION", "mongo-connection", SECRET, MONGO_OUTPUT, NULL,
	    "Older name for MONGODB_URI, same form, used when MONGODB_URI is unset "
	    "(or MONGO_CONNECTION_FILE); no default."),
	ROW("CUSTOMCONNSTR_mongo", "customconnstr-mongo", SECRET, MONGO_OUTPUT, NULL,
	    "Azure's name for MONGODB_URI, same form, used when MONGODB_URI and MONGO_CONNECTION "
	    "are unset (or CUSTOMCONNSTR_mongo_FILE); no default."),
	ROW("MONGO_COLLECTION", "mongo-collection", STRING, MONGO_OUTPUT, "entries",
	    "MongoDB collection for glucose entries, a collection name; default entries."),
	ROW("MONGO_TREATMENTS_COLLECTION", "mongo-treatments-collection", STRING, MONGO_OUTPUT,
	    "treatments", "MongoDB collection for treatments, a collection name; default treatments."),
	ROW("MONGO_DEVICESTATUS_COLLECTION", "mongo-devicestatus-collection", STRING, MONGO_OUTPUT,
	    "devicestatus",
	    "MongoDB collection for device status, a collection name; default devicestatus."),
	ROW("MONGO_PROFILE_COLLECTION", "mongo-profile-collection", STRING, MONGO_OUTPUT, "profile",
	    "MongoDB collection for profiles, a collection name; default profile."),

	/* filesystem output */
	ROW("CONNECT_OUTPUT_DIR", "output-dir", STRING, FILESYSTEM_OUTPUT, "./nightscout-data",
	    "Directory the filesystem output writes into, a path; default ./nightscout-data."),

	/* spool of the remote outputs */
	ROW("CONNECT_SPOOL_DIR", "spool-dir", STRING, SPOOL, "./nsconnect-spool",
	    "Directory where batches wait while MongoDB or Nightscout is unreachable, replayed in "
	    "order when it returns and kept across restarts, a path; default ./nsconnect-spool."),
	ROW("CONNECT_SPOOL_MAX_MB", "spool-max-mb", INT, SPOOL, "256",
	    "How much pending data the spool may hold, in whole MiB from 1 to 65536; beyond it the "
	    "bridge stops fetching until the output catches up; default 256."),
};

#undef ROW

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

const struct nsc_setting *nsc_settings(size_t *count)
{
	if (count)
		*count = N_SETTINGS;
	return settings;
}

const struct nsc_setting *nsc_setting_by_name(const char *env_name)
{
	if (!env_name)
		return NULL;
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strcmp(settings[i].name, env_name) == 0)
			return &settings[i];
	}
	return NULL;
}

const struct nsc_setting *nsc_setting_by_flag(const char *flag)
{
	if (!flag)
		return NULL;
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strcmp(settings[i].flag, flag) == 0)
			return &settings[i];
	}
	return NULL;
}

const char *nsc_setting_group_title(enum nsc_setting_group g)
{
	switch (g) {
	case NSC_GROUP_GENERAL:
		return "General";
	case NSC_GROUP_SIMULATOR:
		return "Simulator source";
	case NSC_GROUP_DEXCOMSHARE:
		return "Dexcom Share source (dexcomshare)";
	case NSC_GROUP_LINKUP:
		return "LibreLinkUp source (linkup)";
	case NSC_GROUP_NIGHTSCOUT_SOURCE:
		return "Nightscout source (nightscout)";
	case NSC_GROUP_GLOOKO:
		return "Glooko source (glooko)";
	case NSC_GROUP_CARELINK:
		return "Medtronic CareLink source (minimedcarelink)";
	case NSC_GROUP_REST_OUTPUT:
		return "Nightscout REST output (rest, rest3)";
	case NSC_GROUP_MONGO_OUTPUT:
		return "MongoDB output (mongo)";
	case NSC_GROUP_FILESYSTEM_OUTPUT:
		return "Filesystem output (filesystem)";
	case NSC_GROUP_SPOOL:
		return "Spool (MongoDB and REST outputs)";
	}
	return "Other";
}
