/* SPDX-License-Identifier: MIT */
/*
 * Glooko as a source (CONNECT_SOURCE=glooko), reference/vendors.md §5:
 * the glue on the kit (glooko.c) and the pure protocol tests use directly
 * (glooko_protocol.c: hosts, the sign-in, the classification of answers,
 * the feed pages; glooko_docs.c: records -> Nightscout documents).
 *
 * Session: a sign-in (v2, falling back to v3 when v2 answers 422) sets the
 * `_logbook-web_session` cookie and gives the patient code (glookoCode)
 * every data call names. Data: the v2 "sync" feeds, each paged by its
 * update cursor (lastUpdatedAt/lastGuid, real UTC) until Glooko says
 * lastPage. A poll starts each feed's cursor an hour before the newest
 * document the output holds in the feed's collection (Glooko syncs late,
 * and a record's update time is never before it happened); a backfill page
 * walks the feeds from the start of time filtered by the page's clinical
 * range (startDate/endDate).
 *
 * Time: Glooko writes clinical times (timestamp, pumpTimestamp) as the
 * device's local wall clock with a `Z`. Each is converted with the
 * configured zone (tzone.h). In autumn's repeated hour a wall-clock time
 * that happens twice is told apart by the record's update time (see
 * nsc_glooko_clinical_time), so a CGM's two readings of that hour land an
 * hour apart; a time spring skipped is read with the offset before the
 * change.
 */
#ifndef NSC_SRC_SOURCES_GLOOKO_H
#define NSC_SRC_SOURCES_GLOOKO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "batch.h"
#include "error.h"
#include "http/client.h"
#include "source.h"
#include "sources/kit/verdict.h"
#include "tzone.h"

#define NSC_GLOOKO_COOKIE "_logbook-web_session"
/* Records per feed page (Glooko's own page size). */
#define NSC_GLOOKO_PAGE_LIMIT 500
/* Pages one feed may take in one fetch; more is NSC_ERR_RANGE (a backfill reads further). */
#define NSC_GLOOKO_MAX_PAGES 40
/* Each feed is read again this far behind the newest document held (late syncs). */
#define NSC_GLOOKO_OVERLAP_MS (60 * 60 * 1000)
/* The range of one backfill page. */
#define NSC_GLOOKO_BACKFILL_PAGE_MS (14LL * 24 * 60 * 60 * 1000)
#define NSC_GLOOKO_URL_MAX 256
#define NSC_GLOOKO_CODE_MAX 128

extern const struct nsc_source_driver nsc_source_glooko;
extern const struct nsc_vendor_words nsc_glooko_words;

/* The API base URL and the web origin sent as Origin and Referer. */
struct nsc_glooko_hosts {
	char api[NSC_GLOOKO_URL_MAX];    /* "https://api.glooko.com", no trailing slash */
	char origin[NSC_GLOOKO_URL_MAX]; /* "https://my.glooko.com" */
};

/*
 * CONNECT_GLOOKO_ENV (default/us, eu, de-fr, ca, development, production;
 * NULL: default) and CONNECT_GLOOKO_SERVER (NULL, or a base URL that
 * replaces the API host) as hosts. NSC_ERR_CONFIG naming the setting.
 */
nsc_rc nsc_glooko_hosts_for(const char *env, const char *server, struct nsc_glooko_hosts *out,
			    struct nsc_error *err);

/* One feed Glooko pages through, and what its records become. */
enum nsc_glooko_kind {
	NSC_GLOOKO_CGM,          /* /api/v2/cgm/readings -> sgv entries */
	NSC_GLOOKO_METER,        /* /api/v2/readings -> BG Check */
	NSC_GLOOKO_BOLUS,        /* /api/v2/pumps/normal_boluses -> Meal/Correction Bolus, IOB */
	NSC_GLOOKO_EXTENDED,     /* /api/v2/pumps/extended_boluses -> Combo Bolus */
	NSC_GLOOKO_BASAL,        /* /api/v2/pumps/scheduled_basals -> Temp Basal */
	NSC_GLOOKO_TEMP_BASAL,   /* /api/v2/pumps/temporary_basals -> Temp Basal */
	NSC_GLOOKO_SUSPEND,      /* /api/v2/pumps/suspend_basals -> Temp Basal at 0 */
	NSC_GLOOKO_FOOD,         /* /api/v2/foods -> Carb Correction, or into its bolus */
	NSC_GLOOKO_EVENT,        /* /api/v2/pumps/events -> Site Change, Insulin Change, Sensor Start */
	NSC_GLOOKO_ALARM,        /* /api/v2/pumps/alarms -> Note */
	NSC_GLOOKO_KIND_COUNT
};

struct nsc_glooko_feed {
	const char *path;     /* "/api/v2/cgm/readings" */
	const char *property; /* the answer's array, "readings" */
	const char *part;     /* the payload's part name, "cgm" */
	const char *time_key; /* the clinical time field, "timestamp" or "pumpTimestamp" */
	enum nsc_collection coll; /* where its documents go (for the cursor's start) */
};
const struct nsc_glooko_feed *nsc_glooko_feed(enum nsc_glooko_kind k);

/* The sign-in body (malloc'd, a secret: it holds the password). NULL when out of memory. */
char *nsc_glooko_sign_in_body(const char *email, const char *password);

/* What a sign-in answer means. */
enum nsc_glooko_sign_in {
	NSC_GLOOKO_SIGNED_IN,  /* a session cookie and a patient code */
	NSC_GLOOKO_TRY_V3,     /* v2 refused the request as unprocessable: v3's sign-in next */
	NSC_GLOOKO_SIGN_IN_FAILED, /* v: REJECTED (credentials, two-factor), RETRY, ... */
};

/*
 * Classifies a sign-in answer (v3: the v3 endpoint answered). On success
 * the cookie's Set-Cookie value index in resp->set_cookie is *cookie_at and
 * the patient code is copied into code. A two-factor account, wrong
 * credentials, a 422 from v3 (a wrong region) are REJECTED with the
 * setting to fix; anything else follows the kit's default map.
 */
enum nsc_glooko_sign_in nsc_glooko_sign_in_answer(const struct nsc_http_response *resp, bool v3,
						  size_t *cookie_at, char code[NSC_GLOOKO_CODE_MAX],
						  struct nsc_vendor_verdict *v);

/*
 * A data answer's meaning: 401 (the cookie expired) and 403 data_cant_view
 * (the patient code changed) are AUTH, one new sign-in; 404 and 422 mean
 * the account has no such feed (*unavailable true, v OK); 429 and 5xx
 * RETRY with the hold-off asked for.
 */
void nsc_glooko_data_verdict(const struct nsc_http_response *resp, bool *unavailable,
			     struct nsc_vendor_verdict *v);

/*
 * A feed's page URL (malloc'd; NULL when out of memory): patient, the
 * cursor (updated_after_ms real UTC, last_guid or NULL for the start),
 * limit and, when local_from_ms < local_to_ms, startDate/endDate (the
 * clinical range as wall-clock times written with Z).
 */
char *nsc_glooko_page_url(const char *api, enum nsc_glooko_kind k, const char *patient, int64_t updated_after_ms,
			  const char *last_guid, int64_t local_from_ms, int64_t local_to_ms);

/*
 * A feed page: its records (*records, a new reference, an array), how
 * many, whether it is the last, and the cursor of the next page
 * ("<lastUpdatedAt>|<lastGuid>", empty on the last page). NSC_ERR_DROP with
 * err when the body is not that shape.
 */
nsc_rc nsc_glooko_page_read(const char *body, size_t len, enum nsc_glooko_kind k, struct json_object **records,
			    size_t *n, bool *last, char *cursor, size_t cursor_size, struct nsc_error *err);

/* Splits a cursor "<ISO>|<guid>" into its time (ms) and guid (into guid). False when malformed. */
bool nsc_glooko_cursor_split(const char *cursor, int64_t *updated_ms, char *guid, size_t guid_size);

/*
 * The fetch's payload {"cgm": [page, ...], "boluses": [...], ...} ->
 * documents: times through tz, soft-deleted records left out, each
 * identifier from the record's guid. `device` names the source in
 * documents ("glooko"). Records that cannot be used are skipped and
 * counted. NSC_ERR_DROP when the payload is not that shape.
 */
nsc_rc nsc_glooko_transform(const char *payload, size_t len, const struct nsc_tz *tz, struct nsc_batch *out,
			    size_t *skipped, struct nsc_error *err);

/*
 * Which of two instants a wall-clock time that happens twice (autumn's
 * repeated hour) is: the later one when the record was updated within an
 * hour after it (synced promptly: the earlier one had passed long
 * before), the earlier one when it was updated before the later one
 * happened; otherwise (synced late, so either could be) the first record
 * of a kind this transform meets at that time is the earlier instant and
 * the next the later.
 */
struct nsc_glooko_fold_memo {
	int64_t local_ms[64];
	unsigned char kind[64];
	size_t count;
};

/*
 * A clinical wall-clock text ("2025-10-26T02:30:00.000Z") -> its UTC
 * instant and the offset then (minutes east of UTC); updated_ms is the
 * record's update time (real UTC, 0 when unknown). False when the text is
 * no time.
 */
bool nsc_glooko_clinical_time(const char *text, int64_t updated_ms, const struct nsc_tz *tz,
			      enum nsc_glooko_kind kind, struct nsc_glooko_fold_memo *seen, int64_t *utc_ms,
			      int *offset_min);

#endif
