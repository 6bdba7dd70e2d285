/* SPDX-License-Identifier: MIT */
/*
 * json-c helpers shared by the sources and the REST outputs: parse a whole
 * body strictly, add a member reporting allocation failure, read a member
 * of a given type without guessing. json-c's own getters turn a missing or
 * mistyped member into 0 or "", which would silently become a reading of
 * 0 mg/dL; these say false or NULL.
 */
#ifndef NSC_SRC_JSONUTIL_H
#define NSC_SRC_JSONUTIL_H

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

/* nsc_json_parse() that also says why in `why` (plain words, "" on success). */
struct json_object *nsc_json_parse_why(const char *text, size_t len, char *why, size_t size);

/* obj[key] as an integral number (int, or a double with no fraction). */
bool nsc_json_get_int64(struct json_object *obj, const char *key, int64_t *out);

/* obj[key] as a string, NULL when absent or not a string. */
const char *nsc_json_get_string(struct json_object *obj, const char *key);

/* obj[key] as an int or double with a finite value. */
bool nsc_json_get_number(struct json_object *obj, const char *key, double *out);

/* obj[key] as a boolean. */
bool nsc_json_get_bool(struct json_object *obj, const char *key, bool *out);

/*
 * A double written with the fewest digits that read back as the same value
 * (0.95, not json-c's 0.94999999999999996), as JavaScript writes it; NULL
 * when memory ran out.
 */
struct json_object *nsc_json_new_double(double v);

/* Each returns 0, or -1 when memory ran out (obj is left without the key). */
int nsc_json_add_int64(struct json_object *obj, const char *key, int64_t v);
int nsc_json_add_double(struct json_object *obj, const char *key, double v);
int nsc_json_add_string(struct json_object *obj, const char *key, const char *v);
int nsc_json_add_bool(struct json_object *obj, const char *key, bool v);
/* Adds child (an object or array) as obj[key]; ownership moves (freed on failure); -1 for a NULL child. */
int nsc_json_add_child(struct json_object *obj, const char *key, struct json_object *child);

/* Appends item to arr (ownership moves; freed on failure). -1 when item is NULL or on failure. */
int nsc_json_push(struct json_object *arr, struct json_object *item);

#endif
