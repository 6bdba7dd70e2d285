/* SPDX-License-Identifier: MIT */
/*
 * Fetching page after page until the vendor says it sent the last one,
 * without trusting it to ever say so, and handing the driver's transform
 * one document for the whole fetch.
 *
 * A fetch runs one or more parts (a collection the vendor pages through:
 * Glooko's readings, then its boluses). For each part the driver calls
 * nsc_paging_start(), then after each answer nsc_paging_page() with the
 * parsed page and the vendor's next-page cursor (NULL or "" on the last
 * page), and asks for nsc_paging_cursor() next while *more is true. The
 * pages pile up in one JSON object keyed by part:
 *
 *   {"readings": [page1, page2], "boluses": [page1]}
 *
 * which nsc_paging_finish() writes out as the fetch's payload.
 *
 * Two guards keep a vendor bug from looping for ever: more than
 * page_limit pages in a part is NSC_ERR_RANGE, and a cursor the part
 * already had is NSC_ERR_DROP (a vendor that answers page B with page A's
 * cursor would otherwise cycle until the limit). After an error the cursor
 * takes no more pages until the next start.
 *
 * Cursors are opaque text: a next-page URL, a token, an offset written out.
 *
 * Ownership & concurrency: the cursor owns the accumulated document and
 * its copies of the cursors; it belongs to the thread of the driver that
 * embeds it. `who` (the vendor's name for messages) and part names are
 * borrowed static strings.
 */
#ifndef NSC_SRC_SOURCES_KIT_PAGING_H
#define NSC_SRC_SOURCES_KIT_PAGING_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "error.h"
#include "source.h"

#define NSC_PAGING_MAX_PAGES 100 /* the largest page_limit a driver may ask for */

struct nsc_paging {
	const char *who;
	size_t page_limit;                 /* pages per part */
	struct json_object *doc;           /* {part: [pages...]}, NULL before the first page */
	const char *part;                  /* the part being paged, NULL before a start */
	struct json_object *pages;         /* doc[part], borrowed from doc */
	size_t count;                      /* pages of this part so far */
	char *seen[NSC_PAGING_MAX_PAGES];  /* the cursors this part gave, [0, count) */
	bool done;                         /* the vendor said this page was the last */
	bool failed;                       /* a guard tripped: no pages until the next start */
};

/* NSC_ERR_RANGE when page_limit is 0 or above NSC_PAGING_MAX_PAGES. */
nsc_rc nsc_paging_init(struct nsc_paging *p, const char *who, size_t page_limit);
/* Frees the document and the cursors; the paging can be initialised again. */
void nsc_paging_fini(struct nsc_paging *p);

/*
 * Begins paging `part` from its first page (a part started again adds to
 * its own list). NSC_ERR_NOMEM.
 */
nsc_rc nsc_paging_start(struct nsc_paging *p, const char *part, struct nsc_error *err);

/*
 * Adds page (ownership moves, freed on any failure) to the part's list
 * and reads the vendor's next cursor: *more is true when another page is
 * to be fetched with nsc_paging_cursor(). NSC_ERR_RANGE beyond page_limit
 * pages, NSC_ERR_DROP for a cursor seen before in this part (the page is
 * kept in both cases), NSC_ERR_STATE without a start or after an error,
 * NSC_ERR_NOMEM; err says which, for the vendor `who`.
 */
nsc_rc nsc_paging_page(struct nsc_paging *p, struct json_object *page, const char *next_cursor, bool *more,
		       struct nsc_error *err);

/* The cursor for the next page of the part, NULL for the first page or after the last. */
const char *nsc_paging_cursor(const struct nsc_paging *p);

/* Pages taken in the part being paged. */
size_t nsc_paging_count(const struct nsc_paging *p);

/* The document so far ({} when nothing was paged), still owned by p. NULL on NSC_ERR_NOMEM. */
struct json_object *nsc_paging_doc(struct nsc_paging *p);

/*
 * Writes the document into out (malloc'd, replacing what out held) as
 * the fetch's payload. NSC_ERR_NOMEM.
 */
nsc_rc nsc_paging_finish(struct nsc_paging *p, struct nsc_payload *out, struct nsc_error *err);

#endif
