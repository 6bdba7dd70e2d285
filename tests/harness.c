/* SPDX-License-Identifier: MIT */
/* Engine test harness (see harness.h). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "logline.h"

static void capture(void *ctx, enum nsc_log_level level, const char *line)
{
	struct harness *h = ctx;
	logline_assert(line);
	size_t n = strlen(line);
	char *p = realloc(h->captured, h->captured_len + n + 2);
	ck_assert_ptr_nonnull(p);
	h->captured = p;
	memcpy(h->captured + h->captured_len, line, n);
	h->captured_len += n;
	h->captured[h->captured_len++] = '\n';
	h->captured[h->captured_len] = '\0';
}

void harness_setup(struct harness *h, enum nsc_log_level level)
{
	harness_setup_at(h, level, HARNESS_START_MS);
}

void harness_setup_at(struct harness *h, enum nsc_log_level level, int64_t start_ms)
{
	memset(h, 0, sizeof(*h));
	nsc_fake_clock_init(&h->fc, start_ms, &h->clock);
	ck_assert_int_eq(nsc_loop_new(&h->clock, &h->loop), NSC_OK);
	h->log = nsc_log_new(level);
	ck_assert_ptr_nonnull(h->log);
	nsc_log_set_clock(h->log, &h->clock);
	nsc_log_set_sink(h->log, capture, h);
}

void harness_teardown(struct harness *h)
{
	nsc_loop_free(h->loop);
	nsc_log_free(h->log);
	free(h->captured);
	h->captured = NULL;
}

static void stop_loop(void *arg)
{
	nsc_loop_stop(arg);
}

void harness_run_for(struct harness *h, int64_t ms)
{
	uint64_t id;
	ck_assert_int_eq(nsc_loop_timer_in(h->loop, ms, stop_loop, h->loop, &id), NSC_OK);
	ck_assert_int_eq(nsc_loop_run(h->loop), NSC_OK);
	nsc_loop_timer_cancel(h->loop, &id); /* when the loop ran dry before the stop timer */
}

int harness_count_lines(const struct harness *h, const char *needle)
{
	int n = 0;
	const char *p = h->captured;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *hit = strstr(p, needle);
		if (hit && hit < p + len)
			n++;
		p += len + (eol ? 1 : 0);
	}
	return n;
}
