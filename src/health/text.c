/* SPDX-License-Identifier: MIT */
/* Text for the health renderers: sticky out-of-memory, quoting (see text.h). */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "health/text.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

static void put(struct nsc_health_text *t, const char *s, size_t n)
{
	if (!t->nomem && nsc_strbuf_append(&t->buf, s, n) != NSC_OK)
		t->nomem = true;
}

void nsc_health_text_printf(struct nsc_health_text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->nomem)
		return;
	va_start(ap, fmt);
	if (nsc_strbuf_vappendf(&t->buf, fmt, ap) != NSC_OK)
		t->nomem = true;
	va_end(ap);
}

/* The length of the valid UTF-8 sequence at p (RFC 3629), 0 when p starts none. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		lo = c == 0xE0 ? 0xA0 : lo; /* no overlong forms */
		hi = c == 0xED ? 0x9F : hi; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		lo = c == 0xF0 ? 0x90 : lo;
		hi = c == 0xF4 ? 0x8F : hi; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0; /* also stops at the terminating NUL */
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* The escape for ASCII byte c in one syntax, or NULL when it stands as it is. */
typedef const char *(*escape_fn)(unsigned char c, char tmp[8]);

static void quote(struct nsc_health_text *t, const char *s, escape_fn escape)
{
	const unsigned char *p = (const unsigned char *)s;
	char tmp[8];

	put(t, "\"", 1);
	while (*p) {
		const unsigned char *run = p;
		size_t n;
		const char *e = NULL;
		/* Bytes that stand as they are go out in one piece. */
		while (*p && (n = utf8_seq(p)) > 0 && (n > 1 || !(e = escape(*p, tmp))))
			p += n;
		put(t, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		if (e) {
			put(t, e, strlen(e));
			p++;
		} else {
			/* Not valid UTF-8: one replacement character per byte. */
			put(t, REPLACEMENT, sizeof(REPLACEMENT) - 1);
			p++;
		}
	}
	put(t, "\"", 1);
}

/* `"`, `\` and newline, escaped alike in label values and in JSON. */
static const char *label_escape(unsigned char c, char tmp[8])
{
	(void)tmp;
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	default:
		return NULL;
	}
}

static const char *json_escape(unsigned char c, char tmp[8])
{
	const char *e = label_escape(c, tmp);

	if (e)
		return e;
	if (c == '\r')
		return "\\r";
	if (c == '\t')
		return "\\t";
	if (c >= 0x20 && c != 0x7F)
		return NULL;
	snprintf(tmp, 8, "\\u%04x", c);
	return tmp;
}

void nsc_health_text_json(struct nsc_health_text *t, const char *s)
{
	quote(t, s, json_escape);
}

void nsc_health_text_label(struct nsc_health_text *t, const char *s)
{
	quote(t, s, label_escape);
}

void nsc_health_text_seconds(struct nsc_health_text *t, int64_t ms)
{
	/* Unsigned magnitude: -INT64_MIN does not fit an int64_t. */
	uint64_t mag = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	unsigned frac = (unsigned)(mag % 1000);
	char digits[4];
	int n = 3;

	if (frac == 0) {
		nsc_health_text_printf(t, "%s%" PRIu64, ms < 0 ? "-" : "", mag / 1000);
		return;
	}
	snprintf(digits, sizeof(digits), "%03u", frac);
	while (digits[n - 1] == '0')
		n--;
	nsc_health_text_printf(t, "%s%" PRIu64 ".%.*s", ms < 0 ? "-" : "", mag / 1000, n, digits);
}

char *nsc_health_text_finish(struct nsc_health_text *t, size_t *len)
{
	put(t, "", 0); /* an empty text still gets its NUL */
	if (t->nomem) {
		nsc_strbuf_free(&t->buf);
		return NULL;
	}
	char *text = t->buf.p;
	*len = t->buf.len;
	t->buf.p = NULL;
	t->buf.len = t->buf.cap = 0;
	return text;
}
