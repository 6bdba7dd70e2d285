/* SPDX-License-Identifier: MIT */
/*
 * Logger objects: level filter, `key=value` line format, credential
 * redaction (registered secrets and well-known credential patterns) and a
 * pluggable sink, all guarded by one mutex per logger.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"
#include "log_format.h"
#include "log_limit.h"
#include "secret.h"
#include "timeutil.h"

#define REDACTED_LEN (sizeof(NSC_REDACTED) - 1)
#define SECRET_MIN_LEN 3
/* Finished lines longer than this are cut (after redaction) and marked. */
#define LOG_LINE_MAX 32768
#define LOG_TRUNCATED " [truncated]"

struct nsc_log {
	pthread_mutex_t mu;
	atomic_int level;
	nsc_log_sink_fn sink; /* NULL: the built-in stderr sink */
	void *sink_ctx;
	/* Secret spellings to redact, longest first, so no shorter one splits a longer one. */
	char **secrets;
	size_t *secret_lens;
	size_t n_secrets;
	size_t cap_secrets;
	const struct nsc_clock *clock; /* timestamps and the repeat window */
	struct nsc_log_limit repeats;  /* warnings and errors alike */
};

/* ---- growable string ---- */

struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

static bool sb_reserve(struct sbuf *sb, size_t extra)
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

static void sb_append(struct sbuf *sb, const char *s, size_t n)
{
	if (!sb_reserve(sb, n))
		return;
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

static void sb_putc(struct sbuf *sb, char c)
{
	sb_append(sb, &c, 1);
}

/* Returns the finished string (caller frees), or NULL after any allocation failure. */
static char *sb_finish(struct sbuf *sb)
{
	if (!sb->oom && !sb->p)
		sb_reserve(sb, 0);
	if (sb->oom) {
		free(sb->p);
		sb->p = NULL;
		return NULL;
	}
	sb->p[sb->len] = '\0';
	return sb->p;
}

/* ---- levels ---- */

static const char *const level_names[] = {
	[NSC_LOG_ERROR] = "error", [NSC_LOG_WARN] = "warn",   [NSC_LOG_INFO] = "info",
	[NSC_LOG_DEBUG] = "debug", [NSC_LOG_TRACE] = "trace",
};
#define LEVEL_COUNT (sizeof(level_names) / sizeof(level_names[0]))

const char *nsc_log_level_name(enum nsc_log_level level)
{
	if ((unsigned)level >= LEVEL_COUNT)
		return "unknown";
	return level_names[level];
}

nsc_rc nsc_log_level_parse(const char *text, enum nsc_log_level *out)
{
	if (!text || !out)
		return NSC_ERR_PARSE;
	for (size_t i = 0; i < LEVEL_COUNT; i++) {
		if (strcasecmp(text, level_names[i]) == 0) {
			*out = (enum nsc_log_level)i;
			return NSC_OK;
		}
	}
	if (strcasecmp(text, "warning") == 0) {
		*out = NSC_LOG_WARN;
		return NSC_OK;
	}
	return NSC_ERR_PARSE;
}

static enum nsc_log_level clamp_level(enum nsc_log_level level)
{
	if ((int)level < (int)NSC_LOG_ERROR)
		return NSC_LOG_ERROR;
	if ((int)level > (int)NSC_LOG_TRACE)
		return NSC_LOG_TRACE;
	return level;
}

/* ---- lifecycle ---- */

struct nsc_log *nsc_log_new(enum nsc_log_level level)
{
	struct nsc_log *log = calloc(1, sizeof(*log));

	if (!log)
		return NULL;
	if (pthread_mutex_init(&log->mu, NULL) != 0) {
		free(log);
		return NULL;
	}
	atomic_init(&log->level, (int)clamp_level(level));
	log->clock = &nsc_clock_system;
	return log;
}

static void write_summaries_locked(struct nsc_log *log, const struct nsc_log_limit_summary *s,
				   size_t n);

void nsc_log_free(struct nsc_log *log)
{
	if (!log)
		return;
	struct nsc_log_limit_summary left[NSC_LOG_LIMIT_SLOTS];
	pthread_mutex_lock(&log->mu);
	write_summaries_locked(log, left, nsc_log_limit_drain(&log->repeats, left, NSC_LOG_LIMIT_SLOTS));
	pthread_mutex_unlock(&log->mu);
	for (size_t i = 0; i < log->n_secrets; i++) {
		/* Do not leave secret text in freed heap memory. */
		nsc_secret_wipe(log->secrets[i], log->secret_lens[i]);
		free(log->secrets[i]);
	}
	free(log->secrets);
	free(log->secret_lens);
	pthread_mutex_destroy(&log->mu);
	free(log);
}

void nsc_log_set_level(struct nsc_log *log, enum nsc_log_level level)
{
	if (log)
		atomic_store(&log->level, (int)clamp_level(level));
}

enum nsc_log_level nsc_log_get_level(const struct nsc_log *log)
{
	if (!log)
		return NSC_LOG_ERROR;
	return (enum nsc_log_level)atomic_load(&((struct nsc_log *)log)->level);
}

bool nsc_log_enabled(const struct nsc_log *log, enum nsc_log_level level)
{
	return log && (int)level <= (int)nsc_log_get_level(log);
}

void nsc_log_set_clock(struct nsc_log *log, const struct nsc_clock *clock)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->mu);
	log->clock = clock ? clock : &nsc_clock_system;
	pthread_mutex_unlock(&log->mu);
}

void nsc_log_set_sink(struct nsc_log *log, nsc_log_sink_fn sink, void *ctx)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->mu);
	log->sink = sink;
	log->sink_ctx = sink ? ctx : NULL;
	pthread_mutex_unlock(&log->mu);
}

/* ---- secrets ---- */

enum secret_encoding {
	ENC_PCT_UPPER,  /* RFC 3986: all but ALPHA DIGIT - . _ ~ as %XX (curl) */
	ENC_PCT_LOWER,  /* the same with lower-case hex */
	ENC_FORM,       /* application/x-www-form-urlencoded: space as + */
	ENC_URI_COMP,   /* JavaScript encodeURIComponent: also keeps ! ' ( ) * */
	ENC_JSON,       /* JSON string escaping */
	ENC_JSON_SLASH, /* JSON escaping with / as \/ (json-c's default) */
};
#define ENC_COUNT 6

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
	return is_alpha((char)c) || (c >= '0' && c <= '9');
}

static char *encode_secret(const char *s, enum secret_encoding enc)
{
	static const char upper[] = "0123456789ABCDEF";
	static const char lower[] = "0123456789abcdef";
	const char *hex = enc == ENC_PCT_LOWER ? lower : upper;
	struct sbuf sb = { 0 };

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		char tmp[7];

		if (enc == ENC_JSON || enc == ENC_JSON_SLASH) {
			if (c == '"' || c == '\\' || (c == '/' && enc == ENC_JSON_SLASH)) {
				sb_putc(&sb, '\\');
				sb_putc(&sb, (char)c);
			} else if (c < 0x20) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				sb_append(&sb, tmp, 6);
			} else {
				sb_putc(&sb, (char)c);
			}
			continue;
		}
		if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		    (enc == ENC_URI_COMP && strchr("!'()*", c) != NULL)) {
			sb_putc(&sb, (char)c);
		} else if (enc == ENC_FORM && c == ' ') {
			sb_putc(&sb, '+');
		} else {
			tmp[0] = '%';
			tmp[1] = hex[c >> 4];
			tmp[2] = hex[c & 0x0f];
			sb_append(&sb, tmp, 3);
		}
	}
	return sb_finish(&sb);
}

/* Inserts one spelling, keeping the list sorted longest first; takes ownership of `s`. */
static nsc_rc add_spelling_locked(struct nsc_log *log, char *s)
{
	size_t len = strlen(s), pos;

	for (size_t i = 0; i < log->n_secrets; i++) {
		if (log->secret_lens[i] == len && memcmp(log->secrets[i], s, len) == 0) {
			nsc_secret_wipe(s, len);
			free(s);
			return NSC_OK;
		}
	}
	if (log->n_secrets == log->cap_secrets) {
		size_t cap = log->cap_secrets ? log->cap_secrets * 2 : 8;
		char **ns = realloc(log->secrets, cap * sizeof(*ns));

		if (!ns)
			goto nomem;
		log->secrets = ns;
		size_t *nl = realloc(log->secret_lens, cap * sizeof(*nl));

		if (!nl)
			goto nomem;
		log->secret_lens = nl;
		log->cap_secrets = cap;
	}
	for (pos = 0; pos < log->n_secrets && log->secret_lens[pos] >= len; pos++)
		;
	memmove(log->secrets + pos + 1, log->secrets + pos,
		(log->n_secrets - pos) * sizeof(*log->secrets));
	memmove(log->secret_lens + pos + 1, log->secret_lens + pos,
		(log->n_secrets - pos) * sizeof(*log->secret_lens));
	log->secrets[pos] = s;
	log->secret_lens[pos] = len;
	log->n_secrets++;
	return NSC_OK;

nomem:
	nsc_secret_wipe(s, len);
	free(s);
	return NSC_ERR_NOMEM;
}

/*
 * The spellings of a secret that redaction looks for: as given, then each
 * encoding. Returns how many were made; *rc is NSC_ERR_NOMEM if any failed.
 */
static size_t make_spellings(const char *secret, char *spellings[1 + ENC_COUNT], nsc_rc *rc)
{
	size_t n = 0;

	*rc = NSC_OK;
	spellings[n] = strdup(secret);
	if (!spellings[n]) {
		*rc = NSC_ERR_NOMEM;
		return 0;
	}
	n++;
	for (int e = 0; e < ENC_COUNT; e++) {
		char *enc = encode_secret(secret, (enum secret_encoding)e);

		if (!enc) {
			*rc = NSC_ERR_NOMEM;
			break;
		}
		spellings[n++] = enc;
	}
	return n;
}

static void free_spelling(char *s)
{
	nsc_secret_wipe(s, strlen(s));
	free(s);
}

nsc_rc nsc_log_add_secret(struct nsc_log *log, const char *secret)
{
	char *spellings[1 + ENC_COUNT] = { 0 };
	nsc_rc rc;

	if (!log || !secret || strlen(secret) < SECRET_MIN_LEN)
		return NSC_OK;

	size_t n = make_spellings(secret, spellings, &rc);
	pthread_mutex_lock(&log->mu);
	for (size_t i = 0; i < n; i++) {
		/* On failure keep going so every spelling is freed; report NOMEM. */
		if (rc == NSC_OK)
			rc = add_spelling_locked(log, spellings[i]);
		else
			free_spelling(spellings[i]);
	}
	pthread_mutex_unlock(&log->mu);
	return rc;
}

/* Removes one spelling if present (the caller still owns `s`). */
static void remove_spelling_locked(struct nsc_log *log, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < log->n_secrets; i++) {
		if (log->secret_lens[i] != len || memcmp(log->secrets[i], s, len) != 0)
			continue;
		nsc_secret_wipe(log->secrets[i], len);
		free(log->secrets[i]);
		memmove(log->secrets + i, log->secrets + i + 1, (log->n_secrets - i - 1) * sizeof(*log->secrets));
		memmove(log->secret_lens + i, log->secret_lens + i + 1,
			(log->n_secrets - i - 1) * sizeof(*log->secret_lens));
		log->n_secrets--;
		return;
	}
}

void nsc_log_remove_secret(struct nsc_log *log, const char *secret)
{
	char *spellings[1 + ENC_COUNT] = { 0 };
	nsc_rc rc;

	if (!log || !secret || strlen(secret) < SECRET_MIN_LEN)
		return;
	size_t n = make_spellings(secret, spellings, &rc);
	pthread_mutex_lock(&log->mu);
	for (size_t i = 0; i < n; i++)
		remove_spelling_locked(log, spellings[i]);
	pthread_mutex_unlock(&log->mu);
	for (size_t i = 0; i < n; i++)
		free_spelling(spellings[i]);
}

/* ---- credential patterns ---- */

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

/* `Header: VALUE` to end of line; Authorization keeps its scheme word. */
static bool match_header(const char *in, size_t n, size_t i, size_t *vs, size_t *ve)
{
	for (size_t k = 0; k < COUNT_OF(header_keys); k++) {
		size_t kl = match_word(in, n, i, header_keys[k]), j;

		if (!kl)
			continue;
		j = i + kl;
		while (j < n && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j >= n || in[j] != ':')
			continue;
		j++;
		while (j < n && (in[j] == ' ' || in[j] == '\t'))
			j++;
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
			j++;
			while (j < n && (in[j] == ' ' || in[j] == '\t'))
				j++;
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

static void redact_secrets(const struct nsc_log *log, const char *in, size_t n, struct sbuf *out)
{
	size_t i = 0;

	while (i < n) {
		bool hit = false;

		for (size_t k = 0; k < log->n_secrets; k++) {
			size_t sl = log->secret_lens[k];

			if (n - i >= sl && in[i] == log->secrets[k][0] &&
			    memcmp(in + i, log->secrets[k], sl) == 0) {
				sb_append(out, NSC_REDACTED, REDACTED_LEN);
				i += sl;
				hit = true;
				break;
			}
		}
		if (!hit)
			sb_putc(out, in[i++]);
	}
}

static void redact_patterns(const char *in, size_t n, struct sbuf *out)
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
			sb_append(out, in + copied, vs - copied);
			sb_append(out, NSC_REDACTED, REDACTED_LEN);
			i = copied = ve;
		} else {
			i++;
		}
	}
	sb_append(out, in + copied, n - copied);
}

/* Caller holds log->mu when log is not NULL. */
static char *redact_locked(const struct nsc_log *log, const char *in, size_t n, size_t *out_len)
{
	struct sbuf stage = { 0 }, out = { 0 };
	const char *src = in;
	size_t src_len = n;
	char *res;

	if (log && log->n_secrets > 0) {
		redact_secrets(log, in, n, &stage);
		if (!sb_finish(&stage))
			return NULL;
		src = stage.p;
		src_len = stage.len;
	}
	if (!sb_reserve(&out, src_len + 16)) {
		free(stage.p);
		return NULL;
	}
	redact_patterns(src, src_len, &out);
	if (stage.p) {
		nsc_secret_wipe(stage.p, stage.len);
		free(stage.p);
	}
	res = sb_finish(&out);
	if (res && out_len)
		*out_len = out.len;
	return res;
}

char *nsc_log_redact(struct nsc_log *log, const char *in)
{
	char *res;

	if (!in)
		in = "";
	if (!log)
		return redact_locked(NULL, in, strlen(in), NULL);
	pthread_mutex_lock(&log->mu);
	res = redact_locked(log, in, strlen(in), NULL);
	pthread_mutex_unlock(&log->mu);
	return res;
}

/* ---- writing ---- */

/*
 * One event is one line: control characters (newlines from a logged body,
 * say) become visible escapes. Leaves room for the trailing newline.
 */
static char *escape_controls(const char *in, size_t n, size_t *out_len)
{
	struct sbuf sb = { 0 };

	if (!sb_reserve(&sb, n + 2))
		return NULL;
	size_t i;

	for (i = 0; i < n && sb.len < LOG_LINE_MAX; i++) {
		unsigned char c = (unsigned char)in[i];
		char tmp[5];

		if (c == '\n') {
			sb_append(&sb, "\\n", 2);
		} else if (c == '\r') {
			sb_append(&sb, "\\r", 2);
		} else if (c == '\t') {
			sb_append(&sb, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			sb_append(&sb, tmp, 4);
		} else {
			sb_putc(&sb, (char)c);
		}
	}
	if (i < n) {
		if (sb.len > LOG_LINE_MAX)
			sb.len = LOG_LINE_MAX;
		sb_append(&sb, LOG_TRUNCATED, sizeof(LOG_TRUNCATED) - 1);
	}
	sb_reserve(&sb, 1); /* room for '\n' in the stderr sink */
	if (!sb_finish(&sb))
		return NULL;
	*out_len = sb.len;
	return sb.p;
}

/* Hands one finished line to the sink (log->mu held). */
static void emit_locked(struct nsc_log *log, enum nsc_log_level level, char *line, size_t len)
{
	if (log->sink) {
		log->sink(log->sink_ctx, level, line);
	} else {
		line[len] = '\n';
		fwrite(line, 1, len + 1, stderr);
	}
}

/* `ts=… level=… comp=… ` for now (malloc'd), NULL when memory runs out. */
static char *line_prefix(const struct nsc_log *log, enum nsc_log_level level, const char *component,
			 int *len)
{
	char ts[NSC_ISO_BUF];
	if (nsc_time_format_iso(nsc_clock_wall(log->clock), ts, sizeof(ts)) != NSC_OK)
		snprintf(ts, sizeof(ts), "-");
	int n = snprintf(NULL, 0, "ts=%s level=%s comp=%s ", ts, nsc_log_level_name(level), component);
	if (n < 0)
		return NULL;
	char *p = malloc((size_t)n + 1);
	if (p)
		snprintf(p, (size_t)n + 1, "ts=%s level=%s comp=%s ", ts, nsc_log_level_name(level),
			 component);
	*len = n;
	return p;
}

/* Writes the counts of lines the repeat limit held back (log->mu held). */
static void write_summaries_locked(struct nsc_log *log, const struct nsc_log_limit_summary *s,
				   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int plen = 0;
		char *prefix = line_prefix(log, (enum nsc_log_level)s[i].level, s[i].comp, &plen);
		if (!prefix)
			continue;
		char body[256];
		int blen = snprintf(body, sizeof(body),
				    "event=repeated like=%s count=%lu window_s=%d msg=\"%lu more lines like "
				    "the last %s line were not written\"",
				    s[i].event[0] ? s[i].event : "-", s[i].count,
				    NSC_LOG_LIMIT_WINDOW_MS / 1000, s[i].count,
				    s[i].event[0] ? s[i].event : "such");
		char *line = malloc((size_t)plen + sizeof(body) + 2);
		if (line && blen > 0) {
			memcpy(line, prefix, (size_t)plen);
			memcpy(line + plen, body, (size_t)blen + 1);
			emit_locked(log, (enum nsc_log_level)s[i].level, line, (size_t)plen + (size_t)blen);
		}
		free(line);
		free(prefix);
	}
}

/*
 * The repeat limit (log_limit.h) for warnings and errors: counts that are
 * due are written first; true when `line` (redacted, prefix skipped in the
 * key) is to be written (log->mu held).
 */
static bool admit_locked(struct nsc_log *log, enum nsc_log_level level, const char *component,
			 const char *body, size_t body_len)
{
	struct nsc_log_limit_summary due[NSC_LOG_LIMIT_SLOTS];
	int64_t now = nsc_clock_mono(log->clock);
	if (log->repeats.pending > 0)
		write_summaries_locked(log, due, nsc_log_limit_due(&log->repeats, now, due, NSC_LOG_LIMIT_SLOTS));
	if (level > NSC_LOG_WARN)
		return true;
	const char *event = NULL;
	size_t event_len = 0;
	if (body_len >= 6 && strncmp(body, "event=", 6) == 0) {
		event = body + 6;
		event_len = strcspn(event, " ");
	}
	struct nsc_log_limit_summary evicted;
	bool write = nsc_log_limit_admit(&log->repeats,
					 nsc_log_limit_key((int)level, component, body, body_len),
					 (int)level, component, event, event_len, now, &evicted);
	if (evicted.count > 0)
		write_summaries_locked(log, &evicted, 1);
	return write;
}

void nsc_log_vwrite(struct nsc_log *log, enum nsc_log_level level, const char *component,
		    const char *fmt, va_list ap)
{
	char *prefix = NULL, *body = NULL, *raw = NULL, *red = NULL, *line = NULL;
	size_t body_len = 0, red_len = 0, line_len = 0;
	int prefix_len = 0;

	if (!nsc_log_enabled(log, level) || !fmt)
		return;
	if (!component)
		component = "-";
	body = nsc_log_format(fmt, ap, &body_len);
	if (!body)
		return;

	pthread_mutex_lock(&log->mu);
	prefix = line_prefix(log, level, component, &prefix_len);
	raw = prefix ? malloc((size_t)prefix_len + body_len + 1) : NULL;
	if (raw) {
		memcpy(raw, prefix, (size_t)prefix_len);
		memcpy(raw + prefix_len, body, body_len + 1);
		red = redact_locked(log, raw, (size_t)prefix_len + body_len, &red_len);
	}
	/* The key is taken from the redacted text, after the prefix (ts changes). */
	if (red && red_len >= (size_t)prefix_len &&
	    admit_locked(log, level, component, red + prefix_len, red_len - (size_t)prefix_len))
		line = escape_controls(red, red_len, &line_len);
	if (line)
		emit_locked(log, level, line, line_len);
	pthread_mutex_unlock(&log->mu);

	/* The unredacted text may hold secrets: wipe before freeing. */
	nsc_secret_wipe(body, body_len);
	free(body);
	if (raw)
		nsc_secret_wipe(raw, (size_t)prefix_len + body_len);
	free(raw);
	free(prefix);
	free(red);
	free(line);
}

void nsc_log_write(struct nsc_log *log, enum nsc_log_level level, const char *component,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nsc_log_vwrite(log, level, component, fmt, ap);
	va_end(ap);
}
