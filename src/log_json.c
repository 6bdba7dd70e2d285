/* SPDX-License-Identifier: MIT */
/* key=value log lines as JSON objects (see log_json.h). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log_buf.h"
#include "log_json.h"

#define TRUNCATED_MARK " [truncated]"

/* s[0..n) as a JSON string body: quotes, backslashes and control bytes escaped. */
static void put_json_text(struct nsc_lbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			nsc_lbuf_putc(b, '\\');
			nsc_lbuf_putc(b, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			char esc[8];
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			nsc_lbuf_append(b, esc, 6);
		} else {
			nsc_lbuf_putc(b, (char)c);
		}
	}
}

/* A quoted value starting after its opening quote: unescaped into b; returns the index after the closing quote. */
static size_t put_quoted(struct nsc_lbuf *b, const char *s, size_t i, size_t n)
{
	while (i < n && s[i] != '"') {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
			i++;
		put_json_text(b, s + i, 1);
		i++;
	}
	return i < n ? i + 1 : i;
}

char *nsc_log_line_json(const char *line, size_t len, size_t *out_len)
{
	struct nsc_lbuf b = { 0 };
	size_t ml = sizeof(TRUNCATED_MARK) - 1;
	bool truncated = len >= ml && memcmp(line + len - ml, TRUNCATED_MARK, ml) == 0;
	if (truncated)
		len -= ml;
	bool first = true;

	nsc_lbuf_reserve(&b, len + 32);
	nsc_lbuf_putc(&b, '{');
	for (size_t i = 0; i < len;) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		size_t key = i;
		while (i < len && line[i] != '=' && line[i] != ' ')
			i++;
		if (!first)
			nsc_lbuf_putc(&b, ',');
		first = false;
		nsc_lbuf_putc(&b, '"');
		if (i >= len || line[i] == ' ') {
			/* A bare word: kept as text. */
			nsc_lbuf_append(&b, "text\":\"", 7);
			put_json_text(&b, line + key, i - key);
			nsc_lbuf_putc(&b, '"');
			continue;
		}
		put_json_text(&b, line + key, i - key);
		nsc_lbuf_append(&b, "\":\"", 3);
		i++; /* '=' */
		if (i < len && line[i] == '"') {
			i = put_quoted(&b, line, i + 1, len);
		} else {
			size_t v = i;
			while (i < len && line[i] != ' ')
				i++;
			put_json_text(&b, line + v, i - v);
		}
		nsc_lbuf_putc(&b, '"');
	}
	if (truncated)
		nsc_lbuf_append(&b, first ? "\"truncated\":true" : ",\"truncated\":true", first ? 16 : 17);
	nsc_lbuf_putc(&b, '}');
	nsc_lbuf_reserve(&b, 1); /* room for the stderr sink's newline */
	size_t n = b.len;
	char *out = nsc_lbuf_finish(&b);
	if (out && out_len)
		*out_len = n;
	return out;
}
