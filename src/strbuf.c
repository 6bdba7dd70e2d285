/* SPDX-License-Identifier: MIT */
/* A growable text buffer (see strbuf.h). */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* Makes room for n more bytes and the NUL. */
static nsc_rc reserve(struct nsc_strbuf *b, size_t n)
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
	return NSC_OK;
}

nsc_rc nsc_strbuf_append(struct nsc_strbuf *b, const char *s, size_t n)
{
	if (reserve(b, n) != NSC_OK)
		return NSC_ERR_NOMEM;
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return NSC_OK;
}

nsc_rc nsc_strbuf_vappendf(struct nsc_strbuf *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	nsc_rc rc = n < 0 ? NSC_ERR_NOMEM : reserve(b, (size_t)n);
	if (rc == NSC_OK) {
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
	return rc;
}

nsc_rc nsc_strbuf_appendf(struct nsc_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	nsc_rc rc = nsc_strbuf_vappendf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void nsc_strbuf_free(struct nsc_strbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
