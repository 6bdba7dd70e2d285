/* SPDX-License-Identifier: MIT */
/*
 * The indexes Nightscout 15.0.7 creates at boot (reference/nightscout.md
 * §1.3) on entries, treatments, devicestatus and profile, plus the API v3
 * ones (identifier, srvModified, isValid) on the same collections. None is
 * unique. Each is created only when no index with the same key exists yet
 * (whatever its name), under MongoDB's default name (`<field>_<dir>`
 * joined by `_`), one createIndexes command per index so one refusal does
 * not stop the rest.
 *
 * Done once per backend: a transient failure (server down) is retried on
 * the next write; a server that refuses an index for good (e.g. a
 * MongoDB-compatible server without that feature) gets one warning and is
 * not asked again.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mongo/errors.h"
#include "mongo/mongo_internal.h"

#define MAX_KEY_FIELDS 3
#define MAX_EXISTING 128 /* MongoDB allows 64 indexes per collection */

struct index_spec {
	const char *field[MAX_KEY_FIELDS]; /* NULL-terminated when shorter */
	int dir[MAX_KEY_FIELDS];
};

#define ASC(f) { { f }, { 1 } }

static const struct index_spec entries_indexes[] = {
	ASC("date"), ASC("type"), ASC("sgv"), ASC("mbg"), ASC("sysTime"), ASC("dateString"),
	ASC("identifier"),
	{ { "type", "date", "dateString" }, { 1, -1, 1 } },
	ASC("srvModified"), ASC("isValid"),
};

static const struct index_spec treatments_indexes[] = {
	ASC("created_at"), ASC("eventType"), ASC("insulin"), ASC("carbs"), ASC("glucose"),
	ASC("enteredBy"), ASC("boluscalc.foods._id"), ASC("notes"), ASC("NSCLIENT_ID"),
	ASC("percent"), ASC("absolute"), ASC("duration"), ASC("identifier"),
	{ { "eventType", "duration", "created_at" }, { 1, 1, 1 } },
	ASC("srvModified"), ASC("isValid"),
};

static const struct index_spec devicestatus_indexes[] = {
	ASC("created_at"), ASC("NSCLIENT_ID"), ASC("identifier"), ASC("srvModified"), ASC("isValid"),
};

static const struct index_spec profile_indexes[] = {
	ASC("startDate"), ASC("identifier"), ASC("srvModified"), ASC("isValid"),
};

static const struct {
	const struct index_spec *specs;
	size_t count;
} collection_indexes[NSC_COLL_COUNT] = {
	[NSC_COLL_ENTRIES] = { entries_indexes, sizeof(entries_indexes) / sizeof(entries_indexes[0]) },
	[NSC_COLL_TREATMENTS] = { treatments_indexes,
				  sizeof(treatments_indexes) / sizeof(treatments_indexes[0]) },
	[NSC_COLL_DEVICESTATUS] = { devicestatus_indexes,
				    sizeof(devicestatus_indexes) / sizeof(devicestatus_indexes[0]) },
	[NSC_COLL_PROFILE] = { profile_indexes, sizeof(profile_indexes) / sizeof(profile_indexes[0]) },
};

/* The key document and MongoDB's default name for a spec. False if the name does not fit. */
static bool spec_key(const struct index_spec *s, bson_t *key, char *name, size_t name_size)
{
	size_t off = 0;

	name[0] = '\0';
	for (int i = 0; i < MAX_KEY_FIELDS && s->field[i]; i++) {
		int n = snprintf(name + off, name_size - off, "%s%s_%d", i ? "_" : "", s->field[i],
				 s->dir[i]);
		if (n < 0 || (size_t)n >= name_size - off)
			return false;
		off += (size_t)n;
		if (!BSON_APPEND_INT32(key, s->field[i], s->dir[i]))
			return false;
	}
	return true;
}

/* Same fields in the same order with the same directions (1 == 1.0 == 1L). */
static bool key_equal(const bson_t *a, const bson_t *b)
{
	bson_iter_t ia, ib;

	if (!bson_iter_init(&ia, a) || !bson_iter_init(&ib, b))
		return false;
	for (;;) {
		bool na = bson_iter_next(&ia), nb = bson_iter_next(&ib);
		if (!na || !nb)
			return na == nb;
		if (strcmp(bson_iter_key(&ia), bson_iter_key(&ib)) != 0)
			return false;
		if (BSON_ITER_HOLDS_NUMBER(&ia) && BSON_ITER_HOLDS_NUMBER(&ib)) {
			if (bson_iter_as_double(&ia) != bson_iter_as_double(&ib))
				return false;
		} else if (BSON_ITER_HOLDS_UTF8(&ia) && BSON_ITER_HOLDS_UTF8(&ib)) {
			if (strcmp(bson_iter_utf8(&ia, NULL), bson_iter_utf8(&ib, NULL)) != 0)
				return false;
		} else {
			return false;
		}
	}
}

struct existing_keys {
	bson_t *key[MAX_EXISTING];
	size_t count;
};

static void existing_free(struct existing_keys *e)
{
	for (size_t i = 0; i < e->count; i++)
		bson_destroy(e->key[i]);
	e->count = 0;
}

static nsc_rc list_existing(struct nsc_mongo *m, enum nsc_collection c, struct existing_keys *e,
			    struct nsc_error *err)
{
	mongoc_cursor_t *cursor = mongoc_collection_find_indexes_with_opts(m->coll[c], NULL);
	const bson_t *doc;
	bson_error_t error;
	nsc_rc rc = NSC_OK;

	if (!cursor)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory listing indexes");
	while (mongoc_cursor_next(cursor, &doc)) {
		bson_iter_t it;
		const uint8_t *data;
		uint32_t len;

		if (e->count >= MAX_EXISTING)
			break;
		if (!bson_iter_init_find(&it, doc, "key") || !BSON_ITER_HOLDS_DOCUMENT(&it))
			continue;
		bson_iter_document(&it, &len, &data);
		e->key[e->count] = bson_new_from_data(data, len);
		if (!e->key[e->count]) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory listing indexes");
			break;
		}
		e->count++;
	}
	if (rc == NSC_OK && mongoc_cursor_error(cursor, &error)) {
		char what[96];
		snprintf(what, sizeof(what), "listing the indexes of %.64s", m->coll_names[c]);
		rc = nsc_mongo_fail(m, what, &error, NULL, err);
	}
	mongoc_cursor_destroy(cursor);
	return rc;
}

/* Creates one index. NSC_OK when created or refused for good (logged). */
static nsc_rc create_index(struct nsc_mongo *m, enum nsc_collection c, const bson_t *key,
			   const char *name, struct nsc_error *err)
{
	bson_t cmd = BSON_INITIALIZER, indexes, index, reply;
	bson_error_t error;
	bool ok;

	ok = BSON_APPEND_UTF8(&cmd, "createIndexes", m->coll_names[c]) &&
	     BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
	if (ok) {
		ok = BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index);
		if (ok) {
			ok = BSON_APPEND_DOCUMENT(&index, "key", key) &&
			     BSON_APPEND_UTF8(&index, "name", name);
			ok = bson_append_document_end(&indexes, &index) && ok;
		}
		ok = bson_append_array_end(&cmd, &indexes) && ok;
	}
	if (!ok) {
		bson_destroy(&cmd);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory building an index command");
	}

	ok = mongoc_collection_write_command_with_opts(m->coll[c], &cmd, NULL, &reply, &error);
	bson_destroy(&cmd);
	nsc_rc rc = NSC_OK;
	if (ok) {
		nsc_info(m->log, NSC_MONGO_COMP, "event=index_created collection=%s index=%s",
			 m->coll_names[c], name);
	} else if (nsc_mongo_server_refused(&error)) {
		char msg[sizeof(error.message)];
		nsc_mongo_plain_message(error.message, msg, sizeof(msg));
		nsc_warn(m->log, NSC_MONGO_COMP,
			 "event=index_refused collection=%s index=%s code=%u msg=\"%s; queries that "
			 "need it are slower, writes are not affected\"",
			 m->coll_names[c], name, (unsigned)error.code, msg);
	} else {
		char what[160];
		snprintf(what, sizeof(what), "creating index %.48s on %.64s", name, m->coll_names[c]);
		rc = nsc_mongo_fail(m, what, &error, &reply, err);
	}
	bson_destroy(&reply);
	return rc;
}

static nsc_rc ensure_collection(struct nsc_mongo *m, enum nsc_collection c, struct nsc_error *err)
{
	struct existing_keys existing = { .count = 0 };
	nsc_rc rc = list_existing(m, c, &existing, err);

	for (size_t i = 0; rc == NSC_OK && i < collection_indexes[c].count; i++) {
		bson_t key = BSON_INITIALIZER;
		char name[128];
		bool present = false;

		if (!spec_key(&collection_indexes[c].specs[i], &key, name, sizeof(name))) {
			bson_destroy(&key);
			rc = nsc_error_set(err, NSC_ERR_INTERNAL, "index name too long");
			break;
		}
		for (size_t j = 0; j < existing.count && !present; j++)
			present = key_equal(&key, existing.key[j]);
		if (!present)
			rc = create_index(m, c, &key, name, err);
		bson_destroy(&key);
	}
	existing_free(&existing);
	return rc;
}

nsc_rc nsc_mongo_ensure_indexes(struct nsc_mongo *m, struct nsc_error *err)
{
	if (m->indexes_done)
		return NSC_OK;
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		nsc_rc rc = ensure_collection(m, (enum nsc_collection)c, err);
		if (rc != NSC_OK)
			return rc;
	}
	m->indexes_done = true;
	return NSC_OK;
}

nsc_rc nsc_mongo_count_indexes(struct nsc_mongo *m, enum nsc_collection c, size_t *have, size_t *want,
			       struct nsc_error *err)
{
	struct existing_keys existing = { .count = 0 };
	nsc_rc rc = list_existing(m, c, &existing, err);
	*have = 0;
	*want = collection_indexes[c].count;
	for (size_t i = 0; rc == NSC_OK && i < collection_indexes[c].count; i++) {
		bson_t key = BSON_INITIALIZER;
		char name[128];
		if (spec_key(&collection_indexes[c].specs[i], &key, name, sizeof(name)))
			for (size_t k = 0; k < existing.count; k++)
				if (key_equal(&key, existing.key[k])) {
					(*have)++;
					break;
				}
		bson_destroy(&key);
	}
	existing_free(&existing);
	return rc;
}
