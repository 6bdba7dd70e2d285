/* SPDX-License-Identifier: MIT */
/*
 * A Dexcom Share service on the test server (server.h), written from
 * reference/vendors.md §2 and the fixtures of §8.1, independent of the
 * driver under test:
 *
 * - `POST /ShareWebServices/Services/General/AuthenticatePublisherAccount`
 *   {accountName, password, applicationId} -> "<account id>" (a JSON string);
 * - `POST …/General/LoginPublisherAccountById` {accountId, password,
 *   applicationId} -> "<session id>";
 * - `POST …/Publisher/ReadPublisherLatestGlucoseValues?sessionId=&minutes=&maxCount=`
 *   (sessionID accepted too; body empty or {}) -> readings newest first
 *   within `minutes` of now and the last 24 h, at most maxCount.
 *   minutes > 1440 or maxCount > 288 (or < 1) -> 400 "Bad Request", as is
 *   a session id that is not a UUID.
 *
 * Faults are HTTP 500 {"Code","Message","SubCode","TypeName":"FaultException"}:
 * AccountPasswordInvalid for a wrong password, an unknown account or a wrong
 * applicationId (the US/OUS id, or the Japan id when cfg.japan);
 * SSO_AuthenticateMaxAttemptsExceeded while an account is locked (after
 * lock_after failures within lock_window_ms, for lock_duration_ms);
 * SessionIdNotFound for an unknown session, SessionNotValid (or the code
 * set by tsdx_set_dead_session_code) for a killed or expired one;
 * InvalidArgument for a login body missing a field.
 *
 * Readings: slot k sits at k * cadence_ms + offset_ms (13817 ms by default,
 * so milliseconds matter), its value and trend from the account's seed and
 * k only: account i of cfg.accounts draws from cfg.seed + i, so the first
 * account's readings are tsdx_reading's and each account has its own
 * (tsdx_account_reading). A session reads the readings of the account
 * that logged in. A reading is served from its own time on, never
 * before: the newest in an answer is the last slot at or before now.
 * Dates are "Date(<ms>)" with DT carrying "-0400", or in legacy mode
 * "/Date(<ms>)/", DT "/Date(<ms>-0700)/" and a numeric Trend.
 *
 * Accounts by name or id and sessions by id are hash lookups: thousands of
 * accounts cost no more per request than one.
 *
 * Ownership & concurrency: every state change is under the simulator's
 * mutex; handlers run on the server's connection threads, scripting
 * functions on the test thread. tsdx_free() only after tsrv_stop().
 */
#ifndef NSC_TESTS_SERVER_DEXCOM_H
#define NSC_TESTS_SERVER_DEXCOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define TSDX_BASE "/ShareWebServices/Services"
#define TSDX_PATH_AUTH TSDX_BASE "/General/AuthenticatePublisherAccount"
#define TSDX_PATH_LOGIN TSDX_BASE "/General/LoginPublisherAccountById"
#define TSDX_PATH_DATA TSDX_BASE "/Publisher/ReadPublisherLatestGlucoseValues"
#define TSDX_APP_ID "d89443d2-327c-4a6f-89e5-496bbb0317db"
#define TSDX_APP_ID_JP "d8665ade-9673-4e27-9ff6-92db4ce13d13"
#define TSDX_ZERO_ID "00000000-0000-0000-0000-000000000000"
#define TSDX_ID_BUF 37
#define TSDX_DEFAULT_CADENCE_MS 300000
#define TSDX_DEFAULT_OFFSET_MS 13817
#define TSDX_MIN_MGDL 40
#define TSDX_MAX_MGDL 400

struct tsdx;

struct tsdx_account {
	const char *user;     /* accountName (compared case-insensitively; the first of equal names counts) */
	const char *password;
};

struct tsdx_config {
	const struct tsdx_account *accounts; /* at least one */
	size_t naccounts;
	uint64_t seed;
	int64_t cadence_ms;          /* reading spacing; 0: 5 min */
	int64_t offset_ms;           /* readings' offset on the grid; 0: 13817 ms */
	bool japan;                  /* expect the Japan application id */
	bool legacy;                 /* "/Date(ms-0700)/" and numeric Trend */
	int64_t session_lifetime_ms; /* 0: 24 h */
	int lock_after;              /* failed logins that lock; 0: 5 */
	int64_t lock_window_ms;      /* ... within this long; 0: 10 min */
	int64_t lock_duration_ms;    /* 0: 30 min */
	int64_t (*now_ms)(void *ctx); /* NULL: real time */
	void *now_ctx;
};

enum tsdx_endpoint { TSDX_AUTH, TSDX_LOGIN, TSDX_DATA };

/* A scripted answer (strings copied). */
struct tsdx_answer {
	int status;
	const char *body;         /* sent verbatim; NULL: empty */
	const char *content_type; /* NULL: application/json */
	const char *retry_after;  /* Retry-After header value; NULL: none */
};

struct tsdx_counters {
	unsigned auth_calls;     /* AuthenticatePublisherAccount requests */
	unsigned login_calls;    /* LoginPublisherAccountById requests */
	unsigned data_calls;     /* ReadPublisherLatestGlucoseValues requests */
	unsigned failed_logins;  /* answered AccountPasswordInvalid (either step) */
	unsigned locked_answers; /* answered SSO_AuthenticateMaxAttemptsExceeded */
	unsigned sessions;       /* session ids issued */
};

/* Registers the routes on srv. NULL on allocation failure or without accounts. */
struct tsdx *tsdx_attach(struct tsrv *srv, const struct tsdx_config *cfg);
void tsdx_free(struct tsdx *x);

/* The reading of slot k: its time, value (40..400) and Dexcom trend number (0..9). */
void tsdx_reading(const struct tsdx *x, int64_t slot, int64_t *t_ms, int *mgdl, int *trend);
/* The same for account i (its index in cfg.accounts, below naccounts); account 0 is tsdx_reading. */
void tsdx_account_reading(const struct tsdx *x, size_t account, int64_t slot, int64_t *t_ms, int *mgdl,
			  int *trend);
/* The slot whose reading is at t_ms, or INT64_MIN when t_ms is not on the grid. */
int64_t tsdx_slot_at(const struct tsdx *x, int64_t t_ms);
/* Share's name of a trend number ("Flat", "NotComputable", ...). */
const char *tsdx_trend_name(int trend);

struct tsdx_counters tsdx_counters(struct tsdx *x);
/* The stable account id of `user` ("" when unknown), and the newest session id issued. */
void tsdx_account_id(struct tsdx *x, const char *user, char out[TSDX_ID_BUF]);
void tsdx_last_session(struct tsdx *x, char out[TSDX_ID_BUF]);

/* ---- scripting (thread-safe) ---- */
void tsdx_kill_sessions(struct tsdx *x);
void tsdx_set_password(struct tsdx *x, const char *user, const char *password);
/* Locks `user` for duration_ms from now (0 unlocks and forgets its failures). */
void tsdx_lock(struct tsdx *x, const char *user, int64_t duration_ms);
/* Answer of data calls for killed or expired sessions: "SessionNotValid" or "SessionIdNotFound". */
void tsdx_set_dead_session_code(struct tsdx *x, const char *code);
void tsdx_set_empty(struct tsdx *x, bool empty);
void tsdx_set_legacy(struct tsdx *x, bool legacy);
/* The next `times` calls of ep answer a instead (after being counted). */
void tsdx_script(struct tsdx *x, enum tsdx_endpoint ep, const struct tsdx_answer *a, int times);
/* The next `times` calls of ep answer HTTP 500 with a Share fault of this Code. */
void tsdx_script_fault(struct tsdx *x, enum tsdx_endpoint ep, const char *code, int times);
/* The next `times` LoginPublisherAccountById calls answer the all-zero id (outage). */
void tsdx_script_zero_session(struct tsdx *x, int times);

#endif
