/* SPDX-License-Identifier: MIT */
/*
 * The LibreLinkUp source (CONNECT_SOURCE=linkup): Abbott's follower API
 * (reference/vendors.md §3). A login (POST /llu/auth/login) gives a token
 * and the user id; every later call carries `Authorization: Bearer`,
 * `account-id` (SHA-256 hex of the user id), `product` and `version`.
 * authorize lists the connections (GET /llu/connections) and picks the
 * patient; fetch reads GET /llu/connections/<patientId>/graph; transform
 * turns graphData (history, no arrows) and the current glucoseMeasurement
 * (with its TrendArrow) into entries, the current one never twice.
 *
 * Hosts. CONNECT_LINK_UP_REGION r gives https://api-<r>.libreview.io
 * (CN: api-cn.myfreestyle.cn, RU: api.libreview.ru). CONNECT_LINK_UP_SERVER
 * replaces that base. When the login answers "redirect to region r", the
 * driver logs in again (once per attempt) on r's base and keeps using it
 * for the life of the driver instance (every later login goes straight
 * there). The base for r is:
 *   - without CONNECT_LINK_UP_SERVER, or when it names one of Abbott's own
 *     API hosts (*.libreview.io, *.libreview.ru, *.myfreestyle.cn):
 *     the real regional host above;
 *   - with any other server (a proxy, the test simulator):
 *     <server>/region/<r>, so one server can stand for every region and a
 *     redirect never carries the credentials to a host the user did not name.
 *
 * Tokens roll: every authenticated answer carries a fresh "ticket" whose
 * token replaces the old one (and the log's secret list follows). There is
 * no timed refresh; an expired ticket makes fetch answer NSC_ERR_AUTH
 * without calling, and a 401 does the same after the call.
 *
 * The functions below are pure (no I/O, no logging) and exposed for tests.
 */
#ifndef NSC_SRC_SOURCES_LIBRELINKUP_H
#define NSC_SRC_SOURCES_LIBRELINKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonutil.h"

#include "batch.h"
#include "error.h"
#include "source.h"
#include "sources/kit/verdict.h"
#include "trend.h"

#define NSC_LINKUP_DEVICE "nsconnect-librelinkup"
#define NSC_LINKUP_DEFAULT_VERSION "4.16.0"
#define NSC_LINKUP_DEFAULT_PRODUCT "llu.android"
#define NSC_LINKUP_DEFAULT_REGION "EU"
#define NSC_LINKUP_ACCOUNT_ID_BUF 65     /* 64 hex digits + NUL */
#define NSC_LINKUP_URL_MAX 512
/* Waits the vendor implies (hold-offs for the engine). */
#define NSC_LINKUP_BLOCK_HOLD_MS (30 * 60 * 1000LL)   /* Cloudflare block, HTTP 430 */
#define NSC_LINKUP_RATE_HOLD_MS (60 * 1000LL)         /* 429 without Retry-After */
#define NSC_LINKUP_LOCK_MARGIN_MS (5 * 1000LL)        /* added to a lock's duration */
#define NSC_LINKUP_DEFAULT_LOCKOUT_S 300

extern const struct nsc_source_driver nsc_source_linkup;

/* ---- hosts --------------------------------------------------------------- */

/*
 * https base of Abbott's host for a region, any case ("EU2", "eu2"):
 * "https://api-eu2.libreview.io". NSC_ERR_PARSE when region is not 1..15
 * letters and digits, NSC_ERR_RANGE when buf is too small.
 */
nsc_rc nsc_linkup_region_host(const char *region, char *buf, size_t size);
/* True when url's host is one of Abbott's API hosts (see above). */
bool nsc_linkup_is_abbott_url(const char *url);
/* The first login's base: server when set, else the region's host (NULL region: EU). */
nsc_rc nsc_linkup_base_url(const char *region, const char *server, char *buf, size_t size);
/* The base after a redirect to `region` (rules above). */
nsc_rc nsc_linkup_redirect_url(const char *region, const char *server, char *buf, size_t size);

/* ---- fields -------------------------------------------------------------- */

/*
 * A FactoryTimestamp as UTC epoch ms. "M/D/YYYY h:mm:ss AM|PM" (what the
 * API sends), or 24-hour "d/M/yyyy H:mm:ss" (seen in other clients; read
 * as M/D when only that order is valid). Never uses the local zone.
 */
nsc_rc nsc_linkup_parse_timestamp(const char *text, int64_t *epoch_ms);
/* TrendArrow 1..5 -> SingleDown, FortyFiveDown, Flat, FortyFiveUp, SingleUp; else NOT COMPUTABLE. */
enum nsc_trend nsc_linkup_trend(int64_t arrow);
/* account-id: lower-case hex SHA-256 of the user id string. */
nsc_rc nsc_linkup_account_id(const char *user_id, char out[NSC_LINKUP_ACCOUNT_ID_BUF]);

/* ---- answers ------------------------------------------------------------- */

enum nsc_linkup_kind {
	NSC_LINKUP_OK,              /* login: token and user id; data: a usable object */
	NSC_LINKUP_REDIRECT,        /* login on the wrong region; `region` says where */
	NSC_LINKUP_BAD_CREDENTIALS, /* status 2 */
	NSC_LINKUP_USER_ACTION,     /* status 4 with a step: tou, pp, verifyEmail, ... */
	NSC_LINKUP_LOCKED,          /* status 429 in the body: too many failed logins */
	NSC_LINKUP_VERSION,         /* status 920 (version too old) */
	NSC_LINKUP_HEADER_MISSING,  /* {"message":"RequiredHeaderMissing"} */
	NSC_LINKUP_UNAUTHORIZED,    /* HTTP 401 */
	NSC_LINKUP_PATIENT_UNKNOWN, /* status 4 couldNotLoadPatient */
	NSC_LINKUP_BLOCKED,         /* HTTP 430, or 403 that is not JSON (Cloudflare) */
	NSC_LINKUP_RATE_LIMITED,    /* HTTP 429 */
	NSC_LINKUP_SERVER_ERROR,    /* HTTP 5xx */
	NSC_LINKUP_MALFORMED,       /* 2xx that is not the JSON expected */
	NSC_LINKUP_UNEXPECTED,      /* any other answer */
};

struct nsc_linkup_answer {
	enum nsc_linkup_kind kind;
	long http_status;
	int64_t body_status;        /* the body's "status", -1 when absent */
	char region[16];            /* REDIRECT */
	char step[32];              /* USER_ACTION */
	char min_version[32];       /* VERSION, "" when not given */
	int64_t lockout_s;          /* LOCKED */
	char user_id[96];           /* login OK */
	char *token;                /* login: authTicket.token; data: ticket.token; NULL when none */
	int64_t expires_s;          /* the token's expiry (unix seconds), 0 when unknown */
	struct json_object *root;   /* data OK: the parsed body (owned) */
};

/* What a call was, for the verdict. */
enum nsc_linkup_call {
	NSC_LINKUP_CALL_LOGIN,
	NSC_LINKUP_CALL_CONNECTIONS,
	NSC_LINKUP_CALL_GRAPH,
};

void nsc_linkup_answer_free(struct nsc_linkup_answer *a);
/* Classify an answer. NSC_OK, or NSC_ERR_NOMEM. `content_type` may be NULL. */
nsc_rc nsc_linkup_classify_login(long http_status, const char *content_type, const char *body,
				 size_t len, struct nsc_linkup_answer *out);
nsc_rc nsc_linkup_classify_data(long http_status, const char *content_type, const char *body,
				size_t len, struct nsc_linkup_answer *out);

/*
 * A classified failure (not OK/REDIRECT) in the kit's shared shape: the
 * engine's code, the plain message for the user and the hold-off the
 * vendor implies (0 none); returns out->rc. retry_after_ms: the
 * Retry-After header, -1 absent. version: the version header sent (for
 * the message).
 */
nsc_rc nsc_linkup_verdict(const struct nsc_linkup_answer *a, enum nsc_linkup_call call,
			  int64_t retry_after_ms, const char *version, struct nsc_vendor_verdict *out);

/* ---- transform ----------------------------------------------------------- */

/* How far behind the newest stored entry each poll looks again for late history. */
#define NSC_LINKUP_HISTORY_RECHECK_MS (60 * 60 * 1000)

/*
 * A graph answer -> entries with date > from_ms. Bad points are skipped
 * and counted; NSC_ERR_DROP (err set) when the payload is not an object
 * with a "data" object.
 */
nsc_rc nsc_linkup_transform_graph(const char *body, size_t len, int64_t from_ms,
				  struct nsc_batch *out, size_t *skipped, struct nsc_error *err);

#endif
