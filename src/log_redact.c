/* SPDX-License-Identifier: MIT */
/*
 * The log redactor's registered secrets (log_redact.h): each secret is
 * kept in every spelling it may reach a line in (as given, percent-,
 * form-, URI-component- and JSON-encoded), longest first, and replaced
 * wherever it appears before the credential patterns (log_patterns.c)
 * run. Spellings are wiped before their memory is freed.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "log_patterns.h"
#include "log_redact.h"
#include "secret.h"

#define REDACTED_LEN (sizeof(NSC_REDACTED) - 1)
#define SECRET_MIN_LEN 3

_Static_assert(NSC_REDACT_SPELLINGS == 7, "one spelling as given and one per encoding");

enum secret_encoding {
	ENC_PCT_UPPER,  /* RFC 3986: all but ALPHA DIGIT - . _ ~ as %XX (curl) */
	ENC_PCT_LOWER,  /* the same with lower-case hex */
	ENC_FORM,       /* application/x-www-form-urlencoded: space as + */
	ENC_URI_COMP,   /* JavaScript encodeURIComponent: also keeps ! ' ( ) * */
	ENC_JSON,       /* JSON string escaping */
	ENC_JSON_SLASH, /* JSON escaping with / as \/ (json-c's default) */
};
#define ENC_COUNT 6

/* RFC 3986 unreserved letters and digits, whatever the locale. */
static bool keeps_as_is(unsigned char c)
{
	unsigned char lc = (unsigned char)(c | 0x20);
	return (lc >= 'a' && lc <= 'z') || (c >= '0' && c <= '9');
}

static char *encode_secret(const char *s, enum secret_encoding enc)
{
	static const char upper[] = "0123456789ABCDEF";
	static const char lower[] = "0123456789abcdef";
	const char *hex = enc == ENC_PCT_LOWER ? lower : upper;
	struct nsc_lbuf sb = { 0 };

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		char tmp[7];

		if (enc == ENC_JSON || enc == ENC_JSON_SLASH) {
			if (c == '"' || c == '\\' || (c == '/' && enc == ENC_JSON_SLASH)) {
				nsc_lbuf_putc(&sb, '\\');
				nsc_lbuf_putc(&sb, (char)c);
			} else if (c < 0x20) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				nsc_lbuf_append(&sb, tmp, 6);
			} else {
				nsc_lbuf_putc(&sb, (char)c);
			}
			continue;
		}
		if (keeps_as_is(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		    (enc == ENC_URI_COMP && strchr("!'()*", c) != NULL)) {
			nsc_lbuf_putc(&sb, (char)c);
		} else if (enc == ENC_FORM && c == ' ') {
			nsc_lbuf_putc(&sb, '+');
		} else {
			tmp[0] = '%';
			tmp[1] = hex[c >> 4];
			tmp[2] = hex[c & 0x0f];
			nsc_lbuf_append(&sb, tmp, 3);
		}
	}
	return nsc_lbuf_finish(&sb);
}


nsc_rc nsc_redact_spellings(const char *secret, struct nsc_redact_spellings *sp)
{
	memset(sp, 0, sizeof(*sp));
	if (secret == NULL || strlen(secret) < SECRET_MIN_LEN)
		return NSC_OK; /* too short to tell from ordinary text: not redacted */
	sp->v[0] = strdup(secret);
	if (sp->v[0] == NULL)
		return NSC_ERR_NOMEM;
	sp->n = 1;
	for (int e = 0; e < ENC_COUNT; e++) {
		char *spelling = encode_secret(secret, (enum secret_encoding)e);
		if (spelling == NULL)
			return NSC_ERR_NOMEM;
		sp->v[sp->n++] = spelling;
	}
	return NSC_OK;
}

void nsc_redact_spellings_free(struct nsc_redact_spellings *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		nsc_secret_free(sp->v[i]);
	memset(sp, 0, sizeof(*sp));
}

/* Inserts one spelling, keeping the list sorted longest first; takes ownership of `s`. */
static nsc_rc add_spelling(struct nsc_redactor *r, char *s)
{
	size_t len = strlen(s), pos;

	for (size_t i = 0; i < r->n; i++) {
		if (r->lens[i] == len && memcmp(r->spellings[i], s, len) == 0) {
			/* Held for one more owner: a slot forgetting its copy must not unmask another's. */
			r->refs[i]++;
			nsc_secret_wipe(s, len);
			free(s);
			return NSC_OK;
		}
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		char **ns = realloc(r->spellings, cap * sizeof(*ns));

		if (!ns)
			goto nomem;
		r->spellings = ns;
		size_t *nl = realloc(r->lens, cap * sizeof(*nl));

		if (!nl)
			goto nomem;
		r->lens = nl;
		unsigned *nr = realloc(r->refs, cap * sizeof(*nr));

		if (!nr)
			goto nomem;
		r->refs = nr;
		r->cap = cap;
	}
	for (pos = 0; pos < r->n && r->lens[pos] >= len; pos++)
		;
	memmove(r->spellings + pos + 1, r->spellings + pos,
		(r->n - pos) * sizeof(*r->spellings));
	memmove(r->lens + pos + 1, r->lens + pos,
		(r->n - pos) * sizeof(*r->lens));
	memmove(r->refs + pos + 1, r->refs + pos, (r->n - pos) * sizeof(*r->refs));
	r->spellings[pos] = s;
	r->lens[pos] = len;
	r->refs[pos] = 1;
	r->n++;
	return NSC_OK;

nomem:
	nsc_secret_wipe(s, len);
	free(s);
	return NSC_ERR_NOMEM;
}

nsc_rc nsc_redactor_add(struct nsc_redactor *r, struct nsc_redact_spellings *sp)
{
	nsc_rc rc = NSC_OK;
	for (size_t i = 0; i < sp->n; i++) {
		/* On failure keep going so every spelling is freed; report NOMEM. */
		if (rc == NSC_OK)
			rc = add_spelling(r, sp->v[i]);
		else
			nsc_secret_free(sp->v[i]);
		sp->v[i] = NULL;
	}
	sp->n = 0;
	return rc;
}

/* Drops one registration of a spelling, and the spelling with the last (the caller still owns `s`). */
static void remove_spelling(struct nsc_redactor *r, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < r->n; i++) {
		if (r->lens[i] != len || memcmp(r->spellings[i], s, len) != 0)
			continue;
		if (--r->refs[i] > 0)
			return;
		nsc_secret_wipe(r->spellings[i], len);
		free(r->spellings[i]);
		memmove(r->spellings + i, r->spellings + i + 1, (r->n - i - 1) * sizeof(*r->spellings));
		memmove(r->lens + i, r->lens + i + 1,
			(r->n - i - 1) * sizeof(*r->lens));
		memmove(r->refs + i, r->refs + i + 1, (r->n - i - 1) * sizeof(*r->refs));
		r->n--;
		return;
	}
}

void nsc_redactor_remove(struct nsc_redactor *r, const struct nsc_redact_spellings *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		remove_spelling(r, sp->v[i]);
}

void nsc_redactor_fini(struct nsc_redactor *r)
{
	for (size_t i = 0; i < r->n; i++) {
		/* Do not leave secret text in freed heap memory. */
		nsc_secret_wipe(r->spellings[i], r->lens[i]);
		free(r->spellings[i]);
	}
	free(r->spellings);
	free(r->lens);
	free(r->refs);
	memset(r, 0, sizeof(*r));
}

static void redact_secrets(const struct nsc_redactor *r, const char *in, size_t n, struct nsc_lbuf *out)
{
	size_t i = 0;

	while (i < n) {
		bool hit = false;

		for (size_t k = 0; k < r->n; k++) {
			size_t sl = r->lens[k];

			if (n - i >= sl && in[i] == r->spellings[k][0] &&
			    memcmp(in + i, r->spellings[k], sl) == 0) {
				nsc_lbuf_append(out, NSC_REDACTED, REDACTED_LEN);
				i += sl;
				hit = true;
				break;
			}
		}
		if (!hit)
			nsc_lbuf_putc(out, in[i++]);
	}
}

char *nsc_redactor_apply(const struct nsc_redactor *r, const char *in, size_t n, size_t *out_len)
{
	struct nsc_lbuf stage = { 0 }, out = { 0 };
	const char *src = in;
	size_t src_len = n;
	char *res;

	if (r && r->n > 0) {
		redact_secrets(r, in, n, &stage);
		if (!nsc_lbuf_finish(&stage))
			return NULL;
		src = stage.p;
		src_len = stage.len;
	}
	if (nsc_lbuf_reserve(&out, src_len + 16))
		nsc_redact_patterns(src, src_len, &out);
	if (stage.p) {
		/* Still holds what the patterns hide. */
		nsc_secret_wipe(stage.p, stage.len);
		free(stage.p);
	}
	res = nsc_lbuf_finish(&out); /* NULL once memory ran out */
	if (res && out_len)
		*out_len = out.len;
	return res;
}
