/* SPDX-License-Identifier: MIT */
/*
 * Secrets in the configuration: reading the NAME_FILE form of a secret
 * setting, registering every secret value (and passwords or tokens inside
 * URLs, raw and percent-decoded) with the logger, and logging the effective
 * settings at debug level with secrets redacted and URL credentials and
 * query values masked, each value quoted as one key=value token.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_internal.h"
#include "log.h"
#include "nsc_config.h"
#include "secret.h"

#define COMP "config"

/* A secret file larger than this is certainly not a password or URI. */
#define SECRET_FILE_MAX (64 * 1024)

static char *dup_mem(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
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

/* ---- NAME_FILE secrets -------------------------------------------------- */

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
		return nsc_cfg_nomem(err);
	}
	for (;;) {
		if (len + 1 == cap) {
			if (cap > SECRET_FILE_MAX) {
				fclose(f);
				nsc_secret_wipe(buf, cap);
				free(buf);
				return nsc_error_set(err, NSC_ERR_CONFIG,
						     "%s=\"%s\" is larger than %d bytes; expected a "
						     "file that holds only the value",
						     var, path, SECRET_FILE_MAX);
			}
			/* Not realloc: it would leave a copy of the secret behind, unwiped. */
			char *nbuf = malloc(cap * 2);
			if (!nbuf) {
				fclose(f);
				nsc_secret_wipe(buf, cap);
				free(buf);
				return nsc_cfg_nomem(err);
			}
			memcpy(nbuf, buf, len);
			nsc_secret_wipe(buf, cap);
			free(buf);
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
				nsc_secret_wipe(buf, cap);
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
		nsc_secret_wipe(buf, cap);
		free(buf);
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s=\"%s\" is larger than %d bytes; expected a file that holds "
				     "only the value",
				     var, path, SECRET_FILE_MAX);
	}
	if (memchr(buf, '\0', len)) {
		nsc_secret_wipe(buf, cap);
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
		nsc_secret_wipe(buf, cap);
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
nsc_rc nsc_cfg_read_secret(const struct nsc_cfg_reader *r, const char *name, char **out,
			   bool *from_file)
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
	value = nsc_cfg_get(r, name);
	path = nsc_cfg_get(r, file_var);
	if (value && path)
		return nsc_error_set(r->err, NSC_ERR_CONFIG,
				     "%s and %s are both set; set only one of them", name, file_var);
	if (value) {
		*out = nsc_cfg_dup_str(value);
		return *out ? NSC_OK : nsc_cfg_nomem(r->err);
	}
	if (!path)
		return NSC_OK;
	if (from_file)
		*from_file = true;
	return read_secret_file(file_var, path, out, r->err);
}

/* ---- registering secrets ------------------------------------------------ */

/* Percent-decodes [s, s+n) into a new string (NULL on allocation failure). */
static char *percent_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t j = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && nsc_cfg_hex_value(s[i + 1]) >= 0 &&
		    nsc_cfg_hex_value(s[i + 2]) >= 0) {
			out[j++] = (char)(nsc_cfg_hex_value(s[i + 1]) * 16 +
					  nsc_cfg_hex_value(s[i + 2]));
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
		nsc_secret_free(decoded);
	}
	nsc_secret_free(raw);
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

	for (size_t i = 0; i < NSC_CFG_COUNT(names); i++) {
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

/* Server and endpoint settings: URLs that may carry credentials. */
static bool url_row(const struct nsc_setting *s)
{
	return s->check == NSC_CHECK_SERVER || s->check == NSC_CHECK_ENDPOINT;
}

/* Row *i on of the table that keeps a string, in table order; NULL past the end. */
static const struct nsc_setting *string_row(size_t *i)
{
	const struct nsc_setting *s;

	while ((s = nsc_setting_at(*i)) != NULL && s->store != NSC_STORE_STRING)
		(*i)++;
	if (s)
		(*i)++;
	return s;
}

nsc_rc nsc_config_register_secrets(const struct nsc_config *cfg, struct nsc_log *log)
{
	const struct nsc_setting *s;
	nsc_rc rc = NSC_OK;

	if (!cfg || !log)
		return NSC_OK;
	for (size_t i = 0; rc == NSC_OK && (s = string_row(&i)) != NULL;) {
		const char *v = *nsc_cfg_str_cslot(cfg, s);
		if (v && s->kind == NSC_SETTING_SECRET)
			rc = nsc_log_add_secret(log, v);
		/* URLs, the MongoDB URI among them, may carry a password or a token. */
		if (rc == NSC_OK && (url_row(s) || s->offset == offsetof(struct nsc_config, mongodb_uri)))
			rc = add_url_secrets(log, v);
	}
	return rc;
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
		return nsc_cfg_dup_str(value);
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

/* A number row's value as the user gives it (the field divided by the row's scale). */
static void log_number(struct nsc_log *log, const struct nsc_config *cfg,
		       const struct nsc_setting *s)
{
	const void *at = (const char *)cfg + s->offset;
	uint64_t scale = s->scale > 0 ? (uint64_t)s->scale : 1;
	char num[64];

	switch (s->store) {
	case NSC_STORE_INT64:
		snprintf(num, sizeof(num), "%" PRId64, *(const int64_t *)at / (int64_t)scale);
		break;
	case NSC_STORE_UINT64:
		snprintf(num, sizeof(num), "%" PRIu64, *(const uint64_t *)at / scale);
		break;
	case NSC_STORE_UNSIGNED:
		snprintf(num, sizeof(num), "%u", *(const unsigned *)at / (unsigned)scale);
		break;
	case NSC_STORE_NONE:
	case NSC_STORE_STRING:
	default:
		return;
	}
	log_setting(log, s->name, num);
}

void nsc_config_log(const struct nsc_config *cfg, struct nsc_log *log)
{
	const struct nsc_setting *s;
	const char *level;
	char num[64];

	if (!cfg || !log || !nsc_log_enabled(log, NSC_LOG_DEBUG))
		return;
	level = nsc_cfg_log_level_name(cfg->log_level);
	log_setting(log, "CONNECT_SOURCE", nsc_source_name(cfg->source));
	log_setting(log, "CONNECT_OUTPUT", nsc_output_kind_name(cfg->output));
	log_setting(log, "CONNECT_LOG_LEVEL", level ? level : "unknown");
	if (cfg->has_glooko_tz_offset) {
		snprintf(num, sizeof(num), "%g", cfg->glooko_tz_offset_hours);
		log_setting(log, "CONNECT_GLOOKO_TIMEZONE_OFFSET", num);
	}
	for (size_t i = 0; (s = nsc_setting_at(i)) != NULL; i++) {
		const char *v;
		if (s->store != NSC_STORE_STRING) {
			log_number(log, cfg, s);
			continue;
		}
		v = *nsc_cfg_str_cslot(cfg, s);
		if (!v)
			continue;
		if (s->kind == NSC_SETTING_SECRET) {
			log_setting(log, s->name, NSC_REDACTED);
		} else if (url_row(s)) {
			char *r = redact_url(v);
			log_setting(log, s->name, r ? r : NSC_REDACTED);
			free(r);
		} else {
			log_setting(log, s->name, v);
		}
	}
}
