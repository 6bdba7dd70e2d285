/* SPDX-License-Identifier: MIT */
/*
 * Another Nightscout as a source (CONNECT_SOURCE=nightscout),
 * reference/vendors.md §4: the glue on the kit (nightscout.c) and the pure
 * protocol tests use directly (nightscout_protocol.c): the endpoint and
 * its token, the collections setting, the v1 page requests, the JWT
 * exchange's answer, the classification of answers and the transform.
 *
 * Reading (API v1): each configured collection newest first, page after
 * page downwards from now to the collection's last-known time less an
 * overlap, each page's lower edge ($lte its oldest time) the next page's
 * upper bound, so documents sharing a boundary time are read twice and
 * kept once, never lost. A page shorter than the page size is the last.
 * Documents are copied as the source stores them: `_id`, `srvModified`
 * and `srvCreated` dropped, everything else (identifier, device, app,
 * enteredBy) kept; the batch completes what Nightscout would add.
 *
 * Reading (API v3, issue 11): with an access token (v3 takes only the
 * Bearer JWT) and a site whose GET /api/v3/version answers, each
 * collection's v3 history is read as well, after its v1 pages: every
 * document modified after the collection's bookmark, soft-deleted ones
 * included, oldest change first. The v1 read stays: documents written
 * through API v1 carry no srvModified and never show in v3 history. In
 * the fetch's result a deleted history document removes its identifier
 * (one deleted at the source is never copied again), a valid one replaces
 * the v1 copy (it is the newer) or adds a document the v1 window missed
 * (a treatment edited long after its created_at).
 */
#ifndef NSC_SRC_SOURCES_NIGHTSCOUT_H
#define NSC_SRC_SOURCES_NIGHTSCOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "error.h"
#include "http/client.h"
#include "source.h"
#include "sources/kit/verdict.h"

#define NSC_NS_DEFAULT_COLLECTIONS "entries,treatments,devicestatus,profile"
#define NSC_NS_DEFAULT_MAX_COUNT 1000
/* Each collection is read again this far behind its last-known time (late uploads). */
#define NSC_NS_OVERLAP_MS (60 * 60 * 1000)
/* The range of one backfill page. */
#define NSC_NS_BACKFILL_PAGE_MS (7LL * 24 * 60 * 60 * 1000)
/* Pages one collection may take in one fetch; more is NSC_ERR_RANGE (the next frame goes on). */
#define NSC_NS_PAGE_LIMIT 50

extern const struct nsc_source_driver nsc_source_nightscout;
extern const struct nsc_vendor_words nsc_ns_words;

/*
 * CONNECT_SOURCE_ENDPOINT split into the site's base URL (no query, no
 * trailing slash) and the access token of its ?token= (NULL without one).
 * Both malloc'd; the token is a secret (the config registered it).
 * NSC_ERR_CONFIG naming the setting, NSC_ERR_NOMEM.
 */
nsc_rc nsc_ns_split_endpoint(const char *endpoint, char **base, char **token, struct nsc_error *err);

/* True when two base URLs name the same site (scheme, host, port and path, any case of host). */
bool nsc_ns_same_site(const char *a, const char *b);

/*
 * CONNECT_SOURCE_COLLECTIONS ("entries,treatments,devicestatus,profile";
 * nightscout-connect's "profiles" accepted) as a bit per enum
 * nsc_collection. NULL or "" is the default. NSC_ERR_CONFIG naming the
 * setting and the accepted names.
 */
nsc_rc nsc_ns_parse_collections(const char *text, unsigned *mask, struct nsc_error *err);

/*
 * The v1 read of collection c: documents after after_ms (exclusive) up
 * to upto_ms (inclusive; 0: no upper bound), count of them, newest first.
 * entries filter on `date` (epoch ms), the others on `created_at` (UTC
 * ISO), profile on nothing (Nightscout's /api/v1/profile ignores find[]).
 * Malloc'd; NULL when out of memory.
 */
char *nsc_ns_v1_url(const char *base, enum nsc_collection c, int64_t after_ms, int64_t upto_ms,
		    unsigned count);

/* API v3 answers at most this many documents a page (API3_MAX_LIMIT, §5.1; also parseLimit's default). */
#define NSC_NS_V3_MAX_LIMIT 1000

/* GET /api/v3/version (public): whether the site speaks API v3. Malloc'd; NULL when out of memory. */
char *nsc_ns_version_url(const char *base);

/*
 * The version answer: true for a 200 whose body is a JSON object with a
 * `result` object ({status, result: {version, apiVersion, ...}}); false
 * for anything else (404 on a site without v3, an HTML page, an error).
 */
bool nsc_ns_version_answer(const struct nsc_http_response *resp);

/*
 * The v3 history read of collection c: documents whose srvModified is
 * above after_ms (Nightscout's `gt`), at most limit, srvModified
 * ascending. Malloc'd; NULL when out of memory.
 */
char *nsc_ns_history_url(const char *base, enum nsc_collection c, int64_t after_ms, unsigned limit);

/* The payload part holding collection c's history pages, e.g. "entries.history". */
const char *nsc_ns_history_part(enum nsc_collection c);

/*
 * A history answer {status, result: [...]}: the result array (*page,
 * owned by the caller), its count and the newest srvModified among its
 * documents (0 when none has one). NSC_ERR_DROP with err for any other
 * shape.
 */
nsc_rc nsc_ns_history_read(const char *body, size_t len, enum nsc_collection c, struct json_object **page,
			   size_t *n, int64_t *newest_ms, struct nsc_error *err);

/*
 * After a history page read from after_ms with this limit: false when it
 * was the last (fewer than limit documents). Otherwise *next_after is the
 * next page's lower bound: newest_ms - 1, so the documents that share the
 * page's newest srvModified, some of which may not have fitted, are read
 * again rather than lost to `gt` (the merge keeps each once). *stuck is
 * true when that would not move past after_ms: more than limit documents
 * share one srvModified and no page size reaches past them.
 */
bool nsc_ns_history_next(int64_t after_ms, size_t n, unsigned limit, int64_t newest_ms, int64_t *next_after,
			 bool *stuck);

/* The JWT exchange's URL for an access token (malloc'd, a secret: it holds the token). */
char *nsc_ns_jwt_url(const char *base, const char *token);

/*
 * The exchange's answer {token, iat, exp}: the JWT (malloc'd) and its
 * lifetime exp - iat in seconds (0 when not given). NSC_ERR_PARSE for
 * anything else, NSC_ERR_NOMEM.
 */
nsc_rc nsc_ns_jwt_answer(const char *body, size_t len, char **jwt, int64_t *lifetime_s);

/* Which call an answer belongs to. */
enum nsc_ns_call {
	NSC_NS_CALL_EXCHANGE, /* the access token for a JWT */
	NSC_NS_CALL_READ,     /* a collection page */
};

/* How the source is read: an access token (exchanged for a JWT), the API secret, or neither. */
enum nsc_ns_credential {
	NSC_NS_CRED_NONE,
	NSC_NS_CRED_SECRET,
	NSC_NS_CRED_TOKEN,
	/* A token whose JWT has not read this collection yet: a 401 is no expiry but a missing role. */
	NSC_NS_CRED_NEW_TOKEN,
};

/*
 * What an answer means (the kit's default map with the source's rules):
 * a refused token exchange is REJECTED naming CONNECT_SOURCE_ENDPOINT, a
 * read refused for a missing permission is REJECTED naming the role to
 * add, a 401 on a read is AUTH with a token that read before (the JWT
 * expired: one exchange again) and REJECTED otherwise (API v1 answers a
 * missing permission with 401 too).
 */
void nsc_ns_answer_verdict(enum nsc_ns_call call, const struct nsc_http_response *resp,
			   enum nsc_collection c, enum nsc_ns_credential cred, struct nsc_vendor_verdict *v);

/*
 * A page as read: an array of documents; *n their count and *oldest_ms
 * the oldest time among them (0 when none has one). NSC_ERR_DROP with
 * err when the body is no JSON array.
 */
nsc_rc nsc_ns_page_read(const char *body, size_t len, enum nsc_collection c, struct json_object **page,
			size_t *n, int64_t *oldest_ms, struct nsc_error *err);

/* A document's time for paging: `date` (entries) or `created_at`; false when it has none. */
bool nsc_ns_doc_time(struct json_object *doc, enum nsc_collection c, int64_t *ms);

/*
 * The fetch's payload {"entries": [page, ...], "entries.history": [page,
 * ...], "treatments": [...], ...} -> documents, each once (pages overlap
 * at their edges), `_id`, `srvModified` and `srvCreated` dropped, deleted
 * ones (isValid false) left out. A document is known by its identifier,
 * else its `_id`. History merges in: its newest version of each document
 * (pages are srvModified ascending, so the last seen) replaces the v1
 * copy; a deleted one removes it even when the v1 read had it valid; a
 * history identifier of 24 hex digits is the `_id` of a v1-written
 * document that v3 reports as its identifier (§5.5), so the copy drops it
 * and gets the same identity as the v1 copy. Documents the batch refuses
 * are skipped and counted. NSC_ERR_DROP when the payload is not that
 * shape.
 */
nsc_rc nsc_ns_transform(const char *payload, size_t len, struct nsc_batch *out, size_t *skipped,
			struct nsc_error *err);

#endif
