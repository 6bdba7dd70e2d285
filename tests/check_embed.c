/* SPDX-License-Identifier: MIT */
/*
 * The embedding API of <nsconnect.h>, used as a host would use it: only
 * public calls, the simulator source on a 1-second cadence, the
 * filesystem output in a scratch directory, real threads and real time.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nsc_check.h"
#include "nsconnect.h"

#define SECRET "embed-secret-Xy7"

struct host {
	nsc_embed *e;
	char dir[64];
	pthread_mutex_t mu;
	int batches;
	uint64_t batch_entries, batch_devicestatus, batch_profile;
	int batches_with_entries;
	int64_t first_oldest_ms, first_newest_ms;
	int problems;
	char problem[NSC_ERROR_MSG_MAX];
	int log_lines;
	int secret_seen;
};

static void on_batch(void *arg, const struct nsc_embed_batch *b)
{
	struct host *h = arg;
	pthread_mutex_lock(&h->mu);
	if (h->batches == 0) {
		h->first_oldest_ms = b->oldest_ms;
		h->first_newest_ms = b->newest_ms;
	}
	h->batches++;
	h->batch_entries += b->stored_entries;
	h->batch_devicestatus += b->stored_devicestatus;
	h->batch_profile += b->stored_profile;
	h->batches_with_entries += b->stored_entries > 0;
	pthread_mutex_unlock(&h->mu);
}

static void on_problem(void *arg, nsc_rc rc, const char *message)
{
	struct host *h = arg;
	(void)rc;
	pthread_mutex_lock(&h->mu);
	h->problems++;
	snprintf(h->problem, sizeof(h->problem), "%s", message);
	pthread_mutex_unlock(&h->mu);
}

static void on_log(void *arg, enum nsc_embed_log_level level, const char *line)
{
	struct host *h = arg;
	(void)level;
	pthread_mutex_lock(&h->mu);
	h->log_lines++;
	if (strstr(line, SECRET))
		h->secret_seen++;
	pthread_mutex_unlock(&h->mu);
}

static void host_init(struct host *h)
{
	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(pthread_mutex_init(&h->mu, NULL), 0);
	snprintf(h->dir, sizeof(h->dir), "/tmp/nsc-embed.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(h->dir));
	ck_assert_int_eq(nsc_embed_new(&h->e), NSC_OK);
	nsc_embed_on_batch(h->e, on_batch, h);
	nsc_embed_on_problem(h->e, on_problem, h);
	nsc_embed_on_log(h->e, on_log, h);
	ck_assert_int_eq(nsc_embed_set(h->e, "CONNECT_SOURCE", "simulator"), NSC_OK);
	ck_assert_int_eq(nsc_embed_set(h->e, "CONNECT_SIMULATOR_INTERVAL", "1"), NSC_OK);
	ck_assert_int_eq(nsc_embed_set(h->e, "CONNECT_LOOKBACK_HOURS", "1"), NSC_OK);
	ck_assert_int_eq(nsc_embed_set(h->e, "CONNECT_OUTPUT", "filesystem"), NSC_OK);
	ck_assert_int_eq(nsc_embed_set(h->e, "CONNECT_OUTPUT_DIR", h->dir), NSC_OK);
}

static void host_fini(struct host *h)
{
	nsc_embed_free(h->e);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	ck_assert_int_eq(system(cmd), 0);
	pthread_mutex_destroy(&h->mu);
}

static int batches(struct host *h)
{
	pthread_mutex_lock(&h->mu);
	int n = h->batches;
	pthread_mutex_unlock(&h->mu);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Waits (up to limit_ms of real time) until pred(h) holds. */
static bool wait_until(struct host *h, bool (*pred)(struct host *), long limit_ms)
{
	for (long waited = 0; waited < limit_ms; waited += 20) {
		if (pred(h))
			return true;
		sleep_ms(20);
	}
	return pred(h);
}

static bool three_batches(struct host *h)
{
	return batches(h) >= 3;
}

static bool has_problem(struct host *h)
{
	pthread_mutex_lock(&h->mu);
	bool yes = h->problems > 0;
	pthread_mutex_unlock(&h->mu);
	return yes;
}

/* Lines in one of the filesystem output's files, -1 when there is none. */
static long file_lines(const struct host *h, const char *collection)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s.jsonl", h->dir, collection);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long n = 0;
	int c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Lines in the entries file. */
static long stored_lines(const struct host *h)
{
	return file_lines(h, "entries");
}

START_TEST(runs_reports_and_stops)
{
	struct host h;
	host_init(&h);
	struct nsc_error err;
	ck_assert_int_eq(nsc_embed_start(h.e, &err), NSC_OK);
	struct nsc_embed_status st;
	nsc_embed_status(h.e, &st);
	ck_assert_int_eq(st.running, 1);
	/* One backfill of the hour, then a reading per second. */
	ck_assert(wait_until(&h, three_batches, 15000));
	/* Settings are fixed while running. */
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_LOOKBACK_HOURS", "2"), NSC_ERR_STATE);
	ck_assert_int_eq(nsc_embed_start(h.e, &err), NSC_ERR_STATE);

	nsc_embed_stop(h.e);
	nsc_embed_status(h.e, &st);
	ck_assert_int_eq(st.running, 0);
	int after_stop = batches(&h);
	sleep_ms(1500);
	ck_assert_int_eq(batches(&h), after_stop); /* nothing runs after stop */

	ck_assert_uint_ge(st.polls_ok, 3);
	ck_assert_uint_eq(st.polls_failed, 0);
	ck_assert_int_eq(st.last_rc, NSC_OK);
	ck_assert_str_eq(st.last_error, "");
	ck_assert_int_gt(st.last_success_ms, 0);
	/* The host heard of every stored entry, and the output holds exactly those. */
	ck_assert_uint_eq(st.stored_entries, h.batch_entries);
	ck_assert_int_eq(stored_lines(&h), (long)st.stored_entries);
	ck_assert_uint_ge(st.stored_entries, 3600 + 2);
	/* One pump status per poll that stored readings, and the profile once. */
	ck_assert_uint_eq(st.stored_devicestatus, h.batch_devicestatus);
	ck_assert_uint_eq(h.batch_devicestatus, (uint64_t)h.batches_with_entries);
	ck_assert_int_eq(file_lines(&h, "devicestatus"), (long)st.stored_devicestatus);
	ck_assert_uint_eq(st.stored_profile, 1);
	ck_assert_uint_eq(h.batch_profile, 1);
	ck_assert_int_eq(file_lines(&h, "profile"), 1);
	/* The first batch is the backfill: it spans (almost) the whole lookback hour,
	 * and no more (its profile, valid since 2020, has no part in the span). */
	ck_assert_int_ge(h.first_newest_ms - h.first_oldest_ms, 3590 * 1000LL);
	ck_assert_int_le(h.first_newest_ms - h.first_oldest_ms, 3600 * 1000LL);
	ck_assert_int_eq(st.newest_entry_ms > h.first_newest_ms, 1);
	ck_assert_int_gt(h.log_lines, 0);
	nsc_embed_stop(h.e); /* twice is harmless */
	host_fini(&h);
}
END_TEST

START_TEST(restart_after_stop_continues)
{
	struct host h;
	host_init(&h);
	struct nsc_error err;
	ck_assert_int_eq(nsc_embed_start(h.e, &err), NSC_OK);
	ck_assert(wait_until(&h, three_batches, 15000));
	nsc_embed_stop(h.e);
	long before = stored_lines(&h);
	h.batches = 0;
	ck_assert_int_eq(nsc_embed_start(h.e, &err), NSC_OK);
	ck_assert(wait_until(&h, three_batches, 15000));
	nsc_embed_stop(h.e);
	/* The second run starts where the output is: no backfill again, no duplicates. */
	long after = stored_lines(&h);
	ck_assert_int_gt(after, before);
	ck_assert_int_lt(after - before, 60);
	/* The restart does not store the profile again. */
	ck_assert_int_eq(file_lines(&h, "profile"), 1);
	host_fini(&h);
}
END_TEST

START_TEST(bad_settings_start_nothing)
{
	struct host h;
	host_init(&h);
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_NO_SUCH_THING", "1"), NSC_ERR_CONFIG);
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_LOOKBACK_HOURS", "forever"), NSC_OK);
	struct nsc_error err;
	/* validate says what start would say, and starts nothing. */
	ck_assert_int_eq(nsc_embed_validate(h.e, &err), NSC_ERR_CONFIG);
	ck_assert_msg(strstr(err.msg, "CONNECT_LOOKBACK_HOURS=\"forever\"") != NULL, "%s", err.msg);
	ck_assert_int_eq(nsc_embed_start(h.e, &err), NSC_ERR_CONFIG);
	ck_assert_msg(strstr(err.msg, "CONNECT_LOOKBACK_HOURS") != NULL, "%s", err.msg);
	struct nsc_embed_status st;
	nsc_embed_status(h.e, &st);
	ck_assert_int_eq(st.running, 0);
	sleep_ms(300);
	ck_assert_int_eq(batches(&h), 0);
	ck_assert_int_eq(stored_lines(&h), -1); /* the output was never opened */
	/* Fixed, it validates (still without starting) and starts. */
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_LOOKBACK_HOURS", "1"), NSC_OK);
	ck_assert_int_eq(nsc_embed_validate(h.e, &err), NSC_OK);
	nsc_embed_status(h.e, &st);
	ck_assert_int_eq(st.running, 0);
	ck_assert_int_eq(stored_lines(&h), -1);
	ck_assert_int_eq(nsc_embed_start(h.e, &err), NSC_OK);
	ck_assert(wait_until(&h, three_batches, 15000));
	host_fini(&h);
}
END_TEST

START_TEST(validate_names_every_problem)
{
	struct host h;
	host_init(&h);
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_SOURCE", "dexcomshare"), NSC_OK);
	struct nsc_error err, started;
	ck_assert_int_eq(nsc_embed_validate(h.e, &err), NSC_ERR_CONFIG);
	ck_assert_msg(strncmp(err.msg, "2 settings need fixing: ", 24) == 0, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "CONNECT_SHARE_ACCOUNT_NAME is not set") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "; CONNECT_SHARE_PASSWORD is not set") != NULL, "%s", err.msg);
	/* start refuses with the same whole list, and starts nothing */
	ck_assert_int_eq(nsc_embed_start(h.e, &started), NSC_ERR_CONFIG);
	ck_assert_str_eq(started.msg, err.msg);
	struct nsc_embed_status st;
	nsc_embed_status(h.e, &st);
	ck_assert_int_eq(st.running, 0);
	ck_assert_int_eq(stored_lines(&h), -1);
	host_fini(&h);
}
END_TEST

START_TEST(problem_is_reported_once_without_secrets)
{
	struct host h;
	host_init(&h);
	/* The simulator rejects this password: a login the user must fix. */
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_SIMULATOR_USERNAME", "host-user"), NSC_OK);
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_SIMULATOR_PASSWORD", "wrong-password"), NSC_OK);
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_LOG_LEVEL", "trace"), NSC_OK);
	struct nsc_error err;
	ck_assert_int_eq(nsc_embed_start(h.e, &err), NSC_OK);
	ck_assert(wait_until(&h, has_problem, 10000));
	struct nsc_embed_status st;
	nsc_embed_status(h.e, &st);
	ck_assert_int_eq(st.last_rc, NSC_ERR_REJECTED);
	ck_assert_uint_eq(st.logins_rejected, 1);
	ck_assert_str_eq(st.last_error, h.problem);
	ck_assert_int_ge(st.next_poll_in_ms, 30 * 60 * 1000); /* the lockout guard waits */
	nsc_embed_stop(h.e);
	ck_assert_int_eq(h.problems, 1);
	ck_assert_int_eq(batches(&h), 0);
	host_fini(&h);
}
END_TEST

START_TEST(secret_never_reaches_the_host_log)
{
	struct host h;
	host_init(&h);
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_SIMULATOR_USERNAME", "host-user"), NSC_OK);
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_SIMULATOR_PASSWORD", SECRET), NSC_OK);
	ck_assert_int_eq(nsc_embed_set(h.e, "CONNECT_LOG_LEVEL", "trace"), NSC_OK);
	struct nsc_error err;
	ck_assert_int_eq(nsc_embed_start(h.e, &err), NSC_OK);
	ck_assert(wait_until(&h, three_batches, 15000));
	nsc_embed_stop(h.e);
	ck_assert_int_gt(h.log_lines, 10);
	ck_assert_int_eq(h.secret_seen, 0);
	host_fini(&h);
}
END_TEST

START_TEST(environment_is_opt_in)
{
	struct host h;
	host_init(&h);
	nsc_embed *e;
	ck_assert_int_eq(nsc_embed_new(&e), NSC_OK);
	ck_assert_int_eq(setenv("CONNECT_SOURCE", "simulator", 1), 0);
	ck_assert_int_eq(setenv("CONNECT_OUTPUT", "filesystem", 1), 0);
	ck_assert_int_eq(setenv("CONNECT_OUTPUT_DIR", h.dir, 1), 0);
	struct nsc_error err;
	/* Without use_environment the process environment is not read. */
	ck_assert_int_eq(nsc_embed_start(e, &err), NSC_ERR_CONFIG);
	ck_assert_msg(strstr(err.msg, "CONNECT_SOURCE") != NULL, "%s", err.msg);
	nsc_embed_use_environment(e, 1);
	ck_assert_int_eq(nsc_embed_start(e, &err), NSC_OK);
	struct nsc_embed_status st = { 0 };
	for (int i = 0; i < 500 && st.polls_ok == 0; i++) {
		sleep_ms(20);
		nsc_embed_status(e, &st);
	}
	ck_assert_uint_eq(st.polls_ok, 1);
	nsc_embed_free(e); /* free stops it */
	unsetenv("CONNECT_SOURCE");
	unsetenv("CONNECT_OUTPUT");
	unsetenv("CONNECT_OUTPUT_DIR");
	ck_assert_int_gt(stored_lines(&h), 0);
	host_fini(&h);
}
END_TEST

static Suite *embed_suite(void)
{
	Suite *s = suite_create("embed");
	TCase *tc = tcase_create("host");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, runs_reports_and_stops);
	tcase_add_test(tc, restart_after_stop_continues);
	tcase_add_test(tc, bad_settings_start_nothing);
	tcase_add_test(tc, validate_names_every_problem);
	tcase_add_test(tc, problem_is_reported_once_without_secrets);
	tcase_add_test(tc, secret_never_reaches_the_host_log);
	tcase_add_test(tc, environment_is_opt_in);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(embed_suite)
