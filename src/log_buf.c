/* SPDX-License-Identifier: MIT */
/* The logger's growable text (log_buf.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_buf.h"

bool nsc_lbuf_reserve(struct nsc_lbuf *sb, size_t extra)
{
	size_t need, cap;
	char *np;

	if (sb->oom)
		return false;
	if (extra > SIZE_MAX - sb->len - 1) {
		sb->oom = true;
		return false;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 128;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	np = realloc(sb->p, cap);
	if (!np) {
		sb->oom = true;
		return false;
	}
	sb->p = np;
	sb->cap = cap;
	return true;
}

void nsc_lbuf_append(struct nsc_lbuf *sb, const char *s, size_t n)
{
	if (!nsc_lbuf_reserve(sb, n))
		return;
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

void nsc_lbuf_putc(struct nsc_lbuf *sb, char c)
{
	nsc_lbuf_append(sb, &c, 1);
}

char *nsc_lbuf_finish(struct nsc_lbuf *sb)
{
	if (!sb->oom && !sb->p)
		nsc_lbuf_reserve(sb, 0);
	if (sb->oom) {
		free(sb->p);
		sb->p = NULL;
		return NULL;
	}
	sb->p[sb->len] = '\0';
	return sb->p;
}
