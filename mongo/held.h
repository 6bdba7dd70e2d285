/* SPDX-License-Identifier: MIT */
/*
 * What the database already holds for a chunk of documents about to be
 * written: one query per chunk finds the stored documents with the same
 * key, and keeps them (their _id, srvCreated, and content to skip writes
 * that would change nothing).
 *
 * Keys (strings):
 *   entries                  "e:" sysTime "\x1f" type       (Nightscout's upsert key)
 *   treatments/devicestatus/ "i:" identifier
 *   profile                  "l:" created_at ["\x1f" eventType | device]
 *                            for stored documents without identifier
 *                            (API v3's deduplication fallback, documents.h)
 *
 * The writer then skips held documents that would not change, addresses the
 * others by their _id (indexed on every server, and the only filter
 * FerretDB's SQLite backend does not answer by scanning the whole
 * collection), inserts documents nothing holds, and carries srvCreated over
 * into replacements.
 */
#ifndef NSC_MONGO_HELD_H
#define NSC_MONGO_HELD_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "batch.h"
#include "error.h"
#include "mongo/mongo_internal.h"

struct nsc_mongo_held_doc {
	bson_t *stored;     /* the stored document (owned) */
	bson_value_t id;    /* its _id */
	double srv_created; /* its srvCreated, else its created_at time, else now */
};

struct nsc_mongo_held {
	struct json_object *index; /* key -> position in items (NULL until first add) */
	struct nsc_mongo_held_doc *items;
	size_t count, cap;
};

void nsc_mongo_held_init(struct nsc_mongo_held *h);
void nsc_mongo_held_free(struct nsc_mongo_held *h);

/*
 * The keys of a document about to be written (malloc'd; the caller frees).
 * *primary is the entry key or "i:" identifier, *legacy the "l:" key; each
 * is NULL when the document lacks the fields. NSC_ERR_NOMEM on failure.
 */
nsc_rc nsc_mongo_doc_keys(enum nsc_collection c, struct json_object *doc, char **primary,
			  char **legacy);

/* The held document for key, or NULL. */
const struct nsc_mongo_held_doc *nsc_mongo_held_find(const struct nsc_mongo_held *h,
						     const char *key);

/* Queries what collection c holds for docs[0..n) and fills h (initialised by the caller). */
nsc_rc nsc_mongo_held_query(struct nsc_mongo *m, enum nsc_collection c,
			    struct json_object *const *docs, size_t n, int64_t now_ms,
			    struct nsc_mongo_held *h, struct nsc_error *err);

#endif
