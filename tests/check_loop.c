/* SPDX-License-Identifier: MIT */
/* Timer heap order, the loop on a virtual clock, stop, and a real curl transfer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/loop.h"
#include "engine/timers.h"
#include "nsc_check.h"

static int fired[64];
static int nfired;

static void record(void *arg)
{
	fired[nfired++] = (int)(intptr_t)arg;
}

START_TEST(heap_orders_by_due_then_insertion)
{
	struct nsc_timers t;
	nsc_timers_init(&t);
	int64_t dues[] = { 50, 10, 30, 10, 40, 20, 10 };
	uint64_t ids[7];
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(nsc_timers_add(&t, dues[i], record, (void *)(intptr_t)i, &ids[i]), NSC_OK);
	ck_assert(nsc_timers_cancel(&t, ids[4]));
	ck_assert(!nsc_timers_cancel(&t, ids[4]));
	struct nsc_timer e;
	int order[7], n = 0;
	ck_assert(!nsc_timers_pop_due(&t, 9, &e));
	while (nsc_timers_pop_due(&t, 1000, &e))
		order[n++] = (int)(intptr_t)e.arg;
	int want[] = { 1, 3, 6, 5, 2, 0 };
	ck_assert_int_eq(n, 6);
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(order[i], want[i]);
	nsc_timers_free(&t);
}
END_TEST

START_TEST(heap_survives_many_random_timers)
{
	struct nsc_timers t;
	nsc_timers_init(&t);
	srand(1);
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(nsc_timers_add(&t, rand() % 100000, record, NULL, NULL), NSC_OK);
	struct nsc_timer e;
	int64_t last = -1;
	size_t n = 0;
	while (nsc_timers_pop_due(&t, INT64_MAX, &e)) {
		ck_assert_int_ge(e.due, last);
		last = e.due;
		n++;
	}
	ck_assert_uint_eq(n, 5000);
	nsc_timers_free(&t);
}
END_TEST

static struct nsc_loop *the_loop;
static int64_t fired_at[8];

static void note_time(void *arg)
{
	fired_at[(intptr_t)arg] = nsc_loop_wall_ms(the_loop);
}

START_TEST(virtual_clock_jumps_to_timers)
{
	struct nsc_fake_clock fc;
	struct nsc_clock clock;
	nsc_fake_clock_init(&fc, 1000000, &clock);
	ck_assert_int_eq(nsc_loop_new(&clock, &the_loop), NSC_OK);
	memset(fired_at, 0, sizeof(fired_at));
	ck_assert_int_eq(nsc_loop_timer_in(the_loop, 3 * 3600 * 1000, note_time, (void *)1, NULL), NSC_OK);
	ck_assert_int_eq(nsc_loop_timer_in(the_loop, 5000, note_time, (void *)0, NULL), NSC_OK);
	uint64_t cancelled;
	ck_assert_int_eq(nsc_loop_timer_in(the_loop, 6000, note_time, (void *)2, &cancelled), NSC_OK);
	nsc_loop_timer_cancel(the_loop, &cancelled);
	ck_assert_uint_eq(cancelled, 0);
	/* Runs until nothing is pending: three virtual hours take no real time. */
	ck_assert_int_eq(nsc_loop_run(the_loop), NSC_OK);
	ck_assert_int_eq(fired_at[0], 1000000 + 5000);
	ck_assert_int_eq(fired_at[1], 1000000 + 3 * 3600 * 1000);
	ck_assert_int_eq(fired_at[2], 0);
	nsc_loop_free(the_loop);
}
END_TEST

static void stop_it(void *arg)
{
	nsc_loop_stop(arg);
}

START_TEST(stop_ends_run_and_loop_runs_again)
{
	struct nsc_loop *loop;
	ck_assert_int_eq(nsc_loop_new(NULL, &loop), NSC_OK);
	nfired = 0;
	ck_assert_int_eq(nsc_loop_timer_in(loop, 10, stop_it, loop, NULL), NSC_OK);
	ck_assert_int_eq(nsc_loop_timer_in(loop, 60000, record, (void *)7, NULL), NSC_OK);
	ck_assert_int_eq(nsc_loop_run(loop), NSC_OK);
	ck_assert_int_eq(nfired, 0); /* stopped long before the 60 s timer */
	ck_assert(!nsc_loop_stopped(loop));
	/* A signal-style stop before the run makes the next run return at once. */
	nsc_loop_stop_from_signal(loop);
	int64_t t0 = nsc_loop_mono_ms(loop);
	ck_assert_int_eq(nsc_loop_run(loop), NSC_OK);
	ck_assert_int_lt(nsc_loop_mono_ms(loop) - t0, 1000);
	nsc_loop_free(loop);
}
END_TEST

struct xfer {
	struct nsc_loop_transfer t;
	CURLcode result;
	int calls;
	size_t bytes;
};

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	((struct xfer *)ud)->bytes += sz * n;
	return sz * n;
}

static void xfer_done(struct nsc_loop_transfer *t, CURLcode result)
{
	struct xfer *x = (struct xfer *)t;
	x->calls++;
	x->result = result;
}

START_TEST(curl_transfer_completes_on_the_loop)
{
	char path[] = "/tmp/nsc-loop-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "hello, loop", 11), 11);
	close(fd);
	char url[64];
	snprintf(url, sizeof(url), "file://%s", path);

	ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	struct nsc_loop *loop;
	ck_assert_int_eq(nsc_loop_new(NULL, &loop), NSC_OK);
	struct xfer x = { 0 };
	x.t.easy = curl_easy_init();
	x.t.done = xfer_done;
	ck_assert_ptr_nonnull(x.t.easy);
	curl_easy_setopt(x.t.easy, CURLOPT_URL, url);
	curl_easy_setopt(x.t.easy, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(x.t.easy, CURLOPT_WRITEDATA, &x);
	ck_assert_int_eq(nsc_loop_transfer_start(loop, &x.t), NSC_OK);
	ck_assert_int_eq(nsc_loop_run(loop), NSC_OK); /* returns once the transfer is done */
	ck_assert_int_eq(x.calls, 1);
	ck_assert_int_eq(x.result, CURLE_OK);
	ck_assert_uint_eq(x.bytes, 11);
	curl_easy_cleanup(x.t.easy);
	nsc_loop_free(loop);
	curl_global_cleanup();
	unlink(path);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");
	tcase_add_test(tc, heap_orders_by_due_then_insertion);
	tcase_add_test(tc, heap_survives_many_random_timers);
	tcase_add_test(tc, virtual_clock_jumps_to_timers);
	tcase_add_test(tc, stop_ends_run_and_loop_runs_again);
	tcase_add_test(tc, curl_transfer_completes_on_the_loop);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(loop_suite)
