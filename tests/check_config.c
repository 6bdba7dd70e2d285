/* SPDX-License-Identifier: MIT */
/*
 * Configuration: the settings table, per-source requirements, value checks,
 * URL normalisation, NAME_FILE secrets, output resolution, every problem
 * reported at once, the kv layer, and that secrets never reach the log.
 * Settings come from a kv lookup with no fallback, never from the real
 * environment.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logline.h"
#include "nsc_check.h"
#include "sources/registry.h"
#include "nsc_config.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct nsc_config_kv kv;
static struct nsc_config cfg;
static struct nsc_error err;

static void setup(void)
{
	nsc_config_kv_init(&kv, NULL, NULL);
	nsc_config_init(&cfg);
	nsc_error_clear(&err);
}

static void teardown(void)
{
	nsc_config_kv_free(&kv);
	nsc_config_free(&cfg);
}

static void put(const char *name, const char *value)
{
	ck_assert_int_eq(nsc_config_kv_set(&kv, name, value), NSC_OK);
}

static nsc_rc load(void)
{
	return nsc_config_load(&cfg, nsc_config_kv_lookup, &kv, &err);
}

#define assert_loads()                                                              \
	do {                                                                        \
		nsc_rc rc_ = load();                                                \
		ck_assert_msg(rc_ == NSC_OK, "load failed: %s (%s)", err.msg,       \
			      nsc_rc_name(rc_));                                    \
	} while (0)

#define assert_refused(needle)                                                      \
	do {                                                                        \
		nsc_rc rc_ = load();                                                \
		ck_assert_msg(rc_ == NSC_ERR_CONFIG, "expected NSC_ERR_CONFIG, got %s", \
			      nsc_rc_name(rc_));                                    \
		ck_assert_msg(strstr(err.msg, (needle)) != NULL,                    \
			      "message \"%s\" does not contain \"%s\"", err.msg,    \
			      (needle));                                            \
	} while (0)

/* Writes `content` (len bytes) to a new temp file whose name goes into path. */
static void temp_file(char *path, size_t size, const char *content, size_t len)
{
	int fd;

	snprintf(path, size, "/tmp/nsc_check_config_XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
}

/* ---- settings table ----------------------------------------------------- */

/* Strip a leading CONNECT_, lower-case, '_' -> '-'. */
static void derive_flag(const char *name, char *out, size_t size)
{
	size_t j = 0;

	if (strncmp(name, "CONNECT_", 8) == 0)
		name += 8;
	for (; *name && j + 1 < size; name++)
		out[j++] = *name == '_' ? '-' :
			   (*name >= 'A' && *name <= 'Z') ? (char)(*name - 'A' + 'a') : *name;
	out[j] = '\0';
}

START_TEST(test_table_flags_round_trip)
{
	size_t n = nsc_settings_count();

	ck_assert_uint_gt(n, 40);
	ck_assert_ptr_null(nsc_setting_at(n));
	for (size_t i = 0; i < n; i++) {
		const struct nsc_setting *t = nsc_setting_at(i);
		char flag[128], help[1024], mine[NSC_SETTING_FLAG_MAX], other[NSC_SETTING_FLAG_MAX];
		ck_assert_ptr_nonnull(t);
		derive_flag(t->name, flag, sizeof(flag));
		ck_assert_str_eq(nsc_setting_flag(t, mine, sizeof(mine)), flag);
		ck_assert_ptr_eq(nsc_setting_by_name(t->name), t);
		ck_assert_ptr_eq(nsc_setting_by_flag(mine), t);
		ck_assert_ptr_nonnull(t->help);
		nsc_setting_describe(t, help, sizeof(help));
		ck_assert_uint_gt(strlen(help), 20);
		ck_assert_ptr_null(strchr(help, '\n'));
		ck_assert_ptr_nonnull(nsc_setting_group_title(t->group));
		for (size_t j = 0; j < i; j++) {
			ck_assert_str_ne(t->name, nsc_setting_at(j)->name);
			ck_assert_str_ne(mine, nsc_setting_flag(nsc_setting_at(j), other, sizeof(other)));
		}
	}
	char flag[NSC_SETTING_FLAG_MAX];
	ck_assert_str_eq(nsc_setting_flag(nsc_setting_by_name("CONNECT_SHARE_PASSWORD"), flag, sizeof(flag)),
			 "share-password");
	ck_assert_str_eq(nsc_setting_by_flag("mongodb-uri")->name, "MONGODB_URI");
	ck_assert_str_eq(nsc_setting_by_flag("customconnstr-mongo")->name, "CUSTOMCONNSTR_mongo");
	ck_assert_ptr_null(nsc_setting_by_name("CONNECT_NO_SUCH"));
	ck_assert_ptr_null(nsc_setting_by_flag("no-such"));
	ck_assert_ptr_null(nsc_setting_by_name(NULL));
}
END_TEST

/* One name per field of struct nsc_config, plus the alternates and selectors. */
static const char *const every_setting[] = {
	"CONNECT_SOURCE", "CONNECT_OUTPUT", "CONNECT_LOG_LEVEL", "CONNECT_LOG_FORMAT", "CONNECT_LOOKBACK_HOURS",
	"CONNECT_POLL_INTERVAL", "CONNECT_HTTP_TIMEOUT", "CONNECT_HTTP_LISTEN", "CONNECT_TENANTS_DIR",
	"CONNECT_ANNOUNCE", "CONNECT_STALE_MINUTES",
	"CONNECT_OUTPUT_DIR", "CONNECT_SPOOL_DIR", "CONNECT_SPOOL_MAX_MB",
	"CONNECT_SIMULATOR_SEED", "CONNECT_SIMULATOR_INTERVAL", "CONNECT_SIMULATOR_USERNAME", "CONNECT_SIMULATOR_PASSWORD",
	"CONNECT_SHARE_ACCOUNT_NAME", "CONNECT_SHARE_PASSWORD", "CONNECT_SHARE_REGION",
	"CONNECT_SHARE_SERVER",
	"CONNECT_LINK_UP_USERNAME", "CONNECT_LINK_UP_PASSWORD", "CONNECT_LINK_UP_REGION",
	"CONNECT_LINK_UP_SERVER", "CONNECT_LINK_UP_PATIENT_ID", "CONNECT_LINK_UP_VERSION",
	"CONNECT_LINK_UP_PRODUCT",
	"CONNECT_SOURCE_ENDPOINT", "CONNECT_SOURCE_API_SECRET", "CONNECT_SOURCE_COLLECTIONS",
	"CONNECT_SOURCE_MAX_COUNT",
	"CONNECT_GLOOKO_EMAIL", "CONNECT_GLOOKO_PASSWORD", "CONNECT_GLOOKO_ENV",
	"CONNECT_GLOOKO_SERVER", "CONNECT_GLOOKO_TIMEZONE", "CONNECT_GLOOKO_TIMEZONE_OFFSET",
	"CONNECT_CARELINK_USERNAME", "CONNECT_CARELINK_PASSWORD", "CONNECT_CARELINK_REGION",
	"CONNECT_CARELINK_SERVER", "CONNECT_COUNTRY_CODE", "CONNECT_CARELINK_PATIENT_USERNAME",
	"CONNECT_CARELINK_TOKEN_FILE",
	"CONNECT_NIGHTSCOUT_ENDPOINT", "CONNECT_API_SECRET", "CONNECT_NIGHTSCOUT_TOKEN",
	"CONNECT_REST_CONCURRENCY",
	"MONGODB_URI", "MONGO_CONNECTION", "CUSTOMCONNSTR_mongo", "MONGO_COLLECTION",
	"MONGO_TREATMENTS_COLLECTION", "MONGO_DEVICESTATUS_COLLECTION",
	"MONGO_PROFILE_COLLECTION",
};

static const char *const secret_settings[] = {
	"CONNECT_SHARE_PASSWORD", "CONNECT_LINK_UP_PASSWORD", "CONNECT_SOURCE_API_SECRET",
	"CONNECT_GLOOKO_PASSWORD", "CONNECT_CARELINK_PASSWORD", "CONNECT_API_SECRET",
	"CONNECT_NIGHTSCOUT_TOKEN", "CONNECT_SIMULATOR_PASSWORD", "MONGODB_URI",
	"MONGO_CONNECTION", "CUSTOMCONNSTR_mongo",
};

START_TEST(test_table_has_every_field)
{
	size_t n = nsc_settings_count();

	for (size_t i = 0; i < COUNT(every_setting); i++)
		ck_assert_msg(nsc_setting_by_name(every_setting[i]) != NULL, "%s missing",
			      every_setting[i]);
	ck_assert_uint_eq(n, COUNT(every_setting));
	for (size_t i = 0; i < COUNT(secret_settings); i++)
		ck_assert_int_eq(nsc_setting_by_name(secret_settings[i])->kind,
				 NSC_SETTING_SECRET);
	ck_assert_int_eq(nsc_setting_by_name("CONNECT_SHARE_SERVER")->kind, NSC_SETTING_URL);
	ck_assert_int_eq(nsc_setting_by_name("CONNECT_LOOKBACK_HOURS")->kind, NSC_SETTING_INT);
	ck_assert_str_eq(nsc_setting_by_name("CONNECT_LOOKBACK_HOURS")->default_text, "48");
	ck_assert_str_eq(nsc_setting_by_name("CONNECT_OUTPUT_DIR")->default_text,
			 "./nightscout-data");
}
END_TEST

START_TEST(test_table_spool)
{
	const struct nsc_setting *dir = nsc_setting_by_name("CONNECT_SPOOL_DIR");
	const struct nsc_setting *max = nsc_setting_by_name("CONNECT_SPOOL_MAX_MB");

	ck_assert_ptr_nonnull(dir);
	ck_assert_ptr_nonnull(max);
	char flag[NSC_SETTING_FLAG_MAX];
	ck_assert_str_eq(nsc_setting_flag(dir, flag, sizeof(flag)), "spool-dir");
	ck_assert_str_eq(nsc_setting_flag(max, flag, sizeof(flag)), "spool-max-mb");
	ck_assert_int_eq(dir->kind, NSC_SETTING_STRING);
	ck_assert_int_eq(max->kind, NSC_SETTING_INT);
	ck_assert_int_eq(dir->group, NSC_GROUP_SPOOL);
	ck_assert_int_eq(max->group, NSC_GROUP_SPOOL);
	ck_assert_str_eq(dir->default_text, "./nsconnect-spool");
	ck_assert_str_eq(max->default_text, "256");
	ck_assert_str_eq(nsc_setting_group_title(NSC_GROUP_SPOOL),
			 "Spool (MongoDB and REST outputs)");
	/* the help states the accepted range */
	char help[512];
	ck_assert_ptr_nonnull(strstr(nsc_setting_describe(max, help, sizeof(help)), "1 to 65536"));
}
END_TEST

START_TEST(test_kind_names)
{
	ck_assert_str_eq(nsc_source_name(nsc_source_by_name("simulator")), "simulator");
	ck_assert_str_eq(nsc_source_name(nsc_source_by_name("dexcomshare")), "dexcomshare");
	ck_assert_str_eq(nsc_source_name(nsc_source_by_name("linkup")), "linkup");
	ck_assert_str_eq(nsc_source_name(nsc_source_by_name("nightscout")), "nightscout");
	ck_assert_str_eq(nsc_source_name(nsc_source_by_name("glooko")), "glooko");
	ck_assert_str_eq(nsc_source_name(nsc_source_by_name("minimedcarelink")), "minimedcarelink");
	ck_assert_str_eq(nsc_output_kind_name(NSC_OUTPUT_MONGO), "mongo");
	ck_assert_str_eq(nsc_output_kind_name(NSC_OUTPUT_REST), "rest");
	ck_assert_str_eq(nsc_output_kind_name(NSC_OUTPUT_REST3), "rest3");
	ck_assert_str_eq(nsc_output_kind_name(NSC_OUTPUT_FILESYSTEM), "filesystem");
	ck_assert_ptr_null(nsc_source_by_name("dexcom"));
	ck_assert_str_eq(nsc_source_name(NULL), "none");
}
END_TEST

/* ---- sources and requirements ------------------------------------------- */

START_TEST(test_source_missing)
{
	assert_refused("CONNECT_SOURCE is not set; expected one of simulator, dexcomshare, "
		       "linkup, nightscout, glooko, minimedcarelink");
	put("CONNECT_SOURCE", "");
	assert_refused("CONNECT_SOURCE is not set");
}
END_TEST

START_TEST(test_source_unknown)
{
	put("CONNECT_SOURCE", "dexcom");
	assert_refused("CONNECT_SOURCE=\"dexcom\" is not valid; expected one of simulator");
}
END_TEST

struct source_case {
	const char *source;
	const char *kind; /* the registry entry's name */
	const char *required[2];
	const char *values[2];
};

static const struct source_case source_cases[] = {
	{ "dexcomshare", "dexcomshare",
	  { "CONNECT_SHARE_ACCOUNT_NAME", "CONNECT_SHARE_PASSWORD" }, { "alice", "pw-1234" } },
	{ "linkup", "linkup", { "CONNECT_LINK_UP_USERNAME", "CONNECT_LINK_UP_PASSWORD" },
	  { "a@b.c", "pw-1234" } },
	{ "nightscout", "nightscout", { "CONNECT_SOURCE_ENDPOINT", NULL },
	  { "https://ns.example.com", NULL } },
	{ "glooko", "glooko", { "CONNECT_GLOOKO_EMAIL", "CONNECT_GLOOKO_PASSWORD" },
	  { "a@b.c", "pw-1234" } },
	/* The token file is the login; the driver refuses a missing one when it starts. */
	{ "minimedcarelink", "minimedcarelink", { NULL, NULL }, { NULL, NULL } },
	{ "simulator", "simulator", { NULL, NULL }, { NULL, NULL } },
};

static void put_source(const struct source_case *c, int skip, const char *skip_value)
{
	put("CONNECT_SOURCE", c->source);
	for (int i = 0; i < 2; i++) {
		if (!c->required[i])
			continue;
		if (i == skip) {
			if (skip_value)
				put(c->required[i], skip_value);
			continue;
		}
		put(c->required[i], c->values[i]);
	}
}

START_TEST(test_source_required)
{
	const struct source_case *c = &source_cases[_i];
	char expect[160];

	put_source(c, -1, NULL);
	assert_loads();
	ck_assert_ptr_eq(cfg.source, nsc_source_by_name(c->kind));
	ck_assert_str_eq(cfg.source->name, c->kind);
	ck_assert_str_eq(nsc_source_name(cfg.source), c->source);

	for (int skip = 0; skip < 2; skip++) {
		if (!c->required[skip])
			continue;
		snprintf(expect, sizeof(expect), "%s is not set; it is required when CONNECT_SOURCE=%s",
			 c->required[skip], c->source);
		/* missing entirely */
		nsc_config_kv_free(&kv);
		nsc_config_kv_init(&kv, NULL, NULL);
		put_source(c, skip, NULL);
		assert_refused(expect);
		/* set but empty counts as missing */
		nsc_config_kv_free(&kv);
		nsc_config_kv_init(&kv, NULL, NULL);
		put_source(c, skip, "");
		assert_refused(expect);
	}
}
END_TEST

START_TEST(test_source_case_insensitive)
{
	put("CONNECT_SOURCE", "DexcomShare");
	put("CONNECT_SHARE_ACCOUNT_NAME", "alice");
	put("CONNECT_SHARE_PASSWORD", "pw-1234");
	put("CONNECT_SHARE_REGION", "OUS");
	put("CONNECT_LINK_UP_REGION", "eu2");
	put("CONNECT_GLOOKO_ENV", "EU");
	put("CONNECT_CARELINK_REGION", "US");
	put("CONNECT_COUNTRY_CODE", "DE");
	put("CONNECT_OUTPUT", "FileSystem");
	put("CONNECT_LOG_LEVEL", "DEBUG");
	assert_loads();
	ck_assert_ptr_eq(cfg.source, nsc_source_by_name("dexcomshare"));
	ck_assert_str_eq(cfg.share_region, "ous");
	ck_assert_str_eq(cfg.linkup_region, "EU2");
	ck_assert_str_eq(cfg.glooko_env, "eu");
	ck_assert_str_eq(cfg.carelink_region, "us");
	ck_assert_str_eq(cfg.carelink_country_code, "de");
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_FILESYSTEM);
	ck_assert_int_eq(cfg.log_level, NSC_LOG_DEBUG);
}
END_TEST

START_TEST(test_simulator_interval)
{
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_SIMULATOR_INTERVAL", "2");
	assert_loads();
	ck_assert_int_eq(cfg.simulator_interval_ms, 2000);
	put("CONNECT_SIMULATOR_INTERVAL", "3600");
	assert_loads();
	ck_assert_int_eq(cfg.simulator_interval_ms, 3600000);
}
END_TEST

START_TEST(test_poll_interval_and_timeout)
{
	put("CONNECT_SOURCE", "simulator");
	assert_loads();
	ck_assert_int_eq(cfg.poll_interval_ms, 0); /* the source's own cadence */
	ck_assert_int_eq(cfg.http_timeout_ms, 30000);
	put("CONNECT_POLL_INTERVAL", "60");
	put("CONNECT_HTTP_TIMEOUT", "2");
	assert_loads();
	ck_assert_int_eq(cfg.poll_interval_ms, 60000);
	ck_assert_int_eq(cfg.http_timeout_ms, 2000);
}
END_TEST

START_TEST(test_rest_concurrency)
{
	put("CONNECT_SOURCE", "simulator");
	assert_loads();
	ck_assert_uint_eq(cfg.rest_concurrency, 4);
	put("CONNECT_REST_CONCURRENCY", "1");
	assert_loads();
	ck_assert_uint_eq(cfg.rest_concurrency, 1);
	put("CONNECT_REST_CONCURRENCY", "16");
	assert_loads();
	ck_assert_uint_eq(cfg.rest_concurrency, 16);
}
END_TEST

START_TEST(test_simulator_defaults)
{
	put("CONNECT_SOURCE", "simulator");
	assert_loads();
	ck_assert_ptr_eq(cfg.source, nsc_source_by_name("simulator"));
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_FILESYSTEM);
	ck_assert_int_eq(cfg.log_level, NSC_LOG_INFO);
	ck_assert_int_eq(cfg.lookback_ms, INT64_C(48) * 3600 * 1000);
	ck_assert_uint_eq(cfg.simulator_seed, 1);
	ck_assert_int_eq(cfg.simulator_interval_ms, 300000);
	ck_assert_str_eq(cfg.output_dir, "./nightscout-data");
	ck_assert_str_eq(cfg.spool_dir, "./nsconnect-spool");
	ck_assert_uint_eq(cfg.spool_max_bytes, UINT64_C(256) * 1024 * 1024);
	ck_assert_str_eq(cfg.share_region, "us");
	ck_assert_str_eq(cfg.linkup_region, "EU");
	ck_assert_str_eq(cfg.linkup_version, "4.16.0");
	ck_assert_str_eq(cfg.linkup_product, "llu.android");
	ck_assert_str_eq(cfg.glooko_env, "default");
	ck_assert_str_eq(cfg.carelink_region, "eu");
	ck_assert_str_eq(cfg.mongo_collection, "entries");
	ck_assert_str_eq(cfg.mongo_treatments_collection, "treatments");
	ck_assert_str_eq(cfg.mongo_devicestatus_collection, "devicestatus");
	ck_assert_str_eq(cfg.mongo_profile_collection, "profile");
	ck_assert_ptr_null(cfg.share_server);
	ck_assert_ptr_null(cfg.mongodb_uri);
	ck_assert_ptr_null(cfg.nightscout_endpoint);
	ck_assert_ptr_null(cfg.simulator_username);
	ck_assert(!cfg.has_glooko_tz_offset);
}
END_TEST

START_TEST(test_simulator_login_pair)
{
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_SIMULATOR_USERNAME", "sim");
	assert_refused("CONNECT_SIMULATOR_PASSWORD is not set");
	put("CONNECT_SIMULATOR_USERNAME", NULL);
	put("CONNECT_SIMULATOR_PASSWORD", "sim-pw");
	assert_refused("CONNECT_SIMULATOR_USERNAME is not set");
	put("CONNECT_SIMULATOR_USERNAME", "sim");
	assert_loads();
	ck_assert_str_eq(cfg.simulator_username, "sim");
	ck_assert_str_eq(cfg.simulator_password, "sim-pw");
}
END_TEST

START_TEST(test_exact_strings)
{
	put("CONNECT_SOURCE", "dexcomshare");
	put("CONNECT_SHARE_ACCOUNT_NAME", " Alice Smith ");
	put("CONNECT_SHARE_PASSWORD", "0123");
	put("CONNECT_LINK_UP_PATIENT_ID", "00012");
	put("CONNECT_SHARE_REGION", "");
	put("CONNECT_SHARE_SERVER", "");
	put("CONNECT_OUTPUT", "");
	assert_loads();
	ck_assert_str_eq(cfg.share_password, "0123");
	ck_assert_str_eq(cfg.share_account_name, " Alice Smith ");
	ck_assert_str_eq(cfg.linkup_patient_id, "00012");
	/* empty optional settings count as unset */
	ck_assert_str_eq(cfg.share_region, "us");
	ck_assert_ptr_null(cfg.share_server);
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_FILESYSTEM);
}
END_TEST

/* ---- malformed values --------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *value;
	const char *expect; /* substring of the message */
};

static const struct bad_case bad_cases[] = {
	{ "CONNECT_SHARE_REGION", "xx",
	  "CONNECT_SHARE_REGION=\"xx\" is not valid; expected one of us, ous, jp" },
	{ "CONNECT_LINK_UP_REGION", "XX", "CONNECT_LINK_UP_REGION=\"XX\" is not valid; expected one of" },
	{ "CONNECT_GLOOKO_ENV", "staging", "CONNECT_GLOOKO_ENV=\"staging\" is not valid" },
	{ "CONNECT_CARELINK_REGION", "asia", "CONNECT_CARELINK_REGION=\"asia\" is not valid" },
	{ "CONNECT_LOG_LEVEL", "verbose",
	  "CONNECT_LOG_LEVEL=\"verbose\" is not valid; expected one of error, warn, info, debug, trace" },
	{ "CONNECT_OUTPUT", "stdout", "CONNECT_OUTPUT=\"stdout\" is not valid; expected one of mongo" },
	{ "CONNECT_LOOKBACK_HOURS", "0", "CONNECT_LOOKBACK_HOURS=\"0\" is not valid" },
	{ "CONNECT_LOOKBACK_HOURS", "2161", "CONNECT_LOOKBACK_HOURS=\"2161\"" },
	{ "CONNECT_LOOKBACK_HOURS", "-1", "CONNECT_LOOKBACK_HOURS" },
	{ "CONNECT_LOOKBACK_HOURS", "48h", "CONNECT_LOOKBACK_HOURS=\"48h\"" },
	{ "CONNECT_LOOKBACK_HOURS", " 48", "CONNECT_LOOKBACK_HOURS" },
	{ "CONNECT_LOOKBACK_HOURS", "+48", "CONNECT_LOOKBACK_HOURS" },
	{ "CONNECT_LOOKBACK_HOURS", "4.5", "CONNECT_LOOKBACK_HOURS" },
	{ "CONNECT_LOOKBACK_HOURS", "99999999999999999999", "CONNECT_LOOKBACK_HOURS" },
	{ "CONNECT_SIMULATOR_SEED", "-1", "CONNECT_SIMULATOR_SEED=\"-1\" is not valid" },
	{ "CONNECT_SIMULATOR_SEED", "18446744073709551616", "CONNECT_SIMULATOR_SEED" },
	{ "CONNECT_SIMULATOR_SEED", "12x", "CONNECT_SIMULATOR_SEED" },
	{ "CONNECT_SIMULATOR_SEED", " 1", "CONNECT_SIMULATOR_SEED" },
	{ "CONNECT_POLL_INTERVAL", "0", "CONNECT_POLL_INTERVAL=\"0\" is not valid; expected a whole number of seconds from 1 to 3600" },
	{ "CONNECT_POLL_INTERVAL", "1m", "CONNECT_POLL_INTERVAL" },
	{ "CONNECT_HTTP_TIMEOUT", "301", "CONNECT_HTTP_TIMEOUT=\"301\" is not valid; expected a whole number of seconds from 1 to 300" },
	{ "CONNECT_HTTP_TIMEOUT", "-5", "CONNECT_HTTP_TIMEOUT" },
	{ "CONNECT_REST_CONCURRENCY", "17", "CONNECT_REST_CONCURRENCY=\"17\" is not valid; expected a whole number of requests from 1 to 16" },
	{ "CONNECT_REST_CONCURRENCY", "0", "CONNECT_REST_CONCURRENCY" },
	{ "CONNECT_SIMULATOR_INTERVAL", "0", "CONNECT_SIMULATOR_INTERVAL=\"0\" is not valid; expected a whole number of seconds from 1 to 3600" },
	{ "CONNECT_SIMULATOR_INTERVAL", "3601", "CONNECT_SIMULATOR_INTERVAL=\"3601\"" },
	{ "CONNECT_SIMULATOR_INTERVAL", "5s", "CONNECT_SIMULATOR_INTERVAL" },
	{ "CONNECT_LINK_UP_VERSION", "4.16.",
	  "CONNECT_LINK_UP_VERSION=\"4.16.\" is not valid; expected digits and dots" },
	{ "CONNECT_LINK_UP_VERSION", "4..16", "CONNECT_LINK_UP_VERSION" },
	{ "CONNECT_LINK_UP_VERSION", "v4.16.0", "CONNECT_LINK_UP_VERSION" },
	{ "CONNECT_LINK_UP_VERSION", ".4", "CONNECT_LINK_UP_VERSION" },
	{ "CONNECT_COUNTRY_CODE", "deu", "CONNECT_COUNTRY_CODE=\"deu\" is not valid" },
	{ "CONNECT_COUNTRY_CODE", "d1", "CONNECT_COUNTRY_CODE" },
	{ "CONNECT_GLOOKO_TIMEZONE", "Mars/Olympus_Mons",
	  "CONNECT_GLOOKO_TIMEZONE=\"Mars/Olympus_Mons\"" },
	{ "CONNECT_GLOOKO_TIMEZONE", "../../../etc/passwd", "CONNECT_GLOOKO_TIMEZONE" },
	{ "CONNECT_GLOOKO_TIMEZONE", "Europe/../Europe/Berlin", "CONNECT_GLOOKO_TIMEZONE" },
	{ "CONNECT_GLOOKO_TIMEZONE", "/usr/share/zoneinfo/UTC", "CONNECT_GLOOKO_TIMEZONE" },
	{ "CONNECT_GLOOKO_TIMEZONE", "Europe", "CONNECT_GLOOKO_TIMEZONE" },
	{ "CONNECT_GLOOKO_TIMEZONE", "Europe/Berlin/", "CONNECT_GLOOKO_TIMEZONE" },
	{ "CONNECT_GLOOKO_TIMEZONE_OFFSET", "15", "CONNECT_GLOOKO_TIMEZONE_OFFSET=\"15\" is not valid" },
	{ "CONNECT_GLOOKO_TIMEZONE_OFFSET", "-14.5", "CONNECT_GLOOKO_TIMEZONE_OFFSET" },
	{ "CONNECT_GLOOKO_TIMEZONE_OFFSET", "1e1", "CONNECT_GLOOKO_TIMEZONE_OFFSET" },
	{ "CONNECT_GLOOKO_TIMEZONE_OFFSET", "nan", "CONNECT_GLOOKO_TIMEZONE_OFFSET" },
	{ "CONNECT_GLOOKO_TIMEZONE_OFFSET", "-", "CONNECT_GLOOKO_TIMEZONE_OFFSET" },
	{ "CONNECT_SHARE_SERVER", "ftp://share2.dexcom.com",
	  "CONNECT_SHARE_SERVER=\"ftp://share2.dexcom.com\" is not valid" },
	{ "CONNECT_LINK_UP_SERVER", "api.libreview.io:0", "CONNECT_LINK_UP_SERVER" },
	{ "CONNECT_GLOOKO_SERVER", "https://", "CONNECT_GLOOKO_SERVER" },
	{ "CONNECT_CARELINK_SERVER", "carelink minimed.eu", "CONNECT_CARELINK_SERVER" },
	{ "CONNECT_NIGHTSCOUT_ENDPOINT", "https://ns.example.com:99999", "CONNECT_NIGHTSCOUT_ENDPOINT" },
	{ "CONNECT_SOURCE_ENDPOINT", "ns.example.com", "CONNECT_SOURCE_ENDPOINT is not valid" },
	{ "CONNECT_SOURCE_ENDPOINT", "wss://ns.example.com", "CONNECT_SOURCE_ENDPOINT" },
	{ "MONGODB_URI", "http://db.example.com/ns", "MONGODB_URI is not a MongoDB URI" },
	{ "MONGODB_URI", "mongodb://", "MONGODB_URI" },
	{ "MONGO_COLLECTION", "entries$x", "MONGO_COLLECTION=\"entries$x\" is not valid" },
	{ "MONGO_PROFILE_COLLECTION", "system.profile", "MONGO_PROFILE_COLLECTION" },
};

START_TEST(test_bad_values)
{
	const struct bad_case *c = &bad_cases[_i];

	put("CONNECT_SOURCE", "simulator");
	put(c->name, c->value);
	assert_refused(c->expect);
}
END_TEST

START_TEST(test_linkup_regions)
{
	static const char *const regions[] = { "US", "EU", "EU2", "DE", "FR", "JP", "AP",
					       "AU", "AE", "CA", "LA", "RU", "CN" };

	put("CONNECT_SOURCE", "simulator");
	for (size_t i = 0; i < COUNT(regions); i++) {
		char lower[8];
		size_t j;
		for (j = 0; regions[i][j]; j++)
			lower[j] = (char)tolower((unsigned char)regions[i][j]);
		lower[j] = '\0';
		put("CONNECT_LINK_UP_REGION", lower);
		assert_loads();
		ck_assert_str_eq(cfg.linkup_region, regions[i]);
	}
}
END_TEST

START_TEST(test_good_values)
{
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_LOOKBACK_HOURS", "2160");
	put("CONNECT_SIMULATOR_SEED", "18446744073709551615");
	put("CONNECT_LINK_UP_VERSION", "4.16.0");
	put("CONNECT_GLOOKO_TIMEZONE", "Europe/Berlin");
	put("CONNECT_GLOOKO_TIMEZONE_OFFSET", "-5.5");
	put("CONNECT_OUTPUT_DIR", "/var/lib/ns data");
	assert_loads();
	ck_assert_int_eq(cfg.lookback_ms, INT64_C(2160) * 3600 * 1000);
	ck_assert_uint_eq(cfg.simulator_seed, UINT64_MAX);
	ck_assert_str_eq(cfg.glooko_timezone, "Europe/Berlin");
	ck_assert(cfg.has_glooko_tz_offset);
	ck_assert(fabs(cfg.glooko_tz_offset_hours - -5.5) < 1e-9);
	ck_assert_str_eq(cfg.output_dir, "/var/lib/ns data");

	put("CONNECT_LOOKBACK_HOURS", "1");
	put("CONNECT_SIMULATOR_SEED", "0");
	put("CONNECT_GLOOKO_TIMEZONE", "UTC");
	put("CONNECT_GLOOKO_TIMEZONE_OFFSET", "+14");
	assert_loads();
	ck_assert_int_eq(cfg.lookback_ms, INT64_C(3600) * 1000);
	ck_assert_uint_eq(cfg.simulator_seed, 0);
	ck_assert(fabs(cfg.glooko_tz_offset_hours - 14.0) < 1e-9);

	put("CONNECT_GLOOKO_TIMEZONE_OFFSET", "-14");
	assert_loads();
	ck_assert(fabs(cfg.glooko_tz_offset_hours - -14.0) < 1e-9);
}
END_TEST

static const char *const spool_max_bad[] = {
	"0", "65537", "-1", "256MB", "1.5", " 256", "+256", "0x100", "99999999999999999999",
};

/* Each refusal names the variable, echoes the value and gives the range. */
START_TEST(test_spool_max_refused)
{
	char expect[160];

	snprintf(expect, sizeof(expect),
		 "CONNECT_SPOOL_MAX_MB=\"%s\" is not valid; expected a whole number of MiB "
		 "from 1 to 65536",
		 spool_max_bad[_i]);
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_SPOOL_MAX_MB", spool_max_bad[_i]);
	assert_refused(expect);
}
END_TEST

START_TEST(test_spool_values)
{
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_SPOOL_MAX_MB", "1");
	put("CONNECT_SPOOL_DIR", "/var/spool/ns connect");
	assert_loads();
	ck_assert_uint_eq(cfg.spool_max_bytes, UINT64_C(1) * 1024 * 1024);
	ck_assert_str_eq(cfg.spool_dir, "/var/spool/ns connect");

	put("CONNECT_SPOOL_MAX_MB", "65536");
	assert_loads();
	ck_assert_uint_eq(cfg.spool_max_bytes, UINT64_C(65536) * 1024 * 1024);

	put("CONNECT_SPOOL_MAX_MB", "0");
	assert_refused("CONNECT_SPOOL_MAX_MB=\"0\"");
	put("CONNECT_SPOOL_MAX_MB", "65537");
	assert_refused("CONNECT_SPOOL_MAX_MB=\"65537\"");
	/* a refused load leaves the last good config */
	ck_assert_uint_eq(cfg.spool_max_bytes, UINT64_C(65536) * 1024 * 1024);

	/* empty counts as unset: the defaults again */
	put("CONNECT_SPOOL_MAX_MB", "");
	put("CONNECT_SPOOL_DIR", "");
	assert_loads();
	ck_assert_uint_eq(cfg.spool_max_bytes, UINT64_C(256) * 1024 * 1024);
	ck_assert_str_eq(cfg.spool_dir, "./nsconnect-spool");
}
END_TEST

START_TEST(test_failed_load_keeps_config)
{
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_SIMULATOR_SEED", "42");
	assert_loads();
	put("CONNECT_SIMULATOR_SEED", "x");
	assert_refused("CONNECT_SIMULATOR_SEED");
	ck_assert_uint_eq(cfg.simulator_seed, 42);
	ck_assert_str_eq(cfg.output_dir, "./nightscout-data");
	/* loading again over a loaded config replaces it (ASan checks for leaks) */
	put("CONNECT_SIMULATOR_SEED", "7");
	assert_loads();
	ck_assert_uint_eq(cfg.simulator_seed, 7);
}
END_TEST

/* ---- URLs --------------------------------------------------------------- */

static const char *const url_good[][2] = {
	{ "share2.dexcom.com", "https://share2.dexcom.com" },
	{ "127.0.0.1:8080", "https://127.0.0.1:8080" },
	{ "http://127.0.0.1:8080/base/", "http://127.0.0.1:8080/base" },
	{ "https://example.com/", "https://example.com" },
	{ "HTTPS://Example.COM:443//", "https://example.com:443" },
	{ "http://localhost:1", "http://localhost:1" },
	{ "http://h:65535/a/b", "http://h:65535/a/b" },
	{ "example.com/ns/", "https://example.com/ns" },
	{ "[::1]:8443", "https://[::1]:8443" },
	{ "http://[::1]/", "http://[::1]" },
	{ "api-eu.libreview.io", "https://api-eu.libreview.io" },
};

START_TEST(test_url_normalise)
{
	char *out = NULL;

	ck_assert_int_eq(nsc_config_normalize_url("CONNECT_SHARE_SERVER", url_good[_i][0], &out,
						  &err),
			 NSC_OK);
	ck_assert_str_eq(out, url_good[_i][1]);
	free(out);

	/* the same through the loader, for every server setting */
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_SHARE_SERVER", url_good[_i][0]);
	put("CONNECT_LINK_UP_SERVER", url_good[_i][0]);
	put("CONNECT_GLOOKO_SERVER", url_good[_i][0]);
	put("CONNECT_CARELINK_SERVER", url_good[_i][0]);
	put("CONNECT_NIGHTSCOUT_ENDPOINT", url_good[_i][0]);
	put("CONNECT_API_SECRET", "api-secret-1234");
	assert_loads();
	ck_assert_str_eq(cfg.share_server, url_good[_i][1]);
	ck_assert_str_eq(cfg.linkup_server, url_good[_i][1]);
	ck_assert_str_eq(cfg.glooko_server, url_good[_i][1]);
	ck_assert_str_eq(cfg.carelink_server, url_good[_i][1]);
	ck_assert_str_eq(cfg.nightscout_endpoint, url_good[_i][1]);
}
END_TEST

static const char *const url_bad[] = {
	"ftp://example.com",
	"https://",
	"https://:8080",
	"example.com:0",
	"example.com:65536",
	"example.com:80a",
	"example.com:",
	"example.com:-1",
	"exa mple.com",
	"example.com ",
	"https://user:pw@example.com",
	"https://example.com/?x=1",
	"https://example.com/#top",
	"a:b:c",
	"",
	"mongodb://example.com",
	"https://exa%mple.com",
	"[::1",
	"http://[]:80",
};

START_TEST(test_url_refused)
{
	char *out = (char *)"untouched";
	nsc_rc rc = nsc_config_normalize_url("CONNECT_GLOOKO_SERVER", url_bad[_i], &out, &err);

	ck_assert_int_eq(rc, NSC_ERR_CONFIG);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_GLOOKO_SERVER"));
	ck_assert_ptr_nonnull(strstr(err.msg, "expected"));

	if (url_bad[_i][0]) {
		put("CONNECT_SOURCE", "simulator");
		put("CONNECT_SHARE_SERVER", url_bad[_i]);
		assert_refused("CONNECT_SHARE_SERVER");
	}
}
END_TEST

START_TEST(test_url_null)
{
	char *out = NULL;

	ck_assert_int_eq(nsc_config_normalize_url("CONNECT_SHARE_SERVER", NULL, &out, &err),
			 NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_SHARE_SERVER"));
}
END_TEST

START_TEST(test_source_endpoint)
{
	put("CONNECT_SOURCE", "nightscout");
	put("CONNECT_SOURCE_ENDPOINT", "HTTPS://NS.example.com:8443/site/?token=reader-1a2b3c");
	assert_loads();
	ck_assert_str_eq(cfg.source_endpoint, "https://ns.example.com:8443/site?token=reader-1a2b3c");

	/* a bad endpoint is refused without echoing its token */
	put("CONNECT_SOURCE_ENDPOINT", "ftp://ns.example.com/?token=reader-1a2b3c");
	assert_refused("CONNECT_SOURCE_ENDPOINT");
	ck_assert_ptr_null(strstr(err.msg, "reader-1a2b3c"));
}
END_TEST

/* ---- NAME_FILE secrets -------------------------------------------------- */

START_TEST(test_secret_file)
{
	static const struct {
		const char *content;
		size_t len;
		const char *value;
	} cases[] = {
		{ "pa55word\n", 9, "pa55word" },
		{ "pa55word\r\n", 10, "pa55word" },
		{ "0123", 4, "0123" },
		{ "two\n\n", 5, "two\n" },
		{ " spaced \n", 9, " spaced " },
	};

	put("CONNECT_SOURCE", "dexcomshare");
	put("CONNECT_SHARE_ACCOUNT_NAME", "alice");
	for (size_t i = 0; i < COUNT(cases); i++) {
		char path[64];
		temp_file(path, sizeof(path), cases[i].content, cases[i].len);
		put("CONNECT_SHARE_PASSWORD_FILE", path);
		assert_loads();
		unlink(path);
		ck_assert_str_eq(cfg.share_password, cases[i].value);
	}
}
END_TEST

START_TEST(test_secret_file_every_secret)
{
	char path[64];

	temp_file(path, sizeof(path), "from-file-42\n", 13);
	put("CONNECT_SOURCE", "simulator");
	for (size_t i = 0; i < COUNT(secret_settings); i++) {
		char name[96];
		snprintf(name, sizeof(name), "%s_FILE", secret_settings[i]);
		put(name, path);
	}
	put("CONNECT_SIMULATOR_USERNAME", "sim");
	/* Mongo URIs need their own form; use a valid one for the family. */
	put("MONGODB_URI_FILE", NULL);
	put("MONGO_CONNECTION_FILE", NULL);
	put("CUSTOMCONNSTR_mongo_FILE", NULL);
	assert_loads();
	ck_assert_str_eq(cfg.share_password, "from-file-42");
	ck_assert_str_eq(cfg.linkup_password, "from-file-42");
	ck_assert_str_eq(cfg.source_api_secret, "from-file-42");
	ck_assert_str_eq(cfg.glooko_password, "from-file-42");
	ck_assert_str_eq(cfg.carelink_password, "from-file-42");
	ck_assert_str_eq(cfg.api_secret, "from-file-42");
	ck_assert_str_eq(cfg.nightscout_token, "from-file-42");
	ck_assert_str_eq(cfg.simulator_password, "from-file-42");
	unlink(path);

	nsc_config_kv_free(&kv);
	nsc_config_kv_init(&kv, NULL, NULL);
	put("CONNECT_SOURCE", "simulator");
	temp_file(path, sizeof(path), "mongodb://u:p@db/ns\n", 20);
	for (size_t i = 0; i < 3; i++) {
		static const char *const files[] = { "MONGODB_URI_FILE", "MONGO_CONNECTION_FILE",
						     "CUSTOMCONNSTR_mongo_FILE" };
		put(files[i], path);
		assert_loads();
		ck_assert_str_eq(cfg.mongodb_uri, "mongodb://u:p@db/ns");
		ck_assert_int_eq(cfg.output, NSC_OUTPUT_MONGO);
		put(files[i], NULL);
	}
	unlink(path);
}
END_TEST

START_TEST(test_secret_file_errors)
{
	char path[64];

	put("CONNECT_SOURCE", "dexcomshare");
	put("CONNECT_SHARE_ACCOUNT_NAME", "alice");

	/* both set */
	temp_file(path, sizeof(path), "pw\n", 3);
	put("CONNECT_SHARE_PASSWORD", "pw-1234");
	put("CONNECT_SHARE_PASSWORD_FILE", path);
	assert_refused("CONNECT_SHARE_PASSWORD and CONNECT_SHARE_PASSWORD_FILE are both set");
	unlink(path);
	put("CONNECT_SHARE_PASSWORD", NULL);

	/* unreadable: names the variable, the path and the reason */
	put("CONNECT_SHARE_PASSWORD_FILE", "/nonexistent/nsc/password");
	assert_refused("CONNECT_SHARE_PASSWORD_FILE=\"/nonexistent/nsc/password\" cannot be read");
	ck_assert_ptr_nonnull(strstr(err.msg, strerror(ENOENT)));

	/* a directory cannot be read either */
	put("CONNECT_SHARE_PASSWORD_FILE", "/tmp");
	assert_refused("CONNECT_SHARE_PASSWORD_FILE=\"/tmp\"");

	/* empty file, and a file holding only a newline */
	temp_file(path, sizeof(path), "", 0);
	put("CONNECT_SHARE_PASSWORD_FILE", path);
	assert_refused("CONNECT_SHARE_PASSWORD_FILE");
	ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
	unlink(path);
	temp_file(path, sizeof(path), "\r\n", 2);
	put("CONNECT_SHARE_PASSWORD_FILE", path);
	assert_refused("CONNECT_SHARE_PASSWORD_FILE");
	unlink(path);

	/* a NUL byte would silently truncate the secret */
	temp_file(path, sizeof(path), "ab\0cd", 5);
	put("CONNECT_SHARE_PASSWORD_FILE", path);
	assert_refused("CONNECT_SHARE_PASSWORD_FILE");
	unlink(path);

	/* empty NAME_FILE counts as unset: then the password is missing */
	put("CONNECT_SHARE_PASSWORD_FILE", "");
	assert_refused("CONNECT_SHARE_PASSWORD is not set");
}
END_TEST

START_TEST(test_mongo_uri_file_bad)
{
	char path[64];

	temp_file(path, sizeof(path), "postgres://secret-host/db\n", 26);
	put("CONNECT_SOURCE", "simulator");
	put("MONGO_CONNECTION_FILE", path);
	assert_refused("MONGO_CONNECTION_FILE names a file that does not hold a MongoDB URI");
	ck_assert_ptr_null(strstr(err.msg, "secret-host"));
	unlink(path);
}
END_TEST

/* ---- outputs ------------------------------------------------------------ */

START_TEST(test_output_auto)
{
	put("CONNECT_SOURCE", "simulator");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_FILESYSTEM);

	put("CONNECT_NIGHTSCOUT_ENDPOINT", "ns.example.com");
	assert_refused("CONNECT_API_SECRET is not set");
	put("CONNECT_API_SECRET", "api-secret-1234");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_REST);

	put("MONGODB_URI", "mongodb+srv://u:p@cluster0.example.net/ns");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_MONGO);
	ck_assert_str_eq(cfg.mongodb_uri, "mongodb+srv://u:p@cluster0.example.net/ns");
}
END_TEST

START_TEST(test_output_explicit)
{
	put("CONNECT_SOURCE", "simulator");

	put("CONNECT_OUTPUT", "mongo");
	assert_refused("MONGODB_URI is not set; it is required when CONNECT_OUTPUT=mongo");
	put("CUSTOMCONNSTR_mongo", "mongodb://db.example.com/ns");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_MONGO);
	put("CUSTOMCONNSTR_mongo", NULL);

	put("CONNECT_OUTPUT", "rest");
	assert_refused("CONNECT_NIGHTSCOUT_ENDPOINT is not set; it is required when CONNECT_OUTPUT=rest");
	put("CONNECT_NIGHTSCOUT_ENDPOINT", "https://ns.example.com/");
	assert_refused("CONNECT_API_SECRET is not set");
	put("CONNECT_NIGHTSCOUT_TOKEN", "writer-0123456789abcdef");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_REST);
	ck_assert_str_eq(cfg.nightscout_endpoint, "https://ns.example.com");

	put("CONNECT_OUTPUT", "REST3");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_REST3);
	put("CONNECT_NIGHTSCOUT_TOKEN", NULL);
	put("CONNECT_API_SECRET", "api-secret-1234");
	assert_refused("CONNECT_NIGHTSCOUT_TOKEN is not set; it is required when CONNECT_OUTPUT=rest3");
	put("CONNECT_NIGHTSCOUT_ENDPOINT", NULL);
	assert_refused("CONNECT_NIGHTSCOUT_ENDPOINT is not set");

	/* filesystem never needs a URI even when one is set */
	put("CONNECT_OUTPUT", "filesystem");
	put("MONGODB_URI", "mongodb://db.example.com/ns");
	put("CONNECT_OUTPUT_DIR", "/srv/ns");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_FILESYSTEM);
	ck_assert_str_eq(cfg.output_dir, "/srv/ns");

	put("CONNECT_OUTPUT", "auto");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_MONGO);
}
END_TEST

START_TEST(test_mongo_precedence)
{
	put("CONNECT_SOURCE", "simulator");
	put("CUSTOMCONNSTR_mongo", "mongodb://azure.example.com/ns");
	assert_loads();
	ck_assert_str_eq(cfg.mongodb_uri, "mongodb://azure.example.com/ns");

	put("MONGO_CONNECTION", "mongodb://legacy.example.com/ns");
	assert_loads();
	ck_assert_str_eq(cfg.mongodb_uri, "mongodb://legacy.example.com/ns");

	put("MONGODB_URI", "mongodb://primary.example.com/ns");
	assert_loads();
	ck_assert_str_eq(cfg.mongodb_uri, "mongodb://primary.example.com/ns");

	/* empty counts as unset: falls through to the next name */
	put("MONGODB_URI", "");
	assert_loads();
	ck_assert_str_eq(cfg.mongodb_uri, "mongodb://legacy.example.com/ns");

	/* a bad value is named by the variable it came from */
	put("MONGO_CONNECTION", "db.example.com");
	assert_refused("MONGO_CONNECTION is not a MongoDB URI");
	ck_assert_ptr_null(strstr(err.msg, "db.example.com"));
}
END_TEST

/* ---- every problem at once ---------------------------------------------- */

static struct nsc_config_report rep;

static nsc_rc load_report(void)
{
	return nsc_config_load_report(&cfg, nsc_config_kv_lookup, &kv, &rep, &err);
}

/* The load was refused with exactly these settings' problems, in this order. */
static void assert_problems(const char *const *settings, size_t n)
{
	nsc_rc rc = load_report();

	ck_assert_msg(rc == NSC_ERR_CONFIG, "expected NSC_ERR_CONFIG, got %s", nsc_rc_name(rc));
	ck_assert_int_eq(err.code, NSC_ERR_CONFIG);
	ck_assert_msg(rep.count == n, "%zu problems, expected %zu: %s", rep.count, n, err.msg);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(strcmp(rep.problems[i].setting, settings[i]) == 0,
			      "problem %zu is about %s, expected %s: %s", i, rep.problems[i].setting,
			      settings[i], err.msg);
		/* each names its setting first, as the single message always did */
		ck_assert_msg(strncmp(rep.problems[i].message, settings[i], strlen(settings[i])) == 0,
			      "\"%s\" does not start with %s", rep.problems[i].message, settings[i]);
	}
}

static void report_teardown(void)
{
	nsc_config_report_free(&rep);
	teardown();
}

START_TEST(test_two_missing_named)
{
	static const char *const want[] = { "CONNECT_SHARE_ACCOUNT_NAME", "CONNECT_SHARE_PASSWORD" };

	put("CONNECT_SOURCE", "dexcomshare");
	assert_problems(want, COUNT(want));
	ck_assert_str_eq(err.msg,
			 "2 settings need fixing: CONNECT_SHARE_ACCOUNT_NAME is not set; it is required "
			 "when CONNECT_SOURCE=dexcomshare; CONNECT_SHARE_PASSWORD is not set; it is "
			 "required when CONNECT_SOURCE=dexcomshare (or set CONNECT_SHARE_PASSWORD_FILE "
			 "to a file that holds it)");
	/* nsc_config_load says the same without a report */
	assert_refused("CONNECT_SHARE_ACCOUNT_NAME is not set");
	assert_refused("CONNECT_SHARE_PASSWORD is not set");
}
END_TEST

START_TEST(test_malformed_and_missing_named)
{
	static const char *const want[] = { "CONNECT_LOOKBACK_HOURS", "CONNECT_LINK_UP_PASSWORD" };

	put("CONNECT_SOURCE", "linkup");
	put("CONNECT_LOOKBACK_HOURS", "12x");
	put("CONNECT_LINK_UP_USERNAME", "me@example.com");
	assert_problems(want, COUNT(want));
	ck_assert_str_eq(err.msg,
			 "2 settings need fixing: CONNECT_LOOKBACK_HOURS=\"12x\" is not valid; expected "
			 "a whole number of hours from 1 to 2160; CONNECT_LINK_UP_PASSWORD is not set; "
			 "it is required when CONNECT_SOURCE=linkup (or set "
			 "CONNECT_LINK_UP_PASSWORD_FILE to a file that holds it)");
}
END_TEST

/* Malformed values in the order they are read, then what is missing. */
START_TEST(test_problems_in_reading_order)
{
	static const char *const want[] = {
		"CONNECT_OUTPUT",	    "CONNECT_LOG_LEVEL",  "CONNECT_LOOKBACK_HOURS",
		"CONNECT_SIMULATOR_SEED",   "CONNECT_SHARE_REGION", "CONNECT_COUNTRY_CODE",
		"CONNECT_GLOOKO_TIMEZONE_OFFSET", "MONGODB_URI", "CONNECT_GLOOKO_EMAIL",
	};

	put("MONGODB_URI", "db.example.com");
	put("CONNECT_GLOOKO_TIMEZONE_OFFSET", "15");
	put("CONNECT_COUNTRY_CODE", "deu");
	put("CONNECT_SHARE_REGION", "mars");
	put("CONNECT_SIMULATOR_SEED", "x");
	put("CONNECT_LOOKBACK_HOURS", "0");
	put("CONNECT_LOG_LEVEL", "loud");
	put("CONNECT_OUTPUT", "stdout");
	put("CONNECT_GLOOKO_PASSWORD", "pw-1234");
	put("CONNECT_SOURCE", "glooko");
	assert_problems(want, COUNT(want));
	ck_assert_ptr_nonnull(strstr(err.msg, "9 settings need fixing: CONNECT_OUTPUT=\"stdout\""));
	/* the URI is a secret: named, never shown */
	ck_assert_ptr_null(strstr(err.msg, "db.example.com"));
}
END_TEST

/* With CONNECT_SOURCE unset or unknown, no source's requirements are known. */
START_TEST(test_refused_source_has_no_requirements)
{
	static const char *const unset[] = { "CONNECT_SOURCE", "CONNECT_SHARE_REGION" };
	static const char *const unknown[] = { "CONNECT_SOURCE" };

	put("CONNECT_SHARE_REGION", "mars");
	assert_problems(unset, COUNT(unset));
	put("CONNECT_SHARE_REGION", NULL);
	put("CONNECT_SOURCE", "dexcom");
	assert_problems(unknown, COUNT(unknown));
	/* one problem: today's message as it was, no count in front */
	ck_assert_str_eq(err.msg, "CONNECT_SOURCE=\"dexcom\" is not valid; expected one of "
				  "simulator, dexcomshare, linkup, nightscout, glooko, "
				  "minimedcarelink");
}
END_TEST

/* A setting that is set but refused is not also reported missing. */
START_TEST(test_refused_setting_not_missing)
{
	static const char *const share[] = { "CONNECT_SHARE_PASSWORD", "CONNECT_SHARE_ACCOUNT_NAME" };
	static const char *const uri[] = { "MONGO_CONNECTION" };
	static const char *const rest[] = { "CONNECT_NIGHTSCOUT_ENDPOINT", "CONNECT_API_SECRET" };
	static const char *const output[] = { "CONNECT_OUTPUT" };
	static const char *const secret[] = { "CONNECT_API_SECRET" };
	char path[64];

	put("CONNECT_SOURCE", "dexcomshare");
	put("CONNECT_SHARE_PASSWORD_FILE", "/nonexistent/nsc/password");
	assert_problems(share, COUNT(share));
	ck_assert_ptr_null(strstr(err.msg, "CONNECT_SHARE_PASSWORD is not set"));
	temp_file(path, sizeof(path), "pw\n", 3);
	put("CONNECT_SHARE_PASSWORD_FILE", path);
	put("CONNECT_SHARE_PASSWORD", "pw-1234");
	assert_problems(share, COUNT(share));
	ck_assert_ptr_nonnull(strstr(err.msg, "are both set"));
	ck_assert_ptr_null(strstr(err.msg, "CONNECT_SHARE_PASSWORD is not set"));
	unlink(path);

	nsc_config_kv_free(&kv);
	nsc_config_kv_init(&kv, NULL, NULL);
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_OUTPUT", "mongo");
	put("MONGO_CONNECTION", "db.example.com");
	assert_problems(uri, COUNT(uri));
	ck_assert_ptr_null(strstr(err.msg, "MONGODB_URI is not set"));

	/* a refused endpoint still chooses rest, which needs a secret */
	put("CONNECT_OUTPUT", NULL);
	put("MONGO_CONNECTION", NULL);
	put("CONNECT_NIGHTSCOUT_ENDPOINT", "ftp://ns.example.com");
	assert_problems(rest, COUNT(rest));
	ck_assert_ptr_null(strstr(err.msg, "CONNECT_NIGHTSCOUT_ENDPOINT is not set"));
	put("CONNECT_API_SECRET_FILE", "/nonexistent/nsc/secret");
	put("CONNECT_NIGHTSCOUT_ENDPOINT", "ns.example.com");
	assert_problems(secret, COUNT(secret));
	ck_assert_ptr_null(strstr(err.msg, "is not set"));

	/* with CONNECT_OUTPUT refused, the output's needs are unknown */
	put("CONNECT_API_SECRET_FILE", NULL);
	put("CONNECT_OUTPUT", "stdout");
	assert_problems(output, COUNT(output));
}
END_TEST

/* Walks `msg` past items[0..], each followed by "; ": how many it holds whole. */
static size_t whole_items(const char *msg, const struct nsc_config_report *r, const char **rest)
{
	size_t i = 0;

	while (i < r->count) {
		size_t n = strlen(r->problems[i].message);
		if (strncmp(msg, r->problems[i].message, n) != 0)
			break;
		msg += n;
		i++;
		if (strncmp(msg, "; ", 2) != 0)
			break;
		msg += 2;
	}
	*rest = msg;
	return i;
}

START_TEST(test_overflow_form)
{
	static const char *const bad[][2] = {
		/* the loader's order: numbers in table order, then the strings */
		{ "CONNECT_LOG_LEVEL", "loud" },	  { "CONNECT_LOOKBACK_HOURS", "0" },
		{ "CONNECT_POLL_INTERVAL", "0" },	  { "CONNECT_HTTP_TIMEOUT", "0" },
		{ "CONNECT_SIMULATOR_SEED", "x" },	  { "CONNECT_SIMULATOR_INTERVAL", "0" },
		{ "CONNECT_SPOOL_MAX_MB", "0" },	  { "CONNECT_SHARE_REGION", "xx" },
		{ "CONNECT_LINK_UP_REGION", "XX" },	  { "CONNECT_LINK_UP_VERSION", "v4" },
		{ "CONNECT_GLOOKO_ENV", "staging" },	  { "CONNECT_CARELINK_REGION", "asia" },
		{ "CONNECT_COUNTRY_CODE", "deu" },
	};
	const char *rest;
	char head[64], tail[64];
	size_t total = 0, shown;

	put("CONNECT_SOURCE", "simulator");
	for (size_t i = 0; i < COUNT(bad); i++)
		put(bad[i][0], bad[i][1]);
	ck_assert_int_eq(load_report(), NSC_ERR_CONFIG);
	ck_assert_uint_eq(rep.count, COUNT(bad));
	for (size_t i = 0; i < rep.count; i++) {
		ck_assert_str_eq(rep.problems[i].setting, bad[i][0]);
		total += strlen(rep.problems[i].message) + 2;
	}
	ck_assert_uint_gt(total, NSC_ERROR_MSG_MAX); /* they cannot all fit */

	snprintf(head, sizeof(head), "%zu settings need fixing: ", COUNT(bad));
	ck_assert_msg(strncmp(err.msg, head, strlen(head)) == 0, "%s", err.msg);
	shown = whole_items(err.msg + strlen(head), &rep, &rest);
	ck_assert_uint_ge(shown, 1);
	ck_assert_uint_lt(shown, rep.count);
	/* whole problems, then how many are left: no word cut */
	snprintf(tail, sizeof(tail), "\xe2\x80\xa6 and %zu more", rep.count - shown);
	ck_assert_str_eq(rest, tail);
	ck_assert_uint_lt(strlen(err.msg), NSC_ERROR_MSG_MAX);
	/* and as many as fit: the next one with its own tail would not have */
	snprintf(tail, sizeof(tail), "; \xe2\x80\xa6 and %zu more", rep.count - shown - 1);
	ck_assert_uint_ge(strlen(err.msg) - strlen(rest) + strlen(rep.problems[shown].message) +
				  (shown + 1 < rep.count ? strlen(tail) : 0),
			  NSC_ERROR_MSG_MAX);
}
END_TEST

/* Only a first problem longer than the whole message is cut: before a word. */
START_TEST(test_overflow_first_problem_cut)
{
	char long_text[3 * NSC_ERROR_MSG_MAX];
	struct nsc_config_problem items[2] = {
		{ "CONNECT_SHARE_REGION", long_text },
		{ "CONNECT_LINK_UP_REGION", (char *)"CONNECT_LINK_UP_REGION is wrong" },
	};
	struct nsc_config_report two = { .count = 2, .cap = 2, .problems = items };
	const char *cut;
	size_t kept;

	snprintf(long_text, sizeof(long_text), "CONNECT_SHARE_REGION=\"");
	while (strlen(long_text) + 8 < sizeof(long_text))
		strcat(long_text, "word ");
	strcat(long_text, "\"");
	nsc_config_report_join(&two, &err);
	ck_assert_int_eq(err.code, NSC_ERR_CONFIG);
	ck_assert_uint_lt(strlen(err.msg), NSC_ERROR_MSG_MAX);
	ck_assert_uint_gt(strlen(err.msg), NSC_ERROR_MSG_MAX - 16);
	ck_assert_msg(strncmp(err.msg, "2 settings need fixing: CONNECT_SHARE_REGION=\"word ", 51) == 0,
		      "%s", err.msg);
	cut = strstr(err.msg, "\xe2\x80\xa6; \xe2\x80\xa6 and 1 more");
	ck_assert_ptr_nonnull(cut);
	ck_assert_str_eq(cut, "\xe2\x80\xa6; \xe2\x80\xa6 and 1 more");
	kept = (size_t)(cut - err.msg) - strlen("2 settings need fixing: ");
	ck_assert(strncmp(err.msg + strlen("2 settings need fixing: "), long_text, kept) == 0);
	ck_assert_int_eq(long_text[kept], ' '); /* cut before a word, not inside one */

	/* one problem alone: cut the same way, nothing after it */
	two.count = 1;
	nsc_config_report_join(&two, &err);
	ck_assert_uint_lt(strlen(err.msg), NSC_ERROR_MSG_MAX);
	kept = strlen(err.msg) - strlen("\xe2\x80\xa6");
	ck_assert_str_eq(err.msg + kept, "\xe2\x80\xa6");
	ck_assert(strncmp(err.msg, long_text, kept) == 0);
	ck_assert_int_eq(long_text[kept], ' ');
}
END_TEST

/* A good load empties the report; a refused one changes nothing in cfg. */
START_TEST(test_report_reused)
{
	put("CONNECT_SOURCE", "dexcomshare");
	ck_assert_int_eq(load_report(), NSC_ERR_CONFIG);
	ck_assert_uint_eq(rep.count, 2);
	ck_assert_ptr_eq(cfg.source, NULL);
	put("CONNECT_SHARE_ACCOUNT_NAME", "alice");
	put("CONNECT_SHARE_PASSWORD", "pw-1234");
	ck_assert_int_eq(load_report(), NSC_OK);
	ck_assert_uint_eq(rep.count, 0);
	ck_assert_str_eq(err.msg, "");
	ck_assert_ptr_eq(cfg.source, nsc_source_by_name("dexcomshare"));
}
END_TEST

/* ---- kv layer ----------------------------------------------------------- */

static const char *fallback_lookup(void *ctx, const char *name)
{
	static const char *const pairs[][2] = {
		{ "CONNECT_SOURCE", "dexcomshare" },
		{ "CONNECT_SHARE_ACCOUNT_NAME", "env-user" },
		{ "CONNECT_SHARE_PASSWORD", "env-pass" },
		{ "CONNECT_SHARE_REGION", "ous" },
	};

	ck_assert_ptr_eq(ctx, &kv);
	for (size_t i = 0; i < COUNT(pairs); i++) {
		if (strcmp(pairs[i][0], name) == 0)
			return pairs[i][1];
	}
	return NULL;
}

START_TEST(test_kv_layering)
{
	struct nsc_config_kv flags;

	nsc_config_kv_init(&flags, fallback_lookup, &kv);
	ck_assert_str_eq(nsc_config_kv_lookup(&flags, "CONNECT_SHARE_REGION"), "ous");
	ck_assert_ptr_null(nsc_config_kv_lookup(&flags, "CONNECT_NOPE"));

	ck_assert_int_eq(nsc_config_kv_set(&flags, "CONNECT_SHARE_REGION", "jp"), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&flags, "CONNECT_SHARE_REGION", "JP"), NSC_OK);
	ck_assert_uint_eq(flags.count, 1);
	ck_assert_str_eq(nsc_config_kv_lookup(&flags, "CONNECT_SHARE_REGION"), "JP");

	ck_assert_int_eq(nsc_config_load(&cfg, nsc_config_kv_lookup, &flags, &err), NSC_OK);
	ck_assert_str_eq(cfg.share_account_name, "env-user");
	ck_assert_str_eq(cfg.share_password, "env-pass");
	ck_assert_str_eq(cfg.share_region, "jp");

	/* NULL removes the key, so the fallback shows through again */
	ck_assert_int_eq(nsc_config_kv_set(&flags, "CONNECT_SHARE_REGION", NULL), NSC_OK);
	ck_assert_uint_eq(flags.count, 0);
	ck_assert_str_eq(nsc_config_kv_lookup(&flags, "CONNECT_SHARE_REGION"), "ous");

	/* grows past its first allocation and keeps every pair */
	for (int i = 0; i < 100; i++) {
		char k[32], v[32];
		snprintf(k, sizeof(k), "KEY_%d", i);
		snprintf(v, sizeof(v), "value-%d", i);
		ck_assert_int_eq(nsc_config_kv_set(&flags, k, v), NSC_OK);
	}
	ck_assert_uint_eq(flags.count, 100);
	ck_assert_str_eq(nsc_config_kv_lookup(&flags, "KEY_0"), "value-0");
	ck_assert_str_eq(nsc_config_kv_lookup(&flags, "KEY_99"), "value-99");
	ck_assert_int_eq(nsc_config_kv_set(&flags, "KEY_50", NULL), NSC_OK);
	ck_assert_ptr_null(nsc_config_kv_lookup(&flags, "KEY_50"));
	ck_assert_str_eq(nsc_config_kv_lookup(&flags, "KEY_51"), "value-51");
	ck_assert_str_eq(nsc_config_kv_lookup(&flags, "KEY_99"), "value-99");
	ck_assert_int_eq(nsc_config_kv_set(&flags, NULL, "x"), NSC_ERR_INTERNAL);

	nsc_config_kv_free(&flags);
	ck_assert_uint_eq(flags.count, 0);
	ck_assert_ptr_null(nsc_config_kv_lookup(&flags, "CONNECT_SHARE_REGION"));
}
END_TEST

/* ---- secrets and the log ------------------------------------------------ */

static void load_secret_config(void)
{
	put("CONNECT_SOURCE", "nightscout");
	put("CONNECT_SOURCE_ENDPOINT", "https://ns.example.com/?token=reader-TOK-4242");
	put("CONNECT_SHARE_ACCOUNT_NAME", "visible-account");
	put("CONNECT_SHARE_PASSWORD", "share-PW-9876");
	put("CONNECT_API_SECRET", "api-SECRET-5555");
	put("CONNECT_NIGHTSCOUT_ENDPOINT", "ns-out.example.com");
	put("MONGODB_URI", "mongodb://nsuser:m0ngo%40PW@db.example.com:27017/ns");
	assert_loads();
	ck_assert_int_eq(cfg.output, NSC_OUTPUT_MONGO);
}

static const char *const leaked[] = {
	"reader-TOK-4242", "share-PW-9876", "api-SECRET-5555", "m0ngo%40PW", "m0ngo@PW",
};

START_TEST(test_register_secrets)
{
	struct nsc_log *log = nsc_log_new(NSC_LOG_DEBUG);

	ck_assert_ptr_nonnull(log);
	load_secret_config();
	ck_assert_int_eq(nsc_config_register_secrets(&cfg, log), NSC_OK);
	for (size_t i = 0; i < COUNT(leaked); i++) {
		char in[128];
		/* bare values, not in token=/password= patterns the logger knows */
		snprintf(in, sizeof(in), "got <%s> here", leaked[i]);
		char *out = nsc_log_redact(log, in);
		ck_assert_ptr_nonnull(out);
		ck_assert_msg(strstr(out, leaked[i]) == NULL, "%s leaked in \"%s\"", leaked[i], out);
		ck_assert_ptr_nonnull(strstr(out, NSC_REDACTED));
		ck_assert_ptr_nonnull(strstr(out, "got <"));
		free(out);
	}
	nsc_log_free(log);
}
END_TEST

struct captured {
	char lines[64][512];
	int count;
};

static void capture_sink(void *ctx, enum nsc_log_level level, const char *line)
{
	struct captured *c = ctx;

	(void)level;
	logline_assert(line);
	if (c->count < 64)
		snprintf(c->lines[c->count++], sizeof(c->lines[0]), "%s", line);
}

static const char *find_line(const struct captured *c, const char *needle)
{
	for (int i = 0; i < c->count; i++) {
		if (strstr(c->lines[i], needle))
			return c->lines[i];
	}
	return NULL;
}

START_TEST(test_config_log)
{
	struct nsc_log *log = nsc_log_new(NSC_LOG_DEBUG);
	struct captured *cap = calloc(1, sizeof(*cap));

	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_nonnull(cap);
	nsc_log_set_sink(log, capture_sink, cap);
	load_secret_config();
	/* no secrets registered: nsc_config_log must hide them by itself */
	nsc_config_log(&cfg, log);

	ck_assert_ptr_nonnull(find_line(cap, "event=setting name=CONNECT_SOURCE value=nightscout"));
	ck_assert_ptr_nonnull(find_line(cap, "event=setting name=CONNECT_OUTPUT value=mongo"));
	ck_assert_ptr_nonnull(
		find_line(cap, "event=setting name=CONNECT_SHARE_ACCOUNT_NAME value=visible-account"));
	ck_assert_ptr_nonnull(
		find_line(cap, "event=setting name=CONNECT_SHARE_PASSWORD value=" NSC_REDACTED));
	ck_assert_ptr_nonnull(
		find_line(cap, "event=setting name=CONNECT_API_SECRET value=" NSC_REDACTED));
	ck_assert_ptr_nonnull(find_line(cap, "event=setting name=MONGODB_URI value=" NSC_REDACTED));
	ck_assert_ptr_nonnull(find_line(cap, "event=setting name=CONNECT_SOURCE_ENDPOINT "
					     "value=\"https://ns.example.com?token=" NSC_REDACTED "\""));
	ck_assert_ptr_nonnull(find_line(cap, "event=setting name=CONNECT_NIGHTSCOUT_ENDPOINT "
					     "value=https://ns-out.example.com"));
	ck_assert_ptr_nonnull(find_line(cap, "name=CONNECT_LOOKBACK_HOURS value=48"));
	ck_assert_ptr_nonnull(find_line(cap, "name=CONNECT_SPOOL_MAX_MB value=256"));
	ck_assert_ptr_nonnull(find_line(cap, "name=CONNECT_SPOOL_DIR value=./nsconnect-spool"));
	ck_assert_ptr_null(find_line(cap, "name=CONNECT_SHARE_SERVER"));
	for (int i = 0; i < cap->count; i++) {
		for (size_t j = 0; j < COUNT(leaked); j++)
			ck_assert_msg(strstr(cap->lines[i], leaked[j]) == NULL, "%s in \"%s\"",
				      leaked[j], cap->lines[i]);
	}

	/* nothing at info level */
	cap->count = 0;
	nsc_log_set_level(log, NSC_LOG_INFO);
	nsc_config_log(&cfg, log);
	ck_assert_int_eq(cap->count, 0);

	nsc_log_free(log);
	free(cap);
}
END_TEST


/* ---- env files (a tenant's settings) ---- */

static nsc_rc parse_env(const char *text)
{
	return nsc_config_envfile_parse("t.env", text, strlen(text), &kv, &err);
}

START_TEST(test_envfile_forms)
{
	ck_assert_int_eq(parse_env("# a tenant\n"
				   "\n"
				   "CONNECT_SOURCE=dexcomshare\n"
				   "  export CONNECT_SHARE_ACCOUNT_NAME = alice@example.com  \n"
				   "CONNECT_SHARE_PASSWORD='p#ss \"x\" $HOME'\n"
				   "CONNECT_SHARE_REGION=\"us\"  # trailing comment\n"
				   "CONNECT_OUTPUT_DIR=\"a \\\"b\\\" \\\\c\\$d\"\n"
				   "CONNECT_LOG_LEVEL=\r\n"
				   "TZ=Europe/Berlin"),
			 NSC_OK);
	ck_assert_str_eq(nsc_config_kv_lookup(&kv, "CONNECT_SOURCE"), "dexcomshare");
	ck_assert_str_eq(nsc_config_kv_lookup(&kv, "CONNECT_SHARE_ACCOUNT_NAME"), "alice@example.com");
	ck_assert_str_eq(nsc_config_kv_lookup(&kv, "CONNECT_SHARE_PASSWORD"), "p#ss \"x\" $HOME");
	ck_assert_str_eq(nsc_config_kv_lookup(&kv, "CONNECT_SHARE_REGION"), "us");
	ck_assert_str_eq(nsc_config_kv_lookup(&kv, "CONNECT_OUTPUT_DIR"), "a \"b\" \\c$d");
	ck_assert_str_eq(nsc_config_kv_lookup(&kv, "CONNECT_LOG_LEVEL"), "");
	ck_assert_str_eq(nsc_config_kv_lookup(&kv, "TZ"), "Europe/Berlin");
	/* Loaded like the environment. */
	assert_loads();
	ck_assert_str_eq(nsc_source_name(cfg.source), "dexcomshare");
}
END_TEST

START_TEST(test_envfile_errors_name_line_not_value)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "CONNECT_SOURCE=x\nnot a setting\n", "t.env, line 2: expected NAME=value" },
		{ "=secret-value\n", "t.env, line 1: expected NAME=value" },
		{ "CONNECT_SHARE_PASSWORD='secret-value\n", "t.env, line 1 (CONNECT_SHARE_PASSWORD): a quoted value has no closing quote" },
		{ "CONNECT_SHARE_PASSWORD=\"secret\"-value\n", "t.env, line 1 (CONNECT_SHARE_PASSWORD): text follows the closing quote" },
		{ "\n\nCONNECT_SHARE_PASSWRD=secret-value\n", "t.env, line 3: CONNECT_SHARE_PASSWRD is not a setting nsconnect knows" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nsc_config_kv_free(&kv);
		nsc_config_kv_init(&kv, NULL, NULL);
		nsc_error_clear(&err);
		ck_assert_int_eq(parse_env(bad[i].text), NSC_ERR_CONFIG);
		ck_assert_msg(strncmp(err.msg, bad[i].want, strlen(bad[i].want)) == 0, "%zu: %s", i, err.msg);
		ck_assert_ptr_null(strstr(err.msg, "secret"));
	}
	/* A known setting's _FILE form is a setting too. */
	nsc_config_kv_free(&kv);
	nsc_config_kv_init(&kv, NULL, NULL);
	ck_assert_int_eq(parse_env("CONNECT_SHARE_PASSWORD_FILE=/run/secrets/pw\n"), NSC_OK);
}
END_TEST

/* The status listener's address is checked at start like any other setting. */
START_TEST(test_http_listen_setting)
{
	put("CONNECT_SOURCE", "simulator");
	put("CONNECT_HTTP_LISTEN", "9117");
	assert_loads();
	ck_assert_str_eq(cfg.http_listen, "9117");
	nsc_config_free(&cfg);
	nsc_config_init(&cfg);
	put("CONNECT_HTTP_LISTEN", "status.example.com:9117");
	ck_assert_int_eq(load(), NSC_ERR_CONFIG);
	ck_assert_msg(strncmp(err.msg, "CONNECT_HTTP_LISTEN", 19) == 0, "%s", err.msg);
}
END_TEST

START_TEST(test_envfile_read_and_fingerprint)
{
	char dir[] = "/tmp/nsc-envfile.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/alice.env", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("CONNECT_SOURCE=simulator\n", f);
	fclose(f);
	uint64_t a = 0, b = 0;
	ck_assert_int_eq(nsc_config_envfile_read(path, &kv, &a, &err), NSC_OK);
	ck_assert_str_eq(nsc_config_kv_lookup(&kv, "CONNECT_SOURCE"), "simulator");
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("# changed\n", f);
	fclose(f);
	ck_assert_int_eq(nsc_config_envfile_read(path, &kv, &b, &err), NSC_OK);
	ck_assert_uint_ne(a, b);
	unlink(path);
	ck_assert_int_eq(nsc_config_envfile_read(path, &kv, &b, &err), NSC_ERR_CONFIG);
	ck_assert_msg(strstr(err.msg, "cannot read") && strstr(err.msg, "alice.env"), "%s", err.msg);
	rmdir(dir);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_table_flags_round_trip);
	tcase_add_test(tc, test_table_has_every_field);
	tcase_add_test(tc, test_table_spool);
	tcase_add_test(tc, test_kind_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("sources");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_source_missing);
	tcase_add_test(tc, test_source_unknown);
	tcase_add_loop_test(tc, test_source_required, 0, (int)COUNT(source_cases));
	tcase_add_test(tc, test_source_case_insensitive);
	tcase_add_test(tc, test_simulator_defaults);
	tcase_add_test(tc, test_simulator_interval);
	tcase_add_test(tc, test_poll_interval_and_timeout);
	tcase_add_test(tc, test_rest_concurrency);
	tcase_add_test(tc, test_simulator_login_pair);
	tcase_add_test(tc, test_exact_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad_values, 0, (int)COUNT(bad_cases));
	tcase_add_test(tc, test_linkup_regions);
	tcase_add_test(tc, test_good_values);
	tcase_add_test(tc, test_spool_values);
	tcase_add_loop_test(tc, test_spool_max_refused, 0, (int)COUNT(spool_max_bad));
	tcase_add_test(tc, test_failed_load_keeps_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("envfile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_envfile_forms);
	tcase_add_test(tc, test_envfile_errors_name_line_not_value);
	tcase_add_test(tc, test_envfile_read_and_fingerprint);
	tcase_add_test(tc, test_http_listen_setting);
	suite_add_tcase(s, tc);

	tc = tcase_create("urls");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_url_normalise, 0, (int)COUNT(url_good));
	tcase_add_loop_test(tc, test_url_refused, 0, (int)COUNT(url_bad));
	tcase_add_test(tc, test_url_null);
	tcase_add_test(tc, test_source_endpoint);
	suite_add_tcase(s, tc);

	tc = tcase_create("secret_files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_secret_file);
	tcase_add_test(tc, test_secret_file_every_secret);
	tcase_add_test(tc, test_secret_file_errors);
	tcase_add_test(tc, test_mongo_uri_file_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("outputs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_output_auto);
	tcase_add_test(tc, test_output_explicit);
	tcase_add_test(tc, test_mongo_precedence);
	suite_add_tcase(s, tc);

	tc = tcase_create("report");
	tcase_add_checked_fixture(tc, setup, report_teardown);
	tcase_add_test(tc, test_two_missing_named);
	tcase_add_test(tc, test_malformed_and_missing_named);
	tcase_add_test(tc, test_problems_in_reading_order);
	tcase_add_test(tc, test_refused_source_has_no_requirements);
	tcase_add_test(tc, test_refused_setting_not_missing);
	tcase_add_test(tc, test_overflow_form);
	tcase_add_test(tc, test_overflow_first_problem_cut);
	tcase_add_test(tc, test_report_reused);
	suite_add_tcase(s, tc);

	tc = tcase_create("kv");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_kv_layering);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_register_secrets);
	tcase_add_test(tc, test_config_log);
	suite_add_tcase(s, tc);

	return s;
}

NSC_CHECK_MAIN(config_suite)
