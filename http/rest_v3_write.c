/* SPDX-License-Identifier: MIT */
/*
 * The write of the REST v3 backend (rest_v3.h): every document of a batch
 * is one POST to /api/v3/<collection>, and up to CONNECT_REST_CONCURRENCY
 * of them are in flight at once on the multi client (client_multi.h),
 * over kept-alive connections. What may overlap:
 *
 *   - entries, treatments and devicestatus go in any order;
 *   - profile documents go one at a time, in batch order;
 *   - two documents of a collection with the same identifier never
 *     overlap (the second would race the first past v3's dedup).
 *
 * Every answer counts as it did when documents went one at a time:
 * 201 stored; 200 (isDeduplication) and 400 "Field X cannot be modified"
 * already held; any other 400 sets the document aside (DROP, after the
 * rest of the batch went); a 403 names the missing permission and stops
 * the call (RETRY); 5xx, transport failures and unreadable answers stop it
 * (RETRY). A 401 means the JWT is no longer accepted: nothing new starts,
 * the requests in flight finish, the access token is exchanged for one new
 * JWT (once per call) and the refused documents go again with it; a 401
 * with the new JWT stops the call (RETRY).
 *
 * Stopping means: start nothing more, let the requests in flight finish
 * (their answers are counted, so the counts stay exact), and return the
 * first error. The spool replays the whole batch later; v3 dedups what
 * already arrived, so nothing is lost and nothing doubles.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "jsonutil.h"
#include "http/rest_v3.h"

#define SLOTS NSC_HTTP_MULTI_MAX_SLOTS

/* A document of the batch. */
struct doc_ref {
	enum nsc_collection c;
	size_t i;
};

/* One POST in flight; its address is its tag on the multi client. */
struct flight {
	struct doc_ref doc;
	const char *id; /* the document's identifier (owned by the batch), or NULL */
	size_t bytes_out;
	bool busy;
};

struct upload {
	struct nsc_rest_v3 *x;
	const struct nsc_batch *b;
	struct nsc_write_result *res;
	struct flight flights[SLOTS];
	unsigned slots, in_flight;
	struct doc_ref next;          /* the next batch document not started yet */
	struct doc_ref resend[SLOTS]; /* refused with the old JWT, to go again first */
	size_t nresend;
	bool renewed;   /* this call has had its one new JWT */
	bool jwt_stale; /* a 401 came: start nothing until the requests in flight are back */
	nsc_rc stop;    /* the first error that ends the call; NSC_OK while it goes on */
	struct nsc_error stop_err;
	struct nsc_error first_drop;
	size_t refused[NSC_COLL_COUNT];
	struct nsc_strbuf body;
};

/* ---- bodies and answers ------------------------------------------------------------ */

/* The v3 body of a batch document: app, date and utcOffset added where missing. */
static nsc_rc make_body(struct json_object *doc, struct nsc_strbuf *out, struct nsc_error *err)
{
	struct json_object *copy = NULL, *v = NULL;
	const char *app, *text;
	int64_t t, have;
	size_t len = 0;
	nsc_rc rc = NSC_OK;

	if (nsc_doc_time_ms(doc, &t) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_DROP,
				     "a document has neither a numeric `date` nor a `created_at` time");
	if (json_object_deep_copy(doc, &copy, NULL) != 0 || !copy)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory copying a document");
	if (!nsc_json_get_int64(copy, "date", &have) && nsc_json_add_int64(copy, "date", t) != 0)
		rc = NSC_ERR_NOMEM;
	if (rc == NSC_OK && (!json_object_object_get_ex(copy, "utcOffset", &v) || !v) &&
	    nsc_json_add_int64(copy, "utcOffset", 0) != 0)
		rc = NSC_ERR_NOMEM;
	app = nsc_json_get_string(copy, "app");
	if (rc == NSC_OK && (!app || !app[0]) && nsc_json_add_string(copy, "app", NSC_DOC_APP) != 0)
		rc = NSC_ERR_NOMEM;
	text = rc == NSC_OK ? json_object_to_json_string_length(copy, NSC_JSON_WIRE, &len) : NULL;
	out->len = 0;
	if (!text || nsc_strbuf_append(out, text, len) != NSC_OK)
		rc = NSC_ERR_NOMEM;
	json_object_put(copy);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "out of memory preparing a document");
	return NSC_OK;
}

/* 201 -> stored, 200 -> already held. Anything unreadable -> RETRY. */
static nsc_rc count_answer(const char *what, const struct nsc_http_response *resp, bool *stored,
			   struct nsc_error *err)
{
	struct json_object *answer = nsc_json_parse(resp->body, resp->body_len);
	int64_t status = resp->status;

	if (!json_object_is_type(answer, json_type_object)) {
		json_object_put(answer);
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "Nightscout answered %s without its JSON result (a proxy page "
				     "or a cut-off answer?); will retry",
				     what);
	}
	nsc_json_get_int64(answer, "status", &status);
	*stored = status != 200;
	json_object_put(answer);
	return NSC_OK;
}

static void post_path(enum nsc_collection c, char *path, size_t size)
{
	snprintf(path, size, "/api/v3/%s", nsc_collection_name(c));
}

static void post_what(enum nsc_collection c, char *what, size_t size)
{
	snprintf(what, size, "POST /api/v3/%s", nsc_collection_name(c));
}

/* ---- the upload ------------------------------------------------------------------ */

static void stop_with(struct upload *u, nsc_rc rc, const struct nsc_error *err)
{
	if (u->stop != NSC_OK)
		return;
	u->stop = rc;
	u->stop_err = *err;
	u->stop_err.code = rc;
}

/* A document Nightscout will not take (or that cannot be sent): the rest still goes. */
static void refuse(struct upload *u, enum nsc_collection c, const struct nsc_error *err)
{
	u->refused[c]++;
	if (u->first_drop.code == NSC_OK)
		u->first_drop = *err;
}

/* The next document to start: one to send again, else the next of the batch. */
static bool peek(const struct upload *u, struct doc_ref *d, bool *again)
{
	struct doc_ref n = u->next;

	*again = u->nresend > 0;
	if (*again) {
		*d = u->resend[0];
		return true;
	}
	while ((int)n.c < NSC_COLL_COUNT && n.i >= nsc_batch_count(u->b, n.c)) {
		n.c = (enum nsc_collection)(n.c + 1);
		n.i = 0;
	}
	if ((int)n.c >= NSC_COLL_COUNT)
		return false;
	*d = n;
	return true;
}

static void consume(struct upload *u, const struct doc_ref *d, bool again)
{
	if (again) {
		u->nresend--;
		memmove(&u->resend[0], &u->resend[1], u->nresend * sizeof(u->resend[0]));
	} else {
		u->next.c = d->c;
		u->next.i = d->i + 1;
	}
}

/* Whether d may go while the requests in flight have not answered. */
static bool may_overlap(const struct upload *u, const struct doc_ref *d, const char *id)
{
	for (unsigned k = 0; k < u->slots; k++) {
		const struct flight *f = &u->flights[k];

		if (!f->busy || f->doc.c != d->c)
			continue;
		if (d->c == NSC_COLL_PROFILE)
			return false;
		if (id && f->id && strcmp(id, f->id) == 0)
			return false;
	}
	return true;
}

static struct flight *free_flight(struct upload *u)
{
	for (unsigned k = 0; k < u->slots; k++)
		if (!u->flights[k].busy)
			return &u->flights[k];
	return NULL;
}

/* Starts the POST of d's body (in u->body) in a free flight. */
static nsc_rc post(struct upload *u, const struct doc_ref *d, const char *id,
		   struct nsc_error *err)
{
	const char *headers[] = { u->x->jwt.header, NULL };
	struct nsc_strbuf url = { 0 };
	struct flight *f = free_flight(u);
	char path[64], what[80];
	nsc_rc rc;

	if (!f)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "no free request slot");
	post_path(d->c, path, sizeof(path));
	post_what(d->c, what, sizeof(what));
	rc = nsc_rest_url(&u->x->rest, what, path, NULL, &url, err);
	if (rc == NSC_OK)
		rc = nsc_http_multi_start(u->x->rest.multi, "POST", url.p, headers, u->body.p,
					  u->body.len, f, err);
	nsc_strbuf_free(&url);
	if (rc != NSC_OK)
		return rc;
	f->doc = *d;
	f->id = id;
	f->bytes_out = u->body.len;
	f->busy = true;
	u->in_flight++;
	return NSC_OK;
}

/*
 * Starts the next document if it may go now. True when one was used up
 * (started, or set aside because it cannot be sent); false when nothing
 * more can start until an answer comes back, or nothing is left.
 */
static bool start_one(struct upload *u)
{
	struct nsc_error err = { 0 };
	struct json_object *doc;
	struct doc_ref d;
	const char *id;
	bool again;
	nsc_rc rc;

	if (u->stop != NSC_OK || u->jwt_stale || u->in_flight >= u->slots || !peek(u, &d, &again))
		return false;
	doc = nsc_batch_get(u->b, d.c, d.i);
	id = nsc_json_get_string(doc, "identifier");
	if (!may_overlap(u, &d, id))
		return false;
	consume(u, &d, again);
	rc = make_body(doc, &u->body, &err);
	if (rc == NSC_OK)
		rc = post(u, &d, id, &err);
	if (rc != NSC_OK && nsc_rc_verdict(rc) == NSC_VERDICT_DROP) {
		refuse(u, d.c, &err);
		return true;
	}
	if (rc != NSC_OK) {
		stop_with(u, rc, &err);
		return false;
	}
	return true;
}

/* A 401 or 403 to f's POST. */
static nsc_rc auth_refused(struct upload *u, const struct flight *f, const char *what,
			   const struct nsc_http_response *resp, struct nsc_error *err)
{
	if (resp->status == 401 && !u->renewed) {
		/* Sent with the JWT in use when it started: all of those come back before a new one. */
		if (u->nresend >= SLOTS)
			return nsc_error_set(err, NSC_ERR_INTERNAL, "too many documents to send again");
		u->resend[u->nresend++] = f->doc;
		u->jwt_stale = true;
		return NSC_OK;
	}
	if (u->stop != NSC_OK)
		return u->stop; /* already stopping: the first refusal was logged */
	return nsc_rest_v3_auth_gave_up(u->x, what, resp, err);
}

/* A 400 or another answer that sets f's document aside. */
static void refused_answer(struct upload *u, const struct flight *f,
			   const struct nsc_http_response *resp, const struct nsc_error *err)
{
	char said[256];

	nsc_http_server_message(resp, said, sizeof(said));
	if (strstr(said, "cannot be modified")) {
		/* Held already, written without the same app/fields. */
		nsc_dbg(u->x->rest.log, NSC_REST_COMP, "event=duplicate_kept collection=%s msg=\"%s\"",
			nsc_collection_name(f->doc.c), said);
		u->res->duplicates[f->doc.c]++;
	} else {
		refuse(u, f->doc.c, err);
	}
}

/* Waits for one answer and counts it. */
static void take_answer(struct upload *u)
{
	struct nsc_http_response resp;
	struct nsc_error err = { 0 };
	struct flight *f;
	char what[80];
	bool stored = false;
	void *tag;
	nsc_rc rc = nsc_http_multi_next(u->x->rest.multi, &tag, &resp, &err);

	if (rc != NSC_OK) {
		/* libcurl failed: every request in flight was dropped. */
		for (unsigned k = 0; k < u->slots; k++)
			u->flights[k].busy = false;
		u->in_flight = 0;
		stop_with(u, rc, &err);
		nsc_http_response_free(&resp);
		return;
	}
	f = tag;
	f->busy = false;
	u->in_flight--;
	post_what(f->doc.c, what, sizeof(what));
	nsc_rest_log_http(&u->x->rest, what, &resp, f->bytes_out);
	rc = nsc_http_classify(NSC_REST_V3, what, &resp, &err);
	if (rc == NSC_OK) {
		rc = count_answer(what, &resp, &stored, &err);
		if (rc == NSC_OK && stored)
			u->res->stored[f->doc.c]++;
		else if (rc == NSC_OK)
			u->res->duplicates[f->doc.c]++;
	} else if (rc == NSC_ERR_AUTH) {
		rc = auth_refused(u, f, what, &resp, &err);
	} else if (nsc_rc_verdict(rc) == NSC_VERDICT_DROP) {
		refused_answer(u, f, &resp, &err);
		rc = NSC_OK;
	}
	if (rc == NSC_OK)
		nsc_rest_progress(&u->x->rest); /* one document through: a waiter sees it */
	else
		stop_with(u, rc, &err);
	nsc_http_response_free(&resp);
}

/* Everything in flight is back after a 401: the one new JWT of this call. */
static void renew(struct upload *u)
{
	struct nsc_error err = { 0 };
	nsc_rc rc;

	u->jwt_stale = false;
	u->renewed = true;
	rc = nsc_rest_v3_renew_jwt(u->x, &err);
	if (rc != NSC_OK)
		stop_with(u, rc, &err);
}

nsc_rc nsc_rest_v3_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
			 struct nsc_error *err)
{
	struct upload u = { .x = ctx, .b = b, .res = res };
	struct nsc_error local;
	nsc_rc rc;

	if (!err)
		err = &local;
	memset(res, 0, sizeof(*res));
	u.slots = nsc_http_multi_slots(u.x->rest.multi);
	rc = nsc_rest_v3_ensure_jwt(u.x, err);
	if (rc != NSC_OK)
		return rc;
	for (;;) {
		while (start_one(&u))
			;
		if (u.in_flight > 0)
			take_answer(&u);
		else if (u.stop == NSC_OK && u.jwt_stale)
			renew(&u);
		else
			break; /* nothing in flight, and nothing more may start */
	}
	nsc_strbuf_free(&u.body);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (u.refused[c])
			nsc_err(u.x->rest.log, NSC_REST_COMP,
				"event=documents_refused api=v3 collection=%s count=%zu msg=\"%s\"",
				nsc_collection_name((enum nsc_collection)c), u.refused[c],
				u.first_drop.msg);
	}
	if (u.stop != NSC_OK) {
		*err = u.stop_err;
		return u.stop;
	}
	if (u.first_drop.code != NSC_OK) {
		*err = u.first_drop;
		return u.first_drop.code;
	}
	nsc_error_clear(err);
	return NSC_OK;
}
