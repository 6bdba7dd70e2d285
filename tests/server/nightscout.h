/* SPDX-License-Identifier: MIT */
/*
 * A small in-memory Nightscout on the test server (server.h), close enough
 * to reference/nightscout.md §4–§6 to check what a REST client sends:
 *
 * - API v1 `POST|GET <prefix>/api/v1/{entries,treatments,devicestatus,profile}[.json]`.
 *   Credentials: `api-secret` header or `?secret=` holding the SHA-1 hex of
 *   the API secret (the plain secret is refused with 401), the access token
 *   in `api-secret` or `?token=`, or a JWT in `?token=` or
 *   `Authorization: Bearer`. No credentials read as the default `readable`
 *   role. Writes normalise and dedup like Nightscout's storage code
 *   (entries: `$set` upsert on {sysTime, type}; treatments: replace on
 *   identifier else {created_at, eventType}; devicestatus and profile:
 *   plain inserts). Entries answer `_id` only for inserted documents.
 *   Reads: newest first (entries by date, treatments and devicestatus by
 *   created_at, profile by startDate), `count` honoured, and the
 *   `find[...]` filters of ns_find.h with query.js's implicit 4-day window
 *   on the date field, except on `/api/v1/profile`, which ignores them as
 *   Nightscout's does (`GET /api/v1/profiles` reads them, with startDate as
 *   its date field). A read without find[] gets no window here (Nightscout
 *   would add one), so seeded old documents stay readable. Not modelled:
 *   the purifier.
 * - `GET <prefix>/api/v2/authorization/request/<access token>` issues a
 *   JWT-like opaque token: {token, sub, permissionGroups, iat, exp}.
 * - API v3 `POST <prefix>/api/v3/<col>` (Bearer JWT only; validates app,
 *   date, utcOffset, identifier; dedup on identifier or the fallback fields
 *   of §5.4 with the update permission and immutable fields) and
 *   `GET <prefix>/api/v3/<col>?sort|sort$desc=<field>&limit=&fields=`
 *   (excludes isValid:false, §5.6). v3-stored documents carry numeric
 *   `srvModified`/`srvCreated` (epoch ms); v1-written ones do not, so they
 *   never show in v3 history (a v1 GET returns soft-deleted documents as
 *   stored, isValid:false included). `GET <prefix>/api/v3/version`
 *   (public) {status, result: {version, apiVersion, srvDate, storage}};
 *   `GET <prefix>/api/v3/<col>/history/<ms>` (srvModified above it) or
 *   `.../history` with a `Last-Modified` header (floored to seconds, at
 *   or above it): srvModified ascending, soft-deleted documents included,
 *   `limit` 1..1000 (absent: 1000, API3_MAX_LIMIT), ETag W/"<max>" and
 *   Last-Modified; Bearer JWT with the collection's read permission.
 *
 * Scripting: revoke every JWT issued so far, shorten their lifetime, deny
 * permissions to the access token, return read pages in reverse order,
 * answer every request only after a latency (a remote site), and report
 * the most requests it was answering at once and how often two v3 POSTs
 * of one identifier overlapped.
 *
 * Ownership & concurrency: the store is guarded by one mutex; handlers run
 * on the server's connection threads. tsns_free() only after tsrv_stop().
 */
#ifndef NSC_TESTS_SERVER_NIGHTSCOUT_H
#define NSC_TESTS_SERVER_NIGHTSCOUT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "server.h"

#define TSNS_SHA1_HEX_BUF 41
#define TSNS_JWT_LIFETIME_S (8 * 3600)

struct tsns;

struct tsns_config {
	const char *prefix;       /* path prefix such as "/ns"; NULL or "" for none */
	const char *api_secret;   /* the site's API_SECRET (plain); NULL: none */
	const char *access_token; /* a subject's access token; NULL: none */
	const char *subject;      /* subject name in JWT answers; NULL: "nsconnect-writer" */
};

/* Registers the routes on srv. NULL on allocation failure. */
struct tsns *tsns_attach(struct tsrv *srv, const struct tsns_config *cfg);
void tsns_free(struct tsns *ns);

/* Documents held in a collection ("entries", ...); 0 for unknown names. */
size_t tsns_count(struct tsns *ns, const char *col);
/* A deep copy of the collection's documents in insertion order (caller puts). */
struct json_object *tsns_docs(struct tsns *ns, const char *col);
/* Stores doc as is (ownership moves), adding an `_id`; for seeding reads. */
void tsns_insert(struct tsns *ns, const char *col, struct json_object *doc);

/*
 * Stores doc as a v3 POST would (ownership moves): `_id`, `identifier`
 * (the _id when missing), `subject`, and srvModified = srvCreated =
 * srv_ms (0: the server's now, tsns_set_now_ms).
 */
void tsns_insert_v3(struct tsns *ns, const char *col, struct json_object *doc, long long srv_ms);
/*
 * v3 soft delete (isValid:false) and PATCH (patch's fields set; ownership
 * of patch moves) of the document addressed by identifier (its
 * `identifier`, else its `_id`), srvModified = now. False when absent.
 */
bool tsns_delete(struct tsns *ns, const char *col, const char *identifier);
bool tsns_update(struct tsns *ns, const char *col, const char *identifier, struct json_object *patch);
/* Soft-deletes the document right after the next v1 read of col is answered (a racing delete). */
void tsns_delete_on_read(struct tsns *ns, const char *col, const char *identifier);
/* false: an old site without API v3, every /api/v3 path answers 404. */
void tsns_set_v3(struct tsns *ns, bool on);
/* The server's now for srvModified/srvCreated from here on; 0: the real clock. */
void tsns_set_now_ms(struct tsns *ns, long long ms);

/* Every JWT issued so far is refused from now on (401). */
void tsns_revoke_jwts(struct tsns *ns);
/* Lifetime of JWTs issued from now on. */
void tsns_set_jwt_lifetime(struct tsns *ns, int seconds);
size_t tsns_jwts_issued(struct tsns *ns);
/* The newest JWT issued ("" when none), copied into buf. */
void tsns_last_jwt(struct tsns *ns, char *buf, size_t size);

/* The access token (and JWTs) lose this permission, e.g. "api:treatments:create". */
void tsns_deny(struct tsns *ns, const char *permission);
/* Read pages (v1 lists, v3 search) come back oldest-first within the page. */
void tsns_reverse_reads(struct tsns *ns, bool on);
/* Every request from now on waits ms before it is answered (each on its own, in parallel). */
void tsns_set_latency_ms(struct tsns *ns, int ms);
/* The most requests it has been answering at the same time: about collection col, or any (NULL). */
size_t tsns_max_in_flight(struct tsns *ns, const char *col);
/* v3 POSTs that arrived while another with the same identifier was being answered. */
size_t tsns_identifier_overlaps(struct tsns *ns);

/* Lower-case hex SHA-1 of text, the server's own (not the client's code). */
void tsns_sha1_hex(const char *text, char out[TSNS_SHA1_HEX_BUF]);

#endif
