/* SPDX-License-Identifier: MIT */
/*
 * The Medtronic CareLink simulator of the test server (see carelink.h):
 * discovery and the Auth0 SSO configuration, the PKCE code and refresh
 * grants, the session calls, the carepartner display message in the 2025
 * and the legacy shapes, and the legacy Guardian GETs. Independent of any
 * CareLink driver.
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

#include <openssl/sha.h>

#include "carelink.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define DEFAULT_CADENCE_MS (5 * MIN)
#define DEFAULT_LIFETIME_S 3600
#define DEFAULT_OFFSET_MIN 60
#define DEFAULT_STALE_MS MIN
#define WARM_UP_EVERY 97
#define MAX_FAILS 16
#define PI 3.14159265358979323846
#define TIME_BUF 48
#define B64_BUF 512

#define EU_CLOUD "https://clcloud.minimed.eu"
#define US_CLOUD "https://clcloud.minimed.com"
#define LOGIN_HOST "carelink-login.minimed.eu"
#define M2M_DATA_PATH "/patient/m2m/connect/data/gc/patients/"

struct access {
	char *jwt;
	int64_t exp_ms;
	unsigned generation;
};

struct refresh {
	char token[32];
	bool live;
};

struct code {
	char code[40];
	char *challenge;
	char *redirect_uri;
	bool used;
};

struct fail {
	char prefix[128];
	int status;
	int count;
};

struct tcl {
	struct tsrv *srv;
	pthread_mutex_t lock;

	bool patient_account;
	char *patients[TCL_MAX_PATIENTS];
	size_t npatients;
	char *country, *family, *tz_name;
	bool legacy_shape, guardian;
	int offset_min;
	int64_t cadence_ms, stale_ms, lifetime_s;
	uint64_t seed, salt, counter;
	bool keep_refresh;
	int64_t (*now_fn)(void *);
	void *now_ctx;

	struct access *tokens;
	size_t ntokens, cap_tokens;
	unsigned generation;
	struct refresh *refresh;
	size_t nrefresh, cap_refresh;
	struct code *codes;
	size_t ncodes, cap_codes;
	size_t refreshes, exchanges;

	struct fail fails[MAX_FAILS];
	size_t nfails;
};

/* ---- helpers ------------------------------------------------------------ */

#define oom() tsrv_oom("tcl")
#define xstrdup(s) tsrv_xstrdup("tcl", (s))

static void *grow(void *items, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return items;
	size_t n = *cap ? *cap * 2 : 8;
	void *p = realloc(items, n * size);
	if (!p)
		oom();
	*cap = n;
	return p;
}

static void jset_str(struct json_object *o, const char *k, const char *s)
{
	tsrv_jset(o, k, json_object_new_string(s));
}

static void jset_int(struct json_object *o, const char *k, int64_t v)
{
	tsrv_jset(o, k, json_object_new_int64(v));
}

static void jset_bool(struct json_object *o, const char *k, bool v)
{
	tsrv_jset(o, k, json_object_new_boolean(v));
}

static void jset_double(struct json_object *o, const char *k, double v)
{
	tsrv_jset(o, k, json_object_new_double(v));
}

/* A number serialised exactly as `text` (so "3.0" stays "3.0"). */
static void jset_num_text(struct json_object *o, const char *k, const char *text)
{
	tsrv_jset(o, k, json_object_new_double_s(strtod(text, NULL), text));
}

static uint64_t hash3(uint64_t seed, uint64_t a, uint64_t b, int64_t c)
{
	return tsrv_mix64(tsrv_mix64(tsrv_mix64(seed ^ a) ^ b) ^ (uint64_t)c);
}

int64_t tcl_now(struct tcl *c)
{
	return c->now_fn ? c->now_fn(c->now_ctx) : tsrv_real_now_ms();
}

static void respond_empty(struct tsrv_response *resp, int status)
{
	tsrv_respond(resp, status, NULL, "{}", 2);
}

static void respond_oauth(struct tsrv_response *resp, int status, const char *error, const char *why)
{
	struct json_object *o = tsrv_jobject();
	jset_str(o, "error", error);
	jset_str(o, "error_description", why);
	tsrv_respond_doc(resp, status, o);
}

/* ---- base64url, S256 ------------------------------------------------------- */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; out must hold 4 * ceil(n / 3) + 1 bytes (aborts otherwise). */
static void b64url(const unsigned char *in, size_t n, char *out, size_t size)
{
	size_t o = 0;
	if (size < (n + 2) / 3 * 4 + 1)
		abort();
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = B64URL[(v >> 18) & 63];
		out[o++] = B64URL[(v >> 12) & 63];
		if (left > 1)
			out[o++] = B64URL[(v >> 6) & 63];
		if (left > 2)
			out[o++] = B64URL[v & 63];
	}
	out[o] = '\0';
}

static void s256(const char *verifier, char out[64])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	b64url(md, sizeof(md), out, 64);
}

/* ---- form and query pairs ------------------------------------------------------ */

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent- and '+'-decoded copy of s[0..n). */
static char *decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;
	if (!out)
		oom();
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && (hi = hex_digit(s[i + 1])) >= 0 &&
			   (lo = hex_digit(s[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

struct pairs {
	struct tsrv_kv *kv;
	size_t n, cap;
};

/* "a=1&b=2" (form or query) into decoded pairs. */
static void parse_pairs(const char *s, struct pairs *p)
{
	memset(p, 0, sizeof(*p));
	while (s && *s) {
		size_t len = strcspn(s, "&");
		const char *eq = memchr(s, '=', len);
		size_t klen = eq ? (size_t)(eq - s) : len;
		if (len > 0) {
			p->kv = grow(p->kv, &p->cap, p->n + 1, sizeof(*p->kv));
			p->kv[p->n].name = decode(s, klen);
			p->kv[p->n].value = eq ? decode(eq + 1, len - klen - 1) : decode("", 0);
			p->n++;
		}
		s += len;
		if (*s == '&')
			s++;
	}
}

static void free_pairs(struct pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->kv[i].name);
		free(p->kv[i].value);
	}
	free(p->kv);
}

static const char *kv_get(const struct tsrv_kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].name, name) == 0)
			return kv[i].value;
	return NULL;
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static char *encode(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1);
	size_t o = 0;
	if (!out)
		oom();
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			out[o++] = (char)ch;
		} else {
			snprintf(out + o, 4, "%%%02X", ch);
			o += 3;
		}
	}
	out[o] = '\0';
	return out;
}

/* ---- times ------------------------------------------------------------------ */

static void split_time(int64_t ms, struct tm *tm)
{
	time_t s = (time_t)tsrv_floor_div(ms, SEC);
	gmtime_r(&s, tm);
}

static int64_t local_ms(const struct tcl *c, int64_t utc_ms)
{
	return utc_ms + (int64_t)c->offset_min * MIN;
}

/* Pump-local "2025-04-19T17:58:20", no zone (2025 shape). */
static void format_local(const struct tcl *c, int64_t utc_ms, char out[TIME_BUF])
{
	struct tm tm;
	split_time(local_ms(c, utc_ms), &tm);
	snprintf(out, TIME_BUF, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "2025-04-19T17:58:20.000+01:00" with the pump's real offset (legacy shape). */
static void format_offset(const struct tcl *c, int64_t utc_ms, char out[TIME_BUF])
{
	struct tm tm;
	unsigned off = (unsigned)(c->offset_min < 0 ? -c->offset_min : c->offset_min) % (24 * 60);
	unsigned ms = (unsigned)(utc_ms - tsrv_floor_div(utc_ms, SEC) * SEC) % 1000u;
	split_time(local_ms(c, utc_ms), &tm);
	snprintf(out, TIME_BUF, "%04d-%02d-%02dT%02d:%02d:%02d.%03u%c%02u:%02u", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms, c->offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

/* sMedicalDeviceTime: "Apr 19, 2025 17:58:20" pump-local. */
static void format_device_time(const struct tcl *c, int64_t utc_ms, char out[TIME_BUF])
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	split_time(local_ms(c, utc_ms), &tm);
	snprintf(out, TIME_BUF, "%s %d, %04d %02d:%02d:%02d", months[tm.tm_mon % 12], tm.tm_mday,
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Pump-local text of an instant: with the offset (legacy) or without a zone (2025). */
static void format_when(const struct tcl *c, bool legacy, int64_t utc_ms, char out[TIME_BUF])
{
	if (legacy)
		format_offset(c, utc_ms, out);
	else
		format_local(c, utc_ms, out);
}

/* The time member of a record: `timestamp` pump-local (2025) or `<legacy_key>` with offset. */
static void jset_when(const struct tcl *c, struct json_object *o, bool legacy, const char *legacy_key,
		      int64_t utc_ms)
{
	char text[TIME_BUF];
	format_when(c, legacy, utc_ms, text);
	jset_str(o, legacy ? legacy_key : "timestamp", text);
}

/* ---- the patient's data model ------------------------------------------------------- */

/* The SG window of one answer: grid slots first..last (inclusive), upload time U. */
struct window {
	int64_t now, upload, first, last;
};

static void window_at(const struct tcl *c, int64_t now, struct window *w)
{
	w->now = now;
	w->upload = now - c->stale_ms;
	w->last = tsrv_floor_div(w->upload, c->cadence_ms) * c->cadence_ms;
	w->first = (tsrv_floor_div(w->upload - DAY, c->cadence_ms) + 1) * c->cadence_ms;
}

static uint64_t patient_seed(const struct tcl *c, size_t p)
{
	return p == 0 ? c->seed : tsrv_mix64(c->seed + p);
}

static double curve(uint64_t pseed, int64_t utc_ms)
{
	uint64_t h = tsrv_mix64(pseed ^ 0x636c63u);
	double ph1 = (double)(h % 1000) / 1000.0 * 2 * PI;
	double ph2 = (double)((h >> 24) % 1000) / 1000.0 * 2 * PI;
	double m = (double)utc_ms / (double)MIN;
	double v = 145.0 + 65.0 * sin(2 * PI * m / 300.0 + ph1) + 40.0 * sin(2 * PI * m / 83.0 + ph2);
	return v < 40 ? 40 : v > 400 ? 400 : v;
}

static bool warming_up(uint64_t pseed, int64_t slot)
{
	int64_t r = slot - tsrv_floor_div(slot, WARM_UP_EVERY) * WARM_UP_EVERY;
	return r == (int64_t)(pseed % WARM_UP_EVERY);
}

/* The SG at grid time t (0 while warming up). */
static int sg_at(const struct tcl *c, uint64_t pseed, int64_t t)
{
	if (warming_up(pseed, tsrv_floor_div(t, c->cadence_ms)))
		return 0;
	return (int)lround(curve(pseed, t));
}

static const char *trend_of(const struct tcl *c, uint64_t pseed, int64_t last)
{
	int now = sg_at(c, pseed, last);
	if (now == 0)
		return "NONE";
	int d = now - (int)lround(curve(pseed, last - 3 * c->cadence_ms));
	return d < -45 ? "DOWN_TRIPLE" : d < -30 ? "DOWN_DOUBLE" : d < -15 ? "DOWN" : d <= 15 ? "NONE" :
	       d <= 30 ? "UP" : d <= 45 ? "UP_DOUBLE" : "UP_TRIPLE";
}

static int64_t slot_index(const struct tcl *c, int64_t t)
{
	return (t - tsrv_floor_div(t, DAY) * DAY) / c->cadence_ms;
}

enum mkind { MK_MEAL, MK_CORRECTION, MK_BG, MK_CALIBRATION, MK_BASAL };

struct mseries {
	enum mkind kind;
	int sub;
	int64_t period_ms, offset_ms;
	int jitter_min;
};

static const struct mseries MSERIES[] = {
	{ MK_MEAL, 0, DAY, 7 * HOUR + 30 * MIN, 20 },
	{ MK_MEAL, 1, DAY, 12 * HOUR + 30 * MIN, 20 },
	{ MK_MEAL, 2, DAY, 19 * HOUR, 20 },
	{ MK_CORRECTION, 0, DAY, 15 * HOUR, 30 },
	{ MK_CORRECTION, 1, DAY, 22 * HOUR, 30 },
	{ MK_BG, 0, DAY, 7 * HOUR, 10 },
	{ MK_CALIBRATION, 0, DAY, 7 * HOUR + 10 * MIN, 5 },
	{ MK_CALIBRATION, 1, DAY, 19 * HOUR + 10 * MIN, 5 },
	{ MK_BASAL, 0, HOUR, 20 * MIN, 0 },
};
#define NMSERIES (sizeof(MSERIES) / sizeof(MSERIES[0]))

/* One marker event; a meal becomes a MEAL and an INSULIN marker. */
struct event {
	enum mkind kind;
	int64_t t;
	int carbs;        /* g */
	int fast10;       /* tenths of a unit */
	int ext10;        /* > 0: a DUAL bolus */
	int value;        /* mg/dL */
	int basal1000;    /* thousandths of a unit */
};

struct events {
	struct event *items;
	size_t n, cap;
};

static void fill_event(uint64_t pseed, const struct mseries *s, int64_t k, struct event *e)
{
	uint64_t h = hash3(pseed, 0x6d6b00u + (uint64_t)s->kind * 16 + (uint64_t)s->sub, 1, k);
	switch (s->kind) {
	case MK_MEAL:
		e->carbs = 20 + 5 * (int)(h % 15);
		e->fast10 = e->carbs + (int)((h >> 8) % 7) - 3;
		e->ext10 = s->sub == 2 && k % 2 == 0 ? 10 + (int)((h >> 16) % 20) : 0;
		break;
	case MK_CORRECTION: e->fast10 = 5 + (int)(h % 25); break;
	case MK_BG:
	case MK_CALIBRATION: {
		int v = (int)lround(curve(pseed, e->t)) + (int)((h >> 4) % 17) - 8;
		e->value = v < 40 ? 40 : v > 400 ? 400 : v;
		break;
	}
	case MK_BASAL: e->basal1000 = 25 * (1 + (int)(h % 12)); break;
	}
}

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

/* The marker events of one series inside the window. */
static void series_events(const struct tcl *c, uint64_t pseed, const struct mseries *s, const struct window *w,
			  struct events *out)
{
	int64_t jit = (int64_t)s->jitter_min * MIN;
	int64_t lo = tsrv_floor_div(w->first - s->offset_ms - jit, s->period_ms) - 1;
	int64_t hi = tsrv_floor_div(w->last - s->offset_ms + jit, s->period_ms) + 1;
	for (int64_t k = lo; k <= hi; k++) {
		int64_t t = k * s->period_ms + s->offset_ms;
		if (s->jitter_min > 0) {
			uint64_t h = hash3(pseed, 0x6a6974u + (uint64_t)s->kind * 16 + (uint64_t)s->sub, 0, k);
			t += ((int64_t)(h % (uint64_t)(2 * s->jitter_min + 1)) - s->jitter_min) * MIN;
		}
		t = tsrv_floor_div(t, c->cadence_ms) * c->cadence_ms;
		if (t < w->first || t > w->last)
			continue;
		out->items = grow(out->items, &out->cap, out->n + 1, sizeof(*out->items));
		struct event *e = &out->items[out->n++];
		memset(e, 0, sizeof(*e));
		e->kind = s->kind;
		e->t = t;
		fill_event(pseed, s, k, e);
	}
}

/* Every marker event in the window, oldest first (Guardian: BG and calibration only). */
static void window_events(const struct tcl *c, size_t p, const struct window *w, struct events *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < NMSERIES; i++) {
		bool meter = MSERIES[i].kind == MK_BG || MSERIES[i].kind == MK_CALIBRATION;
		if (c->guardian && !meter)
			continue;
		series_events(c, patient_seed(c, p), &MSERIES[i], w, out);
	}
	if (out->n > 1)
		qsort(out->items, out->n, sizeof(*out->items), cmp_event);
}

/* ---- markers as served and as expected ------------------------------------------------ */

/* One value of a marker: a number as string in dataValues (2025), a number (legacy), a double (expected). */
enum vform { VF_2025, VF_LEGACY, VF_EXPECTED };

static void put_value(struct json_object *o, enum vform f, const char *key, int scaled, int decimals)
{
	char text[32];
	int div = decimals == 0 ? 1 : decimals == 1 ? 10 : 1000;
	snprintf(text, sizeof(text), "%.*f", decimals, (double)scaled / div);
	if (f == VF_2025)
		jset_str(o, key, text);
	else if (f == VF_LEGACY)
		jset_num_text(o, key, text);
	else
		jset_double(o, key, (double)scaled / div);
}

static void put_insulin(struct json_object *o, enum vform f, const struct event *e)
{
	put_value(o, f, "deliveredFastAmount", e->fast10, 1);
	put_value(o, f, "programmedFastAmount", e->fast10, 1);
	jset_str(o, "bolusType", e->ext10 > 0 ? "DUAL" : "FAST");
	if (e->ext10 > 0) {
		put_value(o, f, "deliveredExtendedAmount", e->ext10, 1);
		put_value(o, f, "programmedExtendedAmount", e->ext10, 1);
	}
	jset_str(o, "activationType", e->kind == MK_MEAL ? "RECOMMENDED" : "MANUAL");
	jset_bool(o, "completed", true);
	if (f == VF_LEGACY)
		jset_int(o, "effectiveDuration", e->ext10 > 0 ? 120 : 0);
}

/* The values of marker `type` of event e. */
static void put_values(struct json_object *o, enum vform f, const char *type, const struct event *e)
{
	if (strcmp(type, "MEAL") == 0)
		put_value(o, f, "amount", e->carbs, 0);
	else if (strcmp(type, "INSULIN") == 0)
		put_insulin(o, f, e);
	else if (strcmp(type, "AUTO_BASAL_DELIVERY") == 0)
		put_value(o, f, "bolusAmount", e->basal1000, 3);
	else
		put_value(o, f, "value", e->value, 0);
}

static struct json_object *marker_json(const struct tcl *c, const char *type, const struct event *e, enum vform f)
{
	struct json_object *m = tsrv_jobject();
	jset_str(m, "type", type);
	jset_int(m, "index", slot_index(c, e->t));
	if (f == VF_EXPECTED) {
		jset_int(m, "trueUtcMs", e->t);
		put_values(m, f, type, e);
	} else if (f == VF_LEGACY) {
		jset_when(c, m, true, "dateTime", e->t);
		put_values(m, f, type, e);
	} else {
		struct json_object *data = tsrv_jobject(), *values = tsrv_jobject();
		char text[TIME_BUF];
		format_local(c, e->t, text);
		jset_str(m, "timestamp", text);
		jset_str(m, "displayTime", text);
		put_values(values, f, type, e);
		tsrv_jset(data, "dataValues", values);
		tsrv_jset(m, "data", data);
	}
	return m;
}

static struct json_object *markers_json(const struct tcl *c, size_t p, const struct window *w, enum vform f)
{
	static const char *const types[] = { [MK_MEAL] = "MEAL", [MK_CORRECTION] = "INSULIN",
					     [MK_BG] = "BG_READING", [MK_CALIBRATION] = "CALIBRATION",
					     [MK_BASAL] = "AUTO_BASAL_DELIVERY" };
	struct json_object *arr = tsrv_jarray();
	struct events ev;
	window_events(c, p, w, &ev);
	for (size_t i = 0; i < ev.n; i++) {
		tsrv_jpush(arr, marker_json(c, types[ev.items[i].kind], &ev.items[i], f));
		if (ev.items[i].kind == MK_MEAL)
			tsrv_jpush(arr, marker_json(c, "INSULIN", &ev.items[i], f));
	}
	free(ev.items);
	return arr;
}

/* ---- SGs and the payload ----------------------------------------------------------- */

static struct json_object *sg_json(const struct tcl *c, uint64_t pseed, int64_t t, enum vform f)
{
	struct json_object *o = tsrv_jobject();
	int sg = sg_at(c, pseed, t);
	jset_int(o, "sg", sg);
	if (f == VF_EXPECTED)
		jset_int(o, "trueUtcMs", t);
	else
		jset_when(c, o, f == VF_LEGACY, "datetime", t);
	jset_str(o, "sensorState", sg == 0 ? "WARM_UP" : "NO_ERROR_MESSAGE");
	jset_str(o, "kind", "SG");
	if (f == VF_LEGACY) {
		jset_int(o, "version", 1);
		jset_bool(o, "timeChange", false);
	}
	return o;
}

static struct json_object *sgs_json(const struct tcl *c, size_t p, const struct window *w, enum vform f)
{
	struct json_object *arr = tsrv_jarray();
	for (int64_t t = w->first; t <= w->last; t += c->cadence_ms)
		tsrv_jpush(arr, sg_json(c, patient_seed(c, p), t, f));
	return arr;
}

/* The device's slowly changing numbers, fixed per patient and hour. */
static uint64_t device_hash(const struct tcl *c, size_t p, const struct window *w, unsigned what)
{
	return hash3(patient_seed(c, p), 0x646576u, what, tsrv_floor_div(w->upload, HOUR));
}

static void put_alarm_and_iob(const struct tcl *c, struct json_object *o, size_t p, const struct window *w,
			      bool legacy)
{
	struct json_object *alarm = tsrv_jobject();
	char text[TIME_BUF];
	jset_int(alarm, "code", 102);
	/* Both shapes keep `datetime` here; the 2025 one without a zone. */
	format_when(c, legacy, w->last - 2 * HOUR, text);
	jset_str(alarm, "datetime", text);
	jset_str(alarm, "type", "ALARM");
	jset_str(alarm, "kind", "Alarm");
	tsrv_jset(o, "lastAlarm", alarm);
	if (c->guardian)
		return;
	struct json_object *iob = tsrv_jobject();
	put_value(iob, VF_LEGACY, "amount", (int)(device_hash(c, p, w, 4) % 160) * 25, 3);
	format_when(c, legacy, tsrv_floor_div(w->upload, MIN) * MIN, text);
	jset_str(iob, "datetime", text);
	jset_str(iob, "kind", "Insulin");
	tsrv_jset(o, "activeInsulin", iob);
}

static void put_device(const struct tcl *c, struct json_object *o, size_t p, const struct window *w, bool legacy)
{
	int battery = 20 + (int)(device_hash(c, p, w, 1) % 81);
	jset_str(o, "medicalDeviceFamily", c->guardian ? "GUARDIAN" : "NGP");
	jset_int(o, legacy ? "medicalDeviceBatteryLevelPercent" : "pumpBatteryLevelPercent", battery);
	jset_int(o, "conduitBatteryLevel", 30 + (int)(device_hash(c, p, w, 2) % 71));
	if (!c->guardian)
		put_value(o, VF_LEGACY, "reservoirRemainingUnits", 300 + (int)(device_hash(c, p, w, 3) % 2000), 1);
	jset_str(o, "calibStatus", "LESS_THAN_TWELVE_HRS");
	jset_int(o, "timeToNextCalibHours", 1 + (int)(device_hash(c, p, w, 5) % 12));
	jset_bool(o, "conduitInRange", true);
	jset_bool(o, "conduitMedicalDeviceInRange", true);
	jset_bool(o, "conduitSensorInRange", true);
	jset_str(o, "bgUnits", "MGDL");
	put_alarm_and_iob(c, o, p, w, legacy);
}

static void put_clock(const struct tcl *c, struct json_object *o, const struct window *w, bool legacy)
{
	char text[TIME_BUF];
	jset_int(o, "currentServerTime", w->now);
	jset_int(o, "lastMedicalDeviceDataUpdateServerTime", w->upload);
	if (legacy) {
		format_device_time(c, w->upload, text);
		jset_str(o, "sMedicalDeviceTime", text);
		format_offset(c, w->upload, text);
		jset_str(o, "lastConduitDateTime", text);
	} else {
		format_local(c, w->upload, text);
		jset_str(o, "lastConduitDateTime", text);
		jset_int(o, "lastConduitUpdateServerDateTime", w->upload);
		jset_str(o, "clientTimeZoneName", c->tz_name);
	}
}

/* The patient's data object (2025 patientData or the whole legacy document). */
static struct json_object *patient_data(const struct tcl *c, size_t p, int64_t now, bool legacy)
{
	struct window w;
	struct json_object *o = tsrv_jobject();
	enum vform f = legacy ? VF_LEGACY : VF_2025;
	window_at(c, now, &w);
	put_clock(c, o, &w, legacy);
	put_device(c, o, p, &w, legacy);
	uint64_t pseed = patient_seed(c, p);
	jset_str(o, "sensorState", sg_at(c, pseed, w.last) ? "NO_ERROR_MESSAGE" : "WARM_UP");
	tsrv_jset(o, "lastSG", sg_json(c, pseed, w.last, f));
	jset_str(o, "lastSGTrend", trend_of(c, pseed, w.last));
	tsrv_jset(o, "sgs", sgs_json(c, p, &w, f));
	tsrv_jset(o, "markers", markers_json(c, p, &w, f));
	return o;
}

/* ---- tokens --------------------------------------------------------------------- */

static uint64_t next_random(struct tcl *c)
{
	return tsrv_mix64(c->salt ^ tsrv_mix64(++c->counter));
}

static const char *account_user(const struct tcl *c)
{
	return c->patient_account ? c->patients[0] : TCL_CARER;
}

static void b64url_text(const char *text, char out[B64_BUF])
{
	b64url((const unsigned char *)text, strlen(text), out, B64_BUF);
}

/* A new access JWT, stored; returns it (owned by c; lock held). */
static const char *issue_access(struct tcl *c, int64_t now)
{
	char header[B64_BUF], payload[B64_BUF], sig[B64_BUF], body[B64_BUF / 2];
	unsigned char random[32];
	int64_t iat = tsrv_floor_div(now, SEC);
	uint64_t jti = next_random(c);
	snprintf(body, sizeof(body), "{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"aud\":\"%s\",\"jti\":\"%016llx\"}",
		 account_user(c), (long long)iat, (long long)(iat + c->lifetime_s), TCL_AUDIENCE,
		 (unsigned long long)jti);
	b64url_text("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", header);
	b64url_text(body, payload);
	for (size_t i = 0; i < sizeof(random); i += 8) {
		uint64_t r = next_random(c);
		memcpy(random + i, &r, 8);
	}
	b64url(random, sizeof(random), sig, sizeof(sig));
	size_t len = strlen(header) + strlen(payload) + strlen(sig) + 3;
	char *jwt = malloc(len);
	if (!jwt)
		oom();
	snprintf(jwt, len, "%s.%s.%s", header, payload, sig);
	c->tokens = grow(c->tokens, &c->cap_tokens, c->ntokens + 1, sizeof(*c->tokens));
	c->tokens[c->ntokens++] = (struct access){ jwt, (iat + c->lifetime_s) * SEC, c->generation };
	return jwt;
}

static const char *issue_refresh(struct tcl *c)
{
	c->refresh = grow(c->refresh, &c->cap_refresh, c->nrefresh + 1, sizeof(*c->refresh));
	struct refresh *r = &c->refresh[c->nrefresh++];
	uint64_t a = next_random(c);
	snprintf(r->token, sizeof(r->token), "RT-%016llx%08llx", (unsigned long long)a,
		 (unsigned long long)(next_random(c) & 0xffffffffu));
	r->live = true;
	return r->token;
}

static struct refresh *find_refresh(struct tcl *c, const char *token)
{
	for (size_t i = 0; i < c->nrefresh; i++)
		if (strcmp(c->refresh[i].token, token) == 0)
			return &c->refresh[i];
	return NULL;
}

static bool access_ok(const struct tcl *c, const struct tsrv_request *req, int64_t now)
{
	const char *h = tsrv_header(req, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	for (size_t i = 0; i < c->ntokens; i++) {
		const struct access *a = &c->tokens[i];
		if (strcmp(a->jwt, h) == 0)
			return a->generation == c->generation && now < a->exp_ms;
	}
	return false;
}

/* ---- login --------------------------------------------------------------------- */

static void handle_discovery(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	static const char *const regions[][3] = {
		{ "EU", EU_CLOUD, "https://carelink.minimed.eu/patient" },
		{ "US", US_CLOUD, "https://carelink.minimed.com/patient" },
	};
	(void)c, (void)req, (void)now;
	struct json_object *doc = tsrv_jobject(), *countries = tsrv_jarray(), *cp = tsrv_jarray();
	for (size_t i = 0; i < 2; i++) {
		struct json_object *country = tsrv_jobject(), *region = tsrv_jobject(), *e = tsrv_jobject();
		char url[256];
		jset_str(region, "region", regions[i][0]);
		tsrv_jset(country, i == 0 ? "GB" : "US", region);
		tsrv_jpush(countries, country);
		jset_str(e, "region", regions[i][0]);
		jset_str(e, "UseSSOConfiguration", "Auth0SSOConfiguration");
		snprintf(url, sizeof(url), "%s%s", regions[i][1], TCL_SSO_PATH);
		jset_str(e, "Auth0SSOConfiguration", url);
		jset_str(e, "baseUrlCareLink", regions[i][2]);
		snprintf(url, sizeof(url), "%s/connect/carepartner/v13", regions[i][1]);
		jset_str(e, "baseUrlCumulus", url);
		tsrv_jpush(cp, e);
	}
	tsrv_jset(doc, "supportedCountries", countries);
	tsrv_jset(doc, "CP", cp);
	tsrv_respond_doc(resp, 200, doc);
}

static void handle_sso(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	(void)c, (void)req, (void)now;
	struct json_object *doc = tsrv_jobject(), *server = tsrv_jobject(), *client = tsrv_jobject(),
			   *ep = tsrv_jobject();
	jset_str(server, "hostname", LOGIN_HOST);
	jset_int(server, "port", 443);
	jset_str(server, "prefix", "");
	jset_str(client, "client_id", TCL_CLIENT_ID);
	jset_str(client, "scope", TCL_SCOPE);
	jset_str(client, "audience", TCL_AUDIENCE);
	jset_str(client, "redirect_uri", TCL_REDIRECT_URI);
	jset_str(ep, "authorization_endpoint_path", "/authorize");
	jset_str(ep, "token_endpoint_path", TCL_TOKEN_PATH);
	tsrv_jset(doc, "server", server);
	tsrv_jset(doc, "client", client);
	tsrv_jset(doc, "system_endpoints", ep);
	tsrv_respond_doc(resp, 200, doc);
}

static bool challenge_shaped(const char *s)
{
	size_t n = strlen(s);
	return n >= 43 && n <= 128 && strspn(s, B64URL) == n;
}

/* Why the authorize query is wrong, or NULL. */
static const char *authorize_problem(const struct tsrv_kv *kv, size_t n)
{
	static const char *const want[][2] = {
		{ "client_id", TCL_CLIENT_ID }, { "response_type", "code" }, { "redirect_uri", TCL_REDIRECT_URI },
		{ "scope", TCL_SCOPE },         { "audience", TCL_AUDIENCE }, { "code_challenge_method", "S256" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *v = kv_get(kv, n, want[i][0]);
		if (!v || strcmp(v, want[i][1]) != 0)
			return want[i][0];
	}
	const char *challenge = kv_get(kv, n, "code_challenge");
	if (!challenge || !challenge_shaped(challenge))
		return "code_challenge";
	const char *state = kv_get(kv, n, "state");
	if (!state || !*state)
		return "state";
	return NULL;
}

/* A code for a checked authorize query; the redirect URL (malloc'd; lock held). */
static char *grant_code_locked(struct tcl *c, const struct tsrv_kv *kv, size_t n)
{
	c->codes = grow(c->codes, &c->cap_codes, c->ncodes + 1, sizeof(*c->codes));
	struct code *k = &c->codes[c->ncodes++];
	snprintf(k->code, sizeof(k->code), "AC-%016llx", (unsigned long long)next_random(c));
	k->challenge = xstrdup(kv_get(kv, n, "code_challenge"));
	k->redirect_uri = xstrdup(kv_get(kv, n, "redirect_uri"));
	k->used = false;
	char *state = encode(kv_get(kv, n, "state"));
	size_t len = strlen(k->redirect_uri) + strlen(k->code) + strlen(state) + 16;
	char *url = malloc(len);
	if (!url)
		oom();
	snprintf(url, len, "%s?code=%s&state=%s", k->redirect_uri, k->code, state);
	free(state);
	return url;
}

static void handle_authorize(struct tcl *c, const struct tsrv_request *req, int64_t now,
			     struct tsrv_response *resp)
{
	(void)now;
	const char *why = authorize_problem(req->args, req->nargs);
	if (why) {
		respond_oauth(resp, 400, "invalid_request", why);
		return;
	}
	char *url = grant_code_locked(c, req->args, req->nargs);
	tsrv_respond(resp, 302, "text/plain", "", 0);
	tsrv_respond_header(resp, "Location", url);
	free(url);
}

static void respond_tokens(struct tsrv_response *resp, const char *access, const char *refresh, int64_t lifetime_s)
{
	struct json_object *doc = tsrv_jobject();
	jset_str(doc, "access_token", access);
	if (refresh)
		jset_str(doc, "refresh_token", refresh);
	jset_int(doc, "expires_in", lifetime_s);
	jset_str(doc, "token_type", "Bearer");
	jset_str(doc, "scope", TCL_SCOPE);
	tsrv_respond_doc(resp, 200, doc);
}

static struct code *find_code(struct tcl *c, const char *code)
{
	for (size_t i = 0; i < c->ncodes; i++)
		if (strcmp(c->codes[i].code, code) == 0)
			return &c->codes[i];
	return NULL;
}

static void grant_authorization_code(struct tcl *c, const struct pairs *f, int64_t now, struct tsrv_response *resp)
{
	const char *code = kv_get(f->kv, f->n, "code");
	const char *redirect = kv_get(f->kv, f->n, "redirect_uri");
	const char *verifier = kv_get(f->kv, f->n, "code_verifier");
	if (!code || !redirect || !verifier) {
		respond_oauth(resp, 400, "invalid_request", "code, redirect_uri and code_verifier are required");
		return;
	}
	struct code *k = find_code(c, code);
	char challenge[64];
	s256(verifier, challenge);
	if (!k || k->used) {
		respond_oauth(resp, 403, "invalid_grant", "Invalid authorization code");
	} else if (strcmp(k->redirect_uri, redirect) != 0) {
		respond_oauth(resp, 403, "invalid_grant", "redirect_uri does not match the authorization request");
	} else if (strcmp(k->challenge, challenge) != 0) {
		respond_oauth(resp, 403, "invalid_grant", "Failed to verify code verifier");
	} else {
		k->used = true;
		c->exchanges++;
		const char *access = issue_access(c, now);
		respond_tokens(resp, access, issue_refresh(c), c->lifetime_s);
	}
}

static void grant_refresh_token(struct tcl *c, const struct pairs *f, int64_t now, struct tsrv_response *resp)
{
	const char *token = kv_get(f->kv, f->n, "refresh_token");
	if (!token) {
		respond_oauth(resp, 400, "invalid_request", "refresh_token is required");
		return;
	}
	struct refresh *r = find_refresh(c, token);
	if (!r || !r->live) {
		respond_oauth(resp, 403, "invalid_grant", "Unknown or invalid refresh token.");
		return;
	}
	c->refreshes++;
	if (!c->keep_refresh)
		r->live = false; /* r may move when the list grows: done with it first */
	const char *access = issue_access(c, now);
	respond_tokens(resp, access, c->keep_refresh ? NULL : issue_refresh(c), c->lifetime_s);
}

static void handle_token(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	struct pairs f;
	parse_pairs(req->body, &f);
	const char *grant = kv_get(f.kv, f.n, "grant_type");
	const char *client = kv_get(f.kv, f.n, "client_id");
	if (!grant || !client)
		respond_oauth(resp, 400, "invalid_request", "grant_type and client_id are required");
	else if (strcmp(client, TCL_CLIENT_ID) != 0)
		respond_oauth(resp, 401, "access_denied", "Unauthorized client");
	else if (strcmp(grant, "authorization_code") == 0)
		grant_authorization_code(c, &f, now, resp);
	else if (strcmp(grant, "refresh_token") == 0)
		grant_refresh_token(c, &f, now, resp);
	else
		respond_oauth(resp, 400, "unsupported_grant_type", grant);
	free_pairs(&f);
}

/* ---- session calls ------------------------------------------------------------------- */

static void handle_me(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	(void)req, (void)now;
	struct json_object *doc = tsrv_jobject();
	jset_str(doc, "id", "u-1");
	jset_str(doc, "username", account_user(c));
	jset_str(doc, "firstName", "Ann");
	jset_str(doc, "lastName", "Doe");
	jset_str(doc, "country", c->country);
	jset_str(doc, "language", "en");
	jset_str(doc, "role", c->patient_account ? "PATIENT_OUS" : "CARE_PARTNER_OUS");
	jset_bool(doc, "mfaRequired", false);
	tsrv_respond_doc(resp, 200, doc);
}

static void handle_links(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	static const char *const first[TCL_MAX_PATIENTS] = { "Bob", "Cat", "Dan", "Eve" };
	(void)req, (void)now;
	if (c->patient_account) {
		respond_empty(resp, 403);
		return;
	}
	struct json_object *arr = tsrv_jarray();
	for (size_t i = 0; i < c->npatients; i++) {
		struct json_object *e = tsrv_jobject();
		jset_str(e, "username", c->patients[i]);
		jset_str(e, "firstName", first[i]);
		jset_str(e, "lastName", "Doe");
		tsrv_jpush(arr, e);
	}
	tsrv_respond_doc(resp, 200, arr);
}

static void handle_settings(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	(void)now;
	const char *cc = tsrv_arg(req, "countryCode");
	if (!cc || strcasecmp(cc, c->country) != 0) {
		respond_empty(resp, 400);
		return;
	}
	struct json_object *doc = tsrv_jobject();
	jset_str(doc, "blePereodicDataEndpoint", EU_CLOUD TCL_DISPLAY_PATH);
	tsrv_respond_doc(resp, 200, doc);
}

static void handle_monitor(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	(void)req, (void)now;
	struct json_object *doc = tsrv_jobject();
	jset_str(doc, "deviceFamily", c->family);
	tsrv_respond_doc(resp, 200, doc);
}

/* ---- data ------------------------------------------------------------------------ */

/* Index of a patient the account may read, or -1. */
static int readable_patient(const struct tcl *c, const char *username)
{
	if (!username)
		return -1;
	if (c->patient_account)
		return strcmp(username, c->patients[0]) == 0 ? 0 : -1;
	for (size_t i = 0; i < c->npatients; i++)
		if (strcmp(username, c->patients[i]) == 0)
			return (int)i;
	return -1;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The patient a display-message body asks for, or -1 when the body is wrong. */
static int display_patient(const struct tcl *c, const char *body)
{
	struct json_object *o = json_tokener_parse(body);
	const char *user = json_str(o, "username"), *role = json_str(o, "role");
	int p = -1;
	if (user && role && strcmp(user, account_user(c)) == 0 &&
	    strcmp(role, c->patient_account ? "patient" : "carepartner") == 0)
		p = readable_patient(c, json_str(o, "patientId"));
	json_object_put(o);
	return p;
}

static void handle_display(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	int p = display_patient(c, req->body);
	if (p < 0) {
		respond_empty(resp, 400);
	} else if (c->guardian) {
		respond_empty(resp, 200);
	} else if (c->legacy_shape) {
		tsrv_respond_doc(resp, 200, patient_data(c, (size_t)p, now, true));
	} else {
		struct json_object *doc = tsrv_jobject();
		tsrv_jset(doc, "metadata", tsrv_jobject());
		tsrv_jset(doc, "patientData", patient_data(c, (size_t)p, now, false));
		tsrv_respond_doc(resp, 200, doc);
	}
}

static bool legacy_query_ok(const struct tsrv_request *req)
{
	const char *serial = tsrv_arg(req, "cpSerialNumber"), *type = tsrv_arg(req, "msgType");
	const char *at = tsrv_arg(req, "requestTime");
	return serial && strcmp(serial, "NONE") == 0 && type && strcmp(type, "last24hours") == 0 && at && *at &&
	       strspn(at, "0123456789") == strlen(at);
}

static void respond_legacy(struct tcl *c, const struct tsrv_request *req, int p, int64_t now,
			   struct tsrv_response *resp)
{
	if (p < 0)
		respond_empty(resp, 403);
	else if (!legacy_query_ok(req))
		respond_empty(resp, 400);
	else
		tsrv_respond_doc(resp, 200, patient_data(c, (size_t)p, now, true));
}

static void handle_connect_data(struct tcl *c, const struct tsrv_request *req, int64_t now,
				struct tsrv_response *resp)
{
	respond_legacy(c, req, c->patient_account ? 0 : -1, now, resp);
}

static void handle_m2m_data(struct tcl *c, const struct tsrv_request *req, int64_t now, struct tsrv_response *resp)
{
	const char *user = req->path + strlen(M2M_DATA_PATH);
	respond_legacy(c, req, c->patient_account ? -1 : readable_patient(c, user), now, resp);
}

/* ---- dispatch --------------------------------------------------------------------- */

typedef void (*endpoint_fn)(struct tcl *, const struct tsrv_request *, int64_t, struct tsrv_response *);

struct endpoint {
	const char *method;
	const char *path;
	bool prefix; /* path is a prefix (the rest names something) */
	bool bearer;
	endpoint_fn fn;
};

static const struct endpoint ENDPOINTS[] = {
	{ "GET", TCL_DISCOVERY_PATH, false, false, handle_discovery },
	{ "GET", TCL_SSO_PATH, false, false, handle_sso },
	{ "GET", "/authorize", false, false, handle_authorize },
	{ "POST", TCL_TOKEN_PATH, false, false, handle_token },
	{ "GET", "/patient/users/me", false, true, handle_me },
	{ "GET", "/patient/m2m/links/patients", false, true, handle_links },
	{ "GET", "/patient/countries/settings", false, true, handle_settings },
	{ "GET", "/patient/monitor/data", false, true, handle_monitor },
	{ "POST", TCL_DISPLAY_PATH, false, true, handle_display },
	{ "GET", "/patient/connect/data", false, true, handle_connect_data },
	{ "GET", M2M_DATA_PATH, true, true, handle_m2m_data },
};

static const struct endpoint *endpoint_of(const struct tsrv_request *req)
{
	for (size_t i = 0; i < sizeof(ENDPOINTS) / sizeof(ENDPOINTS[0]); i++) {
		const struct endpoint *e = &ENDPOINTS[i];
		size_t n = strlen(e->path);
		bool match = e->prefix ? strncmp(req->path, e->path, n) == 0 && req->path[n] != '\0' &&
						 strchr(req->path + n, '/') == NULL
				       : strcmp(req->path, e->path) == 0;
		if (match && strcmp(req->method, e->method) == 0)
			return e;
	}
	return NULL;
}

/* A pending tcl_fail_next for this path, consumed (lock held). */
static int scripted_status_locked(struct tcl *c, const char *path)
{
	for (size_t i = 0; i < c->nfails; i++) {
		struct fail *f = &c->fails[i];
		if (strncmp(path, f->prefix, strlen(f->prefix)) != 0)
			continue;
		int status = f->status;
		if (--f->count <= 0) {
			memmove(f, f + 1, (c->nfails - i - 1) * sizeof(*f));
			c->nfails--;
		}
		return status;
	}
	return 0;
}

static void on_request(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	struct tcl *c = arg;
	int64_t now = tcl_now(c);
	pthread_mutex_lock(&c->lock);
	int status = scripted_status_locked(c, req->path);
	const struct endpoint *e = endpoint_of(req);
	if (status > 0) {
		respond_empty(resp, status);
		if (status == 429) {
			char after[16];
			snprintf(after, sizeof(after), "%d", TCL_RETRY_AFTER_S);
			tsrv_respond_header(resp, "Retry-After", after);
		}
	} else if (!e) {
		respond_empty(resp, 404);
	} else if (e->bearer && !access_ok(c, req, now)) {
		respond_empty(resp, 401);
	} else {
		e->fn(c, req, now, resp);
	}
	pthread_mutex_unlock(&c->lock);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void copy_config(struct tcl *c, const struct tcl_config *cfg)
{
	c->patient_account = cfg->patient_account;
	for (size_t i = 0; i < TCL_MAX_PATIENTS && cfg->patients[i]; i++)
		c->patients[c->npatients++] = xstrdup(cfg->patients[i]);
	if (c->npatients == 0)
		c->patients[c->npatients++] = xstrdup(TCL_PATIENT);
	c->country = xstrdup(cfg->country ? cfg->country : "GB");
	c->family = xstrdup(cfg->device_family ? cfg->device_family : "NGP_BLE");
	c->guardian = strcmp(c->family, "GUARDIAN") == 0;
	c->tz_name = xstrdup(cfg->tz_name ? cfg->tz_name : "Europe/London");
	c->legacy_shape = cfg->legacy_shape;
	c->offset_min = cfg->offset_min || cfg->offset_given ? cfg->offset_min : DEFAULT_OFFSET_MIN;
	c->cadence_ms = cfg->cadence_ms > 0 ? cfg->cadence_ms : DEFAULT_CADENCE_MS;
	c->seed = cfg->seed;
	c->lifetime_s = cfg->access_lifetime_s > 0 ? cfg->access_lifetime_s : DEFAULT_LIFETIME_S;
	c->keep_refresh = cfg->keep_refresh;
	c->stale_ms = cfg->stale_ms > 0 ? cfg->stale_ms : DEFAULT_STALE_MS;
	c->now_fn = cfg->now_ms;
	c->now_ctx = cfg->now_ctx;
}

struct tcl *tcl_attach(struct tsrv *srv, const struct tcl_config *cfg)
{
	static const char *const prefixes[] = { "/connect/carepartner/", "/patient/", "/oauth/", "/authorize" };
	struct tcl *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = srv;
	pthread_mutex_init(&c->lock, NULL);
	copy_config(c, cfg);
	c->salt = tsrv_mix64((uint64_t)tsrv_real_now_ms() ^ 0x746f6b656e73u);
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (tsrv_route(srv, NULL, prefixes[i], on_request, c) != 0) {
			tcl_free(c);
			return NULL;
		}
	}
	return c;
}

void tcl_free(struct tcl *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npatients; i++)
		free(c->patients[i]);
	for (size_t i = 0; i < c->ntokens; i++)
		free(c->tokens[i].jwt);
	for (size_t i = 0; i < c->ncodes; i++) {
		free(c->codes[i].challenge);
		free(c->codes[i].redirect_uri);
	}
	free(c->tokens);
	free(c->refresh);
	free(c->codes);
	free(c->country);
	free(c->family);
	free(c->tz_name);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- the test's side ---------------------------------------------------------------------- */

int tcl_token_file_json(struct tcl *c, char *buf, size_t size)
{
	int64_t now = tcl_now(c);
	char url[256];
	struct json_object *doc = tsrv_jobject();
	snprintf(url, sizeof(url), "%s%s", tsrv_url(c->srv), TCL_TOKEN_PATH);
	pthread_mutex_lock(&c->lock);
	jset_str(doc, "access_token", issue_access(c, now));
	jset_str(doc, "refresh_token", issue_refresh(c));
	pthread_mutex_unlock(&c->lock);
	jset_str(doc, "client_id", TCL_CLIENT_ID);
	jset_str(doc, "token_url", url);
	jset_str(doc, "audience", TCL_AUDIENCE);
	jset_str(doc, "scope", TCL_SCOPE);
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	if (!text)
		oom();
	size_t len = strlen(text);
	int rc = len < size ? (int)len : -1;
	if (rc >= 0)
		memcpy(buf, text, len + 1);
	json_object_put(doc);
	return rc;
}

/* The path of a URL ("scheme://host[:port]/path?query" or "/path?query"), up to the query. */
static const char *url_path(const char *url, size_t *len)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : url;
	if (!p)
		p = "";
	*len = strcspn(p, "?#");
	return p;
}

char *tcl_browser_login(struct tcl *c, const char *authorize_url)
{
	size_t plen;
	const char *path = url_path(authorize_url, &plen);
	if (plen != strlen("/authorize") || strncmp(path, "/authorize", plen) != 0 || path[plen] != '?') {
		fprintf(stderr, "tcl_browser_login: not an /authorize URL with a query: %s\n", authorize_url);
		return NULL;
	}
	size_t qlen = strcspn(path + plen + 1, "#");
	char *query = malloc(qlen + 1);
	if (!query)
		oom();
	memcpy(query, path + plen + 1, qlen);
	query[qlen] = '\0';
	struct pairs q;
	parse_pairs(query, &q);
	free(query);
	const char *why = authorize_problem(q.kv, q.n);
	char *url = NULL;
	if (why) {
		fprintf(stderr, "tcl_browser_login: missing or wrong %s in %s\n", why, authorize_url);
	} else {
		pthread_mutex_lock(&c->lock);
		url = grant_code_locked(c, q.kv, q.n);
		pthread_mutex_unlock(&c->lock);
	}
	free_pairs(&q);
	return url;
}

void tcl_revoke_refresh(struct tcl *c)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nrefresh; i++)
		c->refresh[i].live = false;
	pthread_mutex_unlock(&c->lock);
}

void tcl_invalidate_access(struct tcl *c)
{
	pthread_mutex_lock(&c->lock);
	c->generation++;
	pthread_mutex_unlock(&c->lock);
}

void tcl_fail_next(struct tcl *c, const char *path_prefix, int status, int count)
{
	pthread_mutex_lock(&c->lock);
	if (count <= 0) {
		size_t j = 0;
		for (size_t i = 0; i < c->nfails; i++)
			if (strcmp(c->fails[i].prefix, path_prefix) != 0)
				c->fails[j++] = c->fails[i];
		c->nfails = j;
	} else if (c->nfails < MAX_FAILS) {
		struct fail *f = &c->fails[c->nfails++];
		snprintf(f->prefix, sizeof(f->prefix), "%s", path_prefix);
		f->status = status;
		f->count = count;
	}
	pthread_mutex_unlock(&c->lock);
}

static size_t counter(struct tcl *c, const size_t *which)
{
	pthread_mutex_lock(&c->lock);
	size_t n = *which;
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t tcl_refreshes(struct tcl *c)
{
	return counter(c, &c->refreshes);
}

size_t tcl_code_exchanges(struct tcl *c)
{
	return counter(c, &c->exchanges);
}

void tcl_last_refresh_token(struct tcl *c, char *buf, size_t size)
{
	pthread_mutex_lock(&c->lock);
	snprintf(buf, size, "%s", c->nrefresh ? c->refresh[c->nrefresh - 1].token : "");
	pthread_mutex_unlock(&c->lock);
}

void tcl_last_access_token(struct tcl *c, char *buf, size_t size)
{
	pthread_mutex_lock(&c->lock);
	snprintf(buf, size, "%s", c->ntokens ? c->tokens[c->ntokens - 1].jwt : "");
	pthread_mutex_unlock(&c->lock);
}

static int patient_by_name(const struct tcl *c, const char *patient)
{
	for (size_t i = 0; patient && i < c->npatients; i++)
		if (strcmp(c->patients[i], patient) == 0)
			return (int)i;
	return -1;
}

static size_t expected(struct tcl *c, const char *patient, bool sgs, struct json_object **out)
{
	int64_t now = tcl_now(c);
	struct window w;
	int p = patient_by_name(c, patient);
	window_at(c, now, &w);
	*out = p < 0 ? tsrv_jarray() : sgs ? sgs_json(c, (size_t)p, &w, VF_EXPECTED)
					 : markers_json(c, (size_t)p, &w, VF_EXPECTED);
	return json_object_array_length(*out);
}

size_t tcl_sgs(struct tcl *c, struct json_object **out)
{
	return expected(c, c->patients[0], true, out);
}

size_t tcl_markers(struct tcl *c, struct json_object **out)
{
	return expected(c, c->patients[0], false, out);
}

size_t tcl_patient_sgs(struct tcl *c, const char *patient, struct json_object **out)
{
	return expected(c, patient, true, out);
}

size_t tcl_patient_markers(struct tcl *c, const char *patient, struct json_object **out)
{
	return expected(c, patient, false, out);
}
