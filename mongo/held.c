/* SPDX-License-Identifier: MIT */
/* The stored documents a chunk will meet, by key (see held.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongo/documents.h"
#include "mongo/held.h"
#include "timeutil.h"

void nsc_mongo_held_init(struct nsc_mongo_held *h)
{
	memset(h, 0, sizeof(*h));
}

void nsc_mongo_held_free(struct nsc_mongo_held *h)
{
	for (size_t i = 0; i < h->count; i++) {
		bson_value_destroy(&h->items[i].id);
		bson_destroy(h->items[i].stored);
	}
	free(h->items);
	json_object_put(h->index);
	nsc_mongo_held_init(h);
}

/* prefix a ["\x1f" b]; NULL on allocation failure. */
static char *make_key(const char *prefix, const char *a, const char *b)
{
	size_t p = strlen(prefix), la = strlen(a), lb = b ? strlen(b) + 1 : 0;
	char *k = malloc(p + la + lb + 1);

	if (!k)
		return NULL;
	memcpy(k, prefix, p);
	memcpy(k + p, a, la);
	if (b) {
		k[p + la] = '\x1f';
		memcpy(k + p + la + 1, b, lb - 1);
	}
	k[p + la + lb] = '\0';
	return k;
}

nsc_rc nsc_mongo_doc_keys(enum nsc_collection c, struct json_object *doc, char **primary,
			  char **legacy)
{
	*primary = *legacy = NULL;
	if (c == NSC_COLL_ENTRIES) {
		const char *sys_time = nsc_mongo_doc_string(doc, "sysTime");
		const char *type = nsc_mongo_doc_string(doc, "type");

		if (sys_time && type && !(*primary = make_key("e:", sys_time, type)))
			return NSC_ERR_NOMEM;
		return NSC_OK;
	}
	const char *id = nsc_mongo_doc_string(doc, "identifier");
	const char *created_at = nsc_mongo_doc_string(doc, "created_at");
	const char *field = nsc_mongo_fallback_field(c);
	const char *value = field ? nsc_mongo_doc_string(doc, field) : NULL;

	if (id && !(*primary = make_key("i:", id, NULL)))
		return NSC_ERR_NOMEM;
	if (created_at && (!field || value) && !(*legacy = make_key("l:", created_at, value))) {
		free(*primary);
		*primary = NULL;
		return NSC_ERR_NOMEM;
	}
	return NSC_OK;
}

const struct nsc_mongo_held_doc *nsc_mongo_held_find(const struct nsc_mongo_held *h,
						     const char *key)
{
	struct json_object *pos;

	if (!key || !h->index || !json_object_object_get_ex(h->index, key, &pos))
		return NULL;
	return &h->items[json_object_get_int64(pos)];
}

/* Remembers the first stored document of each key. */
static nsc_rc held_add(struct nsc_mongo_held *h, const char *key, const bson_t *stored,
		       const bson_value_t *id, double srv_created)
{
	if (!h->index && !(h->index = json_object_new_object()))
		return NSC_ERR_NOMEM;
	if (json_object_object_get_ex(h->index, key, NULL))
		return NSC_OK;
	if (h->count == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct nsc_mongo_held_doc *items = realloc(h->items, cap * sizeof(*items));
		if (!items)
			return NSC_ERR_NOMEM;
		h->items = items;
		h->cap = cap;
	}
	bson_t *copy = bson_copy(stored);
	struct json_object *pos = copy ? json_object_new_int64((int64_t)h->count) : NULL;
	if (!pos || json_object_object_add(h->index, key, pos) != 0) {
		json_object_put(pos);
		bson_destroy(copy);
		return NSC_ERR_NOMEM;
	}
	h->items[h->count].stored = copy;
	bson_value_copy(id, &h->items[h->count].id);
	h->items[h->count].srv_created = srv_created;
	h->count++;
	return NSC_OK;
}

static const char *iter_string(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return NULL;
}

/*
 * The srvCreated to keep for a stored document: its own, else its
 * created_at time (what API v3 reports for documents without one), else now.
 */
static double stored_srv_created(const bson_t *doc, int64_t now_ms)
{
	bson_iter_t it;
	const char *created_at = iter_string(doc, "created_at");
	int64_t ms;

	if (bson_iter_init_find(&it, doc, "srvCreated") && BSON_ITER_HOLDS_NUMBER(&it))
		return bson_iter_as_double(&it);
	if (created_at && nsc_time_parse_iso(created_at, &ms, NULL) == NSC_OK)
		return (double)ms;
	return (double)now_ms;
}

/* Appends field: {$in: [doc[field] of every doc that has it as a string]}. */
static bool append_in(bson_t *b, const char *field, struct json_object *const *docs, size_t n)
{
	bson_t cond, values;
	size_t count = 0;
	char key[24];
	bool ok;

	if (!BSON_APPEND_DOCUMENT_BEGIN(b, field, &cond))
		return false;
	ok = BSON_APPEND_ARRAY_BEGIN(&cond, "$in", &values);
	if (ok) {
		for (size_t i = 0; ok && i < n; i++) {
			const char *v = nsc_mongo_doc_string(docs[i], field);
			if (!v)
				continue;
			snprintf(key, sizeof(key), "%zu", count++);
			ok = BSON_APPEND_UTF8(&values, key, v);
		}
		ok = bson_append_array_end(&cond, &values) && ok;
	}
	return bson_append_document_end(b, &cond) && ok;
}

/*
 * entries:  {sysTime: {$in: [...]}}
 * others:   {$or: [{identifier: {$in: [...]}},
 *                  {identifier: {$exists: false}, created_at: {$in: [...]}}]}
 */
static bool build_query(enum nsc_collection c, struct json_object *const *docs, size_t n,
			bson_t *q)
{
	if (c == NSC_COLL_ENTRIES)
		return append_in(q, "sysTime", docs, n);

	bson_t alts, by_id, legacy, no_id;
	bool ok = BSON_APPEND_ARRAY_BEGIN(q, "$or", &alts);

	if (!ok)
		return false;
	ok = BSON_APPEND_DOCUMENT_BEGIN(&alts, "0", &by_id);
	if (ok) {
		ok = append_in(&by_id, "identifier", docs, n);
		ok = bson_append_document_end(&alts, &by_id) && ok;
	}
	if (ok) {
		ok = BSON_APPEND_DOCUMENT_BEGIN(&alts, "1", &legacy);
		if (ok) {
			ok = BSON_APPEND_DOCUMENT_BEGIN(&legacy, "identifier", &no_id) &&
			     BSON_APPEND_BOOL(&no_id, "$exists", false);
			ok = bson_append_document_end(&legacy, &no_id) && ok;
			ok = ok && append_in(&legacy, "created_at", docs, n);
			ok = bson_append_document_end(&alts, &legacy) && ok;
		}
	}
	return bson_append_array_end(q, &alts) && ok;
}

/* The key a stored document is found under (malloc'd), or NULL with *rc = NSC_OK when none. */
static char *stored_key(enum nsc_collection c, const bson_t *doc, nsc_rc *rc)
{
	char *k = NULL;

	*rc = NSC_OK;
	if (c == NSC_COLL_ENTRIES) {
		const char *sys_time = iter_string(doc, "sysTime"), *type = iter_string(doc, "type");
		if (sys_time && type)
			k = make_key("e:", sys_time, type);
		else
			return NULL;
	} else {
		const char *id = iter_string(doc, "identifier");
		const char *created_at = iter_string(doc, "created_at");
		const char *field = nsc_mongo_fallback_field(c);
		const char *value = field ? iter_string(doc, field) : NULL;
		bson_iter_t it;

		if (id && id[0]) {
			k = make_key("i:", id, NULL);
		} else if (bson_iter_init_find(&it, doc, "identifier")) {
			return NULL; /* an identifier of another type: not ours to match */
		} else if (created_at && (!field || value)) {
			k = make_key("l:", created_at, value);
		} else {
			return NULL;
		}
	}
	if (!k)
		*rc = NSC_ERR_NOMEM;
	return k;
}

nsc_rc nsc_mongo_held_query(struct nsc_mongo *m, enum nsc_collection c,
			    struct json_object *const *docs, size_t n, int64_t now_ms,
			    struct nsc_mongo_held *h, struct nsc_error *err)
{
	bson_t query = BSON_INITIALIZER;
	mongoc_cursor_t *cursor = NULL;
	const bson_t *doc;
	bson_error_t error;
	nsc_rc rc = NSC_OK;

	if (build_query(c, docs, n, &query))
		cursor = mongoc_collection_find_with_opts(m->coll[c], &query, NULL, NULL);
	if (!cursor) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory querying stored %s",
				   nsc_collection_name(c));
		goto out;
	}
	while (rc == NSC_OK && mongoc_cursor_next(cursor, &doc)) {
		bson_iter_t it;
		char *key = stored_key(c, doc, &rc);

		if (key && bson_iter_init_find(&it, doc, "_id"))
			rc = held_add(h, key, doc, bson_iter_value(&it),
				      stored_srv_created(doc, now_ms));
		free(key);
	}
	if (rc != NSC_OK) {
		nsc_error_set(err, rc, "out of memory reading stored %s", nsc_collection_name(c));
	} else if (mongoc_cursor_error(cursor, &error)) {
		char what[96];
		snprintf(what, sizeof(what), "reading stored %.64s", m->coll_names[c]);
		rc = nsc_mongo_fail(m, what, &error, NULL, err);
	}
out:
	if (cursor)
		mongoc_cursor_destroy(cursor);
	bson_destroy(&query);
	return rc;
}
