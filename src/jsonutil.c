/* SPDX-License-Identifier: MIT */
/* json-c helpers (see jsonutil.h). */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"

struct json_object *nsc_json_parse_why(const char *text, size_t len, char *why, size_t size)
{
	struct json_tokener *tok;
	struct json_object *doc;
	enum json_tokener_error jerr;
	size_t used;

	if (why && size)
		why[0] = '\0';
	if (!text || len == 0 || len > (size_t)INT32_MAX) {
		if (why && size)
			snprintf(why, size, "%s", !text || len == 0 ? "empty" : "too large");
		return NULL;
	}
	tok = json_tokener_new_ex(NSC_JSON_MAX_DEPTH);
	if (!tok) {
		if (why && size)
			snprintf(why, size, "out of memory");
		return NULL;
	}
	doc = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr != json_tokener_success) {
		/* Cut short (continue) or invalid: either way not a document. */
		if (why && size)
			snprintf(why, size, "%s", jerr == json_tokener_continue ? "unexpected end of input"
										 : json_tokener_error_desc(jerr));
		json_object_put(doc);
		json_tokener_free(tok);
		return NULL;
	}
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (size_t at = used; at < len; at++) {
		if (!isspace((unsigned char)text[at])) {
			if (why && size)
				snprintf(why, size, "trailing data at byte %zu", used);
			json_object_put(doc);
			return NULL;
		}
	}
	return doc;
}

struct json_object *nsc_json_parse(const char *text, size_t len)
{
	return nsc_json_parse_why(text, len, NULL, 0);
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

bool nsc_json_get_number(struct json_object *obj, const char *key, double *out)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v))
		return false;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return false;
	*out = json_object_get_double(v);
	return isfinite(*out);
}

bool nsc_json_get_bool(struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

static int add_member(struct json_object *obj, const char *key, struct json_object *v)
{
	if (!v)
		return -1;
	if (json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int nsc_json_add_int64(struct json_object *obj, const char *key, int64_t v)
{
	return add_member(obj, key, json_object_new_int64(v));
}

struct json_object *nsc_json_new_double(double v)
{
	char text[40];
	int prec = 1;

	if (!isfinite(v))
		return json_object_new_double(v);
	for (; prec < 17; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, v);
		if (strtod(text, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(text, sizeof(text), "%.17g", v);
	/* Still a JSON fraction when integral, as json-c writes it: 177 as 177.0. */
	if (strpbrk(text, ".e") == NULL)
		strcat(text, ".0");
	return json_object_new_double_s(v, text);
}

int nsc_json_add_double(struct json_object *obj, const char *key, double v)
{
	return add_member(obj, key, nsc_json_new_double(v));
}

int nsc_json_add_string(struct json_object *obj, const char *key, const char *v)
{
	return add_member(obj, key, json_object_new_string(v));
}

int nsc_json_add_bool(struct json_object *obj, const char *key, bool v)
{
	return add_member(obj, key, json_object_new_boolean(v));
}

int nsc_json_add_child(struct json_object *obj, const char *key, struct json_object *child)
{
	return add_member(obj, key, child);
}

int nsc_json_push(struct json_object *arr, struct json_object *item)
{
	if (!item)
		return -1;
	if (json_object_array_add(arr, item) != 0) {
		json_object_put(item);
		return -1;
	}
	return 0;
}
