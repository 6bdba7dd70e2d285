/* SPDX-License-Identifier: MIT */
/*
 * Nightscout's treatment normalisation (prepareData) and the JavaScript
 * Number() conversion it relies on. Pure JSON in, JSON out.
 */
#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mongo/treatment_prepare.h"
#include "timeutil.h"

/* Length of the JavaScript white space or line terminator at s, or 0. */
static size_t js_space_at(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		return 1;
	if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0) /* U+00A0 */
		return 2;
	if (n < 3)
		return 0;
	if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) /* U+FEFF */
		return 3;
	if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) /* U+1680 */
		return 3;
	if (s[0] == 0xE2 && s[1] == 0x80 &&
	    (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF) && s[2] >= 0x80)
		return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
	if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) /* U+205F */
		return 3;
	if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
		return 3;
	return 0;
}

/* Length of a JavaScript space ending exactly at s + n, or 0. */
static size_t js_space_before(const unsigned char *s, size_t n)
{
	for (size_t l = 1; l <= 3 && l <= n; l++) {
		if (js_space_at(s + n - l, l) == l)
			return l;
	}
	return 0;
}

static int digit_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* strtod in the "C" locale, whatever locale the host process set. */
static double strtod_c(const char *text)
{
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	double d;

	if (c == (locale_t)0)
		return strtod(text, NULL);
	locale_t old = uselocale(c);
	d = strtod(text, NULL);
	uselocale(old);
	freelocale(c);
	return d;
}

/* True when s[0..n) is a StrUnsignedDecimalLiteral without "Infinity". */
static bool is_decimal_literal(const char *s, size_t n)
{
	size_t i = 0, int_digits = 0, frac_digits = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9') {
		i++;
		int_digits++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			frac_digits++;
		}
	}
	if (int_digits + frac_digits == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp_digits = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			exp_digits++;
		}
		if (exp_digits == 0)
			return false;
	}
	return i == n;
}

/* JavaScript's StringToNumber. */
static double js_string_number(const char *text, size_t n)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t l;

	while (n > 0 && (l = js_space_at(u, n)) > 0) {
		u += l;
		n -= l;
	}
	while (n > 0 && (l = js_space_before(u, n)) > 0)
		n -= l;
	const char *s = (const char *)u;
	if (n == 0)
		return 0.0;

	if (n > 2 && s[0] == '0' && strchr("xXoObB", s[1]) != NULL) {
		int base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
		double v = 0.0;

		for (size_t i = 2; i < n; i++) {
			int d = digit_value(u[i]);
			if (d >= base)
				return NAN;
			v = v * base + d;
		}
		return v;
	}

	bool negative = false;
	if (s[0] == '+' || s[0] == '-') {
		negative = s[0] == '-';
		s++;
		n--;
	}
	if (n == 8 && memcmp(s, "Infinity", 8) == 0)
		return negative ? -INFINITY : INFINITY;
	if (!is_decimal_literal(s, n))
		return NAN;

	char *buf = malloc(n + 1);
	if (!buf)
		return NAN; /* cannot happen for sane sizes; treated as not a number */
	memcpy(buf, s, n);
	buf[n] = '\0';
	double v = strtod_c(buf);
	free(buf);
	return negative ? -v : v;
}

double nsc_js_number(struct json_object *v)
{
	if (v == NULL)
		return 0.0; /* Number(null) */
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0.0;
	case json_type_boolean:
		return json_object_get_boolean(v) ? 1.0 : 0.0;
	case json_type_double:
		return json_object_get_double(v);
	case json_type_int: {
		int64_t i = json_object_get_int64(v);
		if (i == INT64_MAX)
			return (double)json_object_get_uint64(v);
		return (double)i;
	}
	case json_type_string:
		return js_string_number(json_object_get_string(v),
					(size_t)json_object_get_string_len(v));
	case json_type_array: {
		/* Number(array) is Number(array.join(",")): only [] and [x] can be numbers. */
		size_t n = json_object_array_length(v);
		if (n == 0)
			return 0.0;
		if (n > 1)
			return NAN;
		struct json_object *x = json_object_array_get_idx(v, 0);
		if (x == NULL || json_object_is_type(x, json_type_null))
			return 0.0; /* String([null]) is "" */
		if (json_object_is_type(x, json_type_boolean) ||
		    json_object_is_type(x, json_type_object))
			return NAN; /* "true" / "[object Object]" */
		return nsc_js_number(x);
	}
	case json_type_object:
		return NAN;
	}
	return NAN;
}

/* JavaScript truthiness of a JSON value (absent counts as falsy). */
static bool js_truthy(struct json_object *v)
{
	if (v == NULL)
		return false;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		return json_object_get_boolean(v) != 0;
	case json_type_int:
	case json_type_double: {
		double d = nsc_js_number(v);
		return d != 0.0 && !isnan(d);
	}
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_object:
	case json_type_array:
		return true;
	}
	return false;
}

static nsc_rc set_number(struct json_object *doc, const char *key, double value)
{
	struct json_object *n = json_object_new_double(value);

	if (!n || json_object_object_add(doc, key, n) != 0) {
		json_object_put(n);
		return NSC_ERR_NOMEM;
	}
	return NSC_OK;
}

enum drop_rule {
	DROP_IF_EMPTY, /* 0 or NaN */
	DROP_IF_NAN,
};

/* Number()-coerces doc[key] when present and removes it per rule. */
static nsc_rc coerce(struct json_object *doc, const char *key, enum drop_rule rule)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, key, &v))
		return NSC_OK; /* Number(undefined) is NaN: removed either way */
	double n = nsc_js_number(v);
	if (isnan(n) || (rule == DROP_IF_EMPTY && n == 0.0)) {
		json_object_object_del(doc, key);
		return NSC_OK;
	}
	return set_number(doc, key, n);
}

/* `eventTime`, when truthy and a time, replaces created_at (new Date(eventTime).toISOString()). */
static nsc_rc apply_event_time(struct json_object *doc)
{
	struct json_object *v;
	int64_t ms;
	bool have = false;

	if (!json_object_object_get_ex(doc, "eventTime", &v))
		return NSC_OK;
	if (js_truthy(v)) {
		if (json_object_is_type(v, json_type_string)) {
			have = nsc_time_parse_iso(json_object_get_string(v), &ms, NULL) == NSC_OK;
		} else if (json_object_is_type(v, json_type_int) ||
			   json_object_is_type(v, json_type_double)) {
			double d = nsc_js_number(v);
			have = isfinite(d) && fabs(d) < 9.2e18;
			ms = have ? (int64_t)d : 0;
		}
	}
	json_object_object_del(doc, "eventTime");
	if (!have)
		return NSC_OK; /* unusable eventTime: the batch's created_at stands */

	char iso[NSC_ISO_BUF];
	if (nsc_time_format_iso(ms, iso, sizeof(iso)) != NSC_OK)
		return NSC_OK;
	struct json_object *s = json_object_new_string(iso);
	if (!s || json_object_object_add(doc, "created_at", s) != 0) {
		json_object_put(s);
		return NSC_ERR_NOMEM;
	}
	return NSC_OK;
}

nsc_rc nsc_mongo_prepare_treatment(struct json_object *doc, struct json_object **out,
				   struct nsc_error *err)
{
	static const char *const if_empty[] = { "targetTop", "targetBottom", "carbs", "insulin",
						"percent",   "relative",     "preBolus" };
	static const char *const if_nan[] = { "duration", "absolute" };
	struct json_object *copy = NULL, *v;
	nsc_rc rc = NSC_OK;

	*out = NULL;
	if (!json_object_is_type(doc, json_type_object))
		return nsc_error_set(err, NSC_ERR_PARSE, "treatments document is not a JSON object");
	if (json_object_deep_copy(doc, &copy, NULL) != 0 || copy == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory copying a treatment");

	rc = apply_event_time(copy);
	for (size_t i = 0; rc == NSC_OK && i < sizeof(if_empty) / sizeof(if_empty[0]); i++)
		rc = coerce(copy, if_empty[i], DROP_IF_EMPTY);
	for (size_t i = 0; rc == NSC_OK && i < sizeof(if_nan) / sizeof(if_nan[0]); i++)
		rc = coerce(copy, if_nan[i], DROP_IF_NAN);

	if (rc == NSC_OK) {
		/* glucose: removed with glucoseType and units when 0, NaN or absent. */
		double g = NAN;
		if (json_object_object_get_ex(copy, "glucose", &v))
			g = nsc_js_number(v);
		if (isnan(g) || g == 0.0) {
			json_object_object_del(copy, "glucose");
			json_object_object_del(copy, "glucoseType");
			json_object_object_del(copy, "units");
		} else {
			rc = set_number(copy, "glucose", g);
		}
	}
	if (rc == NSC_OK && json_object_object_get_ex(copy, "notes", &v) && !js_truthy(v))
		json_object_object_del(copy, "notes");
	if (rc == NSC_OK && json_object_object_get_ex(copy, "eventType", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "Announcement") == 0) {
		struct json_object *t = json_object_new_boolean(1);
		if (!t || json_object_object_add(copy, "isAnnouncement", t) != 0) {
			json_object_put(t);
			rc = NSC_ERR_NOMEM;
		}
	}
	if (rc != NSC_OK) {
		json_object_put(copy);
		return nsc_error_set(err, rc, "out of memory preparing a treatment");
	}
	*out = copy;
	return NSC_OK;
}
