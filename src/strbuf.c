/* SPDX-License-Identifier: MIT */
/* A growable text buffer (see strbuf.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

nsc_rc nsc_strbuf_append(struct nsc_strbuf *b, const char *s, size_t n)
{
	/* len stays below SIZE_MAX / 2, so doubling the capacity cannot overflow. */
	if (n > SIZE_MAX / 2 - b->len - 1)
		return NSC_ERR_NOMEM;
	size_t need = b->len + n + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < need)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return NSC_ERR_NOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return NSC_OK;
}

void nsc_strbuf_free(struct nsc_strbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
