/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB operations for one batch document, as BSON (pure: no server).
 * writes.c addresses documents it found stored by their _id and inserts
 * new ones; the key filters below are what it sends when the server itself
 * must match (a key seen twice in one chunk, a document without key), and
 * the keys held.c looks documents up by.
 *
 * entries (Nightscout's entries.create, reference/nightscout.md §2.1):
 *   updateOne({sysTime, type}, {$set: doc + srvModified,
 *              $setOnInsert: {srvCreated}}, {upsert: true})
 *   so a reading Nightscout itself stored (same sysTime and type, without
 *   identifier) is updated in place, never duplicated, and srvCreated is
 *   set only when the document is new. A document without `type` is keyed
 *   on its identifier instead (Nightscout would use the whole document).
 *
 * treatments, devicestatus, profile:
 *   replaceOne(filter, doc + srvModified + srvCreated, {upsert: true})
 *   with filter {identifier} or, so that a document stored earlier without
 *   identifier (by Nightscout's v1 API or the Node nightscout-connect) is
 *   replaced rather than duplicated, API v3's deduplication fallback
 *   (§5.4): {$or: [{identifier}, {identifier: {$exists: false},
 *   created_at, <field>}]} with <field> eventType (treatments), device
 *   (devicestatus) or none (profile). A treatment without identifier uses
 *   Nightscout's own key {created_at, eventType}.
 *   The caller passes srvCreated (kept from the stored document, see
 *   writes.c), since a replacement cannot use $setOnInsert.
 */
#ifndef NSC_MONGO_DOCUMENTS_H
#define NSC_MONGO_DOCUMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "batch.h"
#include "error.h"
#include "mongo/mongoc_compat.h"

/*
 * Fills `filter` and `update` (initialised by the caller) for an entries
 * document. NSC_ERR_PARSE when the document has neither sysTime+type nor
 * identifier.
 */
nsc_rc nsc_mongo_entry_update(struct json_object *doc, int64_t now_ms, bson_t *filter,
			      bson_t *update, struct nsc_error *err);

/* The API v3 fallback field besides created_at (NULL for profile and entries). */
const char *nsc_mongo_fallback_field(enum nsc_collection c);

/* Fills `filter` (initialised by the caller) for a replaced document of collection c. */
nsc_rc nsc_mongo_replace_filter(enum nsc_collection c, struct json_object *doc, bson_t *filter,
				struct nsc_error *err);

/* Fills `out`: the document's fields, then srvModified = now_ms and srvCreated (doubles). */
nsc_rc nsc_mongo_replacement(struct json_object *doc, int64_t now_ms, double srv_created,
			     bson_t *out, struct nsc_error *err);

/*
 * Whether writing would change nothing but srvModified: for entries,
 * `update` is nsc_mongo_entry_update()'s and every $set field is already in
 * `stored` with the same BSON type and value; for the other collections,
 * `replacement` is nsc_mongo_replacement()'s and `stored` holds exactly its
 * fields (besides _id and srvModified) with the same types and values. Such
 * writes are skipped, so API v3 clients are not told about modifications
 * that did not happen (Nightscout's v1 API does not touch srvModified on a
 * re-post either).
 */
bool nsc_mongo_unchanged(enum nsc_collection c, const bson_t *write_doc, const bson_t *stored);

/* doc[key] when it is a non-empty string, else NULL. */
const char *nsc_mongo_doc_string(struct json_object *doc, const char *key);

#endif
