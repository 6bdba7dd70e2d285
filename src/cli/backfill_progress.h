/* SPDX-License-Identifier: MIT */
/*
 * A backfill's progress for the person watching: on a terminal one bar
 * redrawn in place, otherwise (a log, a pipe) one line per page. Both
 * say how much of the range is read, the documents stored so far, the
 * time reached, the rate and about how long is left.
 */
#ifndef NSC_CLI_BACKFILL_PROGRESS_H
#define NSC_CLI_BACKFILL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/backfill.h"
#include "engine/bridge.h"

struct nsc_backfill_progress {
	FILE *out;
	bool bar;          /* redraw one line in place */
	bool drawn;        /* a bar is on screen (a newline ends it) */
	int64_t start_mono_ms;
	double start_fraction; /* a resumed run's rate counts from where it resumed */
};

void nsc_backfill_progress_init(struct nsc_backfill_progress *p, FILE *out, bool bar, int64_t now_mono_ms,
				const struct nsc_backfill *bf);

/* After a page: the progress as of bf and st. */
void nsc_backfill_progress_page(struct nsc_backfill_progress *p, const struct nsc_backfill *bf,
				const struct nsc_bridge_stats *st, int64_t now_mono_ms);

/* Ends a bar on screen with a newline (before other output). */
void nsc_backfill_progress_end(struct nsc_backfill_progress *p);

/*
 * The progress words (no bar, no newline) into buf: "45% read, 12345
 * documents, reached 2026-10-01T00:00:00.000Z, 1234 documents/s, about
 * 42 s left". Pure, for tests.
 */
void nsc_backfill_progress_text(char *buf, size_t size, const struct nsc_backfill *bf, uint64_t documents,
				double elapsed_s, double start_fraction);

#endif
