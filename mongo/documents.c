/* SPDX-License-Identifier: MIT */
/* Filters, updates and replacements per collection (see documents.h). */
#include "config.h"

#include <string.h>

#include "mongo/bson_map.h"
#include "mongo/documents.h"

static nsc_rc too_large(struct nsc_error *err)
{
	return nsc_error_set(err, NSC_ERR_RANGE, "document is too large for BSON");
}

const char *nsc_mongo_doc_string(struct json_object *doc, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		return NULL;
	return json_object_get_string(v);
}

/* JavaScript truthiness of doc[key] for the values a `type` field can have. */
static bool field_truthy(struct json_object *doc, const char *key, struct json_object **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, key, &v) || v == NULL)
		return false;
	*out = v;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		return json_object_get_boolean(v) != 0;
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_double: {
		double d = json_object_get_double(v);
		return d == d && d != 0.0;
	}
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_object:
	case json_type_array:
		return true;
	}
	return false;
}

nsc_rc nsc_mongo_entry_update(struct json_object *doc, int64_t now_ms, bson_t *filter,
			      bson_t *update, struct nsc_error *err)
{
	struct json_object *type = NULL;
	const char *sys_time = nsc_mongo_doc_string(doc, "sysTime");
	const char *identifier = nsc_mongo_doc_string(doc, "identifier");
	bson_t set, on_insert;
	nsc_rc rc;

	if (sys_time && field_truthy(doc, "type", &type)) {
		if (!BSON_APPEND_UTF8(filter, "sysTime", sys_time))
			return too_large(err);
		rc = nsc_mongo_append_json(filter, "type", type, 0, err);
		if (rc != NSC_OK)
			return rc;
	} else if (identifier) {
		if (!BSON_APPEND_UTF8(filter, "identifier", identifier))
			return too_large(err);
	} else {
		return nsc_error_set(err, NSC_ERR_PARSE,
				     "entries document has neither sysTime and type nor identifier");
	}

	if (!BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set))
		return too_large(err);
	rc = nsc_mongo_append_doc_fields(&set, doc, err);
	bool ok = rc == NSC_OK && bson_append_double(&set, "srvModified", -1, (double)now_ms);
	if (!bson_append_document_end(update, &set) || (rc == NSC_OK && !ok))
		return rc != NSC_OK ? rc : too_large(err);
	if (rc != NSC_OK)
		return rc;

	if (!BSON_APPEND_DOCUMENT_BEGIN(update, "$setOnInsert", &on_insert))
		return too_large(err);
	ok = bson_append_double(&on_insert, "srvCreated", -1, (double)now_ms);
	if (!bson_append_document_end(update, &on_insert) || !ok)
		return too_large(err);
	return NSC_OK;
}

const char *nsc_mongo_fallback_field(enum nsc_collection c)
{
	switch (c) {
	case NSC_COLL_TREATMENTS:
		return "eventType";
	case NSC_COLL_DEVICESTATUS:
		return "device";
	case NSC_COLL_ENTRIES:
	case NSC_COLL_PROFILE:
		break;
	}
	return NULL;
}

/* {identifier: {$exists: false}, created_at: C[, field: E]} */
static bool append_legacy_match(bson_t *b, const char *created_at, const char *field,
				const char *value)
{
	bson_t exists;

	if (!BSON_APPEND_DOCUMENT_BEGIN(b, "identifier", &exists))
		return false;
	bool ok = BSON_APPEND_BOOL(&exists, "$exists", false);
	if (!bson_append_document_end(b, &exists) || !ok)
		return false;
	if (!BSON_APPEND_UTF8(b, "created_at", created_at))
		return false;
	return field == NULL || BSON_APPEND_UTF8(b, field, value);
}

nsc_rc nsc_mongo_replace_filter(enum nsc_collection c, struct json_object *doc, bson_t *filter,
				struct nsc_error *err)
{
	const char *identifier = nsc_mongo_doc_string(doc, "identifier");
	const char *created_at = nsc_mongo_doc_string(doc, "created_at");
	const char *field = nsc_mongo_fallback_field(c);
	const char *value = field ? nsc_mongo_doc_string(doc, field) : NULL;
	bool fallback = created_at != NULL && (field == NULL || value != NULL);

	if (!identifier) {
		if (c == NSC_COLL_TREATMENTS && created_at) {
			/* Nightscout's key; a missing eventType matches null or missing, as it does. */
			bool ok = BSON_APPEND_UTF8(filter, "created_at", created_at) &&
				  (value ? BSON_APPEND_UTF8(filter, "eventType", value)
					 : BSON_APPEND_NULL(filter, "eventType"));
			return ok ? NSC_OK : too_large(err);
		}
		if (!fallback)
			return nsc_error_set(err, NSC_ERR_PARSE,
					     "%s document has no identifier and no created_at",
					     nsc_collection_name(c));
		return append_legacy_match(filter, created_at, field, value) ? NSC_OK
									      : too_large(err);
	}
	if (!fallback)
		return BSON_APPEND_UTF8(filter, "identifier", identifier) ? NSC_OK : too_large(err);

	bson_t alts, by_id, legacy;
	bool ok = BSON_APPEND_ARRAY_BEGIN(filter, "$or", &alts);
	if (!ok)
		return too_large(err);
	if (BSON_APPEND_DOCUMENT_BEGIN(&alts, "0", &by_id)) {
		ok = BSON_APPEND_UTF8(&by_id, "identifier", identifier);
		ok = bson_append_document_end(&alts, &by_id) && ok;
	} else {
		ok = false;
	}
	if (ok && BSON_APPEND_DOCUMENT_BEGIN(&alts, "1", &legacy)) {
		ok = append_legacy_match(&legacy, created_at, field, value);
		ok = bson_append_document_end(&alts, &legacy) && ok;
	} else {
		ok = false;
	}
	ok = bson_append_array_end(filter, &alts) && ok;
	return ok ? NSC_OK : too_large(err);
}

nsc_rc nsc_mongo_replacement(struct json_object *doc, int64_t now_ms, double srv_created,
			     bson_t *out, struct nsc_error *err)
{
	nsc_rc rc = nsc_mongo_append_doc_fields(out, doc, err);

	if (rc != NSC_OK)
		return rc;
	if (!bson_append_double(out, "srvModified", -1, (double)now_ms) ||
	    !bson_append_double(out, "srvCreated", -1, srv_created))
		return too_large(err);
	return NSC_OK;
}

/* Same BSON type and same value, for the types the mapping produces. */
static bool same_value(const bson_iter_t *a, const bson_iter_t *b)
{
	bson_type_t t = bson_iter_type(a);
	const uint8_t *da, *db;
	uint32_t la, lb;

	if (t != bson_iter_type(b))
		return false;
	switch (t) {
	case BSON_TYPE_NULL:
		return true;
	case BSON_TYPE_BOOL:
		return bson_iter_bool(a) == bson_iter_bool(b);
	case BSON_TYPE_INT32:
		return bson_iter_int32(a) == bson_iter_int32(b);
	case BSON_TYPE_DOUBLE: {
		double x = bson_iter_double(a), y = bson_iter_double(b);
		return memcmp(&x, &y, sizeof(x)) == 0; /* bit for bit: -0 and NaN too */
	}
	case BSON_TYPE_UTF8:
		da = (const uint8_t *)bson_iter_utf8(a, &la);
		db = (const uint8_t *)bson_iter_utf8(b, &lb);
		return la == lb && memcmp(da, db, la) == 0;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (t == BSON_TYPE_DOCUMENT) {
			bson_iter_document(a, &la, &da);
			bson_iter_document(b, &lb, &db);
		} else {
			bson_iter_array(a, &la, &da);
			bson_iter_array(b, &lb, &db);
		}
		return la == lb && memcmp(da, db, la) == 0;
	default:
		return false;
	}
}

/* Every field of `fields` except `skip` is in `stored` with the same value; counts them. */
static bool fields_held(const bson_t *fields, const bson_t *stored, const char *skip,
			size_t *count)
{
	bson_iter_t it, found;

	*count = 0;
	if (!bson_iter_init(&it, fields))
		return false;
	while (bson_iter_next(&it)) {
		const char *key = bson_iter_key(&it);
		if (strcmp(key, skip) == 0)
			continue;
		if (!bson_iter_init_find(&found, stored, key) || !same_value(&it, &found))
			return false;
		(*count)++;
	}
	return true;
}

bool nsc_mongo_unchanged(enum nsc_collection c, const bson_t *write_doc, const bson_t *stored)
{
	size_t n;

	if (c == NSC_COLL_ENTRIES) {
		bson_iter_t it;
		const uint8_t *data;
		uint32_t len;
		bson_t set;

		if (!bson_iter_init_find(&it, write_doc, "$set") || !BSON_ITER_HOLDS_DOCUMENT(&it))
			return false;
		bson_iter_document(&it, &len, &data);
		return bson_init_static(&set, data, len) && fields_held(&set, stored, "srvModified", &n);
	}
	if (!fields_held(write_doc, stored, "srvModified", &n))
		return false;
	/* Nothing else stored: a replacement would drop it. */
	bson_iter_t it;
	size_t others = 0;
	if (!bson_iter_init(&it, stored))
		return false;
	while (bson_iter_next(&it)) {
		const char *key = bson_iter_key(&it);
		if (strcmp(key, "_id") != 0 && strcmp(key, "srvModified") != 0)
			others++;
	}
	return others == n;
}
