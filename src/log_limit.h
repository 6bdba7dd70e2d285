/* SPDX-License-Identifier: MIT */
/*
 * Rate limit for repeated warnings and errors, so that no defect can fill
 * a disk with one line: of identical lines (same level, component and
 * text; the timestamp aside), the first is written, then only a
 * count, at most once per window, while they keep coming. A line that has
 * not recurred for a whole window is written again in full next time.
 *
 * Pure bookkeeping (no I/O, no clock of its own): the logger passes the
 * time in and writes what it is told. Not thread-safe; the logger holds
 * its mutex around every call.
 */
#ifndef NSC_SRC_LOG_LIMIT_H
#define NSC_SRC_LOG_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSC_LOG_LIMIT_WINDOW_MS (60 * 1000)
#define NSC_LOG_LIMIT_SLOTS 32
#define NSC_LOG_LIMIT_NAME_MAX 48

/* A count to report: `count` lines like the first were not written. */
struct nsc_log_limit_summary {
	int level;
	unsigned long count;
	char comp[NSC_LOG_LIMIT_NAME_MAX];
	char event[NSC_LOG_LIMIT_NAME_MAX];
};

struct nsc_log_limit_slot {
	bool used;
	uint64_t key;
	int64_t window_start_ms;
	struct nsc_log_limit_summary s; /* count: suppressed in this window */
};

struct nsc_log_limit {
	struct nsc_log_limit_slot slot[NSC_LOG_LIMIT_SLOTS];
	size_t pending; /* slots whose count is not 0 */
};

/* The key of a line: a hash of its level, component and text. */
uint64_t nsc_log_limit_key(int level, const char *comp, const char *text, size_t len);

/*
 * Whether to write a line with this key now (true), or only count it.
 * `event` (may be NULL) names the line in a later summary. When the table
 * is full the least recent slot is reused; a count it held is handed back
 * in *evicted (evicted->count 0 when none).
 */
bool nsc_log_limit_admit(struct nsc_log_limit *l, uint64_t key, int level, const char *comp,
			 const char *event, size_t event_len, int64_t now_ms,
			 struct nsc_log_limit_summary *evicted);

/*
 * Counts whose window has ended by now_ms, to be written: up to `max` of
 * them into out; returns how many. A slot with a count starts a new window
 * (its lines still come); a slot without one is freed.
 */
size_t nsc_log_limit_due(struct nsc_log_limit *l, int64_t now_ms,
			 struct nsc_log_limit_summary *out, size_t max);

/* Every count still held, whatever its window (when the logger goes away). */
size_t nsc_log_limit_drain(struct nsc_log_limit *l, struct nsc_log_limit_summary *out, size_t max);

#endif
