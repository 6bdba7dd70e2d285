/* SPDX-License-Identifier: MIT */
/* Rate limit for repeated warnings and errors (see log_limit.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log_limit.h"

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

static uint64_t fnv_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

uint64_t nsc_log_limit_key(int level, const char *comp, const char *text, size_t len)
{
	uint64_t h = fnv_byte(FNV_OFFSET, (unsigned char)level);
	for (const char *p = comp ? comp : ""; *p; p++)
		h = fnv_byte(h, (unsigned char)*p);
	h = fnv_byte(h, 0);
	for (size_t i = 0; i < len; i++)
		h = fnv_byte(h, (unsigned char)text[i]);
	return h;
}

static void copy_name(char dst[NSC_LOG_LIMIT_NAME_MAX], const char *src, size_t len)
{
	if (!src) {
		src = "";
		len = 0;
	}
	if (len >= NSC_LOG_LIMIT_NAME_MAX)
		len = NSC_LOG_LIMIT_NAME_MAX - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void take_count(struct nsc_log_limit *l, struct nsc_log_limit_slot *s,
		       struct nsc_log_limit_summary *out)
{
	*out = s->s;
	if (s->s.count > 0)
		l->pending--;
	s->s.count = 0;
}

bool nsc_log_limit_admit(struct nsc_log_limit *l, uint64_t key, int level, const char *comp,
			 const char *event, size_t event_len, int64_t now_ms,
			 struct nsc_log_limit_summary *evicted)
{
	struct nsc_log_limit_slot *free_slot = NULL, *oldest = NULL;
	evicted->count = 0;
	for (size_t i = 0; i < NSC_LOG_LIMIT_SLOTS; i++) {
		struct nsc_log_limit_slot *s = &l->slot[i];
		if (!s->used) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (s->key == key) {
			if (now_ms - s->window_start_ms < NSC_LOG_LIMIT_WINDOW_MS) {
				if (s->s.count++ == 0)
					l->pending++;
				return false;
			}
			/* Quiet for a whole window: this one is news again. */
			take_count(l, s, evicted);
			s->window_start_ms = now_ms;
			return true;
		}
		if (!oldest || s->window_start_ms < oldest->window_start_ms)
			oldest = s;
	}
	struct nsc_log_limit_slot *s = free_slot ? free_slot : oldest;
	if (!free_slot)
		take_count(l, s, evicted);
	s->used = true;
	s->key = key;
	s->window_start_ms = now_ms;
	s->s.level = level;
	s->s.count = 0;
	copy_name(s->s.comp, comp, comp ? strlen(comp) : 0);
	copy_name(s->s.event, event, event_len);
	return true;
}

size_t nsc_log_limit_due(struct nsc_log_limit *l, int64_t now_ms,
			 struct nsc_log_limit_summary *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < NSC_LOG_LIMIT_SLOTS && n < max; i++) {
		struct nsc_log_limit_slot *s = &l->slot[i];
		if (!s->used || now_ms - s->window_start_ms < NSC_LOG_LIMIT_WINDOW_MS)
			continue;
		if (s->s.count == 0) {
			s->used = false; /* quiet for a window: forget it */
			continue;
		}
		take_count(l, s, &out[n++]);
		/* Still repeating: the next count covers the next window. */
		s->window_start_ms = now_ms;
	}
	return n;
}

size_t nsc_log_limit_drain(struct nsc_log_limit *l, struct nsc_log_limit_summary *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < NSC_LOG_LIMIT_SLOTS && n < max; i++) {
		struct nsc_log_limit_slot *s = &l->slot[i];
		if (s->used && s->s.count > 0)
			take_count(l, s, &out[n++]);
	}
	return n;
}
