/* SPDX-License-Identifier: MIT */
/*
 * The health board: each bridge's ("tenant's") status as the loop thread
 * last published it, the loop's heartbeat, a readiness flag and the
 * process-wide histogram of reading delays. The HTTP thread reads it
 * through the renderers (render.h).
 *
 * Memory: one struct nsc_health_tenant per tenant in one array, plus a
 * 4-byte index per tenant that keeps them sorted by name, so a put is a
 * binary search and an insert moves 4 bytes per later name, not a whole
 * struct: 10,000 tenants cost about 14 MB and stay cheap to update.
 *
 * Ownership & concurrency: every function takes the board's mutex, so
 * the loop thread and the HTTP thread may call them at the same time.
 * The board keeps copies; callers keep their structs.
 */
#ifndef NSC_HEALTH_BOARD_H
#define NSC_HEALTH_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "clock.h"
#include "error.h"

#define NSC_HEALTH_NAME_MAX 64
/* The loop counts as stalled when it has not ticked for longer than this. */
#define NSC_HEALTH_STALL_MS 30000

enum nsc_health_state {
	NSC_HEALTH_STARTING, /* configured, no poll finished yet */
	NSC_HEALTH_OK,       /* the last poll succeeded */
	NSC_HEALTH_FAILING,  /* polls fail and are retried */
	NSC_HEALTH_REJECTED, /* the vendor refused the login: the user must act */
	NSC_HEALTH_STOPPED,  /* stopped for good (fatal error or shut down) */
	NSC_HEALTH_INVALID,  /* its settings are invalid; never started */
};
#define NSC_HEALTH_STATE_COUNT (NSC_HEALTH_INVALID + 1)

/* "starting", "ok", "failing", "rejected", "stopped", "invalid"; "unknown" otherwise. */
const char *nsc_health_state_name(enum nsc_health_state s);

/* "retry", "auth", "rejected", "drop", "fatal" (the status and metrics names); "ok" for OK. */
const char *nsc_health_verdict_name(enum nsc_verdict v);

struct nsc_health_tenant {
	char name[NSC_HEALTH_NAME_MAX];
	enum nsc_health_state state;
	char source[24], output[16];          /* e.g. "dexcomshare", "mongo" ("" when unknown: invalid settings) */
	int64_t started_ms;                   /* wall ms; 0 = not started */
	int64_t last_attempt_ms, last_success_ms, newest_reading_ms, next_poll_ms; /* wall ms; 0 = none */
	unsigned consecutive_failures;
	uint64_t polls, logins, login_rejections;
	uint64_t stored[NSC_COLL_COUNT];      /* by enum nsc_collection */
	uint64_t failures[NSC_VERDICT_FATAL + 1]; /* by enum nsc_verdict; [NSC_VERDICT_OK] unused */
	char error_class[16];                 /* "" when no error; else nsc_verdict_name() of it, or "settings" */
	char last_error[NSC_ERROR_MSG_MAX];   /* plain words telling the user what to do; "" when none */
	uint64_t spool_bytes, spool_batches;
};

/*
 * The reading-delay histogram: upper bounds in ms (a delay falls in the
 * first bucket whose bound it does not exceed), then one bucket above
 * the last bound (+Inf).
 */
#define NSC_HEALTH_DELAY_BUCKETS 17
extern const int64_t nsc_health_delay_bounds_ms[NSC_HEALTH_DELAY_BUCKETS];
struct nsc_health_delays {
	uint64_t counts[NSC_HEALTH_DELAY_BUCKETS + 1]; /* per bucket, not cumulative */
	uint64_t count;
	int64_t sum_ms;
};

struct nsc_health_board;

/* clock NULL: the system clock. The clock must outlive the board. */
nsc_rc nsc_health_board_new(const struct nsc_clock *clock, struct nsc_health_board **out);
void nsc_health_board_free(struct nsc_health_board *b);

/*
 * Inserts t, or replaces the tenant of the same name. NSC_ERR_RANGE when
 * the name is empty or not terminated within NSC_HEALTH_NAME_MAX, or the
 * state is not one of the enum; NSC_ERR_NOMEM when the array cannot grow.
 * Other strings are cut at their last byte if unterminated.
 */
nsc_rc nsc_health_board_put(struct nsc_health_board *b, const struct nsc_health_tenant *t);
/* Removes the tenant of that name; nothing when there is none. */
void nsc_health_board_remove(struct nsc_health_board *b, const char *name);
/* Copies the tenant of that name into *out; false when there is none. */
bool nsc_health_board_get(struct nsc_health_board *b, const char *name, struct nsc_health_tenant *out);
size_t nsc_health_board_count(struct nsc_health_board *b);

void nsc_health_board_set_ready(struct nsc_health_board *b, bool ready);
/* The loop thread, about every second: the loop turned now (the board clock's monotonic time). */
void nsc_health_board_tick(struct nsc_health_board *b);
/*
 * One reading's delay from available at the vendor to stored, in ms.
 * A negative delay (the vendor's clock ahead of ours) counts as 0.
 */
void nsc_health_board_observe_delay(struct nsc_health_board *b, int64_t delay_ms);

/* The loop ticked within NSC_HEALTH_STALL_MS; creating the board counts as a tick. */
bool nsc_health_board_alive(struct nsc_health_board *b);
/* What nsc_health_board_set_ready() said last; false at first. */
bool nsc_health_board_ready(struct nsc_health_board *b);

/*
 * For the renderers: a consistent view of the board, valid between
 * nsc_health_board_lock() and nsc_health_board_unlock(). Nothing else may
 * be called on the board in between (the mutex is not recursive).
 */
struct nsc_health_view {
	const struct nsc_health_tenant *tenants; /* in no particular order */
	const uint32_t *order;                   /* indices into tenants, sorted by name */
	size_t count;
	bool alive, ready;
	int64_t now_wall_ms;     /* the board clock's wall time when locked */
	int64_t uptime_ms;       /* monotonic time since the board was created */
	int64_t created_wall_ms; /* wall time when the board was created */
	struct nsc_health_delays delays;
};

void nsc_health_board_lock(struct nsc_health_board *b, struct nsc_health_view *out);
void nsc_health_board_unlock(struct nsc_health_board *b);

/* The i-th tenant by name, i < v->count. */
static inline const struct nsc_health_tenant *nsc_health_view_at(const struct nsc_health_view *v,
								 size_t i)
{
	return &v->tenants[v->order[i]];
}

#endif
