/* SPDX-License-Identifier: MIT */
/*
 * Check suite for health and metrics: the board (sorted puts, replaces and
 * removes with 10,000 tenants, the heartbeat on a virtual clock), the JSON
 * status page parsed back with json-c, the Prometheus page read line by
 * line, the quoting both use, CONNECT_HTTP_LISTEN, and the HTTP listener
 * on a loopback port through libcurl.
 *
 * Expected times and numbers are literals worked out by hand from
 * T0 = 2026-01-01T00:00:00Z = 1767225600 s, never computed by the code
 * under test.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "curl_reply.h"
#include "health/addr.h"
#include "health/board.h"
#include "health/listener.h"
#include "health/render.h"
#include "health/text.h"
#include "jsonutil.h"
#include "log_capture.h"
#include "nsc_check.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00.000Z */
#define MANY 10000
/* A name with every character the metrics format escapes, a control character and a stray byte. */
#define NASTY "q\"b\\s\nn\x01\xff"
#define NASTY_JSON "q\"b\\s\nn\x01\xEF\xBF\xBD"        /* as JSON reads it back */
#define NASTY_LABEL "q\\\"b\\\\s\\nn\x01\xEF\xBF\xBD" /* as a label value */

static struct nsc_health_tenant tenant(const char *name, enum nsc_health_state state)
{
	struct nsc_health_tenant t;
	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	t.state = state;
	return t;
}

static void put(struct nsc_health_board *b, const struct nsc_health_tenant *t)
{
	ck_assert_int_eq(nsc_health_board_put(b, t), NSC_OK);
}

static struct json_object *status_json(struct nsc_health_board *b)
{
	size_t len = 0;
	char *text = nsc_health_render_status(b, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	struct json_object *root = nsc_json_parse(text, len);
	ck_assert_msg(root != NULL, "status is not JSON: %.300s", text);
	free(text);
	return root;
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no member %s", key);
	return v;
}

static int64_t int_member(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);
	ck_assert_msg(json_object_is_type(v, json_type_int), "%s is not an integer", key);
	return json_object_get_int64(v);
}

struct want_int {
	const char *key;
	int64_t value;
};

static void assert_ints(struct json_object *o, const struct want_int *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(int_member(o, want[i].key) == want[i].value, "%s is %" PRId64 ", want %" PRId64,
			      want[i].key, int_member(o, want[i].key), want[i].value);
}

/* ASSERT_INTS(obj, { "key", 1 }, ...): each member is that integer. */
#define ASSERT_INTS(o, ...)                                                        \
	do {                                                                       \
		static const struct want_int want_[] = { __VA_ARGS__ };            \
		assert_ints((o), want_, sizeof(want_) / sizeof(want_[0]));         \
	} while (0)

static void assert_string_member(struct json_object *o, const char *key, const char *want)
{
	struct json_object *v = member(o, key);
	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", key);
	ck_assert_str_eq(json_object_get_string(v), want);
}

static void assert_null_member(struct json_object *o, const char *key)
{
	ck_assert_msg(member(o, key) == NULL, "%s is not null", key);
}

static struct json_object *tenant_json(struct json_object *root, const char *name)
{
	struct json_object *arr = member(root, "tenants");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *t = json_object_array_get_idx(arr, i);
		if (strcmp(json_object_get_string(member(t, "name")), name) == 0)
			return t;
	}
	ck_abort_msg("no tenant %s in the status", name);
	return NULL;
}

static char *metrics_text(struct nsc_health_board *b)
{
	size_t len = 0;
	char *text = nsc_health_render_metrics(b, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

/* The value of the sample line that starts with exactly `series` and a space; NULL when none. */
static const char *sample(const char *text, const char *series, char *value, size_t size)
{
	size_t n = strlen(series);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			snprintf(value, size, "%.*s", (int)(nl - p - (ptrdiff_t)n - 1), p + n + 1);
			return value;
		}
		p = nl + 1;
	}
	return NULL;
}

static void assert_sample(const char *text, const char *series, const char *want)
{
	char value[64];
	ck_assert_msg(sample(text, series, value, sizeof(value)) != NULL, "no sample %s", series);
	ck_assert_msg(strcmp(value, want) == 0, "%s is %s, want %s", series, value, want);
}

static int lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, len) == 0)
			n++;
	return n;
}

/* ---- board ------------------------------------------------------------------------------ */

START_TEST(test_names)
{
	static const char *const want[] = { "starting", "ok", "failing", "rejected", "stopped", "invalid" };
	for (int s = 0; s < NSC_HEALTH_STATE_COUNT; s++)
		ck_assert_str_eq(nsc_health_state_name((enum nsc_health_state)s), want[s]);
	ck_assert_str_eq(nsc_health_state_name((enum nsc_health_state)99), "unknown");
	ck_assert_str_eq(nsc_health_verdict_name(NSC_VERDICT_RETRY), "retry");
	ck_assert_str_eq(nsc_health_verdict_name(NSC_VERDICT_REJECTED), "rejected");
	ck_assert_str_eq(nsc_health_verdict_name(NSC_VERDICT_FATAL), "fatal");
}
END_TEST

START_TEST(test_put_refuses_and_terminates)
{
	struct nsc_health_board *b = NULL;
	struct nsc_health_tenant t = tenant("", NSC_HEALTH_OK), got;

	ck_assert_int_eq(nsc_health_board_new(NULL, &b), NSC_OK);
	ck_assert_int_eq(nsc_health_board_put(b, &t), NSC_ERR_RANGE);
	memset(t.name, 'a', sizeof(t.name)); /* no terminator */
	ck_assert_int_eq(nsc_health_board_put(b, &t), NSC_ERR_RANGE);
	t = tenant("a", (enum nsc_health_state)NSC_HEALTH_STATE_COUNT);
	ck_assert_int_eq(nsc_health_board_put(b, &t), NSC_ERR_RANGE);
	ck_assert_uint_eq(nsc_health_board_count(b), 0);

	/* Unterminated text fields are cut, never read past. */
	t = tenant("a", NSC_HEALTH_FAILING);
	memset(t.last_error, 'x', sizeof(t.last_error));
	memset(t.source, 's', sizeof(t.source));
	put(b, &t);
	ck_assert(nsc_health_board_get(b, "a", &got));
	ck_assert_uint_eq(strlen(got.last_error), sizeof(got.last_error) - 1);
	ck_assert_uint_eq(strlen(got.source), sizeof(got.source) - 1);
	ck_assert(!nsc_health_board_get(b, "b", &got));
	nsc_health_board_free(b);
}
END_TEST

START_TEST(test_remove_fills_hole)
{
	struct nsc_health_board *b = NULL;
	struct nsc_health_tenant t, got;
	static const char *const names[] = { "c", "a", "b", "d" };

	ck_assert_int_eq(nsc_health_board_new(NULL, &b), NSC_OK);
	for (size_t i = 0; i < 4; i++) {
		t = tenant(names[i], NSC_HEALTH_OK);
		t.polls = i;
		put(b, &t);
	}
	/* "a" was stored second; "d", stored last, moves into its place. */
	nsc_health_board_remove(b, "a");
	nsc_health_board_remove(b, "zzz");
	ck_assert_uint_eq(nsc_health_board_count(b), 3);
	ck_assert(nsc_health_board_get(b, "d", &got));
	ck_assert_uint_eq(got.polls, 3);
	ck_assert(!nsc_health_board_get(b, "a", &got));

	struct json_object *root = status_json(b);
	struct json_object *arr = member(root, "tenants");
	ck_assert_uint_eq(json_object_array_length(arr), 3);
	ck_assert_str_eq(json_object_get_string(member(json_object_array_get_idx(arr, 0), "name")), "b");
	ck_assert_str_eq(json_object_get_string(member(json_object_array_get_idx(arr, 1), "name")), "c");
	ck_assert_str_eq(json_object_get_string(member(json_object_array_get_idx(arr, 2), "name")), "d");
	ck_assert_int_eq(int_member(json_object_array_get_idx(arr, 2), "polls"), 3);
	json_object_put(root);

	nsc_health_board_remove(b, "b");
	nsc_health_board_remove(b, "c");
	nsc_health_board_remove(b, "d");
	ck_assert_uint_eq(nsc_health_board_count(b), 0);
	t = tenant("a", NSC_HEALTH_OK);
	put(b, &t);
	ck_assert_uint_eq(nsc_health_board_count(b), 1);
	nsc_health_board_free(b);
}
END_TEST

/* Tenant i of MANY: its polls after the puts and replaces, or -1 when removed. */
static int64_t many_expected_polls(unsigned i)
{
	if (i % 7 == 0)
		return -1;
	return i % 10 == 0 ? i + 100000 : i;
}

START_TEST(test_ten_thousand)
{
	struct nsc_health_board *b = NULL;
	struct nsc_health_tenant t, got;
	char name[16];

	ck_assert_int_eq(nsc_health_board_new(NULL, &b), NSC_OK);
	/* 7919 is prime, so i * 7919 mod MANY visits every index once, out of order. */
	for (unsigned k = 0; k < MANY; k++) {
		unsigned i = (unsigned)(((uint64_t)k * 7919) % MANY);
		snprintf(name, sizeof(name), "t%05u", i);
		t = tenant(name, NSC_HEALTH_STARTING);
		t.polls = i;
		put(b, &t);
	}
	ck_assert_uint_eq(nsc_health_board_count(b), MANY);
	for (unsigned i = 0; i < MANY; i += 10) {
		snprintf(name, sizeof(name), "t%05u", i);
		t = tenant(name, NSC_HEALTH_OK);
		t.polls = i + 100000;
		put(b, &t);
	}
	ck_assert_uint_eq(nsc_health_board_count(b), MANY);
	for (unsigned i = 0; i < MANY; i += 7) {
		snprintf(name, sizeof(name), "t%05u", i);
		nsc_health_board_remove(b, name);
	}
	/* 1429 multiples of 7 below 10,000. */
	ck_assert_uint_eq(nsc_health_board_count(b), MANY - 1429);
	ck_assert(nsc_health_board_get(b, "t09999", &got));
	ck_assert_uint_eq(got.polls, 9999);
	ck_assert(!nsc_health_board_get(b, "t09996", &got));

	/* Every tenant through the status page: sorted, each with its own numbers. */
	struct json_object *root = status_json(b);
	struct json_object *arr = member(root, "tenants");
	ck_assert_uint_eq(json_object_array_length(arr), MANY - 1429);
	size_t at = 0;
	for (unsigned i = 0; i < MANY; i++) {
		if (many_expected_polls(i) < 0)
			continue;
		struct json_object *x = json_object_array_get_idx(arr, at++);
		snprintf(name, sizeof(name), "t%05u", i);
		assert_string_member(x, "name", name);
		ck_assert_int_eq(int_member(x, "polls"), many_expected_polls(i));
		assert_string_member(x, "state", i % 10 == 0 ? "ok" : "starting");
	}
	json_object_put(root);

	/* 1000 multiples of 10, of which 143 (multiples of 70) were removed. */
	char *m = metrics_text(b);
	assert_sample(m, "nsconnect_tenants{state=\"ok\"}", "857");
	assert_sample(m, "nsconnect_tenants{state=\"starting\"}", "7714");
	assert_sample(m, "nsconnect_tenants{state=\"failing\"}", "0");
	ck_assert_int_eq(lines_starting(m, "nsconnect_tenant_state{"), MANY - 1429);
	assert_sample(m, "nsconnect_polls_total{tenant=\"t00010\"}", "100010");
	assert_sample(m, "nsconnect_polls_total{tenant=\"t09999\"}", "9999");
	ck_assert_ptr_null(strstr(m, "tenant=\"t00007\""));
	free(m);
	nsc_health_board_free(b);
}
END_TEST

START_TEST(test_alive_and_ready)
{
	struct nsc_fake_clock fc;
	struct nsc_clock clock;
	struct nsc_health_board *b = NULL;

	nsc_fake_clock_init(&fc, T0, &clock);
	ck_assert_int_eq(nsc_health_board_new(&clock, &b), NSC_OK);
	/* Creation counts as the first tick. */
	ck_assert(nsc_health_board_alive(b));
	ck_assert(!nsc_health_board_ready(b));
	nsc_fake_clock_advance(&fc, NSC_HEALTH_STALL_MS);
	ck_assert(nsc_health_board_alive(b));
	nsc_fake_clock_advance(&fc, 1);
	ck_assert(!nsc_health_board_alive(b));
	nsc_health_board_tick(b);
	ck_assert(nsc_health_board_alive(b));
	nsc_fake_clock_advance(&fc, 29999);
	ck_assert(nsc_health_board_alive(b));
	nsc_health_board_tick(b);
	nsc_fake_clock_advance(&fc, 30001);
	ck_assert(!nsc_health_board_alive(b));

	nsc_health_board_set_ready(b, true);
	ck_assert(nsc_health_board_ready(b));

	struct json_object *root = status_json(b);
	ck_assert(!json_object_get_boolean(member(root, "alive")));
	ck_assert(json_object_get_boolean(member(root, "ready")));
	/* 30000 + 1 + 29999 + 30001 ms since the board was made. */
	ck_assert_int_eq(int_member(root, "uptime_s"), 90);
	json_object_put(root);

	char *m = metrics_text(b);
	assert_sample(m, "nsconnect_up", "0");
	free(m);
	nsc_health_board_tick(b);
	m = metrics_text(b);
	assert_sample(m, "nsconnect_up", "1");
	free(m);

	nsc_health_board_set_ready(b, false);
	ck_assert(!nsc_health_board_ready(b));
	nsc_health_board_free(b);
}
END_TEST

/* ---- the status page ----------------------------------------------------------------------- */

/* The board at T0 + 90.5 s: alice failing with everything set, bob just configured, NASTY. */
static struct nsc_health_board *sample_board(struct nsc_fake_clock *fc, struct nsc_clock *clock)
{
	struct nsc_health_board *b = NULL;
	struct nsc_health_tenant t;

	nsc_fake_clock_init(fc, T0, clock);
	ck_assert_int_eq(nsc_health_board_new(clock, &b), NSC_OK);
	nsc_fake_clock_advance(fc, 90500);
	nsc_health_board_tick(b);

	t = tenant("alice", NSC_HEALTH_FAILING);
	snprintf(t.source, sizeof(t.source), "dexcomshare");
	snprintf(t.output, sizeof(t.output), "mongo");
	t.started_ms = T0;
	t.last_attempt_ms = T0 + 60000;
	t.last_success_ms = T0 + 30000;
	t.newest_reading_ms = T0 - 300000;
	t.next_poll_ms = T0 + 150000;
	t.consecutive_failures = 2;
	t.polls = 7;
	t.logins = 3;
	t.login_rejections = 1;
	t.stored[NSC_COLL_ENTRIES] = 10;
	t.stored[NSC_COLL_TREATMENTS] = 2;
	t.stored[NSC_COLL_DEVICESTATUS] = 1;
	t.failures[NSC_VERDICT_RETRY] = 2;
	t.failures[NSC_VERDICT_AUTH] = 1;
	t.failures[NSC_VERDICT_FATAL] = 4;
	snprintf(t.error_class, sizeof(t.error_class), "RETRY");
	snprintf(t.last_error, sizeof(t.last_error),
		 "Dexcom Share did not answer; nsconnect tries again in 2 minutes");
	t.spool_bytes = 4096;
	t.spool_batches = 2;
	put(b, &t);

	t = tenant("bob", NSC_HEALTH_STARTING);
	put(b, &t);
	t = tenant(NASTY, NSC_HEALTH_INVALID);
	snprintf(t.error_class, sizeof(t.error_class), "settings");
	snprintf(t.last_error, sizeof(t.last_error), "CONNECT_SOURCE is not set");
	put(b, &t);
	return b;
}

START_TEST(test_status_fields)
{
	struct nsc_fake_clock fc;
	struct nsc_clock clock;
	struct nsc_health_board *b = sample_board(&fc, &clock);
	struct json_object *root = status_json(b), *x, *o;

	assert_string_member(root, "version", nsc_version());
	ck_assert_int_eq(int_member(root, "uptime_s"), 90);
	ck_assert(json_object_get_boolean(member(root, "alive")));
	ck_assert(!json_object_get_boolean(member(root, "ready")));
	ck_assert_uint_eq(json_object_array_length(member(root, "tenants")), 3);

	x = tenant_json(root, "alice");
	assert_string_member(x, "state", "failing");
	assert_string_member(x, "source", "dexcomshare");
	assert_string_member(x, "output", "mongo");
	assert_string_member(x, "started", "2026-01-01T00:00:00.000Z");
	assert_string_member(x, "last_attempt", "2026-01-01T00:01:00.000Z");
	assert_string_member(x, "last_success", "2026-01-01T00:00:30.000Z");
	assert_string_member(x, "newest_reading", "2025-12-31T23:55:00.000Z");
	ck_assert_int_eq(int_member(x, "newest_reading_age_s"), 390); /* 390.5 s, whole seconds */
	assert_string_member(x, "next_poll", "2026-01-01T00:02:30.000Z");
	ck_assert_int_eq(int_member(x, "next_poll_in_s"), 59); /* 59.5 s */
	ASSERT_INTS(x, { "consecutive_failures", 2 }, { "polls", 7 }, { "logins", 3 },
		    { "login_rejections", 1 });
	o = member(x, "stored");
	ck_assert_int_eq(json_object_object_length(o), 4);
	ASSERT_INTS(o, { "entries", 10 }, { "treatments", 2 }, { "devicestatus", 1 }, { "profile", 0 });
	o = member(x, "failures");
	ck_assert_int_eq(json_object_object_length(o), 5);
	ASSERT_INTS(o, { "retry", 2 }, { "auth", 1 }, { "rejected", 0 }, { "drop", 0 }, { "fatal", 4 });
	o = member(x, "last_error");
	ck_assert(json_object_is_type(o, json_type_object));
	assert_string_member(o, "class", "RETRY");
	assert_string_member(o, "message", "Dexcom Share did not answer; nsconnect tries again in 2 minutes");
	ASSERT_INTS(member(x, "spool"), { "bytes", 4096 }, { "batches", 2 });

	x = tenant_json(root, "bob");
	assert_string_member(x, "state", "starting");
	assert_string_member(x, "source", "");
	static const char *const nulls[] = { "started", "last_attempt", "last_success", "newest_reading",
					     "newest_reading_age_s", "next_poll", "next_poll_in_s",
					     "last_error" };
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		assert_null_member(x, nulls[i]);
	ck_assert_int_eq(int_member(member(x, "stored"), "entries"), 0);

	x = tenant_json(root, NASTY_JSON);
	assert_string_member(x, "state", "invalid");
	assert_string_member(member(x, "last_error"), "class", "settings");
	json_object_put(root);
	nsc_health_board_free(b);
}
END_TEST

/* ---- the metrics page ------------------------------------------------------------------------ */

static const char *const families[] = {
	"nsconnect_build_info", "nsconnect_up", "nsconnect_tenants", "nsconnect_tenant_state",
	"nsconnect_polls_total", "nsconnect_documents_stored_total", "nsconnect_failures_total",
	"nsconnect_logins_total", "nsconnect_login_rejections_total",
	"nsconnect_consecutive_failures", "nsconnect_data_age_seconds",
	"nsconnect_last_success_timestamp_seconds", "nsconnect_spool_bytes", "nsconnect_spool_batches",
	"nsconnect_reading_delay_seconds", "process_resident_memory_bytes",
	"process_cpu_seconds_total", "process_start_time_seconds", "process_open_fds",
};
#define FAMILIES (sizeof(families) / sizeof(families[0]))

/*
 * Every family is announced once by `# HELP name …` then `# TYPE name
 * type`, and every sample line that follows belongs to it (a histogram's
 * _bucket, _sum and _count too); returns how many of `families` appeared.
 */
static size_t check_exposition(const char *text)
{
	char family[128] = "", type[32] = "";
	bool seen[FAMILIES] = {false};
	size_t found = 0;

	ck_assert(text[0] != '\0' && text[strlen(text) - 1] == '\n');
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		p = nl + 1;
		ck_assert_msg(line[0] != '\0', "empty line in the metrics");
		if (strncmp(line, "# HELP ", 7) == 0) {
			char want[200];
			ck_assert_int_eq(sscanf(line + 7, "%127s", family), 1);
			ck_assert_msg(strlen(line) > 8 + strlen(family), "%s has no help text", family);
			nl = strchr(p, '\n');
			ck_assert_ptr_nonnull(nl);
			snprintf(want, sizeof(want), "# TYPE %s ", family);
			ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "HELP %s not followed by its TYPE", family);
			snprintf(type, sizeof(type), "%.*s", (int)(nl - p - (ptrdiff_t)strlen(want)), p + strlen(want));
			ck_assert_msg(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
					      strcmp(type, "histogram") == 0,
				      "%s has type %s", family, type);
			p = nl + 1;
			for (size_t i = 0; i < FAMILIES; i++) {
				if (strcmp(families[i], family) == 0) {
					ck_assert_msg(!seen[i], "%s announced twice", family);
					seen[i] = true;
					found++;
				}
			}
			continue;
		}
		ck_assert_msg(line[0] != '#', "stray comment: %s", line);
		size_t n = strcspn(line, "{ ");
		size_t f = strlen(family);
		bool ok = n == f && strncmp(line, family, f) == 0;
		if (!ok && strcmp(type, "histogram") == 0 && n > f && strncmp(line, family, f) == 0) {
			const char *suffix = line + f;
			ok = strncmp(suffix, "_bucket{", 8) == 0 || strncmp(suffix, "_sum ", 5) == 0 ||
			     strncmp(suffix, "_count ", 7) == 0;
		}
		ck_assert_msg(ok, "sample outside its family %s: %s", family, line);
		const char *space = strrchr(line, ' ');
		ck_assert_msg(space && space[1] != '\0', "sample without a value: %s", line);
	}
	return found;
}

START_TEST(test_metrics_lines)
{
	struct nsc_fake_clock fc;
	struct nsc_clock clock;
	struct nsc_health_board *b = sample_board(&fc, &clock);
	char series[256], value[64];

	static const int64_t delays[] = { -5, 0, 500, 501, 1000, 7500, 600000, 600001 };
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++)
		nsc_health_board_observe_delay(b, delays[i]);

	char *m = metrics_text(b);
	ck_assert_uint_eq(check_exposition(m), FAMILIES);

	snprintf(series, sizeof(series), "nsconnect_build_info{version=\"%s\"}", nsc_version());
	assert_sample(m, series, "1");
	assert_sample(m, "nsconnect_up", "1");
	assert_sample(m, "nsconnect_tenants{state=\"starting\"}", "1");
	assert_sample(m, "nsconnect_tenants{state=\"ok\"}", "0");
	assert_sample(m, "nsconnect_tenants{state=\"failing\"}", "1");
	assert_sample(m, "nsconnect_tenants{state=\"rejected\"}", "0");
	assert_sample(m, "nsconnect_tenants{state=\"stopped\"}", "0");
	assert_sample(m, "nsconnect_tenants{state=\"invalid\"}", "1");
	assert_sample(m, "nsconnect_tenant_state{tenant=\"alice\",state=\"failing\"}", "1");
	assert_sample(m, "nsconnect_tenant_state{tenant=\"bob\",state=\"starting\"}", "1");
	ck_assert_int_eq(lines_starting(m, "nsconnect_tenant_state{"), 3);

	/* The escaped name, in every per-tenant family. */
	assert_sample(m, "nsconnect_tenant_state{tenant=\"" NASTY_LABEL "\",state=\"invalid\"}", "1");
	assert_sample(m, "nsconnect_polls_total{tenant=\"" NASTY_LABEL "\"}", "0");
	ck_assert_int_eq(lines_starting(m, "nsconnect_failures_total{tenant=\"" NASTY_LABEL "\","), 5);

	assert_sample(m, "nsconnect_polls_total{tenant=\"alice\"}", "7");
	assert_sample(m, "nsconnect_logins_total{tenant=\"alice\"}", "3");
	assert_sample(m, "nsconnect_login_rejections_total{tenant=\"alice\"}", "1");
	assert_sample(m, "nsconnect_documents_stored_total{tenant=\"alice\",collection=\"entries\"}", "10");
	assert_sample(m, "nsconnect_documents_stored_total{tenant=\"alice\",collection=\"treatments\"}", "2");
	assert_sample(m, "nsconnect_documents_stored_total{tenant=\"alice\",collection=\"devicestatus\"}", "1");
	assert_sample(m, "nsconnect_documents_stored_total{tenant=\"alice\",collection=\"profile\"}", "0");
	assert_sample(m, "nsconnect_failures_total{tenant=\"alice\",verdict=\"retry\"}", "2");
	assert_sample(m, "nsconnect_failures_total{tenant=\"alice\",verdict=\"auth\"}", "1");
	assert_sample(m, "nsconnect_failures_total{tenant=\"alice\",verdict=\"rejected\"}", "0");
	assert_sample(m, "nsconnect_failures_total{tenant=\"alice\",verdict=\"drop\"}", "0");
	assert_sample(m, "nsconnect_failures_total{tenant=\"alice\",verdict=\"fatal\"}", "4");
	ck_assert_ptr_null(strstr(m, "verdict=\"ok\""));
	assert_sample(m, "nsconnect_consecutive_failures{tenant=\"alice\"}", "2");
	assert_sample(m, "nsconnect_spool_bytes{tenant=\"alice\"}", "4096");
	assert_sample(m, "nsconnect_spool_batches{tenant=\"alice\"}", "2");

	/* Only alice has a reading and a success. */
	assert_sample(m, "nsconnect_data_age_seconds{tenant=\"alice\"}", "390.5");
	ck_assert_int_eq(lines_starting(m, "nsconnect_data_age_seconds{"), 1);
	assert_sample(m, "nsconnect_last_success_timestamp_seconds{tenant=\"alice\"}", "1767225630");
	ck_assert_int_eq(lines_starting(m, "nsconnect_last_success_timestamp_seconds{"), 1);

	/* -5 counts as 0; a bucket holds delays up to and including its bound. */
	static const struct { const char *le, *count; } buckets[] = {
		{ "0.5", "3" }, { "1", "5" },   { "2", "5" },   { "3", "5" },    { "5", "5" },
		{ "7.5", "6" }, { "10", "6" },  { "15", "6" },  { "20", "6" },   { "30", "6" },
		{ "45", "6" },  { "60", "6" },  { "90", "6" },  { "120", "6" },  { "180", "6" },
		{ "300", "6" }, { "600", "7" }, { "+Inf", "8" },
	};
	ck_assert_int_eq(lines_starting(m, "nsconnect_reading_delay_seconds_bucket{"), 18);
	const char *at = m;
	for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
		snprintf(series, sizeof(series), "nsconnect_reading_delay_seconds_bucket{le=\"%s\"} %s\n",
			 buckets[i].le, buckets[i].count);
		const char *line = strstr(at, series);
		ck_assert_msg(line != NULL, "bucket out of order or wrong: %s", series);
		at = line + strlen(series);
	}
	assert_sample(m, "nsconnect_reading_delay_seconds_sum", "1209.502");
	assert_sample(m, "nsconnect_reading_delay_seconds_count", "8");

	/* This process, read from /proc. */
	ck_assert_ptr_nonnull(sample(m, "process_resident_memory_bytes", value, sizeof(value)));
	ck_assert(strtoull(value, NULL, 10) > 1000000);
	ck_assert_ptr_nonnull(sample(m, "process_open_fds", value, sizeof(value)));
	ck_assert(strtoull(value, NULL, 10) >= 3);
	ck_assert_ptr_nonnull(sample(m, "process_cpu_seconds_total", value, sizeof(value)));
	ck_assert_ptr_nonnull(sample(m, "process_start_time_seconds", value, sizeof(value)));
	double started = strtod(value, NULL), now = (double)time(NULL);
	ck_assert_msg(started > now - 86400 && started <= now + 1, "started %f, now %f", started, now);
	free(m);
	nsc_health_board_free(b);
}
END_TEST

START_TEST(test_empty_board_metrics)
{
	struct nsc_health_board *b = NULL;

	ck_assert_int_eq(nsc_health_board_new(NULL, &b), NSC_OK);
	char *m = metrics_text(b);
	/* Families without samples are still announced. */
	ck_assert_uint_eq(check_exposition(m), FAMILIES);
	assert_sample(m, "nsconnect_reading_delay_seconds_bucket{le=\"+Inf\"}", "0");
	assert_sample(m, "nsconnect_reading_delay_seconds_sum", "0");
	assert_sample(m, "nsconnect_tenants{state=\"ok\"}", "0");
	free(m);
	struct json_object *root = status_json(b);
	ck_assert_uint_eq(json_object_array_length(member(root, "tenants")), 0);
	json_object_put(root);
	nsc_health_board_free(b);
}
END_TEST

/* ---- quoting ---------------------------------------------------------------------------------- */

static void assert_quoted(void (*quote)(struct nsc_health_text *, const char *), const char *in,
			  const char *want)
{
	struct nsc_health_text t = {0};
	size_t len = 0;
	quote(&t, in);
	char *out = nsc_health_text_finish(&t, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(strcmp(out, want) == 0, "quoted as [%s], want [%s]", out, want);
	free(out);
}

static void assert_seconds(int64_t ms, const char *want)
{
	struct nsc_health_text t = {0};
	size_t len = 0;
	nsc_health_text_seconds(&t, ms);
	char *out = nsc_health_text_finish(&t, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, want);
	free(out);
}

#define FFFD "\xEF\xBF\xBD"

START_TEST(test_quoting)
{
	assert_quoted(nsc_health_text_json, "a\"b\\c\nd\te\x7f\x1f", "\"a\\\"b\\\\c\\nd\\te\\u007f\\u001f\"");
	assert_quoted(nsc_health_text_label, "a\"b\\c\nd\te", "\"a\\\"b\\\\c\\nd\te\"");
	assert_quoted(nsc_health_text_json, "", "\"\"");
	/* Valid UTF-8 stays; each stray byte becomes U+FFFD. */
	assert_quoted(nsc_health_text_label, "\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9", "\"\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9\"");
	assert_quoted(nsc_health_text_label, "\xC0\xAF", "\"" FFFD FFFD "\"");         /* overlong */
	assert_quoted(nsc_health_text_label, "\xED\xA0\x80", "\"" FFFD FFFD FFFD "\""); /* surrogate */
	assert_quoted(nsc_health_text_label, "\xF4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* > U+10FFFF */
	assert_quoted(nsc_health_text_json, "x\xE2\x82", "\"x" FFFD FFFD "\"");          /* cut short */
	assert_quoted(nsc_health_text_json, "\xff\"", "\"" FFFD "\\\"\"");

	assert_seconds(0, "0");
	assert_seconds(1, "0.001");
	assert_seconds(1500, "1.5");
	assert_seconds(60000, "60");
	assert_seconds(-250, "-0.25");
	assert_seconds(T0 + 30120, "1767225630.12");
	assert_seconds(INT64_MIN, "-9223372036854775.808");
}
END_TEST

START_TEST(test_strbuf_appendf)
{
	struct nsc_strbuf b = {0};
	char big[3000];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(nsc_strbuf_appendf(&b, "%d-%s", 42, "x"), NSC_OK);
	ck_assert_int_eq(nsc_strbuf_appendf(&b, "[%s]", big), NSC_OK);
	ck_assert_uint_eq(b.len, 4 + 2 + sizeof(big) - 1);
	ck_assert_uint_eq(strlen(b.p), b.len);
	ck_assert(strncmp(b.p, "42-x[zzz", 8) == 0);
	ck_assert_int_eq(b.p[b.len - 1], ']');
	nsc_strbuf_free(&b);
}
END_TEST

/* ---- CONNECT_HTTP_LISTEN ----------------------------------------------------------------------- */

START_TEST(test_addr_good)
{
	static const struct {
		const char *text, *host;
		unsigned port;
		bool ipv6, loopback;
		const char *formatted;
	} cases[] = {
		{ "9117", "127.0.0.1", 9117, false, true, "127.0.0.1:9117" },
		{ "0", "127.0.0.1", 0, false, true, "127.0.0.1:0" },
		{ "127.0.0.1:9117", "127.0.0.1", 9117, false, true, "127.0.0.1:9117" },
		{ "localhost:9117", "127.0.0.1", 9117, false, true, "127.0.0.1:9117" },
		{ "0.0.0.0:9117", "0.0.0.0", 9117, false, false, "0.0.0.0:9117" },
		{ "127.8.9.10:65535", "127.8.9.10", 65535, false, true, "127.8.9.10:65535" },
		{ "192.168.1.20:80", "192.168.1.20", 80, false, false, "192.168.1.20:80" },
		{ "[::1]:9117", "::1", 9117, true, true, "[::1]:9117" },
		{ "[::]:9117", "::", 9117, true, false, "[::]:9117" },
		{ "[0:0:0:0:0:0:0:1]:1", "::1", 1, true, true, "[::1]:1" },
		{ "[2001:DB8::5]:9117", "2001:db8::5", 9117, true, false, "[2001:db8::5]:9117" },
		{ "[::ffff:127.0.0.1]:9117", "::ffff:127.0.0.1", 9117, true, true, "[::ffff:127.0.0.1]:9117" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_health_addr a;
		struct nsc_error err = {0};
		char text[NSC_HEALTH_ADDR_TEXT_MAX];
		nsc_rc rc = nsc_health_addr_parse(cases[i].text, &a, &err);
		ck_assert_msg(rc == NSC_OK, "%s: %s", cases[i].text, err.msg);
		ck_assert_str_eq(a.host, cases[i].host);
		ck_assert_uint_eq(a.port, cases[i].port);
		ck_assert_msg(a.ipv6 == cases[i].ipv6 && a.loopback == cases[i].loopback, "%s", cases[i].text);
		nsc_health_addr_format(&a, text, sizeof(text));
		ck_assert_str_eq(text, cases[i].formatted);
	}
}
END_TEST

START_TEST(test_addr_bad)
{
	static const struct {
		const char *text, *says;
	} cases[] = {
		{ NULL, "is empty" },
		{ "", "is empty" },
		{ "example.com:9117", "give an IP address such as 127.0.0.1" },
		{ "nsconnect.local:80", "give an IP address such as 127.0.0.1" },
		{ "127.0.0.1", "port is missing" },
		{ "localhost", "port is missing" },
		{ "127.0.0.1:65536", "from 0 to 65535" },
		{ "99999", "from 0 to 65535" },
		{ "127.0.0.1:-1", "from 0 to 65535" },
		{ "127.0.0.1:", "from 0 to 65535" },
		{ "127.0.0.1:9117x", "from 0 to 65535" },
		{ "127.0.0.1:+80", "from 0 to 65535" },
		{ ":9117", "host is missing" },
		{ "[]:9117", "host is missing" },
		{ "[::1]", "needs a port" },
		{ "[::1]9117", "needs a port" },
		{ "::1:9117", "in brackets" },
		{ "[zz::1]:80", "not an IPv6 address" },
		{ "[127.0.0.1]:80", "not an IPv6 address" },
		{ "1.2.3:80", "give an IP address" },
		{ " 9117", "port is missing" },
		{ "garbage", "port is missing" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_health_addr a;
		struct nsc_error err = {0};
		nsc_rc rc = nsc_health_addr_parse(cases[i].text, &a, &err);
		const char *label = cases[i].text ? cases[i].text : "(null)";
		ck_assert_msg(rc == NSC_ERR_CONFIG, "%s: accepted", label);
		ck_assert_int_eq(err.code, NSC_ERR_CONFIG);
		ck_assert_msg(strncmp(err.msg, "CONNECT_HTTP_LISTEN", 19) == 0, "%s: %s", label, err.msg);
		ck_assert_msg(strstr(err.msg, cases[i].says) != NULL, "%s: %s", label, err.msg);
		ck_assert_msg(strstr(err.msg, "expected") && strstr(err.msg, "127.0.0.1:9117"), "%s: %s",
			      label, err.msg);
	}
}
END_TEST

/* ---- the listener ------------------------------------------------------------------------------ */

struct served {
	struct nsc_fake_clock fc;
	struct nsc_clock clock;
	struct nsc_health_board *board;
	struct nsc_log *log;
	struct log_capture out;
};

static void served_init(struct served *s)
{
	memset(s, 0, sizeof(*s));
	s->board = sample_board(&s->fc, &s->clock);
	s->log = nsc_log_new(NSC_LOG_INFO);
	ck_assert_ptr_nonnull(s->log);
	nsc_log_set_sink(s->log, log_capture_sink, &s->out);
}

static void served_free(struct served *s)
{
	nsc_log_free(s->log);
	nsc_health_board_free(s->board);
	log_capture_free(&s->out);
}

static struct nsc_health_listener *listen_on(struct served *s, const char *text)
{
	struct nsc_health_addr a;
	struct nsc_health_listener *l = NULL;
	struct nsc_error err = {0};

	ck_assert_int_eq(nsc_health_addr_parse(text, &a, &err), NSC_OK);
	ck_assert_msg(nsc_health_listen(&a, s->board, s->log, &l, &err) == NSC_OK, "%s", err.msg);
	ck_assert_uint_ne(nsc_health_listener_port(l), 0);
	return l;
}

/* One request; method "GET", "HEAD", "POST" (with a body) or any other verb. */
static void request(const char *host, uint16_t port, const char *method, const char *path,
		    struct curl_reply *r)
{
	char url[128];
	CURL *c = curl_easy_init();

	ck_assert_ptr_nonnull(c);
	snprintf(url, sizeof(url), "http://%s:%u%s", host, (unsigned)port, path);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_reply_perform(c, NULL, url, strcmp(method, "POST") == 0 ? "x=1" : NULL, r);
}

static void expect(uint16_t port, const char *method, const char *path, long status,
		   const char *type, const char *body)
{
	struct curl_reply r;
	request("127.0.0.1", port, method, path, &r);
	ck_assert_msg(r.status == status, "%s %s: %ld, want %ld", method, path, r.status, status);
	if (type)
		ck_assert_str_eq(r.content_type, type);
	if (body)
		ck_assert_str_eq(r.body, body);
	free(r.body);
}

static void expect_not_allowed(uint16_t port, const char *method, const char *path)
{
	struct curl_reply r;
	request("127.0.0.1", port, method, path, &r);
	ck_assert_msg(r.status == 405, "%s %s: %ld, want 405", method, path, r.status);
	ck_assert_str_eq(r.allow, "GET, HEAD");
	free(r.body);
}

#define TEXT_PLAIN "text/plain; charset=utf-8"

START_TEST(test_listener_routes)
{
	struct served s;
	struct curl_reply r;
	char line[128];

	served_init(&s);
	struct nsc_health_listener *l = listen_on(&s, "127.0.0.1:0");
	uint16_t port = nsc_health_listener_port(l);
	snprintf(line, sizeof(line), "event=http_listening addr=127.0.0.1:%u", (unsigned)port);
	ck_assert_int_eq(log_capture_count(&s.out, line, "comp=health"), 1);
	ck_assert_int_eq(log_capture_count(&s.out, "http_listen_public", NULL), 0);

	expect(port, "GET", "/healthz", 200, TEXT_PLAIN, "ok\n");
	expect(port, "GET", "/healthz?verbose=1", 200, TEXT_PLAIN, "ok\n");
	expect(port, "HEAD", "/healthz", 200, TEXT_PLAIN, "");
	expect(port, "GET", "/readyz", 503, TEXT_PLAIN, "starting\n");
	nsc_health_board_set_ready(s.board, true);
	expect(port, "GET", "/readyz", 200, TEXT_PLAIN, "ready\n");

	request("127.0.0.1", port, "GET", "/status", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.content_type, "application/json");
	struct json_object *root = nsc_json_parse(r.body, r.len);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_get_boolean(member(root, "ready")));
	assert_string_member(tenant_json(root, "alice"), "state", "failing");
	json_object_put(root);
	free(r.body);

	request("127.0.0.1", port, "GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_uint_eq(check_exposition(r.body), FAMILIES);
	assert_sample(r.body, "nsconnect_polls_total{tenant=\"alice\"}", "7");
	free(r.body);
	expect(port, "HEAD", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8", "");

	expect(port, "GET", "/", 404, NULL, "not found\n");
	expect(port, "GET", "/metrics/x", 404, NULL, NULL);
	expect_not_allowed(port, "POST", "/healthz");
	expect_not_allowed(port, "DELETE", "/status");
	expect_not_allowed(port, "PUT", "/metrics");

	/* The loop stops ticking: liveness fails, the rest still answers. */
	nsc_fake_clock_advance(&s.fc, NSC_HEALTH_STALL_MS + 1);
	expect(port, "GET", "/healthz", 503, TEXT_PLAIN, "stalled\n");
	nsc_health_board_tick(s.board);
	expect(port, "GET", "/healthz", 200, TEXT_PLAIN, "ok\n");

	nsc_health_listener_stop(l);
	nsc_health_listener_stop(NULL);
	served_free(&s);
}
END_TEST

START_TEST(test_listener_port_in_use)
{
	struct served s;
	struct nsc_health_addr a;
	struct nsc_health_listener *second = NULL;
	struct nsc_error err = {0};
	char text[64];

	served_init(&s);
	struct nsc_health_listener *l = listen_on(&s, "127.0.0.1:0");
	snprintf(text, sizeof(text), "127.0.0.1:%u", (unsigned)nsc_health_listener_port(l));
	ck_assert_int_eq(nsc_health_addr_parse(text, &a, &err), NSC_OK);
	ck_assert_int_eq(nsc_health_listen(&a, s.board, s.log, &second, &err), NSC_ERR_IO);
	ck_assert_ptr_null(second);
	ck_assert_int_eq(err.code, NSC_ERR_IO);
	ck_assert_msg(strncmp(err.msg, "CONNECT_HTTP_LISTEN=", 20) == 0 && strstr(err.msg, text),
		      "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "port"), "%s", err.msg);
	/* The first one still serves. */
	expect(nsc_health_listener_port(l), "GET", "/healthz", 200, TEXT_PLAIN, "ok\n");
	nsc_health_listener_stop(l);
	served_free(&s);
}
END_TEST

START_TEST(test_listener_public_and_ipv6)
{
	struct served s;
	struct nsc_health_addr a;
	struct nsc_health_listener *l6 = NULL;
	struct nsc_error err = {0};
	struct curl_reply r;

	served_init(&s);
	struct nsc_health_listener *l = listen_on(&s, "0.0.0.0:0");
	ck_assert_int_eq(log_capture_count(&s.out, "event=http_listen_public", "level=warn"), 1);
	expect(nsc_health_listener_port(l), "GET", "/healthz", 200, TEXT_PLAIN, "ok\n");
	nsc_health_listener_stop(l);

	/* IPv6 where the machine has it (some containers have no ::1). */
	ck_assert_int_eq(nsc_health_addr_parse("[::1]:0", &a, &err), NSC_OK);
	if (nsc_health_listen(&a, s.board, s.log, &l6, &err) == NSC_OK) {
		char line[64];
		snprintf(line, sizeof(line), "addr=[::1]:%u", (unsigned)nsc_health_listener_port(l6));
		ck_assert_int_eq(log_capture_count(&s.out, "event=http_listening", line), 1);
		request("[::1]", nsc_health_listener_port(l6), "GET", "/readyz", &r);
		ck_assert_int_eq(r.status, 503);
		free(r.body);
		nsc_health_listener_stop(l6);
	} else {
		ck_assert_int_eq(err.code, NSC_ERR_IO);
	}
	/* Loopback on IPv6 is not public. */
	ck_assert_int_eq(log_capture_count(&s.out, "event=http_listen_public", NULL), 1);
	served_free(&s);
}
END_TEST

static Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *board = tcase_create("board");
	TCase *pages = tcase_create("pages");
	TCase *addr = tcase_create("addr");
	TCase *http = tcase_create("listener");

	tcase_add_test(board, test_names);
	tcase_add_test(board, test_put_refuses_and_terminates);
	tcase_add_test(board, test_remove_fills_hole);
	tcase_add_test(board, test_ten_thousand);
	tcase_add_test(board, test_alive_and_ready);
	tcase_set_timeout(board, 60);
	suite_add_tcase(s, board);
	tcase_add_test(pages, test_status_fields);
	tcase_add_test(pages, test_metrics_lines);
	tcase_add_test(pages, test_empty_board_metrics);
	tcase_add_test(pages, test_quoting);
	tcase_add_test(pages, test_strbuf_appendf);
	suite_add_tcase(s, pages);
	tcase_add_test(addr, test_addr_good);
	tcase_add_test(addr, test_addr_bad);
	suite_add_tcase(s, addr);
	tcase_add_test(http, test_listener_routes);
	tcase_add_test(http, test_listener_port_in_use);
	tcase_add_test(http, test_listener_public_and_ipv6);
	tcase_set_timeout(http, 60);
	suite_add_tcase(s, http);
	return s;
}

NSC_CHECK_MAIN(health_suite)
