/* SPDX-License-Identifier: MIT */
/* json-c helpers for the HTTP transport and the REST outputs. */
#ifndef NSC_HTTP_JSON_UTIL_H
#define NSC_HTTP_JSON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* How documents go on the wire: compact, slashes unescaped. */
#define NSC_JSON_WIRE (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define NSC_JSON_MAX_DEPTH 64

/*
 * Parses exactly text[0, len) as one JSON value (trailing white space
 * allowed). NULL when it is not valid JSON, is cut short, or on allocation
 * failure.
 */
struct json_object *nsc_json_parse(const char *text, size_t len);

/* obj[key] as an integral number (int, or a double with no fraction). */
bool nsc_json_get_int64(struct json_object *obj, const char *key, int64_t *out);

/* obj[key] as a string, NULL when absent or not a string. */
const char *nsc_json_get_string(struct json_object *obj, const char *key);

#endif
