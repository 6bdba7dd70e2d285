/* SPDX-License-Identifier: MIT */
/*
 * nsconnect public API: result codes, version, and the embedding entry
 * points (configure a bridge from settings, run it on an event loop).
 * Installed as <nsconnect.h>; everything else in src/ is private.
 */
#ifndef NSCONNECT_H
#define NSCONNECT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(NSC_BUILDING_LIBRARY)
#define NSC_API __attribute__((visibility("default")))
#else
#define NSC_API
#endif

/*
 * Result codes. Zero is success, every failure is negative and has a name.
 * The first group are the verdicts that drive the engine's machines.
 */
#define NSC_RC_LIST(X)                                                       \
	X(NSC_OK, 0, "success")                                              \
	X(NSC_ERR_RETRY, -1, "temporary failure, will retry")               \
	X(NSC_ERR_AUTH, -2, "session no longer accepted")                    \
	X(NSC_ERR_REJECTED, -3, "login rejected; user action needed")       \
	X(NSC_ERR_DROP, -4, "unusable payload skipped")                      \
	X(NSC_ERR_FATAL, -5, "fatal error")                                  \
	X(NSC_ERR_CONFIG, -6, "invalid configuration")                       \
	X(NSC_ERR_NOMEM, -7, "out of memory")                                \
	X(NSC_ERR_IO, -8, "input/output error")                              \
	X(NSC_ERR_PARSE, -9, "cannot parse value")                           \
	X(NSC_ERR_RANGE, -10, "value out of range")                          \
	X(NSC_ERR_NOT_FOUND, -11, "not found")                               \
	X(NSC_ERR_STATE, -12, "operation not valid in this state")           \
	X(NSC_ERR_UNSUPPORTED, -13, "not supported by this build")           \
	X(NSC_ERR_INTERNAL, -14, "internal error")

#define NSC_RC_ENUM_(name, value, text) name = value,
typedef enum nsc_rc { NSC_RC_LIST(NSC_RC_ENUM_) } nsc_rc;
#undef NSC_RC_ENUM_

/*
 * A failure's code plus a human message (like bson_error_t). Room for a
 * configuration's several problems in one message (nsc_embed_validate).
 */
#define NSC_ERROR_MSG_MAX 1024
struct nsc_error {
	nsc_rc code;
	char msg[NSC_ERROR_MSG_MAX];
};

NSC_API const char *nsc_rc_name(nsc_rc rc);     /* "NSC_ERR_RETRY" */
NSC_API const char *nsc_strerror(nsc_rc rc);    /* "temporary failure, …" */
NSC_API const char *nsc_version(void);          /* package version */

/*
 * ---- Embedding: a bridge inside another program ------------------------
 *
 * A host (the Nightscout plugin, or any C program) creates a bridge,
 * configures it with the same settings the command line reads (environment
 * names: "CONNECT_SOURCE", "CONNECT_SHARE_PASSWORD", "MONGODB_URI", ...),
 * starts it, reads its status, and stops it. The engine runs on a thread
 * of its own: no call here blocks for more than about half a second (a
 * stop waits that long at most for a write already under way).
 *
 *     nsc_embed *e;
 *     struct nsc_error err;
 *     if (nsc_embed_new(&e) != NSC_OK) ...
 *     nsc_embed_set(e, "CONNECT_SOURCE", "linkup");
 *     nsc_embed_set(e, "CONNECT_LINK_UP_USERNAME", "me@example.com");
 *     ...
 *     if (nsc_embed_start(e, &err) != NSC_OK)
 *             fprintf(stderr, "%s\n", err.msg);  // names every bad setting
 *     ...
 *     nsc_embed_stop(e);
 *     nsc_embed_free(e);
 *
 * Thread safety: every function may be called from any one host thread at
 * a time (not concurrently on the same handle). Callbacks run on the
 * engine's thread (logs also on the output's spool thread), never while a
 * host call holds the handle; they must not call nsc_embed_stop/free.
 */
typedef struct nsc_embed nsc_embed;

/* Log levels of nsc_embed_on_log, as CONNECT_LOG_LEVEL names them. */
enum nsc_embed_log_level {
	NSC_EMBED_LOG_ERROR = 0,
	NSC_EMBED_LOG_WARN,
	NSC_EMBED_LOG_INFO,
	NSC_EMBED_LOG_DEBUG,
	NSC_EMBED_LOG_TRACE,
};

/* One poll that stored new documents. */
struct nsc_embed_batch {
	uint64_t stored_entries, stored_treatments, stored_devicestatus, stored_profile;
	int64_t oldest_ms; /* time of the oldest entry, treatment or devicestatus (epoch ms) */
	int64_t newest_ms; /* time of the newest (profiles have no part in either) */
};

struct nsc_embed_status {
	int running;                        /* the engine thread runs */
	nsc_rc last_rc;                     /* how the last poll ended (NSC_OK before the first) */
	char last_error[NSC_ERROR_MSG_MAX]; /* plain words; "" after a success */
	uint64_t polls_ok, polls_failed, logins_rejected, payloads_dropped;
	uint64_t stored_entries, stored_treatments, stored_devicestatus, stored_profile;
	int64_t last_success_ms;            /* wall time of the last good poll, 0 if none */
	int64_t newest_entry_ms;            /* newest reading the output holds, 0 if none */
	int64_t next_poll_in_ms;            /* delay chosen after the last poll, -1 if none */
};

typedef void (*nsc_embed_batch_fn)(void *arg, const struct nsc_embed_batch *batch);
typedef void (*nsc_embed_log_fn)(void *arg, enum nsc_embed_log_level level, const char *line);
/* A poll ended with a problem the user should hear about (once per distinct message). */
typedef void (*nsc_embed_problem_fn)(void *arg, nsc_rc rc, const char *message);

NSC_API nsc_rc nsc_embed_new(nsc_embed **out);
/* Sets one setting (copied); NSC_ERR_CONFIG for a name nsconnect does not know. Before start. */
NSC_API nsc_rc nsc_embed_set(nsc_embed *e, const char *name, const char *value);
/* Settings not set with nsc_embed_set are read from the process environment (off by default). */
NSC_API void nsc_embed_use_environment(nsc_embed *e, int yes);
/*
 * Writes each batch straight into the output instead of through the
 * on-disk spool (off by default). Then a batch callback means the
 * documents are in the database; during an outage the poll fails and the
 * gap is fetched again later.
 */
NSC_API void nsc_embed_write_directly(nsc_embed *e, int yes);
NSC_API void nsc_embed_on_batch(nsc_embed *e, nsc_embed_batch_fn fn, void *arg);
/* Lines are already redacted; without a callback they go to stderr. */
NSC_API void nsc_embed_on_log(nsc_embed *e, nsc_embed_log_fn fn, void *arg);
NSC_API void nsc_embed_on_problem(nsc_embed *e, nsc_embed_problem_fn fn, void *arg);
/*
 * Checks the settings exactly as nsc_embed_start would (values, and whether
 * this build has the source and output), without starting anything: a
 * host can refuse a bad configuration at its own start. NSC_OK, or the
 * code with err->msg naming every missing or malformed variable and the
 * expected form, e.g. "2 settings need fixing: CONNECT_SHARE_ACCOUNT_NAME
 * is not set; ...; CONNECT_SHARE_PASSWORD is not set; ..." (ending
 * "; … and N more" when they do not all fit).
 */
NSC_API nsc_rc nsc_embed_validate(nsc_embed *e, struct nsc_error *err);
/*
 * Validates the settings, opens the output and starts the engine thread.
 * NSC_ERR_CONFIG with err->msg naming every bad variable and the expected
 * form, as nsc_embed_validate; NSC_ERR_STATE when already running. After
 * a failure nothing runs.
 */
NSC_API nsc_rc nsc_embed_start(nsc_embed *e, struct nsc_error *err);
/*
 * Stops the engine. Idempotent. It waits up to half a second for the
 * engine thread, which then flushes and closes the output. A thread still
 * busy after that (a database write that does not answer) is left to
 * finish on its own: it calls no callback any more and frees what it
 * holds when the write returns. A new start may follow at once.
 */
NSC_API void nsc_embed_stop(nsc_embed *e);
NSC_API void nsc_embed_status(nsc_embed *e, struct nsc_embed_status *out);
/* Stops (if running) and frees. NULL is fine. */
NSC_API void nsc_embed_free(nsc_embed *e);

#ifdef __cplusplus
}
#endif
#endif /* NSCONNECT_H */
