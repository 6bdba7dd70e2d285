/* SPDX-License-Identifier: MIT */
/*
 * The newest document time the database holds per collection: the largest
 * numeric `date` in entries, the newest `created_at` in treatments,
 * devicestatus and profile (UTC .SSSZ strings sort in time order). One
 * sorted, limited query each; documents whose time field has another type
 * are not considered. An empty collection gives 0.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "mongo/mongo_internal.h"
#include "timeutil.h"

/* A few candidates, in case the newest created_at strings are not ISO times. */
#define CREATED_AT_CANDIDATES 5

static nsc_rc newest(struct nsc_mongo *m, enum nsc_collection c, int64_t *out,
		     struct nsc_error *err)
{
	const char *field = c == NSC_COLL_ENTRIES ? "date" : "created_at";
	const char *type = c == NSC_COLL_ENTRIES ? "number" : "string";
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, cond, sort, proj;
	mongoc_cursor_t *cursor = NULL;
	const bson_t *doc;
	bson_error_t error;
	nsc_rc rc = NSC_OK;
	bool ok;

	*out = 0;
	ok = BSON_APPEND_DOCUMENT_BEGIN(&filter, field, &cond);
	if (ok) {
		ok = BSON_APPEND_UTF8(&cond, "$type", type);
		ok = bson_append_document_end(&filter, &cond) && ok;
	}
	ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	if (ok) {
		ok = BSON_APPEND_INT32(&sort, field, -1);
		ok = bson_append_document_end(&opts, &sort) && ok;
	}
	ok = ok && BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	if (ok) {
		ok = BSON_APPEND_INT32(&proj, field, 1);
		ok = bson_append_document_end(&opts, &proj) && ok;
	}
	ok = ok && BSON_APPEND_INT64(&opts, "limit",
				     c == NSC_COLL_ENTRIES ? 1 : CREATED_AT_CANDIDATES);
	if (ok)
		cursor = mongoc_collection_find_with_opts(m->coll[c], &filter, &opts, NULL);
	if (!cursor) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory querying %s",
				   nsc_collection_name(c));
		goto out;
	}
	while (mongoc_cursor_next(cursor, &doc)) {
		bson_iter_t it;
		int64_t ms;

		if (!bson_iter_init_find(&it, doc, field))
			continue;
		if (BSON_ITER_HOLDS_NUMBER(&it)) {
			double d = bson_iter_as_double(&it);
			if (isfinite(d) && fabs(d) < 9.2e18) {
				*out = (int64_t)floor(d);
				break;
			}
		} else if (BSON_ITER_HOLDS_UTF8(&it) &&
			   nsc_time_parse_iso(bson_iter_utf8(&it, NULL), &ms, NULL) == NSC_OK) {
			*out = ms;
			break;
		}
	}
	if (mongoc_cursor_error(cursor, &error)) {
		char what[96];
		snprintf(what, sizeof(what), "reading the newest %.64s", m->coll_names[c]);
		rc = nsc_mongo_fail(m, what, &error, NULL, err);
	}
out:
	if (cursor)
		mongoc_cursor_destroy(cursor);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

nsc_rc nsc_mongo_query_last_known(struct nsc_mongo *m, struct nsc_last_known *out,
				  struct nsc_error *err)
{
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		nsc_rc rc = newest(m, (enum nsc_collection)c, &out->ms[c], err);
		if (rc != NSC_OK)
			return rc;
	}
	nsc_mongo_succeeded(m);
	return NSC_OK;
}
