/* SPDX-License-Identifier: MIT */
/*
 * Which devicestatus and profile documents of a batch Nightscout already
 * holds (see rest_v1.h). Its v1 storage inserts those two collections
 * without de-duplication (reference/nightscout.md §2.3, §2.4), so a batch
 * replayed after a failure part-way would repeat them. Before they are
 * posted, one GET per up to LOOKUP_IDS documents asks for their
 * identifiers:
 *
 *   GET /api/v1/devicestatus.json?find[identifier][$in][]=<id>&...
 *       &find[created_at][$gte]=<ISO>&find[created_at][$lte]=<ISO>&count=<n>
 *   GET /api/v1/profiles.json?...&find[startDate][$gte]=...&find[startDate][$lte]=...
 *
 * (brackets and `$` percent-encoded). Nightscout hands the find[] object,
 * as qs parsed it, to MongoDB through lib/server/query.js (§2.6). The date
 * bounds matter: a query without a condition on the list's date field
 * (created_at; startDate for the profile list) only looks 4 days back, so
 * a batch replayed after a longer outage would not be found. They span
 * the chunk's documents widened by a day each way, because Nightscout
 * compares them as strings with what it stored, which may carry an
 * offset. /api/v1/profile ignores find[]; /api/v1/profiles reads it.
 *
 * Only identifiers the answer carries count as held, whatever else comes
 * back. A document without the date field, or without an identifier, is
 * not asked about and is posted.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "http/rest_v1.h"
#include "timeutil.h"

/*
 * Identifiers per GET: qs, which parses Nightscout's query strings, keeps
 * at most 20 items of an array (its arrayLimit, enforced for `[]` since
 * qs 6.14.1), and the URL stays under about 2 kB.
 */
#define LOOKUP_IDS 20
/* Documents one GET may return: each identifier a few times, should the site hold copies. */
#define LOOKUP_COUNT (LOOKUP_IDS * 5)
#define LOOKUP_MARGIN_MS NSC_MS_PER_DAY
#define IN_KEY "find%5Bidentifier%5D%5B%24in%5D%5B%5D="

bool nsc_rest_v1_dedups(enum nsc_collection c)
{
	return c == NSC_COLL_ENTRIES || c == NSC_COLL_TREATMENTS;
}

struct chunk {
	size_t at[LOOKUP_IDS]; /* indexes into the collection */
	size_t n;
	int64_t from_ms, to_ms;
};

static const char *list_path(enum nsc_collection c)
{
	return c == NSC_COLL_PROFILE ? "/api/v1/profiles.json" : "/api/v1/devicestatus.json";
}

/* query.js's date field of the list read. */
static const char *date_field(enum nsc_collection c)
{
	return c == NSC_COLL_PROFILE ? "startDate" : "created_at";
}

static nsc_rc add_str(struct nsc_strbuf *q, const char *s)
{
	return nsc_strbuf_append(q, s, strlen(s));
}

static nsc_rc add_bound(struct nsc_strbuf *q, const char *field, const char *op, int64_t ms)
{
	char iso[NSC_ISO_BUF], part[128];
	nsc_rc rc = nsc_time_format_iso(ms, iso, sizeof(iso));

	if (rc != NSC_OK)
		return rc;
	snprintf(part, sizeof(part), "&find%%5B%s%%5D%%5B%%24%s%%5D=%s", field, op, iso);
	return add_str(q, part);
}

/* The query string of one lookup. */
static nsc_rc build_query(struct nsc_rest *r, const struct nsc_batch *b, enum nsc_collection c,
			  const struct chunk *k, struct nsc_strbuf *q)
{
	char count[32];
	nsc_rc rc = NSC_OK;

	for (size_t j = 0; j < k->n && rc == NSC_OK; j++) {
		const char *id = nsc_json_get_string(nsc_batch_get(b, c, k->at[j]), "identifier");
		char *esc = nsc_http_escape(r->http, id);

		if (!esc)
			return NSC_ERR_NOMEM;
		rc = add_str(q, j ? "&" IN_KEY : IN_KEY);
		if (rc == NSC_OK)
			rc = add_str(q, esc);
		free(esc);
	}
	if (rc == NSC_OK)
		rc = add_bound(q, date_field(c), "gte", k->from_ms - LOOKUP_MARGIN_MS);
	if (rc == NSC_OK)
		rc = add_bound(q, date_field(c), "lte", k->to_ms + LOOKUP_MARGIN_MS);
	snprintf(count, sizeof(count), "&count=%d", LOOKUP_COUNT);
	if (rc == NSC_OK)
		rc = add_str(q, count);
	return rc;
}

/* Marks the chunk's documents whose identifier the answer holds. */
static void mark_held(const struct nsc_batch *b, enum nsc_collection c, const struct chunk *k,
		      struct json_object *docs, bool *held, size_t *nheld)
{
	for (size_t i = 0; i < json_object_array_length(docs); i++) {
		const char *got = nsc_json_get_string(json_object_array_get_idx(docs, i), "identifier");

		for (size_t j = 0; got && j < k->n; j++) {
			size_t at = k->at[j];

			if (!held[at] &&
			    strcmp(got, nsc_json_get_string(nsc_batch_get(b, c, at), "identifier")) == 0) {
				held[at] = true;
				(*nheld)++;
			}
		}
	}
}

/* One GET for the chunk. */
static nsc_rc look_up(struct nsc_rest *r, const struct nsc_batch *b, enum nsc_collection c,
		      const struct chunk *k, bool *held, size_t *nheld, struct nsc_error *err)
{
	struct nsc_strbuf q = { 0 };
	struct json_object *answer;
	char what[160];
	nsc_rc rc;

	snprintf(what, sizeof(what), "GET %s?find[identifier][$in][]=... (%zu identifiers)",
		 list_path(c), k->n);
	if (build_query(r, b, c, k, &q) != NSC_OK) {
		nsc_strbuf_free(&q);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory building %s", what);
	}
	rc = nsc_rest_v1_call_docs(r, what, "GET", list_path(c), q.p, NULL, 0,
				   "with something that is not a JSON array of documents", &answer,
				   err);
	nsc_strbuf_free(&q);
	if (rc != NSC_OK && nsc_rc_verdict(rc) == NSC_VERDICT_DROP) {
		/* Whatever Nightscout says to the question, the documents are not at fault. */
		rc = NSC_ERR_RETRY;
		if (err)
			err->code = rc;
	}
	if (rc != NSC_OK)
		return rc;
	mark_held(b, c, k, answer, held, nheld);
	json_object_put(answer);
	return NSC_OK;
}

/* The document's time in the list's date field, false when it has none. */
static bool list_time(struct json_object *doc, enum nsc_collection c, int64_t *ms)
{
	const char *s = nsc_json_get_string(doc, date_field(c));

	return s && nsc_time_parse_iso(s, ms, NULL) == NSC_OK;
}

nsc_rc nsc_rest_v1_find_held(struct nsc_rest *r, const struct nsc_batch *b,
			     enum nsc_collection c, bool *held, size_t *nheld,
			     struct nsc_error *err)
{
	size_t n = nsc_batch_count(b, c), i = 0;
	struct json_object *seen = json_object_new_object(); /* identifiers met in the batch */
	nsc_rc rc = NSC_OK;

	*nheld = 0;
	if (!seen)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory checking the %s documents",
				     nsc_collection_name(c));
	while (i < n && rc == NSC_OK) {
		struct chunk k = { .n = 0 };

		for (; i < n && k.n < LOOKUP_IDS; i++) {
			struct json_object *doc = nsc_batch_get(b, c, i);
			const char *id = nsc_json_get_string(doc, "identifier");
			int64_t t;

			if (!id || !id[0] || !list_time(doc, c, &t))
				continue;
			if (json_object_object_get_ex(seen, id, NULL)) {
				held[i] = true; /* the same document twice in one batch */
				(*nheld)++;
				continue;
			}
			if (json_object_object_add(seen, id, NULL) != 0) {
				rc = nsc_error_set(err, NSC_ERR_NOMEM,
						   "out of memory checking the %s documents",
						   nsc_collection_name(c));
				break;
			}
			if (k.n == 0 || t < k.from_ms)
				k.from_ms = t;
			if (k.n == 0 || t > k.to_ms)
				k.to_ms = t;
			k.at[k.n++] = i;
		}
		if (rc == NSC_OK && k.n > 0)
			rc = look_up(r, b, c, &k, held, nheld, err);
	}
	json_object_put(seen);
	return rc;
}
