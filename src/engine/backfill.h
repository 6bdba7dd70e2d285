/* SPDX-License-Identifier: MIT */
/*
 * A backfill: a past range read page by page, oldest first, each page
 * written before the next is fetched, so memory is one page whatever the
 * span. Pure: the plan (which pages, how far it got) and the move after
 * each page's frame; the bridge runs the frames (bridge.h, options
 * .backfill) and the command line keeps the progress on disk to resume.
 *
 * Pages come from the source's history (source.h): a vendor that keeps
 * everything is read in page_ms ranges from `since` to `until`; one that
 * serves only recent data (page_ms 0) is one fetch from the start of what
 * it keeps to now, `since` raised to that start and `until` to now.
 *
 * After a page's frame: OK moves on; DROP (the vendor's answer could not
 * be used) counts the page as skipped and moves on; RETRY and AUTH wait as
 * the cycle would after a failed poll (backoff, the vendor's hold-off) and
 * read the same page again, up to NSC_BACKFILL_FAILED_PAGES frames in a
 * row; REJECTED stops at once (one login attempt, the lockout guard), as
 * does FATAL. A stopped backfill resumes from `reached`.
 */
#ifndef NSC_ENGINE_BACKFILL_H
#define NSC_ENGINE_BACKFILL_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

/* Failed frames in a row on one page before the backfill gives up (run it again to resume). */
#define NSC_BACKFILL_FAILED_PAGES 5

struct nsc_backfill {
	int64_t since_ms;   /* as asked */
	int64_t until_ms;   /* as asked, or now */
	int64_t start_ms;   /* where reading starts: since, or the oldest the vendor keeps */
	int64_t end_ms;     /* where it ends: until, or now for a vendor of recent data only */
	int64_t page_ms;    /* 0: one page */
	int64_t pause_ms;   /* least wait between pages */
	int64_t reached_ms; /* everything in [start, reached] is written */
	unsigned pages_done, pages_skipped, failed_in_row;
	bool clamped;       /* since was older than the vendor keeps */
	bool whole;         /* a vendor of recent data only: one fetch to now */
};

/*
 * Plans [since, until] (until 0: now) for a source that keeps h. NSC_ERR_CONFIG
 * with err when the range is empty or in the future.
 */
nsc_rc nsc_backfill_plan(struct nsc_backfill *bf, const struct nsc_source_history *h, int64_t since_ms,
			 int64_t until_ms, int64_t now_ms, struct nsc_error *err);

/* Goes on from reached_ms (a stopped run's progress), when it lies inside the plan. */
void nsc_backfill_resume(struct nsc_backfill *bf, int64_t reached_ms);

/* The next page [*from (exclusive), *to]; false when everything is read. */
bool nsc_backfill_next_page(const struct nsc_backfill *bf, int64_t *from_ms, int64_t *to_ms);

/* What the backfill does after a page's frame. */
enum nsc_backfill_move {
	NSC_BACKFILL_NEXT,  /* the page is done (or skipped): the next one, after pause_ms */
	NSC_BACKFILL_AGAIN, /* the same page again, after the failure's wait */
	NSC_BACKFILL_STOP,  /* stopped: resume later */
	NSC_BACKFILL_DONE,  /* everything is read */
};
const char *nsc_backfill_move_name(enum nsc_backfill_move m);

/* Records how the page's frame ended (verdict v) and says what comes next. */
enum nsc_backfill_move nsc_backfill_after(struct nsc_backfill *bf, enum nsc_verdict v);

/* Share of the range read, 0..1. */
double nsc_backfill_fraction(const struct nsc_backfill *bf);

#endif
