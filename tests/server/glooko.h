/* SPDX-License-Identifier: MIT */
/*
 * A Glooko web API on the test server (server.h), after
 * reference/vendors.md §5 and the fixtures of §8.4, written independently
 * of any Glooko driver (own curve, own UUIDs; times through iso_time.h):
 *
 * Sign-in
 * - `POST /api/v2/users/sign_in` and `POST /api/v3/users/sign_in`, body
 *   {"userLogin":{"email","password"},"deviceInformation":{"applicationType",...}}.
 *   Not JSON, no userLogin object, or no deviceInformation object with a
 *   string applicationType: 422 {"success":false,"message":"..."} (the real
 *   body is not recorded; the status is). Wrong e-mail (compared
 *   case-insensitively) or password: 401
 *   {"success":false,"message":"Invalid email or password."}. Success: 200
 *   {"userLogin":{"email","glookoCode"}} and
 *   `Set-Cookie: _logbook-web_session=<32 random hex>; path=/; HttpOnly; SameSite=Lax`.
 * - v2_unprocessable: v2 answers 422 {} to every body (as regional hosts
 *   do, NC#14); v3 still works.
 * - two_factor: correct credentials (either version) answer 200 without
 *   Set-Cookie, body {"userLogin":{"email"},"twoFactorRequired":true,
 *   "message":"A verification code was sent to your e-mail."}. That shape
 *   is invented: the real two-factor answer is not documented anywhere we
 *   know of. No call completes it.
 * - Origin, Referer and the other browser headers are accepted whatever
 *   they say; the server's request log keeps them for assertions. A Cookie
 *   header is searched for `_logbook-web_session=`; other cookies and
 *   attributes sent back by mistake are ignored (assert on the log).
 *   Sessions do not expire by themselves; tglk_expire_sessions() kills them.
 *
 * Data (GET only; other methods and any other `/api/` path: 404 {})
 *   /api/v2/cgm/readings            readings         (kind "readings", CGM)
 *   /api/v2/pumps/normal_boluses    normalBoluses
 *   /api/v2/pumps/extended_boluses  extendedBoluses
 *   /api/v2/pumps/scheduled_basals  scheduledBasals
 *   /api/v2/pumps/temporary_basals  temporaryBasals
 *   /api/v2/pumps/suspend_basals    suspendBasals
 *   /api/v2/foods                   foods
 *   /api/v2/readings                readings         (kind "meterReadings", meter BG)
 *   /api/v2/pumps/events            events
 *   /api/v2/pumps/alarms            alarms
 * - No, an unknown or an expired session cookie: 401
 *   {"error":"You need to sign in or sign up before continuing."}; query
 *   `patient` other than the glookoCode: 403 {"error":"data_cant_view"}.
 * - Update cursor: `lastUpdatedAt` (real UTC ISO; default
 *   1970-01-01T00:00:00.000Z), `lastGuid` (default all zeros), `limit`
 *   (default 100, clamped to TGLK_MAX_LIMIT), optional `startDate` /
 *   `endDate` (clinical wall clock written with Z; both ends inclusive,
 *   either may be given alone), `sendSoftDeleted` ("false" leaves
 *   soft-deleted records out; default true). The page holds the records
 *   with updatedAt <= now, ordered by (updatedAt, guid) and strictly after
 *   (lastUpdatedAt, lastGuid), at most limit of them:
 *   {"<property>":[...],"lastUpdatedAt","lastGuid","lastPage"}. The cursor
 *   fields are the last record's, or the request's as sent (the defaults
 *   when absent). lastPage is false only when more records follow.
 *   A cursor, limit or date that does not parse: 400 {"error":"bad request"}.
 *
 * Records (deterministic from the seed and the zone; slots lie on grids
 * anchored at the Unix epoch, so a record keeps its guid and values
 * whatever history_start_ms or the clock say; only those with a true
 * instant in [history_start_ms, now] exist):
 * - every record: `guid` (UUID v4 form), `softDeleted`, `updatedAt` (real
 *   UTC ISO, true instant + sync delay; an edit or soft delete sets it to
 *   now), `pumpGuid` (the pump's, the CGM's or the meter's device guid),
 *   and the clinical time = true UTC + the zone's offset at that instant,
 *   written as wall clock with `Z` ("fake UTC"): `timestamp` (CGM, foods,
 *   meter readings, events, alarms) or `pumpTimestamp` with
 *   `pumpTimestampUtcOffset:"+00:00"` (boluses, basals; wrong, as in the
 *   real service). So in an autumn repeated hour two CGM readings an hour
 *   apart carry the same `timestamp` text.
 * - readings (CGM): every cadence on the true-UTC grid k*cadence; `value`
 *   mg/dL x 100 (40..400 mg/dL from a smooth curve), `trend` DOUBLE_UP ..
 *   DOUBLE_DOWN from the 5-minute change (null for about 1 in 40),
 *   `calculated` false.
 * - normalBoluses: 5 a day (about 07:30, 12:15, 15:00, 18:45, 22:10 UTC,
 *   jittered): `insulinDelivered`, `carbsInput` (0 for the corrections at
 *   15:00 and 22:10), `insulinOnBoard`, `insulinRecommended`; the 07:30 and
 *   18:45 ones carry `foodGuid`, the guid of a food at the same instant.
 * - extendedBoluses: one every 2 days: `insulinDelivered` (the now part),
 *   `extendedInsulin`, `duration` (s).
 * - scheduledBasals: UTC segments 00-04, 04-08, 08-12, 12-18, 18-24 h each
 *   day: `startTime` (s of the clinical day), `duration` (s), `rate` (U/h),
 *   `segmentId` null.
 * - temporaryBasals one a day: `rate`, `percent`, `duration` (s);
 *   suspendBasals one every 3 days: `duration` (s).
 * - foods 4 a day (two linked from boluses, two snacks): `carbs` (g);
 *   meterReadings one a day: `value` mg/dL x 100.
 * - events: "site_change" every 3 days, "reservoir_change" 5 min after it,
 *   "cgm_sensor_start" every 10 days; `type`.
 * - alarms: one every 2 days, `type` ("low_glucose", "high_glucose",
 *   "occlusion"), `message`.
 * Kinds other than "readings" (CGM) reach Glooko sync_delay_ms late; CGM
 * cgm_sync_delay_ms late when that is > 0, else sync_delay_ms late too
 * (so a zeroed config delays both alike; give 1 ms for a prompt CGM
 * beside a late pump). An edit at time now gets
 * updatedAt now: a client that has already paged past now (same clock
 * value, larger guid) would miss it, as with the real service; tests
 * advance the clock between reading and editing.
 *
 * Ownership & concurrency: one mutex guards all state; handlers run on the
 * server's threads, the other functions on any thread. Arrays from
 * tglk_records() belong to the caller. tglk_free() only after tsrv_stop().
 */
#ifndef NSC_TESTS_SERVER_GLOOKO_H
#define NSC_TESTS_SERVER_GLOOKO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "server.h"

#define TGLK_DEFAULT_USER "alice@example.com"
#define TGLK_DEFAULT_PASSWORD "correct-pass"
#define TGLK_DEFAULT_CODE "orange-waywood-8651"
#define TGLK_MAX_LIMIT 500 /* the most records a page holds; a bigger limit is clamped */
#define TGLK_DEFAULT_LIMIT 100
#define TGLK_COOKIE "_logbook-web_session"
#define TGLK_ZERO_GUID "00000000-0000-0000-0000-000000000000"
#define TGLK_EPOCH_ISO "1970-01-01T00:00:00.000Z"
#define TGLK_MAX_ZONE 8

struct tglk;

/* Offset east of UTC in force from that instant on. */
struct tglk_transition {
	int64_t from_utc_ms;
	int32_t offset_s;
};

struct tglk_config {
	const char *user, *password, *glooko_code; /* NULL: the defaults */
	uint64_t seed;
	int64_t cadence_ms; /* CGM reading interval; 0: 300000 */
	/*
	 * The devices' zone as explicit transitions (sorted; the first applies
	 * to all earlier instants too); none: UTC. Tests give Europe/Berlin's or
	 * America/New_York's DST changes by hand.
	 */
	struct tglk_transition zone[TGLK_MAX_ZONE];
	size_t zone_count;
	int64_t sync_delay_ms;     /* pump/meter/food records reach Glooko this late; CGM too unless set */
	int64_t cgm_sync_delay_ms; /* > 0: CGM's own delay; 0 or -1: same as sync_delay_ms (1: ~prompt) */
	int64_t history_start_ms;  /* records exist from here (UTC); 0: now - 14 days (at attach) */
	bool two_factor;           /* correct credentials answer twoFactorRequired, no cookie */
	bool v2_unprocessable;     /* v2 sign-in answers 422; v3 works */
	int64_t (*now_ms)(void *ctx); /* NULL: real time */
	void *now_ctx;
};

/* Registers the routes (`/api/` and the v3 sign-in) on srv. NULL on allocation failure. */
struct tglk *tglk_attach(struct tsrv *srv, const struct tglk_config *cfg);
void tglk_free(struct tglk *g);

/* ---- scripting (thread-safe) ---- */
/* Every session cookie issued so far answers 401 from now on. */
void tglk_expire_sessions(struct tglk *g);
/*
 * The next `count` requests whose path starts with path_prefix answer
 * `status` before anything else is checked: 429 with Retry-After: 60 and
 * {"error":"Too many requests"}, 403 {"error":"data_cant_view"}, 401 the
 * sign-in error, 5xx {"error":"Internal Server Error"}, others {}.
 * Several prefixes may be pending (up to 16); the oldest match applies.
 * count <= 0 cancels what is pending for that prefix.
 */
void tglk_fail_next(struct tglk *g, const char *path_prefix, int status, int count);
/* Sets a normal bolus's insulinDelivered and its updatedAt to now (no-op for an unknown guid). */
void tglk_edit_bolus(struct tglk *g, const char *guid, double insulin);
/* softDeleted true and updatedAt now, for a record of any kind (no-op for an unknown guid). */
void tglk_soft_delete(struct tglk *g, const char *guid);

/* ---- expected values for tests (no driver code involved) ---- */
/*
 * A deep copy (*out, the caller's) of the records of a kind that exist and
 * have synced by now (soft-deleted ones included), ordered by true instant
 * then guid; each also carries "trueUtcMs" (int64). Kinds: "readings"
 * (CGM), "normalBoluses", "extendedBoluses", "scheduledBasals",
 * "temporaryBasals", "suspendBasals", "foods", "meterReadings", "events",
 * "alarms". Returns the count; an unknown kind gives 0 and an empty array.
 */
size_t tglk_records(struct tglk *g, const char *kind, struct json_object **out);
/* Sign-ins that issued a cookie so far. */
size_t tglk_sign_ins(struct tglk *g);
/* The simulator's clock (the now_ms hook or real time). */
int64_t tglk_now(struct tglk *g);

#endif
