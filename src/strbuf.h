/* SPDX-License-Identifier: MIT */
/*
 * A growable text buffer: appends keep it NUL-terminated, sizes are
 * checked for overflow. Zero-initialised it is empty and needs no setup.
 */
#ifndef NSC_SRC_STRBUF_H
#define NSC_SRC_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"

struct nsc_strbuf {
	char *p;      /* NULL until the first append */
	size_t len;   /* bytes held, without the terminating NUL */
	size_t cap;   /* bytes allocated */
};

/* Appends n bytes of s; NSC_ERR_NOMEM (buffer unchanged) when memory or size runs out. */
nsc_rc nsc_strbuf_append(struct nsc_strbuf *b, const char *s, size_t n);
/* Appends printf-formatted text; NSC_ERR_NOMEM (buffer unchanged) as above. */
nsc_rc nsc_strbuf_appendf(struct nsc_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
nsc_rc nsc_strbuf_vappendf(struct nsc_strbuf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Frees the text and leaves the buffer empty and reusable. */
void nsc_strbuf_free(struct nsc_strbuf *b);

#endif
