/* SPDX-License-Identifier: MIT */
/* The lockout guard on disk (see login_hold.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "atomic_file.h"
#include "engine/login_hold.h"
#include "fileio.h"
#include "jsonutil.h"
#include "sources/registry.h"

/* A hold is a few hundred bytes; anything far larger is not ours. */
#define HOLD_MAX_BYTES 8192

char *nsc_login_hold_path(const struct nsc_config *cfg, const char *source_name)
{
	if (cfg == NULL || cfg->spool_dir == NULL || cfg->spool_dir[0] == '\0' || source_name == NULL)
		return NULL;
	size_t n = strlen(cfg->spool_dir) + strlen(source_name) + sizeof("/login-hold-.json");
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/login-hold-%s.json", cfg->spool_dir, source_name);
	return p;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 of the salt and every setting of the configured source, as hex; false on failure. */
static bool settings_digest(const char *salt, const struct nsc_config *cfg, char out[NSC_LOGIN_HOLD_DIGEST_HEX])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return false;
	const char *source = cfg->source ? cfg->source->name : "";
	bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(ctx, salt, strlen(salt) + 1) == 1 &&
		  EVP_DigestUpdate(ctx, source, strlen(source) + 1) == 1;
	size_t rows = cfg->source && cfg->source->n_rows ? *cfg->source->n_rows : 0;
	for (size_t i = 0; ok && i < rows; i++) {
		const struct nsc_setting *s = &cfg->source->rows[i];
		if (s->store != NSC_STORE_STRING)
			continue;
		const char *v = *(char *const *)(const void *)((const char *)cfg + s->offset);
		/* An unset value and an empty one differ: "\1" cannot be a value's first byte here. */
		const char *text = v ? v : "\1";
		ok = EVP_DigestUpdate(ctx, s->name, strlen(s->name) + 1) == 1 &&
		     EVP_DigestUpdate(ctx, text, strlen(text) + 1) == 1;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 32;
	EVP_MD_CTX_free(ctx);
	if (ok)
		to_hex(md, 32, out);
	return ok;
}

bool nsc_login_hold_matches(const struct nsc_login_hold *h, const struct nsc_config *cfg)
{
	char now[NSC_LOGIN_HOLD_DIGEST_HEX];
	return h->salt[0] != '\0' && settings_digest(h->salt, cfg, now) && strcmp(now, h->digest) == 0;
}

static bool copy_field(struct json_object *o, const char *key, char *out, size_t size)
{
	const char *v = nsc_json_get_string(o, key);
	if (v == NULL || strlen(v) >= size)
		return false;
	memcpy(out, v, strlen(v) + 1);
	return true;
}

nsc_rc nsc_login_hold_load(const char *path, struct nsc_login_hold *h, struct nsc_error *err)
{
	memset(h, 0, sizeof(*h));
	char *text = NULL;
	size_t len = 0;
	if (nsc_read_small_file(path, HOLD_MAX_BYTES, &text, &len) != 0) {
		if (errno == ENOENT)
			return nsc_error_set(err, NSC_ERR_NOT_FOUND, "no login hold at %s", path);
		return nsc_error_set(err, NSC_ERR_PARSE, "cannot read %s (%s)", path, strerror(errno));
	}
	struct json_object *o = nsc_json_parse(text, len);
	free(text);
	int64_t rejections = 0;
	bool ok = o != NULL && json_object_is_type(o, json_type_object) &&
		  nsc_json_get_int64(o, "rejected_at", &h->rejected_at_ms) &&
		  nsc_json_get_int64(o, "until", &h->until_ms) &&
		  nsc_json_get_int64(o, "rejections", &rejections) && rejections >= 0 &&
		  rejections <= 1000000 && copy_field(o, "message", h->message, sizeof(h->message)) &&
		  copy_field(o, "salt", h->salt, sizeof(h->salt)) &&
		  copy_field(o, "settings_digest", h->digest, sizeof(h->digest));
	json_object_put(o);
	if (!ok) {
		memset(h, 0, sizeof(*h));
		return nsc_error_set(err, NSC_ERR_PARSE, "%s is not a login hold written by nsconnect", path);
	}
	h->rejections = (unsigned)rejections;
	return NSC_OK;
}

nsc_rc nsc_login_hold_save(const char *path, struct nsc_login_hold *h, const struct nsc_config *cfg,
			   struct nsc_error *err)
{
	if (h->salt[0] == '\0') {
		unsigned char raw[16];
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return nsc_error_set(err, NSC_ERR_INTERNAL, "no random bytes for the login hold's salt");
		to_hex(raw, sizeof(raw), h->salt);
	}
	if (!settings_digest(h->salt, cfg, h->digest))
		return nsc_error_set(err, NSC_ERR_INTERNAL, "cannot digest the settings for the login hold");
	struct json_object *o = json_object_new_object();
	bool built = o != NULL && nsc_json_add_int64(o, "rejected_at", h->rejected_at_ms) == 0 &&
		     nsc_json_add_int64(o, "until", h->until_ms) == 0 &&
		     nsc_json_add_int64(o, "rejections", h->rejections) == 0 &&
		     nsc_json_add_string(o, "message", h->message) == 0 &&
		     nsc_json_add_string(o, "salt", h->salt) == 0 &&
		     nsc_json_add_string(o, "settings_digest", h->digest) == 0;
	size_t len = 0;
	const char *text = built ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len) : NULL;
	if (text == NULL) {
		json_object_put(o);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory writing the login hold");
	}
	const char *step = "create the directory of";
	int rc = nsc_make_parent_dir(path);
	if (rc == 0)
		rc = nsc_atomic_file_write(path, text, len, &step);
	int e = errno;
	json_object_put(o);
	if (rc != 0)
		return nsc_error_set(err, nsc_path_errno_rc(e), "cannot %s %s (%s)", step, path, strerror(e));
	return NSC_OK;
}

nsc_rc nsc_login_hold_clear(const char *path, struct nsc_error *err)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return nsc_error_set(err, nsc_path_errno_rc(errno), "cannot remove %s (%s)", path, strerror(errno));
	return NSC_OK;
}
