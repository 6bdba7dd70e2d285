/* SPDX-License-Identifier: MIT */
/*
 * json-c values -> BSON, with the types Nightscout's Node driver (js-bson
 * 5.x) gives the same JavaScript values (reference/nightscout.md §1.4):
 *
 * - A number is int32 when its value is an integer within int32 (as JSON
 *   parsed by JavaScript: 20, 20.0 and 2e1 are all the number 20), else
 *   double (epoch milliseconds, fractions, big integers, -0).
 * - Top-level `date`, `mills`, `srvModified` and `srvCreated` are always
 *   double (epoch ms, as Nightscout stores them).
 * - Strings are UTF-8 strings (timestamps stay strings, never BSON Date);
 *   invalid UTF-8 becomes U+FFFD, as JavaScript's decoder would make it.
 * - true/false, null, nested objects and arrays map one to one.
 *
 * Pure: no server involved, unit-tested in tests/check_mongo_map.c.
 */
#ifndef NSC_MONGO_BSON_MAP_H
#define NSC_MONGO_BSON_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "error.h"
#include "mongo/mongoc_compat.h"

/* Deepest nesting mapped; MongoDB itself refuses documents nested deeper than 100. */
#define NSC_MONGO_MAX_DEPTH 100

/* Appends a JavaScript number: int32 when integral and in range (not -0), else double. */
bool nsc_mongo_append_number(bson_t *b, const char *key, double value);

/*
 * Appends the JSON value `v` (NULL = JSON null) under `key`. `depth` is the
 * nesting level of the document `b` (0 for a top-level document).
 * NSC_ERR_PARSE when the value nests too deep, NSC_ERR_RANGE when the BSON
 * would exceed its size limit, NSC_ERR_NOMEM on allocation failure.
 */
nsc_rc nsc_mongo_append_json(bson_t *b, const char *key, struct json_object *v, int depth,
			     struct nsc_error *err);

/*
 * Appends every field of the JSON object `doc` to `b`, in order, except
 * `_id` (left to the server) and `srvModified`/`srvCreated` (the writer
 * sets its own). Top-level `date` and `mills` numbers become doubles.
 */
nsc_rc nsc_mongo_append_doc_fields(bson_t *b, struct json_object *doc, struct nsc_error *err);

#endif
