/* SPDX-License-Identifier: MIT */
/*
 * Configuration: the settings users already have (nightscout-connect's
 * CONNECT_* variables, Nightscout's MONGODB_URI family; see
 * reference/settings.md) plus nsconnect's own, from the environment, from
 * command-line flags, or from any key/value lookup a host provides.
 *
 * Every setting is one row of one table (struct nsc_setting below): its
 * environment name, flag, kind, default, range or choices, whether its
 * source requires it, its help, and where struct nsc_config keeps it.
 * The rows of a source live in its folder and are reached through the
 * driver registry (sources/registry.h); the loader, the flags, the
 * `settings` command, the help's form/default text and the error messages
 * are all derived from the rows. Flags are derived from the name:
 * CONNECT_SHARE_PASSWORD <-> --share-password, MONGODB_URI <->
 * --mongodb-uri. Every secret also has a NAME_FILE form whose file content
 * (one trailing newline removed) is the value. The vendor fields of struct
 * nsc_config (share_*, linkup_*, ...) are still declared here.
 *
 * Values are kept as the exact strings given (a password "0123" stays
 * "0123"). Validation happens in nsc_config_load(): it reads on past a
 * problem and returns NSC_ERR_CONFIG with every problem found, each naming
 * the variable and the expected form.
 */
#ifndef NSC_SRC_NSC_CONFIG_H
#define NSC_SRC_NSC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "log.h"

/* A CONNECT_SOURCE value: one entry of the driver registry (sources/registry.h). */
struct nsc_source_entry;

enum nsc_output_kind {
	NSC_OUTPUT_AUTO = 0, /* resolved by nsc_config_load(), never left AUTO */
	NSC_OUTPUT_MONGO,
	NSC_OUTPUT_REST,
	NSC_OUTPUT_REST3,
	NSC_OUTPUT_FILESYSTEM,
};

/*
 * What nsc_config_load() read. Each field is filled by its row of the
 * settings table (its range, default and check are there, not here).
 * Owned strings are NULL when unset (after defaults are applied). The
 * vendor fields below still live here; their rows live with the vendor.
 */
struct nsc_config {
	const struct nsc_source_entry *source; /* CONNECT_SOURCE; NULL until loaded */
	enum nsc_output_kind output;  /* CONNECT_OUTPUT */
	enum nsc_log_level log_level; /* CONNECT_LOG_LEVEL, default info */
	char *log_format;             /* CONNECT_LOG_FORMAT: "text" or "json"; NULL: text */
	int64_t lookback_ms;          /* CONNECT_LOOKBACK_HOURS, in ms */
	char *output_dir;             /* CONNECT_OUTPUT_DIR */
	char *spool_dir;              /* CONNECT_SPOOL_DIR (remote outputs) */
	uint64_t spool_max_bytes;     /* CONNECT_SPOOL_MAX_MB, in bytes */
	int64_t poll_interval_ms;     /* CONNECT_POLL_INTERVAL, in ms; 0 = the source's cadence */
	int64_t http_timeout_ms;      /* CONNECT_HTTP_TIMEOUT, in ms; vendor requests */
	char *http_listen;            /* CONNECT_HTTP_LISTEN: the status listener's address, or NULL */
	char *tenants_dir;            /* CONNECT_TENANTS_DIR (serve; a bridge ignores it) */
	char *announce;               /* CONNECT_ANNOUNCE: "true" or "false"; NULL: false */
	int64_t stale_ms;             /* CONNECT_STALE_MINUTES, in ms: announced as stale after this */

	/* simulator */
	uint64_t simulator_seed;      /* CONNECT_SIMULATOR_SEED */
	int64_t simulator_interval_ms; /* CONNECT_SIMULATOR_INTERVAL, in ms */
	char *simulator_username;     /* CONNECT_SIMULATOR_USERNAME (optional login) */
	char *simulator_password;     /* CONNECT_SIMULATOR_PASSWORD (secret) */

	/* dexcomshare */
	char *share_account_name;     /* CONNECT_SHARE_ACCOUNT_NAME */
	char *share_password;         /* CONNECT_SHARE_PASSWORD (secret) */
	char *share_region;           /* CONNECT_SHARE_REGION: us (default) | ous | jp, stored lower-case */
	char *share_server;           /* CONNECT_SHARE_SERVER, normalised base URL */

	/* linkup */
	char *linkup_username;        /* CONNECT_LINK_UP_USERNAME */
	char *linkup_password;        /* CONNECT_LINK_UP_PASSWORD (secret) */
	char *linkup_region;          /* CONNECT_LINK_UP_REGION, default EU, stored upper-case */
	char *linkup_server;          /* CONNECT_LINK_UP_SERVER, normalised base URL */
	char *linkup_patient_id;      /* CONNECT_LINK_UP_PATIENT_ID */
	char *linkup_version;         /* CONNECT_LINK_UP_VERSION, default "4.16.0", digits and dots */
	char *linkup_product;         /* CONNECT_LINK_UP_PRODUCT, default "llu.android" */

	/* nightscout as a source */
	char *source_endpoint;        /* CONNECT_SOURCE_ENDPOINT, full URL (may carry ?token=, secret) */
	char *source_api_secret;      /* CONNECT_SOURCE_API_SECRET (secret) */
	char *source_collections;     /* CONNECT_SOURCE_COLLECTIONS, comma-separated (the driver checks it) */
	unsigned source_max_count;    /* CONNECT_SOURCE_MAX_COUNT: documents per page */

	/* glooko */
	char *glooko_email;           /* CONNECT_GLOOKO_EMAIL */
	char *glooko_password;        /* CONNECT_GLOOKO_PASSWORD (secret) */
	char *glooko_env;             /* CONNECT_GLOOKO_ENV: default | eu | development | production */
	char *glooko_server;          /* CONNECT_GLOOKO_SERVER, normalised base URL */
	char *glooko_timezone;        /* CONNECT_GLOOKO_TIMEZONE, IANA zone name */
	bool has_glooko_tz_offset;
	double glooko_tz_offset_hours; /* CONNECT_GLOOKO_TIMEZONE_OFFSET, -14..14 */

	/* minimedcarelink */
	char *carelink_username;      /* CONNECT_CARELINK_USERNAME */
	char *carelink_password;      /* CONNECT_CARELINK_PASSWORD (secret) */
	char *carelink_region;        /* CONNECT_CARELINK_REGION: us | eu (default eu) */
	char *carelink_server;        /* CONNECT_CARELINK_SERVER, normalised base URL */
	char *carelink_country_code;  /* CONNECT_COUNTRY_CODE, two letters, lower-case */
	char *carelink_patient_username; /* CONNECT_CARELINK_PATIENT_USERNAME */
	char *carelink_token_file;    /* CONNECT_CARELINK_TOKEN_FILE, default ./carelink-logindata.json */

	/* REST outputs */
	char *nightscout_endpoint;    /* CONNECT_NIGHTSCOUT_ENDPOINT, normalised base URL */
	char *api_secret;             /* CONNECT_API_SECRET (secret) */
	char *nightscout_token;       /* CONNECT_NIGHTSCOUT_TOKEN, access token (secret) */
	unsigned rest_concurrency;    /* CONNECT_REST_CONCURRENCY: rest3 requests at once */

	/* MongoDB output (Nightscout's own names) */
	char *mongodb_uri;            /* MONGODB_URI, else MONGO_CONNECTION, else CUSTOMCONNSTR_mongo (secret) */
	char *mongo_collection;       /* MONGO_COLLECTION, default "entries" */
	char *mongo_treatments_collection;   /* default "treatments" */
	char *mongo_devicestatus_collection; /* default "devicestatus" */
	char *mongo_profile_collection;      /* default "profile" */
};

enum nsc_setting_kind {
	NSC_SETTING_STRING,
	NSC_SETTING_SECRET, /* never logged; has a NAME_FILE form */
	NSC_SETTING_URL,    /* bare host or full base URL, normalised */
	NSC_SETTING_INT,
	NSC_SETTING_NUMBER,
	NSC_SETTING_ENUM,
};

/*
 * Which part of the bridge a setting belongs to (for help and README).
 * Rows of a source are NSC_GROUP_SOURCE; their heading is the registry
 * entry that holds them (nsc_setting_source()).
 */
enum nsc_setting_group {
	NSC_GROUP_GENERAL,
	NSC_GROUP_SOURCE,
	NSC_GROUP_REST_OUTPUT,
	NSC_GROUP_MONGO_OUTPUT,
	NSC_GROUP_FILESYSTEM_OUTPUT,
	NSC_GROUP_SPOOL,
};

/* How the loader checks a value (config.c). */
enum nsc_setting_check {
	NSC_CHECK_NONE,       /* any text, kept as given */
	NSC_CHECK_OWN,        /* read by its own code in config.c (source, output, log level, ...) */
	NSC_CHECK_ENUM,       /* one of `choices`, case-insensitive, stored as spelled there */
	NSC_CHECK_SERVER,     /* nsc_config_normalize_url() */
	NSC_CHECK_ENDPOINT,   /* full http(s) URL, query allowed, never echoed */
	NSC_CHECK_VERSION,    /* digits and dots */
	NSC_CHECK_COUNTRY,    /* two letters, stored lower-case */
	NSC_CHECK_TIMEZONE,   /* zone file under the zoneinfo directory */
	NSC_CHECK_COLLECTION, /* MongoDB collection name */
	NSC_CHECK_LISTEN,     /* an address to listen on, IP:PORT or PORT (health/addr.h) */
	NSC_CHECK_RANGE,      /* whole number in min..max `unit`s, stored times `scale` */
	NSC_CHECK_U64,        /* any unsigned 64-bit decimal number */
};

/* What the field at `offset` in struct nsc_config is. */
enum nsc_setting_store {
	NSC_STORE_NONE,     /* no field of its own (an alias, or kept by its own code) */
	NSC_STORE_STRING,   /* char *, owned, NULL when unset */
	NSC_STORE_INT64,    /* int64_t */
	NSC_STORE_UINT64,   /* uint64_t */
	NSC_STORE_UNSIGNED, /* unsigned */
};

/*
 * One setting (fluent-bit config_map style): what the user sees (name,
 * kind, default, help; the flag is derived from the name), where struct nsc_config keeps it and how the
 * loader checks it. Rows live with their owner: general, output and spool
 * rows in settings_rows.c, a source's rows in its folder
 * (sources/<vendor>/<vendor>_settings.c), listed by its registry entry.
 * The form, range, choices and default text of the help are not written in
 * `help`: nsc_setting_describe() derives them from the row.
 */
struct nsc_setting {
	const char *name;          /* environment variable, e.g. "CONNECT_SHARE_PASSWORD" */
	enum nsc_setting_kind kind;
	enum nsc_setting_group group;
	const char *default_text;  /* NULL when none; an int's default is parsed from it */
	const char *help;          /* one line, plain words: what it means */

	enum nsc_setting_store store;
	size_t offset;             /* of the field in struct nsc_config (store != NONE) */
	enum nsc_setting_check check;
	const char *const *choices; /* NULL-terminated, NSC_CHECK_ENUM only */
	long long min, max;        /* NSC_CHECK_RANGE */
	const char *unit;          /* NSC_CHECK_RANGE: "hours", "seconds", ... */
	long long scale;           /* NSC_CHECK_RANGE: stored value = given value * scale */
	bool required;             /* required when its source is CONNECT_SOURCE */
	const char *needs;         /* when given, this other setting must be given too */
};

/* Every setting in documentation order: general, each source, the outputs, the spool. */
size_t nsc_settings_count(void);
const struct nsc_setting *nsc_setting_at(size_t i); /* NULL past the end */
const struct nsc_setting *nsc_setting_by_name(const char *env_name);
const struct nsc_setting *nsc_setting_by_flag(const char *flag);
/*
 * The command-line flag of s without dashes, derived from its name: no
 * CONNECT_ prefix, lower case, '-' for '_' (CONNECT_SHARE_PASSWORD is
 * share-password). Written into buf (cut to fit); returns buf.
 */
#define NSC_SETTING_FLAG_MAX 64 /* longer than any flag */
char *nsc_setting_flag(const struct nsc_setting *s, char *buf, size_t size);
const char *nsc_setting_group_title(enum nsc_setting_group g);
/* The registry entry whose rows hold s; NULL for general, output and spool rows. */
const struct nsc_source_entry *nsc_setting_source(const struct nsc_setting *s);

/*
 * The help of s with what the row says appended: the form ("a whole
 * number of hours from 1 to 2160", "one of us, ous, jp"), whether its
 * source requires it, its NAME_FILE form and its default. Cut to fit
 * `size`; returns buf.
 */
char *nsc_setting_describe(const struct nsc_setting *s, char *buf, size_t size);

/* Returns the value of `name` or NULL when unset. */
typedef const char *(*nsc_config_lookup_fn)(void *ctx, const char *name);

/* A lookup that reads the process environment (ctx unused). */
const char *nsc_config_lookup_env(void *ctx, const char *name);

/*
 * Key/value pairs layered over another lookup: command-line flags over the
 * environment, or a host's settings. Keys are environment names.
 */
struct nsc_config_kv {
	size_t count, cap;
	char **keys;
	char **values;
	nsc_config_lookup_fn fallback; /* may be NULL */
	void *fallback_ctx;
};
void nsc_config_kv_init(struct nsc_config_kv *kv, nsc_config_lookup_fn fallback, void *ctx);
nsc_rc nsc_config_kv_set(struct nsc_config_kv *kv, const char *name, const char *value);
void nsc_config_kv_free(struct nsc_config_kv *kv);
const char *nsc_config_kv_lookup(void *kv, const char *name); /* an nsc_config_lookup_fn */

/*
 * Env files (one bridge's settings, as systemd's EnvironmentFile and
 * docker's --env-file take them): NAME=value lines, blank lines and #
 * comments skipped, `export ` before a name allowed; a value is taken as
 * written (trimmed), or inside '...' literally, or inside "..." with \"
 * \\ \$ \` and \n escapes. A CONNECT_ name that is not a setting is
 * refused (a typo would fall back to a default); other names are kept and
 * unused. Errors name the file and line, never a value. *fingerprint (may
 * be NULL) gets a hash of the file's bytes, to tell a changed file.
 */
nsc_rc nsc_config_envfile_read(const char *path, struct nsc_config_kv *kv, uint64_t *fingerprint,
			       struct nsc_error *err);
/* The same for text already read (path only names it in messages). */
nsc_rc nsc_config_envfile_parse(const char *path, const char *text, size_t len,
				struct nsc_config_kv *kv, struct nsc_error *err);

void nsc_config_init(struct nsc_config *cfg);   /* zero + defaults */
void nsc_config_free(struct nsc_config *cfg);   /* frees strings; cfg reusable after init */

/* One problem of a configuration: what is wrong, never a secret's value. */
struct nsc_config_problem {
	const char *setting; /* static text: the variable it is about, e.g. "CONNECT_SHARE_PASSWORD" */
	char *message;       /* names the variable and the expected form */
};

/* Every problem one load found, in the order the loader met them. */
struct nsc_config_report {
	size_t count, cap;
	struct nsc_config_problem *problems;
};
void nsc_config_report_init(struct nsc_config_report *rep);
void nsc_config_report_free(struct nsc_config_report *rep); /* rep reusable after init */

/*
 * Reads and validates every setting; a problem does not stop the reading.
 * Found in this order: each malformed value (bad choice, number, URL,
 * unreadable NAME_FILE, NAME and NAME_FILE both set, ...) as its setting
 * is read, then each setting the source or the output needs that is not
 * set. What depends on a refused setting is not checked (an invalid
 * CONNECT_SOURCE has no requirements to miss), and a setting that is set
 * but refused is never also reported missing.
 *
 * On failure returns NSC_ERR_CONFIG and err->msg holds every problem: one
 * as it is, e.g. "CONNECT_SHARE_PASSWORD is not set; it is required when
 * CONNECT_SOURCE=dexcomshare", several as "2 settings need fixing: A; B",
 * ending "; … and N more" when the rest do not fit. NSC_ERR_NOMEM or
 * NSC_ERR_INTERNAL stop the load at once. cfg changes only on success.
 */
nsc_rc nsc_config_load(struct nsc_config *cfg, nsc_config_lookup_fn lookup, void *ctx,
		       struct nsc_error *err);

/*
 * nsc_config_load() that also hands back the problems one by one (for a
 * terminal, one a line): rep (may be NULL) is emptied first, then holds
 * every problem found, whatever fits into err->msg.
 */
nsc_rc nsc_config_load_report(struct nsc_config *cfg, nsc_config_lookup_fn lookup, void *ctx,
			      struct nsc_config_report *rep, struct nsc_error *err);

/*
 * Joins rep's problems into err (code NSC_ERR_CONFIG) as nsc_config_load()
 * reports them, within NSC_ERROR_MSG_MAX: whole problems, then "; … and N
 * more" for those that do not fit (only a first problem longer than the
 * whole message is cut, before a word, ending "…").
 */
void nsc_config_report_join(const struct nsc_config_report *rep, struct nsc_error *err);

/*
 * Normalises a vendor server setting: a bare host ("share2.dexcom.com"),
 * host:port, or a base URL with http/https scheme, optional port and path.
 * Result has a scheme, no trailing slash: "https://share2.dexcom.com".
 * `name` is used in the error message.
 */
nsc_rc nsc_config_normalize_url(const char *name, const char *value, char **out,
				struct nsc_error *err);

/* Registers every secret value in cfg (and URL-embedded passwords/tokens) with log. */
nsc_rc nsc_config_register_secrets(const struct nsc_config *cfg, struct nsc_log *log);

/* Logs every set setting at debug level, secrets shown as NSC_REDACTED. */
void nsc_config_log(const struct nsc_config *cfg, struct nsc_log *log);

/* cfg->source's CONNECT_SOURCE value, "none" when NULL. */
const char *nsc_source_name(const struct nsc_source_entry *source);
const char *nsc_output_kind_name(enum nsc_output_kind k);  /* "mongo", "rest", "rest3", "filesystem" */

#endif
