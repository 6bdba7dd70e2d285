/* SPDX-License-Identifier: MIT */
/*
 * The text the health renderers build: a growable buffer (strbuf.h) that
 * remembers running out of memory, so a renderer writes everything and
 * checks once at the end, plus the two ways a string is quoted there.
 *
 * Both quotings keep valid UTF-8 as it is and write U+FFFD for each byte
 * that is not part of a valid sequence, so the output is always valid
 * UTF-8 whatever a tenant name or vendor error message held.
 */
#ifndef NSC_HEALTH_TEXT_H
#define NSC_HEALTH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct nsc_health_text {
	struct nsc_strbuf buf;
	bool nomem; /* an append failed; later ones do nothing */
};

void nsc_health_text_printf(struct nsc_health_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s as a JSON string, in quotes: `"`, `\` and control characters escaped. */
void nsc_health_text_json(struct nsc_health_text *t, const char *s);
/*
 * s as a Prometheus label value, in quotes: `\`, `"` and newline become
 * `\\`, `\"` and `\n`, as the text exposition format wants.
 */
void nsc_health_text_label(struct nsc_health_text *t, const char *s);
/*
 * Epoch or duration milliseconds as decimal seconds, exactly: 1500 ->
 * "1.5", 60000 -> "60", -250 -> "-0.25".
 */
void nsc_health_text_seconds(struct nsc_health_text *t, int64_t ms);
/*
 * The text (malloc'd, NUL-terminated) and its length; NULL when memory
 * ran out on the way (then everything is freed).
 */
char *nsc_health_text_finish(struct nsc_health_text *t, size_t *len);

#endif
