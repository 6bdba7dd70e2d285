/* SPDX-License-Identifier: MIT */
/*
 * The Glooko simulator of the test server (see glooko.h): cookie sign-in
 * on v2 and v3, the v2 sync resources paged by the update cursor, records
 * on epoch-anchored grids with fake-UTC clinical times. Independent of any
 * Glooko driver.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "glooko.h"
#include "iso_time.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define DEFAULT_CADENCE_MS (5 * MIN)
#define DEFAULT_HISTORY_MS (14 * DAY)
#define MAX_FAILS 16
#define COOKIE_HEX 32
#define GUID_BUF 37
#define PI 3.14159265358979323846

#define SIGN_IN_V2 "/api/v2/users/sign_in"
#define SIGN_IN_V3 "/api/v3/users/sign_in"
#define MSG_SIGN_IN "You need to sign in or sign up before continuing."

enum kind {
	K_CGM,
	K_NORMAL,
	K_EXTENDED,
	K_SCHEDULED,
	K_TEMPORARY,
	K_SUSPEND,
	K_FOOD,
	K_METER,
	K_EVENT,
	K_ALARM,
	K_COUNT
};

enum device { DEV_PUMP, DEV_CGM, DEV_METER };

struct kind_info {
	const char *name;     /* for tglk_records */
	const char *path;     /* the resource */
	const char *property; /* the page's array */
	enum device device;
	bool pump_time;       /* pumpTimestamp rather than timestamp */
};

static const struct kind_info KINDS[K_COUNT] = {
	[K_CGM] = { "readings", "/api/v2/cgm/readings", "readings", DEV_CGM, false },
	[K_NORMAL] = { "normalBoluses", "/api/v2/pumps/normal_boluses", "normalBoluses", DEV_PUMP, true },
	[K_EXTENDED] = { "extendedBoluses", "/api/v2/pumps/extended_boluses", "extendedBoluses", DEV_PUMP,
			 true },
	[K_SCHEDULED] = { "scheduledBasals", "/api/v2/pumps/scheduled_basals", "scheduledBasals", DEV_PUMP,
			  true },
	[K_TEMPORARY] = { "temporaryBasals", "/api/v2/pumps/temporary_basals", "temporaryBasals", DEV_PUMP,
			  true },
	[K_SUSPEND] = { "suspendBasals", "/api/v2/pumps/suspend_basals", "suspendBasals", DEV_PUMP, true },
	[K_FOOD] = { "foods", "/api/v2/foods", "foods", DEV_PUMP, false },
	[K_METER] = { "meterReadings", "/api/v2/readings", "readings", DEV_METER, false },
	[K_EVENT] = { "events", "/api/v2/pumps/events", "events", DEV_PUMP, false },
	[K_ALARM] = { "alarms", "/api/v2/pumps/alarms", "alarms", DEV_PUMP, false },
};

/*
 * A series of records: slot k lies at k*period + offset + jitter(key, k),
 * |jitter| <= jitter_ms in whole minutes. Series sharing a key share the
 * jitter (a bolus and its food, a site change and its reservoir change).
 * period 0: the CGM cadence.
 */
struct series {
	enum kind kind;
	int sub;
	int key;
	int64_t period_ms;
	int64_t offset_ms;
	int64_t jitter_ms;
};

/* Normal-bolus subs 0 and 3 eat the food of subs 0 and 1. */
#define BOLUS_FOOD_A 0
#define BOLUS_FOOD_B 3
#define BOLUS_MEAL_NO_FOOD 1

static const struct series SERIES[] = {
	{ K_CGM, 0, 0, 0, 0, 0 },
	{ K_NORMAL, 0, 10, DAY, 7 * HOUR + 30 * MIN, 20 * MIN },
	{ K_NORMAL, 1, 11, DAY, 12 * HOUR + 15 * MIN, 20 * MIN },
	{ K_NORMAL, 2, 12, DAY, 15 * HOUR, 20 * MIN },
	{ K_NORMAL, 3, 13, DAY, 18 * HOUR + 45 * MIN, 20 * MIN },
	{ K_NORMAL, 4, 14, DAY, 22 * HOUR + 10 * MIN, 20 * MIN },
	{ K_EXTENDED, 0, 20, 2 * DAY, 19 * HOUR, 30 * MIN },
	{ K_SCHEDULED, 0, 30, DAY, 0, 0 },
	{ K_SCHEDULED, 1, 30, DAY, 4 * HOUR, 0 },
	{ K_SCHEDULED, 2, 30, DAY, 8 * HOUR, 0 },
	{ K_SCHEDULED, 3, 30, DAY, 12 * HOUR, 0 },
	{ K_SCHEDULED, 4, 30, DAY, 18 * HOUR, 0 },
	{ K_TEMPORARY, 0, 40, DAY, 14 * HOUR, 60 * MIN },
	{ K_SUSPEND, 0, 50, 3 * DAY, DAY + 3 * HOUR, 30 * MIN },
	{ K_FOOD, 0, 10, DAY, 7 * HOUR + 30 * MIN, 20 * MIN },
	{ K_FOOD, 1, 13, DAY, 18 * HOUR + 45 * MIN, 20 * MIN },
	{ K_FOOD, 2, 60, DAY, 10 * HOUR + 30 * MIN, 30 * MIN },
	{ K_FOOD, 3, 61, DAY, 16 * HOUR + 30 * MIN, 30 * MIN },
	{ K_METER, 0, 70, DAY, 7 * HOUR, 30 * MIN },
	{ K_EVENT, 0, 80, 3 * DAY, 20 * HOUR, 60 * MIN },
	{ K_EVENT, 1, 80, 3 * DAY, 20 * HOUR + 5 * MIN, 60 * MIN },
	{ K_EVENT, 2, 81, 10 * DAY, 9 * HOUR, 60 * MIN },
	{ K_ALARM, 0, 90, 2 * DAY, 2 * HOUR, 90 * MIN },
};
#define NSERIES (sizeof(SERIES) / sizeof(SERIES[0]))

/* Scheduled-basal segment ends (hours of the UTC day). */
static const int SEGMENT_END_H[] = { 4, 8, 12, 18, 24 };

struct rec {
	int64_t true_ms, updated_ms;
	char guid[GUID_BUF];
	bool deleted;
	struct json_object *doc; /* the record as served */
};

struct store {
	struct rec *items;
	size_t n, cap;
};

struct fail {
	char prefix[128];
	int status;
	int count;
};

struct tglk {
	struct tsrv *srv;
	pthread_mutex_t lock;

	char *user, *password, *code;
	uint64_t seed;
	int64_t cadence_ms;
	struct tglk_transition zone[TGLK_MAX_ZONE];
	size_t zone_count;
	int64_t sync_delay_ms, cgm_sync_delay_ms, history_start_ms;
	bool two_factor, v2_unprocessable;
	int64_t (*now_fn)(void *);
	void *now_ctx;
	char device_guid[3][GUID_BUF];

	struct store stores[K_COUNT];
	int64_t next_slot[NSERIES];

	char (*sessions)[COOKIE_HEX + 1];
	size_t nsessions, cap_sessions;
	uint64_t session_counter;
	size_t sign_ins;

	struct fail fails[MAX_FAILS];
	size_t nfails;
};

/* ---- helpers ------------------------------------------------------------ */

#define oom() tsrv_oom("tglk")
#define xstrdup(s) tsrv_xstrdup("tglk", (s))

static void jset_null(struct json_object *o, const char *k)
{
	if (json_object_object_add(o, k, NULL) != 0)
		oom();
}

static void jset_str(struct json_object *o, const char *k, const char *s)
{
	tsrv_jset(o, k, json_object_new_string(s));
}

static void jset_int(struct json_object *o, const char *k, int64_t v)
{
	tsrv_jset(o, k, json_object_new_int64(v));
}

/* A double rounded to `decimals`, serialised with at least one decimal ("4.5", "2.0"). */
static void jset_num(struct json_object *o, const char *k, double v, int decimals)
{
	char text[48];
	snprintf(text, sizeof(text), "%.*f", decimals, v);
	size_t n = strlen(text);
	while (n > 2 && text[n - 1] == '0' && text[n - 2] != '.')
		text[--n] = '\0';
	tsrv_jset(o, k, json_object_new_double_s(strtod(text, NULL), text));
}

static void jset_time(struct json_object *o, const char *k, int64_t ms)
{
	char iso[TSNS_ISO_BUF];
	tsns_format_iso(ms, iso);
	jset_str(o, k, iso);
}

/* A deterministic 64-bit value for (seed, a, b, c). */
static uint64_t hash3(uint64_t seed, uint64_t a, uint64_t b, int64_t c)
{
	return tsrv_mix64(tsrv_mix64(tsrv_mix64(seed ^ a) ^ b) ^ (uint64_t)c);
}

/* lo + step * (h mod n): a value from a hash on a grid. */
static double pick(uint64_t h, double lo, double step, unsigned n)
{
	return lo + step * (double)(h % n);
}

int64_t tglk_now(struct tglk *g)
{
	return g->now_fn ? g->now_fn(g->now_ctx) : tsrv_real_now_ms();
}

static void format_guid(uint64_t a, uint64_t b, char out[GUID_BUF])
{
	a = (a & ~0xf000ULL) | 0x4000ULL;                          /* version 4 */
	b = (b & ~0xc000000000000000ULL) | 0x8000000000000000ULL; /* variant 10 */
	snprintf(out, GUID_BUF, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(a >> 32),
		 (unsigned long long)((a >> 16) & 0xffff), (unsigned long long)(a & 0xffff),
		 (unsigned long long)(b >> 48), (unsigned long long)(b & 0xffffffffffffULL));
}

static void record_guid(const struct tglk *g, enum kind kind, int sub, int64_t k, char out[GUID_BUF])
{
	uint64_t a = hash3(g->seed, 0x6c6b00u + (uint64_t)kind, (uint64_t)sub, k);
	format_guid(a, tsrv_mix64(a ^ 0x5bd1e995u), out);
}

/* ---- time ----------------------------------------------------------------- */

static int32_t offset_at(const struct tglk *g, int64_t utc_ms)
{
	if (g->zone_count == 0)
		return 0;
	int32_t off = g->zone[0].offset_s;
	for (size_t i = 1; i < g->zone_count && g->zone[i].from_utc_ms <= utc_ms; i++)
		off = g->zone[i].offset_s;
	return off;
}

static int64_t clinical_ms(const struct tglk *g, int64_t utc_ms)
{
	return utc_ms + (int64_t)offset_at(g, utc_ms) * SEC;
}

static int64_t slot_period(const struct tglk *g, const struct series *s)
{
	return s->period_ms ? s->period_ms : g->cadence_ms;
}

static int64_t slot_time(const struct tglk *g, const struct series *s, int64_t k)
{
	int64_t t = k * slot_period(g, s) + s->offset_ms;
	if (s->jitter_ms > 0) {
		int64_t minutes = s->jitter_ms / MIN;
		uint64_t h = hash3(g->seed, 0x6a6974u, (uint64_t)s->key, k);
		t += ((int64_t)(h % (uint64_t)(2 * minutes + 1)) - minutes) * MIN;
	}
	return t;
}

/* ---- values --------------------------------------------------------------- */

static double curve(const struct tglk *g, int64_t utc_ms)
{
	uint64_t s = tsrv_mix64(g->seed ^ 0x636776u);
	double ph1 = (double)(s % 1000) / 1000.0 * 2 * PI;
	double ph2 = (double)((s >> 20) % 1000) / 1000.0 * 2 * PI;
	double m = (double)utc_ms / (double)MIN;
	double v = 150.0 + 75.0 * sin(2 * PI * m / 360.0 + ph1) + 30.0 * sin(2 * PI * m / 97.0 + ph2);
	return v < 40 ? 40 : v > 400 ? 400 : v;
}

static int mgdl_at(const struct tglk *g, int64_t utc_ms)
{
	return (int)lround(curve(g, utc_ms));
}

static const char *trend_at(const struct tglk *g, int64_t utc_ms, int64_t k)
{
	if (hash3(g->seed, 0x74726eu, 0, k) % 40 == 0)
		return NULL;
	int d = mgdl_at(g, utc_ms) - mgdl_at(g, utc_ms - 5 * MIN);
	return d > 15 ? "DOUBLE_UP" : d > 10 ? "SINGLE_UP" : d > 5 ? "FORTY_FIVE_UP" :
	       d >= -5 ? "FLAT" : d >= -10 ? "FORTY_FIVE_DOWN" : d >= -15 ? "SINGLE_DOWN" : "DOUBLE_DOWN";
}

static double basal_rate(const struct tglk *g, int segment)
{
	return pick(hash3(g->seed, 0x626173u, (uint64_t)segment, 0), 0.5, 0.05, 21);
}

static int segment_of(int64_t utc_ms)
{
	int64_t h = (utc_ms - tsrv_floor_div(utc_ms, DAY) * DAY) / HOUR;
	int i = 0;
	while (h >= SEGMENT_END_H[i])
		i++;
	return i;
}

static double meal_carbs(const struct tglk *g, int sub, int64_t k)
{
	return pick(hash3(g->seed, 0x636172u, (uint64_t)sub, k), 20, 5, 15);
}

/* ---- records -------------------------------------------------------------- */

static void fill_cgm(struct tglk *g, struct json_object *d, int64_t t, int64_t k)
{
	jset_int(d, "value", (int64_t)mgdl_at(g, t) * 100);
	const char *trend = trend_at(g, t, k);
	if (trend)
		jset_str(d, "trend", trend);
	else
		jset_null(d, "trend");
	tsrv_jset(d, "calculated", json_object_new_boolean(0));
}

static void fill_normal(struct tglk *g, struct json_object *d, int sub, int64_t k)
{
	uint64_t h = hash3(g->seed, 0x626f6cu, (uint64_t)sub, k);
	bool meal = sub == BOLUS_FOOD_A || sub == BOLUS_FOOD_B || sub == BOLUS_MEAL_NO_FOOD;
	double carbs = meal ? meal_carbs(g, sub, k) : 0;
	double insulin = meal ? carbs / 10.0 + pick(h, 0, 0.05, 11) : pick(h, 0.5, 0.05, 51);
	jset_num(d, "insulinDelivered", insulin, 2);
	jset_num(d, "carbsInput", carbs, 1);
	jset_num(d, "insulinOnBoard", pick(h >> 16, 0, 0.1, 51), 2);
	jset_num(d, "insulinRecommended", insulin, 2);
	if (sub == BOLUS_FOOD_A || sub == BOLUS_FOOD_B) {
		char food[GUID_BUF];
		record_guid(g, K_FOOD, sub == BOLUS_FOOD_A ? 0 : 1, k, food);
		jset_str(d, "foodGuid", food);
	}
}

static void fill_extended(struct tglk *g, struct json_object *d, int64_t k)
{
	uint64_t h = hash3(g->seed, 0x657874u, 0, k);
	jset_num(d, "insulinDelivered", pick(h, 0.5, 0.05, 31), 2);
	jset_num(d, "extendedInsulin", pick(h >> 12, 1.0, 0.05, 61), 2);
	jset_int(d, "duration", (int64_t)pick(h >> 24, 60, 30, 7) * 60);
}

static void fill_scheduled(struct tglk *g, struct json_object *d, int sub, int64_t t)
{
	int start_h = sub == 0 ? 0 : SEGMENT_END_H[sub - 1];
	int64_t local_s = tsrv_floor_div(clinical_ms(g, t), SEC);
	jset_int(d, "startTime", local_s - tsrv_floor_div(local_s, 86400) * 86400);
	jset_int(d, "duration", (int64_t)(SEGMENT_END_H[sub] - start_h) * 3600);
	jset_num(d, "rate", basal_rate(g, sub), 2);
	jset_null(d, "segmentId");
}

static void fill_temporary(struct tglk *g, struct json_object *d, int64_t t, int64_t k)
{
	uint64_t h = hash3(g->seed, 0x746d70u, 0, k);
	int percent = (int)pick(h, 50, 10, 10);
	if (percent >= 100)
		percent += 10; /* 50..90, 110..150 */
	jset_num(d, "rate", basal_rate(g, segment_of(t)) * percent / 100.0, 3);
	jset_int(d, "percent", percent);
	jset_int(d, "duration", (int64_t)pick(h >> 16, 30, 30, 6) * 60);
}

static void fill_food(struct tglk *g, struct json_object *d, int sub, int64_t k)
{
	double carbs = sub == 0   ? meal_carbs(g, BOLUS_FOOD_A, k)
		       : sub == 1 ? meal_carbs(g, BOLUS_FOOD_B, k)
				  : pick(hash3(g->seed, 0x736e6bu, (uint64_t)sub, k), 5, 5, 6);
	jset_num(d, "carbs", carbs, 1);
}

static void fill_meter(struct tglk *g, struct json_object *d, int64_t t, int64_t k)
{
	int noise = (int)(hash3(g->seed, 0x6d7472u, 0, k) % 17) - 8;
	int v = mgdl_at(g, t) + noise;
	jset_int(d, "value", (int64_t)(v < 40 ? 40 : v > 400 ? 400 : v) * 100);
}

static void fill_event(struct json_object *d, int sub)
{
	static const char *const types[] = { "site_change", "reservoir_change", "cgm_sensor_start" };
	jset_str(d, "type", types[sub]);
}

static void fill_alarm(struct tglk *g, struct json_object *d, int64_t k)
{
	static const char *const types[] = { "low_glucose", "high_glucose", "occlusion" };
	static const char *const messages[] = { "Low glucose alert", "High glucose alert",
						"Occlusion detected" };
	unsigned i = (unsigned)(hash3(g->seed, 0x616c6du, 0, k) % 3);
	jset_str(d, "type", types[i]);
	jset_str(d, "message", messages[i]);
}

static void fill_kind(struct tglk *g, struct json_object *d, const struct series *s, int64_t t, int64_t k)
{
	switch (s->kind) {
	case K_CGM: fill_cgm(g, d, t, k); break;
	case K_NORMAL: fill_normal(g, d, s->sub, k); break;
	case K_EXTENDED: fill_extended(g, d, k); break;
	case K_SCHEDULED: fill_scheduled(g, d, s->sub, t); break;
	case K_TEMPORARY: fill_temporary(g, d, t, k); break;
	case K_SUSPEND:
		jset_int(d, "duration", (int64_t)pick(hash3(g->seed, 0x737370u, 0, k), 15, 5, 10) * 60);
		break;
	case K_FOOD: fill_food(g, d, s->sub, k); break;
	case K_METER: fill_meter(g, d, t, k); break;
	case K_EVENT: fill_event(d, s->sub); break;
	case K_ALARM: fill_alarm(g, d, k); break;
	case K_COUNT: break;
	}
}

static struct json_object *make_doc(struct tglk *g, const struct rec *r, const struct series *s, int64_t k)
{
	const struct kind_info *ki = &KINDS[s->kind];
	struct json_object *d = tsrv_jobject();
	jset_str(d, "guid", r->guid);
	if (ki->pump_time) {
		jset_time(d, "pumpTimestamp", clinical_ms(g, r->true_ms));
		jset_str(d, "pumpTimestampUtcOffset", "+00:00");
	} else {
		jset_time(d, "timestamp", clinical_ms(g, r->true_ms));
	}
	jset_str(d, "pumpGuid", g->device_guid[ki->device]);
	fill_kind(g, d, s, r->true_ms, k);
	tsrv_jset(d, "softDeleted", json_object_new_boolean(0));
	jset_time(d, "updatedAt", r->updated_ms);
	return d;
}

static struct rec *store_push(struct store *st)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 256;
		struct rec *p = realloc(st->items, cap * sizeof(*p));
		if (!p)
			oom();
		st->items = p;
		st->cap = cap;
	}
	struct rec *r = &st->items[st->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static void add_record(struct tglk *g, const struct series *s, int64_t k, int64_t t)
{
	struct rec *r = store_push(&g->stores[s->kind]);
	r->true_ms = t;
	r->updated_ms = t + (s->kind == K_CGM ? g->cgm_sync_delay_ms : g->sync_delay_ms);
	record_guid(g, s->kind, s->sub, k, r->guid);
	r->doc = make_doc(g, r, s, k);
}

/* Creates every record with a true instant up to now (lock held). */
static void materialize_locked(struct tglk *g, int64_t now)
{
	for (size_t i = 0; i < NSERIES; i++) {
		const struct series *s = &SERIES[i];
		for (;;) {
			int64_t t = slot_time(g, s, g->next_slot[i]);
			if (t > now)
				break;
			if (t >= g->history_start_ms)
				add_record(g, s, g->next_slot[i], t);
			g->next_slot[i]++;
		}
	}
}

static bool visible(const struct rec *r, int64_t now)
{
	return r->true_ms <= now && r->updated_ms <= now;
}

static struct rec *find_locked(struct tglk *g, enum kind only, const char *guid)
{
	for (int kind = 0; kind < K_COUNT; kind++) {
		if (only != K_COUNT && kind != (int)only)
			continue;
		struct store *st = &g->stores[kind];
		for (size_t i = 0; i < st->n; i++)
			if (strcmp(st->items[i].guid, guid) == 0)
				return &st->items[i];
	}
	return NULL;
}

static void touch(struct rec *r, int64_t now)
{
	r->updated_ms = now;
	jset_time(r->doc, "updatedAt", now);
}

/* ---- ordering --------------------------------------------------------------- */

static int cmp_updated(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a, *y = *(const struct rec *const *)b;
	if (x->updated_ms != y->updated_ms)
		return x->updated_ms < y->updated_ms ? -1 : 1;
	return strcmp(x->guid, y->guid);
}

static int cmp_true(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a, *y = *(const struct rec *const *)b;
	if (x->true_ms != y->true_ms)
		return x->true_ms < y->true_ms ? -1 : 1;
	return strcmp(x->guid, y->guid);
}

/* ---- responses ---------------------------------------------------------------- */

static void respond_empty(struct tsrv_response *resp, int status)
{
	tsrv_respond_doc(resp, status, tsrv_jobject());
}

static void respond_field(struct tsrv_response *resp, int status, const char *key, const char *text)
{
	struct json_object *o = tsrv_jobject();
	jset_str(o, key, text);
	tsrv_respond_doc(resp, status, o);
}

static void respond_sign_in_error(struct tsrv_response *resp, int status, const char *message)
{
	struct json_object *o = tsrv_jobject();
	tsrv_jset(o, "success", json_object_new_boolean(0));
	jset_str(o, "message", message);
	tsrv_respond_doc(resp, status, o);
}

static void respond_scripted(struct tsrv_response *resp, int status)
{
	if (status == 429) {
		respond_field(resp, status, "error", "Too many requests");
		tsrv_respond_header(resp, "Retry-After", "60");
	} else if (status == 403) {
		respond_field(resp, status, "error", "data_cant_view");
	} else if (status == 401) {
		respond_field(resp, status, "error", MSG_SIGN_IN);
	} else if (status >= 500) {
		respond_field(resp, status, "error", "Internal Server Error");
	} else {
		respond_empty(resp, status);
	}
}

/* A pending tglk_fail_next for this path, consumed (lock held). */
static int scripted_status_locked(struct tglk *g, const char *path)
{
	for (size_t i = 0; i < g->nfails; i++) {
		struct fail *f = &g->fails[i];
		if (strncmp(path, f->prefix, strlen(f->prefix)) != 0)
			continue;
		int status = f->status;
		if (--f->count <= 0) {
			memmove(f, f + 1, (g->nfails - i - 1) * sizeof(*f));
			g->nfails--;
		}
		return status;
	}
	return 0;
}

/* ---- sign-in -------------------------------------------------------------------- */

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *obj_member(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static void new_session_locked(struct tglk *g, char out[COOKIE_HEX + 1])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t a = tsrv_mix64(g->seed ^ (++g->session_counter << 20) ^ (uint64_t)ts.tv_nsec ^
			 (uint64_t)(uintptr_t)g);
	uint64_t b = tsrv_mix64(a ^ (uint64_t)ts.tv_sec ^ g->session_counter);
	snprintf(out, COOKIE_HEX + 1, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
	if (g->nsessions == g->cap_sessions) {
		size_t cap = g->cap_sessions ? 2 * g->cap_sessions : 16;
		char(*p)[COOKIE_HEX + 1] = realloc(g->sessions, cap * sizeof(*p));
		if (!p)
			oom();
		g->sessions = p;
		g->cap_sessions = cap;
	}
	memcpy(g->sessions[g->nsessions++], out, COOKIE_HEX + 1);
}

static void sign_in_ok(struct tglk *g, struct tsrv_response *resp)
{
	struct json_object *o = tsrv_jobject(), *u = tsrv_jobject();
	jset_str(u, "email", g->user);
	tsrv_jset(o, "userLogin", u);
	if (g->two_factor) {
		tsrv_jset(o, "twoFactorRequired", json_object_new_boolean(1));
		jset_str(o, "message", "A verification code was sent to your e-mail.");
		tsrv_respond_doc(resp, 200, o);
		return;
	}
	char cookie[COOKIE_HEX + 1], header[128];
	new_session_locked(g, cookie);
	g->sign_ins++;
	jset_str(u, "glookoCode", g->code);
	tsrv_respond_doc(resp, 200, o);
	snprintf(header, sizeof(header), TGLK_COOKIE "=%s; path=/; HttpOnly; SameSite=Lax", cookie);
	tsrv_respond_header(resp, "Set-Cookie", header);
}

static void handle_sign_in(struct tglk *g, const struct tsrv_request *req, bool v2,
			   struct tsrv_response *resp)
{
	if (v2 && g->v2_unprocessable) {
		respond_empty(resp, 422);
		return;
	}
	struct json_object *body = json_tokener_parse(req->body);
	struct json_object *login = obj_member(body, "userLogin");
	const char *email = str_member(login, "email");
	const char *password = str_member(login, "password");
	if (!login || !str_member(obj_member(body, "deviceInformation"), "applicationType")) {
		respond_sign_in_error(resp, 422, "userLogin and deviceInformation.applicationType are required.");
	} else if (!email || !password || strcasecmp(email, g->user) != 0 || strcmp(password, g->password) != 0) {
		respond_sign_in_error(resp, 401, "Invalid email or password.");
	} else {
		sign_in_ok(g, resp);
	}
	json_object_put(body);
}

/* ---- data ------------------------------------------------------------------------ */

/* The session cookie's value in a Cookie header, copied to out; false when absent. */
static bool cookie_value(const char *header, char *out, size_t size)
{
	static const char name[] = TGLK_COOKIE "=";
	for (const char *p = header; p && *p;) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, ";");
		if (strncmp(p, name, sizeof(name) - 1) == 0) {
			size_t len = n - (sizeof(name) - 1);
			snprintf(out, size, "%.*s", (int)len, p + sizeof(name) - 1);
			return len < size;
		}
		p += n;
		if (*p == ';')
			p++;
	}
	return false;
}

static bool session_valid_locked(struct tglk *g, const struct tsrv_request *req)
{
	char value[COOKIE_HEX + 8];
	if (!cookie_value(tsrv_header(req, "Cookie"), value, sizeof(value)))
		return false;
	for (size_t i = 0; i < g->nsessions; i++)
		if (strcmp(g->sessions[i], value) == 0)
			return true;
	return false;
}

struct page_query {
	int64_t after_ms;
	const char *after_text, *after_guid;
	long limit;
	bool has_start, has_end, send_deleted;
	int64_t start_ms, end_ms;
};

static bool parse_time_arg(const struct tsrv_request *req, const char *name, bool *has, int64_t *ms)
{
	const char *v = tsrv_arg(req, name);
	long long t = 0;
	*has = v != NULL;
	if (!v)
		return true;
	if (!tsns_parse_iso(v, &t, NULL))
		return false;
	*ms = t;
	return true;
}

static bool parse_query(const struct tsrv_request *req, struct page_query *q)
{
	bool has_after;
	memset(q, 0, sizeof(*q));
	if (!parse_time_arg(req, "lastUpdatedAt", &has_after, &q->after_ms) ||
	    !parse_time_arg(req, "startDate", &q->has_start, &q->start_ms) ||
	    !parse_time_arg(req, "endDate", &q->has_end, &q->end_ms))
		return false;
	q->after_text = has_after ? tsrv_arg(req, "lastUpdatedAt") : TGLK_EPOCH_ISO;
	if (!has_after)
		q->after_ms = 0;
	q->after_guid = tsrv_arg(req, "lastGuid") ? tsrv_arg(req, "lastGuid") : TGLK_ZERO_GUID;
	const char *limit = tsrv_arg(req, "limit");
	q->limit = TGLK_DEFAULT_LIMIT;
	if (limit) {
		char *end;
		q->limit = strtol(limit, &end, 10);
		if (*limit == '\0' || *end != '\0' || q->limit < 1)
			return false;
	}
	if (q->limit > TGLK_MAX_LIMIT)
		q->limit = TGLK_MAX_LIMIT;
	const char *deleted = tsrv_arg(req, "sendSoftDeleted");
	q->send_deleted = !deleted || strcmp(deleted, "false") != 0;
	return true;
}

static bool selected(const struct tglk *g, const struct rec *r, const struct page_query *q, int64_t now)
{
	if (!visible(r, now) || (r->deleted && !q->send_deleted))
		return false;
	if (r->updated_ms < q->after_ms ||
	    (r->updated_ms == q->after_ms && strcmp(r->guid, q->after_guid) <= 0))
		return false;
	int64_t c = clinical_ms(g, r->true_ms);
	return (!q->has_start || c >= q->start_ms) && (!q->has_end || c <= q->end_ms);
}

/* The records of a kind that q selects (NULL: all visible), sorted by cmp; the caller frees. */
static struct rec **sorted_selection(struct tglk *g, enum kind kind, const struct page_query *q, int64_t now,
				     int (*cmp)(const void *, const void *), size_t *count)
{
	struct store *st = &g->stores[kind];
	struct rec **sel = malloc((st->n ? st->n : 1) * sizeof(*sel));
	if (!sel)
		oom();
	size_t n = 0;
	for (size_t i = 0; i < st->n; i++)
		if (q ? selected(g, &st->items[i], q, now) : visible(&st->items[i], now))
			sel[n++] = &st->items[i];
	qsort(sel, n, sizeof(*sel), cmp);
	*count = n;
	return sel;
}

static void serve_page(struct tglk *g, enum kind kind, const struct page_query *q, int64_t now,
		       struct tsrv_response *resp)
{
	size_t n;
	struct rec **sel = sorted_selection(g, kind, q, now, cmp_updated, &n);
	size_t take = n < (size_t)q->limit ? n : (size_t)q->limit;
	struct json_object *o = tsrv_jobject(), *arr = tsrv_jarray();
	for (size_t i = 0; i < take; i++)
		tsrv_jpush(arr, json_object_get(sel[i]->doc));
	tsrv_jset(o, KINDS[kind].property, arr);
	if (take > 0) {
		tsrv_jset(o, "lastUpdatedAt", json_object_get(json_object_object_get(sel[take - 1]->doc, "updatedAt")));
		jset_str(o, "lastGuid", sel[take - 1]->guid);
	} else {
		jset_str(o, "lastUpdatedAt", q->after_text);
		jset_str(o, "lastGuid", q->after_guid);
	}
	tsrv_jset(o, "lastPage", json_object_new_boolean(take == n));
	free(sel);
	tsrv_respond_doc(resp, 200, o);
}

static void handle_data(struct tglk *g, const struct tsrv_request *req, enum kind kind, int64_t now,
			struct tsrv_response *resp)
{
	struct page_query q;
	const char *patient = tsrv_arg(req, "patient");
	if (!session_valid_locked(g, req))
		respond_field(resp, 401, "error", MSG_SIGN_IN);
	else if (!patient || strcmp(patient, g->code) != 0)
		respond_field(resp, 403, "error", "data_cant_view");
	else if (!parse_query(req, &q))
		respond_field(resp, 400, "error", "bad request");
	else
		serve_page(g, kind, &q, now, resp);
}

static int kind_of_path(const char *path)
{
	for (int k = 0; k < K_COUNT; k++)
		if (strcmp(path, KINDS[k].path) == 0)
			return k;
	return -1;
}

static void on_request(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	struct tglk *g = arg;
	int64_t now = tglk_now(g);
	pthread_mutex_lock(&g->lock);
	materialize_locked(g, now);
	int status = scripted_status_locked(g, req->path);
	int kind = kind_of_path(req->path);
	bool post = strcmp(req->method, "POST") == 0;
	if (status > 0)
		respond_scripted(resp, status);
	else if (post && strcmp(req->path, SIGN_IN_V2) == 0)
		handle_sign_in(g, req, true, resp);
	else if (post && strcmp(req->path, SIGN_IN_V3) == 0)
		handle_sign_in(g, req, false, resp);
	else if (kind >= 0 && strcmp(req->method, "GET") == 0)
		handle_data(g, req, (enum kind)kind, now, resp);
	else
		respond_empty(resp, 404);
	pthread_mutex_unlock(&g->lock);
}

/* ---- lifecycle --------------------------------------------------------------------- */

static void first_slots(struct tglk *g)
{
	for (size_t i = 0; i < NSERIES; i++) {
		const struct series *s = &SERIES[i];
		/* The earliest slot that might lie at or after the start, given the jitter. */
		g->next_slot[i] = tsrv_floor_div(g->history_start_ms - s->offset_ms - s->jitter_ms, slot_period(g, s));
	}
}

struct tglk *tglk_attach(struct tsrv *srv, const struct tglk_config *cfg)
{
	struct tglk *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->srv = srv;
	pthread_mutex_init(&g->lock, NULL);
	g->user = xstrdup(cfg->user ? cfg->user : TGLK_DEFAULT_USER);
	g->password = xstrdup(cfg->password ? cfg->password : TGLK_DEFAULT_PASSWORD);
	g->code = xstrdup(cfg->glooko_code ? cfg->glooko_code : TGLK_DEFAULT_CODE);
	g->seed = cfg->seed;
	g->cadence_ms = cfg->cadence_ms > 0 ? cfg->cadence_ms : DEFAULT_CADENCE_MS;
	g->zone_count = cfg->zone_count < TGLK_MAX_ZONE ? cfg->zone_count : TGLK_MAX_ZONE;
	memcpy(g->zone, cfg->zone, sizeof(g->zone));
	g->sync_delay_ms = cfg->sync_delay_ms > 0 ? cfg->sync_delay_ms : 0;
	g->cgm_sync_delay_ms = cfg->cgm_sync_delay_ms > 0 ? cfg->cgm_sync_delay_ms : g->sync_delay_ms;
	g->two_factor = cfg->two_factor;
	g->v2_unprocessable = cfg->v2_unprocessable;
	g->now_fn = cfg->now_ms;
	g->now_ctx = cfg->now_ctx;
	g->history_start_ms = cfg->history_start_ms ? cfg->history_start_ms : tglk_now(g) - DEFAULT_HISTORY_MS;
	for (int d = 0; d < 3; d++) {
		uint64_t a = hash3(g->seed, 0x646576u, (uint64_t)d, 0);
		format_guid(a, tsrv_mix64(a), g->device_guid[d]);
	}
	first_slots(g);
	if (tsrv_route(srv, NULL, "/api/", on_request, g) != 0 ||
	    tsrv_route(srv, NULL, SIGN_IN_V3, on_request, g) != 0) {
		tglk_free(g);
		return NULL;
	}
	return g;
}

void tglk_free(struct tglk *g)
{
	if (!g)
		return;
	for (int k = 0; k < K_COUNT; k++) {
		for (size_t i = 0; i < g->stores[k].n; i++)
			json_object_put(g->stores[k].items[i].doc);
		free(g->stores[k].items);
	}
	free(g->sessions);
	free(g->user);
	free(g->password);
	free(g->code);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* ---- scripting and expected values ----------------------------------------------------- */

void tglk_expire_sessions(struct tglk *g)
{
	pthread_mutex_lock(&g->lock);
	g->nsessions = 0;
	pthread_mutex_unlock(&g->lock);
}

void tglk_fail_next(struct tglk *g, const char *path_prefix, int status, int count)
{
	pthread_mutex_lock(&g->lock);
	if (count <= 0) {
		size_t j = 0;
		for (size_t i = 0; i < g->nfails; i++)
			if (strcmp(g->fails[i].prefix, path_prefix) != 0)
				g->fails[j++] = g->fails[i];
		g->nfails = j;
	} else if (g->nfails < MAX_FAILS) {
		struct fail *f = &g->fails[g->nfails++];
		snprintf(f->prefix, sizeof(f->prefix), "%s", path_prefix);
		f->status = status;
		f->count = count;
	}
	pthread_mutex_unlock(&g->lock);
}

void tglk_edit_bolus(struct tglk *g, const char *guid, double insulin)
{
	int64_t now = tglk_now(g);
	pthread_mutex_lock(&g->lock);
	materialize_locked(g, now);
	struct rec *r = find_locked(g, K_NORMAL, guid);
	if (r) {
		jset_num(r->doc, "insulinDelivered", insulin, 2);
		touch(r, now);
	}
	pthread_mutex_unlock(&g->lock);
}

void tglk_soft_delete(struct tglk *g, const char *guid)
{
	int64_t now = tglk_now(g);
	pthread_mutex_lock(&g->lock);
	materialize_locked(g, now);
	struct rec *r = find_locked(g, K_COUNT, guid);
	if (r) {
		r->deleted = true;
		tsrv_jset(r->doc, "softDeleted", json_object_new_boolean(1));
		touch(r, now);
	}
	pthread_mutex_unlock(&g->lock);
}

static int kind_of_name(const char *name)
{
	for (int k = 0; k < K_COUNT; k++)
		if (strcmp(name, KINDS[k].name) == 0)
			return k;
	return -1;
}

static struct json_object *expected_copy(const struct rec *r)
{
	struct json_object *c = NULL;
	if (json_object_deep_copy(r->doc, &c, NULL) != 0 || !c)
		oom();
	jset_int(c, "trueUtcMs", r->true_ms);
	return c;
}

size_t tglk_records(struct tglk *g, const char *kind, struct json_object **out)
{
	int64_t now = tglk_now(g);
	struct json_object *arr = tsrv_jarray();
	int k = kind_of_name(kind);
	pthread_mutex_lock(&g->lock);
	materialize_locked(g, now);
	if (k >= 0) {
		size_t n;
		struct rec **sel = sorted_selection(g, (enum kind)k, NULL, now, cmp_true, &n);
		for (size_t i = 0; i < n; i++)
			tsrv_jpush(arr, expected_copy(sel[i]));
		free(sel);
	}
	pthread_mutex_unlock(&g->lock);
	*out = arr;
	return json_object_array_length(arr);
}

size_t tglk_sign_ins(struct tglk *g)
{
	pthread_mutex_lock(&g->lock);
	size_t n = g->sign_ins;
	pthread_mutex_unlock(&g->lock);
	return n;
}
