/* SPDX-License-Identifier: MIT */
/*
 * The Dexcom Share simulator of the test server (see dexcom.h): two-step
 * login, sessions with lifetimes, lockout, and the glucose call, from
 * reference/vendors.md §2 / §8.1 (not from the driver's code). Accounts
 * (by name and by id) and sessions are found through hash tables, so one
 * simulator can serve many thousands of accounts.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "dexcom.h"

#define MAX_SCRIPTS 16
#define MAX_LOCK_AFTER 64
#define HISTORY_MS (24LL * 3600 * 1000)
#define MAX_MINUTES 1440
#define MAX_COUNT 288

struct account {
	char *user;
	char *password;
	char id[TSDX_ID_BUF];
	uint64_t seed; /* of its readings */
	int64_t fails[MAX_LOCK_AFTER]; /* times of the recent failures, ring */
	int nfails;
	int64_t locked_until;
};

struct session {
	char id[TSDX_ID_BUF];
	size_t account; /* index in accounts: whose readings it reads */
	int64_t created;
	bool killed;
};

/* An open-addressing hash table of array indices + 1 (0: a free slot); never full. */
struct index {
	size_t *slots;
	size_t mask; /* slots - 1, a power of two minus one */
};

struct script {
	int status;
	char *body;
	char content_type[64];
	char *retry_after;
	int times;
};

struct tsdx {
	struct tsrv *srv;
	pthread_mutex_t lock;
	uint64_t seed;
	int64_t cadence, offset, lifetime, lock_window, lock_duration;
	int lock_after;
	const char *app_id;
	bool legacy, empty;
	char dead_code[48];
	int64_t (*now_ms)(void *ctx);
	void *now_ctx;

	struct account *accounts;
	size_t naccounts;
	struct index by_user, by_id; /* accounts by name and by id */
	struct session *sessions;
	size_t nsessions, capsessions;
	struct index by_session;
	struct script scripts[3][MAX_SCRIPTS];
	size_t nscripts[3];
	struct tsdx_counters counters;
};

#define oom() tsrv_oom("tsdx")
#define xstrdup(s) tsrv_xstrdup("tsdx", (s))

static int64_t now_of(struct tsdx *x)
{
	return x->now_ms ? x->now_ms(x->now_ctx) : tsrv_real_now_ms();
}

static void make_uuid(uint64_t a, uint64_t b, char out[TSDX_ID_BUF])
{
	snprintf(out, TSDX_ID_BUF, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xffff), (unsigned)(b >> 48),
		 (unsigned long long)(b & 0xffffffffffffULL));
	if (strcmp(out, TSDX_ZERO_ID) == 0)
		out[0] = '1';
}

static bool is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* ---- readings ---------------------------------------------------------- */

/* A triangle wave of `period` slots in -amp..amp (integer maths: no libm needed). */
static int64_t tri(int64_t slot, int64_t period, int64_t amp)
{
	int64_t q = slot % period;
	if (q < 0)
		q += period;
	int64_t up = 4 * amp * q / period; /* 0 .. 4 amp */
	return up <= 2 * amp ? up - amp : 3 * amp - up;
}

static int mgdl_of(uint64_t seed, int64_t slot)
{
	int64_t phase = (int64_t)(tsrv_mix64(seed) % 96);
	int64_t v = 150 + tri(slot + phase, 96, 90) + tri(slot + 2 * phase, 17, 40) +
		    (int64_t)(tsrv_mix64(seed ^ tsrv_mix64((uint64_t)slot)) % 9) - 4;
	if (v < TSDX_MIN_MGDL)
		v = TSDX_MIN_MGDL;
	if (v > TSDX_MAX_MGDL)
		v = TSDX_MAX_MGDL;
	return (int)v;
}

static const char *const trend_names[10] = { "None", "DoubleUp", "SingleUp", "FortyFiveUp", "Flat",
					     "FortyFiveDown", "SingleDown", "DoubleDown",
					     "NotComputable", "RateOutOfRange" };

const char *tsdx_trend_name(int trend)
{
	return trend >= 0 && trend < 10 ? trend_names[trend] : "None";
}

static void reading_of(const struct tsdx *x, uint64_t seed, int64_t slot, int64_t *t_ms, int *mgdl,
		       int *trend)
{
	int v = mgdl_of(seed, slot);
	double rate = (double)(v - mgdl_of(seed, slot - 1)) / ((double)x->cadence / 60000.0);
	int t;

	if (slot % 50 == 7)
		t = 8; /* now and then the sensor cannot tell */
	else if (rate >= 3)
		t = 1;
	else if (rate >= 2)
		t = 2;
	else if (rate >= 1)
		t = 3;
	else if (rate > -1)
		t = 4;
	else if (rate > -2)
		t = 5;
	else if (rate > -3)
		t = 6;
	else
		t = 7;
	if (t_ms)
		*t_ms = slot * x->cadence + x->offset;
	if (mgdl)
		*mgdl = v;
	if (trend)
		*trend = t;
}

void tsdx_reading(const struct tsdx *x, int64_t slot, int64_t *t_ms, int *mgdl, int *trend)
{
	reading_of(x, x->accounts[0].seed, slot, t_ms, mgdl, trend);
}

void tsdx_account_reading(const struct tsdx *x, size_t account, int64_t slot, int64_t *t_ms, int *mgdl,
			  int *trend)
{
	reading_of(x, x->accounts[account].seed, slot, t_ms, mgdl, trend);
}

int64_t tsdx_slot_at(const struct tsdx *x, int64_t t_ms)
{
	int64_t d = t_ms - x->offset;
	if (d % x->cadence != 0)
		return INT64_MIN;
	return d / x->cadence;
}

/* ---- answers ------------------------------------------------------------ */

static void answer_fault(struct tsrv_response *resp, const char *code, const char *message)
{
	struct json_object *o = json_object_new_object();
	char sub[160];

	if (!o)
		oom();
	snprintf(sub, sizeof(sub), "<OnlineException ErrorCode=\"%s\" TypeString=\"%s\" />", code,
		 strcmp(code, "AccountPasswordInvalid") == 0 ? "InvalidPassword" : code);
	json_object_object_add(o, "Code", json_object_new_string(code));
	json_object_object_add(o, "Message", json_object_new_string(message));
	json_object_object_add(o, "SubCode", json_object_new_string(sub));
	json_object_object_add(o, "TypeName", json_object_new_string("FaultException"));
	tsrv_respond_json(resp, 500, o);
	json_object_put(o);
}

static void answer_string(struct tsrv_response *resp, const char *id)
{
	char body[TSDX_ID_BUF + 2];
	snprintf(body, sizeof(body), "\"%s\"", id);
	tsrv_respond(resp, 200, "application/json; charset=utf-8", body, strlen(body));
}

static void answer_bad_request(struct tsrv_response *resp)
{
	tsrv_respond(resp, 400, "text/plain", "Bad Request", 11);
}

/* Takes the next scripted answer of ep, if any (locked). */
static bool take_script(struct tsdx *x, enum tsdx_endpoint ep, struct tsrv_response *resp)
{
	if (x->nscripts[ep] == 0)
		return false;
	struct script *s = &x->scripts[ep][0];
	tsrv_respond(resp, s->status, s->content_type, s->body ? s->body : "",
		     s->body ? strlen(s->body) : 0);
	if (s->retry_after)
		tsrv_respond_header(resp, "Retry-After", s->retry_after);
	if (--s->times <= 0) {
		free(s->body);
		free(s->retry_after);
		memmove(&x->scripts[ep][0], &x->scripts[ep][1], (x->nscripts[ep] - 1) * sizeof(*s));
		x->nscripts[ep]--;
	}
	return true;
}

/* ---- indexes ------------------------------------------------------------ */

/* FNV-1a of s with ASCII letters folded: names and ids compare case-insensitively. */
static uint64_t hash_folded(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 1099511628211ULL;
	}
	return h;
}

typedef const char *(*key_fn)(const struct tsdx *x, size_t i);

static const char *user_key(const struct tsdx *x, size_t i)
{
	return x->accounts[i].user;
}

static const char *id_key(const struct tsdx *x, size_t i)
{
	return x->accounts[i].id;
}

static const char *session_key(const struct tsdx *x, size_t i)
{
	return x->sessions[i].id;
}

/* A free table of at least twice n slots; false when out of memory. */
static bool index_init(struct index *t, size_t n)
{
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	t->slots = calloc(size, sizeof(*t->slots));
	t->mask = size - 1;
	return t->slots != NULL;
}

/* The slot holding key, or the free slot where it would go (linear probing). */
static size_t *index_slot(const struct tsdx *x, const struct index *t, key_fn key_of, const char *key)
{
	for (size_t h = (size_t)hash_folded(key) & t->mask;; h = (h + 1) & t->mask) {
		size_t *slot = &t->slots[h];
		if (*slot == 0 || strcasecmp(key_of(x, *slot - 1), key) == 0)
			return slot;
	}
}

/*
 * Files element i under its key. An equal key already there stays unless
 * `replace`: the first account of a name wins, like a scan from the
 * front; the newest session of an id wins, like a scan to the end.
 */
static void index_put(const struct tsdx *x, struct index *t, key_fn key_of, size_t i, bool replace)
{
	size_t *slot = index_slot(x, t, key_of, key_of(x, i));
	if (*slot == 0 || replace)
		*slot = i + 1;
}

static size_t index_get(const struct tsdx *x, const struct index *t, key_fn key_of, const char *key)
{
	return key ? *index_slot(x, t, key_of, key) : 0;
}

static struct account *find_user(struct tsdx *x, const char *user)
{
	size_t i = index_get(x, &x->by_user, user_key, user);
	return i ? &x->accounts[i - 1] : NULL;
}

static struct account *find_id(struct tsdx *x, const char *id)
{
	size_t i = index_get(x, &x->by_id, id_key, id);
	return i ? &x->accounts[i - 1] : NULL;
}

static struct session *find_session(struct tsdx *x, const char *sid)
{
	size_t i = index_get(x, &x->by_session, session_key, sid);
	return i ? &x->sessions[i - 1] : NULL;
}

/* Files the newest session, doubling the table first when half full (locked). */
static void index_session(struct tsdx *x)
{
	if (2 * x->nsessions > x->by_session.mask + 1) {
		struct index t;
		if (!index_init(&t, x->nsessions))
			oom();
		for (size_t i = 0; i + 1 < x->nsessions; i++)
			index_put(x, &t, session_key, i, true);
		free(x->by_session.slots);
		x->by_session = t;
	}
	index_put(x, &x->by_session, session_key, x->nsessions - 1, true);
}

/* A failed password: remember it, lock after too many in the window (locked). */
static void note_failure(struct tsdx *x, struct account *a, int64_t now)
{
	int n = 0;
	a->fails[a->nfails++ % MAX_LOCK_AFTER] = now;
	for (int i = 0; i < MAX_LOCK_AFTER && i < a->nfails; i++)
		if (now - a->fails[i] < x->lock_window)
			n++;
	if (n >= x->lock_after)
		a->locked_until = now + x->lock_duration;
}

static const char *body_string(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * The common part of both login steps: method, content type, body, app
 * id, lock and password. Returns the account on success; otherwise has
 * answered (locked).
 */
static struct account *check_login(struct tsdx *x, const struct tsrv_request *req,
				   struct tsrv_response *resp, const char *id_key, bool by_id)
{
	const char *ct = tsrv_header(req, "Content-Type");
	struct json_object *o;
	struct account *a;
	int64_t now = now_of(x);

	if (strcmp(req->method, "POST") != 0) {
		tsrv_respond_error(resp, 405, "Method Not Allowed");
		return NULL;
	}
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		tsrv_respond(resp, 415, "text/plain", "Unsupported Media Type", 22);
		return NULL;
	}
	o = json_tokener_parse(req->body);
	const char *id = o ? body_string(o, id_key) : NULL;
	const char *password = o ? body_string(o, "password") : NULL;
	const char *app = o ? body_string(o, "applicationId") : NULL;
	if (!id || !password || !app || (by_id && !is_uuid(id))) {
		answer_fault(resp, "InvalidArgument",
			     !id ? (by_id ? "Invalid argument: accountId" : "Invalid argument: accountName")
			     : !password ? "Invalid argument: password"
			     : !app ? "Invalid argument: applicationId"
				    : "Invalid argument: accountId is not a UUID");
		json_object_put(o);
		return NULL;
	}
	a = by_id ? find_id(x, id) : find_user(x, id);
	if (a && a->locked_until > now) {
		x->counters.locked_answers++;
		answer_fault(resp, "SSO_AuthenticateMaxAttemptsExceeded",
			     "Maximum authentication attempts exceeded");
		json_object_put(o);
		return NULL;
	}
	/* A wrong application id (region) looks exactly like a wrong password. */
	if (!a || strcmp(app, x->app_id) != 0 || strcmp(password, a->password) != 0) {
		x->counters.failed_logins++;
		if (a)
			note_failure(x, a, now);
		answer_fault(resp, "AccountPasswordInvalid", "Publisher account password failed");
		json_object_put(o);
		return NULL;
	}
	json_object_put(o);
	return a;
}

static void auth_handler(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	struct tsdx *x = arg;
	pthread_mutex_lock(&x->lock);
	x->counters.auth_calls++;
	if (!take_script(x, TSDX_AUTH, resp)) {
		struct account *a = check_login(x, req, resp, "accountName", false);
		if (a)
			answer_string(resp, a->id);
	}
	pthread_mutex_unlock(&x->lock);
}

static void login_handler(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	struct tsdx *x = arg;
	pthread_mutex_lock(&x->lock);
	x->counters.login_calls++;
	if (!take_script(x, TSDX_LOGIN, resp)) {
		struct account *a = check_login(x, req, resp, "accountId", true);
		if (a) {
			if (x->nsessions == x->capsessions) {
				size_t cap = x->capsessions ? 2 * x->capsessions : 16;
				struct session *p = realloc(x->sessions, cap * sizeof(*p));
				if (!p)
					oom();
				x->sessions = p;
				x->capsessions = cap;
			}
			struct session *s = &x->sessions[x->nsessions++];
			uint64_t k = tsrv_mix64(x->seed ^ 0x5e55101dULL) ^ (uint64_t)x->nsessions;
			make_uuid(tsrv_mix64(k), tsrv_mix64(k ^ 0xabcdefULL), s->id);
			s->account = (size_t)(a - x->accounts);
			s->created = now_of(x);
			s->killed = false;
			index_session(x);
			x->counters.sessions++;
			answer_string(resp, s->id);
		}
	}
	pthread_mutex_unlock(&x->lock);
}

/* Parses a positive decimal argument; -1 when absent or not a number. */
static long arg_long(const struct tsrv_request *req, const char *name)
{
	const char *v = tsrv_arg(req, name);
	char *end;
	if (!v || !*v)
		return -1;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (*end || errno)
		return -1;
	return n;
}

static struct json_object *reading_doc(struct tsdx *x, uint64_t seed, int64_t slot)
{
	int64_t t;
	int mgdl, trend;
	char wt[48], dt[48];
	struct json_object *o = json_object_new_object();

	if (!o)
		oom();
	reading_of(x, seed, slot, &t, &mgdl, &trend);
	if (x->legacy) {
		snprintf(wt, sizeof(wt), "/Date(%lld)/", (long long)t);
		snprintf(dt, sizeof(dt), "/Date(%lld-0700)/", (long long)t);
		json_object_object_add(o, "DT", json_object_new_string(dt));
		json_object_object_add(o, "ST", json_object_new_string(wt));
		json_object_object_add(o, "Trend", json_object_new_int(trend));
		json_object_object_add(o, "Value", json_object_new_int(mgdl));
		json_object_object_add(o, "WT", json_object_new_string(wt));
	} else {
		snprintf(wt, sizeof(wt), "Date(%lld)", (long long)t);
		snprintf(dt, sizeof(dt), "Date(%lld-0400)", (long long)t);
		json_object_object_add(o, "WT", json_object_new_string(wt));
		json_object_object_add(o, "ST", json_object_new_string(wt));
		json_object_object_add(o, "DT", json_object_new_string(dt));
		json_object_object_add(o, "Value", json_object_new_int(mgdl));
		json_object_object_add(o, "Trend", json_object_new_string(trend_names[trend]));
	}
	return o;
}

static void data_handler(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	struct tsdx *x = arg;
	pthread_mutex_lock(&x->lock);
	x->counters.data_calls++;
	if (take_script(x, TSDX_DATA, resp))
		goto out;
	if (strcmp(req->method, "POST") != 0) {
		tsrv_respond_error(resp, 405, "Method Not Allowed");
		goto out;
	}
	const char *sid = tsrv_arg(req, "sessionId");
	if (!sid)
		sid = tsrv_arg(req, "sessionID");
	long minutes = arg_long(req, "minutes"), count = arg_long(req, "maxCount");
	if (!is_uuid(sid) || minutes < 1 || minutes > MAX_MINUTES || count < 1 || count > MAX_COUNT) {
		answer_bad_request(resp);
		goto out;
	}
	/* Body: empty or a JSON object ({} in practice). */
	if (req->body_len > 0) {
		struct json_object *b = json_tokener_parse(req->body);
		bool ok = b && json_object_is_type(b, json_type_object);
		json_object_put(b);
		if (!ok) {
			answer_bad_request(resp);
			goto out;
		}
	}
	int64_t now = now_of(x);
	struct session *s = find_session(x, sid);
	if (!s) {
		char m[96];
		snprintf(m, sizeof(m), "Failed to find session object. [SessionId = %s]", sid);
		answer_fault(resp, "SessionIdNotFound", m);
		goto out;
	}
	if (s->killed || now - s->created >= x->lifetime) {
		char m[96];
		snprintf(m, sizeof(m), "%s [SessionId = %s]",
			 strcmp(x->dead_code, "SessionIdNotFound") == 0 ? "Failed to find session object."
									 : "Session not active or timed out.",
			 sid);
		answer_fault(resp, x->dead_code, m);
		goto out;
	}

	struct json_object *arr = json_object_new_array();
	if (!arr)
		oom();
	int64_t since = now - minutes * 60000LL;
	if (since < now - HISTORY_MS)
		since = now - HISTORY_MS;
	/* The newest slot at or before now: a reading is served from its own time on. */
	int64_t slot = tsrv_floor_div(now - x->offset, x->cadence);
	uint64_t seed = x->accounts[s->account].seed;
	for (long n = 0; !x->empty && n < count; n++, slot--) {
		int64_t t = slot * x->cadence + x->offset;
		if (t <= since)
			break;
		tsrv_jpush(arr, reading_doc(x, seed, slot));
	}
	tsrv_respond_json(resp, 200, arr);
	json_object_put(arr);
out:
	pthread_mutex_unlock(&x->lock);
}

/* ---- lifecycle and scripting -------------------------------------------- */

struct tsdx *tsdx_attach(struct tsrv *srv, const struct tsdx_config *cfg)
{
	if (!cfg || !cfg->accounts || cfg->naccounts == 0)
		return NULL;
	struct tsdx *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->srv = srv;
	pthread_mutex_init(&x->lock, NULL);
	x->seed = cfg->seed;
	x->cadence = cfg->cadence_ms > 0 ? cfg->cadence_ms : TSDX_DEFAULT_CADENCE_MS;
	x->offset = cfg->offset_ms != 0 ? cfg->offset_ms : TSDX_DEFAULT_OFFSET_MS;
	x->lifetime = cfg->session_lifetime_ms > 0 ? cfg->session_lifetime_ms : HISTORY_MS;
	x->lock_after = cfg->lock_after > 0 ? cfg->lock_after : 5;
	if (x->lock_after > MAX_LOCK_AFTER)
		x->lock_after = MAX_LOCK_AFTER;
	x->lock_window = cfg->lock_window_ms > 0 ? cfg->lock_window_ms : 10 * 60000LL;
	x->lock_duration = cfg->lock_duration_ms > 0 ? cfg->lock_duration_ms : 30 * 60000LL;
	x->app_id = cfg->japan ? TSDX_APP_ID_JP : TSDX_APP_ID;
	x->legacy = cfg->legacy;
	snprintf(x->dead_code, sizeof(x->dead_code), "SessionNotValid");
	x->now_ms = cfg->now_ms;
	x->now_ctx = cfg->now_ctx;
	x->accounts = calloc(cfg->naccounts, sizeof(*x->accounts));
	if (!x->accounts) {
		tsdx_free(x);
		return NULL;
	}
	x->naccounts = cfg->naccounts;
	for (size_t i = 0; i < cfg->naccounts; i++) {
		uint64_t k = tsrv_mix64(x->seed ^ 0xacc0u) + i;
		x->accounts[i].user = xstrdup(cfg->accounts[i].user);
		x->accounts[i].password = xstrdup(cfg->accounts[i].password);
		x->accounts[i].seed = x->seed + i;
		make_uuid(tsrv_mix64(k), tsrv_mix64(k ^ 0x1234ULL), x->accounts[i].id);
	}
	if (!index_init(&x->by_user, x->naccounts) || !index_init(&x->by_id, x->naccounts) ||
	    !index_init(&x->by_session, 0)) {
		tsdx_free(x);
		return NULL;
	}
	for (size_t i = 0; i < x->naccounts; i++) {
		index_put(x, &x->by_user, user_key, i, false);
		index_put(x, &x->by_id, id_key, i, false);
	}
	if (tsrv_route(srv, NULL, TSDX_PATH_AUTH, auth_handler, x) != 0 ||
	    tsrv_route(srv, NULL, TSDX_PATH_LOGIN, login_handler, x) != 0 ||
	    tsrv_route(srv, NULL, TSDX_PATH_DATA, data_handler, x) != 0) {
		tsdx_free(x);
		return NULL;
	}
	return x;
}

void tsdx_free(struct tsdx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->naccounts; i++) {
		free(x->accounts[i].user);
		free(x->accounts[i].password);
	}
	free(x->accounts);
	free(x->by_user.slots);
	free(x->by_id.slots);
	free(x->sessions);
	free(x->by_session.slots);
	for (int e = 0; e < 3; e++)
		for (size_t i = 0; i < x->nscripts[e]; i++) {
			free(x->scripts[e][i].body);
			free(x->scripts[e][i].retry_after);
		}
	pthread_mutex_destroy(&x->lock);
	free(x);
}

struct tsdx_counters tsdx_counters(struct tsdx *x)
{
	pthread_mutex_lock(&x->lock);
	struct tsdx_counters c = x->counters;
	pthread_mutex_unlock(&x->lock);
	return c;
}

void tsdx_account_id(struct tsdx *x, const char *user, char out[TSDX_ID_BUF])
{
	pthread_mutex_lock(&x->lock);
	struct account *a = find_user(x, user);
	snprintf(out, TSDX_ID_BUF, "%s", a ? a->id : "");
	pthread_mutex_unlock(&x->lock);
}

void tsdx_last_session(struct tsdx *x, char out[TSDX_ID_BUF])
{
	pthread_mutex_lock(&x->lock);
	snprintf(out, TSDX_ID_BUF, "%s", x->nsessions ? x->sessions[x->nsessions - 1].id : "");
	pthread_mutex_unlock(&x->lock);
}

void tsdx_kill_sessions(struct tsdx *x)
{
	pthread_mutex_lock(&x->lock);
	for (size_t i = 0; i < x->nsessions; i++)
		x->sessions[i].killed = true;
	pthread_mutex_unlock(&x->lock);
}

void tsdx_set_password(struct tsdx *x, const char *user, const char *password)
{
	pthread_mutex_lock(&x->lock);
	struct account *a = find_user(x, user);
	if (a) {
		free(a->password);
		a->password = xstrdup(password);
	}
	pthread_mutex_unlock(&x->lock);
}

void tsdx_lock(struct tsdx *x, const char *user, int64_t duration_ms)
{
	pthread_mutex_lock(&x->lock);
	struct account *a = find_user(x, user);
	if (a) {
		a->locked_until = duration_ms > 0 ? now_of(x) + duration_ms : 0;
		if (duration_ms <= 0)
			a->nfails = 0;
	}
	pthread_mutex_unlock(&x->lock);
}

void tsdx_set_dead_session_code(struct tsdx *x, const char *code)
{
	pthread_mutex_lock(&x->lock);
	snprintf(x->dead_code, sizeof(x->dead_code), "%s", code);
	pthread_mutex_unlock(&x->lock);
}

void tsdx_set_empty(struct tsdx *x, bool empty)
{
	pthread_mutex_lock(&x->lock);
	x->empty = empty;
	pthread_mutex_unlock(&x->lock);
}

void tsdx_set_legacy(struct tsdx *x, bool legacy)
{
	pthread_mutex_lock(&x->lock);
	x->legacy = legacy;
	pthread_mutex_unlock(&x->lock);
}

void tsdx_script(struct tsdx *x, enum tsdx_endpoint ep, const struct tsdx_answer *a, int times)
{
	if (times <= 0)
		return;
	pthread_mutex_lock(&x->lock);
	if (x->nscripts[ep] < MAX_SCRIPTS) {
		struct script *s = &x->scripts[ep][x->nscripts[ep]++];
		memset(s, 0, sizeof(*s));
		s->status = a->status;
		s->body = a->body ? xstrdup(a->body) : NULL;
		snprintf(s->content_type, sizeof(s->content_type), "%s",
			 a->content_type ? a->content_type : "application/json");
		s->retry_after = a->retry_after ? xstrdup(a->retry_after) : NULL;
		s->times = times;
	}
	pthread_mutex_unlock(&x->lock);
}

void tsdx_script_fault(struct tsdx *x, enum tsdx_endpoint ep, const char *code, int times)
{
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"Code\":\"%s\",\"Message\":\"scripted %s\",\"SubCode\":\"<OnlineException "
		 "ErrorCode=\\\"%s\\\" />\",\"TypeName\":\"FaultException\"}",
		 code, code, code);
	struct tsdx_answer a = { .status = 500, .body = body };
	tsdx_script(x, ep, &a, times);
}

void tsdx_script_zero_session(struct tsdx *x, int times)
{
	struct tsdx_answer a = { .status = 200, .body = "\"" TSDX_ZERO_ID "\"" };
	tsdx_script(x, TSDX_LOGIN, &a, times);
}
