/* SPDX-License-Identifier: MIT */
/* The backfill's plan and moves (see backfill.h). */
#include "config.h"

#include <string.h>

#include "engine/backfill.h"

nsc_rc nsc_backfill_plan(struct nsc_backfill *bf, const struct nsc_source_history *h, int64_t since_ms,
			 int64_t until_ms, int64_t now_ms, struct nsc_error *err)
{
	memset(bf, 0, sizeof(*bf));
	if (until_ms <= 0 || until_ms > now_ms)
		until_ms = now_ms;
	if (since_ms >= now_ms)
		return nsc_error_set(err, NSC_ERR_CONFIG, "backfill: --since is not in the past");
	if (since_ms >= until_ms)
		return nsc_error_set(err, NSC_ERR_CONFIG, "backfill: --since must be before --until");
	bf->since_ms = since_ms;
	bf->until_ms = until_ms;
	bf->start_ms = since_ms;
	bf->end_ms = until_ms;
	bf->page_ms = h->page_ms;
	bf->pause_ms = h->pause_ms > 0 ? h->pause_ms : 0;
	if (h->kept_ms > 0 && since_ms < now_ms - h->kept_ms) {
		bf->start_ms = now_ms - h->kept_ms;
		bf->clamped = true;
	}
	if (h->page_ms <= 0) {
		/* The vendor answers with its recent data, newest last: one fetch up to now. */
		bf->whole = true;
		bf->end_ms = now_ms;
	}
	if (bf->start_ms >= bf->end_ms)
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "backfill: the source keeps nothing in that range (only its last %lld hours)",
				     (long long)(h->kept_ms / (60 * 60 * 1000)));
	bf->reached_ms = bf->start_ms;
	return NSC_OK;
}

void nsc_backfill_resume(struct nsc_backfill *bf, int64_t reached_ms)
{
	if (reached_ms > bf->start_ms && reached_ms <= bf->end_ms && !bf->whole)
		bf->reached_ms = reached_ms;
}

bool nsc_backfill_next_page(const struct nsc_backfill *bf, int64_t *from_ms, int64_t *to_ms)
{
	if (bf->reached_ms >= bf->end_ms)
		return false;
	*from_ms = bf->reached_ms;
	int64_t to = bf->whole ? bf->end_ms : bf->reached_ms + bf->page_ms;
	*to_ms = to < bf->end_ms ? to : bf->end_ms;
	return true;
}

const char *nsc_backfill_move_name(enum nsc_backfill_move m)
{
	switch (m) {
	case NSC_BACKFILL_NEXT:
		return "next";
	case NSC_BACKFILL_AGAIN:
		return "again";
	case NSC_BACKFILL_STOP:
		return "stop";
	case NSC_BACKFILL_DONE:
		return "done";
	}
	return "?";
}

/* The page in flight is read (or skipped): move past it. */
static enum nsc_backfill_move page_passed(struct nsc_backfill *bf)
{
	int64_t from, to;
	bf->failed_in_row = 0;
	if (nsc_backfill_next_page(bf, &from, &to))
		bf->reached_ms = to;
	return bf->reached_ms >= bf->end_ms ? NSC_BACKFILL_DONE : NSC_BACKFILL_NEXT;
}

enum nsc_backfill_move nsc_backfill_after(struct nsc_backfill *bf, enum nsc_verdict v)
{
	switch (v) {
	case NSC_VERDICT_OK:
		bf->pages_done++;
		return page_passed(bf);
	case NSC_VERDICT_DROP:
		bf->pages_skipped++;
		return page_passed(bf);
	case NSC_VERDICT_RETRY:
	case NSC_VERDICT_AUTH:
		if (++bf->failed_in_row >= NSC_BACKFILL_FAILED_PAGES)
			return NSC_BACKFILL_STOP;
		return NSC_BACKFILL_AGAIN;
	case NSC_VERDICT_REJECTED:
	case NSC_VERDICT_FATAL:
		break;
	}
	return NSC_BACKFILL_STOP;
}

double nsc_backfill_fraction(const struct nsc_backfill *bf)
{
	int64_t span = bf->end_ms - bf->start_ms;
	if (span <= 0)
		return 1.0;
	double f = (double)(bf->reached_ms - bf->start_ms) / (double)span;
	return f < 0 ? 0 : f > 1 ? 1 : f;
}
