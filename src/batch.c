/* SPDX-License-Identifier: MIT */
/*
 * Batches of Nightscout documents per collection, completed on the way in
 * the way Nightscout's storage code completes them: UTC time strings,
 * utcOffset, and the API v3 identifier.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "batch.h"
#include "identity.h"
#include "timeutil.h"

/* Longest field value quoted back in an error message. */
#define ERR_VALUE_MAX 64

static const char *const collection_names[NSC_COLL_COUNT] = {
	[NSC_COLL_ENTRIES] = "entries",
	[NSC_COLL_TREATMENTS] = "treatments",
	[NSC_COLL_DEVICESTATUS] = "devicestatus",
	[NSC_COLL_PROFILE] = "profile",
};

const char *nsc_collection_name(enum nsc_collection c)
{
	if ((unsigned)c >= NSC_COLL_COUNT)
		return "unknown";
	return collection_names[c];
}

void nsc_batch_init(struct nsc_batch *b)
{
	for (int i = 0; i < NSC_COLL_COUNT; i++)
		b->docs[i] = NULL;
}

void nsc_batch_clear(struct nsc_batch *b)
{
	if (!b)
		return;
	for (int i = 0; i < NSC_COLL_COUNT; i++) {
		json_object_put(b->docs[i]);
		b->docs[i] = NULL;
	}
}

/* 2^63 is exactly representable; every finite double in [-2^63, 2^63) fits int64. */
static bool double_fits_int64(double d)
{
	return isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0;
}

/*
 * A JSON integer, or a double with an integral value that fits int64.
 * Returns false for anything else (strings, fractions, NaN, ...).
 */
static bool json_int64_exact(struct json_object *v, int64_t *out)
{
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (!double_fits_int64(d) || d != floor(d))
			return false;
		*out = (int64_t)d;
		return true;
	}
	return false;
}

/* The field is absent or JSON null. */
static bool field_missing(struct json_object *doc, const char *key)
{
	struct json_object *v = NULL;

	return !json_object_object_get_ex(doc, key, &v) || v == NULL;
}

/* Sets doc[key] to a new string; NSC_ERR_NOMEM when it cannot. */
static nsc_rc set_string(struct json_object *doc, const char *key, const char *value)
{
	struct json_object *v = json_object_new_string(value);

	if (!v)
		return NSC_ERR_NOMEM;
	if (json_object_object_add(doc, key, v) != 0) {
		json_object_put(v);
		return NSC_ERR_NOMEM;
	}
	return NSC_OK;
}

static nsc_rc set_int64(struct json_object *doc, const char *key, int64_t value)
{
	struct json_object *v = json_object_new_int64(value);

	if (!v)
		return NSC_ERR_NOMEM;
	if (json_object_object_add(doc, key, v) != 0) {
		json_object_put(v);
		return NSC_ERR_NOMEM;
	}
	return NSC_OK;
}

/*
 * `device` as JavaScript's `doc.device + '_'` would print it: NULL when the
 * key is absent ("undefined"), "null" for JSON null, the string itself, or
 * json-c's rendering of any other scalar.
 */
static const char *device_for_key(struct json_object *doc)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(doc, "device", &v))
		return NULL;
	if (v == NULL)
		return "null";
	return json_object_get_string(v);
}

/* Sets `identifier` unless the document already has a non-empty string one. */
static nsc_rc ensure_identifier(struct json_object *doc, int64_t date_ms, const char *event_type,
				struct nsc_error *err)
{
	struct json_object *v = NULL;
	char id[NSC_UUID_BUF];
	nsc_rc rc;

	if (json_object_object_get_ex(doc, "identifier", &v) &&
	    json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0)
		return NSC_OK;
	rc = nsc_identifier_compute(device_for_key(doc), date_ms, event_type, id);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "cannot compute document identifier: %s",
				     nsc_strerror(rc));
	rc = set_string(doc, "identifier", id);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "out of memory setting identifier");
	return NSC_OK;
}

/* `app` names the uploader, as API v3 requires; a document that names one keeps it. */
static nsc_rc ensure_app(struct json_object *doc)
{
	struct json_object *v = NULL;
	if (json_object_object_get_ex(doc, "app", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0)
		return NSC_OK;
	return set_string(doc, "app", NSC_DOC_APP);
}

static nsc_rc complete_entry(struct json_object *doc, struct nsc_error *err)
{
	struct json_object *v = NULL;
	char iso[NSC_ISO_BUF];
	int64_t date_ms, t_ms;
	int offset = 0;
	nsc_rc rc;

	if (!json_object_object_get_ex(doc, "date", &v) || !json_int64_exact(v, &date_ms))
		return nsc_error_set(err, NSC_ERR_PARSE,
				     "entries document needs a numeric `date` (epoch ms)");
	/* An integral double becomes an integer, so every output sees one type. */
	if (!json_object_is_type(v, json_type_int)) {
		rc = set_int64(doc, "date", date_ms);
		if (rc != NSC_OK)
			return nsc_error_set(err, rc, "out of memory setting date");
	}

	t_ms = date_ms;
	if (!field_missing(doc, "dateString")) {
		json_object_object_get_ex(doc, "dateString", &v);
		/* Like moment.parseZone(dateString) in entries.create: it wins for sysTime. */
		if (!json_object_is_type(v, json_type_string) ||
		    nsc_time_parse_iso(json_object_get_string(v), &t_ms, &offset) != NSC_OK)
			return nsc_error_set(err, NSC_ERR_PARSE,
					     "entries document has a `dateString` that is not an "
					     "ISO-8601 time: \"%.*s\"",
					     ERR_VALUE_MAX, json_object_get_string(v));
	}
	if (nsc_time_format_iso(t_ms, iso, sizeof(iso)) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_RANGE,
				     "entries document time %lld ms is outside years 0000..9999",
				     (long long)t_ms);

	rc = set_string(doc, "sysTime", iso);
	if (rc == NSC_OK)
		rc = set_string(doc, "dateString", iso);
	if (rc == NSC_OK && field_missing(doc, "utcOffset"))
		rc = set_int64(doc, "utcOffset", offset);
	/* What API v3 adds on create: created_at from `date` (UTC), and the app. */
	if (rc == NSC_OK && field_missing(doc, "created_at")) {
		rc = nsc_time_format_iso(date_ms, iso, sizeof(iso)) == NSC_OK
			     ? set_string(doc, "created_at", iso)
			     : NSC_ERR_RANGE;
		if (rc == NSC_ERR_RANGE)
			return nsc_error_set(err, rc,
					     "entries document date %lld ms is outside years 0000..9999",
					     (long long)date_ms);
	}
	if (rc == NSC_OK)
		rc = ensure_app(doc);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "out of memory completing entry");
	return ensure_identifier(doc, date_ms, NULL, err);
}

static nsc_rc complete_timed_doc(enum nsc_collection c, struct json_object *doc,
				 struct nsc_error *err)
{
	struct json_object *v = NULL;
	const char *event_type = NULL;
	char iso[NSC_ISO_BUF];
	int64_t t_ms;
	int offset = 0;
	nsc_rc rc;

	if (!json_object_object_get_ex(doc, "created_at", &v) ||
	    !json_object_is_type(v, json_type_string))
		return nsc_error_set(err, NSC_ERR_PARSE,
				     "%s document needs `created_at` as an ISO-8601 string",
				     nsc_collection_name(c));
	if (nsc_time_parse_iso(json_object_get_string(v), &t_ms, &offset) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_PARSE,
				     "%s document has a `created_at` that is not an ISO-8601 time: "
				     "\"%.*s\"",
				     nsc_collection_name(c), ERR_VALUE_MAX,
				     json_object_get_string(v));
	if (nsc_time_format_iso(t_ms, iso, sizeof(iso)) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_RANGE,
				     "%s document `created_at` is outside years 0000..9999",
				     nsc_collection_name(c));

	rc = set_string(doc, "created_at", iso);
	if (rc == NSC_OK && field_missing(doc, "utcOffset"))
		rc = set_int64(doc, "utcOffset", offset);
	/* What API v3 adds on create: `date` in epoch ms, and the app. */
	if (rc == NSC_OK && field_missing(doc, "date"))
		rc = set_int64(doc, "date", t_ms);
	if (rc == NSC_OK)
		rc = ensure_app(doc);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "out of memory completing %s document",
				     nsc_collection_name(c));

	/* Nightscout appends eventType only when it is truthy; we take non-empty strings. */
	if (json_object_object_get_ex(doc, "eventType", &v) &&
	    json_object_is_type(v, json_type_string))
		event_type = json_object_get_string(v);
	return ensure_identifier(doc, t_ms, event_type, err);
}

nsc_rc nsc_batch_add(struct nsc_batch *b, enum nsc_collection c, struct json_object *doc,
		     struct nsc_error *err)
{
	nsc_rc rc;

	if (!b || (unsigned)c >= NSC_COLL_COUNT) {
		json_object_put(doc);
		return nsc_error_set(err, NSC_ERR_INTERNAL,
				     "nsc_batch_add: bad batch or collection");
	}
	if (!json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return nsc_error_set(err, NSC_ERR_PARSE, "%s document is not a JSON object",
				     nsc_collection_name(c));
	}

	if (c == NSC_COLL_ENTRIES)
		rc = complete_entry(doc, err);
	else
		rc = complete_timed_doc(c, doc, err);
	if (rc != NSC_OK) {
		json_object_put(doc);
		return rc;
	}

	if (!b->docs[c]) {
		b->docs[c] = json_object_new_array();
		if (!b->docs[c]) {
			json_object_put(doc);
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory creating %s batch",
					     nsc_collection_name(c));
		}
	}
	if (json_object_array_add(b->docs[c], doc) != 0) {
		json_object_put(doc);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory adding %s document",
				     nsc_collection_name(c));
	}
	return NSC_OK;
}

size_t nsc_batch_count(const struct nsc_batch *b, enum nsc_collection c)
{
	if (!b || (unsigned)c >= NSC_COLL_COUNT || !b->docs[c])
		return 0;
	return json_object_array_length(b->docs[c]);
}

size_t nsc_batch_total(const struct nsc_batch *b)
{
	size_t n = 0;

	for (int i = 0; i < NSC_COLL_COUNT; i++)
		n += nsc_batch_count(b, (enum nsc_collection)i);
	return n;
}

struct json_object *nsc_batch_get(const struct nsc_batch *b, enum nsc_collection c, size_t i)
{
	if (i >= nsc_batch_count(b, c))
		return NULL;
	return json_object_array_get_idx(b->docs[c], i);
}

nsc_rc nsc_doc_time_ms(struct json_object *doc, int64_t *out)
{
	static const char *const iso_fields[] = { "created_at", "dateString" };
	struct json_object *v = NULL;
	bool unparseable = false;

	if (!json_object_is_type(doc, json_type_object) || !out)
		return NSC_ERR_NOT_FOUND;
	if (json_object_object_get_ex(doc, "date", &v)) {
		if (json_object_is_type(v, json_type_int)) {
			*out = json_object_get_int64(v);
			return NSC_OK;
		}
		if (json_object_is_type(v, json_type_double)) {
			double d = floor(json_object_get_double(v));

			if (double_fits_int64(d)) {
				*out = (int64_t)d;
				return NSC_OK;
			}
		}
	}
	for (size_t i = 0; i < sizeof(iso_fields) / sizeof(iso_fields[0]); i++) {
		int64_t ms;

		if (!json_object_object_get_ex(doc, iso_fields[i], &v) || v == NULL)
			continue;
		if (json_object_is_type(v, json_type_string) &&
		    nsc_time_parse_iso(json_object_get_string(v), &ms, NULL) == NSC_OK) {
			*out = ms;
			return NSC_OK;
		}
		unparseable = true;
	}
	return unparseable ? NSC_ERR_PARSE : NSC_ERR_NOT_FOUND;
}
