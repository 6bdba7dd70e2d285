/* SPDX-License-Identifier: MIT */
/* The CareLink token file: load, keep what we do not know, save atomically (see token_file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "jsonutil.h"
#include "secret.h"
#include "atomic_file.h"
#include "sources/kit/json_secret.h"
#include "sources/kit/token_file.h"

#define EXPECTED                                                                                   \
	"expected the JSON file carelink-python-client writes after a login (logindata.json), with " \
	"access_token, refresh_token, client_id and token_url"

static const char *const required[] = { "access_token", "refresh_token", "client_id", "token_url" };

void nsc_token_file_init(struct nsc_token_file *tf)
{
	memset(tf, 0, sizeof(*tf));
}

void nsc_token_file_fini(struct nsc_token_file *tf)
{
	/* Members we keep unread may be secrets too (a client secret). */
	nsc_json_secret_put(tf->doc);
	free(tf->path);
	nsc_token_file_init(tf);
}

/* The whole file into *text (wiped and freed by the caller); NSC_ERR_CONFIG in words. */
static nsc_rc read_text(const char *path, char **text, size_t *len, struct nsc_error *err)
{
	*text = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nsc_error_set(err, NSC_ERR_CONFIG, NSC_TOKEN_FILE_SETTING "=\"%s\" cannot be read: %s; " EXPECTED,
				     path, strerror(errno));
	/* One buffer of the largest size: growing it would leave copies of the tokens behind. */
	char *buf = malloc(NSC_TOKEN_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading " NSC_TOKEN_FILE_SETTING);
	}
	size_t n = 0;
	int e = 0;
	while (n <= NSC_TOKEN_FILE_MAX) {
		ssize_t r = read(fd, buf + n, NSC_TOKEN_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			e = errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	nsc_rc rc = NSC_OK;
	if (e != 0)
		rc = nsc_error_set(err, NSC_ERR_CONFIG, NSC_TOKEN_FILE_SETTING "=\"%s\" cannot be read: %s; " EXPECTED,
				   path, strerror(e));
	else if (n > NSC_TOKEN_FILE_MAX)
		rc = nsc_error_set(err, NSC_ERR_CONFIG,
				   NSC_TOKEN_FILE_SETTING "=\"%s\" is larger than %d bytes; " EXPECTED, path,
				   NSC_TOKEN_FILE_MAX);
	if (rc != NSC_OK) {
		nsc_secret_wipe(buf, n);
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return NSC_OK;
}

/* The document, checked: an object with every required member a non-empty string. */
static nsc_rc parse_doc(const char *path, const char *text, size_t len, struct json_object **doc,
			struct nsc_error *err)
{
	char why[128];
	*doc = nsc_json_parse_why(text, len, why, sizeof(why));
	if (*doc == NULL)
		return nsc_error_set(err, NSC_ERR_CONFIG, NSC_TOKEN_FILE_SETTING "=\"%s\" is not JSON (%s); " EXPECTED,
				     path, why);
	if (!json_object_is_type(*doc, json_type_object)) {
		nsc_json_secret_put(*doc);
		*doc = NULL;
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     NSC_TOKEN_FILE_SETTING "=\"%s\" is not a JSON object; " EXPECTED, path);
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *v = nsc_json_get_string(*doc, required[i]);
		if (v == NULL || v[0] == '\0') {
			nsc_json_secret_put(*doc);
			*doc = NULL;
			return nsc_error_set(err, NSC_ERR_CONFIG,
					     NSC_TOKEN_FILE_SETTING "=\"%s\" has no \"%s\" text; " EXPECTED, path,
					     required[i]);
		}
	}
	return NSC_OK;
}

/*
 * Wipes a member load checked was there and leaves JSON null in its place,
 * keeping its position; replacing a member allocates nothing, so cannot fail.
 */
static void take_out(struct json_object *doc, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(doc, key, &v))
		return;
	nsc_json_secret_wipe(v);
	(void)json_object_object_add(doc, key, NULL); /* replaces in place: cannot fail */
}

nsc_rc nsc_token_file_load(struct nsc_token_file *tf, const char *path, struct nsc_bearer *tokens,
			   struct nsc_error *err)
{
	char *text;
	size_t len;
	struct json_object *doc;
	nsc_rc rc = read_text(path, &text, &len, err);
	if (rc != NSC_OK)
		return rc;
	rc = parse_doc(path, text, len, &doc, err);
	nsc_secret_wipe(text, len);
	free(text);
	if (rc != NSC_OK)
		return rc;
	char *path_copy = strdup(path);
	if (path_copy == NULL) {
		nsc_json_secret_put(doc);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading " NSC_TOKEN_FILE_SETTING);
	}
	rc = nsc_bearer_set(tokens, nsc_json_get_string(doc, "access_token"),
			    nsc_json_get_string(doc, "refresh_token"));
	if (rc != NSC_OK) {
		free(path_copy);
		nsc_json_secret_put(doc);
		return nsc_error_set(err, rc, "out of memory keeping the tokens of " NSC_TOKEN_FILE_SETTING);
	}
	take_out(doc, "access_token");
	take_out(doc, "refresh_token");
	nsc_token_file_fini(tf);
	tf->path = path_copy;
	tf->doc = doc;
	tf->client_id = nsc_json_get_string(doc, "client_id");
	tf->token_url = nsc_json_get_string(doc, "token_url");
	tf->audience = nsc_json_get_string(doc, "audience");
	tf->scope = nsc_json_get_string(doc, "scope");
	return NSC_OK;
}

/* The document to write: tf's members in their order, the two tokens from *tokens. */
static struct json_object *document(const struct nsc_token_file *tf, const struct nsc_bearer *tokens)
{
	struct json_object *out = json_object_new_object();
	if (out == NULL)
		return NULL;
	json_object_object_foreach(tf->doc, key, val)
	{
		const char *token = NULL;
		if (strcmp(key, "access_token") == 0)
			token = nsc_secret_slot_get(&tokens->access);
		else if (strcmp(key, "refresh_token") == 0)
			token = nsc_secret_slot_get(&tokens->refresh);
		/* Other members are shared with tf->doc, not copied. */
		struct json_object *v = token ? json_object_new_string(token) : json_object_get(val);
		if ((token != NULL && v == NULL) || json_object_object_add(out, key, v) != 0) {
			json_object_put(v);
			json_object_put(out);
			return NULL;
		}
	}
	return out;
}

/* Drops a document made by document(): its tokens wiped, the members it shares left alone. */
static void drop_document(struct json_object *out)
{
	struct json_object *v = NULL;
	if (json_object_object_get_ex(out, "access_token", &v))
		nsc_json_secret_wipe(v);
	if (json_object_object_get_ex(out, "refresh_token", &v))
		nsc_json_secret_wipe(v);
	json_object_put(out);
}

nsc_rc nsc_token_file_save(const struct nsc_token_file *tf, const struct nsc_bearer *tokens,
			   struct nsc_error *err)
{
	if (tf->doc == NULL || !nsc_secret_slot_held(&tokens->access) || !nsc_secret_slot_held(&tokens->refresh))
		return nsc_error_set(err, NSC_ERR_STATE, "saving " NSC_TOKEN_FILE_SETTING " without %s",
				     tf->doc == NULL ? "loading it first" : "both tokens");
	struct json_object *out = document(tf, tokens);
	size_t len = 0;
	const char *text = out ? json_object_to_json_string_length(
					 out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len)
			       : NULL;
	if (text == NULL) {
		drop_document(out);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory saving " NSC_TOKEN_FILE_SETTING);
	}
	const char *step = "write";
	int rc = nsc_atomic_file_write(tf->path, text, len, &step);
	int e = errno;
	/* The text is the object's own buffer, freed with it. */
	nsc_secret_wipe((char *)text, len);
	drop_document(out);
	if (rc == 0)
		return NSC_OK;
	return nsc_error_set(err, nsc_path_errno_rc(e),
			     "cannot %s " NSC_TOKEN_FILE_SETTING "=\"%s\": %s; the new tokens are only in memory "
			     "until it can be written, so a restart would need a new login",
			     step, tf->path, strerror(e));
}
