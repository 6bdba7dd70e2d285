/* SPDX-License-Identifier: MIT */
/*
 * Env files: one bridge's settings in the form systemd's EnvironmentFile
 * and docker's --env-file take (see nsc_config_envfile_read()).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "nsc_config.h"

/* A tenant's file is a handful of lines; anything larger is a mistake. */
#define ENVFILE_MAX (256u * 1024u)

static uint64_t fingerprint_of(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static bool name_char(char c, bool first)
{
	return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* A CONNECT_ name the table does not know is a typo that would silently fall back to a default. */
static bool unknown_connect_name(const char *name)
{
	if (strncmp(name, "CONNECT_", 8) != 0 || nsc_setting_by_name(name))
		return false;
	size_t n = strlen(name);
	if (n > 5 && strcmp(name + n - 5, "_FILE") == 0) {
		char base[128];
		if (n - 5 >= sizeof(base))
			return true;
		memcpy(base, name, n - 5);
		base[n - 5] = '\0';
		return nsc_setting_by_name(base) == NULL;
	}
	return true;
}

/*
 * The value starting at p (line ends at end): unquoted (trimmed), 'literal'
 * or "with \" \\ \n \$ escapes"; written into out (room for end-p+1).
 * Returns NULL on success, else what is wrong.
 */
static const char *parse_value(const char *p, const char *end, char *out)
{
	size_t n = 0;
	if (p < end && (*p == '\'' || *p == '"')) {
		char q = *p++;
		for (;; p++) {
			if (p >= end)
				return "a quoted value has no closing quote";
			if (*p == q)
				break;
			if (q == '"' && *p == '\\' && p + 1 < end && strchr("\"\\$n`", p[1])) {
				p++;
				out[n++] = *p == 'n' ? '\n' : *p;
				continue;
			}
			out[n++] = *p;
		}
		for (p++; p < end && isspace((unsigned char)*p); p++)
			;
		if (p < end && *p != '#')
			return "text follows the closing quote";
	} else {
		const char *e = end;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		n = (size_t)(e - p);
		memcpy(out, p, n);
	}
	out[n] = '\0';
	return NULL;
}

static nsc_rc parse_line(const char *path, unsigned lineno, const char *p, const char *end,
			 struct nsc_config_kv *kv, char *scratch, struct nsc_error *err)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end || *p == '#')
		return NSC_OK;
	if ((size_t)(end - p) > 7 && strncmp(p, "export", 6) == 0 && isspace((unsigned char)p[6]))
		for (p += 7; p < end && isspace((unsigned char)*p); p++)
			;
	const char *name = p;
	while (p < end && name_char(*p, p == name))
		p++;
	size_t name_len = (size_t)(p - name);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (name_len == 0 || name_len >= 128 || p == end || *p != '=')
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s, line %u: expected NAME=value (a setting name, '=', its value)", path,
				     lineno);
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	char key[128];
	memcpy(key, name, name_len);
	key[name_len] = '\0';
	if (unknown_connect_name(key))
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "%s, line %u: %s is not a setting nsconnect knows (a typo?); "
				     "'nightscout-connect settings' lists them",
				     path, lineno, key);
	const char *why = parse_value(p, end, scratch);
	if (why)
		return nsc_error_set(err, NSC_ERR_CONFIG, "%s, line %u (%s): %s", path, lineno, key, why);
	if (nsc_config_kv_set(kv, key, scratch) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading %s", path);
	return NSC_OK;
}

nsc_rc nsc_config_envfile_parse(const char *path, const char *text, size_t len,
				struct nsc_config_kv *kv, struct nsc_error *err)
{
	char *scratch = malloc(len + 1);
	if (!scratch)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading %s", path);
	nsc_rc rc = NSC_OK;
	unsigned lineno = 0;
	for (const char *p = text, *end = text + len; rc == NSC_OK && p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		if (memchr(p, '\0', (size_t)(stop - p)))
			rc = nsc_error_set(err, NSC_ERR_CONFIG, "%s, line %u: holds a NUL byte; is it a text file?",
					   path, lineno + 1);
		else
			rc = parse_line(path, lineno + 1, p, stop, kv, scratch, err);
		p = nl ? nl + 1 : end;
	}
	/* Values may be secrets. */
	memset(scratch, 0, len + 1);
	free(scratch);
	return rc;
}

nsc_rc nsc_config_envfile_read(const char *path, struct nsc_config_kv *kv, uint64_t *fingerprint,
			       struct nsc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	if (nsc_read_small_file(path, ENVFILE_MAX, &text, &len) != 0) {
		int e = errno;
		return nsc_error_set(err, e == ENOMEM ? NSC_ERR_NOMEM : NSC_ERR_CONFIG, "cannot read %s: %s", path,
				     e == EFBIG ? "larger than 256 KiB, not a settings file" : strerror(e));
	}
	if (fingerprint)
		*fingerprint = fingerprint_of(text, len);
	nsc_rc rc = nsc_config_envfile_parse(path, text, len, kv, err);
	memset(text, 0, len);
	free(text);
	return rc;
}
