/* SPDX-License-Identifier: MIT */
/*
 * The Dexcom Share source (CONNECT_SOURCE=dexcomshare), reference/vendors.md
 * §2: a two-step login (account id, then session id) and the "latest
 * glucose values" call, on the engine's loop (dexcom.c), plus the pure
 * pieces tests use directly (dexcom_parse.c): the `Date(…)` forms, the
 * classification of Share's answers into nsc_rc verdicts with plain
 * messages, request sizing and the payload -> entries transform.
 */
#ifndef NSC_SRC_SOURCES_DEXCOM_H
#define NSC_SRC_SOURCES_DEXCOM_H

#include <stddef.h>
#include <stdint.h>

#include "http/client.h"
#include "sources/kit/verdict.h"
#include "batch.h"
#include "error.h"
#include "source.h"

#define NSC_DEXCOM_DEVICE "nsconnect-dexcomshare"
#define NSC_DEXCOM_APP_ID "d89443d2-327c-4a6f-89e5-496bbb0317db"    /* US and outside US */
#define NSC_DEXCOM_APP_ID_JP "d8665ade-9673-4e27-9ff6-92db4ce13d13" /* Japan */
#define NSC_DEXCOM_ZERO_UUID "00000000-0000-0000-0000-000000000000"
#define NSC_DEXCOM_UUID_LEN 36
#define NSC_DEXCOM_UUID_BUF (NSC_DEXCOM_UUID_LEN + 1)
#define NSC_DEXCOM_BASE_PATH "/ShareWebServices/Services"
#define NSC_DEXCOM_MAX_MINUTES 1440 /* the service keeps 24 h and refuses more */
#define NSC_DEXCOM_MAX_COUNT 288
#define NSC_DEXCOM_MIN_MGDL 1
#define NSC_DEXCOM_MAX_MGDL 1000
/* A reading this far past the window's end still counts (clocks differ a little). */
#define NSC_DEXCOM_FUTURE_TOLERANCE_MS INT64_C(60000)
/* Wait after a 429 that named no Retry-After. */
#define NSC_DEXCOM_DEFAULT_HOLD_OFF_MS INT64_C(60000)

extern const struct nsc_source_driver nsc_source_dexcomshare;

/* Which call an answer belongs to: login faults and data faults mean different things. */
enum nsc_dexcom_call {
	NSC_DEXCOM_CALL_LOGIN, /* AuthenticatePublisherAccount or LoginPublisherAccountById */
	NSC_DEXCOM_CALL_DATA,  /* ReadPublisherLatestGlucoseValues */
};

/* Host and application id for a region ("us", "ous", "jp"; NULL = "us"); NULL if unknown. */
const char *nsc_dexcom_region_host(const char *region);
const char *nsc_dexcom_region_app_id(const char *region);

/*
 * Share's date forms: "Date(1745081013817)", "Date(1745081013817-0400)",
 * "/Date(1426292016000-0700)/". The digits are epoch ms UTC; the suffix is
 * the device's offset, returned in minutes east of UTC (0 when absent) when
 * offset_min is not NULL. NSC_ERR_PARSE for anything else.
 */
nsc_rc nsc_dexcom_parse_date(const char *text, int64_t *ms, int *offset_min);

/* True when text is exactly a UUID (8-4-4-4-12 hex digits). */
int nsc_dexcom_is_uuid(const char *text);

/*
 * Classifies a Share answer that is not a success: a fault body
 * {"Code":…} (any status), 4xx, 5xx or a web page. Writes plain words
 * into msg and returns the code whose verdict says what happens next:
 * credential faults and a lock on a login are NSC_ERR_REJECTED; a dead
 * session (SessionIdNotFound, SessionNotValid, 401) on a data call is
 * NSC_ERR_AUTH; everything else NSC_ERR_RETRY.
 */
nsc_rc nsc_dexcom_classify_fault(enum nsc_dexcom_call call, long status, const char *body,
				 size_t len, char *msg, size_t size);

/*
 * A whole login answer (either step): NSC_OK with the id (account id or
 * session id, quotes stripped) in id; an all-zero id or an answer that is
 * no UUID string is an outage (NSC_ERR_RETRY); faults as above.
 */
nsc_rc nsc_dexcom_login_answer(long status, const char *content_type, const char *body, size_t len,
			       char id[NSC_DEXCOM_UUID_BUF], char *msg, size_t size);

/*
 * A whole data answer: NSC_OK when it is a 200 that may hold readings
 * (the transform judges the JSON); a web page instead of data (Cloudflare)
 * is NSC_ERR_RETRY; faults as above.
 */
nsc_rc nsc_dexcom_data_answer(long status, const char *content_type, const char *body, size_t len,
			      char *msg, size_t size);

/* Dexcom Share's name, server setting and default hold-off, for the kit's messages. */
extern const struct nsc_vendor_words nsc_dexcom_words;

/*
 * A login request's body, {"<id_key>": id, "password": …, "applicationId": …}
 * (malloc'd; it holds the password: wipe it), NULL when out of memory.
 */
char *nsc_dexcom_login_body(const char *id_key, const char *id, const char *password, const char *app_id);

/*
 * Any answer of a call, in the kit's shape: the login answer (id filled
 * on success) or the data answer as above, with the hold-off a 429 asks
 * for (Retry-After, else NSC_DEXCOM_DEFAULT_HOLD_OFF_MS). id may be NULL
 * for a data call.
 */
void nsc_dexcom_answer_verdict(enum nsc_dexcom_call call, const struct nsc_http_response *resp,
			       char id[NSC_DEXCOM_UUID_BUF], struct nsc_vendor_verdict *v);

/*
 * Sizes the data request for the window: minutes = ceil(gap / 1 min) in
 * 1..1440 and maxCount = ceil(gap / interval) + 1 in 1..288 (interval 0
 * means 5 min).
 */
void nsc_dexcom_request_size(const struct nsc_fetch_window *w, int *minutes, int *max_count);

/*
 * Share payload (a JSON array, newest first) -> sgv entries for the window
 * (date > from_ms, date <= to_ms + NSC_DEXCOM_FUTURE_TOLERANCE_MS). A
 * record without a usable date (WT, else ST, else DT) or Value in 1..1000
 * is skipped and counted; an unknown trend becomes NONE. A payload that is
 * not a JSON array is NSC_ERR_DROP.
 */
nsc_rc nsc_dexcom_transform(const char *data, size_t len, const struct nsc_fetch_window *w,
			    struct nsc_batch *out, size_t *skipped, struct nsc_error *err);

#endif
