/* SPDX-License-Identifier: MIT */
/*
 * The Dexcom Share simulator (tests/server/dexcom.h) with many accounts,
 * over real HTTP with libcurl and no driver code: logins by name and by id
 * among thousands of accounts, each session reading its own account's
 * readings, a reading served from its own time on and not before, many
 * sessions at once, and the test server's many-clients mode (a pool of
 * polling threads, no record). The simulator runs on a virtual clock.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "curl_reply.h"
#include "nsc_check.h"
#include "server/dexcom.h"
#include "server/server.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define CADENCE (5 * MIN)
#define T0 1745064000000LL /* 2025-04-19T12:00:00.000Z */
#define MANY 3000
#define TEXT 40

/* ---- fixture: server, simulator with MANY accounts, virtual clock -------------- */

static _Atomic int64_t clock_ms;
static struct tsrv *srv;
static struct tsdx *dx;
static char names[MANY][TEXT], passwords[MANY][TEXT];

static int64_t virtual_now(void *ctx)
{
	(void)ctx;
	return atomic_load(&clock_ms);
}

/* Accounts user-<i>@example.com / pass-<i>, i = 0..MANY-1, on a server started with opts. */
static void start_with(const struct tsrv_options *opts)
{
	static struct tsdx_account list[MANY];

	for (size_t i = 0; i < MANY; i++) {
		snprintf(names[i], TEXT, "user-%zu@example.com", i);
		snprintf(passwords[i], TEXT, "pass-%zu", i);
		list[i].user = names[i];
		list[i].password = passwords[i];
	}
	struct tsdx_config cfg = {
		.accounts = list, .naccounts = MANY, .seed = 42, .now_ms = virtual_now,
	};
	atomic_store(&clock_ms, T0);
	srv = tsrv_start_with(0, opts);
	ck_assert_ptr_nonnull(srv);
	dx = tsdx_attach(srv, &cfg);
	ck_assert_ptr_nonnull(dx);
}

static void start(void)
{
	start_with(NULL);
}

static void stop(void)
{
	tsrv_stop(srv);
	tsdx_free(dx);
	srv = NULL;
	dx = NULL;
}

/* ---- HTTP ------------------------------------------------------------------- */

/* POSTs body (JSON) to path; the caller frees r->body. */
static void post(const char *path, const char *body, struct curl_reply *r)
{
	char url[1024];
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	snprintf(url, sizeof(url), "%s%s", tsrv_url(srv), path);
	h = curl_slist_append(h, "Content-Type: application/json");
	ck_assert_ptr_nonnull(h);
	curl_reply_perform(c, h, url, body, r);
	curl_slist_free_all(h);
}

/* The JSON string a login step answers with 200, into out. */
static void login_step(const char *path, const char *key, const char *value, const char *password,
		       char out[TSDX_ID_BUF])
{
	char body[512];
	struct curl_reply r;
	snprintf(body, sizeof(body), "{\"%s\":\"%s\",\"password\":\"%s\",\"applicationId\":\"%s\"}", key,
		 value, password, TSDX_APP_ID);
	post(path, body, &r);
	ck_assert_msg(r.status == 200, "%s %s: %ld %s", path, value, r.status, r.body);
	struct json_object *o = json_tokener_parse(r.body);
	ck_assert_msg(o && json_object_is_type(o, json_type_string), "not a string: %s", r.body);
	ck_assert_int_eq(json_object_get_string_len(o), TSDX_ID_BUF - 1);
	snprintf(out, TSDX_ID_BUF, "%s", json_object_get_string(o));
	json_object_put(o);
	free(r.body);
}

/* Both steps for account name/password: the session id into sid. */
static void log_in(const char *name, const char *password, char sid[TSDX_ID_BUF])
{
	char id[TSDX_ID_BUF], want[TSDX_ID_BUF];
	login_step(TSDX_PATH_AUTH, "accountName", name, password, id);
	tsdx_account_id(dx, name, want);
	ck_assert_str_eq(id, want);
	login_step(TSDX_PATH_LOGIN, "accountId", id, password, sid);
}

/* A login step that must fail with the Share fault code. */
static void login_fails(const char *path, const char *key, const char *value, const char *password,
			const char *code)
{
	char body[512], want[96];
	struct curl_reply r;
	snprintf(body, sizeof(body), "{\"%s\":\"%s\",\"password\":\"%s\",\"applicationId\":\"%s\"}", key,
		 value, password, TSDX_APP_ID);
	post(path, body, &r);
	snprintf(want, sizeof(want), "\"Code\":\"%s\"", code);
	ck_assert_msg(r.status == 500 && strstr(r.body, want), "%s %s: %ld %s", path, value, r.status, r.body);
	free(r.body);
}

/* The readings of session sid (minutes, maxCount), parsed; asserts 200. */
static struct json_object *read_glucose(const char *sid, int minutes, int count)
{
	char path[256];
	struct curl_reply r;
	snprintf(path, sizeof(path), "%s?sessionId=%s&minutes=%d&maxCount=%d", TSDX_PATH_DATA, sid, minutes,
		 count);
	post(path, "{}", &r);
	ck_assert_msg(r.status == 200, "data: %ld %s", r.status, r.body);
	struct json_object *a = json_tokener_parse(r.body);
	ck_assert_msg(a && json_object_is_type(a, json_type_array), "not a list: %s", r.body);
	free(r.body);
	return a;
}

static int64_t member_int(struct json_object *o, const char *key)
{
	struct json_object *v;
	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	return json_object_get_int64(v);
}

/* The milliseconds of "Date(<ms>)" in member WT. */
static int64_t wt_ms(struct json_object *o)
{
	struct json_object *v;
	long long ms = 0;
	ck_assert(json_object_object_get_ex(o, "WT", &v));
	ck_assert_int_eq(sscanf(json_object_get_string(v), "Date(%lld)", &ms), 1);
	return ms;
}

/* The slot of the newest reading at or before now, as the simulator's grid has it. */
static int64_t newest_slot(int64_t now)
{
	int64_t d = now - TSDX_DEFAULT_OFFSET_MS;
	return d >= 0 ? d / CADENCE : -((-d + CADENCE - 1) / CADENCE);
}

/* ---- tests -------------------------------------------------------------------- */

START_TEST(every_account_is_found_by_name_and_by_id)
{
	char sid[TSDX_ID_BUF], id[TSDX_ID_BUF], other[TSDX_ID_BUF];
	start();
	/* Every account has an id of its own. */
	for (size_t i = 0; i < MANY; i++) {
		tsdx_account_id(dx, names[i], id);
		ck_assert_int_eq(strlen(id), TSDX_ID_BUF - 1);
		if (i > 0) {
			tsdx_account_id(dx, names[i - 1], other);
			ck_assert_str_ne(id, other);
		}
	}
	/* Logins at the start, middle and end of the list, and a name in other case. */
	size_t sample[] = { 0, 1, MANY / 2, MANY - 2, MANY - 1 };
	for (size_t k = 0; k < sizeof(sample) / sizeof(sample[0]); k++)
		log_in(names[sample[k]], passwords[sample[k]], sid);
	login_step(TSDX_PATH_AUTH, "accountName", "USER-77@EXAMPLE.COM", passwords[77], id);
	tsdx_account_id(dx, names[77], other);
	ck_assert_str_eq(id, other);
	/* An id in upper case is the same account. */
	for (char *p = other; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	login_step(TSDX_PATH_LOGIN, "accountId", other, passwords[77], sid);
	/* Another account's password, an unknown name, an unknown id. */
	login_fails(TSDX_PATH_AUTH, "accountName", names[5], passwords[6], "AccountPasswordInvalid");
	login_fails(TSDX_PATH_AUTH, "accountName", "user-3000@example.com", "pass-3000", "AccountPasswordInvalid");
	login_fails(TSDX_PATH_LOGIN, "accountId", "0123abcd-0000-4000-8000-000000000000", passwords[1],
		    "AccountPasswordInvalid");
	tsdx_account_id(dx, "nobody@example.com", id);
	ck_assert_str_eq(id, "");
	stop();
}
END_TEST

START_TEST(each_session_reads_its_own_account)
{
	char sid[3][TSDX_ID_BUF];
	size_t who[3] = { 0, 1, MANY - 1 };
	struct json_object *got[3];
	start();
	for (size_t k = 0; k < 3; k++)
		log_in(names[who[k]], passwords[who[k]], sid[k]);
	for (size_t k = 0; k < 3; k++)
		got[k] = read_glucose(sid[k], 1440, 288);
	int64_t slot = newest_slot(T0);
	size_t differ = 0;
	for (size_t k = 0; k < 3; k++) {
		ck_assert_uint_eq(json_object_array_length(got[k]), 288);
		for (size_t n = 0; n < 288; n++) {
			struct json_object *o = json_object_array_get_idx(got[k], n);
			int64_t t;
			int mgdl, trend;
			tsdx_account_reading(dx, who[k], slot - (int64_t)n, &t, &mgdl, &trend);
			ck_assert_int_eq(wt_ms(o), t);
			ck_assert_int_eq(member_int(o, "Value"), mgdl);
			if (k > 0 && member_int(json_object_array_get_idx(got[0], n), "Value") != mgdl)
				differ++;
		}
	}
	/* The first account's readings are tsdx_reading's; the others' are not the same. */
	int64_t t0;
	int v0, tr0, v1, tr1;
	tsdx_reading(dx, slot, &t0, &v0, &tr0);
	tsdx_account_reading(dx, 0, slot, &t0, &v1, &tr1);
	ck_assert_int_eq(v0, v1);
	ck_assert_int_eq(tr0, tr1);
	ck_assert_uint_gt(differ, 288);
	for (size_t k = 0; k < 3; k++)
		json_object_put(got[k]);
	stop();
}
END_TEST

START_TEST(a_reading_is_served_from_its_own_time_on)
{
	char sid[TSDX_ID_BUF];
	int64_t t;
	start();
	log_in(names[9], passwords[9], sid);
	tsdx_account_reading(dx, 9, newest_slot(T0) + 1, &t, NULL, NULL);
	ck_assert_int_gt(t, T0);
	/* One millisecond before its time the newest is the one before; at its time it is served. */
	int64_t at[] = { t - 1, t, t + CADENCE - 1 };
	int64_t want[] = { t - CADENCE, t, t };
	for (size_t k = 0; k < 3; k++) {
		atomic_store(&clock_ms, at[k]);
		struct json_object *a = read_glucose(sid, 30, 10);
		ck_assert_uint_ge(json_object_array_length(a), 1);
		ck_assert_int_eq(wt_ms(json_object_array_get_idx(a, 0)), want[k]);
		for (size_t n = 0; n < json_object_array_length(a); n++)
			ck_assert_int_le(wt_ms(json_object_array_get_idx(a, n)), at[k]);
		json_object_put(a);
	}
	stop();
}
END_TEST

START_TEST(many_sessions_stay_apart)
{
	static char sids[600][TSDX_ID_BUF];
	char id[TSDX_ID_BUF];
	start();
	/* Step one once per account, then step two 600 times: the session table grows. */
	for (size_t i = 0; i < 600; i++) {
		size_t a = i % 3;
		tsdx_account_id(dx, names[a], id);
		login_step(TSDX_PATH_LOGIN, "accountId", id, passwords[a], sids[i]);
	}
	ck_assert_uint_eq(tsdx_counters(dx).sessions, 600);
	size_t check[] = { 0, 1, 2, 15, 16, 17, 299, 598, 599 };
	for (size_t k = 0; k < sizeof(check) / sizeof(check[0]); k++) {
		size_t i = check[k];
		int mgdl;
		struct json_object *a = read_glucose(sids[i], 10, 1);
		ck_assert_uint_eq(json_object_array_length(a), 1);
		tsdx_account_reading(dx, i % 3, newest_slot(T0), NULL, &mgdl, NULL);
		ck_assert_int_eq(member_int(json_object_array_get_idx(a, 0), "Value"), mgdl);
		json_object_put(a);
	}
	/* Killed, every one is dead. */
	tsdx_kill_sessions(dx);
	char path[256];
	struct curl_reply r;
	snprintf(path, sizeof(path), "%s?sessionId=%s&minutes=10&maxCount=1", TSDX_PATH_DATA, sids[0]);
	post(path, "{}", &r);
	ck_assert_msg(r.status == 500 && strstr(r.body, "SessionNotValid"), "%ld %s", r.status, r.body);
	free(r.body);
	stop();
}
END_TEST

START_TEST(many_clients_mode_answers_and_keeps_no_record)
{
	struct tsrv_options o = { .threads = 2, .connection_limit = 64, .no_record = true };
	char sid[TSDX_ID_BUF];
	start_with(&o);
	log_in(names[MANY - 1], passwords[MANY - 1], sid);
	struct json_object *a = read_glucose(sid, 60, 12);
	ck_assert_uint_eq(json_object_array_length(a), 12);
	json_object_put(a);
	ck_assert_uint_eq(tsrv_request_count(srv), 0);
	ck_assert_uint_eq(tsdx_counters(dx).data_calls, 1);
	ck_assert_uint_ge(tsrv_connections(srv), 3);
	stop();
}
END_TEST

static Suite *dexcom_sim_suite(void)
{
	Suite *s = suite_create("test_dexcom");
	TCase *t = tcase_create("simulator");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, every_account_is_found_by_name_and_by_id);
	tcase_add_test(t, each_session_reads_its_own_account);
	tcase_add_test(t, a_reading_is_served_from_its_own_time_on);
	tcase_add_test(t, many_sessions_stay_apart);
	tcase_add_test(t, many_clients_mode_answers_and_keeps_no_record);
	suite_add_tcase(s, t);
	return s;
}

NSC_CHECK_MAIN(dexcom_sim_suite)
