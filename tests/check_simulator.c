/* SPDX-License-Identifier: MIT */
/*
 * The simulator source: a deterministic, realistic curve on the 5-minute
 * grid, only in (from, to], directions that match the deltas, meals with
 * boluses, a transform that drops bad payloads and skips bad records, and
 * an optional login whose token never reaches the log.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "batch.h"
#include "log.h"
#include "nsc_check.h"
#include "nsc_config.h"
#include "source.h"
#include "sources/simulator.h"
#include "timeutil.h"
#include "trend.h"

#define SLOT NSC_SIMULATOR_SLOT_MS
/* 2024-03-10T15:47:13.123Z: deliberately off the grid. */
#define T_NOW INT64_C(1710085633123)

/* ---- fixtures -------------------------------------------------------- */

struct captured {
	char *text;
	size_t len;
};

static void capture_sink(void *ctx, enum nsc_log_level level, const char *line)
{
	struct captured *c = ctx;
	size_t n = strlen(line);
	char *p = realloc(c->text, c->len + n + 2);
	ck_assert_ptr_nonnull(p);
	memcpy(p + c->len, line, n);
	p[c->len + n] = '\n';
	p[c->len + n + 1] = '\0';
	c->text = p;
	c->len += n + 1;
}

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
	struct captured out;
	struct nsc_source_env env;
	void *ctx;
};

static void sim_setup(struct sim *s, uint64_t seed, const char *user, const char *pass)
{
	struct nsc_error err = { 0 };

	memset(s, 0, sizeof(*s));
	nsc_config_init(&s->cfg);
	s->cfg.source = NSC_SOURCE_SIMULATOR;
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
	nsc_log_set_sink(s->log, capture_sink, &s->out);
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

static nsc_rc sim_fetch(struct sim *s, int64_t from, int64_t to, struct nsc_payload *p)
{
	struct nsc_fetch_window w = { .from_ms = from, .to_ms = to };
	struct step st = { 0 };

	memset(p, 0, sizeof(*p));
	nsc_source_simulator.fetch(s->ctx, &w, p, step_done, &st);
	ck_assert_int_eq(st.calls, 1);
	return st.rc;
}

/* fetch + transform for (from, to]; returns the transform's rc. */
static nsc_rc sim_run(struct sim *s, int64_t from, int64_t to, struct nsc_batch *b, size_t *skipped)
{
	struct nsc_fetch_window w = { .from_ms = from, .to_ms = to };
	struct nsc_payload p;
	struct nsc_error err = { 0 };

	ck_assert_int_eq(sim_fetch(s, from, to, &p), NSC_OK);
	ck_assert_ptr_nonnull(p.data);
	ck_assert_uint_eq(strlen(p.data), p.len);
	nsc_batch_init(b);
	nsc_rc rc = nsc_source_simulator.transform(s->ctx, &p, &w, b, skipped, &err);
	nsc_payload_free(&p);
	return rc;
}

static nsc_rc transform_text(struct sim *s, const char *text, int64_t from, int64_t to,
			     struct nsc_batch *b, size_t *skipped, struct nsc_error *err)
{
	struct nsc_fetch_window w = { .from_ms = from, .to_ms = to };
	struct nsc_payload p = { .data = (char *)text, .len = strlen(text) };
	nsc_batch_init(b);
	return nsc_source_simulator.transform(s->ctx, &p, &w, b, skipped, err);
}

static int64_t doc_int(struct json_object *doc, const char *key)
{
	struct json_object *v;
	ck_assert_msg(json_object_object_get_ex(doc, key, &v), "missing %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_int), "%s is not an int", key);
	return json_object_get_int64(v);
}

static const char *doc_str(struct json_object *doc, const char *key)
{
	struct json_object *v;
	ck_assert_msg(json_object_object_get_ex(doc, key, &v), "missing %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", key);
	return json_object_get_string(v);
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

	/* An empty window gives nothing. */
	ck_assert_int_eq(sim_run(&s, to, to + SLOT - 1, &b, &skipped), NSC_OK);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
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
	ck_assert_ptr_nonnull(strstr(s.out.text, "\"username\":\"alice\""));
	ck_assert_ptr_nonnull(strstr(s.out.text, "event=login_response body={\"sessionId\":\"" NSC_REDACTED "\"}"));
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
	const struct nsc_source_driver *d = nsc_source_driver_for(NSC_SOURCE_SIMULATOR);
	ck_assert_ptr_eq(d, &nsc_source_simulator);
	ck_assert_ptr_null(nsc_source_driver_for(NSC_SOURCE_NONE));
	ck_assert_str_eq(nsc_source_driver_for(NSC_SOURCE_DEXCOMSHARE)->name, "dexcomshare");
	ck_assert_str_eq(nsc_source_driver_for(NSC_SOURCE_LINKUP)->name, "linkup");
	ck_assert_ptr_null(nsc_source_driver_for(NSC_SOURCE_GLOOKO)); /* not built yet */
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

	TCase *tr = tcase_create("transform");
	tcase_add_test(tr, test_transform_drops_bad_payloads);
	tcase_add_test(tr, test_transform_skips_bad_records);
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
