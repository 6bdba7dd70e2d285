/* SPDX-License-Identifier: MIT */
/*
 * The rows of the settings table that belong to no source: general
 * settings, the outputs and the spool (see setting_row.h; a source's rows
 * are in its folder). settings.c puts them in documentation order.
 */
#include "config.h"

#include <stdint.h>

#include "setting_row.h"
#include "settings_rows.h"

#define HOUR_MS INT64_C(3600000)
#define MIB (1LL << 20)

static const char *const log_formats[] = { "text", "json", NULL };
static const char *const booleans[] = { "false", "true", NULL };

const struct nsc_setting nsc_general_settings[] = {
	NSC_ROW("CONNECT_SOURCE", ENUM, GENERAL, .check = NSC_CHECK_OWN,
		.required = true, .help = "Where readings come from"),
	NSC_ROW("CONNECT_OUTPUT", ENUM, GENERAL, .check = NSC_CHECK_OWN,
		.default_text = "auto",
		.help = "Where readings go: mongo, rest, rest3 or filesystem; auto picks mongo "
			"when a MongoDB URI is set, else rest when CONNECT_NIGHTSCOUT_ENDPOINT is "
			"set, else filesystem"),
	NSC_ROW("CONNECT_LOG_LEVEL", ENUM, GENERAL, .check = NSC_CHECK_OWN,
		.default_text = "info",
		.help = "How much to log: error, warn, info, debug or trace"),
	NSC_ROW("CONNECT_LOG_FORMAT", ENUM, GENERAL, NSC_AT_STR(log_format), .check = NSC_CHECK_ENUM,
		.choices = log_formats, .default_text = "text",
		.help = "How log lines are written: text (key=value) or json (one object a line, "
			"the same keys), for log shippers"),
	NSC_ROW("CONNECT_LOOKBACK_HOURS", INT, GENERAL, .default_text = "48",
		NSC_AT_RANGE(INT64, lookback_ms, 1, 2160, "hours", HOUR_MS),
		.help = "How far back to fetch when nothing is known yet"),
	NSC_ROW("CONNECT_POLL_INTERVAL", INT, GENERAL,
		NSC_AT_RANGE(INT64, poll_interval_ms, 1, 3600, "seconds", 1000),
		.help = "Expected seconds between readings, which sets how often the source is "
			"polled (each poll lands just after the next reading is due); default the "
			"source's own cadence (300 for Dexcom and LibreLinkUp); below 60 vendors "
			"may rate-limit or block the account"),
	NSC_ROW("CONNECT_HTTP_TIMEOUT", INT, GENERAL, .default_text = "30",
		NSC_AT_RANGE(INT64, http_timeout_ms, 1, 300, "seconds", 1000),
		.help = "Seconds a vendor request may take before it counts as failed and is "
			"retried later"),
	NSC_ROW("CONNECT_HTTP_LISTEN", STRING, GENERAL, NSC_AT_STR(http_listen),
		.check = NSC_CHECK_LISTEN,
		.help = "Address for the status listener of forever and serve (/healthz, /readyz, "
			"/status, /metrics), IP:PORT such as 127.0.0.1:9117, or a port alone for "
			"loopback; off when unset"),
	NSC_ROW("CONNECT_TENANTS_DIR", STRING, GENERAL, NSC_AT_STR(tenants_dir),
		.help = "Folder of the serve command: one NAME.env file of settings per bridge, a path"),
	NSC_ROW("CONNECT_ANNOUNCE", ENUM, GENERAL, NSC_AT_STR(announce), .check = NSC_CHECK_ENUM,
		.choices = booleans, .default_text = "false",
		.help = "Write a Nightscout announcement when the bridge needs someone (login "
			"rejected, terms to accept, CareLink sign-in to renew) or readings stop while "
			"the vendor answers, and one when readings flow again"),
	NSC_ROW("CONNECT_STALE_MINUTES", INT, GENERAL, .default_text = "30",
		NSC_AT_RANGE(INT64, stale_ms, 1, 1440, "minutes", 60000),
		.help = "With CONNECT_ANNOUNCE, how long no new reading may come while the vendor "
			"answers before it is announced"),
};

const struct nsc_setting nsc_output_settings[] = {
	/* REST outputs */
	NSC_ROW("CONNECT_NIGHTSCOUT_ENDPOINT", URL, REST_OUTPUT,
		NSC_AT_STR(nightscout_endpoint), .check = NSC_CHECK_SERVER,
		.help = "Nightscout site to write to; required for the rest and rest3 outputs"),
	NSC_ROW("CONNECT_API_SECRET", SECRET, REST_OUTPUT, NSC_AT_STR(api_secret),
		.help = "API secret of the Nightscout site to write to; the rest output needs it "
			"or CONNECT_NIGHTSCOUT_TOKEN"),
	NSC_ROW("CONNECT_NIGHTSCOUT_TOKEN", SECRET, REST_OUTPUT,
		NSC_AT_STR(nightscout_token),
		.help = "Access token of the Nightscout site to write to, like "
			"name-0123456789abcdef; required for rest3"),
	NSC_ROW("CONNECT_REST_CONCURRENCY", INT, REST_OUTPUT,
		.default_text = "4",
		NSC_AT_RANGE(UNSIGNED, rest_concurrency, 1, 16, "requests", 1),
		.help = "How many documents the rest3 output posts at once, over kept-alive "
			"connections (1 sends one document at a time)"),

	/* MongoDB output; the URI family is read by its own code */
	NSC_ROW("MONGODB_URI", SECRET, MONGO_OUTPUT, NSC_AT_STR(mongodb_uri),
		.check = NSC_CHECK_OWN,
		.help = "Nightscout's MongoDB, a connection string "
			"mongodb://[user:password@]host[:port]/db or mongodb+srv://host/db"),
	NSC_ROW("MONGO_CONNECTION", SECRET, MONGO_OUTPUT,
		.check = NSC_CHECK_OWN,
		.help = "Older name for MONGODB_URI, same form, used when MONGODB_URI is unset"),
	NSC_ROW("CUSTOMCONNSTR_mongo", SECRET, MONGO_OUTPUT,
		.check = NSC_CHECK_OWN,
		.help = "Azure's name for MONGODB_URI, same form, used when MONGODB_URI and "
			"MONGO_CONNECTION are unset"),
	NSC_ROW("MONGO_COLLECTION", STRING, MONGO_OUTPUT,
		NSC_AT_STR(mongo_collection), .check = NSC_CHECK_COLLECTION,
		.default_text = "entries", .help = "MongoDB collection for glucose entries"),
	NSC_ROW("MONGO_TREATMENTS_COLLECTION", STRING,
		MONGO_OUTPUT, NSC_AT_STR(mongo_treatments_collection),
		.check = NSC_CHECK_COLLECTION, .default_text = "treatments",
		.help = "MongoDB collection for treatments"),
	NSC_ROW("MONGO_DEVICESTATUS_COLLECTION", STRING,
		MONGO_OUTPUT, NSC_AT_STR(mongo_devicestatus_collection),
		.check = NSC_CHECK_COLLECTION, .default_text = "devicestatus",
		.help = "MongoDB collection for device status"),
	NSC_ROW("MONGO_PROFILE_COLLECTION", STRING, MONGO_OUTPUT,
		NSC_AT_STR(mongo_profile_collection), .check = NSC_CHECK_COLLECTION,
		.default_text = "profile", .help = "MongoDB collection for profiles"),

	/* filesystem output */
	NSC_ROW("CONNECT_OUTPUT_DIR", STRING, FILESYSTEM_OUTPUT,
		NSC_AT_STR(output_dir), .default_text = "./nightscout-data",
		.help = "Directory the filesystem output writes into, a path"),

	/* spool of the remote outputs */
	NSC_ROW("CONNECT_SPOOL_DIR", STRING, SPOOL, NSC_AT_STR(spool_dir),
		.default_text = "./nsconnect-spool",
		.help = "Directory where batches wait while MongoDB or Nightscout is unreachable, "
			"replayed in order when it returns and kept across restarts, a path"),
	NSC_ROW("CONNECT_SPOOL_MAX_MB", INT, SPOOL, .default_text = "256",
		NSC_AT_RANGE(UINT64, spool_max_bytes, 1, 65536, "MiB", MIB),
		.help = "How much pending data the spool may hold; beyond it the bridge stops "
			"fetching until the output catches up"),
};

const size_t nsc_general_settings_count =
	sizeof(nsc_general_settings) / sizeof(nsc_general_settings[0]);
const size_t nsc_output_settings_count =
	sizeof(nsc_output_settings) / sizeof(nsc_output_settings[0]);
