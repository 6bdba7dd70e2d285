/* SPDX-License-Identifier: MIT */
/*
 * json-c -> BSON with js-bson's number rules (see bson_map.h). Keys and
 * strings that are not valid UTF-8 are repaired (each invalid byte becomes
 * U+FFFD) so the server never refuses a document for its encoding.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongo/bson_map.h"

#define REPLACEMENT_CHAR "\xEF\xBF\xBD"

bool nsc_mongo_append_number(bson_t *b, const char *key, double value)
{
	/* js-bson: int32 for safe integers in int32 range, except -0; double otherwise. */
	if (isfinite(value) && value == trunc(value) && value >= (double)INT32_MIN &&
	    value <= (double)INT32_MAX && !(value == 0.0 && signbit(value)))
		return bson_append_int32(b, key, -1, (int32_t)value);
	return bson_append_double(b, key, -1, value);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, UTF-16 surrogates and values beyond U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/*
 * `s` (n bytes) as valid UTF-8: *out is s itself when already valid, else a
 * malloc'd repaired copy stored in *owned (NUL-terminated, length *out_len).
 */
static nsc_rc utf8_repair(const char *s, size_t n, const char **out, size_t *out_len, char **owned)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t bad = 0;

	*owned = NULL;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len(u + i, n - i);
		if (l == 0) {
			bad++;
			i++;
		} else {
			i += l;
		}
	}
	if (bad == 0) {
		*out = s;
		*out_len = n;
		return NSC_OK;
	}
	if (bad > (SIZE_MAX - n - 1) / 2)
		return NSC_ERR_NOMEM;
	char *copy = malloc(n + bad * 2 + 1); /* each bad byte grows to 3 bytes */
	if (!copy)
		return NSC_ERR_NOMEM;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len(u + i, n - i);
		if (l == 0) {
			memcpy(copy + o, REPLACEMENT_CHAR, 3);
			o += 3;
			i++;
		} else {
			memcpy(copy + o, s + i, l);
			o += l;
			i += l;
		}
	}
	copy[o] = '\0';
	*owned = copy;
	*out = copy;
	*out_len = o;
	return NSC_OK;
}

static nsc_rc too_large(struct nsc_error *err)
{
	return nsc_error_set(err, NSC_ERR_RANGE, "document is too large for BSON");
}

static nsc_rc append_object(bson_t *b, struct json_object *obj, int depth, bool top,
			    struct nsc_error *err);

static nsc_rc append_array(bson_t *b, struct json_object *arr, int depth, struct nsc_error *err)
{
	size_t n = json_object_array_length(arr);
	char key[24];

	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%zu", i);
		nsc_rc rc = nsc_mongo_append_json(b, key, json_object_array_get_idx(arr, i), depth,
						  err);
		if (rc != NSC_OK)
			return rc;
	}
	return NSC_OK;
}

/* A JSON number as JavaScript holds it (a double). */
static double json_number(struct json_object *v)
{
	if (json_object_is_type(v, json_type_double))
		return json_object_get_double(v);
	int64_t i = json_object_get_int64(v);
	if (i == INT64_MAX) /* may be a larger unsigned value that saturated */
		return (double)json_object_get_uint64(v);
	return (double)i;
}

nsc_rc nsc_mongo_append_json(bson_t *b, const char *key, struct json_object *v, int depth,
			     struct nsc_error *err)
{
	const char *k;
	size_t klen;
	char *kowned;
	bool ok = true;
	nsc_rc rc = NSC_OK;

	if (utf8_repair(key, strlen(key), &k, &klen, &kowned) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory mapping a document key");

	switch (v ? json_object_get_type(v) : json_type_null) {
	case json_type_null:
		ok = bson_append_null(b, k, -1);
		break;
	case json_type_boolean:
		ok = bson_append_bool(b, k, -1, json_object_get_boolean(v) != 0);
		break;
	case json_type_int:
	case json_type_double:
		ok = nsc_mongo_append_number(b, k, json_number(v));
		break;
	case json_type_string: {
		const char *s;
		size_t slen;
		char *sowned;

		if (utf8_repair(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				&s, &slen, &sowned) != NSC_OK) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory mapping a string");
			break;
		}
		ok = slen <= INT32_MAX - 1 && bson_append_utf8(b, k, -1, s, (int)slen);
		free(sowned);
		break;
	}
	case json_type_object:
	case json_type_array: {
		bool is_array = json_object_is_type(v, json_type_array);
		bson_t child;

		if (depth + 1 >= NSC_MONGO_MAX_DEPTH) {
			rc = nsc_error_set(err, NSC_ERR_PARSE,
					   "document nests deeper than %d levels (field \"%.64s\")",
					   NSC_MONGO_MAX_DEPTH, k);
			break;
		}
		ok = is_array ? bson_append_array_begin(b, k, -1, &child)
			      : bson_append_document_begin(b, k, -1, &child);
		if (!ok)
			break;
		rc = is_array ? append_array(&child, v, depth + 1, err)
			      : append_object(&child, v, depth + 1, false, err);
		bool ended = is_array ? bson_append_array_end(b, &child)
				      : bson_append_document_end(b, &child);
		ok = ended;
		break;
	}
	}
	free(kowned);
	if (rc != NSC_OK)
		return rc;
	return ok ? NSC_OK : too_large(err);
}

/* Fields the writer owns: never copied from the incoming document. */
static bool skipped_top_key(const char *key)
{
	return strcmp(key, "_id") == 0 || strcmp(key, "srvModified") == 0 ||
	       strcmp(key, "srvCreated") == 0;
}

/* Top-level epoch-ms fields Nightscout always stores as double. */
static bool double_top_key(const char *key)
{
	return strcmp(key, "date") == 0 || strcmp(key, "mills") == 0;
}

static nsc_rc append_object(bson_t *b, struct json_object *obj, int depth, bool top,
			    struct nsc_error *err)
{
	json_object_object_foreach(obj, key, val)
	{
		nsc_rc rc;

		if (top && skipped_top_key(key))
			continue;
		if (top && double_top_key(key) &&
		    (json_object_is_type(val, json_type_int) ||
		     json_object_is_type(val, json_type_double))) {
			if (!bson_append_double(b, key, -1, json_number(val)))
				return too_large(err);
			continue;
		}
		rc = nsc_mongo_append_json(b, key, val, depth, err);
		if (rc != NSC_OK)
			return rc;
	}
	return NSC_OK;
}

nsc_rc nsc_mongo_append_doc_fields(bson_t *b, struct json_object *doc, struct nsc_error *err)
{
	if (!json_object_is_type(doc, json_type_object))
		return nsc_error_set(err, NSC_ERR_PARSE, "document is not a JSON object");
	return append_object(b, doc, 0, true, err);
}
