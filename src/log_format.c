/* SPDX-License-Identifier: MIT */
/*
 * Formats a log line's body so that it stays `key=value` whatever the
 * values hold: a %s inside a quoted value of the format (`msg="%s"`) has
 * its `"` and `\` escaped, so a vendor message that quotes something
 * cannot end the value early. See log_format.h.
 *
 * The format is walked conversion by conversion (C11 7.21.6.1): each
 * argument is taken with the type its length modifier names and formatted
 * on its own with the same specification. A conversion this walker does
 * not know (%n, %ls) falls back to plain vsnprintf of the whole format.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_format.h"
#include "secret.h"

enum len_mod { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T, LEN_BIG_L };

struct out {
	char *p;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - 1 - o->len)
		n = o->cap - 1 - o->len; /* cannot happen: cap is twice the plain length */
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put_escaped(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			put(o, "\\", 1);
		put(o, s + i, 1);
	}
}

/* Appends the digits of v to the spec being rebuilt. */
static void spec_int(char *spec, size_t size, size_t *n, int v)
{
	int w = snprintf(spec + *n, size - *n, "%d", v);
	if (w > 0 && (size_t)w < size - *n)
		*n += (size_t)w;
}

/*
 * Formats one conversion (spec is a complete "%...c" without '*') into o,
 * escaped when `quoted`. false when it cannot be formatted.
 */
#define FORMAT_ONE(o, spec, quoted, type, expr)                                         \
	do {                                                                            \
		type value_ = (expr); /* va_arg once */                                  \
		char small_[256];                                                       \
		int n_ = snprintf(small_, sizeof(small_), (spec), value_);              \
		if (n_ < 0)                                                             \
			return false;                                                   \
		char *text_ = small_;                                                   \
		if ((size_t)n_ >= sizeof(small_)) {                                     \
			text_ = malloc((size_t)n_ + 1);                                 \
			if (!text_)                                                     \
				return false;                                           \
			snprintf(text_, (size_t)n_ + 1, (spec), value_);                \
		}                                                                       \
		if (quoted)                                                             \
			put_escaped((o), text_, (size_t)n_);                            \
		else                                                                    \
			put((o), text_, (size_t)n_);                                    \
		nsc_secret_wipe(text_, (size_t)n_); /* a value may be a secret */       \
		if (text_ != small_)                                                    \
			free(text_);                                                    \
	} while (0)

static bool format_walk(struct out *o, const char *fmt, va_list ap)
{
	bool quoted = false; /* inside a `"..."` of the format itself */
	const char *p = fmt;

	while (*p) {
		if (*p != '%') {
			if (*p == '"')
				quoted = !quoted;
			put(o, p++, 1);
			continue;
		}
		if (p[1] == '%') {
			put(o, "%", 1);
			p += 2;
			continue;
		}
		char spec[48];
		size_t n = 0;
		spec[n++] = *p++;
		while (*p && strchr("-+ #0", *p) && n < 16)
			spec[n++] = *p++;
		if (*p == '*') {
			spec_int(spec, sizeof(spec), &n, va_arg(ap, int));
			p++;
		} else {
			while (*p >= '0' && *p <= '9' && n < 24)
				spec[n++] = *p++;
		}
		if (*p == '.') {
			p++;
			int prec = -1;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else {
				prec = 0;
				while (*p >= '0' && *p <= '9') {
					if (prec < 100000)
						prec = prec * 10 + (*p - '0');
					p++;
				}
			}
			if (prec >= 0) { /* a negative precision counts as none */
				spec[n++] = '.';
				spec_int(spec, sizeof(spec), &n, prec);
			}
		}
		enum len_mod len = LEN_NONE;
		static const struct {
			const char *text;
			enum len_mod len;
		} mods[] = { { "hh", LEN_HH }, { "ll", LEN_LL }, { "h", LEN_H }, { "l", LEN_L },
			     { "z", LEN_Z },   { "j", LEN_J },   { "t", LEN_T }, { "L", LEN_BIG_L } };
		for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
			size_t ml = strlen(mods[i].text);
			if (strncmp(p, mods[i].text, ml) == 0) {
				len = mods[i].len;
				memcpy(spec + n, p, ml);
				n += ml;
				p += ml;
				break;
			}
		}
		char conv = *p;
		if (!conv || n > sizeof(spec) - 2)
			return false;
		spec[n++] = conv;
		spec[n] = '\0';
		p++;
		switch (conv) {
		case 'd':
		case 'i':
			switch (len) {
			case LEN_L: FORMAT_ONE(o, spec, false, long, va_arg(ap, long)); break;
			case LEN_LL: FORMAT_ONE(o, spec, false, long long, va_arg(ap, long long)); break;
			case LEN_Z: FORMAT_ONE(o, spec, false, ptrdiff_t, va_arg(ap, ptrdiff_t)); break;
			case LEN_J: FORMAT_ONE(o, spec, false, intmax_t, va_arg(ap, intmax_t)); break;
			case LEN_T: FORMAT_ONE(o, spec, false, ptrdiff_t, va_arg(ap, ptrdiff_t)); break;
			case LEN_BIG_L: return false;
			default: FORMAT_ONE(o, spec, false, int, va_arg(ap, int)); break;
			}
			break;
		case 'o':
		case 'u':
		case 'x':
		case 'X':
			switch (len) {
			case LEN_L: FORMAT_ONE(o, spec, false, unsigned long, va_arg(ap, unsigned long)); break;
			case LEN_LL: FORMAT_ONE(o, spec, false, unsigned long long, va_arg(ap, unsigned long long)); break;
			case LEN_Z: FORMAT_ONE(o, spec, false, size_t, va_arg(ap, size_t)); break;
			case LEN_J: FORMAT_ONE(o, spec, false, uintmax_t, va_arg(ap, uintmax_t)); break;
			case LEN_T: FORMAT_ONE(o, spec, false, ptrdiff_t, va_arg(ap, ptrdiff_t)); break;
			case LEN_BIG_L: return false;
			default: FORMAT_ONE(o, spec, false, unsigned int, va_arg(ap, unsigned int)); break;
			}
			break;
		case 'c':
			if (len != LEN_NONE)
				return false;
			FORMAT_ONE(o, spec, quoted, int, va_arg(ap, int));
			break;
		case 's':
			if (len != LEN_NONE)
				return false;
			{
				const char *s = va_arg(ap, const char *);
				FORMAT_ONE(o, spec, quoted, const char *, s ? s : "(null)");
			}
			break;
		case 'p':
			FORMAT_ONE(o, spec, false, void *, va_arg(ap, void *));
			break;
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
			if (len == LEN_BIG_L)
				FORMAT_ONE(o, spec, false, long double, va_arg(ap, long double));
			else
				FORMAT_ONE(o, spec, false, double, va_arg(ap, double));
			break;
		default: /* %n, unknown: not for log lines */
			return false;
		}
	}
	return true;
}

char *nsc_log_format(const char *fmt, va_list ap, size_t *out_len)
{
	va_list aq;
	va_copy(aq, ap);
	int plain = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (plain < 0 || (size_t)plain > (SIZE_MAX - 1) / 2)
		return NULL;
	/* Escaping at most doubles a character, so this never grows (no stray copies). */
	struct out o = { .cap = (size_t)plain * 2 + 1 };
	o.p = malloc(o.cap);
	if (!o.p)
		return NULL;
	o.p[0] = '\0';
	va_copy(aq, ap);
	bool ok = format_walk(&o, fmt, aq);
	va_end(aq);
	if (!ok) {
		va_copy(aq, ap);
		vsnprintf(o.p, o.cap, fmt, aq);
		va_end(aq);
		o.len = (size_t)plain;
	}
	*out_len = o.len;
	return o.p;
}
