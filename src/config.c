/* SPDX-License-Identifier: MIT */
/*
 * Configuration loading: reads every setting of the table (settings.c)
 * through a lookup (config_kv.c), validates each value, checks what the
 * chosen source needs and resolves the output. A problem does not stop the
 * reading: each refusal, a message that names the variable and the
 * expected form, is filed in a report (config_report.c) and all of them
 * are returned together. The string fields are described once here
 * (nsc_cfg_fields()) for loading, freeing, and for config_secrets.c's
 * registration and logging. URLs are parsed by config_url.c, NAME_FILE
 * secrets read by config_secrets.c.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config_internal.h"
#include "nsc_config.h"
#include "secret.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define LOOKBACK_HOURS_MAX 2160
#define SPOOL_MAX_MB_DEFAULT 256
#define SPOOL_MAX_MB_MAX 65536
#define SIMULATOR_INTERVAL_DEFAULT_S 300
#define SIMULATOR_INTERVAL_MAX_S 3600
#define POLL_INTERVAL_MAX_S 3600
#define HTTP_TIMEOUT_DEFAULT_S 30
#define HTTP_TIMEOUT_MAX_S 300
#define REST_CONCURRENCY_DEFAULT 4
#define REST_CONCURRENCY_MAX 16

#define MONGO_FORM \
	"a connection string mongodb://[user:password@]host[:port]/database or mongodb+srv://..."

/* ---- kind names --------------------------------------------------------- */

static const char *const source_names[] = {
	[NSC_SOURCE_NONE] = "none",
	[NSC_SOURCE_SIMULATOR] = "simulator",
	[NSC_SOURCE_DEXCOMSHARE] = "dexcomshare",
	[NSC_SOURCE_LINKUP] = "linkup",
	[NSC_SOURCE_NIGHTSCOUT] = "nightscout",
	[NSC_SOURCE_GLOOKO] = "glooko",
	[NSC_SOURCE_CARELINK] = "minimedcarelink",
};

static const char *const output_names[] = {
	[NSC_OUTPUT_AUTO] = "auto",
	[NSC_OUTPUT_MONGO] = "mongo",
	[NSC_OUTPUT_REST] = "rest",
	[NSC_OUTPUT_REST3] = "rest3",
	[NSC_OUTPUT_FILESYSTEM] = "filesystem",
};

static const char *const log_level_names[] = {
	[NSC_LOG_ERROR] = "error", [NSC_LOG_WARN] = "warn",   [NSC_LOG_INFO] = "info",
	[NSC_LOG_DEBUG] = "debug", [NSC_LOG_TRACE] = "trace",
};

const char *nsc_source_kind_name(enum nsc_source_kind k)
{
	if ((unsigned)k >= NSC_CFG_COUNT(source_names))
		return "unknown";
	return source_names[k];
}

const char *nsc_output_kind_name(enum nsc_output_kind k)
{
	if ((unsigned)k >= NSC_CFG_COUNT(output_names))
		return "unknown";
	return output_names[k];
}

const char *nsc_cfg_log_level_name(enum nsc_log_level level)
{
	if ((unsigned)level >= NSC_CFG_COUNT(log_level_names))
		return NULL;
	return log_level_names[level];
}

/* ---- the string fields -------------------------------------------------- */

static const char *const share_regions[] = { "us", "ous", "jp", NULL };
static const char *const linkup_regions[] = { "US", "EU", "EU2", "DE", "FR", "JP", "AP",
					      "AU", "AE", "CA", "LA", "RU", "CN", NULL };
static const char *const glooko_envs[] = { "default", "eu", "development", "production", NULL };
static const char *const carelink_regions[] = { "us", "eu", NULL };

#define F(field_) offsetof(struct nsc_config, field_)

/* A plain setting checked by `check_`, and a secret (NAME or NAME_FILE, never checked). */
#define PLAIN(name_, field_, check_, choices_, def_)                           \
	{                                                                      \
		.name = (name_), .offset = F(field_), .secret = false,         \
		.check = NSC_CFG_CHECK_##check_, .choices = (choices_),        \
		.def = (def_),                                                 \
	}
#define SECRET(name_, field_)                                                  \
	{                                                                      \
		.name = (name_), .offset = F(field_), .secret = true,          \
		.check = NSC_CFG_CHECK_NONE, .choices = NULL, .def = NULL,     \
	}

/*
 * Every string setting: config.c loads, checks and frees them through this
 * table; config_secrets.c registers and logs them (nsc_cfg_fields()).
 */
static const struct nsc_cfg_field fields[] = {
	PLAIN("CONNECT_OUTPUT_DIR", output_dir, NONE, NULL, "./nightscout-data"),
	PLAIN("CONNECT_SPOOL_DIR", spool_dir, NONE, NULL, "./nsconnect-spool"),

	PLAIN("CONNECT_SIMULATOR_USERNAME", simulator_username, NONE, NULL, NULL),
	SECRET("CONNECT_SIMULATOR_PASSWORD", simulator_password),

	PLAIN("CONNECT_SHARE_ACCOUNT_NAME", share_account_name, NONE, NULL, NULL),
	SECRET("CONNECT_SHARE_PASSWORD", share_password),
	PLAIN("CONNECT_SHARE_REGION", share_region, ENUM, share_regions, "us"),
	PLAIN("CONNECT_SHARE_SERVER", share_server, SERVER, NULL, NULL),

	PLAIN("CONNECT_LINK_UP_USERNAME", linkup_username, NONE, NULL, NULL),
	SECRET("CONNECT_LINK_UP_PASSWORD", linkup_password),
	PLAIN("CONNECT_LINK_UP_REGION", linkup_region, ENUM, linkup_regions, "EU"),
	PLAIN("CONNECT_LINK_UP_SERVER", linkup_server, SERVER, NULL, NULL),
	PLAIN("CONNECT_LINK_UP_PATIENT_ID", linkup_patient_id, NONE, NULL, NULL),
	PLAIN("CONNECT_LINK_UP_VERSION", linkup_version, VERSION, NULL, "4.16.0"),
	PLAIN("CONNECT_LINK_UP_PRODUCT", linkup_product, NONE, NULL, "llu.android"),

	PLAIN("CONNECT_SOURCE_ENDPOINT", source_endpoint, ENDPOINT, NULL, NULL),
	SECRET("CONNECT_SOURCE_API_SECRET", source_api_secret),

	PLAIN("CONNECT_GLOOKO_EMAIL", glooko_email, NONE, NULL, NULL),
	SECRET("CONNECT_GLOOKO_PASSWORD", glooko_password),
	PLAIN("CONNECT_GLOOKO_ENV", glooko_env, ENUM, glooko_envs, "default"),
	PLAIN("CONNECT_GLOOKO_SERVER", glooko_server, SERVER, NULL, NULL),
	PLAIN("CONNECT_GLOOKO_TIMEZONE", glooko_timezone, TIMEZONE, NULL, NULL),

	PLAIN("CONNECT_CARELINK_USERNAME", carelink_username, NONE, NULL, NULL),
	SECRET("CONNECT_CARELINK_PASSWORD", carelink_password),
	PLAIN("CONNECT_CARELINK_REGION", carelink_region, ENUM, carelink_regions, "eu"),
	PLAIN("CONNECT_CARELINK_SERVER", carelink_server, SERVER, NULL, NULL),
	PLAIN("CONNECT_COUNTRY_CODE", carelink_country_code, COUNTRY, NULL, NULL),
	PLAIN("CONNECT_CARELINK_PATIENT_USERNAME", carelink_patient_username, NONE, NULL, NULL),

	PLAIN("CONNECT_NIGHTSCOUT_ENDPOINT", nightscout_endpoint, SERVER, NULL, NULL),
	SECRET("CONNECT_API_SECRET", api_secret),
	SECRET("CONNECT_NIGHTSCOUT_TOKEN", nightscout_token),

	PLAIN("MONGO_COLLECTION", mongo_collection, COLLECTION, NULL, "entries"),
	PLAIN("MONGO_TREATMENTS_COLLECTION", mongo_treatments_collection, COLLECTION, NULL,
	      "treatments"),
	PLAIN("MONGO_DEVICESTATUS_COLLECTION", mongo_devicestatus_collection, COLLECTION, NULL,
	      "devicestatus"),
	PLAIN("MONGO_PROFILE_COLLECTION", mongo_profile_collection, COLLECTION, NULL, "profile"),
};

#undef PLAIN
#undef SECRET

const struct nsc_cfg_field *nsc_cfg_fields(size_t *count)
{
	*count = NSC_CFG_COUNT(fields);
	return fields;
}

/* MONGODB_URI, else MONGO_CONNECTION, else CUSTOMCONNSTR_mongo (Nightscout's order). */
static const char *const mongo_uri_names[] = { "MONGODB_URI", "MONGO_CONNECTION",
					       "CUSTOMCONNSTR_mongo" };

static char **field_slot(struct nsc_config *cfg, const struct nsc_cfg_field *f)
{
	return (char **)(void *)((char *)cfg + f->offset);
}

/* ---- init / free -------------------------------------------------------- */

void nsc_config_init(struct nsc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->source = NSC_SOURCE_NONE;
	cfg->output = NSC_OUTPUT_AUTO;
	cfg->log_level = NSC_LOG_INFO;
	cfg->lookback_ms = 48 * NSC_CFG_HOUR_MS;
	cfg->spool_max_bytes = SPOOL_MAX_MB_DEFAULT * NSC_CFG_MIB;
	cfg->simulator_seed = 1;
	cfg->simulator_interval_ms = SIMULATOR_INTERVAL_DEFAULT_S * 1000;
	cfg->http_timeout_ms = HTTP_TIMEOUT_DEFAULT_S * 1000;
	cfg->rest_concurrency = REST_CONCURRENCY_DEFAULT;
}

void nsc_config_free(struct nsc_config *cfg)
{
	if (!cfg)
		return;
	/* Passwords, tokens and the MongoDB URI's credentials among them. */
	for (size_t i = 0; i < NSC_CFG_COUNT(fields); i++)
		nsc_secret_free(*field_slot(cfg, &fields[i]));
	nsc_secret_free(cfg->mongodb_uri);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- checks ------------------------------------------------------------- */

static nsc_rc check_enum(const char *name, const char *value, const char *const *choices,
			 char **out, struct nsc_error *err)
{
	char list[256];
	size_t used = 0;

	for (size_t i = 0; choices[i]; i++) {
		if (strcasecmp(value, choices[i]) == 0) {
			*out = nsc_cfg_dup_str(choices[i]);
			return *out ? NSC_OK : nsc_cfg_nomem(err);
		}
	}
	list[0] = '\0';
	for (size_t i = 0; choices[i]; i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
				 choices[i]);
		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break;
		used += (size_t)n;
	}
	return nsc_error_set(err, NSC_ERR_CONFIG, "%s=\"%s\" is not valid; expected one of %s",
			     name, value, list);
}

static nsc_rc check_version(const char *name, const char *value, struct nsc_error *err)
{
	bool ok = nsc_cfg_is_digit(value[0]);

	for (const char *p = value; ok && *p; p++) {
		if (*p == '.')
			ok = nsc_cfg_is_digit(p[1]);
		else
			ok = nsc_cfg_is_digit(*p);
	}
	if (!ok)
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is not valid; expected digits and dots like 4.16.0",
				     name, value);
	return NSC_OK;
}

static nsc_rc check_country(const char *name, const char *value, char **out,
			    struct nsc_error *err)
{
	if (strlen(value) != 2 || !nsc_cfg_is_alpha(value[0]) || !nsc_cfg_is_alpha(value[1]))
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is not valid; expected a two-letter country code "
				     "like de or us",
				     name, value);
	*out = nsc_cfg_dup_str(value);
	if (!*out)
		return nsc_cfg_nomem(err);
	(*out)[0] = nsc_cfg_to_lower((*out)[0]);
	(*out)[1] = nsc_cfg_to_lower((*out)[1]);
	return NSC_OK;
}

static nsc_rc check_timezone(const char *name, const char *value, struct nsc_error *err)
{
	char path[512];
	struct stat st;
	bool ok = value[0] != '/' && strlen(value) < 256;
	int n;

	/* Only zone-name characters; no "." or ".." component, no empty one. */
	for (const char *p = value; ok && *p; p++) {
		char c = *p;
		if (!(nsc_cfg_is_alpha(c) || nsc_cfg_is_digit(c) || c == '_' || c == '-' ||
		      c == '+' || c == '/' || c == '.'))
			ok = false;
		else if ((p == value || p[-1] == '/') && (c == '.' || c == '/'))
			ok = false;
	}
	if (ok && value[strlen(value) - 1] == '/')
		ok = false;
	if (ok) {
		n = snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, value);
		ok = n > 0 && (size_t)n < sizeof(path) && stat(path, &st) == 0 &&
		     S_ISREG(st.st_mode);
	}
	if (!ok)
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is not a known time zone; expected an IANA zone "
				     "name like Europe/Berlin (a file under " ZONEINFO_DIR ")",
				     name, value);
	return NSC_OK;
}

static nsc_rc check_collection(const char *name, const char *value, struct nsc_error *err)
{
	if (strchr(value, '$') || strncmp(value, "system.", 7) == 0 || value[0] == '.')
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is not valid; expected a MongoDB collection name "
				     "like entries (no '$', not starting with '.' or 'system.')",
				     name, value);
	return NSC_OK;
}

static nsc_rc check_mongo_uri(const char *name, bool from_file, const char *value,
			      struct nsc_error *err)
{
	static const char *const prefixes[] = { "mongodb://", "mongodb+srv://" };

	for (size_t i = 0; i < NSC_CFG_COUNT(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(value, prefixes[i], n) == 0 && value[n] != '\0')
			return NSC_OK;
	}
	/* The value is a secret: never echo it. */
	if (from_file)
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s_FILE names a file that does not hold a MongoDB URI; "
				     "expected %s",
				     name, MONGO_FORM);
	return nsc_error_set(err, NSC_ERR_CONFIG, "%s is not a MongoDB URI; expected %s", name,
			     MONGO_FORM);
}

/* ---- integers and numbers ----------------------------------------------- */

/* A whole number of `unit` in [1, max]: digits only, no sign, blank or fraction. */
static nsc_rc parse_count(const char *name, const char *value, long long max, const char *unit,
			  long long *out, struct nsc_error *err)
{
	const char *p = value[0] == '-' ? value + 1 : value;
	char *end;
	long long v;

	if (!nsc_cfg_is_digit(*p))
		goto bad;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < 1 || v > max)
		goto bad;
	*out = v;
	return NSC_OK;
bad:
	return nsc_error_set(err, NSC_ERR_CONFIG,
			     "%s=\"%s\" is not valid; expected a whole number of %s from 1 to %lld",
			     name, value, unit, max);
}

/* A whole-number setting in 1..max; *out is 0 when it is unset or refused. */
static nsc_rc load_count(const struct nsc_cfg_reader *r, const char *name, long long max,
			 const char *unit, long long *out)
{
	const char *value = nsc_cfg_get(r, name);
	*out = 0;
	if (!value)
		return NSC_OK;
	return nsc_cfg_note(r, name, parse_count(name, value, max, unit, out, r->err));
}

static nsc_rc parse_u64(const char *name, const char *value, uint64_t *out,
			struct nsc_error *err)
{
	unsigned long long v;
	char *end;

	/* strtoull would accept "-1" and leading blanks; only digits are allowed. */
	if (!nsc_cfg_is_digit(value[0]))
		goto bad;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (*end != '\0' || errno == ERANGE || v > UINT64_MAX)
		goto bad;
	*out = (uint64_t)v;
	return NSC_OK;
bad:
	return nsc_error_set(err, NSC_ERR_CONFIG,
			     "%s=\"%s\" is not valid; expected an unsigned 64-bit decimal number "
			     "like 1",
			     name, value);
}

/* Locale-independent decimal: [+-]digits[.digits], hours in -14..14. */
static nsc_rc parse_offset_hours(const char *name, const char *value, double *out,
				 struct nsc_error *err)
{
	const char *p = value;
	double sign = 1.0, v = 0.0, scale = 0.1;
	int digits = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1.0 : 1.0;
	for (; nsc_cfg_is_digit(*p) && digits < 10; p++, digits++)
		v = v * 10.0 + (*p - '0');
	if (*p == '.') {
		p++;
		for (int frac = 0; nsc_cfg_is_digit(*p) && frac < 10; p++, frac++, digits++) {
			v += (*p - '0') * scale;
			scale /= 10.0;
		}
	}
	if (*p != '\0' || digits == 0 || v > 14.0)
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is not valid; expected a number of hours from -14 "
				     "to 14 like 1 or -5.5",
				     name, value);
	*out = sign * v;
	return NSC_OK;
}

/* ---- load --------------------------------------------------------------- */

static nsc_rc load_field(const struct nsc_cfg_reader *r, const struct nsc_cfg_field *f,
			 struct nsc_config *cfg)
{
	char **slot = field_slot(cfg, f);
	const char *value;
	nsc_rc rc;

	if (f->secret)
		return nsc_cfg_read_secret(r, f->name, slot, NULL);
	value = nsc_cfg_get(r, f->name);
	if (!value) {
		if (f->def) {
			*slot = nsc_cfg_dup_str(f->def);
			if (!*slot)
				return nsc_cfg_nomem(r->err);
		}
		return NSC_OK;
	}
	switch (f->check) {
	case NSC_CFG_CHECK_ENUM:
		return check_enum(f->name, value, f->choices, slot, r->err);
	case NSC_CFG_CHECK_SERVER:
		return nsc_cfg_parse_http_url(f->name, value, false, false, true, slot, r->err);
	case NSC_CFG_CHECK_ENDPOINT:
		/* May carry ?token=: keep the value out of the message. */
		return nsc_cfg_parse_http_url(f->name, value, true, true, false, slot, r->err);
	case NSC_CFG_CHECK_COUNTRY:
		return check_country(f->name, value, slot, r->err);
	case NSC_CFG_CHECK_VERSION:
		rc = check_version(f->name, value, r->err);
		break;
	case NSC_CFG_CHECK_TIMEZONE:
		rc = check_timezone(f->name, value, r->err);
		break;
	case NSC_CFG_CHECK_COLLECTION:
		rc = check_collection(f->name, value, r->err);
		break;
	case NSC_CFG_CHECK_NONE:
	default:
		rc = NSC_OK;
		break;
	}
	if (rc != NSC_OK)
		return rc;
	*slot = nsc_cfg_dup_str(value);
	return *slot ? NSC_OK : nsc_cfg_nomem(r->err);
}

/* The index in names[first, count) that `value` spells (any case), or -1. */
static int name_index(const char *value, const char *const *names, size_t first, size_t count)
{
	for (size_t i = first; i < count; i++) {
		if (strcasecmp(value, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

static nsc_rc load_source(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const char *value = nsc_cfg_get(r, "CONNECT_SOURCE");

	if (!value)
		return nsc_error_set(r->err, NSC_ERR_CONFIG,
				     "CONNECT_SOURCE is not set; expected one of simulator, "
				     "dexcomshare, linkup, nightscout, glooko, minimedcarelink");
	int i = name_index(value, source_names, NSC_SOURCE_SIMULATOR, NSC_CFG_COUNT(source_names));
	if (i >= 0) {
		cfg->source = (enum nsc_source_kind)i;
		return NSC_OK;
	}
	return nsc_error_set(r->err, NSC_ERR_CONFIG,
			     "CONNECT_SOURCE=\"%s\" is not valid; expected one of simulator, "
			     "dexcomshare, linkup, nightscout, glooko, minimedcarelink",
			     value);
}

static nsc_rc load_output(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const char *value = nsc_cfg_get(r, "CONNECT_OUTPUT");

	cfg->output = NSC_OUTPUT_AUTO;
	if (!value)
		return NSC_OK;
	int i = name_index(value, output_names, 0, NSC_CFG_COUNT(output_names));
	if (i >= 0) {
		cfg->output = (enum nsc_output_kind)i;
		return NSC_OK;
	}
	return nsc_error_set(r->err, NSC_ERR_CONFIG,
			     "CONNECT_OUTPUT=\"%s\" is not valid; expected one of mongo, rest, "
			     "rest3, filesystem (or auto, the default)",
			     value);
}

static nsc_rc load_log_level(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const char *value = nsc_cfg_get(r, "CONNECT_LOG_LEVEL");

	if (!value)
		return NSC_OK;
	int i = name_index(value, log_level_names, 0, NSC_CFG_COUNT(log_level_names));
	if (i >= 0) {
		cfg->log_level = (enum nsc_log_level)i;
		return NSC_OK;
	}
	return nsc_error_set(r->err, NSC_ERR_CONFIG,
			     "CONNECT_LOG_LEVEL=\"%s\" is not valid; expected one of error, warn, "
			     "info, debug, trace",
			     value);
}

/* The numbers and the log level; a refused one keeps its default. */
static nsc_rc load_scalars(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const char *value;
	nsc_rc rc;

	rc = nsc_cfg_note(r, "CONNECT_LOG_LEVEL", load_log_level(r, cfg));
	if (rc != NSC_OK)
		return rc;

	long long n;
	if ((rc = load_count(r, "CONNECT_LOOKBACK_HOURS", LOOKBACK_HOURS_MAX, "hours", &n)) != NSC_OK)
		return rc;
	if (n)
		cfg->lookback_ms = (int64_t)n * NSC_CFG_HOUR_MS;
	if ((rc = load_count(r, "CONNECT_SPOOL_MAX_MB", SPOOL_MAX_MB_MAX, "MiB", &n)) != NSC_OK)
		return rc;
	if (n)
		cfg->spool_max_bytes = (uint64_t)n * NSC_CFG_MIB;
	if ((rc = load_count(r, "CONNECT_SIMULATOR_INTERVAL", SIMULATOR_INTERVAL_MAX_S, "seconds", &n)) !=
	    NSC_OK)
		return rc;
	if (n)
		cfg->simulator_interval_ms = (int64_t)n * 1000;
	if ((rc = load_count(r, "CONNECT_POLL_INTERVAL", POLL_INTERVAL_MAX_S, "seconds", &n)) != NSC_OK)
		return rc;
	if (n)
		cfg->poll_interval_ms = (int64_t)n * 1000;
	if ((rc = load_count(r, "CONNECT_HTTP_TIMEOUT", HTTP_TIMEOUT_MAX_S, "seconds", &n)) != NSC_OK)
		return rc;
	if (n)
		cfg->http_timeout_ms = (int64_t)n * 1000;
	if ((rc = load_count(r, "CONNECT_REST_CONCURRENCY", REST_CONCURRENCY_MAX, "requests", &n)) !=
	    NSC_OK)
		return rc;
	if (n)
		cfg->rest_concurrency = (unsigned)n;

	value = nsc_cfg_get(r, "CONNECT_SIMULATOR_SEED");
	if (!value)
		return NSC_OK;
	return nsc_cfg_note(r, "CONNECT_SIMULATOR_SEED",
			    parse_u64("CONNECT_SIMULATOR_SEED", value, &cfg->simulator_seed, r->err));
}

/* The first of the family that is set is the URI, good or bad; the rest are not read. */
static nsc_rc load_mongo_uri(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	for (size_t i = 0; i < NSC_CFG_COUNT(mongo_uri_names); i++) {
		const char *name = mongo_uri_names[i];
		bool from_file = false;
		nsc_rc rc = nsc_cfg_read_secret(r, name, &cfg->mongodb_uri, &from_file);
		if (rc == NSC_OK && cfg->mongodb_uri)
			rc = check_mongo_uri(name, from_file, cfg->mongodb_uri, r->err);
		if (rc != NSC_OK || cfg->mongodb_uri)
			return nsc_cfg_note(r, name, rc);
	}
	return NSC_OK;
}

/* A MongoDB URI was given, usable or not. */
static bool mongo_uri_given(const struct nsc_cfg_reader *r, const struct nsc_config *cfg)
{
	for (size_t i = 0; i < NSC_CFG_COUNT(mongo_uri_names); i++) {
		if (nsc_cfg_has_problem(r, mongo_uri_names[i]))
			return true;
	}
	return cfg->mongodb_uri != NULL;
}

/* The setting at `offset` in cfg was given, usable or not. */
static bool given(const struct nsc_cfg_reader *r, const struct nsc_config *cfg,
		  const char *name, size_t offset)
{
	const char *v = *(char *const *)(const void *)((const char *)cfg + offset);

	return v || nsc_cfg_has_problem(r, name);
}

struct requirement {
	enum nsc_source_kind source;
	const char *name;
	size_t offset;
	bool secret;
};

static const struct requirement requirements[] = {
	{ NSC_SOURCE_DEXCOMSHARE, "CONNECT_SHARE_ACCOUNT_NAME", F(share_account_name), false },
	{ NSC_SOURCE_DEXCOMSHARE, "CONNECT_SHARE_PASSWORD", F(share_password), true },
	{ NSC_SOURCE_LINKUP, "CONNECT_LINK_UP_USERNAME", F(linkup_username), false },
	{ NSC_SOURCE_LINKUP, "CONNECT_LINK_UP_PASSWORD", F(linkup_password), true },
	{ NSC_SOURCE_NIGHTSCOUT, "CONNECT_SOURCE_ENDPOINT", F(source_endpoint), false },
	{ NSC_SOURCE_GLOOKO, "CONNECT_GLOOKO_EMAIL", F(glooko_email), false },
	{ NSC_SOURCE_GLOOKO, "CONNECT_GLOOKO_PASSWORD", F(glooko_password), true },
	{ NSC_SOURCE_CARELINK, "CONNECT_CARELINK_USERNAME", F(carelink_username), false },
	{ NSC_SOURCE_CARELINK, "CONNECT_CARELINK_PASSWORD", F(carelink_password), true },
};

static nsc_rc missing(struct nsc_error *err, const char *name, bool secret, const char *when)
{
	if (secret)
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s is not set; it is required when %s (or set %s_FILE to a "
				     "file that holds it)",
				     name, when, name);
	return nsc_error_set(err, NSC_ERR_CONFIG, "%s is not set; it is required when %s", name,
			     when);
}

/*
 * Every setting the source needs that was not given. Without a valid
 * CONNECT_SOURCE (cfg->source NONE) nothing is known to be needed.
 */
static nsc_rc check_required(const struct nsc_cfg_reader *r, const struct nsc_config *cfg)
{
	char when[64];
	nsc_rc rc = NSC_OK;

	snprintf(when, sizeof(when), "CONNECT_SOURCE=%s", nsc_source_kind_name(cfg->source));
	for (size_t i = 0; rc == NSC_OK && i < NSC_CFG_COUNT(requirements); i++) {
		const struct requirement *q = &requirements[i];
		if (q->source == cfg->source && !given(r, cfg, q->name, q->offset))
			rc = nsc_cfg_note(r, q->name, missing(r->err, q->name, q->secret, when));
	}
	if (rc != NSC_OK)
		return rc;
	if (cfg->simulator_username &&
	    !given(r, cfg, "CONNECT_SIMULATOR_PASSWORD", F(simulator_password)))
		return nsc_cfg_note(r, "CONNECT_SIMULATOR_PASSWORD",
				    missing(r->err, "CONNECT_SIMULATOR_PASSWORD", true,
					    "CONNECT_SIMULATOR_USERNAME is set"));
	if (given(r, cfg, "CONNECT_SIMULATOR_PASSWORD", F(simulator_password)) &&
	    !cfg->simulator_username)
		return nsc_cfg_note(r, "CONNECT_SIMULATOR_USERNAME",
				    missing(r->err, "CONNECT_SIMULATOR_USERNAME", false,
					    "CONNECT_SIMULATOR_PASSWORD is set"));
	return NSC_OK;
}

/*
 * Picks the output for auto (by what is given, usable or not) and files
 * every setting it needs that was not given. A refused CONNECT_OUTPUT
 * leaves nothing to check.
 */
static nsc_rc resolve_output(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	bool chosen = cfg->output == NSC_OUTPUT_AUTO;
	bool uri = mongo_uri_given(r, cfg);
	bool endpoint = given(r, cfg, "CONNECT_NIGHTSCOUT_ENDPOINT", F(nightscout_endpoint));
	bool api_secret = given(r, cfg, "CONNECT_API_SECRET", F(api_secret));
	bool token = given(r, cfg, "CONNECT_NIGHTSCOUT_TOKEN", F(nightscout_token));
	struct nsc_error *err = r->err;
	const char *why = "";
	nsc_rc rc = NSC_OK;

	if (nsc_cfg_has_problem(r, "CONNECT_OUTPUT"))
		return NSC_OK;
	if (chosen) {
		if (uri) {
			cfg->output = NSC_OUTPUT_MONGO;
		} else if (endpoint) {
			cfg->output = NSC_OUTPUT_REST;
			why = " (chosen because CONNECT_NIGHTSCOUT_ENDPOINT is set and no MongoDB "
			      "URI is)";
		} else {
			cfg->output = NSC_OUTPUT_FILESYSTEM;
		}
	}
	switch (cfg->output) {
	case NSC_OUTPUT_MONGO:
		if (!uri)
			rc = nsc_cfg_note(r, "MONGODB_URI",
					  nsc_error_set(err, NSC_ERR_CONFIG,
							"MONGODB_URI is not set; it is required when "
							"CONNECT_OUTPUT=mongo (MONGO_CONNECTION or "
							"CUSTOMCONNSTR_mongo work too); expected %s",
							MONGO_FORM));
		break;
	case NSC_OUTPUT_REST:
	case NSC_OUTPUT_REST3:
		if (!endpoint)
			rc = nsc_cfg_note(r, "CONNECT_NIGHTSCOUT_ENDPOINT",
					  nsc_error_set(err, NSC_ERR_CONFIG,
							"CONNECT_NIGHTSCOUT_ENDPOINT is not set; it is "
							"required when CONNECT_OUTPUT=%s; expected the "
							"Nightscout site, %s",
							nsc_output_kind_name(cfg->output),
							NSC_CFG_SERVER_FORM));
		if (rc == NSC_OK && cfg->output == NSC_OUTPUT_REST && !api_secret && !token)
			rc = nsc_cfg_note(r, "CONNECT_API_SECRET",
					  nsc_error_set(err, NSC_ERR_CONFIG,
							"CONNECT_API_SECRET is not set; it or "
							"CONNECT_NIGHTSCOUT_TOKEN is required when "
							"CONNECT_OUTPUT=rest%s",
							why));
		if (rc == NSC_OK && cfg->output == NSC_OUTPUT_REST3 && !token)
			rc = nsc_cfg_note(r, "CONNECT_NIGHTSCOUT_TOKEN",
					  nsc_error_set(err, NSC_ERR_CONFIG,
							"CONNECT_NIGHTSCOUT_TOKEN is not set; it is "
							"required when CONNECT_OUTPUT=rest3; expected a "
							"Nightscout access token like "
							"name-0123456789abcdef"));
		break;
	case NSC_OUTPUT_FILESYSTEM:
	case NSC_OUTPUT_AUTO:
	default:
		break;
	}
	return rc;
}

static nsc_rc load_tz_offset(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const char *value = nsc_cfg_get(r, "CONNECT_GLOOKO_TIMEZONE_OFFSET");
	nsc_rc rc;

	if (!value)
		return NSC_OK;
	rc = parse_offset_hours("CONNECT_GLOOKO_TIMEZONE_OFFSET", value,
				&cfg->glooko_tz_offset_hours, r->err);
	cfg->has_glooko_tz_offset = rc == NSC_OK;
	return nsc_cfg_note(r, "CONNECT_GLOOKO_TIMEZONE_OFFSET", rc);
}

/* NSC_OK once everything is read, problems or not; else what stopped the reading. */
static nsc_rc load_all(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	nsc_rc rc;

	rc = nsc_cfg_note(r, "CONNECT_SOURCE", load_source(r, cfg));
	if (rc == NSC_OK)
		rc = nsc_cfg_note(r, "CONNECT_OUTPUT", load_output(r, cfg));
	if (rc == NSC_OK)
		rc = load_scalars(r, cfg);
	for (size_t i = 0; rc == NSC_OK && i < NSC_CFG_COUNT(fields); i++)
		rc = nsc_cfg_note(r, fields[i].name, load_field(r, &fields[i], cfg));
	if (rc == NSC_OK)
		rc = load_tz_offset(r, cfg);
	if (rc == NSC_OK)
		rc = load_mongo_uri(r, cfg);
	if (rc == NSC_OK)
		rc = check_required(r, cfg);
	if (rc == NSC_OK)
		rc = resolve_output(r, cfg);
	return rc;
}

nsc_rc nsc_config_load_report(struct nsc_config *cfg, nsc_config_lookup_fn lookup, void *ctx,
			      struct nsc_config_report *rep, struct nsc_error *err)
{
	struct nsc_config_report local;
	struct nsc_error problem;
	struct nsc_cfg_reader r = { .lookup = lookup ? lookup : nsc_config_lookup_env, .ctx = ctx,
			    .err = &problem, .report = rep ? rep : &local };
	struct nsc_config tmp;
	nsc_rc rc;

	nsc_error_clear(err);
	nsc_error_clear(&problem);
	if (rep)
		nsc_config_report_free(rep);
	nsc_config_report_init(r.report);
	if (!cfg)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "nsc_config_load: no config given");
	nsc_config_init(&tmp);
	rc = load_all(&r, &tmp);
	if (rc == NSC_OK && r.report->count > 0)
		rc = NSC_ERR_CONFIG;
	if (rc == NSC_ERR_CONFIG)
		nsc_config_report_join(r.report, err);
	else if (rc != NSC_OK && err)
		*err = problem; /* what stopped the reading: out of memory, a bug */
	if (!rep)
		nsc_config_report_free(&local);
	if (rc != NSC_OK) {
		nsc_config_free(&tmp);
		return rc;
	}
	nsc_config_free(cfg);
	*cfg = tmp;
	return NSC_OK;
}

nsc_rc nsc_config_load(struct nsc_config *cfg, nsc_config_lookup_fn lookup, void *ctx,
		       struct nsc_error *err)
{
	return nsc_config_load_report(cfg, lookup, ctx, NULL, err);
}

