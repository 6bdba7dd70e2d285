/* SPDX-License-Identifier: MIT */
/*
 * Medtronic CareLink as a source (CONNECT_SOURCE=minimedcarelink),
 * reference/vendors.md §6: the glue on the kit (carelink.c) and the pure
 * protocol tests use directly (carelink_protocol.c: hosts, which URLs the
 * token may go to, the answers of the session calls; carelink_docs.c: the
 * data answer -> Nightscout documents).
 *
 * Login: the token file CONNECT_CARELINK_TOKEN_FILE (made once by
 * `nightscout-connect carelink-login`, or by carelink-python-client and
 * its peers). The access token is renewed at the file's token_url shortly
 * before its JWT exp and once after a 401; a rotated refresh token is
 * written back (atomically, 0600) before the new access token is used. A
 * refused renewal is REJECTED: the user runs carelink-login again.
 *
 * Session (the authorize step, cached until the session is dropped):
 * users/me (patient or care partner), the linked patients of a care
 * partner (the configured one; several and none configured is REJECTED
 * with their names), the country's BLE data endpoint, the device family.
 * Data: BLE and Simplera families POST the country's endpoint, older pumps
 * and Guardian GET the legacy or M2M paths.
 */
#ifndef NSC_SRC_SOURCES_CARELINK_H
#define NSC_SRC_SOURCES_CARELINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "error.h"
#include "http/client.h"
#include "source.h"
#include "sources/kit/verdict.h"

#define NSC_CARELINK_URL_MAX 512
#define NSC_CARELINK_NAME_MAX 128
/* Renew the access token this long before its exp. */
#define NSC_CARELINK_REFRESH_MARGIN_MS (10 * 60 * 1000)
/* The pump's last upload older than this is stale: the phone or pump stopped sending. */
#define NSC_CARELINK_STALE_MS (20 * 60 * 1000)

extern const struct nsc_source_driver nsc_source_carelink;
extern const struct nsc_vendor_words nsc_carelink_words;

/* The region's two hosts, or CONNECT_CARELINK_SERVER in place of both. */
struct nsc_carelink_hosts {
	char carelink[NSC_CARELINK_URL_MAX]; /* "https://carelink.minimed.eu": session calls */
	char cloud[NSC_CARELINK_URL_MAX];    /* "https://clcloud.minimed.eu": carepartner data */
	char tld[8];                         /* "eu" or "com" */
	bool server;                         /* both are CONNECT_CARELINK_SERVER */
};

/* region "eu" (default) or "us"; server NULL or a base URL. NSC_ERR_CONFIG naming the setting. */
nsc_rc nsc_carelink_hosts_for(const char *region, const char *server, struct nsc_carelink_hosts *out,
			      struct nsc_error *err);

/*
 * A URL CareLink handed back (the periodic data endpoint), checked before
 * the token goes there: on a CareLink host of the region (carelink.*,
 * clcloud.*), rewritten to CONNECT_CARELINK_SERVER when that is set, or
 * already on the server's host. *out malloc'd. NSC_ERR_DROP (naming the
 * host) for any other host or a URL that is not https (http only on the
 * server).
 */
nsc_rc nsc_carelink_vendor_url(const struct nsc_carelink_hosts *h, const char *url, char **out,
			       struct nsc_error *err);

/*
 * The token file's token_url as requested (malloc'd; NULL when out of
 * memory): as it is, or on CONNECT_CARELINK_SERVER when that is set and
 * the URL names a Medtronic host (*.minimed.eu, *.minimed.com).
 */
char *nsc_carelink_login_url(const struct nsc_carelink_hosts *h, const char *token_url);

/* A token renewal's answer: OK, REJECTED (run carelink-login again), or the kit's map. */
void nsc_carelink_refresh_verdict(const struct nsc_http_response *resp, struct nsc_vendor_verdict *v);

/* A session or data call's answer: 401 and 403 are AUTH (renew once), 400/404/410/422 DROP, else the kit's map. */
void nsc_carelink_call_verdict(const struct nsc_http_response *resp, struct nsc_vendor_verdict *v);

/* Who the token belongs to (users/me). */
struct nsc_carelink_me {
	char username[NSC_CARELINK_NAME_MAX];
	char country[8]; /* lower case, "" when absent */
	bool care_partner;
};
nsc_rc nsc_carelink_me_read(const char *body, size_t len, struct nsc_carelink_me *out, struct nsc_error *err);

/*
 * The linked patient to read: the configured one (NULL: none), the only
 * one, or REJECTED listing them when there are several and none is
 * configured (or the configured one is not linked); none linked is
 * REJECTED too. NSC_ERR_DROP when the body is not a list.
 */
nsc_rc nsc_carelink_pick_patient(const char *body, size_t len, const char *configured,
				 char out[NSC_CARELINK_NAME_MAX], struct nsc_error *err);

/* The country settings' BLE endpoint (malloc'd). NSC_ERR_DROP when absent. */
nsc_rc nsc_carelink_ble_endpoint(const char *body, size_t len, char **out, struct nsc_error *err);

/* The device family (monitor data) and whether it reads over the BLE endpoint. NSC_ERR_DROP when absent. */
nsc_rc nsc_carelink_family(const char *body, size_t len, char family[NSC_CARELINK_NAME_MAX], bool *ble,
			   struct nsc_error *err);

/* The BLE data request's body {"username","role","patientId"} (malloc'd; NULL when out of memory). */
char *nsc_carelink_ble_body(const char *username, bool care_partner, const char *patient);

/* What a data answer says besides its documents. */
struct nsc_carelink_view {
	bool stale;           /* the pump's last upload is older than NSC_CARELINK_STALE_MS */
	int64_t upload_ms;    /* lastMedicalDeviceDataUpdateServerTime, 0 when absent */
	int offset_min;       /* the pump clock's offset from UTC used for local times */
};

/*
 * A data answer (2025 {metadata, patientData} or the older flat shape) ->
 * entries, treatments and one devicestatus. family names the device in
 * documents ("nsconnect-carelink-<family>"). Bad records are skipped and
 * counted; NSC_ERR_DROP when the answer is not a CareLink data document.
 */
nsc_rc nsc_carelink_transform(const char *body, size_t len, const char *family, struct nsc_batch *out,
			      size_t *skipped, struct nsc_carelink_view *view, struct nsc_error *err);

#endif
