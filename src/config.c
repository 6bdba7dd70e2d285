/* SPDX-License-Identifier: MIT */
/*
 * Configuration loading: reads every setting of the table (settings.c)
 * through a lookup (environment, flags layered over it, or a host's
 * key/value pairs), reads NAME_FILE forms of secrets, normalises server
 * URLs, validates everything and refuses the first problem with a message
 * that names the variable and the expected form. Also registers secrets
 * with the logger and logs the effective settings without them.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "nsc_config.h"

#define COMP "config"

/* A secret file larger than this is certainly not a password or URI. */
#define SECRET_FILE_MAX (64 * 1024)
#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define HOUR_MS INT64_C(3600000)
#define LOOKBACK_HOURS_MAX 2160

#define SERVER_FORM \
	"a host name like example.com, host:port, or a base URL like https://host[:port][/path]"
#define ENDPOINT_FORM "a full URL like https://host[:port][/path], optionally with ?token=..."
#define MONGO_FORM \
	"a connection string mongodb://[user:password@]host[:port]/database or mongodb+srv://..."

/* ---- small helpers ---------------------------------------------------- */

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

static char *dup_mem(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	c = to_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Thread-safe strerror for both the GNU and the XSI strerror_r. */
static const char *errno_text(int e, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(e, buf, size);
#else
	if (strerror_r(e, buf, size) != 0)
		snprintf(buf, size, "error %d", e);
	return buf;
#endif
}

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

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *nsc_source_kind_name(enum nsc_source_kind k)
{
	if ((unsigned)k >= COUNT(source_names))
		return "unknown";
	return source_names[k];
}

const char *nsc_output_kind_name(enum nsc_output_kind k)
{
	if ((unsigned)k >= COUNT(output_names))
		return "unknown";
	return output_names[k];
}

/* ---- lookups ------------------------------------------------------------ */

const char *nsc_config_lookup_env(void *ctx, const char *name)
{
	(void)ctx;
	return name ? getenv(name) : NULL;
}

void nsc_config_kv_init(struct nsc_config_kv *kv, nsc_config_lookup_fn fallback, void *ctx)
{
	memset(kv, 0, sizeof(*kv));
	kv->fallback = fallback;
	kv->fallback_ctx = ctx;
}

static bool kv_find(const struct nsc_config_kv *kv, const char *name, size_t *index)
{
	for (size_t i = 0; i < kv->count; i++) {
		if (strcmp(kv->keys[i], name) == 0) {
			*index = i;
			return true;
		}
	}
	return false;
}

/* Sets name=value, replacing an earlier value; value NULL removes the key. */
nsc_rc nsc_config_kv_set(struct nsc_config_kv *kv, const char *name, const char *value)
{
	size_t i;

	if (!kv || !name)
		return NSC_ERR_INTERNAL;
	if (kv_find(kv, name, &i)) {
		if (!value) {
			free(kv->keys[i]);
			free(kv->values[i]);
			memmove(&kv->keys[i], &kv->keys[i + 1], (kv->count - i - 1) * sizeof(char *));
			memmove(&kv->values[i], &kv->values[i + 1],
				(kv->count - i - 1) * sizeof(char *));
			kv->count--;
			return NSC_OK;
		}
		char *v = dup_str(value);
		if (!v)
			return NSC_ERR_NOMEM;
		free(kv->values[i]);
		kv->values[i] = v;
		return NSC_OK;
	}
	if (!value)
		return NSC_OK;
	if (kv->count == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 8;
		if (cap > SIZE_MAX / sizeof(char *))
			return NSC_ERR_NOMEM;
		char **keys = realloc(kv->keys, cap * sizeof(char *));
		if (!keys)
			return NSC_ERR_NOMEM;
		kv->keys = keys;
		char **values = realloc(kv->values, cap * sizeof(char *));
		if (!values)
			return NSC_ERR_NOMEM;
		kv->values = values;
		kv->cap = cap;
	}
	char *k = dup_str(name);
	char *v = dup_str(value);
	if (!k || !v) {
		free(k);
		free(v);
		return NSC_ERR_NOMEM;
	}
	kv->keys[kv->count] = k;
	kv->values[kv->count] = v;
	kv->count++;
	return NSC_OK;
}

void nsc_config_kv_free(struct nsc_config_kv *kv)
{
	if (!kv)
		return;
	for (size_t i = 0; i < kv->count; i++) {
		free(kv->keys[i]);
		free(kv->values[i]);
	}
	free(kv->keys);
	free(kv->values);
	memset(kv, 0, sizeof(*kv));
}

const char *nsc_config_kv_lookup(void *ctx, const char *name)
{
	const struct nsc_config_kv *kv = ctx;
	size_t i;

	if (!kv || !name)
		return NULL;
	if (kv_find(kv, name, &i))
		return kv->values[i];
	if (kv->fallback)
		return kv->fallback(kv->fallback_ctx, name);
	return NULL;
}

/* ---- init / free -------------------------------------------------------- */

void nsc_config_init(struct nsc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->source = NSC_SOURCE_NONE;
	cfg->output = NSC_OUTPUT_AUTO;
	cfg->log_level = NSC_LOG_INFO;
	cfg->lookback_ms = 48 * HOUR_MS;
	cfg->simulator_seed = 1;
}

/*
 * The string settings, where config.c stores them and how each is checked.
 * CONNECT_SOURCE, CONNECT_OUTPUT, CONNECT_LOG_LEVEL, the numbers and the
 * MongoDB URI family are read by their own code below.
 */
enum field_check {
	CHECK_NONE,
	CHECK_ENUM,       /* one of `choices`, case-insensitive, stored as spelled there */
	CHECK_SERVER,     /* nsc_config_normalize_url() */
	CHECK_ENDPOINT,   /* full http(s) URL, query allowed */
	CHECK_VERSION,    /* digits and dots */
	CHECK_COUNTRY,    /* two letters, stored lower-case */
	CHECK_TIMEZONE,   /* zone file under ZONEINFO_DIR */
	CHECK_COLLECTION, /* MongoDB collection name */
};

struct field {
	const char *name;
	size_t offset;
	bool secret;
	enum field_check check;
	const char *const *choices; /* NULL-terminated, CHECK_ENUM only */
	const char *def;
};

static const char *const share_regions[] = { "us", "ous", "jp", NULL };
static const char *const linkup_regions[] = { "US", "EU", "EU2", "DE", "FR", "JP", "AP",
					      "AU", "AE", "CA", "LA", "RU", "CN", NULL };
static const char *const glooko_envs[] = { "default", "eu", "development", "production", NULL };
static const char *const carelink_regions[] = { "us", "eu", NULL };

#define F(field_) offsetof(struct nsc_config, field_)

static const struct field fields[] = {
	{ "CONNECT_OUTPUT_DIR", F(output_dir), false, CHECK_NONE, NULL, "./nightscout-data" },

	{ "CONNECT_SIMULATOR_USERNAME", F(simulator_username), false, CHECK_NONE, NULL, NULL },
	{ "CONNECT_SIMULATOR_PASSWORD", F(simulator_password), true, CHECK_NONE, NULL, NULL },

	{ "CONNECT_SHARE_ACCOUNT_NAME", F(share_account_name), false, CHECK_NONE, NULL, NULL },
	{ "CONNECT_SHARE_PASSWORD", F(share_password), true, CHECK_NONE, NULL, NULL },
	{ "CONNECT_SHARE_REGION", F(share_region), false, CHECK_ENUM, share_regions, "us" },
	{ "CONNECT_SHARE_SERVER", F(share_server), false, CHECK_SERVER, NULL, NULL },

	{ "CONNECT_LINK_UP_USERNAME", F(linkup_username), false, CHECK_NONE, NULL, NULL },
	{ "CONNECT_LINK_UP_PASSWORD", F(linkup_password), true, CHECK_NONE, NULL, NULL },
	{ "CONNECT_LINK_UP_REGION", F(linkup_region), false, CHECK_ENUM, linkup_regions, "EU" },
	{ "CONNECT_LINK_UP_SERVER", F(linkup_server), false, CHECK_SERVER, NULL, NULL },
	{ "CONNECT_LINK_UP_PATIENT_ID", F(linkup_patient_id), false, CHECK_NONE, NULL, NULL },
	{ "CONNECT_LINK_UP_VERSION", F(linkup_version), false, CHECK_VERSION, NULL, "4.16.0" },
	{ "CONNECT_LINK_UP_PRODUCT", F(linkup_product), false, CHECK_NONE, NULL, "llu.android" },

	{ "CONNECT_SOURCE_ENDPOINT", F(source_endpoint), false, CHECK_ENDPOINT, NULL, NULL },
	{ "CONNECT_SOURCE_API_SECRET", F(source_api_secret), true, CHECK_NONE, NULL, NULL },

	{ "CONNECT_GLOOKO_EMAIL", F(glooko_email), false, CHECK_NONE, NULL, NULL },
	{ "CONNECT_GLOOKO_PASSWORD", F(glooko_password), true, CHECK_NONE, NULL, NULL },
	{ "CONNECT_GLOOKO_ENV", F(glooko_env), false, CHECK_ENUM, glooko_envs, "default" },
	{ "CONNECT_GLOOKO_SERVER", F(glooko_server), false, CHECK_SERVER, NULL, NULL },
	{ "CONNECT_GLOOKO_TIMEZONE", F(glooko_timezone), false, CHECK_TIMEZONE, NULL, NULL },

	{ "CONNECT_CARELINK_USERNAME", F(carelink_username), false, CHECK_NONE, NULL, NULL },
	{ "CONNECT_CARELINK_PASSWORD", F(carelink_password), true, CHECK_NONE, NULL, NULL },
	{ "CONNECT_CARELINK_REGION", F(carelink_region), false, CHECK_ENUM, carelink_regions, "eu" },
	{ "CONNECT_CARELINK_SERVER", F(carelink_server), false, CHECK_SERVER, NULL, NULL },
	{ "CONNECT_COUNTRY_CODE", F(carelink_country_code), false, CHECK_COUNTRY, NULL, NULL },
	{ "CONNECT_CARELINK_PATIENT_USERNAME", F(carelink_patient_username), false, CHECK_NONE,
	  NULL, NULL },

	{ "CONNECT_NIGHTSCOUT_ENDPOINT", F(nightscout_endpoint), false, CHECK_SERVER, NULL, NULL },
	{ "CONNECT_API_SECRET", F(api_secret), true, CHECK_NONE, NULL, NULL },
	{ "CONNECT_NIGHTSCOUT_TOKEN", F(nightscout_token), true, CHECK_NONE, NULL, NULL },

	{ "MONGO_COLLECTION", F(mongo_collection), false, CHECK_COLLECTION, NULL, "entries" },
	{ "MONGO_TREATMENTS_COLLECTION", F(mongo_treatments_collection), false, CHECK_COLLECTION,
	  NULL, "treatments" },
	{ "MONGO_DEVICESTATUS_COLLECTION", F(mongo_devicestatus_collection), false,
	  CHECK_COLLECTION, NULL, "devicestatus" },
	{ "MONGO_PROFILE_COLLECTION", F(mongo_profile_collection), false, CHECK_COLLECTION, NULL,
	  "profile" },
};

/* MONGODB_URI, else MONGO_CONNECTION, else CUSTOMCONNSTR_mongo (Nightscout's order). */
static const char *const mongo_uri_names[] = { "MONGODB_URI", "MONGO_CONNECTION",
					       "CUSTOMCONNSTR_mongo" };

static char **field_slot(struct nsc_config *cfg, const struct field *f)
{
	return (char **)(void *)((char *)cfg + f->offset);
}

static char *const *field_cslot(const struct nsc_config *cfg, const struct field *f)
{
	return (char *const *)(const void *)((const char *)cfg + f->offset);
}

void nsc_config_free(struct nsc_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < COUNT(fields); i++)
		free(*field_slot(cfg, &fields[i]));
	free(cfg->mongodb_uri);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- reading values ----------------------------------------------------- */

struct reader {
	nsc_config_lookup_fn lookup;
	void *ctx;
	struct nsc_error *err;
};

/* The value of `name`, or NULL when it is unset or empty. */
static const char *get(const struct reader *r, const char *name)
{
	const char *v = r->lookup(r->ctx, name);

	return (v && *v) ? v : NULL;
}

static nsc_rc nomem(struct nsc_error *err)
{
	return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory while reading the configuration");
}

/* Reads a secret file: one trailing "\n" or "\r\n" removed, never empty. */
static nsc_rc read_secret_file(const char *var, const char *path, char **out,
			       struct nsc_error *err)
{
	char ebuf[128];
	size_t cap = 256, len = 0;
	char *buf;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" cannot be read: %s; expected a readable file "
				     "that holds the value",
				     var, path, errno_text(e, ebuf, sizeof(ebuf)));
	}
	buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return nomem(err);
	}
	for (;;) {
		if (len + 1 == cap) {
			if (cap > SECRET_FILE_MAX) {
				fclose(f);
				free(buf);
				return nsc_error_set(err, NSC_ERR_CONFIG,
						     "%s=\"%s\" is larger than %d bytes; expected a "
						     "file that holds only the value",
						     var, path, SECRET_FILE_MAX);
			}
			char *nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				fclose(f);
				free(buf);
				return nomem(err);
			}
			buf = nbuf;
			cap *= 2;
		}
		errno = 0;
		size_t n = fread(buf + len, 1, cap - 1 - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				int e = errno ? errno : EIO;
				fclose(f);
				free(buf);
				return nsc_error_set(err, NSC_ERR_CONFIG,
						     "%s=\"%s\" cannot be read: %s; expected a "
						     "readable file that holds the value",
						     var, path, errno_text(e, ebuf, sizeof(ebuf)));
			}
			break;
		}
	}
	fclose(f);
	if (len > SECRET_FILE_MAX) {
		free(buf);
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is larger than %d bytes; expected a file that holds "
				     "only the value",
				     var, path, SECRET_FILE_MAX);
	}
	if (memchr(buf, '\0', len)) {
		free(buf);
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" contains a NUL byte; expected a text file that "
				     "holds the value",
				     var, path);
	}
	if (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n')
		len -= 2;
	else if (len >= 1 && buf[len - 1] == '\n')
		len -= 1;
	buf[len] = '\0';
	if (len == 0) {
		free(buf);
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is an empty file; expected a file that holds the "
				     "value",
				     var, path);
	}
	*out = buf;
	return NSC_OK;
}

/*
 * A secret's value from NAME or from the file NAME_FILE names; *out stays
 * NULL when neither is set. *from_file tells which one it was.
 */
static nsc_rc read_secret(const struct reader *r, const char *name, char **out, bool *from_file)
{
	char file_var[128];
	const char *value, *path;
	int n;

	*out = NULL;
	if (from_file)
		*from_file = false;
	n = snprintf(file_var, sizeof(file_var), "%s_FILE", name);
	if (n < 0 || (size_t)n >= sizeof(file_var))
		return nsc_error_set(r->err, NSC_ERR_INTERNAL, "setting name %s is too long", name);
	value = get(r, name);
	path = get(r, file_var);
	if (value && path)
		return nsc_error_set(r->err, NSC_ERR_CONFIG,
				     "%s and %s are both set; set only one of them", name, file_var);
	if (value) {
		*out = dup_str(value);
		return *out ? NSC_OK : nomem(r->err);
	}
	if (!path)
		return NSC_OK;
	if (from_file)
		*from_file = true;
	return read_secret_file(file_var, path, out, r->err);
}

/* ---- checks ------------------------------------------------------------- */

static nsc_rc check_enum(const char *name, const char *value, const char *const *choices,
			 char **out, struct nsc_error *err)
{
	char list[256];
	size_t used = 0;

	for (size_t i = 0; choices[i]; i++) {
		if (strcasecmp(value, choices[i]) == 0) {
			*out = dup_str(choices[i]);
			return *out ? NSC_OK : nomem(err);
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
	bool ok = is_digit(value[0]);

	for (const char *p = value; ok && *p; p++) {
		if (*p == '.')
			ok = is_digit(p[1]);
		else
			ok = is_digit(*p);
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
	if (strlen(value) != 2 || !is_alpha(value[0]) || !is_alpha(value[1]))
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is not valid; expected a two-letter country code "
				     "like de or us",
				     name, value);
	*out = dup_str(value);
	if (!*out)
		return nomem(err);
	(*out)[0] = to_lower((*out)[0]);
	(*out)[1] = to_lower((*out)[1]);
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
		if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '+' || c == '/' ||
		      c == '.'))
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

	for (size_t i = 0; i < COUNT(prefixes); i++) {
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

static nsc_rc parse_hours(const char *name, const char *value, long long *out,
			  struct nsc_error *err)
{
	const char *p = value[0] == '-' ? value + 1 : value;
	char *end;
	long long v;

	if (!is_digit(*p))
		goto bad;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < 1 || v > LOOKBACK_HOURS_MAX)
		goto bad;
	*out = v;
	return NSC_OK;
bad:
	return nsc_error_set(err, NSC_ERR_CONFIG,
			     "%s=\"%s\" is not valid; expected a whole number of hours from 1 to %d",
			     name, value, LOOKBACK_HOURS_MAX);
}

static nsc_rc parse_u64(const char *name, const char *value, uint64_t *out,
			struct nsc_error *err)
{
	unsigned long long v;
	char *end;

	/* strtoull would accept "-1" and leading blanks; only digits are allowed. */
	if (!is_digit(value[0]))
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
	for (; is_digit(*p) && digits < 10; p++, digits++)
		v = v * 10.0 + (*p - '0');
	if (*p == '.') {
		p++;
		for (int frac = 0; is_digit(*p) && frac < 10; p++, frac++, digits++) {
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

/* ---- URLs --------------------------------------------------------------- */

static bool host_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_';
}

static bool ipv6_char(char c)
{
	return hex_value(c) >= 0 || c == ':' || c == '.';
}

/*
 * Parses an http(s) URL or (when !need_scheme) a bare host[:port][/path]
 * and writes "scheme://host[:port][/path][?query]" with the host and
 * scheme lower-cased and trailing slashes of the path removed. `echo`
 * false keeps the value out of error messages (it may hold a token).
 */
static nsc_rc parse_http_url(const char *name, const char *value, bool need_scheme,
			     bool allow_query, bool echo, char **out, struct nsc_error *err)
{
	const char *expected = need_scheme ? ENDPOINT_FORM : SERVER_FORM;
	char why[160];
	const char *scheme = "https";
	const char *rest, *auth_end, *host, *host_end, *port_text = NULL, *path, *path_end;
	const char *query, *sep;
	unsigned long port = 0;
	size_t host_len, path_len, query_len, size;
	char *buf;

	*out = NULL;
	why[0] = '\0';
	if (!value || !*value) {
		snprintf(why, sizeof(why), "it is empty");
		goto bad;
	}
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ' ' || c == '\t') {
			snprintf(why, sizeof(why), "it contains a space");
			goto bad;
		}
		if (c < 0x21 || c > 0x7e) {
			snprintf(why, sizeof(why), "it contains a control or non-ASCII character");
			goto bad;
		}
	}

	sep = strstr(value, "://");
	if (sep) {
		size_t n = (size_t)(sep - value);
		if (n == 4 && strncasecmp(value, "http", 4) == 0) {
			scheme = "http";
		} else if (n == 5 && strncasecmp(value, "https", 5) == 0) {
			scheme = "https";
		} else {
			snprintf(why, sizeof(why),
				 "the scheme \"%.*s\" is not supported, only http and https are",
				 (int)(n > 20 ? 20 : n), value);
			goto bad;
		}
		rest = sep + 3;
	} else if (need_scheme) {
		snprintf(why, sizeof(why), "it does not start with http:// or https://");
		goto bad;
	} else {
		rest = value;
	}

	auth_end = rest + strcspn(rest, "/?#");
	if (memchr(rest, '@', (size_t)(auth_end - rest))) {
		snprintf(why, sizeof(why),
			 "it must not contain a user name or password; use the credential "
			 "settings instead");
		goto bad;
	}
	host = rest;
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(auth_end - host));
		if (!close || close == host + 1) {
			snprintf(why, sizeof(why), "the IPv6 address in brackets is incomplete");
			goto bad;
		}
		for (const char *p = host + 1; p < close; p++) {
			if (!ipv6_char(*p)) {
				snprintf(why, sizeof(why), "the IPv6 address contains '%c'", *p);
				goto bad;
			}
		}
		host_end = close + 1;
		if (host_end < auth_end) {
			if (*host_end != ':') {
				snprintf(why, sizeof(why), "unexpected text after the IPv6 address");
				goto bad;
			}
			port_text = host_end + 1;
		}
	} else {
		const char *colon = memchr(host, ':', (size_t)(auth_end - host));
		host_end = colon ? colon : auth_end;
		if (colon) {
			port_text = colon + 1;
			if (memchr(port_text, ':', (size_t)(auth_end - port_text))) {
				snprintf(why, sizeof(why),
					 "it has more than one ':' (write IPv6 addresses in "
					 "brackets)");
				goto bad;
			}
		}
		for (const char *p = host; p < host_end; p++) {
			if (!host_char(*p)) {
				snprintf(why, sizeof(why), "the host name contains '%c'", *p);
				goto bad;
			}
		}
	}
	host_len = (size_t)(host_end - host);
	if (host_len == 0) {
		snprintf(why, sizeof(why), "the host name is empty");
		goto bad;
	}
	if (port_text) {
		size_t n = (size_t)(auth_end - port_text);
		if (n == 0) {
			snprintf(why, sizeof(why), "the port after ':' is empty");
			goto bad;
		}
		for (size_t i = 0; i < n; i++) {
			if (!is_digit(port_text[i])) {
				snprintf(why, sizeof(why), "the port \"%.*s\" is not a number",
					 (int)(n > 20 ? 20 : n), port_text);
				goto bad;
			}
			if (port <= 65535)
				port = port * 10 + (unsigned long)(port_text[i] - '0');
		}
		if (port == 0 || port > 65535) {
			snprintf(why, sizeof(why), "the port %.*s is not in 1..65535",
				 (int)(n > 20 ? 20 : n), port_text);
			goto bad;
		}
	}

	path = auth_end;
	path_end = path + strcspn(path, "?#");
	query = path_end;
	if (strchr(query, '#')) {
		snprintf(why, sizeof(why), "it must not contain a #fragment");
		goto bad;
	}
	if (*query == '?' && !allow_query) {
		snprintf(why, sizeof(why), "it must not contain a ?query");
		goto bad;
	}
	while (path_end > path && path_end[-1] == '/')
		path_end--;
	path_len = (size_t)(path_end - path);
	query_len = strlen(query);

	size = strlen(scheme) + 3 + host_len + 6 + path_len + query_len + 1;
	buf = malloc(size);
	if (!buf)
		return nomem(err);
	{
		size_t at = 0;
		memcpy(buf, scheme, strlen(scheme));
		at += strlen(scheme);
		memcpy(buf + at, "://", 3);
		at += 3;
		for (size_t i = 0; i < host_len; i++)
			buf[at++] = to_lower(host[i]);
		if (port_text)
			at += (size_t)snprintf(buf + at, size - at, ":%lu", port);
		memcpy(buf + at, path, path_len);
		at += path_len;
		memcpy(buf + at, query, query_len);
		at += query_len;
		buf[at] = '\0';
	}
	*out = buf;
	return NSC_OK;
bad:
	if (echo)
		return nsc_error_set(err, NSC_ERR_CONFIG, "%s=\"%s\" is not valid: %s; expected %s",
				     name, value ? value : "", why, expected);
	return nsc_error_set(err, NSC_ERR_CONFIG, "%s is not valid: %s; expected %s", name, why,
			     expected);
}

nsc_rc nsc_config_normalize_url(const char *name, const char *value, char **out,
				struct nsc_error *err)
{
	return parse_http_url(name ? name : "URL", value, false, false, true, out, err);
}

/* ---- load --------------------------------------------------------------- */

static nsc_rc load_field(const struct reader *r, const struct field *f, struct nsc_config *cfg)
{
	char **slot = field_slot(cfg, f);
	const char *value;
	nsc_rc rc;

	if (f->secret)
		return read_secret(r, f->name, slot, NULL);
	value = get(r, f->name);
	if (!value) {
		if (f->def) {
			*slot = dup_str(f->def);
			if (!*slot)
				return nomem(r->err);
		}
		return NSC_OK;
	}
	switch (f->check) {
	case CHECK_ENUM:
		return check_enum(f->name, value, f->choices, slot, r->err);
	case CHECK_SERVER:
		return parse_http_url(f->name, value, false, false, true, slot, r->err);
	case CHECK_ENDPOINT:
		/* May carry ?token=: keep the value out of the message. */
		return parse_http_url(f->name, value, true, true, false, slot, r->err);
	case CHECK_COUNTRY:
		return check_country(f->name, value, slot, r->err);
	case CHECK_VERSION:
		rc = check_version(f->name, value, r->err);
		break;
	case CHECK_TIMEZONE:
		rc = check_timezone(f->name, value, r->err);
		break;
	case CHECK_COLLECTION:
		rc = check_collection(f->name, value, r->err);
		break;
	case CHECK_NONE:
	default:
		rc = NSC_OK;
		break;
	}
	if (rc != NSC_OK)
		return rc;
	*slot = dup_str(value);
	return *slot ? NSC_OK : nomem(r->err);
}

static nsc_rc load_source(const struct reader *r, struct nsc_config *cfg)
{
	const char *value = get(r, "CONNECT_SOURCE");

	if (!value)
		return nsc_error_set(r->err, NSC_ERR_CONFIG,
				     "CONNECT_SOURCE is not set; expected one of simulator, "
				     "dexcomshare, linkup, nightscout, glooko, minimedcarelink");
	for (size_t i = NSC_SOURCE_SIMULATOR; i < COUNT(source_names); i++) {
		if (strcasecmp(value, source_names[i]) == 0) {
			cfg->source = (enum nsc_source_kind)i;
			return NSC_OK;
		}
	}
	return nsc_error_set(r->err, NSC_ERR_CONFIG,
			     "CONNECT_SOURCE=\"%s\" is not valid; expected one of simulator, "
			     "dexcomshare, linkup, nightscout, glooko, minimedcarelink",
			     value);
}

static nsc_rc load_output(const struct reader *r, struct nsc_config *cfg)
{
	const char *value = get(r, "CONNECT_OUTPUT");

	cfg->output = NSC_OUTPUT_AUTO;
	if (!value)
		return NSC_OK;
	for (size_t i = 0; i < COUNT(output_names); i++) {
		if (strcasecmp(value, output_names[i]) == 0) {
			cfg->output = (enum nsc_output_kind)i;
			return NSC_OK;
		}
	}
	return nsc_error_set(r->err, NSC_ERR_CONFIG,
			     "CONNECT_OUTPUT=\"%s\" is not valid; expected one of mongo, rest, "
			     "rest3, filesystem (or auto, the default)",
			     value);
}

static nsc_rc load_scalars(const struct reader *r, struct nsc_config *cfg)
{
	const char *value;
	nsc_rc rc;

	value = get(r, "CONNECT_LOG_LEVEL");
	if (value) {
		size_t i;
		for (i = 0; i < COUNT(log_level_names); i++) {
			if (strcasecmp(value, log_level_names[i]) == 0)
				break;
		}
		if (i == COUNT(log_level_names))
			return nsc_error_set(r->err, NSC_ERR_CONFIG,
					     "CONNECT_LOG_LEVEL=\"%s\" is not valid; expected one "
					     "of error, warn, info, debug, trace",
					     value);
		cfg->log_level = (enum nsc_log_level)i;
	}

	value = get(r, "CONNECT_LOOKBACK_HOURS");
	if (value) {
		long long hours = 0;
		rc = parse_hours("CONNECT_LOOKBACK_HOURS", value, &hours, r->err);
		if (rc != NSC_OK)
			return rc;
		cfg->lookback_ms = (int64_t)hours * HOUR_MS;
	}

	value = get(r, "CONNECT_SIMULATOR_SEED");
	if (value) {
		rc = parse_u64("CONNECT_SIMULATOR_SEED", value, &cfg->simulator_seed, r->err);
		if (rc != NSC_OK)
			return rc;
	}
	return NSC_OK;
}

static nsc_rc load_mongo_uri(const struct reader *r, struct nsc_config *cfg)
{
	for (size_t i = 0; i < COUNT(mongo_uri_names); i++) {
		bool from_file = false;
		nsc_rc rc = read_secret(r, mongo_uri_names[i], &cfg->mongodb_uri, &from_file);
		if (rc != NSC_OK)
			return rc;
		if (cfg->mongodb_uri)
			return check_mongo_uri(mongo_uri_names[i], from_file, cfg->mongodb_uri,
					       r->err);
	}
	return NSC_OK;
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

static nsc_rc check_required(const struct nsc_config *cfg, struct nsc_error *err)
{
	char when[64];

	snprintf(when, sizeof(when), "CONNECT_SOURCE=%s", nsc_source_kind_name(cfg->source));
	for (size_t i = 0; i < COUNT(requirements); i++) {
		const struct requirement *q = &requirements[i];
		const char *v = *(char *const *)(const void *)((const char *)cfg + q->offset);
		if (q->source == cfg->source && !v)
			return missing(err, q->name, q->secret, when);
	}
	if (cfg->simulator_username && !cfg->simulator_password)
		return missing(err, "CONNECT_SIMULATOR_PASSWORD", true,
			       "CONNECT_SIMULATOR_USERNAME is set");
	if (cfg->simulator_password && !cfg->simulator_username)
		return missing(err, "CONNECT_SIMULATOR_USERNAME", false,
			       "CONNECT_SIMULATOR_PASSWORD is set");
	return NSC_OK;
}

static nsc_rc resolve_output(struct nsc_config *cfg, struct nsc_error *err)
{
	bool chosen = cfg->output == NSC_OUTPUT_AUTO;
	const char *why = "";

	if (chosen) {
		if (cfg->mongodb_uri) {
			cfg->output = NSC_OUTPUT_MONGO;
		} else if (cfg->nightscout_endpoint) {
			cfg->output = NSC_OUTPUT_REST;
			why = " (chosen because CONNECT_NIGHTSCOUT_ENDPOINT is set and no MongoDB "
			      "URI is)";
		} else {
			cfg->output = NSC_OUTPUT_FILESYSTEM;
		}
	}
	switch (cfg->output) {
	case NSC_OUTPUT_MONGO:
		if (!cfg->mongodb_uri)
			return nsc_error_set(err, NSC_ERR_CONFIG,
					     "MONGODB_URI is not set; it is required when "
					     "CONNECT_OUTPUT=mongo (MONGO_CONNECTION or "
					     "CUSTOMCONNSTR_mongo work too); expected %s",
					     MONGO_FORM);
		break;
	case NSC_OUTPUT_REST:
	case NSC_OUTPUT_REST3:
		if (!cfg->nightscout_endpoint)
			return nsc_error_set(err, NSC_ERR_CONFIG,
					     "CONNECT_NIGHTSCOUT_ENDPOINT is not set; it is required "
					     "when CONNECT_OUTPUT=%s; expected the Nightscout site, "
					     "%s",
					     nsc_output_kind_name(cfg->output), SERVER_FORM);
		if (cfg->output == NSC_OUTPUT_REST && !cfg->api_secret && !cfg->nightscout_token)
			return nsc_error_set(err, NSC_ERR_CONFIG,
					     "CONNECT_API_SECRET is not set; it or "
					     "CONNECT_NIGHTSCOUT_TOKEN is required when "
					     "CONNECT_OUTPUT=rest%s",
					     why);
		if (cfg->output == NSC_OUTPUT_REST3 && !cfg->nightscout_token)
			return nsc_error_set(err, NSC_ERR_CONFIG,
					     "CONNECT_NIGHTSCOUT_TOKEN is not set; it is required "
					     "when CONNECT_OUTPUT=rest3; expected a Nightscout "
					     "access token like name-0123456789abcdef");
		break;
	case NSC_OUTPUT_FILESYSTEM:
	case NSC_OUTPUT_AUTO:
	default:
		break;
	}
	return NSC_OK;
}

static nsc_rc load_all(const struct reader *r, struct nsc_config *cfg)
{
	const char *value;
	nsc_rc rc;

	rc = load_source(r, cfg);
	if (rc == NSC_OK)
		rc = load_output(r, cfg);
	if (rc == NSC_OK)
		rc = load_scalars(r, cfg);
	for (size_t i = 0; rc == NSC_OK && i < COUNT(fields); i++)
		rc = load_field(r, &fields[i], cfg);
	if (rc != NSC_OK)
		return rc;

	value = get(r, "CONNECT_GLOOKO_TIMEZONE_OFFSET");
	if (value) {
		rc = parse_offset_hours("CONNECT_GLOOKO_TIMEZONE_OFFSET", value,
					&cfg->glooko_tz_offset_hours, r->err);
		if (rc != NSC_OK)
			return rc;
		cfg->has_glooko_tz_offset = true;
	}

	rc = load_mongo_uri(r, cfg);
	if (rc == NSC_OK)
		rc = check_required(cfg, r->err);
	if (rc == NSC_OK)
		rc = resolve_output(cfg, r->err);
	return rc;
}

nsc_rc nsc_config_load(struct nsc_config *cfg, nsc_config_lookup_fn lookup, void *ctx,
		       struct nsc_error *err)
{
	struct reader r = { .lookup = lookup ? lookup : nsc_config_lookup_env, .ctx = ctx,
			    .err = err };
	struct nsc_config tmp;
	nsc_rc rc;

	nsc_error_clear(err);
	if (!cfg)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "nsc_config_load: no config given");
	nsc_config_init(&tmp);
	rc = load_all(&r, &tmp);
	if (rc != NSC_OK) {
		nsc_config_free(&tmp);
		return rc;
	}
	nsc_config_free(cfg);
	*cfg = tmp;
	return NSC_OK;
}

/* ---- secrets and logging ------------------------------------------------ */

/* Percent-decodes [s, s+n) into a new string (NULL on allocation failure). */
static char *percent_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t j = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 &&
		    hex_value(s[i + 2]) >= 0) {
			out[j++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

/* Registers [s, s+n) and its percent-decoded form as secrets. */
static nsc_rc add_secret_span(struct nsc_log *log, const char *s, size_t n)
{
	char *raw, *decoded;
	nsc_rc rc;

	if (n == 0)
		return NSC_OK;
	raw = dup_mem(s, n);
	if (!raw)
		return NSC_ERR_NOMEM;
	rc = nsc_log_add_secret(log, raw);
	if (rc == NSC_OK) {
		decoded = percent_decode(s, n);
		if (!decoded)
			rc = NSC_ERR_NOMEM;
		else if (strcmp(decoded, raw) != 0)
			rc = nsc_log_add_secret(log, decoded);
		free(decoded);
	}
	free(raw);
	return rc;
}

/* The userinfo of scheme://user:pass@host...: the password span, if any. */
static bool url_password(const char *url, const char **pass, size_t *len)
{
	const char *rest = strstr(url, "://");
	const char *at, *colon;

	if (!rest)
		return false;
	rest += 3;
	/* Raw '/', '?' or '@' can appear in careless passwords: use the last '@'. */
	at = strrchr(rest, '@');
	if (!at)
		return false;
	colon = memchr(rest, ':', (size_t)(at - rest));
	if (!colon)
		return false;
	*pass = colon + 1;
	*len = (size_t)(at - colon - 1);
	return true;
}

static bool credential_param(const char *name, size_t n)
{
	static const char *const names[] = { "token",     "secret", "api_secret", "api-secret",
					     "apisecret", "password", "access_token" };

	for (size_t i = 0; i < COUNT(names); i++) {
		if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
			return true;
	}
	return false;
}

/* Registers a URL's userinfo password and token-like query values. */
static nsc_rc add_url_secrets(struct nsc_log *log, const char *url)
{
	const char *pass, *q;
	size_t len;
	nsc_rc rc;

	if (!url)
		return NSC_OK;
	if (url_password(url, &pass, &len)) {
		rc = add_secret_span(log, pass, len);
		if (rc != NSC_OK)
			return rc;
	}
	q = strchr(url, '?');
	while (q && *q) {
		const char *key = q + 1;
		const char *end = key + strcspn(key, "&#");
		const char *eq = memchr(key, '=', (size_t)(end - key));
		if (eq && credential_param(key, (size_t)(eq - key))) {
			rc = add_secret_span(log, eq + 1, (size_t)(end - eq - 1));
			if (rc != NSC_OK)
				return rc;
		}
		q = *end == '&' ? end : NULL;
	}
	return NSC_OK;
}

nsc_rc nsc_config_register_secrets(const struct nsc_config *cfg, struct nsc_log *log)
{
	nsc_rc rc;

	if (!cfg || !log)
		return NSC_OK;
	for (size_t i = 0; i < COUNT(fields); i++) {
		const char *v = *field_cslot(cfg, &fields[i]);
		if (fields[i].secret && v) {
			rc = nsc_log_add_secret(log, v);
			if (rc != NSC_OK)
				return rc;
		}
	}
	if (cfg->mongodb_uri) {
		rc = nsc_log_add_secret(log, cfg->mongodb_uri);
		if (rc == NSC_OK)
			rc = add_url_secrets(log, cfg->mongodb_uri);
		if (rc != NSC_OK)
			return rc;
	}
	for (size_t i = 0; i < COUNT(fields); i++) {
		if (fields[i].check == CHECK_SERVER || fields[i].check == CHECK_ENDPOINT) {
			rc = add_url_secrets(log, *field_cslot(cfg, &fields[i]));
			if (rc != NSC_OK)
				return rc;
		}
	}
	return NSC_OK;
}

/* A URL for the log: userinfo password and every query value redacted. */
static char *redact_url(const char *url)
{
	size_t cap = strlen(url) * (sizeof(NSC_REDACTED) + 1) + 1;
	const char *pass = NULL, *p = url;
	size_t pass_len = 0, at = 0;
	char *out = malloc(cap);
	bool in_query = false;

	if (!out)
		return NULL;
	if (!url_password(url, &pass, &pass_len))
		pass = NULL;
	while (*p) {
		if (pass && p == pass) {
			memcpy(out + at, NSC_REDACTED, sizeof(NSC_REDACTED) - 1);
			at += sizeof(NSC_REDACTED) - 1;
			p += pass_len;
			continue;
		}
		if (*p == '?')
			in_query = true;
		out[at++] = *p;
		if (in_query && *p == '=') {
			size_t n = strcspn(p + 1, "&#");
			if (n) {
				memcpy(out + at, NSC_REDACTED, sizeof(NSC_REDACTED) - 1);
				at += sizeof(NSC_REDACTED) - 1;
			}
			p += 1 + n;
			continue;
		}
		p++;
	}
	out[at] = '\0';
	return out;
}

/* `value` as one key=value token: quoted (with \" and \\) when needed. */
static char *log_quote(const char *value)
{
	bool quote = !*value;
	size_t n = 0;
	char *out, *o;

	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c == 0x7f)
			quote = true;
		n++;
	}
	if (!quote)
		return dup_str(value);
	out = malloc(n * 4 + 3);
	if (!out)
		return NULL;
	o = out;
	*o++ = '"';
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < ' ' || c == 0x7f) {
			o += sprintf(o, "\\x%02x", c);
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

static void log_setting(struct nsc_log *log, const char *name, const char *value)
{
	char *q = log_quote(value);

	nsc_dbg(log, COMP, "event=setting name=%s value=%s", name, q ? q : NSC_REDACTED);
	free(q);
}

void nsc_config_log(const struct nsc_config *cfg, struct nsc_log *log)
{
	char num[64];

	if (!cfg || !log || !nsc_log_enabled(log, NSC_LOG_DEBUG))
		return;
	log_setting(log, "CONNECT_SOURCE", nsc_source_kind_name(cfg->source));
	log_setting(log, "CONNECT_OUTPUT", nsc_output_kind_name(cfg->output));
	log_setting(log, "CONNECT_LOG_LEVEL",
		    (unsigned)cfg->log_level < COUNT(log_level_names) ?
			    log_level_names[cfg->log_level] :
			    "unknown");
	snprintf(num, sizeof(num), "%" PRId64, cfg->lookback_ms / HOUR_MS);
	log_setting(log, "CONNECT_LOOKBACK_HOURS", num);
	snprintf(num, sizeof(num), "%" PRIu64, cfg->simulator_seed);
	log_setting(log, "CONNECT_SIMULATOR_SEED", num);
	if (cfg->has_glooko_tz_offset) {
		snprintf(num, sizeof(num), "%g", cfg->glooko_tz_offset_hours);
		log_setting(log, "CONNECT_GLOOKO_TIMEZONE_OFFSET", num);
	}
	for (size_t i = 0; i < COUNT(fields); i++) {
		const struct field *f = &fields[i];
		const char *v = *field_cslot(cfg, f);
		if (!v)
			continue;
		if (f->secret) {
			log_setting(log, f->name, NSC_REDACTED);
		} else if (f->check == CHECK_SERVER || f->check == CHECK_ENDPOINT) {
			char *r = redact_url(v);
			log_setting(log, f->name, r ? r : NSC_REDACTED);
			free(r);
		} else {
			log_setting(log, f->name, v);
		}
	}
	if (cfg->mongodb_uri)
		log_setting(log, "MONGODB_URI", NSC_REDACTED);
}
