/* SPDX-License-Identifier: MIT */
/*
 * Configuration loading: reads every row of the settings table
 * (nsc_setting_at(), settings.c) through a lookup (config_kv.c): a row
 * says where struct nsc_config keeps the value, its default and how it is
 * checked, so the loader has one reader per kind of check, not one per
 * setting. Only CONNECT_SOURCE (the driver registry), CONNECT_OUTPUT,
 * CONNECT_LOG_LEVEL, the glooko offset and the MongoDB URI family have
 * code of their own. Then what the chosen source requires (its rows
 * marked required) and the output are checked. A problem does not stop
 * the reading: each refusal, a message that names the variable and the
 * expected form, is filed in a report (config_report.c) and all of them
 * are returned together. URLs are parsed by config_url.c, NAME_FILE
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

#include "cfg_internal.h"
#include "health/addr.h"
#include "nsc_config.h"
#include "secret.h"
#include "sources/registry.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define MONGO_FORM \
	"a connection string mongodb://[user:password@]host[:port]/database or mongodb+srv://..."

/* MONGODB_URI, else MONGO_CONNECTION, else CUSTOMCONNSTR_mongo (Nightscout's order). */
static const char *const mongo_uri_names[] = { "MONGODB_URI", "MONGO_CONNECTION",
					       "CUSTOMCONNSTR_mongo" };

/* Row i of the table that keeps a field, in table order; NULL past the end. */
static const struct nsc_setting *stored_row(size_t *i)
{
	const struct nsc_setting *s;

	while ((s = nsc_setting_at(*i)) != NULL && s->store == NSC_STORE_NONE)
		(*i)++;
	if (s)
		(*i)++;
	return s;
}

/* Stores v (already range-checked, times the row's scale) in the row's field. */
static void store_int(struct nsc_config *cfg, const struct nsc_setting *s, long long v)
{
	void *at = (char *)cfg + s->offset;

	switch (s->store) {
	case NSC_STORE_INT64:
		*(int64_t *)at = (int64_t)v * s->scale;
		break;
	case NSC_STORE_UINT64:
		*(uint64_t *)at = (uint64_t)v * (uint64_t)s->scale;
		break;
	case NSC_STORE_UNSIGNED:
		*(unsigned *)at = (unsigned)(v * s->scale);
		break;
	case NSC_STORE_NONE:
	case NSC_STORE_STRING:
		break;
	}
}

/* ---- init / free -------------------------------------------------------- */

void nsc_config_init(struct nsc_config *cfg)
{
	const struct nsc_setting *s;

	memset(cfg, 0, sizeof(*cfg));
	cfg->source = NULL;
	cfg->output = NSC_OUTPUT_AUTO;
	cfg->log_level = NSC_LOG_INFO;
	/* Every range's default is the row's default text (a table self-check proves it parses). */
	for (size_t i = 0; (s = stored_row(&i)) != NULL;) {
		if (s->default_text && s->check == NSC_CHECK_RANGE)
			store_int(cfg, s, strtoll(s->default_text, NULL, 10));
		else if (s->default_text && s->check == NSC_CHECK_U64)
			*(uint64_t *)(void *)((char *)cfg + s->offset) =
				strtoull(s->default_text, NULL, 10);
	}
}

void nsc_config_free(struct nsc_config *cfg)
{
	const struct nsc_setting *s;

	if (!cfg)
		return;
	/* Passwords, tokens and the MongoDB URI's credentials among them. */
	for (size_t i = 0; (s = stored_row(&i)) != NULL;) {
		if (s->store == NSC_STORE_STRING)
			nsc_secret_free(*nsc_cfg_str_slot(cfg, s));
	}
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

/* A whole number of `unit` in [min, max]: digits only, no sign, blank or fraction. */
static nsc_rc parse_count(const struct nsc_setting *s, const char *value, long long *out,
			  struct nsc_error *err)
{
	const char *p = value[0] == '-' ? value + 1 : value;
	char *end;
	long long v;

	if (!nsc_cfg_is_digit(*p))
		goto bad;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < s->min || v > s->max)
		goto bad;
	*out = v;
	return NSC_OK;
bad:
	return nsc_error_set(err, NSC_ERR_CONFIG,
			     "%s=\"%s\" is not valid; expected a whole number of %s from %lld to %lld",
			     s->name, value, s->unit, s->min, s->max);
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

/* A row's number (NSC_CHECK_RANGE or NSC_CHECK_U64); unset or refused keeps the default. */
static nsc_rc load_number(const struct nsc_cfg_reader *r, const struct nsc_setting *s,
			  struct nsc_config *cfg)
{
	const char *value = nsc_cfg_get(r, s->name);
	long long v = 0;
	nsc_rc rc;

	if (!value)
		return NSC_OK;
	if (s->check == NSC_CHECK_U64)
		return parse_u64(s->name, value, (uint64_t *)(void *)((char *)cfg + s->offset),
				 r->err);
	rc = parse_count(s, value, &v, r->err);
	if (rc == NSC_OK)
		store_int(cfg, s, v);
	return rc;
}

/* A row's string: a secret (NAME or NAME_FILE, never checked) or a checked value. */
static nsc_rc load_string(const struct nsc_cfg_reader *r, const struct nsc_setting *f,
			  struct nsc_config *cfg)
{
	char **slot = nsc_cfg_str_slot(cfg, f);
	const char *value;
	nsc_rc rc;

	if (f->kind == NSC_SETTING_SECRET)
		return nsc_cfg_read_secret(r, f->name, slot, NULL);
	value = nsc_cfg_get(r, f->name);
	if (!value) {
		if (f->default_text) {
			*slot = nsc_cfg_dup_str(f->default_text);
			if (!*slot)
				return nsc_cfg_nomem(r->err);
		}
		return NSC_OK;
	}
	switch (f->check) {
	case NSC_CHECK_ENUM:
		return check_enum(f->name, value, f->choices, slot, r->err);
	case NSC_CHECK_SERVER:
		return nsc_cfg_parse_http_url(f->name, value, false, false, true, slot, r->err);
	case NSC_CHECK_ENDPOINT:
		/* May carry ?token=: keep the value out of the message. */
		return nsc_cfg_parse_http_url(f->name, value, true, true, false, slot, r->err);
	case NSC_CHECK_COUNTRY:
		return check_country(f->name, value, slot, r->err);
	case NSC_CHECK_VERSION:
		rc = check_version(f->name, value, r->err);
		break;
	case NSC_CHECK_TIMEZONE:
		rc = check_timezone(f->name, value, r->err);
		break;
	case NSC_CHECK_COLLECTION:
		rc = check_collection(f->name, value, r->err);
		break;
	case NSC_CHECK_LISTEN: {
		struct nsc_health_addr addr;
		rc = nsc_health_addr_parse(value, &addr, r->err);
		break;
	}
	case NSC_CHECK_NONE:
	case NSC_CHECK_OWN:
	case NSC_CHECK_RANGE:
	case NSC_CHECK_U64:
	default:
		rc = NSC_OK;
		break;
	}
	if (rc != NSC_OK)
		return rc;
	*slot = nsc_cfg_dup_str(value);
	return *slot ? NSC_OK : nsc_cfg_nomem(r->err);
}

/* Every row the table reads by itself: first the numbers, then the strings. */
static nsc_rc load_rows(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const struct nsc_setting *s;
	nsc_rc rc = NSC_OK;

	for (size_t i = 0; rc == NSC_OK && (s = stored_row(&i)) != NULL;) {
		if (s->check == NSC_CHECK_RANGE || s->check == NSC_CHECK_U64)
			rc = nsc_cfg_note(r, s->name, load_number(r, s, cfg));
	}
	for (size_t i = 0; rc == NSC_OK && (s = stored_row(&i)) != NULL;) {
		if (s->store == NSC_STORE_STRING && s->check != NSC_CHECK_OWN)
			rc = nsc_cfg_note(r, s->name, load_string(r, s, cfg));
	}
	return rc;
}

static nsc_rc load_source(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const char *value = nsc_cfg_get(r, "CONNECT_SOURCE");
	char names[256];

	nsc_source_names(names, sizeof(names));
	if (!value)
		return nsc_error_set(r->err, NSC_ERR_CONFIG,
				     "CONNECT_SOURCE is not set; expected one of %s", names);
	cfg->source = nsc_source_by_name(value);
	if (cfg->source)
		return NSC_OK;
	return nsc_error_set(r->err, NSC_ERR_CONFIG,
			     "CONNECT_SOURCE=\"%s\" is not valid; expected one of %s", value, names);
}

static nsc_rc load_output(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const char *value = nsc_cfg_get(r, "CONNECT_OUTPUT");

	cfg->output = NSC_OUTPUT_AUTO;
	if (!value || nsc_cfg_output_parse(value, &cfg->output))
		return NSC_OK;
	return nsc_error_set(r->err, NSC_ERR_CONFIG,
			     "CONNECT_OUTPUT=\"%s\" is not valid; expected one of mongo, rest, "
			     "rest3, filesystem (or auto, the default)",
			     value);
}

static nsc_rc load_log_level(const struct nsc_cfg_reader *r, struct nsc_config *cfg)
{
	const char *value = nsc_cfg_get(r, "CONNECT_LOG_LEVEL");

	if (!value || nsc_cfg_log_level_parse(value, &cfg->log_level))
		return NSC_OK;
	return nsc_error_set(r->err, NSC_ERR_CONFIG,
			     "CONNECT_LOG_LEVEL=\"%s\" is not valid; expected one of error, warn, "
			     "info, debug, trace",
			     value);
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

/* The string setting of row s was given, usable or not. */
static bool given(const struct nsc_cfg_reader *r, const struct nsc_config *cfg,
		  const struct nsc_setting *s)
{
	return *nsc_cfg_str_cslot(cfg, s) || nsc_cfg_has_problem(r, s->name);
}

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
 * Every row of the chosen source marked required that was not given, then
 * every pair (a row's `needs`) half given. Without a valid CONNECT_SOURCE
 * (cfg->source NULL) no source row is known to be needed.
 */
static nsc_rc check_required(const struct nsc_cfg_reader *r, const struct nsc_config *cfg)
{
	const struct nsc_setting *s;
	char when[96];
	nsc_rc rc = NSC_OK;

	snprintf(when, sizeof(when), "CONNECT_SOURCE=%s", nsc_source_name(cfg->source));
	for (size_t i = 0; cfg->source && rc == NSC_OK && i < *cfg->source->n_rows; i++) {
		s = &cfg->source->rows[i];
		if (s->required && s->store == NSC_STORE_STRING && !given(r, cfg, s))
			rc = nsc_cfg_note(r, s->name, missing(r->err, s->name,
							      s->kind == NSC_SETTING_SECRET, when));
	}
	for (size_t i = 0; rc == NSC_OK && (s = stored_row(&i)) != NULL;) {
		const struct nsc_setting *other = nsc_setting_by_name(s->needs);
		if (!s->needs || !other || !given(r, cfg, s) || given(r, cfg, other))
			continue;
		snprintf(when, sizeof(when), "%s is set", s->name);
		rc = nsc_cfg_note(r, other->name, missing(r->err, other->name,
							  other->kind == NSC_SETTING_SECRET, when));
		break;
	}
	return rc;
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
	bool endpoint = given(r, cfg, nsc_setting_by_name("CONNECT_NIGHTSCOUT_ENDPOINT"));
	bool api_secret = given(r, cfg, nsc_setting_by_name("CONNECT_API_SECRET"));
	bool token = given(r, cfg, nsc_setting_by_name("CONNECT_NIGHTSCOUT_TOKEN"));
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
		rc = nsc_cfg_note(r, "CONNECT_LOG_LEVEL", load_log_level(r, cfg));
	if (rc == NSC_OK)
		rc = load_rows(r, cfg);
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

