/* SPDX-License-Identifier: MIT */
/*
 * Logger objects: level filter, `key=value` line prefix, the repeat
 * limit and a pluggable sink, all guarded by one mutex per logger. Every
 * line goes through the logger's redactor (log_redact.h) before it is
 * written; the redactor holds the registered secrets.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "log_buf.h"
#include "log_format.h"
#include "log_json.h"
#include "log_limit.h"
#include "log_redact.h"
#include "secret.h"
#include "timeutil.h"


/* Finished lines longer than this are cut (after redaction) and marked. */
#define LOG_LINE_MAX 32768
#define LOG_TRUNCATED " [truncated]"

struct nsc_log {
	pthread_mutex_t mu;
	atomic_int level;
	nsc_log_sink_fn sink; /* NULL: the built-in stderr sink */
	void *sink_ctx;
	struct nsc_redactor redact; /* the registered secrets */
	const struct nsc_clock *clock; /* timestamps and the repeat window */
	struct nsc_log_limit *repeats; /* warnings and errors alike; the root's only */
	/*
	 * A child (nsc_log_new_child) writes through its root: root's sink,
	 * clock and repeat limit, its own level, secrets and `fields`.
	 */
	struct nsc_log *root;
	char *fields; /* e.g. "tenant=alice", or NULL */
	enum nsc_log_format format; /* the root's: how lines reach the sink */
};


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
	log->repeats = calloc(1, sizeof(*log->repeats));
	if (!log->repeats) {
		pthread_mutex_destroy(&log->mu);
		free(log);
		return NULL;
	}
	return log;
}

struct nsc_log *nsc_log_new_child(struct nsc_log *parent, enum nsc_log_level level, const char *fields)
{
	struct nsc_log *log;

	if (!parent)
		return NULL;
	log = calloc(1, sizeof(*log));
	if (!log)
		return NULL;
	if (fields && fields[0] && !(log->fields = strdup(fields))) {
		free(log);
		return NULL;
	}
	if (pthread_mutex_init(&log->mu, NULL) != 0) {
		free(log->fields);
		free(log);
		return NULL;
	}
	atomic_init(&log->level, (int)clamp_level(level));
	log->root = parent->root ? parent->root : parent;
	log->clock = log->root->clock;
	return log;
}

static void write_summaries_locked(struct nsc_log *log, const struct nsc_log_limit_summary *s,
				   size_t n);

void nsc_log_free(struct nsc_log *log)
{
	if (!log)
		return;
	struct nsc_log_limit_summary left[NSC_LOG_LIMIT_SLOTS];
	if (log->repeats) {
		pthread_mutex_lock(&log->mu);
		write_summaries_locked(log, left, nsc_log_limit_drain(log->repeats, left, NSC_LOG_LIMIT_SLOTS));
		pthread_mutex_unlock(&log->mu);
	}
	nsc_redactor_fini(&log->redact);
	pthread_mutex_destroy(&log->mu);
	free(log->repeats);
	free(log->fields);
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

void nsc_log_set_format(struct nsc_log *log, enum nsc_log_format format)
{
	if (!log)
		return;
	struct nsc_log *root = log->root ? log->root : log;
	pthread_mutex_lock(&root->mu);
	root->format = format;
	pthread_mutex_unlock(&root->mu);
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

nsc_rc nsc_log_add_secret(struct nsc_log *log, const char *secret)
{
	struct nsc_redact_spellings sp;

	if (!log)
		return NSC_OK;
	nsc_rc rc = nsc_redact_spellings(secret, &sp);
	pthread_mutex_lock(&log->mu);
	if (rc == NSC_OK)
		rc = nsc_redactor_add(&log->redact, &sp);
	pthread_mutex_unlock(&log->mu);
	nsc_redact_spellings_free(&sp); /* what was not taken over */
	return rc;
}

void nsc_log_remove_secret(struct nsc_log *log, const char *secret)
{
	struct nsc_redact_spellings sp;

	if (!log)
		return;
	(void)nsc_redact_spellings(secret, &sp); /* removes what could be made */
	pthread_mutex_lock(&log->mu);
	nsc_redactor_remove(&log->redact, &sp);
	pthread_mutex_unlock(&log->mu);
	nsc_redact_spellings_free(&sp);
}

char *nsc_log_redact(struct nsc_log *log, const char *in)
{
	char *res;

	if (!in)
		in = "";
	if (!log)
		return nsc_redactor_apply(NULL, in, strlen(in), NULL);
	pthread_mutex_lock(&log->mu);
	res = nsc_redactor_apply(&log->redact, in, strlen(in), NULL);
	pthread_mutex_unlock(&log->mu);
	if (res && log->root) {
		char *both = nsc_log_redact(log->root, res);
		free(res);
		res = both;
	}
	return res;
}

/* ---- writing ---- */

/*
 * One event is one line: control characters (newlines from a logged body,
 * say) become visible escapes. Leaves room for the trailing newline.
 */
static char *escape_controls(const char *in, size_t n, size_t *out_len)
{
	struct nsc_lbuf sb = { 0 };

	if (!nsc_lbuf_reserve(&sb, n + 2))
		return NULL;
	size_t i;

	for (i = 0; i < n && sb.len < LOG_LINE_MAX; i++) {
		unsigned char c = (unsigned char)in[i];
		char tmp[5];

		if (c == '\n') {
			nsc_lbuf_append(&sb, "\\n", 2);
		} else if (c == '\r') {
			nsc_lbuf_append(&sb, "\\r", 2);
		} else if (c == '\t') {
			nsc_lbuf_append(&sb, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			nsc_lbuf_append(&sb, tmp, 4);
		} else {
			nsc_lbuf_putc(&sb, (char)c);
		}
	}
	if (i < n) {
		if (sb.len > LOG_LINE_MAX)
			sb.len = LOG_LINE_MAX;
		nsc_lbuf_append(&sb, LOG_TRUNCATED, sizeof(LOG_TRUNCATED) - 1);
	}
	nsc_lbuf_reserve(&sb, 1); /* room for '\n' in the stderr sink */
	if (!nsc_lbuf_finish(&sb))
		return NULL;
	*out_len = sb.len;
	return sb.p;
}

/* Hands one finished line to the sink (log->mu held). */
static void emit_locked(struct nsc_log *log, enum nsc_log_level level, char *line, size_t len)
{
	if (log->format == NSC_LOG_FORMAT_JSON) {
		size_t jlen = 0;
		char *json = nsc_log_line_json(line, len, &jlen);
		if (json) {
			if (log->sink) {
				log->sink(log->sink_ctx, level, json);
			} else {
				json[jlen] = '\n';
				fwrite(json, 1, jlen + 1, stderr);
			}
			free(json);
			return;
		}
		/* Out of memory: the line as text rather than nothing. */
	}
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
			 const char *key_text, size_t key_len, const char *body)
{
	struct nsc_log_limit_summary due[NSC_LOG_LIMIT_SLOTS];
	int64_t now = nsc_clock_mono(log->clock);
	if (log->repeats->pending > 0)
		write_summaries_locked(log, due, nsc_log_limit_due(log->repeats, now, due, NSC_LOG_LIMIT_SLOTS));
	if (level > NSC_LOG_WARN)
		return true;
	const char *event = NULL;
	size_t event_len = 0;
	if (strncmp(body, "event=", 6) == 0) {
		event = body + 6;
		event_len = strcspn(event, " ");
	}
	struct nsc_log_limit_summary evicted;
	bool write = nsc_log_limit_admit(log->repeats,
					 nsc_log_limit_key((int)level, component, key_text, key_len),
					 (int)level, component, event, event_len, now, &evicted);
	if (evicted.count > 0)
		write_summaries_locked(log, &evicted, 1);
	return write;
}

/*
 * `raw` redacted by a child's own secrets (the root's come after), or a
 * copy when log is a root; NULL when memory runs out.
 */
static char *redact_own(struct nsc_log *log, const char *raw, size_t len, size_t *out_len)
{
	if (!log->root) {
		char *copy = malloc(len + 1);
		if (copy) {
			memcpy(copy, raw, len + 1);
			*out_len = len;
		}
		return copy;
	}
	pthread_mutex_lock(&log->mu);
	char *red = nsc_redactor_apply(&log->redact, raw, len, out_len);
	pthread_mutex_unlock(&log->mu);
	return red;
}

void nsc_log_vwrite(struct nsc_log *log, enum nsc_log_level level, const char *component,
		    const char *fmt, va_list ap)
{
	char *prefix = NULL, *body = NULL, *raw = NULL, *own = NULL, *red = NULL, *line = NULL;
	size_t body_len = 0, own_len = 0, red_len = 0, line_len = 0;
	int prefix_len = 0;

	if (!nsc_log_enabled(log, level) || !fmt)
		return;
	if (!component)
		component = "-";
	body = nsc_log_format(fmt, ap, &body_len);
	if (!body)
		return;
	/* A child's fields go first in the body, so they are part of the repeat key. */
	size_t fields_len = log->fields ? strlen(log->fields) + 1 : 0;
	if (fields_len) {
		char *with = malloc(fields_len + body_len + 1);
		if (with) {
			memcpy(with, log->fields, fields_len - 1);
			with[fields_len - 1] = ' ';
			memcpy(with + fields_len, body, body_len + 1);
		}
		nsc_secret_wipe(body, body_len);
		free(body);
		body = with;
		body_len += fields_len;
		if (!body)
			return;
	}
	own = redact_own(log, body, body_len, &own_len);

	struct nsc_log *root = log->root ? log->root : log;
	pthread_mutex_lock(&root->mu);
	prefix = own ? line_prefix(root, level, component, &prefix_len) : NULL;
	raw = prefix ? malloc((size_t)prefix_len + own_len + 1) : NULL;
	if (raw) {
		memcpy(raw, prefix, (size_t)prefix_len);
		memcpy(raw + prefix_len, own, own_len + 1);
		red = nsc_redactor_apply(&root->redact, raw, (size_t)prefix_len + own_len, &red_len);
	}
	/* The key is taken from the redacted text, after the prefix (ts changes). */
	if (red && red_len >= (size_t)prefix_len + fields_len &&
	    admit_locked(root, level, component, red + prefix_len, red_len - (size_t)prefix_len,
			 red + prefix_len + fields_len))
		line = escape_controls(red, red_len, &line_len);
	if (line)
		emit_locked(root, level, line, line_len);
	pthread_mutex_unlock(&root->mu);

	/* The unredacted text may hold secrets: wipe before freeing. */
	nsc_secret_wipe(body, body_len);
	free(body);
	if (own)
		nsc_secret_wipe(own, own_len);
	free(own);
	if (raw)
		nsc_secret_wipe(raw, (size_t)prefix_len + own_len);
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
