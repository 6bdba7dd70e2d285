/* SPDX-License-Identifier: MIT */
/*
 * A LibreLinkUp follower API on the test server (server.h), after
 * reference/vendors.md §3 and the fixtures of §8.2, written independently
 * of the driver under test (own SHA-256 call, own time formatting):
 *
 * - `POST /llu/auth/login` {"email","password"}: needs `product`
 *   (llu.android | llu.ios) and `version`. No version: 403 status 920. A
 *   version below the minimum still logs in (as the real service does) but
 *   every data call then answers 403 {"data":{"minimumVersion"},"status":920}.
 *   Bad e-mail or password: 200 status 2 notAuthenticated. Three failures
 *   within 60 s lock the account for 300 s; while locked every login (even
 *   a correct one) answers 200 status 429 "locked". Terms (scriptable):
 *   status 4 with step tou / pp / verifyEmail.
 * - Regions are path prefixes on the one server: `/region/<r>/llu/...`. With
 *   `region` configured, a login anywhere else answers
 *   {"status":0,"data":{"redirect":true,"region":"<r>"}} and data calls
 *   anywhere else answer 401. Without it every path serves the account.
 * - `GET /llu/connections` and `GET /llu/connections/<patientId>/graph`:
 *   `Authorization: Bearer <token>` (unknown, expired or killed: 401),
 *   `account-id` = hex SHA-256 of the user id (else 403
 *   RequiredHeaderMissing). Every answer carries a fresh "ticket"; tokens
 *   stay valid for token_lifetime_ms after issue. Unknown patient: 200
 *   status 4 couldNotLoadPatient.
 * - Readings: per patient a deterministic curve (40..400 mg/dL) from seed and
 *   time. The current glucoseMeasurement moves every cadence/5 on the grid
 *   k*(cadence/5) + TLLU_OFFSET_MS and carries TrendArrow 1..5; graphData
 *   holds the newest TLLU_GRAPH_POINTS cadence-grid readings (k*cadence +
 *   TLLU_OFFSET_MS) not after the current one, oldest first, no TrendArrow.
 *   So when the current reading lies on the cadence grid it also appears
 *   in graphData (the case the driver must not store twice).
 *   FactoryTimestamp is UTC "M/D/YYYY h:mm:ss AM|PM"; Timestamp is the same
 *   instant in the owner's zone (owner_offset_min), so using it is wrong.
 *   LibreLinkUp times have whole seconds, so the offset is whole seconds.
 *
 * Ownership & concurrency: state is guarded by one mutex; handlers run on
 * the server's threads. tllu_free() only after tsrv_stop().
 */
#ifndef NSC_TESTS_SERVER_LIBRELINKUP_H
#define NSC_TESTS_SERVER_LIBRELINKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define TLLU_OFFSET_MS 13000
#define TLLU_GRAPH_POINTS 144
#define TLLU_MAX_PATIENTS 8
#define TLLU_DEFAULT_USER "alice@example.com"
#define TLLU_DEFAULT_PASSWORD "correct-pass"
#define TLLU_DEFAULT_USER_ID "7ad66b40-ba9b-401e-9845-4f49f998cf16"
#define TLLU_DEFAULT_MIN_VERSION "4.16.0"
#define TLLU_LOCK_FAILURES 3
#define TLLU_LOCK_WINDOW_S 60
#define TLLU_LOCKOUT_S 300

struct tllu;

struct tllu_config {
	const char *user;          /* NULL: TLLU_DEFAULT_USER */
	const char *password;      /* NULL: TLLU_DEFAULT_PASSWORD */
	const char *user_id;       /* NULL: TLLU_DEFAULT_USER_ID */
	const char *region;        /* the account's region, e.g. "eu2"; NULL: served everywhere */
	const char *min_version;   /* NULL: TLLU_DEFAULT_MIN_VERSION */
	const char *patients[TLLU_MAX_PATIENTS]; /* patientIds; none: one patient = user_id */
	uint64_t seed;
	int64_t cadence_ms;        /* 0: 300000 */
	int64_t token_lifetime_ms; /* 0: 180 days */
	int owner_offset_min;      /* Timestamp's zone, minutes east of UTC */
	int64_t (*now_ms)(void *ctx); /* NULL: real time */
	void *now_ctx;
};

/* Registers the routes on srv. NULL on allocation failure. */
struct tllu *tllu_attach(struct tsrv *srv, const struct tllu_config *cfg);
void tllu_free(struct tllu *x);

/* ---- the readings (for expected values; no driver code involved) ---- */
int64_t tllu_now(struct tllu *x);
/* Time of the current reading at `now` (minute grid), and of the newest graph point. */
int64_t tllu_current_time(struct tllu *x, int64_t now_ms);
int64_t tllu_graph_newest(struct tllu *x, int64_t now_ms);
/* Value and TrendArrow of patient p at a grid time t. */
void tllu_reading_at(struct tllu *x, size_t patient, int64_t t_ms, int *mgdl, int *arrow);
/* "12/30/2022 4:47:40 PM" for epoch ms (UTC). */
void tllu_format_time(int64_t ms, char *buf, size_t size);
/* Lower-case hex SHA-256 of text (65 bytes). */
void tllu_sha256_hex(const char *text, char out[65]);

/* ---- scripting (thread-safe) ---- */
void tllu_kill_sessions(struct tllu *x);
void tllu_set_password(struct tllu *x, const char *password);
/* Locks the account for `seconds` from now. */
void tllu_lock(struct tllu *x, int64_t seconds);
/* Step the next logins must complete ("tou", "pp", "verifyEmail"); NULL clears. */
void tllu_set_terms(struct tllu *x, const char *step);
void tllu_set_empty(struct tllu *x, bool empty);
void tllu_set_min_version(struct tllu *x, const char *version);

enum tllu_call { TLLU_LOGIN, TLLU_DATA };
/*
 * The next `times` calls of that kind answer this instead (after being
 * counted). content_type NULL: application/json; retry_after_s > 0 adds
 * Retry-After. A later call replaces an unfinished script.
 */
void tllu_script(struct tllu *x, enum tllu_call which, int status, const char *content_type,
		 const char *body, int retry_after_s, int times);

/* ---- counters ---- */
struct tllu_counters {
	unsigned logins;          /* login requests, whatever the answer */
	unsigned failed_logins;   /* wrong e-mail or password */
	unsigned locked_answers;
	unsigned redirects;
	unsigned logins_ok;
	unsigned data_calls;      /* connections and graph requests */
	unsigned graph_calls;
	unsigned unauthorized;    /* 401 answers */
	unsigned tokens_issued;
};
void tllu_counters(struct tllu *x, struct tllu_counters *out);
/* Server-clock times of every login request, oldest first; returns the count (all, even if > max). */
size_t tllu_login_times(struct tllu *x, int64_t *out, size_t max);
/* The newest token issued ("" when none). */
void tllu_last_token(struct tllu *x, char *buf, size_t size);

#endif
