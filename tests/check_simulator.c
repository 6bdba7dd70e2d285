/* SPDX-License-Identifier: MIT */
/*
 * The simulator source: a deterministic, realistic curve on the 5-minute
 * grid, only in (from, to], directions that match the deltas, meals with
 * boluses, one pump status per poll whose insulin on board follows those
 * boluses, one profile that a second run does not store again, a
 * transform that drops bad payloads and skips bad records, and an
 * optional login whose token never reaches the log.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "batch.h"
#include "identity.h"
#include "log.h"
#include "log_capture.h"
#include "nsc_check.h"
#include "sources/registry.h"
#include "nsc_config.h"
#include "outputs/filesystem.h"
#include "source.h"
#include "sources/simulator/simulator.h"
#include "sources/simulator/simulator_model.h"
#include "timeutil.h"
#include "trend.h"

#define SLOT NSC_SIMULATOR_SLOT_MS
/* 2024-03-10T15:47:13.123Z: deliberately off the grid. */
#define T_NOW INT64_C(1710085633123)

/* ---- fixtures -------------------------------------------------------- */

struct step {
	int calls;
	nsc_rc rc;
	char msg[NSC_ERROR_MSG_MAX];
};

static void step_done(void *arg, nsc_rc rc, const char *message)
{
	struct step *s = arg;
	s->calls++;
	s->rc = rc;
	snprintf(s->msg, sizeof(s->msg), "%s", message ? message : "");
}

struct sim {
	struct nsc_config cfg;
	struct nsc_log *log;
	struct log_capture out;
	struct nsc_source_env env;
	void *ctx;
};

static void sim_setup(struct sim *s, uint64_t seed, const char *user, const char *pass)
{
	struct nsc_error err = { 0 };

	memset(s, 0, sizeof(*s));
	nsc_config_init(&s->cfg);
	s->cfg.source = nsc_source_by_name("simulator");
	s->cfg.simulator_seed = seed;
	if (user) {
		s->cfg.simulator_username = strdup(user);
		ck_assert_ptr_nonnull(s->cfg.simulator_username);
	}
	if (pass) {
		s->cfg.simulator_password = strdup(pass);
		ck_assert_ptr_nonnull(s->cfg.simulator_password);
	}
	s->log = nsc_log_new(NSC_LOG_TRACE);
	ck_assert_ptr_nonnull(s->log);
	nsc_log_set_sink(s->log, log_capture_sink, &s->out);
	s->env.config = &s->cfg;
	s->env.log = s->log;
	s->env.loop = NULL;
	ck_assert_int_eq(nsc_source_simulator.create(&s->env, &s->ctx, &err), NSC_OK);
	ck_assert_ptr_nonnull(s->ctx);
}

static void sim_teardown(struct sim *s)
{
	nsc_source_simulator.destroy(s->ctx);
	nsc_log_free(s->log);
	nsc_config_free(&s->cfg);
	free(s->out.text);
}

static nsc_rc sim_fetch_w(struct sim *s, const struct nsc_fetch_window *w, struct nsc_payload *p)
{
	struct step st = { 0 };

	memset(p, 0, sizeof(*p));
	nsc_source_simulator.fetch(s->ctx, w, p, step_done, &st);
	ck_assert_int_eq(st.calls, 1);
	return st.rc;
}

static nsc_rc sim_fetch(struct sim *s, int64_t from, int64_t to, struct nsc_payload *p)
{
	struct nsc_fetch_window w = { .from_ms = from, .to_ms = to };
	return sim_fetch_w(s, &w, p);
}

/* fetch + transform for the window; returns the transform's rc. */
static nsc_rc sim_run_w(struct sim *s, const struct nsc_fetch_window *w, struct nsc_batch *b,
			size_t *skipped)
{
	struct nsc_payload p;
	struct nsc_error err = { 0 };

	ck_assert_int_eq(sim_fetch_w(s, w, &p), NSC_OK);
	ck_assert_ptr_nonnull(p.data);
	ck_assert_uint_eq(strlen(p.data), p.len);
	nsc_batch_init(b);
	nsc_rc rc = nsc_source_simulator.transform(s->ctx, &p, w, b, skipped, &err);
	nsc_payload_free(&p);
	return rc;
}

/* fetch + transform for (from, to], for an output that holds nothing; returns the transform's rc. */
static nsc_rc sim_run(struct sim *s, int64_t from, int64_t to, struct nsc_batch *b, size_t *skipped)
{
	struct nsc_fetch_window w = { .from_ms = from, .to_ms = to };
	return sim_run_w(s, &w, b, skipped);
}

static nsc_rc transform_text(struct sim *s, const char *text, int64_t from, int64_t to,
			     struct nsc_batch *b, size_t *skipped, struct nsc_error *err)
{
	struct nsc_fetch_window w = { .from_ms = from, .to_ms = to };
	struct nsc_payload p = { .data = (char *)text, .len = strlen(text) };
	nsc_batch_init(b);
	return nsc_source_simulator.transform(s->ctx, &p, &w, b, skipped, err);
}

/* The member at a dotted path ("pump.battery.percent"); fails the test when absent. */
static struct json_object *doc_at(struct json_object *doc, const char *path)
{
	char buf[128];
	struct json_object *v = doc;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(v, json_type_array)) {
			v = json_object_array_get_idx(v, (size_t)strtoul(k, NULL, 10));
			ck_assert_msg(v != NULL, "missing %s", path);
			continue;
		}
		ck_assert_msg(json_object_object_get_ex(v, k, &v), "missing %s", path);
	}
	return v;
}

/* The member at a dotted path, of type t; fails the test otherwise. */
static struct json_object *typed_at(struct json_object *doc, const char *path, json_type t)
{
	struct json_object *v = doc_at(doc, path);
	ck_assert_msg(json_object_is_type(v, t), "%s is not a %s", path, json_type_to_name(t));
	return v;
}

static int64_t doc_int(struct json_object *doc, const char *path)
{
	return json_object_get_int64(typed_at(doc, path, json_type_int));
}

static double doc_double(struct json_object *doc, const char *path)
{
	return json_object_get_double(typed_at(doc, path, json_type_double));
}

static const char *doc_str(struct json_object *doc, const char *path)
{
	return json_object_get_string(typed_at(doc, path, json_type_string));
}

static bool doc_bool(struct json_object *doc, const char *path)
{
	return json_object_get_boolean(typed_at(doc, path, json_type_boolean));
}

/* The member names of an object, sorted, comma-separated. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *keys_of(struct json_object *obj, char *buf, size_t size)
{
	const char *keys[32];
	size_t n = 0, off = 0;

	json_object_object_foreach(obj, k, v)
	{
		(void)v;
		ck_assert_uint_lt(n, 32);
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(keys[0]), cmp_str);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i ? "," : "", keys[i]);
		ck_assert(w > 0 && (size_t)w < size - off);
		off += (size_t)w;
	}
	return buf;
}

static const char *iso_of(int64_t t, char iso[NSC_ISO_BUF])
{
	ck_assert_int_eq(nsc_time_format_iso(t, iso, NSC_ISO_BUF), NSC_OK);
	return iso;
}

static const char *batch_json(const struct nsc_batch *b, enum nsc_collection c)
{
	return b->docs[c] ? json_object_to_json_string_ext(b->docs[c], JSON_C_TO_STRING_PLAIN) : "";
}

/* ---- the curve ------------------------------------------------------- */

START_TEST(test_deterministic_per_seed)
{
	struct sim a, b2, c;
	struct nsc_batch ba, bb, bc;
	size_t skipped;
	int64_t from = T_NOW - 6 * NSC_MS_PER_HOUR;

	sim_setup(&a, 7, NULL, NULL);
	sim_setup(&b2, 7, NULL, NULL);
	sim_setup(&c, 8, NULL, NULL);
	ck_assert_int_eq(sim_run(&a, from, T_NOW, &ba, &skipped), NSC_OK);
	ck_assert_int_eq(sim_run(&b2, from, T_NOW, &bb, &skipped), NSC_OK);
	ck_assert_int_eq(sim_run(&c, from, T_NOW, &bc, &skipped), NSC_OK);

	/* Same seed and window: byte-identical documents from separate instances. */
	ck_assert_uint_eq(nsc_batch_count(&ba, NSC_COLL_ENTRIES), 72);
	ck_assert_str_eq(batch_json(&ba, NSC_COLL_ENTRIES), batch_json(&bb, NSC_COLL_ENTRIES));
	ck_assert_str_eq(batch_json(&ba, NSC_COLL_TREATMENTS), batch_json(&bb, NSC_COLL_TREATMENTS));
	/* The pump status and the profile too, identifiers included. */
	ck_assert_uint_eq(nsc_batch_count(&ba, NSC_COLL_DEVICESTATUS), 1);
	ck_assert_uint_eq(nsc_batch_count(&ba, NSC_COLL_PROFILE), 1);
	ck_assert_str_eq(batch_json(&ba, NSC_COLL_DEVICESTATUS), batch_json(&bb, NSC_COLL_DEVICESTATUS));
	ck_assert_str_eq(batch_json(&ba, NSC_COLL_PROFILE), batch_json(&bb, NSC_COLL_PROFILE));

	/* Another seed: another curve. */
	size_t differ = 0, n = nsc_batch_count(&ba, NSC_COLL_ENTRIES);
	ck_assert_uint_eq(nsc_batch_count(&bc, NSC_COLL_ENTRIES), n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = nsc_batch_get(&ba, NSC_COLL_ENTRIES, i);
		struct json_object *y = nsc_batch_get(&bc, NSC_COLL_ENTRIES, i);
		ck_assert_int_eq(doc_int(x, "date"), doc_int(y, "date"));
		if (doc_int(x, "sgv") != doc_int(y, "sgv"))
			differ++;
	}
	ck_assert_msg(differ > n / 2, "only %zu of %zu readings differ between seeds", differ, n);

	/* Overlapping windows agree on the shared readings. */
	struct nsc_batch bo;
	ck_assert_int_eq(sim_run(&a, from - NSC_MS_PER_HOUR, T_NOW - 2 * NSC_MS_PER_HOUR, &bo, &skipped),
			 NSC_OK);
	size_t shared = 0;
	for (size_t i = 0; i < nsc_batch_count(&bo, NSC_COLL_ENTRIES); i++) {
		struct json_object *x = nsc_batch_get(&bo, NSC_COLL_ENTRIES, i);
		int64_t t = doc_int(x, "date");
		for (size_t j = 0; j < n; j++) {
			struct json_object *y = nsc_batch_get(&ba, NSC_COLL_ENTRIES, j);
			if (doc_int(y, "date") == t) {
				ck_assert_int_eq(doc_int(x, "sgv"), doc_int(y, "sgv"));
				ck_assert_str_eq(doc_str(x, "direction"), doc_str(y, "direction"));
				shared++;
			}
		}
	}
	ck_assert_uint_eq(shared, 48);

	nsc_batch_clear(&ba);
	nsc_batch_clear(&bb);
	nsc_batch_clear(&bc);
	nsc_batch_clear(&bo);
	sim_teardown(&a);
	sim_teardown(&b2);
	sim_teardown(&c);
}
END_TEST

START_TEST(test_glucose_at_is_per_slot)
{
	struct sim s;
	struct nsc_batch b;
	size_t skipped;

	sim_setup(&s, 3, NULL, NULL);
	ck_assert_int_eq(sim_run(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &b, &skipped), NSC_OK);
	for (size_t i = 0; i < nsc_batch_count(&b, NSC_COLL_ENTRIES); i++) {
		struct json_object *d = nsc_batch_get(&b, NSC_COLL_ENTRIES, i);
		int64_t t = doc_int(d, "date");
		int v = nsc_simulator_glucose_at(3, t);
		ck_assert_int_eq(doc_int(d, "sgv"), v);
		/* Any instant inside the slot gives the slot's value. */
		ck_assert_int_eq(nsc_simulator_glucose_at(3, t + 1), v);
		ck_assert_int_eq(nsc_simulator_glucose_at(3, t + SLOT - 1), v);
	}
	/* Slots before 1970 work too (floor, not truncation); extremes do not overflow. */
	ck_assert_int_eq(nsc_simulator_glucose_at(3, -1), nsc_simulator_glucose_at(3, -SLOT));
	ck_assert_int_ge(nsc_simulator_glucose_at(3, INT64_MIN), 40);
	ck_assert_int_le(nsc_simulator_glucose_at(3, INT64_MAX), 400);
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_realistic_range_and_steps)
{
	static const uint64_t seeds[] = { 1, 2, 42, 1234567, UINT64_MAX };
	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		int64_t start = T_NOW - 14 * NSC_MS_PER_DAY;
		int prev = nsc_simulator_glucose_at(seeds[k], start);
		int lo = prev, hi = prev, max_step = 0;
		long sum = 0, n = 0;
		for (int64_t t = start + SLOT; t <= T_NOW; t += SLOT) {
			int v = nsc_simulator_glucose_at(seeds[k], t);
			ck_assert_int_ge(v, 40);
			ck_assert_int_le(v, 400);
			int step = abs(v - prev);
			if (step > max_step)
				max_step = step;
			if (v < lo)
				lo = v;
			if (v > hi)
				hi = v;
			sum += v;
			n++;
			prev = v;
		}
		ck_assert_msg(max_step <= 30, "seed %llu: step of %d mg/dL in 5 min",
			      (unsigned long long)seeds[k], max_step);
		/* A living curve: meals push it up, insulin brings it down. */
		ck_assert_msg(hi >= 160 && lo <= 95, "seed %llu: range %d..%d is too flat",
			      (unsigned long long)seeds[k], lo, hi);
		ck_assert_int_ge(sum / n, 90);
		ck_assert_int_le(sum / n, 160);
	}
}
END_TEST

START_TEST(test_grid_window_and_document_shape)
{
	struct sim s;
	struct nsc_batch b;
	size_t skipped = 99;
	/* from on the grid (excluded), to off the grid (the slot before it is the last). */
	int64_t from = (T_NOW / SLOT - 30) * SLOT;

	sim_setup(&s, 5, NULL, NULL);
	ck_assert_int_eq(sim_run(&s, from, T_NOW, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	size_t n = nsc_batch_count(&b, NSC_COLL_ENTRIES);
	ck_assert_uint_eq(n, 30);
	int64_t prev = from;
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = nsc_batch_get(&b, NSC_COLL_ENTRIES, i);
		int64_t t = doc_int(d, "date");
		char iso[NSC_ISO_BUF];
		ck_assert_int_eq(t % SLOT, 0);
		ck_assert_int_gt(t, from);
		ck_assert_int_le(t, T_NOW);
		ck_assert_int_eq(t - prev, SLOT);
		prev = t;
		ck_assert_str_eq(doc_str(d, "type"), "sgv");
		ck_assert_str_eq(doc_str(d, "device"), "nsconnect-simulator");
		ck_assert_int_eq(nsc_time_format_iso(t, iso, sizeof(iso)), NSC_OK);
		ck_assert_str_eq(doc_str(d, "dateString"), iso);
		ck_assert_int_ge(doc_int(d, "sgv"), 40);
		ck_assert_int_le(doc_int(d, "sgv"), 400);
		/* Completed by nsc_batch_add. */
		ck_assert_uint_eq(strlen(doc_str(d, "identifier")), 36);
	}
	ck_assert_int_eq(prev, T_NOW / SLOT * SLOT);
	nsc_batch_clear(&b);

	/* to on the grid is included; nothing after it (no future readings). */
	int64_t to = T_NOW / SLOT * SLOT;
	ck_assert_int_eq(sim_run(&s, to - SLOT, to, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 1);
	ck_assert_int_eq(doc_int(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "date"), to);
	nsc_batch_clear(&b);

	/* An empty window gives nothing for an output that holds the profile ... */
	struct nsc_fetch_window empty = { .from_ms = to, .to_ms = to + SLOT - 1 };
	empty.last_known.ms[NSC_COLL_PROFILE] = NSC_SIM_PROFILE_START_MS;
	ck_assert_int_eq(sim_run_w(&s, &empty, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
	nsc_batch_clear(&b);

	/* ... and only the profile for one that holds nothing (no reading: no pump status). */
	ck_assert_int_eq(sim_run(&s, to, to + SLOT - 1, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_PROFILE), 1);
	ck_assert_uint_eq(nsc_batch_total(&b), 1);
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_fetch_capped_by_lookback)
{
	struct sim s;
	struct nsc_batch b;
	size_t skipped;

	sim_setup(&s, 1, NULL, NULL);
	s.cfg.lookback_ms = 2 * NSC_MS_PER_HOUR;
	ck_assert_int_eq(sim_run(&s, 0, T_NOW, &b, &skipped), NSC_OK);
	size_t n = nsc_batch_count(&b, NSC_COLL_ENTRIES);
	ck_assert_uint_eq(n, 24);
	/* The newest readings are the ones kept. */
	ck_assert_int_eq(doc_int(nsc_batch_get(&b, NSC_COLL_ENTRIES, n - 1), "date"), T_NOW / SLOT * SLOT);
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_directions_match_deltas)
{
	struct sim s;
	struct nsc_batch b;
	size_t skipped;
	bool seen[NSC_TREND_COUNT] = { false };
	int kinds = 0;

	sim_setup(&s, 11, NULL, NULL);
	ck_assert_int_eq(sim_run(&s, T_NOW - NSC_MS_PER_DAY, T_NOW, &b, &skipped), NSC_OK);
	size_t n = nsc_batch_count(&b, NSC_COLL_ENTRIES);
	ck_assert_uint_eq(n, 288);
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = nsc_batch_get(&b, NSC_COLL_ENTRIES, i);
		int64_t t = doc_int(d, "date");
		int64_t prev = i > 0 ? doc_int(nsc_batch_get(&b, NSC_COLL_ENTRIES, i - 1), "sgv")
				     : nsc_simulator_glucose_at(11, t - SLOT);
		enum nsc_trend want = nsc_trend_from_rate((double)(doc_int(d, "sgv") - prev) / 5.0);
		ck_assert_int_eq(doc_int(d, "trend"), (int64_t)want);
		ck_assert_str_eq(doc_str(d, "direction"), nsc_trend_direction(want));
		if (!seen[want]) {
			seen[want] = true;
			kinds++;
		}
	}
	/* A day with meals has rises and falls, not only Flat. */
	ck_assert_int_ge(kinds, 3);
	ck_assert(seen[NSC_TREND_FLAT]);
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_fast_cadence)
{
	const int64_t every = 10 * NSC_MS_PER_SECOND;
	struct sim s;
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	size_t skipped;

	sim_setup(&s, 11, NULL, NULL);
	nsc_source_simulator.destroy(s.ctx);
	s.cfg.simulator_interval_ms = every;
	ck_assert_int_eq(nsc_source_simulator.create(&s.env, &s.ctx, &err), NSC_OK);

	/* The engine polls at the configured cadence, buffer and jitter a tenth of it. */
	struct nsc_source_timing t = nsc_source_simulator.timing;
	nsc_source_simulator.tune_timing(s.ctx, &t);
	ck_assert_int_eq(t.expected_interval_ms, every);
	ck_assert_int_eq(t.align_buffer_ms, every / 10);
	ck_assert_int_eq(t.align_jitter_ms, every / 10);
	ck_assert_int_eq(t.retry_base_ms, every);

	ck_assert_int_eq(sim_run(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &b, &skipped), NSC_OK);
	size_t n = nsc_batch_count(&b, NSC_COLL_ENTRIES);
	ck_assert_uint_eq(n, 360);
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = nsc_batch_get(&b, NSC_COLL_ENTRIES, i);
		int64_t when = doc_int(d, "date"), sgv = doc_int(d, "sgv");
		ck_assert_int_eq(when % every, 0);
		/* On the 5-minute grid the curve is the default cadence's. */
		if (when % SLOT == 0)
			ck_assert_int_eq(sgv, nsc_simulator_glucose_at(11, when));
		if (i == 0)
			continue;
		int64_t prev = doc_int(nsc_batch_get(&b, NSC_COLL_ENTRIES, i - 1), "sgv");
		/* Smooth at 10 s steps: no jumps. */
		ck_assert_int_le(sgv - prev < 0 ? prev - sgv : sgv - prev, 3);
		if (i < 30)
			continue;
		/* Arrows from the change over 5 minutes (30 readings back), not over 10 s. */
		int64_t before = doc_int(nsc_batch_get(&b, NSC_COLL_ENTRIES, i - 30), "sgv");
		enum nsc_trend want = nsc_trend_from_rate((double)(sgv - before) / 5.0);
		ck_assert_int_eq(doc_int(d, "trend"), (int64_t)want);
	}
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_treatments_with_meals)
{
	struct sim s;
	struct nsc_batch b;
	size_t skipped;
	int64_t from = T_NOW - NSC_MS_PER_DAY;

	sim_setup(&s, 9, NULL, NULL);
	ck_assert_int_eq(sim_run(&s, from, T_NOW, &b, &skipped), NSC_OK);
	size_t n = nsc_batch_count(&b, NSC_COLL_TREATMENTS), meals = 0;
	ck_assert_uint_ge(n, 3);
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = nsc_batch_get(&b, NSC_COLL_TREATMENTS, i), *v;
		int64_t t;
		ck_assert_int_eq(nsc_time_parse_iso(doc_str(d, "created_at"), &t, NULL), NSC_OK);
		ck_assert_int_gt(t, from);
		ck_assert_int_le(t, T_NOW);
		ck_assert_str_eq(doc_str(d, "enteredBy"), "nsconnect-simulator");
		ck_assert_str_eq(doc_str(d, "device"), "nsconnect-simulator");
		ck_assert(json_object_object_get_ex(d, "insulin", &v));
		ck_assert(json_object_is_type(v, json_type_double));
		ck_assert(json_object_get_double(v) > 0.0 && json_object_get_double(v) < 20.0);
		if (strcmp(doc_str(d, "eventType"), "Meal Bolus") != 0)
			continue;
		meals++;
		int64_t carbs = doc_int(d, "carbs");
		ck_assert_int_ge(carbs, 20);
		ck_assert_int_le(carbs, 100);
		/* The meal shows in the curve: an hour later glucose is clearly higher. */
		if (t + NSC_MS_PER_HOUR <= T_NOW)
			ck_assert_int_ge(nsc_simulator_glucose_at(9, t + NSC_MS_PER_HOUR),
					 nsc_simulator_glucose_at(9, t) + 20);
	}
	ck_assert_uint_ge(meals, 3);
	nsc_batch_clear(&b);

	/* Over two weeks there are corrections: insulin without carbs. */
	size_t corrections = 0;
	ck_assert_int_eq(sim_run(&s, T_NOW - 14 * NSC_MS_PER_DAY, T_NOW, &b, &skipped), NSC_OK);
	for (size_t i = 0; i < nsc_batch_count(&b, NSC_COLL_TREATMENTS); i++) {
		struct json_object *d = nsc_batch_get(&b, NSC_COLL_TREATMENTS, i);
		if (strcmp(doc_str(d, "eventType"), "Correction Bolus") == 0) {
			ck_assert(!json_object_object_get_ex(d, "carbs", NULL));
			corrections++;
		}
	}
	ck_assert_uint_ge(corrections, 1);
	ck_assert_uint_lt(corrections, 14);
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

/* ---- pump status and profile ----------------------------------------- */

#define DAY_20240310 INT64_C(1710028800000) /* 2024-03-10T00:00:00.000Z */

/* A window whose output holds the profile and `status_ms` as its newest status. */
static struct nsc_fetch_window poll_window(int64_t from, int64_t to, int64_t status_ms)
{
	struct nsc_fetch_window w = { .from_ms = from, .to_ms = to };
	w.last_known.ms[NSC_COLL_ENTRIES] = from;
	w.last_known.ms[NSC_COLL_DEVICESTATUS] = status_ms;
	w.last_known.ms[NSC_COLL_PROFILE] = NSC_SIM_PROFILE_START_MS;
	return w;
}

static void assert_identifier(struct json_object *doc, const char *device, int64_t t)
{
	char want[NSC_UUID_BUF];
	ck_assert_int_eq(nsc_identifier_compute(device, t, NULL, want), NSC_OK);
	ck_assert_str_eq(doc_str(doc, "identifier"), want);
}

/* What a devicestatus document says. */
struct status_want {
	const char *time; /* created_at, and every timestamp of the pump */
	int64_t uploader, pump_battery;
	double reservoir, iob;
	bool bolusing;
};

static void assert_status(struct json_object *d, const struct status_want *w)
{
	ck_assert_str_eq(doc_str(d, "created_at"), w->time);
	ck_assert_str_eq(doc_str(d, "pump.clock"), w->time);
	ck_assert_str_eq(doc_str(d, "pump.iob.timestamp"), w->time);
	ck_assert_str_eq(doc_str(d, "pump.status.timestamp"), w->time);
	ck_assert_int_eq(doc_int(d, "uploader.battery"), w->uploader);
	ck_assert_int_eq(doc_int(d, "pump.battery.percent"), w->pump_battery);
	ck_assert(doc_double(d, "pump.reservoir") == w->reservoir);
	ck_assert(doc_double(d, "pump.iob.iob") == w->iob);
	ck_assert(doc_double(d, "pump.iob.bolusiob") == w->iob);
	ck_assert(doc_bool(d, "pump.status.bolusing") == w->bolusing);
	ck_assert_str_eq(doc_str(d, "pump.status.status"), w->bolusing ? "bolusing" : "normal");
	ck_assert(!doc_bool(d, "pump.status.suspended"));
}

START_TEST(test_status_per_poll)
{
	struct sim s;
	struct nsc_batch b;
	size_t skipped;
	char keys[256], iso[NSC_ISO_BUF];
	const int64_t t = T_NOW / SLOT * SLOT; /* 2024-03-10T15:45:00.000Z */

	sim_setup(&s, 5, NULL, NULL);
	ck_assert_int_eq(sim_run(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 12);
	/* One status for the whole poll, at the newest reading. */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_DEVICESTATUS), 1);
	struct json_object *d = nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0);
	ck_assert_str_eq(keys_of(d, keys, sizeof(keys)),
			 "app,created_at,date,device,identifier,pump,uploader,utcOffset");
	ck_assert_str_eq(keys_of(doc_at(d, "pump"), keys, sizeof(keys)),
			 "battery,clock,iob,reservoir,status");
	ck_assert_str_eq(keys_of(doc_at(d, "pump.iob"), keys, sizeof(keys)), "bolusiob,iob,timestamp");
	ck_assert_str_eq(keys_of(doc_at(d, "pump.status"), keys, sizeof(keys)),
			 "bolusing,status,suspended,timestamp");
	ck_assert_str_eq(doc_str(d, "device"), "nsconnect-simulator");
	ck_assert_int_eq(doc_int(d, "utcOffset"), 0);
	assert_identifier(d, "nsconnect-simulator", t);
	/*
	 * The phone left its charger at 06:00 with 100 %: 585 min at 1 % per
	 * 16 min. The pump battery was changed 2024-03-08 00:00: 2 days 15:45
	 * at 1 % per 4 h. The reservoir was filled with 200 U on 2024-03-09:
	 * 29.5 U of boluses and 33 U of basal since. Lunch, 7 U at 12:56, has
	 * 71 of its 240 minutes left: 7 * 71 / 240 on board.
	 */
	const struct status_want want = { "2024-03-10T15:45:00.000Z", 64, 85, 137.5, 2.07, false };
	assert_status(d, &want);
	/* Written as JavaScript writes numbers, not as 2.0699999999999998. */
	ck_assert_ptr_nonnull(strstr(batch_json(&b, NSC_COLL_DEVICESTATUS), "\"iob\":2.07,"));
	nsc_batch_clear(&b);

	/* The next poll: one new reading, one new status, a new identifier. */
	struct nsc_fetch_window w = poll_window(t, t + SLOT, t);
	ck_assert_int_eq(sim_run_w(&s, &w, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 1);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_DEVICESTATUS), 1);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_PROFILE), 0);
	d = nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0);
	ck_assert_str_eq(doc_str(d, "created_at"), iso_of(t + SLOT, iso));
	assert_identifier(d, "nsconnect-simulator", t + SLOT);
	double iob = doc_double(d, "pump.iob.iob");
	ck_assert_msg(iob < 2.07 && iob > 1.9, "iob %.2f five minutes on", iob);
	ck_assert(doc_double(d, "pump.reservoir") == 137.4); /* 5 min of 0.8 U/h */
	nsc_batch_clear(&b);

	/* A poll without a new reading repeats no status. */
	w = poll_window(t, t + SLOT - 1, t);
	ck_assert_int_eq(sim_run_w(&s, &w, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
	nsc_batch_clear(&b);

	/* Nor one the output already holds, even when older readings are fetched again. */
	w = poll_window(t - 2 * SLOT, t + 1000, t);
	ck_assert_int_eq(sim_run_w(&s, &w, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 2);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_DEVICESTATUS), 0);
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

/* What the boluses of `tr` leave on board at t: each falls linearly to 0 over 4 h. */
static double expected_iob(const struct nsc_batch *tr, int64_t t)
{
	double iob = 0.0;
	for (size_t i = 0; i < nsc_batch_count(tr, NSC_COLL_TREATMENTS); i++) {
		struct json_object *d = nsc_batch_get(tr, NSC_COLL_TREATMENTS, i), *v;
		int64_t at;
		ck_assert_int_eq(nsc_time_parse_iso(doc_str(d, "created_at"), &at, NULL), NSC_OK);
		ck_assert(json_object_object_get_ex(d, "insulin", &v));
		double x = (double)(t - at) / (double)(4 * NSC_MS_PER_HOUR);
		if (x >= 0.0 && x < 1.0)
			iob += json_object_get_double(v) * (1.0 - x);
	}
	return iob;
}

START_TEST(test_iob_follows_boluses)
{
	struct sim s;
	struct nsc_batch tr, b;
	size_t skipped;
	const int64_t start = DAY_20240310 + 18 * NSC_MS_PER_HOUR, end = start + 330 * NSC_MS_PER_MINUTE;

	sim_setup(&s, 9, NULL, NULL);
	/* Seed 9 that evening: dinner 4 U at 18:29, a correction of 1.5 U at 21:03. */
	ck_assert_int_eq(sim_run(&s, start - NSC_MS_PER_DAY, end, &tr, &skipped), NSC_OK);
	double prev = -1.0;
	size_t rises = 0, falls = 0;
	for (int64_t t = start; t <= end; t += SLOT) {
		struct nsc_fetch_window w = poll_window(t - SLOT, t, t - SLOT);
		ck_assert_int_eq(sim_run_w(&s, &w, &b, &skipped), NSC_OK);
		ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_DEVICESTATUS), 1);
		double iob = doc_double(nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0), "pump.iob.iob");
		double want = expected_iob(&tr, t);
		ck_assert_msg(iob >= want - 0.005 - 1e-9 && iob <= want + 0.005 + 1e-9,
			      "t=%lld: iob %.2f, the boluses leave %.4f", (long long)t, iob, want);
		if (t == start)
			ck_assert(iob == 0.0); /* lunch at 12:07 is over 4 h ago */
		if (t == start + 30 * NSC_MS_PER_MINUTE)
			ck_assert(iob == 3.98); /* 4 U a minute ago */
		if (prev >= 0.0 && expected_iob(&tr, t - 1) < expected_iob(&tr, t - SLOT)) {
			/* No bolus in this step: it only decays (or stays at 0). */
			ck_assert(iob < prev || (iob == 0.0 && prev == 0.0));
			falls += iob < prev;
		} else if (prev >= 0.0 && iob > prev) {
			rises++;
		}
		prev = iob;
		nsc_batch_clear(&b);
	}
	ck_assert_uint_eq(rises, 2);
	ck_assert_uint_ge(falls, 50);
	nsc_batch_clear(&tr);
	sim_teardown(&s);
}
END_TEST

/* The status of a poll ending at `to` on a 10-second cadence. */
static struct json_object *status_at(struct sim *s, int64_t to, struct nsc_batch *b)
{
	size_t skipped;
	struct nsc_fetch_window w = poll_window(to - 20000, to, 0);
	ck_assert_int_eq(sim_run_w(s, &w, b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(b, NSC_COLL_DEVICESTATUS), 1);
	struct json_object *d = nsc_batch_get(b, NSC_COLL_DEVICESTATUS, 0);
	char iso[NSC_ISO_BUF];
	ck_assert_str_eq(doc_str(d, "created_at"), iso_of(to, iso));
	return d;
}

START_TEST(test_bolus_delivery_shows_in_the_pump)
{
	struct sim s;
	struct nsc_batch b1, b2, b3;
	struct nsc_error err = { 0 };
	const int64_t dinner = DAY_20240310 + (18 * 60 + 29) * NSC_MS_PER_MINUTE; /* seed 9: 4 U */

	sim_setup(&s, 9, NULL, NULL);
	nsc_source_simulator.destroy(s.ctx);
	s.cfg.simulator_interval_ms = 10 * NSC_MS_PER_SECOND;
	ck_assert_int_eq(nsc_source_simulator.create(&s.env, &s.ctx, &err), NSC_OK);

	struct json_object *before = status_at(&s, dinner - 10000, &b1);
	struct json_object *during = status_at(&s, dinner + 10000, &b2);
	struct json_object *after = status_at(&s, dinner + 170000, &b3);
	/* 4 U at 1.5 U/min take 160 s. */
	ck_assert(!doc_bool(before, "pump.status.bolusing"));
	ck_assert(doc_bool(during, "pump.status.bolusing"));
	ck_assert_str_eq(doc_str(during, "pump.status.status"), "bolusing");
	ck_assert(!doc_bool(after, "pump.status.bolusing"));
	ck_assert_str_eq(doc_str(after, "pump.status.status"), "normal");
	/* The bolus is on board at once, and out of the reservoir. */
	ck_assert(doc_double(before, "pump.iob.iob") == 0.0);
	ck_assert(doc_double(during, "pump.iob.iob") == 4.0);
	double used = doc_double(before, "pump.reservoir") - doc_double(during, "pump.reservoir");
	ck_assert_msg(used > 3.9 - 1e-9 && used < 4.1 + 1e-9, "the reservoir lost %.2f U", used);
	nsc_batch_clear(&b1);
	nsc_batch_clear(&b2);
	nsc_batch_clear(&b3);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_pump_and_phone_over_a_month)
{
	const int64_t start = DAY_20240310 - 10 * NSC_MS_PER_DAY; /* a pump battery change day */
	struct nsc_sim_pump prev, p;
	int refills = 0, battery_changes = 0, charges = 0;

	nsc_sim_pump_at(3, start, &prev);
	for (int64_t t = start + SLOT; t <= start + 30 * NSC_MS_PER_DAY; t += SLOT) {
		nsc_sim_pump_at(3, t, &p);
		int64_t day = t / NSC_MS_PER_DAY;
		bool midnight = t % NSC_MS_PER_DAY == 0;
		ck_assert_int_ge(p.battery_percent, 41);
		ck_assert_int_le(p.battery_percent, 100);
		ck_assert_int_ge(p.uploader_percent, 40);
		ck_assert_int_le(p.uploader_percent, 100);
		ck_assert(p.reservoir > 0.0 && p.reservoir <= 200.0);
		ck_assert(p.iob >= 0.0 && p.iob < 20.0);
		/* The reservoir only fills at 00:00 every third day, the battery every tenth. */
		if (p.reservoir > prev.reservoir) {
			ck_assert(midnight && day % 3 == 0);
			ck_assert(p.reservoir > 190.0);
			refills++;
		}
		if (p.battery_percent > prev.battery_percent) {
			ck_assert(midnight && day % 10 == 0 && p.battery_percent == 100);
			battery_changes++;
		}
		/* The phone drains from 06:00 to 22:00 and charges overnight. */
		int minute = (int)(t % NSC_MS_PER_DAY / NSC_MS_PER_MINUTE);
		if (p.uploader_percent > prev.uploader_percent) {
			ck_assert(minute >= 22 * 60 || minute <= 6 * 60);
			charges++;
		}
		prev = p;
	}
	ck_assert_int_eq(refills, 10);
	ck_assert_int_eq(battery_changes, 3);
	ck_assert_int_gt(charges, 0);
}
END_TEST

START_TEST(test_profile_document)
{
	struct sim s;
	struct nsc_batch b;
	size_t skipped;
	char keys[256];

	sim_setup(&s, 5, NULL, NULL);
	s.cfg.lookback_ms = 14 * NSC_MS_PER_DAY;
	ck_assert_int_eq(sim_run(&s, T_NOW - 14 * NSC_MS_PER_DAY, T_NOW, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_PROFILE), 1);
	struct json_object *p = nsc_batch_get(&b, NSC_COLL_PROFILE, 0);
	ck_assert_str_eq(keys_of(p, keys, sizeof(keys)),
			 "app,created_at,date,defaultProfile,identifier,mills,startDate,store,units,utcOffset");
	ck_assert_str_eq(doc_str(p, "defaultProfile"), "Simulator");
	ck_assert_str_eq(keys_of(doc_at(p, "store"), keys, sizeof(keys)), "Simulator");
	ck_assert_str_eq(doc_str(p, "startDate"), "2020-01-01T00:00:00.000Z");
	ck_assert_str_eq(doc_str(p, "created_at"), "2020-01-01T00:00:00.000Z");
	ck_assert_int_eq(doc_int(p, "mills"), INT64_C(1577836800000));
	ck_assert_str_eq(doc_str(p, "units"), "mg/dl");
	/* No device: Nightscout's v3 key starts with "undefined_". */
	assert_identifier(p, NULL, INT64_C(1577836800000));

	struct json_object *st = doc_at(p, "store.Simulator");
	ck_assert_str_eq(keys_of(st, keys, sizeof(keys)),
			 "basal,carbratio,carbs_hr,delay,dia,sens,target_high,target_low,timezone,units");
	ck_assert_int_eq(doc_int(st, "dia"), 4);
	ck_assert_int_eq(doc_int(st, "carbs_hr"), 20);
	ck_assert_int_eq(doc_int(st, "delay"), 20);
	ck_assert_str_eq(doc_str(st, "timezone"), "UTC");
	ck_assert_str_eq(doc_str(st, "units"), "mg/dl");
	ck_assert_uint_eq(json_object_array_length(doc_at(st, "carbratio")), 1);
	ck_assert_str_eq(doc_str(st, "carbratio.0.time"), "00:00");
	ck_assert_int_eq(doc_int(st, "carbratio.0.timeAsSeconds"), 0);
	ck_assert_int_eq(doc_int(st, "carbratio.0.value"), 10);
	ck_assert_int_eq(doc_int(st, "sens.0.value"), 36); /* 1800/500 of the carb ratio */
	ck_assert_int_eq(doc_int(st, "target_low.0.value"), 100);
	ck_assert_int_eq(doc_int(st, "target_high.0.value"), 120);
	ck_assert_uint_eq(json_object_array_length(doc_at(st, "basal")), 3);
	static const struct { const char *time; int64_t secs; double rate; } basal[] = {
		{ "00:00", 0, 0.75 }, { "03:00", 10800, 0.95 }, { "08:00", 28800, 0.8 },
	};
	for (size_t i = 0; i < 3; i++) {
		char path[64];
		snprintf(path, sizeof(path), "basal.%zu.time", i);
		ck_assert_str_eq(doc_str(st, path), basal[i].time);
		snprintf(path, sizeof(path), "basal.%zu.timeAsSeconds", i);
		ck_assert_int_eq(doc_int(st, path), basal[i].secs);
		snprintf(path, sizeof(path), "basal.%zu.value", i);
		ck_assert(doc_double(st, path) == basal[i].rate);
	}
	/* Written as JavaScript writes numbers. */
	ck_assert_ptr_nonnull(strstr(batch_json(&b, NSC_COLL_PROFILE), "\"value\":0.95}"));

	/* The meal boluses are dosed with that carb ratio (unless a correction follows). */
	size_t checked = 0;
	for (size_t i = 0; i < nsc_batch_count(&b, NSC_COLL_TREATMENTS); i++) {
		struct json_object *m = nsc_batch_get(&b, NSC_COLL_TREATMENTS, i);
		struct json_object *next = nsc_batch_get(&b, NSC_COLL_TREATMENTS, i + 1);
		if (strcmp(doc_str(m, "eventType"), "Meal Bolus") != 0 ||
		    (next && strcmp(doc_str(next, "eventType"), "Correction Bolus") == 0))
			continue;
		double want = round((double)doc_int(m, "carbs") / 10.0 * 2.0) / 2.0;
		ck_assert(doc_double(m, "insulin") == (want < 0.5 ? 0.5 : want));
		checked++;
	}
	ck_assert_uint_ge(checked, 30);
	nsc_batch_clear(&b);

	/* Only for an output without a profile as new: an older one gets it, a newer one wins. */
	static const struct { int64_t held; size_t want; } cases[] = {
		{ NSC_SIM_PROFILE_START_MS - 1, 1 },
		{ NSC_SIM_PROFILE_START_MS, 0 },
		{ NSC_SIM_PROFILE_START_MS + 1, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_fetch_window w = { .from_ms = T_NOW - NSC_MS_PER_HOUR, .to_ms = T_NOW };
		w.last_known.ms[NSC_COLL_PROFILE] = cases[i].held;
		ck_assert_int_eq(sim_run_w(&s, &w, &b, &skipped), NSC_OK);
		ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_PROFILE), cases[i].want);
		nsc_batch_clear(&b);
	}
	sim_teardown(&s);
}
END_TEST

/* One run of a bridge into the filesystem output in `dir`: the poll it would make at `to`. */
static void run_into_dir(uint64_t seed, const char *dir, int64_t to, struct nsc_write_result *res)
{
	struct sim s;
	struct nsc_config oc;
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	void *out = NULL;
	size_t skipped;

	sim_setup(&s, seed, NULL, NULL);
	nsc_config_init(&oc);
	oc.output_dir = strdup(dir);
	ck_assert_ptr_nonnull(oc.output_dir);
	ck_assert_int_eq(nsc_output_filesystem.open(&oc, s.log, &out, &err), NSC_OK);
	struct nsc_fetch_window w = { .to_ms = to };
	ck_assert_int_eq(nsc_output_filesystem.last_known(out, &w.last_known, &err), NSC_OK);
	w.from_ms = w.last_known.ms[NSC_COLL_ENTRIES] > to - 6 * NSC_MS_PER_HOUR
			    ? w.last_known.ms[NSC_COLL_ENTRIES]
			    : to - 6 * NSC_MS_PER_HOUR;
	ck_assert_int_eq(sim_run_w(&s, &w, &b, &skipped), NSC_OK);
	memset(res, 0, sizeof(*res));
	if (nsc_batch_total(&b) > 0)
		ck_assert_int_eq(nsc_output_filesystem.write(out, &b, res, &err), NSC_OK);
	nsc_batch_clear(&b);
	nsc_output_filesystem.close(out);
	nsc_config_free(&oc);
	sim_teardown(&s);
}

/* The documents of <dir>/<name>.jsonl, as an array. */
static struct json_object *read_docs(const char *dir, const char *name)
{
	char path[256], line[8192];
	snprintf(path, sizeof(path), "%s/%s.jsonl", dir, name);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	struct json_object *arr = json_object_new_array();
	ck_assert_ptr_nonnull(arr);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *d = json_tokener_parse(line);
		ck_assert_ptr_nonnull(d);
		ck_assert_int_eq(json_object_array_add(arr, d), 0);
	}
	fclose(f);
	return arr;
}

START_TEST(test_two_runs_store_one_profile)
{
	char dir[] = "/tmp/nsc-sim-runs.XXXXXX", cmd[64];
	struct nsc_write_result r1, r2, r3;
	const int64_t t1 = T_NOW / SLOT * SLOT, t2 = t1 + 30 * NSC_MS_PER_MINUTE;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	run_into_dir(5, dir, T_NOW, &r1);
	run_into_dir(5, dir, T_NOW + 30 * NSC_MS_PER_MINUTE, &r2);
	run_into_dir(5, dir, T_NOW + 30 * NSC_MS_PER_MINUTE, &r3);

	ck_assert_uint_eq(r1.stored[NSC_COLL_ENTRIES], 72);
	ck_assert_uint_eq(r1.stored[NSC_COLL_DEVICESTATUS], 1);
	ck_assert_uint_eq(r1.stored[NSC_COLL_PROFILE], 1);
	/* The second run: the half hour's readings and its status; the profile is held. */
	ck_assert_uint_eq(r2.stored[NSC_COLL_ENTRIES], 6);
	ck_assert_uint_eq(r2.stored[NSC_COLL_TREATMENTS], 0);
	ck_assert_uint_eq(r2.stored[NSC_COLL_DEVICESTATUS], 1);
	ck_assert_uint_eq(r2.stored[NSC_COLL_PROFILE], 0);
	ck_assert_uint_eq(r2.duplicates[NSC_COLL_PROFILE], 0); /* not even sent again */
	/* Run again at the same time: nothing new at all. */
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		ck_assert_uint_eq(r3.stored[c] + r3.duplicates[c], 0);

	struct json_object *profiles = read_docs(dir, "profile");
	struct json_object *statuses = read_docs(dir, "devicestatus");
	ck_assert_uint_eq(json_object_array_length(profiles), 1);
	assert_identifier(json_object_array_get_idx(profiles, 0), NULL, NSC_SIM_PROFILE_START_MS);
	ck_assert_uint_eq(json_object_array_length(statuses), 2);
	assert_identifier(json_object_array_get_idx(statuses, 0), "nsconnect-simulator", t1);
	assert_identifier(json_object_array_get_idx(statuses, 1), "nsconnect-simulator", t2);
	json_object_put(profiles);
	json_object_put(statuses);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- transform ------------------------------------------------------- */

START_TEST(test_transform_drops_bad_payloads)
{
	static const char *const bad[] = {
		"{\"readings\":[{\"t\":1,",      /* truncated */
		"not json at all",
		"[{\"t\":1710085500000,\"mgdl\":100}]", /* wrong top level */
		"{\"treatments\":[]}",           /* no readings */
		"{\"readings\":{}}",             /* readings not an array */
		"{\"readings\":[],\"treatments\":5}",
		"{\"readings\":[]} trailing",
		"{\"readings\":[],\"status\":[]}", /* status not an object */
		"{\"readings\":[],\"profile\":5}",
	};
	struct sim s;

	sim_setup(&s, 1, NULL, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nsc_batch b;
		struct nsc_error err = { 0 };
		size_t skipped = 0;
		nsc_rc rc = transform_text(&s, bad[i], 0, T_NOW, &b, &skipped, &err);
		ck_assert_msg(rc == NSC_ERR_DROP, "payload %zu: %s", i, nsc_rc_name(rc));
		ck_assert_msg(strstr(err.msg, "simulator payload") != NULL, "payload %zu: \"%s\"", i,
			      err.msg);
		ck_assert_uint_eq(nsc_batch_total(&b), 0);
		nsc_batch_clear(&b);
	}
	{
		struct nsc_batch b;
		struct nsc_error err = { 0 };
		size_t skipped = 0;
		ck_assert_int_eq(transform_text(&s, "{oops", 0, T_NOW, &b, &skipped, &err), NSC_ERR_DROP);
		ck_assert_ptr_nonnull(strstr(err.msg, "not valid JSON"));
		ck_assert_int_eq(transform_text(&s, "[]", 0, T_NOW, &b, &skipped, &err), NSC_ERR_DROP);
		ck_assert_ptr_nonnull(strstr(err.msg, "\"readings\""));
		nsc_batch_clear(&b);
	}
	sim_teardown(&s);
}
END_TEST

START_TEST(test_transform_skips_bad_records)
{
	const char *payload =
		"{\"readings\":["
		"{\"t\":1710085200000,\"mgdl\":120,\"delta\":2},"
		"{\"t\":1710085500000,\"mgdl\":\"high\",\"delta\":3},"
		"{\"t\":1710085800000,\"mgdl\":131,\"delta\":11},"
		"{\"t\":1710086100000,\"mgdl\":140}"
		"],\"treatments\":["
		"{\"t\":1710085300000,\"kind\":\"meal\",\"carbs\":45,\"insulin\":4.5},"
		"{\"t\":1710085400000,\"kind\":\"correction\",\"insulin\":1.5}"
		"]}";
	struct sim s;
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	size_t skipped = 0;

	sim_setup(&s, 1, NULL, NULL);
	/* to excludes the last reading: outside the window is not an error. */
	ck_assert_int_eq(transform_text(&s, payload, 1710085000000, 1710086000000, &b, &skipped, &err),
			 NSC_OK);
	ck_assert_uint_eq(skipped, 1);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 2);
	struct json_object *e0 = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	struct json_object *e1 = nsc_batch_get(&b, NSC_COLL_ENTRIES, 1);
	ck_assert_int_eq(doc_int(e0, "sgv"), 120);
	ck_assert_str_eq(doc_str(e0, "direction"), "Flat");
	ck_assert_int_eq(doc_int(e0, "trend"), 4);
	ck_assert_int_eq(doc_int(e1, "sgv"), 131);
	ck_assert_str_eq(doc_str(e1, "direction"), "SingleUp"); /* 11/5 = 2.2 mg/dL/min */
	ck_assert_int_eq(doc_int(e1, "trend"), 2);
	ck_assert_str_eq(doc_str(e1, "dateString"), "2024-03-10T15:50:00.000Z");

	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_TREATMENTS), 2);
	struct json_object *meal = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0), *v;
	ck_assert_str_eq(doc_str(meal, "eventType"), "Meal Bolus");
	ck_assert_str_eq(doc_str(meal, "created_at"), "2024-03-10T15:41:40.000Z");
	ck_assert_int_eq(doc_int(meal, "carbs"), 45);
	ck_assert(json_object_object_get_ex(meal, "insulin", &v));
	ck_assert(json_object_get_double(v) == 4.5);
	ck_assert_str_eq(doc_str(nsc_batch_get(&b, NSC_COLL_TREATMENTS, 1), "eventType"),
			 "Correction Bolus");
	nsc_batch_clear(&b);

	/* A bad treatment is skipped too, and a reading without delta is NOT COMPUTABLE. */
	const char *p2 = "{\"readings\":[{\"t\":1710085200000,\"mgdl\":99}],"
			 "\"treatments\":[{\"t\":1710085300000,\"kind\":\"snack\",\"insulin\":1},"
			 "{\"t\":1710085300000,\"kind\":\"meal\",\"insulin\":2}, 7]}";
	ck_assert_int_eq(transform_text(&s, p2, 0, T_NOW, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 3);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 1);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_TREATMENTS), 0);
	ck_assert_str_eq(doc_str(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "direction"), "NOT COMPUTABLE");
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_transform_status_and_profile_records)
{
	const char *payload =
		"{\"readings\":[{\"t\":1710085500000,\"mgdl\":120,\"delta\":1}],"
		"\"status\":{\"t\":1710085500000,\"uploaderBattery\":55,\"pumpBattery\":80,"
		"\"reservoir\":100.5,\"iob\":1.25,\"bolusing\":true},"
		"\"profile\":{\"t\":1704067200000,\"dia\":3,\"carbRatio\":30,\"sensitivity\":50.5,"
		"\"targetLow\":90,\"targetHigh\":140,\"carbsPerHour\":25,\"carbDelay\":15,"
		"\"basal\":[{\"minute\":0,\"rate\":0.85},{\"minute\":390,\"rate\":1.1}]}}";
	struct sim s;
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	size_t skipped = 0;

	sim_setup(&s, 1, NULL, NULL);
	ck_assert_int_eq(transform_text(&s, payload, 0, T_NOW, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_DEVICESTATUS), 1);
	const struct status_want want = { "2024-03-10T15:45:00.000Z", 55, 80, 100.5, 1.25, true };
	assert_status(nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0), &want);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_PROFILE), 1);
	struct json_object *p = nsc_batch_get(&b, NSC_COLL_PROFILE, 0);
	ck_assert_str_eq(doc_str(p, "startDate"), "2024-01-01T00:00:00.000Z");
	ck_assert_int_eq(doc_int(p, "mills"), INT64_C(1704067200000));
	ck_assert_int_eq(doc_int(p, "store.Simulator.dia"), 3);
	ck_assert_int_eq(doc_int(p, "store.Simulator.carbs_hr"), 25);
	ck_assert_int_eq(doc_int(p, "store.Simulator.delay"), 15);
	ck_assert_int_eq(doc_int(p, "store.Simulator.carbratio.0.value"), 30);
	ck_assert(doc_double(p, "store.Simulator.sens.0.value") == 50.5);
	ck_assert_int_eq(doc_int(p, "store.Simulator.target_low.0.value"), 90);
	ck_assert_int_eq(doc_int(p, "store.Simulator.target_high.0.value"), 140);
	ck_assert_str_eq(doc_str(p, "store.Simulator.basal.1.time"), "06:30");
	ck_assert_int_eq(doc_int(p, "store.Simulator.basal.1.timeAsSeconds"), 23400);
	ck_assert(doc_double(p, "store.Simulator.basal.1.value") == 1.1);
	nsc_batch_clear(&b);

	/* Malformed records are skipped; a status outside the window is not asked for. */
	static const char *const bad[] = {
		"\"status\":{\"t\":1710085500000,\"uploaderBattery\":55,\"pumpBattery\":80,"
		"\"reservoir\":\"full\",\"iob\":1,\"bolusing\":false}",
		"\"status\":{\"t\":1710085500000,\"uploaderBattery\":101,\"pumpBattery\":80,"
		"\"reservoir\":1,\"iob\":1,\"bolusing\":false}",
		"\"status\":{\"t\":1710085500000,\"uploaderBattery\":5,\"pumpBattery\":80,"
		"\"reservoir\":1,\"iob\":1,\"bolusing\":\"no\"}",
		"\"profile\":{\"t\":1704067200000,\"dia\":3,\"carbRatio\":30,\"sensitivity\":50,"
		"\"targetLow\":90,\"targetHigh\":140,\"carbsPerHour\":25,\"carbDelay\":15,"
		"\"basal\":[{\"minute\":60,\"rate\":0.85}]}", /* the schedule must start at 00:00 */
		"\"profile\":{\"t\":1704067200000,\"dia\":3,\"carbRatio\":30,\"sensitivity\":50,"
		"\"targetLow\":90,\"targetHigh\":140,\"carbsPerHour\":25,\"carbDelay\":15,"
		"\"basal\":[{\"minute\":0,\"rate\":0.85},{\"minute\":0,\"rate\":1}]}", /* not ascending */
		"\"profile\":{\"t\":1704067200000,\"dia\":3,\"carbRatio\":30,\"sensitivity\":50,"
		"\"targetLow\":150,\"targetHigh\":140,\"carbsPerHour\":25,\"carbDelay\":15,"
		"\"basal\":[{\"minute\":0,\"rate\":0.85}]}", /* targets the wrong way round */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text), "{\"readings\":[],%s}", bad[i]);
		ck_assert_int_eq(transform_text(&s, text, 0, T_NOW, &b, &skipped, &err), NSC_OK);
		ck_assert_msg(skipped == 1, "record %zu: skipped %zu", i, skipped);
		ck_assert_uint_eq(nsc_batch_total(&b), 0);
		nsc_batch_clear(&b);
	}
	const char *late = "{\"readings\":[],\"status\":{\"t\":1710085500000,\"uploaderBattery\":5,"
			   "\"pumpBattery\":80,\"reservoir\":1,\"iob\":1,\"bolusing\":false}}";
	ck_assert_int_eq(transform_text(&s, late, 0, 1710085500000 - 1, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
	nsc_batch_clear(&b);
	sim_teardown(&s);
}
END_TEST

/* ---- session --------------------------------------------------------- */

START_TEST(test_login_wrong_password_rejected)
{
	struct sim s;
	struct step st = { 0 };
	struct nsc_payload p;

	sim_setup(&s, 1, "alice", "wrong-password");
	nsc_source_simulator.authenticate(s.ctx, step_done, &st);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_int_eq(st.rc, NSC_ERR_REJECTED);
	ck_assert_str_eq(st.msg, "Simulator rejected the login: check CONNECT_SIMULATOR_USERNAME and "
				 "CONNECT_SIMULATOR_PASSWORD");
	/* No session: the data call is unauthorized. */
	ck_assert_int_eq(sim_fetch(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &p), NSC_ERR_AUTH);
	ck_assert_ptr_null(p.data);
	ck_assert_ptr_nonnull(strstr(s.out.text, "event=login_request"));
	ck_assert_ptr_null(strstr(s.out.text, "wrong-password"));
	sim_teardown(&s);
}
END_TEST

START_TEST(test_login_good_and_token_redacted)
{
	struct sim s;
	struct step st = { 0 };
	struct nsc_payload p;

	sim_setup(&s, 1, "alice", "correct-horse");
	/* The bridge registers configured secrets; the token is the driver's job. */
	ck_assert_int_eq(nsc_log_add_secret(s.log, "correct-horse"), NSC_OK);

	/* Before login the vendor refuses data. */
	ck_assert_int_eq(sim_fetch(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &p), NSC_ERR_AUTH);

	nsc_source_simulator.authenticate(s.ctx, step_done, &st);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_int_eq(st.rc, NSC_OK);
	ck_assert_ptr_nonnull(s.out.text);
	ck_assert_ptr_nonnull(strstr(s.out.text, "event=login_request"));
	/* The body is a quoted value, its quotes escaped. */
	ck_assert_ptr_nonnull(strstr(s.out.text, "\\\"username\\\":\\\"alice\\\""));
	ck_assert_ptr_nonnull(strstr(s.out.text, "event=login_response body=\"{\\\"sessionId\\\":\\\"" NSC_REDACTED "\\\"}\""));
	ck_assert_ptr_null(strstr(s.out.text, "correct-horse"));

	ck_assert_int_eq(sim_fetch(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &p), NSC_OK);
	ck_assert_uint_gt(p.len, 0);
	nsc_payload_free(&p);
	ck_assert_ptr_null(p.data);
	ck_assert_uint_eq(p.len, 0);

	/* A dropped session must be re-established before the next fetch. */
	nsc_source_simulator.drop_session(s.ctx);
	ck_assert_int_eq(sim_fetch(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &p), NSC_ERR_AUTH);
	memset(&st, 0, sizeof(st));
	nsc_source_simulator.authenticate(s.ctx, step_done, &st);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_int_eq(st.rc, NSC_OK);
	ck_assert_int_eq(sim_fetch(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &p), NSC_OK);
	nsc_payload_free(&p);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_no_login_configured)
{
	struct sim s;
	struct step st = { 0 };
	struct nsc_payload p;

	sim_setup(&s, 1, NULL, NULL);
	ck_assert_int_eq(sim_fetch(&s, T_NOW - NSC_MS_PER_HOUR, T_NOW, &p), NSC_OK);
	nsc_payload_free(&p);
	nsc_source_simulator.authenticate(s.ctx, step_done, &st);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_int_eq(st.rc, NSC_OK);
	ck_assert(s.out.text == NULL || strstr(s.out.text, "login_request") == NULL);
	sim_teardown(&s);
}
END_TEST

START_TEST(test_driver_table)
{
	const struct nsc_source_driver *d = nsc_source_driver_for(nsc_source_by_name("simulator"));
	ck_assert_ptr_eq(d, &nsc_source_simulator);
	ck_assert_ptr_null(nsc_source_driver_for(NULL));
	ck_assert_str_eq(nsc_source_driver_for(nsc_source_by_name("dexcomshare"))->name, "dexcomshare");
	ck_assert_str_eq(nsc_source_driver_for(nsc_source_by_name("linkup"))->name, "linkup");
	ck_assert_str_eq(nsc_source_driver_for(nsc_source_by_name("glooko"))->name, "glooko");
	ck_assert_str_eq(nsc_source_driver_for(nsc_source_by_name("minimedcarelink"))->name, "minimedcarelink");
	ck_assert_str_eq(d->name, "simulator");
	ck_assert_int_eq(d->timing.expected_interval_ms, 5 * NSC_MS_PER_MINUTE);
	ck_assert_int_eq(d->timing.align_buffer_ms, 18000);
	ck_assert_int_eq(d->timing.align_jitter_ms, 18000);
	ck_assert_int_eq(d->timing.max_retries, 2);
	ck_assert_int_eq(d->timing.retry_base_ms, 30000);
	ck_assert_int_eq(d->timing.session_refresh_ms, 50 * NSC_MS_PER_MINUTE);
	ck_assert_int_eq(d->timing.session_expire_ms, 60 * NSC_MS_PER_MINUTE);
	ck_assert_ptr_nonnull(d->authenticate);
	ck_assert_ptr_nonnull(d->drop_session);
}
END_TEST

static Suite *simulator_suite(void)
{
	Suite *s = suite_create("simulator");
	TCase *curve = tcase_create("curve");
	tcase_add_test(curve, test_deterministic_per_seed);
	tcase_add_test(curve, test_glucose_at_is_per_slot);
	tcase_add_test(curve, test_realistic_range_and_steps);
	tcase_add_test(curve, test_grid_window_and_document_shape);
	tcase_add_test(curve, test_fetch_capped_by_lookback);
	tcase_add_test(curve, test_directions_match_deltas);
	tcase_add_test(curve, test_fast_cadence);
	tcase_add_test(curve, test_treatments_with_meals);
	tcase_set_timeout(curve, 60);
	suite_add_tcase(s, curve);

	TCase *pump = tcase_create("pump and profile");
	tcase_add_test(pump, test_status_per_poll);
	tcase_add_test(pump, test_iob_follows_boluses);
	tcase_add_test(pump, test_bolus_delivery_shows_in_the_pump);
	tcase_add_test(pump, test_pump_and_phone_over_a_month);
	tcase_add_test(pump, test_profile_document);
	tcase_add_test(pump, test_two_runs_store_one_profile);
	tcase_set_timeout(pump, 60);
	suite_add_tcase(s, pump);

	TCase *tr = tcase_create("transform");
	tcase_add_test(tr, test_transform_drops_bad_payloads);
	tcase_add_test(tr, test_transform_skips_bad_records);
	tcase_add_test(tr, test_transform_status_and_profile_records);
	suite_add_tcase(s, tr);

	TCase *sess = tcase_create("session");
	tcase_add_test(sess, test_login_wrong_password_rejected);
	tcase_add_test(sess, test_login_good_and_token_redacted);
	tcase_add_test(sess, test_no_login_configured);
	tcase_add_test(sess, test_driver_table);
	suite_add_tcase(s, sess);
	return s;
}

NSC_CHECK_MAIN(simulator_suite)
