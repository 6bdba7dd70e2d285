/* SPDX-License-Identifier: MIT */
/*
 * The growable text the logger and its redactor build lines in (internal).
 * An allocation failure is sticky: later appends do nothing and finish
 * gives NULL, so a caller checks once, at the end. Zero-initialised it is
 * empty.
 */
#ifndef NSC_SRC_LOG_BUF_H
#define NSC_SRC_LOG_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct nsc_lbuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

/* Room for `extra` more bytes and a NUL; false once memory ran out. */
bool nsc_lbuf_reserve(struct nsc_lbuf *sb, size_t extra);
void nsc_lbuf_append(struct nsc_lbuf *sb, const char *s, size_t n);
void nsc_lbuf_putc(struct nsc_lbuf *sb, char c);
/* Returns the finished string (caller frees), or NULL after any allocation failure. */
char *nsc_lbuf_finish(struct nsc_lbuf *sb);

#endif
