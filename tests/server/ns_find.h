/* SPDX-License-Identifier: MIT */
/*
 * The `find[...]` filters of a v1 read, as Nightscout's lib/server/query.js
 * turns the query string (parsed by qs) into a MongoDB filter
 * (reference/nightscout.md §2.6), for the test Nightscout. Modelled forms:
 *
 *   find[field]=v                 equal
 *   find[field][$in][]=v ...      one of the values (the argument repeated)
 *   find[field][$gte|$gt|$lte|$lt]=v
 *
 * Values that read fully as numbers compare as numbers with numeric
 * fields, everything else compares as strings (so stored dates must be
 * UTC ISO strings, as Nightscout's are). Values of the read's date field
 * that are not numbers are rewritten as UTC ISO first, as query.js does.
 * A read with no condition on its date field (nor on `dateString` or
 * `_id`) gets query.js's implicit one: the date field at least 4 days
 * back from now. Any other find[] form is reported as not modelled.
 */
#ifndef NSC_TESTS_SERVER_NS_FIND_H
#define NSC_TESTS_SERVER_NS_FIND_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "server.h"

struct tsns_find;

/*
 * The filter of req's find[] arguments, NULL when it has none. date_field
 * is the collection's (query.js dateField); epoch says it holds epoch ms
 * (entries) rather than ISO strings. On a form not modelled, returns NULL
 * and says why in `problem` (otherwise left "").
 */
struct tsns_find *tsns_find_parse(const struct tsrv_request *req, const char *date_field,
				  bool epoch, long long now_ms, char *problem, size_t size);
bool tsns_find_match(const struct tsns_find *f, struct json_object *doc);
void tsns_find_free(struct tsns_find *f);

#endif
