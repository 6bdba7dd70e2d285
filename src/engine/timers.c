/* SPDX-License-Identifier: MIT */
/* Binary min-heap of timers (see timers.h). */
#include "config.h"

#include <stdlib.h>

#include "engine/timers.h"

static bool earlier(const struct nsc_timer *a, const struct nsc_timer *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	return a->id < b->id;
}

static void swap(struct nsc_timer *a, struct nsc_timer *b)
{
	struct nsc_timer tmp = *a;
	*a = *b;
	*b = tmp;
}

static void sift_up(struct nsc_timers *t, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!earlier(&t->heap[i], &t->heap[parent]))
			break;
		swap(&t->heap[i], &t->heap[parent]);
		i = parent;
	}
}

static void sift_down(struct nsc_timers *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->len && earlier(&t->heap[l], &t->heap[m]))
			m = l;
		if (r < t->len && earlier(&t->heap[r], &t->heap[m]))
			m = r;
		if (m == i)
			return;
		swap(&t->heap[i], &t->heap[m]);
		i = m;
	}
}

void nsc_timers_init(struct nsc_timers *t)
{
	t->heap = NULL;
	t->len = t->cap = 0;
	t->next_id = 1;
}

void nsc_timers_free(struct nsc_timers *t)
{
	free(t->heap);
	nsc_timers_init(t);
}

nsc_rc nsc_timers_add(struct nsc_timers *t, int64_t due, nsc_timer_fn fn, void *arg, uint64_t *id)
{
	if (t->len == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct nsc_timer *nh = realloc(t->heap, ncap * sizeof(*nh));
		if (!nh)
			return NSC_ERR_NOMEM;
		t->heap = nh;
		t->cap = ncap;
	}
	struct nsc_timer *e = &t->heap[t->len];
	e->due = due;
	e->id = t->next_id++;
	e->fn = fn;
	e->arg = arg;
	if (id)
		*id = e->id;
	sift_up(t, t->len++);
	return NSC_OK;
}

static void remove_at(struct nsc_timers *t, size_t i)
{
	t->len--;
	if (i == t->len)
		return;
	t->heap[i] = t->heap[t->len];
	sift_down(t, i);
	sift_up(t, i);
}

bool nsc_timers_cancel(struct nsc_timers *t, uint64_t id)
{
	if (id == 0)
		return false;
	/* Linear: a bridge holds a handful of timers. */
	for (size_t i = 0; i < t->len; i++) {
		if (t->heap[i].id == id) {
			remove_at(t, i);
			return true;
		}
	}
	return false;
}

bool nsc_timers_next_due(const struct nsc_timers *t, int64_t *due)
{
	if (t->len == 0)
		return false;
	*due = t->heap[0].due;
	return true;
}

bool nsc_timers_pop_due(struct nsc_timers *t, int64_t now, struct nsc_timer *out)
{
	if (t->len == 0 || t->heap[0].due > now)
		return false;
	*out = t->heap[0];
	remove_at(t, 0);
	return true;
}
