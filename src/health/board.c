/* SPDX-License-Identifier: MIT */
/* The health board: tenants sorted by name, heartbeat, readiness, delays (see board.h). */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "health/board.h"

/* Sized for 10,000 tenants without a pointer per tenant; uint32_t indices. */
#define MAX_TENANTS UINT32_MAX
#define FIRST_CAP 16

const int64_t nsc_health_delay_bounds_ms[NSC_HEALTH_DELAY_BUCKETS] = {
	500,   1000,  2000,  3000,   5000,   7500,   10000,  15000, 20000,
	30000, 45000, 60000, 90000, 120000, 180000, 300000, 600000,
};

struct nsc_health_board {
	pthread_mutex_t mu;
	struct nsc_clock clock;
	struct nsc_health_tenant *tenants; /* [0, count) in use, holes filled from the end */
	uint32_t *order;                   /* [0, count): indices into tenants, sorted by name */
	size_t count, cap;
	bool ready;
	int64_t last_tick_mono, created_mono, created_wall;
	struct nsc_health_delays delays;
};

const char *nsc_health_state_name(enum nsc_health_state s)
{
	static const char *const names[NSC_HEALTH_STATE_COUNT] = {
		[NSC_HEALTH_STARTING] = "starting", [NSC_HEALTH_OK] = "ok",
		[NSC_HEALTH_FAILING] = "failing",   [NSC_HEALTH_REJECTED] = "rejected",
		[NSC_HEALTH_STOPPED] = "stopped",   [NSC_HEALTH_INVALID] = "invalid",
	};
	if ((unsigned)s >= NSC_HEALTH_STATE_COUNT)
		return "unknown";
	return names[s];
}

const char *nsc_health_verdict_name(enum nsc_verdict v)
{
	static const char *const names[] = {
		[NSC_VERDICT_OK] = "ok",     [NSC_VERDICT_RETRY] = "retry",
		[NSC_VERDICT_AUTH] = "auth", [NSC_VERDICT_REJECTED] = "rejected",
		[NSC_VERDICT_DROP] = "drop", [NSC_VERDICT_FATAL] = "fatal",
	};
	if ((unsigned)v >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[v];
}

nsc_rc nsc_health_board_new(const struct nsc_clock *clock, struct nsc_health_board **out)
{
	struct nsc_health_board *b = calloc(1, sizeof(*b));
	if (!b)
		return NSC_ERR_NOMEM;
	if (pthread_mutex_init(&b->mu, NULL) != 0) {
		free(b);
		return NSC_ERR_NOMEM;
	}
	b->clock = clock ? *clock : nsc_clock_system;
	b->created_mono = b->last_tick_mono = nsc_clock_mono(&b->clock);
	b->created_wall = nsc_clock_wall(&b->clock);
	*out = b;
	return NSC_OK;
}

void nsc_health_board_free(struct nsc_health_board *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->mu);
	free(b->tenants);
	free(b->order);
	free(b);
}

/* The first position in order whose name is not below `name`; *found when it equals. */
static size_t lower_bound(const struct nsc_health_board *b, const char *name, bool *found)
{
	size_t lo = 0, hi = b->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(b->tenants[b->order[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < b->count && strcmp(b->tenants[b->order[lo]].name, name) == 0;
	return lo;
}

/* Both arrays to hold `cap` tenants; the board is unchanged when that fails. */
static nsc_rc resize(struct nsc_health_board *b, size_t cap)
{
	struct nsc_health_tenant *t = realloc(b->tenants, cap * sizeof(*t));
	if (!t)
		return NSC_ERR_NOMEM;
	b->tenants = t;
	uint32_t *o = realloc(b->order, cap * sizeof(*o));
	if (!o)
		return NSC_ERR_NOMEM; /* tenants merely holds more room than cap says */
	b->order = o;
	b->cap = cap;
	return NSC_OK;
}

static nsc_rc grow(struct nsc_health_board *b)
{
	if (b->count < b->cap)
		return NSC_OK;
	if (b->cap >= MAX_TENANTS || b->cap > SIZE_MAX / 2 / sizeof(struct nsc_health_tenant))
		return NSC_ERR_NOMEM;
	/* By half, not double: at 10,000 tenants a doubling would hold 13 MB spare. */
	size_t cap = b->cap ? b->cap + b->cap / 2 : FIRST_CAP;
	if (cap > MAX_TENANTS)
		cap = MAX_TENANTS;
	return resize(b, cap);
}

#define TERMINATE(field) ((field)[sizeof(field) - 1] = '\0')

nsc_rc nsc_health_board_put(struct nsc_health_board *b, const struct nsc_health_tenant *t)
{
	if (t->name[0] == '\0' || !memchr(t->name, '\0', sizeof(t->name)) ||
	    (unsigned)t->state >= NSC_HEALTH_STATE_COUNT)
		return NSC_ERR_RANGE;

	nsc_rc rc = NSC_OK;
	bool found;
	pthread_mutex_lock(&b->mu);
	size_t pos = lower_bound(b, t->name, &found);
	struct nsc_health_tenant *slot = NULL;
	if (found) {
		slot = &b->tenants[b->order[pos]];
	} else if ((rc = grow(b)) == NSC_OK) {
		memmove(&b->order[pos + 1], &b->order[pos], (b->count - pos) * sizeof(b->order[0]));
		b->order[pos] = (uint32_t)b->count;
		slot = &b->tenants[b->count++];
	}
	if (slot) {
		*slot = *t;
		TERMINATE(slot->source);
		TERMINATE(slot->output);
		TERMINATE(slot->error_class);
		TERMINATE(slot->last_error);
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

void nsc_health_board_remove(struct nsc_health_board *b, const char *name)
{
	bool found;
	pthread_mutex_lock(&b->mu);
	size_t pos = lower_bound(b, name, &found);
	if (found) {
		uint32_t hole = b->order[pos];
		memmove(&b->order[pos], &b->order[pos + 1], (b->count - pos - 1) * sizeof(b->order[0]));
		b->count--;
		if (hole != b->count) {
			/* The last struct moves into the hole; its index entry follows it. */
			b->tenants[hole] = b->tenants[b->count];
			size_t moved = lower_bound(b, b->tenants[hole].name, &found);
			b->order[moved] = hole;
		}
		if (b->cap > FIRST_CAP && b->count < b->cap / 4)
			(void)resize(b, b->cap / 2); /* giving memory back is optional */
	}
	pthread_mutex_unlock(&b->mu);
}

bool nsc_health_board_get(struct nsc_health_board *b, const char *name, struct nsc_health_tenant *out)
{
	bool found;
	pthread_mutex_lock(&b->mu);
	size_t pos = lower_bound(b, name, &found);
	if (found)
		*out = b->tenants[b->order[pos]];
	pthread_mutex_unlock(&b->mu);
	return found;
}

size_t nsc_health_board_count(struct nsc_health_board *b)
{
	pthread_mutex_lock(&b->mu);
	size_t n = b->count;
	pthread_mutex_unlock(&b->mu);
	return n;
}

void nsc_health_board_set_ready(struct nsc_health_board *b, bool ready)
{
	pthread_mutex_lock(&b->mu);
	b->ready = ready;
	pthread_mutex_unlock(&b->mu);
}

void nsc_health_board_tick(struct nsc_health_board *b)
{
	pthread_mutex_lock(&b->mu);
	b->last_tick_mono = nsc_clock_mono(&b->clock);
	pthread_mutex_unlock(&b->mu);
}

void nsc_health_board_observe_delay(struct nsc_health_board *b, int64_t delay_ms)
{
	if (delay_ms < 0)
		delay_ms = 0;
	size_t i = 0;
	while (i < NSC_HEALTH_DELAY_BUCKETS && delay_ms > nsc_health_delay_bounds_ms[i])
		i++;
	pthread_mutex_lock(&b->mu);
	b->delays.counts[i]++;
	b->delays.count++;
	if (b->delays.sum_ms <= INT64_MAX - delay_ms)
		b->delays.sum_ms += delay_ms;
	pthread_mutex_unlock(&b->mu);
}

/* Caller holds the mutex. */
static bool alive_locked(const struct nsc_health_board *b)
{
	return nsc_clock_mono(&b->clock) - b->last_tick_mono <= NSC_HEALTH_STALL_MS;
}

bool nsc_health_board_alive(struct nsc_health_board *b)
{
	pthread_mutex_lock(&b->mu);
	bool alive = alive_locked(b);
	pthread_mutex_unlock(&b->mu);
	return alive;
}

bool nsc_health_board_ready(struct nsc_health_board *b)
{
	pthread_mutex_lock(&b->mu);
	bool ready = b->ready;
	pthread_mutex_unlock(&b->mu);
	return ready;
}

void nsc_health_board_lock(struct nsc_health_board *b, struct nsc_health_view *out)
{
	pthread_mutex_lock(&b->mu);
	out->tenants = b->tenants;
	out->order = b->order;
	out->count = b->count;
	out->alive = alive_locked(b);
	out->ready = b->ready;
	out->now_wall_ms = nsc_clock_wall(&b->clock);
	out->uptime_ms = nsc_clock_mono(&b->clock) - b->created_mono;
	out->created_wall_ms = b->created_wall;
	out->delays = b->delays;
}

void nsc_health_board_unlock(struct nsc_health_board *b)
{
	pthread_mutex_unlock(&b->mu);
}
