/* SPDX-License-Identifier: MIT */
/*
 * The Nightscout source driver: token exchange, paged v1 reads and, where
 * the site has API v3 and the credential is a token, paged v3 history
 * reads, sequenced on the kit.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "secret.h"
#include "sources/kit/bearer.h"
#include "sources/kit/paging.h"
#include "sources/kit/secret_slot.h"
#include "sources/kit/vendor.h"
#include "sources/nightscout/nightscout.h"
#include "timeutil.h"

#define COMP "nightscout"
/* Exchange the JWT again this long before it expires. */
#define JWT_MARGIN_MS (5 * NSC_MS_PER_MINUTE)

enum step {
	STEP_NONE,
	STEP_EXCHANGE, /* access token -> JWT */
	STEP_FETCH,    /* the collections' pages */
};

NSC_VENDOR_PROFILE(profile, COMP, &nsc_ns_words, "exchange", "fetch");

/* What this session knows of the site's API v3 (asked once a session, at its first fetch). */
enum v3_state {
	V3_UNKNOWN,
	V3_ON,
	V3_OFF,
};

struct ns_ctx {
	struct nsc_vendor_base base; /* first: the kit's standard ops cast to it */
	char *site;                  /* the source's base URL, no query */
	enum nsc_ns_credential cred;
	struct nsc_secret_slot token;       /* the endpoint's ?token= (NSC_NS_CRED_TOKEN) */
	struct nsc_secret_slot secret_hash; /* SHA-1 hex of CONNECT_SOURCE_API_SECRET */
	struct nsc_bearer jwt;              /* the exchanged JWT, while held */
	unsigned collections;               /* bit per enum nsc_collection */
	unsigned max_count;                 /* page size */
	unsigned read_ok;                   /* collections the current JWT has read (bit each) */
	/* The fetch in flight. */
	struct nsc_paging pages;
	int coll;             /* the collection being read, -1 before the first */
	int64_t after_ms;     /* its lower bound (exclusive) */
	int64_t lookback_from_ms; /* where a collection with nothing stored starts */
	int64_t upto_ms;          /* the fetch's upper bound (a backfill page), 0: now */
	struct nsc_last_known last_known;
	/* API v3 history. */
	enum v3_state v3;
	bool with_history;                    /* this fetch reads history (no backfill page) */
	bool in_history;                      /* the part being read is the collection's history */
	int64_t hist_after_ms;                /* the history page's lower bound (exclusive) */
	unsigned hist_read;                   /* collections whose history this fetch read whole (bit each) */
	int64_t hist_from[NSC_COLL_COUNT];    /* where this fetch's history of each began */
	int64_t hist_newest[NSC_COLL_COUNT];  /* the newest srvModified this fetch saw in each */
	/*
	 * Kept across fetches and sessions: where each collection's next
	 * history read begins (exclusive), 0 before the first. Moved only
	 * when a fetch succeeded whole.
	 */
	int64_t bookmark[NSC_COLL_COUNT];
};

/* ---- lifecycle ------------------------------------------------------------ */

static void ns_free(struct ns_ctx *ctx)
{
	nsc_vendor_base_fini(&ctx->base);
	nsc_paging_fini(&ctx->pages);
	nsc_bearer_clear(&ctx->jwt);
	nsc_secret_slot_forget(&ctx->token);
	nsc_secret_slot_forget(&ctx->secret_hash);
	free(ctx->site);
	free(ctx);
}

static nsc_rc ns_configure(struct ns_ctx *ctx, const struct nsc_config *cfg, struct nsc_error *err)
{
	char *token = NULL;
	nsc_rc rc = nsc_ns_split_endpoint(cfg->source_endpoint, &ctx->site, &token, err);
	if (rc == NSC_OK && token != NULL)
		rc = nsc_secret_slot_keep(&ctx->token, token) == NSC_OK
			     ? NSC_OK
			     : nsc_error_set(err, NSC_ERR_NOMEM, "Nightscout source: out of memory");
	nsc_secret_free(token);
	if (rc != NSC_OK)
		return rc;
	rc = nsc_ns_parse_collections(cfg->source_collections, &ctx->collections, err);
	if (rc != NSC_OK)
		return rc;
	/* Copying a site into itself would double every document on every poll. */
	if ((cfg->output == NSC_OUTPUT_REST || cfg->output == NSC_OUTPUT_REST3) &&
	    nsc_ns_same_site(ctx->site, cfg->nightscout_endpoint))
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_SOURCE_ENDPOINT is the same site as CONNECT_NIGHTSCOUT_ENDPOINT: "
				     "the bridge would copy the site into itself; point one of them at the other site");
	if (cfg->source_api_secret != NULL && cfg->source_api_secret[0] != '\0') {
		char hex[NSC_SHA1_HEX_BUF];
		rc = nsc_http_sha1_hex(cfg->source_api_secret, hex, err);
		if (rc == NSC_OK && nsc_secret_slot_keep(&ctx->secret_hash, hex) != NSC_OK)
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "Nightscout source: out of memory");
		nsc_secret_wipe(hex, sizeof(hex));
		if (rc != NSC_OK)
			return rc;
	}
	/* A token names a reader; with only the secret, the secret's hash opens every read. */
	ctx->cred = nsc_secret_slot_held(&ctx->token)         ? NSC_NS_CRED_TOKEN
		    : nsc_secret_slot_held(&ctx->secret_hash) ? NSC_NS_CRED_SECRET
							      : NSC_NS_CRED_NONE;
	ctx->max_count = cfg->source_max_count > 0 ? cfg->source_max_count : NSC_NS_DEFAULT_MAX_COUNT;
	return nsc_paging_init(&ctx->pages, "the Nightscout source", NSC_NS_PAGE_LIMIT) == NSC_OK
		       ? NSC_OK
		       : nsc_error_set(err, NSC_ERR_INTERNAL, "Nightscout source: bad page limit");
}

static nsc_rc ns_create(const struct nsc_source_env *env, void **out, struct nsc_error *err)
{
	if (env == NULL || env->config == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "nightscout: created without configuration");
	struct ns_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "nightscout: out of memory");
	nsc_secret_slot_init(&ctx->token, env->log);
	nsc_secret_slot_init(&ctx->secret_hash, env->log);
	nsc_bearer_init(&ctx->jwt, env->log);
	nsc_rc rc = nsc_vendor_base_init(&ctx->base, &profile, env, err);
	if (rc != NSC_OK) {
		free(ctx);
		return rc;
	}
	rc = ns_configure(ctx, env->config, err);
	if (rc != NSC_OK) {
		ns_free(ctx);
		return rc;
	}
	*out = ctx;
	static const char *const cred_names[] = { "none", "api-secret", "token" };
	nsc_dbg(env->log, COMP, "event=create base=%s credential=%s collections=%u page=%u", ctx->site,
		cred_names[ctx->cred], ctx->collections, ctx->max_count);
	return NSC_OK;
}

static size_t ns_servers(void *vctx, const char **urls, size_t max)
{
	const struct ns_ctx *c = vctx;
	if (max < 1)
		return 0;
	urls[0] = c->site;
	return 1;
}

/* doctor's words for what is read, with which credential and over which API. */
static void ns_describe_selection(void *vctx, char *buf, size_t size)
{
	const struct ns_ctx *c = vctx;
	char colls[96] = "";
	size_t at = 0;
	for (int i = 0; i < NSC_COLL_COUNT; i++)
		if (c->collections & (1u << i)) {
			int n = snprintf(colls + at, sizeof(colls) - at, "%s%s", at ? ", " : "",
					 nsc_collection_name((enum nsc_collection)i));
			if (n < 0 || (size_t)n >= sizeof(colls) - at)
				break;
			at += (size_t)n;
		}
	const char *cred = c->cred == NSC_NS_CRED_TOKEN ? "an access token (exchanged for a JWT)"
			   : c->cred == NSC_NS_CRED_SECRET
				   ? "CONNECT_SOURCE_API_SECRET (sent with each request: the read checks it)"
				   : "no credential (the site must let anyone read)";
	const char *api = c->cred != NSC_NS_CRED_TOKEN ? "API v1 pages"
			  : c->v3 == V3_ON		? "API v3 history and v1 pages"
			  : c->v3 == V3_OFF		? "API v1 pages (the site has no API v3)"
							: "API v1 pages";
	snprintf(buf, size, "reads %s of %s with %s, over %s", colls, c->site, cred, api);
}

static void ns_destroy(void *vctx)
{
	if (vctx != NULL)
		ns_free(vctx);
}

static void ns_drop_session(void *vctx)
{
	struct ns_ctx *ctx = vctx;
	if (nsc_secret_slot_held(&ctx->jwt.access))
		nsc_dbg(ctx->base.log, COMP, "event=session_dropped");
	nsc_bearer_clear(&ctx->jwt);
	ctx->v3 = V3_UNKNOWN; /* the next session asks again */
}

/* ---- requests ------------------------------------------------------------- */

/* GETs url (freed, and wiped: it may hold the token) with the credential the site takes. */
static void get(struct ns_ctx *ctx, char *url, nsc_vendor_answer_fn answered)
{
	char *auth = NULL;
	if (url == NULL) {
		nsc_vendor_finish(&ctx->base, NSC_ERR_NOMEM, "Nightscout source: out of memory building a request");
		return;
	}
	struct nsc_vendor_request rq = {
		.method = "GET",
		.url = url,
		.headers = { "Accept: application/json", "User-Agent: nsconnect/" PACKAGE_VERSION, NULL },
	};
	if (ctx->base.step == STEP_FETCH && ctx->cred == NSC_NS_CRED_TOKEN) {
		if (nsc_bearer_header(&ctx->jwt, &auth) != NSC_OK || auth == NULL) {
			nsc_secret_free(url);
			nsc_vendor_finish(&ctx->base, NSC_ERR_AUTH, "Nightscout source: no JWT; exchanging the token again");
			return;
		}
		rq.headers[2] = auth;
	} else if (ctx->base.step == STEP_FETCH && ctx->cred == NSC_NS_CRED_SECRET) {
		auth = nsc_vendor_printf("api-secret: %s", nsc_secret_slot_get(&ctx->secret_hash));
		if (auth == NULL) {
			nsc_secret_free(url);
			nsc_vendor_finish(&ctx->base, NSC_ERR_NOMEM, "Nightscout source: out of memory");
			return;
		}
		rq.headers[2] = auth;
	}
	nsc_vendor_send(&ctx->base, &rq, answered);
	nsc_secret_free(auth);
	nsc_secret_free(url);
}

/* ---- the token exchange --------------------------------------------------- */

static void exchange_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct ns_ctx *ctx = (struct ns_ctx *)b;
	struct nsc_vendor_verdict v;
	nsc_ns_answer_verdict(NSC_NS_CALL_EXCHANGE, resp, NSC_COLL_ENTRIES, ctx->cred, &v);
	if (v.rc != NSC_OK) {
		nsc_dbg(b->log, COMP, "event=exchange_failed status=%ld rc=%s", resp->status, nsc_rc_name(v.rc));
		nsc_vendor_finish_verdict(b, &v);
		return;
	}
	char *jwt = NULL;
	int64_t lifetime_s = 0;
	nsc_rc rc = nsc_ns_jwt_answer(resp->body, resp->body_len, &jwt, &lifetime_s);
	if (rc == NSC_OK)
		rc = nsc_bearer_set(&ctx->jwt, jwt, NULL);
	nsc_secret_free(jwt);
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, rc == NSC_ERR_NOMEM ? NSC_ERR_NOMEM : NSC_ERR_RETRY,
				  "The Nightscout source answered the token exchange without a token");
		return;
	}
	ctx->read_ok = 0;
	ctx->v3 = V3_UNKNOWN;
	/* The lifetime counts from our clock, so a skewed server clock does not matter. */
	if (lifetime_s > 0)
		nsc_bearer_expires_in(&ctx->jwt, nsc_vendor_wall_ms(b), lifetime_s);
	nsc_dbg(b->log, COMP, "event=session_established lifetime_s=%" PRId64, lifetime_s);
	nsc_vendor_finish(b, NSC_OK, NULL);
}

static void ns_authenticate(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct ns_ctx *ctx = vctx;
	if (ctx->cred != NSC_NS_CRED_TOKEN ||
	    !nsc_bearer_needs_refresh(&ctx->jwt, nsc_vendor_wall_ms(&ctx->base), JWT_MARGIN_MS)) {
		done(arg, NSC_OK, NULL);
		return;
	}
	nsc_vendor_begin(&ctx->base, STEP_EXCHANGE, done, arg, NULL);
	get(ctx, nsc_ns_jwt_url(ctx->site, nsc_secret_slot_get(&ctx->token)), exchange_answered);
}

/* ---- reading -------------------------------------------------------------- */

static void page_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp);
static void history_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp);

/* Where collection c starts: its last-known time less the overlap, else the lookback (a backfill page's start). */
static int64_t start_of(const struct ns_ctx *ctx, int c)
{
	int64_t known = ctx->last_known.ms[c];
	if (known <= 0 || ctx->upto_ms > 0)
		return ctx->lookback_from_ms;
	int64_t from = known - NSC_NS_OVERLAP_MS;
	return from > ctx->lookback_from_ms ? from : ctx->lookback_from_ms;
}

static void request_page(struct ns_ctx *ctx, int64_t upto_ms)
{
	enum nsc_collection c = (enum nsc_collection)ctx->coll;
	nsc_trace(ctx->base.log, COMP, "event=page collection=%s after_ms=%" PRId64 " upto_ms=%" PRId64,
		  nsc_collection_name(c), ctx->after_ms, upto_ms);
	get(ctx, nsc_ns_v1_url(ctx->site, c, ctx->after_ms, upto_ms, ctx->max_count), page_answered);
}

/* A history page holds as many as a v1 page, within what v3 allows. */
static unsigned history_limit(const struct ns_ctx *ctx)
{
	return ctx->max_count < NSC_NS_V3_MAX_LIMIT ? ctx->max_count : NSC_NS_V3_MAX_LIMIT;
}

static void request_history(struct ns_ctx *ctx)
{
	enum nsc_collection c = (enum nsc_collection)ctx->coll;
	nsc_trace(ctx->base.log, COMP, "event=history_page collection=%s after_ms=%" PRId64, nsc_collection_name(c),
		  ctx->hist_after_ms);
	get(ctx, nsc_ns_history_url(ctx->site, c, ctx->hist_after_ms, history_limit(ctx)), history_answered);
}

/*
 * What the fetch read is stored (or dropped as unusable): each collection
 * whose history it read whole goes on from the newest change it saw. Not
 * at the fetch: a failed write must read the same changes again.
 */
static void ns_consumed(void *vctx)
{
	struct ns_ctx *ctx = vctx;
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (!(ctx->hist_read & (1u << c)))
			continue;
		/* newest - 1: a change stamped in the same millisecond after this read is not lost to `gt`. */
		int64_t next = ctx->hist_newest[c] > 0 ? ctx->hist_newest[c] - 1 : ctx->hist_from[c];
		if (next > ctx->bookmark[c])
			ctx->bookmark[c] = next;
	}
	ctx->hist_read = 0; /* moved once per fetch */
}

/* Starts the next configured collection after the current one, or ends the fetch. */
static void next_collection(struct ns_ctx *ctx)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	ctx->in_history = false;
	while (++ctx->coll < NSC_COLL_COUNT && !(ctx->collections & (1u << ctx->coll)))
		;
	if (ctx->coll >= NSC_COLL_COUNT) {
		nsc_rc rc = nsc_paging_finish(&ctx->pages, ctx->base.out, &err);
		if (rc != NSC_OK)
			ctx->hist_read = 0; /* nothing of this fetch moves a bookmark */
		nsc_vendor_finish(&ctx->base, rc, rc == NSC_OK ? NULL : err.msg);
		return;
	}
	if (nsc_paging_start(&ctx->pages, nsc_collection_name((enum nsc_collection)ctx->coll), &err) != NSC_OK) {
		nsc_vendor_finish(&ctx->base, NSC_ERR_NOMEM, err.msg);
		return;
	}
	ctx->after_ms = start_of(ctx, ctx->coll);
	request_page(ctx, ctx->upto_ms);
}

/*
 * The collection's v1 pages are read: its v3 history next, when this
 * fetch reads history, else the next collection. History starts at the
 * bookmark, or for a collection never read so at its v1 start.
 */
static void collection_read(struct ns_ctx *ctx)
{
	int c = ctx->coll;
	struct nsc_error err;
	nsc_error_clear(&err);
	if (!ctx->with_history || ctx->v3 != V3_ON) {
		next_collection(ctx);
		return;
	}
	if (nsc_paging_start(&ctx->pages, nsc_ns_history_part((enum nsc_collection)c), &err) != NSC_OK) {
		nsc_vendor_finish(&ctx->base, NSC_ERR_NOMEM, err.msg);
		return;
	}
	ctx->in_history = true;
	ctx->hist_from[c] = ctx->bookmark[c] > 0 ? ctx->bookmark[c] : start_of(ctx, c);
	ctx->hist_newest[c] = 0;
	ctx->hist_after_ms = ctx->hist_from[c];
	request_history(ctx);
}

/* A read's answer classified; a token's first read of c tells a missing role from an expiry. */
static bool read_accepted(struct ns_ctx *ctx, struct nsc_http_response *resp, enum nsc_collection c,
			  const char *what)
{
	struct nsc_vendor_verdict v;
	enum nsc_ns_credential cred = ctx->cred;
	if (cred == NSC_NS_CRED_TOKEN && !(ctx->read_ok & (1u << c)))
		cred = NSC_NS_CRED_NEW_TOKEN;
	nsc_ns_answer_verdict(NSC_NS_CALL_READ, resp, c, cred, &v);
	if (v.rc != NSC_OK) {
		nsc_dbg(ctx->base.log, COMP, "event=%s_failed collection=%s status=%ld rc=%s", what,
			nsc_collection_name(c), resp->status, nsc_rc_name(v.rc));
		nsc_vendor_finish_verdict(&ctx->base, &v);
		return false;
	}
	ctx->read_ok |= 1u << c;
	return true;
}

/* Hands a page to the kit's paging; false when the fetch ended (err says why, NSC_ERR_RANGE worded). */
static bool page_taken(struct ns_ctx *ctx, struct json_object *page, const char *cursor, bool *more)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	enum nsc_collection c = (enum nsc_collection)ctx->coll;
	nsc_rc rc = nsc_paging_page(&ctx->pages, page, cursor, more, &err);
	if (rc == NSC_ERR_DROP)
		rc = nsc_error_set(&err, NSC_ERR_DROP,
				   "The Nightscout source holds more than %u %s at one time (%s); raise "
				   "CONNECT_SOURCE_MAX_COUNT",
				   ctx->max_count, nsc_collection_name(c), cursor);
	else if (rc == NSC_ERR_RANGE)
		rc = nsc_error_set(&err, NSC_ERR_RANGE,
				   "The Nightscout source has more than %d pages of %u %s to copy; raise "
				   "CONNECT_SOURCE_MAX_COUNT or copy the history with nightscout-connect backfill",
				   NSC_NS_PAGE_LIMIT, ctx->max_count, nsc_collection_name(c));
	if (rc != NSC_OK) {
		nsc_vendor_finish(&ctx->base, rc, err.msg);
		return false;
	}
	return true;
}

static void page_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct ns_ctx *ctx = (struct ns_ctx *)b;
	enum nsc_collection c = (enum nsc_collection)ctx->coll;
	struct nsc_error err;
	nsc_error_clear(&err);
	if (!read_accepted(ctx, resp, c, "read"))
		return;
	struct json_object *page;
	size_t n;
	int64_t oldest;
	nsc_rc rc = nsc_ns_page_read(resp->body, resp->body_len, c, &page, &n, &oldest, &err);
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, rc, err.msg);
		return;
	}
	/*
	 * A full page may have more below it: the next one ends at this one's
	 * oldest time, inclusive, so documents sharing it are read again, not
	 * lost. A profile list is one page.
	 */
	char cursor[32] = "";
	if (c != NSC_COLL_PROFILE && n >= ctx->max_count && oldest > ctx->after_ms)
		snprintf(cursor, sizeof(cursor), "%" PRId64, oldest);
	bool more = false;
	if (!page_taken(ctx, page, cursor, &more))
		return;
	nsc_dbg(b->log, COMP, "event=page_read collection=%s documents=%zu more=%s", nsc_collection_name(c), n,
		more ? "yes" : "no");
	if (more)
		request_page(ctx, oldest);
	else
		collection_read(ctx);
}

static void history_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct ns_ctx *ctx = (struct ns_ctx *)b;
	enum nsc_collection c = (enum nsc_collection)ctx->coll;
	struct nsc_error err;
	nsc_error_clear(&err);
	if (resp->status == 404) {
		/* The version said v3, the history is not there (a proxy, a partial site): v1 it is. */
		nsc_dbg(b->log, COMP, "event=v3_unavailable call=history collection=%s status=404",
			nsc_collection_name(c));
		ctx->v3 = V3_OFF;
		next_collection(ctx);
		return;
	}
	if (!read_accepted(ctx, resp, c, "history"))
		return;
	struct json_object *page;
	size_t n;
	int64_t newest, next;
	bool stuck;
	nsc_rc rc = nsc_ns_history_read(resp->body, resp->body_len, c, &page, &n, &newest, &err);
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, rc, err.msg);
		return;
	}
	if (newest > ctx->hist_newest[c])
		ctx->hist_newest[c] = newest;
	char cursor[32] = "";
	if (nsc_ns_history_next(ctx->hist_after_ms, n, history_limit(ctx), newest, &next, &stuck))
		snprintf(cursor, sizeof(cursor), "%" PRId64, next);
	bool more = false;
	if (stuck) {
		json_object_put(page);
		nsc_vendor_finish(b, NSC_ERR_DROP,
				  "The Nightscout source changed more than the page size of documents in one "
				  "millisecond; raise CONNECT_SOURCE_MAX_COUNT (API v3 takes up to 1000)");
		return;
	}
	if (!page_taken(ctx, page, cursor, &more))
		return;
	nsc_dbg(b->log, COMP, "event=history_read collection=%s documents=%zu more=%s", nsc_collection_name(c), n,
		more ? "yes" : "no");
	if (more) {
		ctx->hist_after_ms = next;
		request_history(ctx);
		return;
	}
	ctx->hist_read |= 1u << c;
	next_collection(ctx);
}

/* Whether the site speaks v3, asked once a session before its first read. */
static void version_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct ns_ctx *ctx = (struct ns_ctx *)b;
	ctx->v3 = nsc_ns_version_answer(resp) ? V3_ON : V3_OFF;
	nsc_dbg(b->log, COMP, "event=v3_%s status=%ld", ctx->v3 == V3_ON ? "available" : "unavailable",
		resp->status);
	next_collection(ctx);
}

static void ns_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		     nsc_step_done_fn done, void *arg)
{
	struct ns_ctx *ctx = vctx;
	if (ctx->cred == NSC_NS_CRED_TOKEN &&
	    nsc_bearer_needs_refresh(&ctx->jwt, nsc_vendor_wall_ms(&ctx->base), JWT_MARGIN_MS)) {
		done(arg, NSC_ERR_AUTH, "The Nightscout source's JWT is about to expire; exchanging the token again");
		return;
	}
	nsc_vendor_begin(&ctx->base, STEP_FETCH, done, arg, out);
	nsc_paging_fini(&ctx->pages);
	(void)nsc_paging_init(&ctx->pages, "the Nightscout source", NSC_NS_PAGE_LIMIT);
	ctx->last_known = w->last_known;
	int64_t lookback = ctx->base.cfg->lookback_ms > 0 ? ctx->base.cfg->lookback_ms : 48 * NSC_MS_PER_HOUR;
	ctx->lookback_from_ms = w->history ? w->from_ms : w->to_ms - lookback;
	ctx->upto_ms = w->history ? w->to_ms : 0;
	ctx->coll = -1;
	/*
	 * History is by modification time, not bounded by a backfill page: a
	 * backfill reads the v1 pages of its range only. v3 takes only the
	 * Bearer JWT, so with the API secret (or nothing) it stays v1.
	 */
	ctx->with_history = !w->history && ctx->cred == NSC_NS_CRED_TOKEN;
	ctx->hist_read = 0;
	if (ctx->with_history && ctx->v3 == V3_UNKNOWN) {
		get(ctx, nsc_ns_version_url(ctx->site), version_answered);
		return;
	}
	next_collection(ctx);
}

static nsc_rc ns_transform(void *vctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			   struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct ns_ctx *ctx = vctx;
	(void)w;
	nsc_rc rc = nsc_ns_transform(in ? in->data : NULL, in ? in->len : 0, out, skipped, err);
	if (rc == NSC_OK)
		nsc_vendor_log_transform(&ctx->base, out, *skipped);
	return rc;
}

const struct nsc_source_driver nsc_source_nightscout = {
	.name = "nightscout",
	.display_name = "Nightscout",
	/* Readings every 5 minutes; a JWT lives 8 h on current servers (a 401 says sooner). */
	.timing = NSC_VENDOR_CGM_TIMING(7 * NSC_MS_PER_HOUR, 8 * NSC_MS_PER_HOUR),
	/*
	 * A site keeps everything. A week a page (2,016 5-minute readings, 10,080
	 * 1-minute ones) keeps a backfill's peak memory near 35 MB; a month
	 * measured near 100 MB (make bench-backfill).
	 */
	.history = { .page_ms = NSC_NS_BACKFILL_PAGE_MS },
	.create = ns_create,
	.destroy = ns_destroy,
	.servers = ns_servers,
	.describe_selection = ns_describe_selection,
	.authenticate = ns_authenticate,
	.drop_session = ns_drop_session,
	.cancel = nsc_vendor_std_cancel,
	.hold_off_ms = nsc_vendor_std_hold_off_ms,
	.fetch = ns_fetch,
	.consumed = ns_consumed,
	.transform = ns_transform,
};
