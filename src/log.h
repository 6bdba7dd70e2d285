/* SPDX-License-Identifier: MIT */
/*
 * Logging: one `key=value` line per event, with a level.
 *
 * A logger is an object (no global state): each bridge or host owns one.
 * Every line passes through redaction before it reaches the sink: the values
 * registered with nsc_log_add_secret() (passwords, API secrets, tokens,
 * session ids) and anything that looks like a credential (URL userinfo
 * passwords, token=/secret=/password= query or form values, JSON
 * "password" fields, api-secret and Authorization headers) are replaced by
 * NSC_REDACTED, at every level.
 *
 * Repeated warnings and errors are limited (log_limit.h): of identical
 * lines (the timestamp aside), the first is written, then a count at
 * most once a minute while they keep coming, so no loop can fill a disk.
 *
 * Values in quotes (`msg="%s"`) have `"` and `\` escaped (log_format.h),
 * so every line parses as key=value.
 *
 * Ownership & concurrency: a logger may be used from several threads; the
 * secret list and sink are guarded by an internal mutex.
 */
#ifndef NSC_SRC_LOG_H
#define NSC_SRC_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "error.h"
#include "log_json.h"

#define NSC_REDACTED "[redacted]"

enum nsc_log_level {
	NSC_LOG_ERROR = 0,
	NSC_LOG_WARN,
	NSC_LOG_INFO,
	NSC_LOG_DEBUG,
	NSC_LOG_TRACE,
};

/* Receives each finished (already redacted) line, without trailing newline. */
typedef void (*nsc_log_sink_fn)(void *ctx, enum nsc_log_level level, const char *line);

struct nsc_log;

/* A logger writing to stderr at `level`. Returns NULL on allocation failure. */
struct nsc_log *nsc_log_new(enum nsc_log_level level);
/*
 * A logger for one part of a process (a tenant of `serve`): its lines go
 * through parent's root (sink, clock, repeat limit, the root's secrets)
 * with `fields` (e.g. "tenant=alice", key=value words) after the
 * component. It has its own level and its own secrets, redacted from its
 * lines only, so each line is checked against one tenant's secrets, not
 * every tenant's. The root must outlive it. NULL on allocation failure.
 */
struct nsc_log *nsc_log_new_child(struct nsc_log *parent, enum nsc_log_level level, const char *fields);
void nsc_log_free(struct nsc_log *log);
void nsc_log_set_level(struct nsc_log *log, enum nsc_log_level level);
enum nsc_log_level nsc_log_get_level(const struct nsc_log *log);
bool nsc_log_enabled(const struct nsc_log *log, enum nsc_log_level level);
void nsc_log_set_sink(struct nsc_log *log, nsc_log_sink_fn sink, void *ctx);
/*
 * CONNECT_LOG_FORMAT: lines as key=value text (the default) or as one JSON
 * object each (log_json.h), for the sink and stderr alike. Set on a child,
 * it sets its root's.
 */
void nsc_log_set_format(struct nsc_log *log, enum nsc_log_format format);

struct nsc_clock;
/*
 * The clock for timestamps and for the repeat limit (default: the system
 * clock; tests pass their virtual one). It must outlive the logger.
 */
void nsc_log_set_clock(struct nsc_log *log, const struct nsc_clock *clock);

/*
 * Registers a value that must never appear in output. Values shorter than
 * 3 characters are ignored (they would redact ordinary text). Also redacts
 * the value's URL-encoded form. Returns NSC_ERR_NOMEM on failure.
 */
nsc_rc nsc_log_add_secret(struct nsc_log *log, const char *secret);

/*
 * Forgets a value registered before, once it can no longer appear (an
 * expired session token), so the list does not grow for the life of the
 * process. Registrations are counted: a value registered twice (a session
 * token that equals a configured secret, two tenants sharing a password)
 * stays redacted until it has been removed twice.
 */
void nsc_log_remove_secret(struct nsc_log *log, const char *secret);

/* "error", "warn", "info", "debug", "trace" <-> level. */
const char *nsc_log_level_name(enum nsc_log_level level);
nsc_rc nsc_log_level_parse(const char *text, enum nsc_log_level *out);

/*
 * Writes one line: `ts=<UTC ISO> level=<name> comp=<component> <fmt...>`.
 * By convention fmt starts with `event=<word>` and human text goes in
 * `msg="..."`. Safe to call with log == NULL (does nothing).
 */
void nsc_log_write(struct nsc_log *log, enum nsc_log_level level, const char *component,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void nsc_log_vwrite(struct nsc_log *log, enum nsc_log_level level, const char *component,
		    const char *fmt, va_list ap);

/*
 * Redacts `in` with the logger's secrets and credential patterns into a new
 * malloc'd string (NULL on allocation failure). Used by nsc_log_write and by
 * code that must show a URL or body to the user.
 */
char *nsc_log_redact(struct nsc_log *log, const char *in);

#define nsc_err(log, comp, ...) nsc_log_write((log), NSC_LOG_ERROR, (comp), __VA_ARGS__)
#define nsc_warn(log, comp, ...) nsc_log_write((log), NSC_LOG_WARN, (comp), __VA_ARGS__)
#define nsc_info(log, comp, ...) nsc_log_write((log), NSC_LOG_INFO, (comp), __VA_ARGS__)
#define nsc_dbg(log, comp, ...) nsc_log_write((log), NSC_LOG_DEBUG, (comp), __VA_ARGS__)
#define nsc_trace(log, comp, ...) nsc_log_write((log), NSC_LOG_TRACE, (comp), __VA_ARGS__)

#endif
