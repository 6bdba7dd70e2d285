/* SPDX-License-Identifier: MIT */
/*
 * A scripted source and an in-memory output for engine tests. Each step
 * answers with the next code from its script (NSC_OK when the script is
 * empty) and counts its calls. The source produces one reading per fetch,
 * at the newest 5-minute slot not after the window's end.
 */
#ifndef NSC_TESTS_FAKE_SOURCE_H
#define NSC_TESTS_FAKE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "source.h"

#define FAKE_SCRIPT_MAX 64

struct fake_script {
	nsc_rc codes[FAKE_SCRIPT_MAX];
	size_t len, pos;
	nsc_rc always;                 /* answered once the codes are used up (NSC_OK: success) */
	unsigned calls;                /* steps answered */
	int64_t at_ms[FAKE_SCRIPT_MAX]; /* monotonic time of the first calls */
};
void fake_script_push(struct fake_script *s, nsc_rc rc);
/* The next answer, noting the call's time on `loop` (may be NULL). */
nsc_rc fake_script_next(struct fake_script *s, struct nsc_loop *loop);

struct fake_source {
	struct fake_script auth, authorize, fetch, transform;
	unsigned auth_calls, authorize_calls, fetch_calls, transform_calls, drops;
	struct nsc_fetch_window last_window;
	struct nsc_log *log;
	struct nsc_loop *loop;
	int64_t hold_off_ms;       /* handed out once by hold_off_ms() */
	bool auth_hangs;           /* authenticate keeps its answer until cancelled */
	bool auth_pending;         /* a hung login waits */
	bool no_readings;          /* fetches succeed but bring no reading (a sensor that stopped) */
	unsigned cancels;
};

struct fake_output {
	struct fake_script last_known, write;
	struct nsc_loop *loop;     /* set by a test that wants call times */
	unsigned write_calls;
	size_t held;               /* documents stored */
	struct json_object *ids;   /* identifier set */
	struct nsc_last_known lk;
};

/* Drivers whose create/open hand out these objects (tests read them back). */
extern const struct nsc_source_driver fake_source_driver;
extern const struct nsc_output_driver fake_output_driver;
extern struct fake_source *fake_source_last;
extern struct fake_output *fake_output_last;

/* A driver copy with an authorize step, for two-step logins. */
extern const struct nsc_source_driver fake_source_driver_two_step;
/* A driver copy whose tune_timing sets a 1-minute cadence. */
extern const struct nsc_source_driver fake_source_driver_fast;

#endif
