/* SPDX-License-Identifier: MIT */
/*
 * A Medtronic CareLink cloud on the test server (server.h), after
 * reference/vendors.md §6 (Auth0 + PKCE login "method C" §6.2, session
 * calls §6.3, data endpoints and both payload shapes §6.4, errors §6.5,
 * times §6.6) and the fixtures of §8.5, written independently of any
 * CareLink driver (own base64url, own time formatting, OpenSSL's SHA256).
 *
 * One server plays every host: the driver under test rewrites the
 * carelink.minimed.*, clcloud.minimed.* and carelink-login.minimed.* hosts
 * to tsrv_url(). URLs handed back name the real EU hosts
 * (https://clcloud.minimed.eu/..., https://carelink.minimed.eu/patient,
 * Auth0 hostname carelink-login.minimed.eu).
 *
 * Login (no Bearer needed)
 * - `GET /connect/carepartner/v13/discover/android/3.6`: supportedCountries
 *   GB -> EU, US -> US, and CP entries for EU and US (US on the .com hosts)
 *   with UseSSOConfiguration "Auth0SSOConfiguration", the Auth0SSOConfiguration
 *   URL, baseUrlCareLink and baseUrlCumulus.
 * - `GET /connect/carepartner/v13/sso/auth0.json`: server {hostname, port 443,
 *   prefix ""}, client {client_id, scope, audience, redirect_uri} (the TCL_*
 *   values), system_endpoints {authorization_endpoint_path "/authorize",
 *   token_endpoint_path "/oauth/token"}.
 * - The browser step is tcl_browser_login() (no CAPTCHA, no form). As an
 *   addition `GET /authorize?<same query>` answers 302 with Location set to
 *   the same redirect URL (400 {"error":"invalid_request"} when the query is
 *   wrong), for a test that wants to follow it over HTTP.
 * - `POST /oauth/token`, form-urlencoded:
 *   grant_type=authorization_code&client_id&code&redirect_uri&code_verifier:
 *   the code must be unused and issued for that redirect_uri, and
 *   base64url(SHA-256(code_verifier)) (no padding) must equal its
 *   code_challenge; else 403 {"error":"invalid_grant","error_description"}.
 *   A wrong verifier or redirect_uri does not use the code up; a success
 *   does. grant_type=refresh_token&client_id&refresh_token: a new access
 *   token, and (unless keep_refresh) a new refresh token, the old one then
 *   refused; unknown, rotated or revoked: 403 invalid_grant. Wrong client_id
 *   (either grant): 401 {"error":"access_denied",...}. Missing fields: 400
 *   {"error":"invalid_request"}; another grant_type: 400
 *   {"error":"unsupported_grant_type"}. Success: 200 {"access_token",
 *   "refresh_token" (left out on a refresh with keep_refresh), "expires_in",
 *   "token_type":"Bearer","scope"}.
 * - Access tokens: base64url({"alg":"RS256","typ":"JWT"}) "."
 *   base64url({"sub":<username>,"iat":s,"exp":s,"aud":TCL_AUDIENCE,"jti"})
 *   "." base64url(32 pseudo-random bytes). exp - iat = access_lifetime_s;
 *   the token is refused from exp on (simulator clock). Refresh tokens:
 *   "RT-" and 24 hex digits.
 *
 * Session and data (`Authorization: Bearer <access token>`; none, unknown,
 * expired or invalidated: 401 {})
 * - `GET /patient/users/me`: {"id":"u-1","username","firstName":"Ann",
 *   "lastName":"Doe","country","language":"en","role":"CARE_PARTNER_OUS" |
 *   "PATIENT_OUS","mfaRequired":false}. The username is TCL_CARER for a
 *   care partner, the patient's (patients[0], default TCL_PATIENT) for a
 *   patient account.
 * - `GET /patient/m2m/links/patients`: [{"username","firstName","lastName"}]
 *   (first names Bob, Cat, Dan, Eve; last name Doe); a patient account: 403 {}.
 * - `GET /patient/countries/settings?countryCode=<cc>&language=en`:
 *   {"blePereodicDataEndpoint":"https://clcloud.minimed.eu/connect/carepartner/v11/display/message"};
 *   countryCode missing or not the account's country (compared
 *   case-insensitively, "gb" is fine): 400 {}.
 * - `GET /patient/monitor/data`: {"deviceFamily":<device_family>}.
 * - `POST /connect/carepartner/v11/display/message` JSON {"username","role",
 *   "patientId"}: username the account's, role "carepartner" for a care
 *   partner or "patient" for a patient account, patientId a linked
 *   patient's username (a patient account: its own); anything else 400 {}.
 *   For the BLE families (every device_family but "GUARDIAN") the answer is
 *   {"metadata":{},"patientData":{...}} (2025 shape) or, with legacy_shape,
 *   the flat shape. For GUARDIAN it is a 200 {} stub (§6.5): Guardian data
 *   come from the legacy GETs.
 * - `GET /patient/connect/data?cpSerialNumber=NONE&msgType=last24hours&requestTime=<ms>`
 *   (patient account; a care partner gets 403 {}) and
 *   `GET /patient/m2m/connect/data/gc/patients/<username>?...same query...`
 *   (care partner, a linked patient; otherwise 403 {}): always the flat
 *   legacy shape. With GUARDIAN: medicalDeviceFamily "GUARDIAN", no pump
 *   fields (no reservoir, pump battery, activeInsulin), markers BG_READING
 *   and CALIBRATION only; other families: as the display message's flat
 *   shape. Query other than that: 400 {}.
 * - `/connect/carepartner/v5/display/message` and every other unknown path
 *   under /connect/carepartner/, /patient/, /oauth/, /authorize: 404 {}.
 *
 * The patient's data (deterministic from seed, patient index and time;
 * every slot on the epoch-anchored grid k * cadence_ms)
 * - The pump last uploaded at U = now - stale_ms (now - 60 s when 0):
 *   lastMedicalDeviceDataUpdateServerTime = lastConduitUpdateServerDateTime
 *   = U, currentServerTime = now. The sgs are the grid slots t with
 *   U - 24 h < t <= U, oldest first, all `kind` "SG"; sg 40..400 mg/dL from
 *   a smooth curve, sensorState NO_ERROR_MESSAGE, except every slot with
 *   k % 97 == seed % 97 (two or three a day at 5 min): sg 0, sensorState
 *   WARM_UP. lastSG is the newest sgs entry; lastSGTrend from the change
 *   of the newest non-zero value against the one 15 minutes (3 SGs) back
 *   (NONE when the newest is 0): < -45 DOWN_TRIPLE, < -30 DOWN_DOUBLE,
 *   < -15 DOWN, <= 15 NONE, <= 30 UP, <= 45 UP_DOUBLE, else UP_TRIPLE.
 * - Pump-local time = UTC + offset_min, no DST. 2025 shape: `timestamp`
 *   "YYYY-MM-DDTHH:MM:SS" pump-local without zone (SGs, lastSG, markers,
 *   lastConduitDateTime, activeInsulin.datetime, lastAlarm.datetime), plus
 *   clientTimeZoneName and pumpBatteryLevelPercent. Legacy shape:
 *   `datetime` (SGs, lastSG) and `dateTime` (markers)
 *   "YYYY-MM-DDTHH:MM:SS.000+HH:MM" with the real offset,
 *   lastConduitDateTime the same way, sMedicalDeviceTime "Apr 19, 2025
 *   17:58:20" (pump-local U), medicalDeviceBatteryLevelPercent. Both:
 *   medicalDeviceFamily "NGP", conduitBatteryLevel, reservoirRemainingUnits,
 *   sensorState, calibStatus "LESS_THAN_TWELVE_HRS", timeToNextCalibHours,
 *   conduitInRange, conduitMedicalDeviceInRange, conduitSensorInRange (true),
 *   activeInsulin {amount, datetime (U to the minute)}, lastAlarm {code 102,
 *   datetime (2 h before U, on the grid), type "ALARM"}, bgUnits "MGDL".
 * - Markers (true UTC, jittered by whole minutes, then snapped down to the
 *   grid; only those in the SG window), daily: meals at about 07:30,
 *   12:30 and 19:00 UTC, each a MEAL (`amount` carbs) and an INSULIN
 *   (deliveredFastAmount, programmedFastAmount, bolusType FAST, or DUAL
 *   with deliveredExtendedAmount for the evening meal every other day,
 *   activationType RECOMMENDED, completed true) sharing index and time;
 *   lone INSULIN corrections (activationType MANUAL) at about 15:00 and
 *   22:00; BG_READING at about 07:00 and CALIBRATION at about 07:10 and
 *   19:10 (`value` mg/dL); AUTO_BASAL_DELIVERY (`bolusAmount`) every hour
 *   at :20. `index` is the slot within the UTC day, (t mod 24 h) /
 *   cadence (0..287 at 5 min), so an instant keeps its index. 2025 markers:
 *   {type, index, timestamp, displayTime (same), data:{dataValues:{...}}}
 *   with the numbers as strings ("3.0", "45") and completed a boolean;
 *   legacy markers: {type, index, dateTime, flat fields as numbers,
 *   effectiveDuration (minutes, 0 for FAST)}. Newest last.
 *
 * Ownership & concurrency: state is guarded by one mutex; handlers run on
 * the server's threads. tcl_free() only after tsrv_stop().
 */
#ifndef NSC_TESTS_SERVER_CARELINK_H
#define NSC_TESTS_SERVER_CARELINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "server.h"

#define TCL_CARER "carer1"
#define TCL_PATIENT "patient1"
#define TCL_CLIENT_ID "CLIENTID"
#define TCL_REDIRECT_URI "com.medtronic.carelink://callback"
#define TCL_SCOPE "openid profile offline_access"
#define TCL_AUDIENCE "https://api.example/"
#define TCL_MAX_PATIENTS 4
#define TCL_DISPLAY_PATH "/connect/carepartner/v11/display/message"
#define TCL_DISCOVERY_PATH "/connect/carepartner/v13/discover/android/3.6"
#define TCL_SSO_PATH "/connect/carepartner/v13/sso/auth0.json"
#define TCL_TOKEN_PATH "/oauth/token"
#define TCL_RETRY_AFTER_S 25

struct tcl;

struct tcl_config {
	bool patient_account;        /* the account is the patient itself (role PATIENT_OUS); default a care partner (CARE_PARTNER_OUS, username TCL_CARER) */
	const char *patients[TCL_MAX_PATIENTS]; /* a care partner's linked patients' usernames; none: { TCL_PATIENT } */
	const char *country;         /* users/me country, default "GB" */
	const char *device_family;   /* /patient/monitor/data deviceFamily: default "NGP_BLE"; "SIMPLERA" also BLE; "GUARDIAN" legacy */
	bool legacy_shape;           /* the BLE display message in the pre-2025 flat shape (datetime with offsets, sMedicalDeviceTime) instead of {metadata, patientData} */
	int offset_min;              /* the pump's local time offset east of UTC; default 60 (use 330 for +05:30) */
	bool offset_given;           /* addition: offset_min as given even when 0 (a pump on UTC) */
	const char *tz_name;         /* patientData.clientTimeZoneName, default "Europe/London" */
	int64_t cadence_ms;          /* SG every; 0: 300000 */
	uint64_t seed;
	int64_t access_lifetime_s;   /* access JWT exp - iat; 0: 3600 */
	bool keep_refresh;           /* true: a refresh returns no new refresh token; default false = rotate (the old one is revoked) */
	int64_t stale_ms;            /* the pump's last upload was this long before now (0: one minute ago) */
	int64_t (*now_ms)(void *ctx); /* NULL: real time */
	void *now_ctx;
};

/* Registers the routes on srv. NULL on allocation failure or a full route table. */
struct tcl *tcl_attach(struct tsrv *srv, const struct tcl_config *cfg);
void tcl_free(struct tcl *c);

/*
 * The token pair a browser login would have given (as if carelink-login had
 * run), written as a token file's JSON {access_token, refresh_token,
 * client_id, token_url, audience, scope} into buf; token_url is
 * "<server URL>/oauth/token". The tokens are live (they count as neither a
 * code exchange nor a refresh). Returns the length, or -1 when buf is too small.
 */
int tcl_token_file_json(struct tcl *c, char *buf, size_t size);
/*
 * The browser's part of carelink-login: given the authorize URL the command
 * printed (any scheme and host; path /authorize), checks client_id,
 * response_type=code, redirect_uri, scope, audience,
 * code_challenge_method=S256, a code_challenge and a state, and returns
 * (malloc'd) the redirect URL the browser would be sent to:
 * "<redirect_uri>?code=<code>&state=<state>" (the decoded state
 * percent-encoded again, RFC 3986 unreserved characters as they are). NULL when the URL is wrong (why on stderr).
 */
char *tcl_browser_login(struct tcl *c, const char *authorize_url);

/* ---- scripting (thread-safe) ---- */
/*
 * Every refresh token issued so far is refused from now on: 403
 * {"error":"invalid_grant",...}. Tokens from a later code exchange (a new
 * interactive login) or tcl_token_file_json() work.
 */
void tcl_revoke_refresh(struct tcl *c);
/* Access tokens issued so far answer 401 (the phone app logged in elsewhere). */
void tcl_invalidate_access(struct tcl *c);
/*
 * The next `count` requests whose path starts with path_prefix answer
 * `status` with body {} (429 adds Retry-After: TCL_RETRY_AFTER_S), before
 * any other check. count <= 0 removes the script for that prefix.
 */
void tcl_fail_next(struct tcl *c, const char *path_prefix, int status, int count);

/* ---- counters ---- */
size_t tcl_refreshes(struct tcl *c);      /* successful refresh grants */
size_t tcl_code_exchanges(struct tcl *c); /* successful authorization_code grants */
/* The newest refresh token issued ("" when none). */
void tcl_last_refresh_token(struct tcl *c, char *buf, size_t size);
/* addition: the newest access token issued ("" when none). */
void tcl_last_access_token(struct tcl *c, char *buf, size_t size);

/* ---- expected values, from the same model the answers come from (no driver code) ---- */
/* The SGs the next data answer holds (the first patient): array of {sg, trueUtcMs, kind, sensorState}, oldest first. */
size_t tcl_sgs(struct tcl *c, struct json_object **out);
/* Markers of the next answer: {type, index, trueUtcMs, and the amounts as numbers}, oldest first. */
size_t tcl_markers(struct tcl *c, struct json_object **out);
/* additions: the same for a linked patient by username (0 and an empty array when unknown). */
size_t tcl_patient_sgs(struct tcl *c, const char *patient, struct json_object **out);
size_t tcl_patient_markers(struct tcl *c, const char *patient, struct json_object **out);
/* addition: the simulator's clock. */
int64_t tcl_now(struct tcl *c);

#endif
