/* SPDX-License-Identifier: MIT */
/* Paging until the vendor's last page, guarded (see paging.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "sources/kit/paging.h"

nsc_rc nsc_paging_init(struct nsc_paging *p, const char *who, size_t page_limit)
{
	memset(p, 0, sizeof(*p));
	p->who = who;
	if (page_limit == 0 || page_limit > NSC_PAGING_MAX_PAGES)
		return NSC_ERR_RANGE;
	p->page_limit = page_limit;
	return NSC_OK;
}

static void forget_cursors(struct nsc_paging *p)
{
	for (size_t i = 0; i < p->count; i++) {
		free(p->seen[i]);
		p->seen[i] = NULL;
	}
	p->count = 0;
	p->done = false;
	p->failed = false;
}

void nsc_paging_fini(struct nsc_paging *p)
{
	forget_cursors(p);
	json_object_put(p->doc);
	p->doc = NULL;
	p->part = NULL;
	p->pages = NULL;
}

struct json_object *nsc_paging_doc(struct nsc_paging *p)
{
	if (p->doc == NULL)
		p->doc = json_object_new_object();
	return p->doc;
}

nsc_rc nsc_paging_start(struct nsc_paging *p, const char *part, struct nsc_error *err)
{
	forget_cursors(p);
	p->part = NULL;
	p->pages = NULL;
	struct json_object *doc = nsc_paging_doc(p), *pages = NULL;
	if (doc == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory paging %s", p->who);
	if (!json_object_object_get_ex(doc, part, &pages)) {
		pages = json_object_new_array();
		if (nsc_json_add_child(doc, part, pages) != 0)
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory paging %s", p->who);
	}
	p->part = part;
	p->pages = pages;
	return NSC_OK;
}

static bool seen_before(const struct nsc_paging *p, const char *cursor)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->seen[i] != NULL && strcmp(p->seen[i], cursor) == 0)
			return true;
	return false;
}

nsc_rc nsc_paging_page(struct nsc_paging *p, struct json_object *page, const char *next_cursor, bool *more,
		       struct nsc_error *err)
{
	*more = false;
	if (p->pages == NULL || p->failed || p->done) {
		json_object_put(page);
		return nsc_error_set(err, NSC_ERR_STATE, "%s: a page arrived outside paging", p->who);
	}
	if (page == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "%s: a page arrived without its document", p->who);
	if (nsc_json_push(p->pages, page) != 0) {
		p->failed = true;
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory paging %s", p->who);
	}
	p->count++;
	if (next_cursor == NULL || next_cursor[0] == '\0') {
		p->done = true;
		return NSC_OK;
	}
	if (seen_before(p, next_cursor)) {
		p->failed = true;
		return nsc_error_set(err, NSC_ERR_DROP,
				     "%s sent a next-page cursor for %s that it had sent before, after %zu pages; "
				     "the answer is dropped so that a fault on its side cannot loop for ever",
				     p->who, p->part, p->count);
	}
	if (p->count >= p->page_limit) {
		p->failed = true;
		return nsc_error_set(err, NSC_ERR_RANGE,
				     "%s still had more pages of %s after %zu, the most one fetch takes; "
				     "the answer is dropped and the next fetch starts again",
				     p->who, p->part, p->count);
	}
	/* count <= page_limit <= NSC_PAGING_MAX_PAGES: seen[count - 1] is in bounds. */
	p->seen[p->count - 1] = strdup(next_cursor);
	if (p->seen[p->count - 1] == NULL) {
		p->failed = true;
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory paging %s", p->who);
	}
	*more = true;
	return NSC_OK;
}

const char *nsc_paging_cursor(const struct nsc_paging *p)
{
	if (p->count == 0 || p->done || p->failed)
		return NULL;
	return p->seen[p->count - 1];
}

size_t nsc_paging_count(const struct nsc_paging *p)
{
	return p->count;
}

nsc_rc nsc_paging_finish(struct nsc_paging *p, struct nsc_payload *out, struct nsc_error *err)
{
	struct json_object *doc = nsc_paging_doc(p);
	size_t len = 0;
	const char *text = doc ? json_object_to_json_string_length(doc, NSC_JSON_WIRE, &len) : NULL;
	char *copy = text ? malloc(len + 1) : NULL;
	if (copy == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory keeping the pages of %s", p->who);
	memcpy(copy, text, len + 1);
	nsc_payload_free(out);
	out->data = copy;
	out->len = len;
	return NSC_OK;
}
