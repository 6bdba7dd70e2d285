/* SPDX-License-Identifier: MIT */
/*
 * Writing one collection of a batch, in chunks of up to NSC_MONGO_WRITE_CHUNK
 * documents. Per chunk, one query finds what the database already holds
 * under each document's key (held.h: entries {sysTime, type} as in
 * Nightscout's upsert; other collections the identifier, or API v3's
 * fallback for documents stored without one), then one ordered bulk
 * operation (as Nightscout's bulkWrite(ordered: true)) does per document:
 *
 * - a stored document of the same key that already has this content:
 *   nothing (documents.h nsc_mongo_unchanged: srvModified stays, so API v3
 *   clients do not download it again); counted as a duplicate;
 * - a stored document of the same key otherwise: addressed by its _id, with upsert;
 *   entries updateOne({$set: doc + srvModified, $setOnInsert: {srvCreated}})
 *   so fields Nightscout stored stay; treatments (after Nightscout's
 *   prepareData, treatment_prepare.h), devicestatus and profile
 *   replaceOne(doc + srvModified + the stored srvCreated; for a document
 *   without one, its created_at time, which is what API v3 reported);
 * - nothing stored: insert doc + srvModified + srvCreated (now); the driver
 *   assigns the ObjectId _id, as the Node driver does for insertMany;
 * - a second document of the same key in the chunk, or one without a key:
 *   the upsert with the key filter itself (documents.h), so the server
 *   matches the first.
 *
 * Addressing stored documents by _id keeps a write proportional to the
 * chunk on every server: FerretDB's SQLite backend answers only {_id}
 * filters without reading the whole collection, so key-filter upserts
 * would make a backfill quadratic there. As with Nightscout's own upserts
 * (there is no unique index), a document another writer stores between the
 * query and the bulk write (one round trip) can end up twice.
 *
 * Counts come from the bulk reply: nInserted + nUpserted new documents are
 * "stored", nMatched existing ones are "duplicates". A document the mapping
 * refuses, or one over MongoDB's 16 MiB limit (the driver would fail the
 * whole bulk for it), is skipped and the rest written; a document the
 * server refuses stops its ordered chunk there and the next chunk goes on.
 * The collection then reports NSC_ERR_DROP with the first refusal, so the
 * batch is set aside for inspection without holding back good documents.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongo/documents.h"
#include "mongo/held.h"
#include "mongo/mongo_internal.h"
#include "mongo/treatment_prepare.h"

/* MongoDB's document size limit (maxBsonObjectSize, the same on every version). */
#define MAX_DOC_BYTES (16u * 1024u * 1024u)
/*
 * Updates and replacements sent in one command at most. FerretDB 1.24
 * (SQLite) keeps a database connection per matched update until the whole
 * command ends and has 100: more matched updates in one command never
 * finish. A bulk is run and a new one started after this many.
 */
#define UPDATES_PER_COMMAND 50

/* A chunk's outcome besides the counts: the first document-level refusal. */
struct chunk_state {
	size_t refused;
	struct nsc_error first;
};

static void note_refused(struct chunk_state *st, const char *msg)
{
	if (st->refused++ == 0)
		nsc_error_set(&st->first, NSC_ERR_DROP, "%s", msg);
}

static bool append_upsert_opts(bson_t *opts)
{
	return BSON_APPEND_BOOL(opts, "upsert", true) &&
	       /* Like the Node driver (checkKeys off): the server judges field names. */
	       BSON_APPEND_BOOL(opts, "validate", false);
}

static size_t reply_count(const bson_t *reply, const char *key)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, reply, key) && BSON_ITER_HOLDS_NUMBER(&it)) {
		int64_t n = bson_iter_as_int64(&it);
		return n > 0 ? (size_t)n : 0;
	}
	return 0;
}

/* Runs a bulk of `ops` operations and adds its counts to res. */
static nsc_rc execute_bulk(struct nsc_mongo *m, enum nsc_collection c, mongoc_bulk_operation_t *bulk,
			   size_t ops, struct nsc_write_result *res, struct nsc_error *err)
{
	bson_t reply;
	bson_error_t error;
	nsc_rc rc = NSC_OK;

	if (ops == 0)
		return NSC_OK;
	uint32_t ok = mongoc_bulk_operation_execute(bulk, &reply, &error);
	res->stored[c] += reply_count(&reply, "nUpserted") + reply_count(&reply, "nInserted");
	res->duplicates[c] += reply_count(&reply, "nMatched");
	if (!ok) {
		char what[96];
		snprintf(what, sizeof(what), "writing %.64s", m->coll_names[c]);
		rc = nsc_mongo_fail(m, what, &error, &reply, err);
	} else {
		nsc_mongo_succeeded(m);
	}
	bson_destroy(&reply);
	return rc;
}

static mongoc_bulk_operation_t *new_bulk(struct nsc_mongo *m, enum nsc_collection c)
{
	bson_t opts = BSON_INITIALIZER;
	mongoc_bulk_operation_t *bulk = NULL;

	if (BSON_APPEND_BOOL(&opts, "ordered", true))
		bulk = mongoc_collection_create_bulk_operation_with_opts(m->coll[c], &opts);
	bson_destroy(&opts);
	return bulk;
}

/* ---- one chunk ------------------------------------------------------- */

/* The operation for a document nothing holds yet: insert it (the driver adds the _id). */
static bool add_insert(mongoc_bulk_operation_t *bulk, const bson_t *doc, const bson_t *opts,
		       bson_error_t *error)
{
	return mongoc_bulk_operation_insert_with_opts(bulk, doc, opts, error);
}

/* {_id: id} */
static bool id_filter(bson_t *filter, const bson_value_t *id)
{
	return BSON_APPEND_VALUE(filter, "_id", id);
}

enum queued {
	QUEUED_NONE,   /* refused: nothing added */
	QUEUED_SAME,   /* the stored document already is this: nothing to write */
	QUEUED_INSERT,
	QUEUED_UPDATE, /* an update or replacement */
};

/*
 * Adds the operation for one document to the bulk. `held` is what the
 * database holds under the document's key (NULL for nothing), `fresh`
 * whether the document is the first of its key in this chunk.
 */
static nsc_rc add_document(enum nsc_collection c, mongoc_bulk_operation_t *bulk,
			   struct json_object *doc, const struct nsc_mongo_held_doc *held,
			   bool fresh, int64_t now_ms, const bson_t *upsert_opts,
			   const bson_t *insert_opts, struct chunk_state *cs, enum queued *added,
			   struct nsc_error *err)
{
	bson_t filter = BSON_INITIALIZER, body = BSON_INITIALIZER;
	struct nsc_error derr = { 0 };
	bson_error_t error;
	bool ok = false;
	nsc_rc rc;

	*added = QUEUED_NONE;
	if (c == NSC_COLL_ENTRIES && (held || !fresh)) {
		/* $set into the stored reading, as Nightscout does; srvCreated only if new. */
		bson_t key_filter = BSON_INITIALIZER;
		rc = nsc_mongo_entry_update(doc, now_ms, &key_filter, &body, &derr);
		if (rc == NSC_OK && held)
			ok = id_filter(&filter, &held->id);
		else if (rc == NSC_OK)
			ok = bson_concat(&filter, &key_filter);
		bson_destroy(&key_filter);
	} else {
		/* A whole document: a new entry, or a replacement carrying srvCreated over. */
		rc = nsc_mongo_replacement(doc, now_ms, held ? held->srv_created : (double)now_ms,
					   &body, &derr);
		if (rc == NSC_OK && held)
			ok = id_filter(&filter, &held->id);
		else if (rc == NSC_OK && !fresh)
			ok = (rc = nsc_mongo_replace_filter(c, doc, &filter, &derr)) == NSC_OK;
		else if (rc == NSC_OK)
			ok = true; /* inserted: no filter */
	}
	if (rc == NSC_OK && !ok)
		rc = nsc_error_set(&derr, NSC_ERR_RANGE, "document is too large for BSON");

	if (rc == NSC_ERR_NOMEM) {
		nsc_error_set(err, rc, "%s", derr.msg);
	} else if (rc != NSC_OK) {
		note_refused(cs, derr.msg);
		rc = NSC_OK;
	} else if (body.len > MAX_DOC_BYTES) {
		/* Refused here: the driver would fail the whole bulk, good documents too. */
		note_refused(cs, "larger than MongoDB's 16 MiB limit");
	} else if (held && nsc_mongo_unchanged(c, &body, held->stored)) {
		*added = QUEUED_SAME;
	} else {
		bool queued;
		if (c == NSC_COLL_ENTRIES && (held || !fresh))
			queued = mongoc_bulk_operation_update_one_with_opts(bulk, &filter, &body,
									    upsert_opts, &error);
		else if (held || !fresh)
			queued = mongoc_bulk_operation_replace_one_with_opts(bulk, &filter, &body,
									     upsert_opts, &error);
		else
			queued = add_insert(bulk, &body, insert_opts, &error);
		if (!queued)
			note_refused(cs, error.message);
		else
			*added = held || !fresh ? QUEUED_UPDATE : QUEUED_INSERT;
	}
	bson_destroy(&filter);
	bson_destroy(&body);
	return rc;
}

/* Remembers that this chunk inserts a document under key; false if it already does. */
static int mark_fresh(struct json_object *inserted, const char *key, bool *fresh)
{
	*fresh = !json_object_object_get_ex(inserted, key, NULL);
	if (!*fresh)
		return 0;
	return json_object_object_add(inserted, key, NULL);
}

static nsc_rc write_chunk(struct nsc_mongo *m, enum nsc_collection c,
			  struct json_object *const *docs, size_t n, int64_t now_ms,
			  struct nsc_write_result *res, struct chunk_state *cs,
			  struct nsc_error *err)
{
	struct nsc_mongo_held held;
	struct json_object *inserted = json_object_new_object();
	mongoc_bulk_operation_t *bulk = NULL;
	bson_t upsert_opts = BSON_INITIALIZER, insert_opts = BSON_INITIALIZER;
	size_t ops = 0, updates = 0;
	nsc_rc rc;

	nsc_mongo_held_init(&held);
	rc = nsc_mongo_held_query(m, c, docs, n, now_ms, &held, err);
	if (rc != NSC_OK)
		goto out;
	bulk = new_bulk(m, c);
	if (!inserted || !bulk || !append_upsert_opts(&upsert_opts) ||
	    /* Like the Node driver (checkKeys off): the server judges field names. */
	    !BSON_APPEND_BOOL(&insert_opts, "validate", false)) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory preparing a bulk write");
		goto out;
	}
	for (size_t i = 0; rc == NSC_OK && i < n; i++) {
		char *primary = NULL, *legacy = NULL;
		const struct nsc_mongo_held_doc *h = NULL;
		enum queued added = QUEUED_NONE;
		bool fresh = false;

		if (nsc_mongo_doc_keys(c, docs[i], &primary, &legacy) != NSC_OK) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory keying a document");
			break;
		}
		h = nsc_mongo_held_find(&held, primary);
		if (!h)
			h = nsc_mongo_held_find(&held, legacy);
		/* Without a key, or a second document of the same key: let the server match. */
		if (!h && primary && mark_fresh(inserted, primary, &fresh) != 0)
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory keying a document");
		if (rc == NSC_OK)
			rc = add_document(c, bulk, docs[i], h, fresh, now_ms, &upsert_opts,
					  &insert_opts, cs, &added, err);
		free(primary);
		free(legacy);
		if (added == QUEUED_SAME)
			res->duplicates[c]++;
		else if (added != QUEUED_NONE)
			ops++;
		if (added == QUEUED_UPDATE && ++updates == UPDATES_PER_COMMAND) {
			/* Run what is queued (in order) and go on with a new bulk. */
			rc = execute_bulk(m, c, bulk, ops, res, err);
			mongoc_bulk_operation_destroy(bulk);
			bulk = rc == NSC_OK ? new_bulk(m, c) : NULL;
			if (rc == NSC_OK && !bulk)
				rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory preparing a bulk write");
			ops = updates = 0;
		}
	}
	if (rc == NSC_OK)
		rc = execute_bulk(m, c, bulk, ops, res, err);
out:
	bson_destroy(&upsert_opts);
	bson_destroy(&insert_opts);
	if (bulk)
		mongoc_bulk_operation_destroy(bulk);
	json_object_put(inserted);
	nsc_mongo_held_free(&held);
	return rc;
}

/* The documents of [from, to) as they are stored: treatments through prepareData. */
static nsc_rc prepare_chunk(enum nsc_collection c, const struct nsc_batch *b, size_t from,
			    size_t to, struct json_object **docs, struct chunk_state *cs,
			    size_t *n, struct nsc_error *err)
{
	*n = 0;
	for (size_t i = from; i < to; i++) {
		struct json_object *doc = nsc_batch_get(b, c, i);
		struct nsc_error derr = { 0 };

		if (c != NSC_COLL_TREATMENTS) {
			docs[(*n)++] = json_object_get(doc);
			continue;
		}
		nsc_rc rc = nsc_mongo_prepare_treatment(doc, &docs[*n], &derr);
		if (rc == NSC_ERR_NOMEM)
			return nsc_error_set(err, rc, "%s", derr.msg);
		if (rc != NSC_OK)
			note_refused(cs, derr.msg);
		else
			(*n)++;
	}
	return NSC_OK;
}

nsc_rc nsc_mongo_write_collection(struct nsc_mongo *m, enum nsc_collection c,
				  const struct nsc_batch *b, int64_t now_ms,
				  struct nsc_write_result *res, struct nsc_error *err)
{
	size_t total = nsc_batch_count(b, c);
	size_t chunk = m->write_chunk;
	struct chunk_state cs = { 0 };
	nsc_rc rc = NSC_OK;

	if (chunk == 0 || chunk > NSC_MONGO_WRITE_CHUNK)
		chunk = NSC_MONGO_WRITE_CHUNK;
	for (size_t from = 0; rc == NSC_OK && from < total; from += chunk) {
		size_t to = total - from > chunk ? from + chunk : total;

		struct json_object *docs[NSC_MONGO_WRITE_CHUNK];
		size_t n = 0;

		rc = prepare_chunk(c, b, from, to, docs, &cs, &n, err);
		if (rc == NSC_OK && n > 0)
			rc = write_chunk(m, c, docs, n, now_ms, res, &cs, err);
		for (size_t i = 0; i < n; i++)
			json_object_put(docs[i]);
		if (rc == NSC_OK && m->progress)
			m->progress(m->progress_arg); /* this part of the batch is in */
		if (rc == NSC_ERR_DROP) {
			/* The server refused a document (the ordered bulk stopped there): next chunk. */
			if (cs.refused++ == 0)
				cs.first = *err;
			rc = NSC_OK;
		}
	}
	if (rc == NSC_OK && cs.refused > 0) {
		rc = nsc_error_set(err, NSC_ERR_DROP, "%s: %zu document%s refused; first: %s",
				   nsc_collection_name(c), cs.refused, cs.refused == 1 ? "" : "s",
				   cs.first.msg);
	}
	return rc;
}
