/* SPDX-License-Identifier: MIT */
/*
 * The LibreLinkUp simulator of the test server (see librelinkup.h): login
 * with lock, redirect and terms, connections and graph with rolling tickets,
 * a deterministic glucose curve. Independent of the driver's code.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "librelinkup.h"

#define DEFAULT_CADENCE_MS 300000LL
#define DEFAULT_TOKEN_LIFETIME_MS (180LL * 24 * 3600 * 1000)
#define MAX_FAILURES 16
#define TOKEN_BUF 128
#define REGION_PREFIX "/region/"
#define PI 3.14159265358979323846

struct token {
	char tok[TOKEN_BUF];
	int64_t expires_ms;
};

struct script {
	int status;
	char content_type[64];
	char *body;
	int retry_after_s;
	int times;
};

struct tllu {
	struct tsrv *srv;
	pthread_mutex_t lock;

	char *user, *password, *user_id, *region, *min_version;
	char account_id[65];
	char *patients[TLLU_MAX_PATIENTS];
	size_t npatients;
	uint64_t seed;
	int64_t cadence_ms;
	int64_t token_lifetime_ms;
	int owner_offset_min;
	int64_t (*now_fn)(void *);
	void *now_ctx;

	struct token *tokens;
	size_t ntokens, cap_tokens;
	uint64_t token_counter;
	char last_token[TOKEN_BUF];

	int64_t failures[MAX_FAILURES];
	size_t nfailures;
	int64_t locked_until_ms;
	char terms[32];
	bool empty;

	struct script scripts[2];
	struct tllu_counters counters;
	int64_t *login_times;
	size_t nlogin_times, cap_login_times;
};

/* ---- helpers ------------------------------------------------------------ */

#define oom() tsrv_oom("tllu")
#define xstrdup(s) tsrv_xstrdup("tllu", (s))

int64_t tllu_now(struct tllu *x)
{
	return x->now_fn ? x->now_fn(x->now_ctx) : tsrv_real_now_ms();
}

void tllu_sha256_hex(const char *text, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		abort();
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void tllu_format_time(int64_t ms, char *buf, size_t size)
{
	time_t s = (time_t)tsrv_floor_div(ms, 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	int h12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
	snprintf(buf, size, "%d/%d/%d %d:%02d:%02d %s", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900, h12,
		 tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
}

/* Dotted version compare: <0, 0, >0. */
static int version_cmp(const char *a, const char *b)
{
	for (int i = 0; i < 4; i++) {
		long x = 0, y = 0;
		if (*a) {
			x = strtol(a, (char **)&a, 10);
			if (*a == '.')
				a++;
		}
		if (*b) {
			y = strtol(b, (char **)&b, 10);
			if (*b == '.')
				b++;
		}
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* ---- the curve ---------------------------------------------------------- */

static int64_t step_ms(const struct tllu *x)
{
	return x->cadence_ms / 5;
}

static int value_at_k(const struct tllu *x, size_t p, int64_t k)
{
	uint64_t s = tsrv_mix64(x->seed + 7919u * (uint64_t)(p + 1));
	double ph1 = (double)(s % 1000) / 1000.0 * 2 * PI;
	double ph2 = (double)((s >> 20) % 1000) / 1000.0 * 2 * PI;
	double v = 150.0 + 70.0 * sin(2 * PI * (double)k / 360.0 + ph1) +
		   25.0 * sin(2 * PI * (double)k / 90.0 + ph2);
	v += (double)(int)(tsrv_mix64(s ^ (uint64_t)k) % 5) - 2.0;
	if (v < 40)
		v = 40;
	if (v > 400)
		v = 400;
	return (int)lround(v);
}

void tllu_reading_at(struct tllu *x, size_t patient, int64_t t_ms, int *mgdl, int *arrow)
{
	int64_t k = tsrv_floor_div(t_ms - TLLU_OFFSET_MS, step_ms(x));
	int v = value_at_k(x, patient, k);
	int d = v - value_at_k(x, patient, k - 5);
	*mgdl = v;
	*arrow = d >= 10 ? 5 : d >= 5 ? 4 : d > -5 ? 3 : d > -10 ? 2 : 1;
}

int64_t tllu_current_time(struct tllu *x, int64_t now_ms)
{
	return tsrv_floor_div(now_ms - TLLU_OFFSET_MS, step_ms(x)) * step_ms(x) + TLLU_OFFSET_MS;
}

int64_t tllu_graph_newest(struct tllu *x, int64_t now_ms)
{
	int64_t cur = tllu_current_time(x, now_ms);
	return tsrv_floor_div(cur - TLLU_OFFSET_MS, x->cadence_ms) * x->cadence_ms + TLLU_OFFSET_MS;
}

static struct json_object *measurement(struct tllu *x, size_t p, int64_t t, bool current)
{
	int v, arrow;
	char fts[48], lts[48];
	tllu_reading_at(x, p, t, &v, &arrow);
	tllu_format_time(t, fts, sizeof(fts));
	tllu_format_time(t + (int64_t)x->owner_offset_min * 60000, lts, sizeof(lts));
	struct json_object *m = tsrv_jobject();
	tsrv_jset(m, "FactoryTimestamp", json_object_new_string(fts));
	tsrv_jset(m, "Timestamp", json_object_new_string(lts));
	tsrv_jset(m, "type", json_object_new_int(current ? 1 : 0));
	tsrv_jset(m, "ValueInMgPerDl", json_object_new_int(v));
	if (current) {
		tsrv_jset(m, "TrendArrow", json_object_new_int(arrow));
		json_object_object_add(m, "TrendMessage", NULL);
	}
	tsrv_jset(m, "MeasurementColor", json_object_new_int(v < 70 || v > 180 ? 2 : 1));
	tsrv_jset(m, "GlucoseUnits", json_object_new_int(1));
	tsrv_jset(m, "Value", json_object_new_int(v));
	tsrv_jset(m, "isHigh", json_object_new_boolean(v >= 400));
	tsrv_jset(m, "isLow", json_object_new_boolean(v <= 40));
	return m;
}

/* ---- state (lock held) -------------------------------------------------- */

static void record_login_locked(struct tllu *x, int64_t now)
{
	if (x->nlogin_times == x->cap_login_times) {
		size_t cap = x->cap_login_times ? 2 * x->cap_login_times : 64;
		int64_t *p = realloc(x->login_times, cap * sizeof(*p));
		if (!p)
			oom();
		x->login_times = p;
		x->cap_login_times = cap;
	}
	x->login_times[x->nlogin_times++] = now;
	x->counters.logins++;
}

static struct json_object *ticket_locked(struct tllu *x, int64_t now)
{
	size_t j = 0;
	for (size_t i = 0; i < x->ntokens; i++)
		if (x->tokens[i].expires_ms > now)
			x->tokens[j++] = x->tokens[i];
	x->ntokens = j;
	if (x->ntokens == x->cap_tokens) {
		size_t cap = x->cap_tokens ? 2 * x->cap_tokens : 16;
		struct token *p = realloc(x->tokens, cap * sizeof(*p));
		if (!p)
			oom();
		x->tokens = p;
		x->cap_tokens = cap;
	}
	struct token *t = &x->tokens[x->ntokens++];
	uint64_t a = tsrv_mix64(x->seed ^ (++x->token_counter << 16)), b = tsrv_mix64(a ^ x->token_counter);
	snprintf(t->tok, sizeof(t->tok), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.%016llx%016llx.llu%llu",
		 (unsigned long long)a, (unsigned long long)b, (unsigned long long)x->token_counter);
	t->expires_ms = now + x->token_lifetime_ms;
	snprintf(x->last_token, sizeof(x->last_token), "%s", t->tok);
	x->counters.tokens_issued++;

	struct json_object *o = tsrv_jobject();
	tsrv_jset(o, "token", json_object_new_string(t->tok));
	tsrv_jset(o, "expires", json_object_new_int64(t->expires_ms / 1000));
	tsrv_jset(o, "duration", json_object_new_int64(x->token_lifetime_ms));
	return o;
}

static bool token_valid_locked(struct tllu *x, const char *tok, int64_t now)
{
	for (size_t i = 0; i < x->ntokens; i++)
		if (strcmp(x->tokens[i].tok, tok) == 0)
			return x->tokens[i].expires_ms > now;
	return false;
}

/* Answers a pending script; true when it did. */
static bool scripted_locked(struct tllu *x, enum tllu_call which, struct tsrv_response *resp)
{
	struct script *s = &x->scripts[which];
	if (s->times <= 0)
		return false;
	s->times--;
	tsrv_respond(resp, s->status, s->content_type[0] ? s->content_type : NULL, s->body ? s->body : "",
		     s->body ? strlen(s->body) : 0);
	if (s->retry_after_s > 0) {
		char v[24];
		snprintf(v, sizeof(v), "%d", s->retry_after_s);
		tsrv_respond_header(resp, "Retry-After", v);
	}
	return true;
}

static void respond_920(struct tllu *x, struct tsrv_response *resp)
{
	struct json_object *d = tsrv_jobject(), *o = tsrv_jobject();
	tsrv_jset(d, "minimumVersion", json_object_new_string(x->min_version));
	tsrv_jset(o, "data", d);
	tsrv_jset(o, "status", json_object_new_int(920));
	tsrv_respond_doc(resp, 403, o);
}

static void respond_message(struct tsrv_response *resp, int status, const char *message)
{
	struct json_object *o = tsrv_jobject();
	tsrv_jset(o, "message", json_object_new_string(message));
	tsrv_respond_doc(resp, status, o);
}

static void respond_status_error(struct tsrv_response *resp, int status, const char *message)
{
	struct json_object *o = tsrv_jobject(), *e = tsrv_jobject();
	tsrv_jset(e, "message", json_object_new_string(message));
	tsrv_jset(o, "status", json_object_new_int(status));
	tsrv_jset(o, "error", e);
	tsrv_respond_doc(resp, 200, o);
}

static void respond_locked(struct tsrv_response *resp)
{
	struct json_object *o = tsrv_jobject(), *d = tsrv_jobject(), *dd = tsrv_jobject();
	tsrv_jset(dd, "failures", json_object_new_int(TLLU_LOCK_FAILURES));
	tsrv_jset(dd, "interval", json_object_new_int(TLLU_LOCK_WINDOW_S));
	tsrv_jset(dd, "lockout", json_object_new_int(TLLU_LOCKOUT_S));
	tsrv_jset(d, "code", json_object_new_int(60));
	tsrv_jset(d, "data", dd);
	tsrv_jset(d, "message", json_object_new_string("locked"));
	tsrv_jset(o, "status", json_object_new_int(429));
	tsrv_jset(o, "data", d);
	tsrv_respond_doc(resp, 200, o);
}

/* ---- routes --------------------------------------------------------------- */

static void handle_login(struct tllu *x, const struct tsrv_request *req, const char *region,
			 struct tsrv_response *resp)
{
	int64_t now = tllu_now(x);
	record_login_locked(x, now);
	if (scripted_locked(x, TLLU_LOGIN, resp))
		return;
	const char *product = tsrv_header(req, "product");
	const char *version = tsrv_header(req, "version");
	if (!product || (strcmp(product, "llu.android") != 0 && strcmp(product, "llu.ios") != 0)) {
		respond_message(resp, 403, "RequiredHeaderMissing");
		return;
	}
	if (!version || !*version) {
		respond_920(x, resp);
		return;
	}
	if (now < x->locked_until_ms) {
		x->counters.locked_answers++;
		respond_locked(resp);
		return;
	}
	struct json_object *body = json_tokener_parse(req->body);
	const char *email = NULL, *password = NULL;
	struct json_object *v;
	if (body && json_object_object_get_ex(body, "email", &v) && json_object_is_type(v, json_type_string))
		email = json_object_get_string(v);
	if (body && json_object_object_get_ex(body, "password", &v) && json_object_is_type(v, json_type_string))
		password = json_object_get_string(v);
	bool known = email && strcasecmp(email, x->user) == 0;

	if (known && x->region && (!region || strcmp(region, x->region) != 0)) {
		x->counters.redirects++;
		struct json_object *o = tsrv_jobject(), *d = tsrv_jobject();
		tsrv_jset(d, "redirect", json_object_new_boolean(1));
		tsrv_jset(d, "region", json_object_new_string(x->region));
		tsrv_jset(o, "status", json_object_new_int(0));
		tsrv_jset(o, "data", d);
		tsrv_respond_doc(resp, 200, o);
		json_object_put(body);
		return;
	}
	if (!known || !password || strcmp(password, x->password) != 0) {
		json_object_put(body);
		x->counters.failed_logins++;
		size_t j = 0;
		for (size_t i = 0; i < x->nfailures; i++)
			if (x->failures[i] > now - TLLU_LOCK_WINDOW_S * 1000LL)
				x->failures[j++] = x->failures[i];
		x->nfailures = j;
		if (x->nfailures < MAX_FAILURES)
			x->failures[x->nfailures++] = now;
		if (x->nfailures >= TLLU_LOCK_FAILURES) {
			x->locked_until_ms = now + TLLU_LOCKOUT_S * 1000LL;
			x->nfailures = 0;
		}
		respond_status_error(resp, 2, "notAuthenticated");
		return;
	}
	json_object_put(body);

	struct json_object *o = tsrv_jobject(), *d = tsrv_jobject(), *user = tsrv_jobject();
	tsrv_jset(user, "id", json_object_new_string(x->user_id));
	tsrv_jset(user, "firstName", json_object_new_string("John"));
	tsrv_jset(user, "lastName", json_object_new_string("Doe"));
	tsrv_jset(user, "email", json_object_new_string(x->user));
	tsrv_jset(user, "country", json_object_new_string("DE"));
	tsrv_jset(user, "uom", json_object_new_string("1"));
	if (x->terms[0]) {
		struct json_object *step = tsrv_jobject(), *props = tsrv_jobject();
		tsrv_jset(props, "reaccept", json_object_new_boolean(1));
		tsrv_jset(props, "type", json_object_new_string(x->terms));
		tsrv_jset(step, "type", json_object_new_string(x->terms));
		tsrv_jset(step, "componentName",
		     json_object_new_string(strcmp(x->terms, "verifyEmail") == 0 ? "VerifyEmail" : "AcceptDocument"));
		tsrv_jset(step, "props", props);
		tsrv_jset(d, "step", step);
		tsrv_jset(d, "user", user);
		struct json_object *t = tsrv_jobject();
		tsrv_jset(t, "token", json_object_new_string("eyJzdGVwIjoidG91In0.step-token"));
		tsrv_jset(t, "expires", json_object_new_int64(now / 1000 + 3600));
		tsrv_jset(t, "duration", json_object_new_int64(3600000));
		tsrv_jset(d, "authTicket", t);
		tsrv_jset(o, "status", json_object_new_int(4));
		tsrv_jset(o, "data", d);
		tsrv_respond_doc(resp, 200, o);
		return;
	}
	x->counters.logins_ok++;
	struct json_object *msgs = tsrv_jobject(), *notes = tsrv_jobject();
	tsrv_jset(msgs, "unread", json_object_new_int(0));
	tsrv_jset(notes, "unresolved", json_object_new_int(0));
	tsrv_jset(d, "user", user);
	tsrv_jset(d, "messages", msgs);
	tsrv_jset(d, "notifications", notes);
	tsrv_jset(d, "authTicket", ticket_locked(x, now));
	json_object_object_add(d, "invitations", NULL);
	tsrv_jset(d, "trustedDeviceToken", json_object_new_string(""));
	tsrv_jset(o, "status", json_object_new_int(0));
	tsrv_jset(o, "data", d);
	tsrv_respond_doc(resp, 200, o);
}

static void handle_connections(struct tllu *x, int64_t now, struct tsrv_response *resp)
{
	struct json_object *o = tsrv_jobject(), *arr = json_object_new_array();
	if (!arr)
		oom();
	int64_t cur = tllu_current_time(x, now);
	for (size_t p = 0; p < x->npatients && !x->empty; p++) {
		struct json_object *c = tsrv_jobject();
		char id[64];
		snprintf(id, sizeof(id), "0714c937-0bc2-4be4-9e93-%012zx", p + 1);
		tsrv_jset(c, "id", json_object_new_string(id));
		tsrv_jset(c, "patientId", json_object_new_string(x->patients[p]));
		tsrv_jset(c, "country", json_object_new_string("DE"));
		tsrv_jset(c, "status", json_object_new_int(2));
		tsrv_jset(c, "firstName", json_object_new_string("Patient"));
		tsrv_jset(c, "lastName", json_object_new_string("Doe"));
		tsrv_jset(c, "targetLow", json_object_new_int(70));
		tsrv_jset(c, "targetHigh", json_object_new_int(160));
		tsrv_jset(c, "uom", json_object_new_int(1));
		tsrv_jset(c, "glucoseMeasurement", measurement(x, p, cur, true));
		tsrv_jpush(arr, c);
	}
	tsrv_jset(o, "status", json_object_new_int(0));
	tsrv_jset(o, "data", arr);
	tsrv_jset(o, "ticket", ticket_locked(x, now));
	tsrv_respond_doc(resp, 200, o);
}

static void handle_graph(struct tllu *x, int64_t now, const char *pid, struct tsrv_response *resp)
{
	size_t p = 0;
	while (p < x->npatients && strcmp(x->patients[p], pid) != 0)
		p++;
	if (p == x->npatients || x->empty) {
		respond_status_error(resp, 4, "couldNotLoadPatient");
		return;
	}
	x->counters.graph_calls++;
	int64_t cur = tllu_current_time(x, now);
	int64_t newest = tllu_graph_newest(x, now);
	struct json_object *o = tsrv_jobject(), *d = tsrv_jobject(), *conn = tsrv_jobject(), *graph = json_object_new_array(),
			   *sensors = json_object_new_array();
	if (!graph || !sensors)
		oom();
	tsrv_jset(conn, "patientId", json_object_new_string(x->patients[p]));
	tsrv_jset(conn, "glucoseMeasurement", measurement(x, p, cur, true));
	for (int64_t i = TLLU_GRAPH_POINTS - 1; i >= 0; i--)
		tsrv_jpush(graph, measurement(x, p, newest - i * x->cadence_ms, false));
	tsrv_jset(d, "connection", conn);
	tsrv_jset(d, "activeSensors", sensors);
	tsrv_jset(d, "graphData", graph);
	tsrv_jset(o, "status", json_object_new_int(0));
	tsrv_jset(o, "data", d);
	tsrv_jset(o, "ticket", ticket_locked(x, now));
	tsrv_respond_doc(resp, 200, o);
}

static void handle_data(struct tllu *x, const struct tsrv_request *req, const char *region, const char *path,
			struct tsrv_response *resp)
{
	int64_t now = tllu_now(x);
	x->counters.data_calls++;
	if (scripted_locked(x, TLLU_DATA, resp))
		return;
	const char *auth = tsrv_header(req, "Authorization");
	bool region_ok = !x->region || (region && strcmp(region, x->region) == 0);
	if (!region_ok || !auth || strncmp(auth, "Bearer ", 7) != 0 || !token_valid_locked(x, auth + 7, now)) {
		x->counters.unauthorized++;
		respond_message(resp, 401, "Unauthorized");
		return;
	}
	const char *account = tsrv_header(req, "account-id");
	if (!account || strcmp(account, x->account_id) != 0) {
		respond_message(resp, 403, "RequiredHeaderMissing");
		return;
	}
	const char *version = tsrv_header(req, "version");
	if (!version || version_cmp(version, x->min_version) < 0) {
		respond_920(x, resp);
		return;
	}
	static const char conns[] = "/llu/connections";
	if (strcmp(path, conns) == 0) {
		handle_connections(x, now, resp);
		return;
	}
	const char *pid = path + sizeof(conns) - 1;
	const char *slash = *pid == '/' ? strchr(pid + 1, '/') : NULL;
	if (slash && strcmp(slash, "/graph") == 0 && slash > pid + 1) {
		char id[128];
		snprintf(id, sizeof(id), "%.*s", (int)(slash - pid - 1), pid + 1);
		handle_graph(x, now, id, resp);
		return;
	}
	respond_message(resp, 404, "Not Found");
}

static void on_request(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	struct tllu *x = arg;
	const char *path = req->path;
	char region[32] = "";
	bool has_region = false;
	if (strncmp(path, REGION_PREFIX, strlen(REGION_PREFIX)) == 0) {
		const char *r = path + strlen(REGION_PREFIX);
		size_t n = strcspn(r, "/");
		if (n == 0 || n >= sizeof(region)) {
			tsrv_respond_error(resp, 404, "Not Found");
			return;
		}
		memcpy(region, r, n);
		region[n] = '\0';
		has_region = true;
		path = r + n;
	}
	pthread_mutex_lock(&x->lock);
	if (strcmp(path, "/llu/auth/login") == 0 && strcmp(req->method, "POST") == 0)
		handle_login(x, req, has_region ? region : NULL, resp);
	else if (strncmp(path, "/llu/connections", 16) == 0 && strcmp(req->method, "GET") == 0)
		handle_data(x, req, has_region ? region : NULL, path, resp);
	else
		tsrv_respond_error(resp, 404, "Not Found");
	pthread_mutex_unlock(&x->lock);
}

/* ---- lifecycle and scripting ---------------------------------------------- */

struct tllu *tllu_attach(struct tsrv *srv, const struct tllu_config *cfg)
{
	struct tllu *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->srv = srv;
	pthread_mutex_init(&x->lock, NULL);
	x->user = xstrdup(cfg->user ? cfg->user : TLLU_DEFAULT_USER);
	x->password = xstrdup(cfg->password ? cfg->password : TLLU_DEFAULT_PASSWORD);
	x->user_id = xstrdup(cfg->user_id ? cfg->user_id : TLLU_DEFAULT_USER_ID);
	x->region = cfg->region ? xstrdup(cfg->region) : NULL;
	x->min_version = xstrdup(cfg->min_version ? cfg->min_version : TLLU_DEFAULT_MIN_VERSION);
	tllu_sha256_hex(x->user_id, x->account_id);
	for (size_t i = 0; i < TLLU_MAX_PATIENTS && cfg->patients[i]; i++)
		x->patients[x->npatients++] = xstrdup(cfg->patients[i]);
	if (x->npatients == 0)
		x->patients[x->npatients++] = xstrdup(x->user_id);
	x->seed = cfg->seed;
	x->cadence_ms = cfg->cadence_ms > 0 ? cfg->cadence_ms : DEFAULT_CADENCE_MS;
	x->token_lifetime_ms = cfg->token_lifetime_ms > 0 ? cfg->token_lifetime_ms : DEFAULT_TOKEN_LIFETIME_MS;
	x->owner_offset_min = cfg->owner_offset_min;
	x->now_fn = cfg->now_ms;
	x->now_ctx = cfg->now_ctx;
	if (tsrv_route(srv, NULL, "/llu/", on_request, x) != 0 ||
	    tsrv_route(srv, NULL, REGION_PREFIX, on_request, x) != 0) {
		tllu_free(x);
		return NULL;
	}
	return x;
}

void tllu_free(struct tllu *x)
{
	if (!x)
		return;
	free(x->user);
	free(x->password);
	free(x->user_id);
	free(x->region);
	free(x->min_version);
	for (size_t i = 0; i < x->npatients; i++)
		free(x->patients[i]);
	free(x->tokens);
	free(x->login_times);
	for (int i = 0; i < 2; i++)
		free(x->scripts[i].body);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

void tllu_kill_sessions(struct tllu *x)
{
	pthread_mutex_lock(&x->lock);
	x->ntokens = 0;
	pthread_mutex_unlock(&x->lock);
}

void tllu_set_password(struct tllu *x, const char *password)
{
	char *p = xstrdup(password);
	pthread_mutex_lock(&x->lock);
	free(x->password);
	x->password = p;
	pthread_mutex_unlock(&x->lock);
}

void tllu_lock(struct tllu *x, int64_t seconds)
{
	int64_t now = tllu_now(x);
	pthread_mutex_lock(&x->lock);
	x->locked_until_ms = now + seconds * 1000;
	pthread_mutex_unlock(&x->lock);
}

void tllu_set_terms(struct tllu *x, const char *step)
{
	pthread_mutex_lock(&x->lock);
	snprintf(x->terms, sizeof(x->terms), "%s", step ? step : "");
	pthread_mutex_unlock(&x->lock);
}

void tllu_set_empty(struct tllu *x, bool empty)
{
	pthread_mutex_lock(&x->lock);
	x->empty = empty;
	pthread_mutex_unlock(&x->lock);
}

void tllu_set_min_version(struct tllu *x, const char *version)
{
	char *v = xstrdup(version);
	pthread_mutex_lock(&x->lock);
	free(x->min_version);
	x->min_version = v;
	pthread_mutex_unlock(&x->lock);
}

void tllu_script(struct tllu *x, enum tllu_call which, int status, const char *content_type,
		 const char *body, int retry_after_s, int times)
{
	char *b = body ? xstrdup(body) : NULL;
	pthread_mutex_lock(&x->lock);
	struct script *s = &x->scripts[which];
	free(s->body);
	s->body = b;
	s->status = status;
	snprintf(s->content_type, sizeof(s->content_type), "%s", content_type ? content_type : "");
	s->retry_after_s = retry_after_s;
	s->times = times;
	pthread_mutex_unlock(&x->lock);
}

void tllu_counters(struct tllu *x, struct tllu_counters *out)
{
	pthread_mutex_lock(&x->lock);
	*out = x->counters;
	pthread_mutex_unlock(&x->lock);
}

size_t tllu_login_times(struct tllu *x, int64_t *out, size_t max)
{
	pthread_mutex_lock(&x->lock);
	size_t n = x->nlogin_times;
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = x->login_times[i];
	pthread_mutex_unlock(&x->lock);
	return n;
}

void tllu_last_token(struct tllu *x, char *buf, size_t size)
{
	pthread_mutex_lock(&x->lock);
	snprintf(buf, size, "%s", x->last_token);
	pthread_mutex_unlock(&x->lock);
}
