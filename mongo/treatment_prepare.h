/* SPDX-License-Identifier: MIT */
/*
 * Nightscout's treatments prepareData() (lib/server/treatments.js,
 * reference/nightscout.md §2.2 and §1.6) on a copy of a batch document, so
 * a treatment written here is stored the way Nightscout would store it:
 *
 * - `eventTime`, when truthy, becomes `created_at` (UTC .SSSZ) and is removed;
 * - Number() coercion of glucose, targetTop, targetBottom, carbs, insulin,
 *   duration, percent, absolute, relative, preBolus;
 * - carbs, insulin, percent, relative, targetTop, targetBottom, preBolus are
 *   removed when 0 or NaN (absent stays absent); notes when falsy ("");
 *   duration and absolute only when NaN (0 is kept); glucose together with
 *   glucoseType and units when glucose is 0, NaN or absent;
 * - `isAnnouncement: true` for eventType "Announcement".
 *
 * `created_at` (UTC) and `utcOffset` were already completed by
 * nsc_batch_add(). Not done: Nightscout's preBolus split (carbs moved to a
 * second treatment preBolus minutes later); no source of ours sends
 * preBolus, so such a treatment keeps its carbs and its preBolus here.
 */
#ifndef NSC_MONGO_TREATMENT_PREPARE_H
#define NSC_MONGO_TREATMENT_PREPARE_H

#include <json-c/json.h>

#include "error.h"

/* JavaScript's Number(value) for a JSON value (NULL = null); NaN when not numeric. */
double nsc_js_number(struct json_object *v);

/*
 * A new document (caller puts it) holding `doc` as Nightscout would store
 * it. NSC_ERR_NOMEM on allocation failure, NSC_ERR_PARSE when doc is not an
 * object.
 */
nsc_rc nsc_mongo_prepare_treatment(struct json_object *doc, struct json_object **out,
				   struct nsc_error *err);

#endif
