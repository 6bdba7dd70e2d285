/* SPDX-License-Identifier: MIT */
/* Event loop: timers + libcurl multi + a wake pipe (see loop.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/loop.h"

/* Longest single wait, so a stop request is noticed even without a wake-up. */
#define NSC_LOOP_MAX_WAIT_MS 1000

struct nsc_loop {
	struct nsc_clock clock;
	struct nsc_timers timers;
	CURLM *multi;
	int running; /* transfers in the multi handle */
	int wake_pipe[2];
	atomic_bool stop;
};

static nsc_rc set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return NSC_ERR_IO;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return NSC_ERR_IO;
	return NSC_OK;
}

nsc_rc nsc_loop_new(const struct nsc_clock *clock, struct nsc_loop **out)
{
	struct nsc_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NSC_ERR_NOMEM;
	loop->clock = clock ? *clock : nsc_clock_system;
	nsc_timers_init(&loop->timers);
	loop->wake_pipe[0] = loop->wake_pipe[1] = -1;
	atomic_init(&loop->stop, false);
	if (pipe(loop->wake_pipe) != 0 || set_nonblock_cloexec(loop->wake_pipe[0]) != NSC_OK ||
	    set_nonblock_cloexec(loop->wake_pipe[1]) != NSC_OK) {
		nsc_loop_free(loop);
		return NSC_ERR_IO;
	}
	loop->multi = curl_multi_init();
	if (!loop->multi) {
		nsc_loop_free(loop);
		return NSC_ERR_NOMEM;
	}
	*out = loop;
	return NSC_OK;
}

void nsc_loop_free(struct nsc_loop *loop)
{
	if (!loop)
		return;
	if (loop->multi)
		curl_multi_cleanup(loop->multi);
	for (int i = 0; i < 2; i++)
		if (loop->wake_pipe[i] >= 0)
			close(loop->wake_pipe[i]);
	nsc_timers_free(&loop->timers);
	free(loop);
}

nsc_rc nsc_loop_set_connection_limits(struct nsc_loop *loop, long per_host, long cached)
{
	if (per_host > 0 && curl_multi_setopt(loop->multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host) != CURLM_OK)
		return NSC_ERR_INTERNAL;
	if (cached > 0 && curl_multi_setopt(loop->multi, CURLMOPT_MAXCONNECTS, cached) != CURLM_OK)
		return NSC_ERR_INTERNAL;
	return NSC_OK;
}

const struct nsc_clock *nsc_loop_clock(const struct nsc_loop *loop)
{
	return &loop->clock;
}

int64_t nsc_loop_wall_ms(const struct nsc_loop *loop)
{
	return nsc_clock_wall(&loop->clock);
}

int64_t nsc_loop_mono_ms(const struct nsc_loop *loop)
{
	return nsc_clock_mono(&loop->clock);
}

nsc_rc nsc_loop_timer_in(struct nsc_loop *loop, int64_t delay_ms, nsc_timer_fn fn, void *arg,
			 uint64_t *id)
{
	if (delay_ms < 0)
		delay_ms = 0;
	return nsc_timers_add(&loop->timers, nsc_loop_mono_ms(loop) + delay_ms, fn, arg, id);
}

void nsc_loop_timer_cancel(struct nsc_loop *loop, uint64_t *id)
{
	if (id && *id) {
		nsc_timers_cancel(&loop->timers, *id);
		*id = 0;
	}
}

nsc_rc nsc_loop_transfer_start(struct nsc_loop *loop, struct nsc_loop_transfer *t)
{
	if (curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t) != CURLE_OK)
		return NSC_ERR_INTERNAL;
	if (curl_multi_add_handle(loop->multi, t->easy) != CURLM_OK)
		return NSC_ERR_INTERNAL;
	loop->running++;
	return NSC_OK;
}

void nsc_loop_transfer_abort(struct nsc_loop *loop, struct nsc_loop_transfer *t)
{
	if (curl_multi_remove_handle(loop->multi, t->easy) == CURLM_OK && loop->running > 0)
		loop->running--;
}

void nsc_loop_stop(struct nsc_loop *loop)
{
	atomic_store(&loop->stop, true);
	nsc_loop_stop_from_signal(loop);
}

void nsc_loop_stop_from_signal(struct nsc_loop *loop)
{
	const char byte = 1;
	int saved = errno;
	atomic_store(&loop->stop, true);
	/* A full pipe already holds a wake-up; nothing else to do. */
	ssize_t n = write(loop->wake_pipe[1], &byte, 1);
	(void)n;
	errno = saved;
}

bool nsc_loop_stopped(const struct nsc_loop *loop)
{
	return atomic_load(&loop->stop);
}

static void drain_wake_pipe(struct nsc_loop *loop)
{
	char buf[64];
	while (read(loop->wake_pipe[0], buf, sizeof(buf)) > 0)
		;
}

static void fire_due_timers(struct nsc_loop *loop)
{
	struct nsc_timer t;
	int64_t now = nsc_loop_mono_ms(loop);
	/* Timers added while firing with due <= now run in this same pass. */
	while (!nsc_loop_stopped(loop) && nsc_timers_pop_due(&loop->timers, now, &t))
		t.fn(t.arg);
}

static void finish_transfers(struct nsc_loop *loop)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(loop->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct nsc_loop_transfer *t = NULL;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(loop->multi, easy);
		if (loop->running > 0)
			loop->running--;
		if (t && t->done)
			t->done(t, result);
	}
}

nsc_rc nsc_loop_run(struct nsc_loop *loop)
{
	while (!nsc_loop_stopped(loop)) {
		int64_t due;
		bool have_timer = nsc_timers_next_due(&loop->timers, &due);
		if (!have_timer && loop->running == 0)
			break;

		int64_t wait = NSC_LOOP_MAX_WAIT_MS;
		if (have_timer) {
			wait = due - nsc_loop_mono_ms(loop);
			if (wait < 0)
				wait = 0;
			if (wait > NSC_LOOP_MAX_WAIT_MS && loop->running == 0 &&
			    !nsc_clock_is_virtual(&loop->clock))
				wait = NSC_LOOP_MAX_WAIT_MS;
		}

		if (nsc_clock_is_virtual(&loop->clock) && loop->running == 0) {
			/* Nothing can happen before the next timer: jump to it. */
			loop->clock.advance(loop->clock.ctx, wait);
		} else {
			struct curl_waitfd extra = {
				.fd = loop->wake_pipe[0], .events = CURL_WAIT_POLLIN, .revents = 0,
			};
			int poll_ms = (int)(wait > NSC_LOOP_MAX_WAIT_MS ? NSC_LOOP_MAX_WAIT_MS : wait);
			int numfds = 0;
			if (curl_multi_poll(loop->multi, &extra, 1, poll_ms, &numfds) != CURLM_OK)
				return NSC_ERR_IO;
			if (extra.revents)
				drain_wake_pipe(loop);
			int still = 0;
			if (curl_multi_perform(loop->multi, &still) != CURLM_OK)
				return NSC_ERR_IO;
			finish_transfers(loop);
		}
		fire_due_timers(loop);
	}
	/* The stop request is consumed, so the loop can be run again. */
	atomic_store(&loop->stop, false);
	drain_wake_pipe(loop);
	return NSC_OK;
}
