/* SPDX-License-Identifier: MIT */
/* json-c helpers for the HTTP transport and the REST outputs (see json_util.h). */
#include "config.h"

#include <ctype.h>
#include <math.h>

#include "http/json_util.h"

struct json_object *nsc_json_parse(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *doc;
	size_t used;

	if (!text || len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	tok = json_tokener_new_ex(NSC_JSON_MAX_DEPTH);
	if (!tok)
		return NULL;
	doc = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		/* Cut short (continue) or invalid: either way not a document. */
		json_object_put(doc);
		json_tokener_free(tok);
		return NULL;
	}
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; used < len; used++) {
		if (!isspace((unsigned char)text[used])) {
			json_object_put(doc);
			return NULL;
		}
	}
	return doc;
}

bool nsc_json_get_int64(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
		    d >= 9223372036854775808.0)
			return false;
		*out = (int64_t)d;
		return true;
	}
	return false;
}

const char *nsc_json_get_string(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}
