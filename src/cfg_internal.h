/* SPDX-License-Identifier: MIT */
/*
 * (Not named config_internal.h, so that it is not taken for config.c's
 * own header: every config file includes it, config.c uses the others.)
 * Private to the configuration files: config.c (load and validation,
 * driven by the rows of the settings table, nsc_config.h), config_names.c
 * (output and log-level names), config_kv.c (lookups), config_url.c
 * (server URLs), config_secrets.c (NAME_FILE secrets, secret
 * registration, the settings log) and config_report.c (the problems one
 * load found). Holds what more than one of them needs: access to the
 * field a row fills, the reader that looks values up during one load, the
 * forms quoted in error messages and a few character and string helpers.
 * Dependencies run one way: config.c uses the others, none uses config.c;
 * nothing under sources/ includes this header (rows need only
 * nsc_config.h and setting_row.h).
 *
 * Ownership & concurrency: the rows are constant and shared by every
 * thread. A reader borrows its lookup, ctx, err and report for the length
 * of one nsc_config_load() call and owns nothing.
 */
#ifndef NSC_SRC_CFG_INTERNAL_H
#define NSC_SRC_CFG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "nsc_config.h"

#define NSC_CFG_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define NSC_CFG_SERVER_FORM \
	"a host name like example.com, host:port, or a base URL like https://host[:port][/path]"

/* ---- the rows' fields -------------------------------------------------- */

/* The char * a row with store NSC_STORE_STRING fills. */
static inline char **nsc_cfg_str_slot(struct nsc_config *cfg, const struct nsc_setting *s)
{
	return (char **)(void *)((char *)cfg + s->offset);
}

static inline char *const *nsc_cfg_str_cslot(const struct nsc_config *cfg,
					     const struct nsc_setting *s)
{
	return (char *const *)(const void *)((const char *)cfg + s->offset);
}

/* "error", "warn", ... as CONNECT_LOG_LEVEL spells them; NULL when out of range (config_names.c). */
const char *nsc_cfg_log_level_name(enum nsc_log_level level);

/* The log level `value` spells (any case); false when none (config_names.c). */
bool nsc_cfg_log_level_parse(const char *value, enum nsc_log_level *out);

/* The output `value` spells (any case); false when none (config_names.c). */
bool nsc_cfg_output_parse(const char *value, enum nsc_output_kind *out);

/* ---- reading values ---------------------------------------------------- */

struct nsc_cfg_reader {
	nsc_config_lookup_fn lookup;
	void *ctx;
	struct nsc_error *err;            /* the problem at hand, until nsc_cfg_note() files it */
	struct nsc_config_report *report; /* every problem filed so far */
};

/* The value of `name`, or NULL when it is unset or empty. */
static inline const char *nsc_cfg_get(const struct nsc_cfg_reader *r, const char *name)
{
	const char *v = r->lookup(r->ctx, name);

	return (v && *v) ? v : NULL;
}

/*
 * A secret's value from NAME or from the file NAME_FILE names; *out stays
 * NULL when neither is set. *from_file (may be NULL) tells which one it was
 * (config_secrets.c).
 */
nsc_rc nsc_cfg_read_secret(const struct nsc_cfg_reader *r, const char *name, char **out,
			   bool *from_file);

/*
 * Parses an http(s) URL or (when !need_scheme) a bare host[:port][/path]
 * into "scheme://host[:port][/path][?query]" (config_url.c). `echo` false
 * keeps the value out of error messages (it may hold a token).
 */
nsc_rc nsc_cfg_parse_http_url(const char *name, const char *value, bool need_scheme,
			      bool allow_query, bool echo, char **out, struct nsc_error *err);

/* ---- problems (config_report.c) --------------------------------------- */

/*
 * After checking `setting` (static text): NSC_ERR_CONFIG files r->err's
 * message in the report under `setting` and returns NSC_OK, so the load
 * goes on; any other code (NSC_ERR_NOMEM, NSC_ERR_INTERNAL) is returned
 * and stops it.
 */
nsc_rc nsc_cfg_note(const struct nsc_cfg_reader *r, const char *setting, nsc_rc rc);

/* A problem was filed for `setting`: it is set, but not usable. */
bool nsc_cfg_has_problem(const struct nsc_cfg_reader *r, const char *setting);

/* ---- small helpers ------------------------------------------------------ */

static inline nsc_rc nsc_cfg_nomem(struct nsc_error *err)
{
	return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory while reading the configuration");
}

static inline char *nsc_cfg_dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

static inline bool nsc_cfg_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool nsc_cfg_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline char nsc_cfg_to_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* 0..15 for a hex digit, else -1. */
static inline int nsc_cfg_hex_value(char c)
{
	if (nsc_cfg_is_digit(c))
		return c - '0';
	c = nsc_cfg_to_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#endif
