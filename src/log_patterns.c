/* SPDX-License-Identifier: MIT */
/*
 * Credential patterns the log redacts whether or not the secret was
 * registered (log_patterns.h): URL user-info passwords, JSON members,
 * credential headers and `key=value` pairs with a credential key.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "log_patterns.h"

#define REDACTED_LEN (sizeof(NSC_REDACTED) - 1)

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
	return is_alpha((char)c) || (c >= '0' && c <= '9');
}

/* Query/form keys: `key=VALUE` (also `key: VALUE`). */
static const char *const value_keys[] = {
	"token",       "secret",     "api_secret",   "apisecret",     "api-secret",
	"password",    "passwd",     "sessionid",    "session_id",    "access_token",
	"refresh_token",
};

/* JSON string members: `"key": "VALUE"`. */
static const char *const json_keys[] = {
	"password",     "passwd",        "token",       "secret",       "api_secret",
	"apisecret",    "api-secret",    "accessToken", "access_token", "refreshToken",
	"refresh_token", "sessionId",    "session_id",  "ticket",       "authTicket",
	"authorization", "cookie",       "set-cookie",
};

/* Headers whose whole value (to end of line) is a credential. */
static const char *const header_keys[] = {
	"api-secret",
	"authorization",
	"cookie",
	"set-cookie",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool is_key_char(char c)
{
	return is_alnum((unsigned char)c) || c == '_' || c == '-';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Case-insensitive match of `word` at in[i]; returns its length or 0. */
static size_t match_word(const char *in, size_t n, size_t i, const char *word)
{
	size_t wl = strlen(word);

	if (n - i < wl || strncasecmp(in + i, word, wl) != 0)
		return 0;
	return wl;
}

/*
 * End of a quoted string whose opening quote ended just before `j`. With
 * `escaped`, the text is JSON that was itself escaped once (\" and \\), so
 * each character is read through one level of unescaping first. Returns the
 * index of the closing quote, or n when the string does not end.
 */
static size_t quoted_end(const char *in, size_t n, size_t j, char quote, bool escaped)
{
	bool inner_esc = false;

	while (j < n) {
		char c = in[j];
		size_t w = 1;

		if (escaped && c == '\\' && j + 1 < n) {
			c = in[j + 1];
			w = 2;
		}
		if (inner_esc)
			inner_esc = false;
		else if (c == '\\')
			inner_esc = true;
		else if (c == quote)
			return j;
		j += w;
	}
	return n;
}

/* End of an unquoted value: up to `&`, whitespace or a quote. */
static size_t token_end(const char *in, size_t n, size_t j)
{
	while (j < n && in[j] != '&' && !is_space(in[j]) && in[j] != '"' && in[j] != '\'')
		j++;
	return j;
}

static size_t line_end(const char *in, size_t n, size_t j)
{
	while (j < n && in[j] != '\n' && in[j] != '\r')
		j++;
	return j;
}

static bool is_scheme_sep(const char *in, size_t n, size_t j)
{
	return n - j >= 3 && memcmp(in + j, "://", 3) == 0;
}

/* `scheme://user:PASS@host`: span of PASS when `://` is at i. */
static bool match_userinfo(const char *in, size_t n, size_t i, size_t *vs, size_t *ve)
{
	size_t start = i + 3, end, at = SIZE_MAX, colon = SIZE_MAX;

	if (!is_scheme_sep(in, n, i))
		return false;
	for (end = start; end < n; end++) {
		char c = in[end];

		if (is_space(c) || c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' ||
		    c == '<' || c == '>' || c == '\\')
			break;
		if (c == '@')
			at = end; /* the last '@' ends the userinfo, as URL parsers read it */
	}
	if (at == SIZE_MAX)
		return false;
	for (size_t k = start; k < at; k++) {
		if (in[k] == ':') {
			colon = k;
			break;
		}
	}
	if (colon == SIZE_MAX || colon + 1 >= at)
		return false;
	*vs = colon + 1;
	*ve = at;
	return true;
}

/* A `"` at j, or with `escaped` a `\"`. */
static bool quote_at(const char *in, size_t n, size_t j, bool escaped)
{
	if (escaped)
		return n - j >= 2 && in[j] == '\\' && in[j + 1] == '"';
	return j < n && in[j] == '"';
}

/* `"key": "VALUE"`, also once-escaped `\"key\": \"VALUE\"`, starting at i. */
static bool match_json(const char *in, size_t n, size_t i, size_t *vs, size_t *ve)
{
	bool escaped;
	size_t q, j;

	escaped = in[i] == '\\';
	if (!quote_at(in, n, i, escaped))
		return false;
	q = escaped ? 2 : 1;
	for (size_t k = 0; k < COUNT_OF(json_keys); k++) {
		size_t kl = match_word(in, n, i + q, json_keys[k]);

		if (!kl)
			continue;
		j = i + q + kl;
		if (!quote_at(in, n, j, escaped))
			continue;
		j += q;
		while (j < n && is_space(in[j]))
			j++;
		if (j >= n || in[j] != ':')
			continue;
		j++;
		while (j < n && is_space(in[j]))
			j++;
		if (!quote_at(in, n, j, escaped))
			continue;
		j += q;
		*vs = j;
		/* In escaped text the returned index is the backslash of the closing \". */
		*ve = quoted_end(in, n, j, '"', escaped);
		return *ve > *vs;
	}
	return false;
}

/* The index of the first character at or after j that is no space or tab. */
static size_t skip_blanks(const char *in, size_t n, size_t j)
{
	while (j < n && (in[j] == ' ' || in[j] == '\t'))
		j++;
	return j;
}

/* `Header: VALUE` to end of line; Authorization keeps its scheme word. */
static bool match_header(const char *in, size_t n, size_t i, size_t *vs, size_t *ve)
{
	for (size_t k = 0; k < COUNT_OF(header_keys); k++) {
		size_t kl = match_word(in, n, i, header_keys[k]), j;

		if (!kl)
			continue;
		j = skip_blanks(in, n, i + kl);
		if (j >= n || in[j] != ':')
			continue;
		j = skip_blanks(in, n, j + 1);
		if (strcmp(header_keys[k], "authorization") == 0) {
			size_t w = j;

			while (w < n && is_alpha(in[w]))
				w++;
			if (w > j && w < n && in[w] == ' ') {
				while (w < n && in[w] == ' ')
					w++;
				if (w < n && in[w] != '\n' && in[w] != '\r')
					j = w;
			}
		}
		*vs = j;
		*ve = line_end(in, n, j);
		/*
		 * A header that opens a quoted log value (`h="Cookie: ..."`) ends
		 * where the value does: the closing quote stays, the line stays
		 * key=value.
		 */
		if (i > 0 && in[i - 1] == '"') {
			size_t q = quoted_end(in, *ve, j, '"', false);
			if (q < *ve)
				*ve = q;
		}
		return *ve > *vs;
	}
	return false;
}

/* `key=VALUE`, `key="VALUE"`, `key: VALUE` for the credential keys. */
static bool match_key_value(const char *in, size_t n, size_t i, size_t *vs, size_t *ve)
{
	for (size_t k = 0; k < COUNT_OF(value_keys); k++) {
		size_t kl = match_word(in, n, i, value_keys[k]), j;

		if (!kl)
			continue;
		j = i + kl;
		if (j < n && in[j] == '=') {
			j++;
		} else if (j < n && in[j] == ':' && !is_scheme_sep(in, n, j)) {
			j = skip_blanks(in, n, j + 1);
		} else {
			continue;
		}
		if (j < n && (in[j] == '"' || in[j] == '\'')) {
			*vs = j + 1;
			*ve = quoted_end(in, n, j + 1, in[j], false);
		} else {
			*vs = j;
			*ve = token_end(in, n, j);
		}
		return *ve > *vs;
	}
	return false;
}


void nsc_redact_patterns(const char *in, size_t n, struct nsc_lbuf *out)
{
	size_t i = 0, copied = 0;

	while (i < n) {
		size_t vs = 0, ve = 0;
		bool boundary = i == 0 || !is_key_char(in[i - 1]);
		bool hit = false;

		if (in[i] == ':')
			hit = match_userinfo(in, n, i, &vs, &ve);
		else if (in[i] == '"' || in[i] == '\\')
			hit = match_json(in, n, i, &vs, &ve);
		else if (boundary && is_alpha(in[i]))
			hit = match_header(in, n, i, &vs, &ve) ||
			      match_key_value(in, n, i, &vs, &ve);

		if (hit) {
			nsc_lbuf_append(out, in + copied, vs - copied);
			nsc_lbuf_append(out, NSC_REDACTED, REDACTED_LEN);
			i = copied = ve;
		} else {
			i++;
		}
	}
	nsc_lbuf_append(out, in + copied, n - copied);
}

