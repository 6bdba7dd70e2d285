/* SPDX-License-Identifier: MIT */
/*
 * A batch: the Nightscout documents one fetch produced, per collection.
 * Documents are json-c objects shaped as Nightscout stores them; outputs map
 * them to their own form (BSON, REST bodies, JSON lines).
 *
 * nsc_batch_add() completes each document before it is stored, with the
 * union of what Nightscout's two create paths (API v1 and v3) store, so
 * readers of either API find it:
 * - every document: `identifier` (identity.h) when missing, `utcOffset`
 *   (0 unless given or taken from the time's own offset) and `app`
 *   (NSC_DOC_APP unless the document names one);
 * - entries: `sysTime` = `dateString` (UTC ISO of the time) as v1 does, and
 *   `created_at` (UTC ISO of `date`) as v3 does;
 * - treatments, devicestatus, profile: `created_at` as UTC ISO, as v1
 *   does, and `date` (epoch ms) as v3 does.
 * Nothing Nightscout computes when it reads (e.g. `subject`) is added.
 */
#ifndef NSC_SRC_BATCH_H
#define NSC_SRC_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "error.h"

/* The `app` of the documents nsconnect makes (API v3 requires one). */
#define NSC_DOC_APP "nsconnect"

enum nsc_collection {
	NSC_COLL_ENTRIES = 0,
	NSC_COLL_TREATMENTS,
	NSC_COLL_DEVICESTATUS,
	NSC_COLL_PROFILE,
};
#define NSC_COLL_COUNT 4

/* "entries", "treatments", "devicestatus", "profile". */
const char *nsc_collection_name(enum nsc_collection c);

struct nsc_batch {
	struct json_object *docs[NSC_COLL_COUNT]; /* json arrays, NULL until first add */
};

void nsc_batch_init(struct nsc_batch *b);
void nsc_batch_clear(struct nsc_batch *b); /* frees all documents, stays usable */

/*
 * Adds `doc` (ownership moves to the batch, also on failure). Rejects with
 * NSC_ERR_PARSE a document lacking its collection's time field (`date` for
 * entries, `created_at` for the others); err says which.
 */
nsc_rc nsc_batch_add(struct nsc_batch *b, enum nsc_collection c, struct json_object *doc,
		     struct nsc_error *err);

size_t nsc_batch_count(const struct nsc_batch *b, enum nsc_collection c);
size_t nsc_batch_total(const struct nsc_batch *b);
struct json_object *nsc_batch_get(const struct nsc_batch *b, enum nsc_collection c, size_t i);

/*
 * The instant of a document in ms: `date` when it is a number, else
 * `created_at` (or `dateString`) parsed as ISO. NSC_ERR_NOT_FOUND when none.
 */
nsc_rc nsc_doc_time_ms(struct json_object *doc, int64_t *out);

/* Newest document time per collection seen by an output (0 = nothing yet). */
struct nsc_last_known {
	int64_t ms[NSC_COLL_COUNT];
};

#endif
