/* SPDX-License-Identifier: MIT */
/*
 * Engine test harness: a loop on a virtual clock, a logger whose lines are
 * captured in memory, and run_for() to let virtual time pass.
 */
#ifndef NSC_TESTS_HARNESS_H
#define NSC_TESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "engine/loop.h"
#include "log.h"

#define HARNESS_START_MS 1704103200000LL /* 2024-01-01T10:00:00.000Z */

struct harness {
	struct nsc_fake_clock fc;
	struct nsc_clock clock;
	struct nsc_loop *loop;
	struct nsc_log *log;
	char *captured;       /* every log line, '\n'-separated */
	size_t captured_len;
};

void harness_setup(struct harness *h, enum nsc_log_level level);
/* The same with the virtual clock starting at start_ms (a date near a DST change, say). */
void harness_setup_at(struct harness *h, enum nsc_log_level level, int64_t start_ms);
void harness_teardown(struct harness *h);
/* Lets `ms` of virtual time pass, running every timer due meanwhile. */
void harness_run_for(struct harness *h, int64_t ms);
/* How many captured lines contain `needle`. */
int harness_count_lines(const struct harness *h, const char *needle);

#endif
