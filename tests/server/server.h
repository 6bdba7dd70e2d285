/* SPDX-License-Identifier: MIT */
/*
 * A scriptable HTTP test server on libmicrohttpd, for tests that talk to
 * real sockets: it listens on 127.0.0.1 (port 0 picks a free one), routes
 * (method, path prefix) to handlers, records every request (method, path,
 * query arguments, headers, body, status sent) so tests can assert on them,
 * and can be scripted per route to misbehave: answer with a status, answer
 * late, never answer until stopped, cut the body short, or send broken JSON.
 *
 * The core knows no API. Vendor and Nightscout APIs register routes on it
 * (tests/server/nightscout.h).
 *
 * Ownership & concurrency: MHD serves each connection on its own thread
 * (internal polling thread + thread per connection; or a few polling
 * threads for many clients, tsrv_start_with), so handlers run
 * concurrently with the test thread and with each other. Routes, faults and
 * recorded requests are guarded by the server's mutex; handlers guard their
 * own state. Recorded requests are immutable once recorded and stay valid
 * until tsrv_clear_requests() or tsrv_stop().
 */
#ifndef NSC_TESTS_SERVER_H
#define NSC_TESTS_SERVER_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define TSRV_MAX_ROUTES 64
#define TSRV_MAX_FAULTS 32
#define TSRV_MAX_RESPONSE_HEADERS 8
#define TSRV_MAX_UPLOAD (64u * 1024u * 1024u) /* larger bodies get 413 */

struct tsrv;

struct tsrv_kv {
	char *name;
	char *value; /* "" for a query argument without a value */
};

/* One request as the server saw it (path and arguments percent-decoded). */
struct tsrv_request {
	char method[16];
	char *path;
	char *query;               /* decoded "k=v&k2=v2" in arrival order, "" when none */
	struct tsrv_kv *headers;
	size_t nheaders;
	struct tsrv_kv *args;      /* query arguments */
	size_t nargs;
	char *body;                /* NUL-terminated (also when empty) */
	size_t body_len;
	int status;                /* status sent; 0 when the server hung up or never answered */
};

/* What a handler answers. The core frees it. */
struct tsrv_response {
	int status;
	char *body;
	size_t body_len;
	char content_type[64];
	struct tsrv_kv headers[TSRV_MAX_RESPONSE_HEADERS];
	size_t nheaders;
};

typedef void (*tsrv_handler)(void *arg, const struct tsrv_request *req,
			     struct tsrv_response *resp);

/*
 * Misbehaviour for requests matching (method or NULL for any, path prefix).
 * The first matching fault applies; `after` matching requests pass
 * untouched before it does (a failure part-way through a batch), then
 * `times` counts down to removal (0 means until tsrv_fault_clear()).
 */
struct tsrv_fault {
	int status;        /* > 0: answer this instead of calling the handler */
	const char *body;  /* body for `status` (copied); NULL: {"status":N,"message":"scripted fault"} */
	int delay_ms;      /* wait before answering */
	bool hang;         /* never answer until the server stops */
	bool truncate;     /* announce the full length, send half, close */
	bool malformed;    /* replace the body with broken JSON */
	int times;
	int after;         /* matching requests served normally before the fault applies */
};

/* Starts on 127.0.0.1:port (0 = any free port). NULL on failure (message on stderr). */
struct tsrv *tsrv_start(unsigned short port);

/*
 * How a server for many clients runs (zeroes are tsrv_start's way: a thread
 * per connection, libmicrohttpd's connection limit, every request kept).
 */
struct tsrv_options {
	/*
	 * > 0: this many threads poll all connections (epoll) instead of one
	 * thread per connection; a handler or fault that waits (delay_ms, hang)
	 * then holds up every connection of its thread.
	 */
	unsigned threads;
	unsigned connection_limit; /* connections open at once; 0: libmicrohttpd's default */
	bool no_record;            /* forget each request once answered: the record stays empty */
	FILE *log_requests;        /* not NULL: one "METHOD PATH" line per answered request */
};
/* tsrv_start with options (NULL: none). */
struct tsrv *tsrv_start_with(unsigned short port, const struct tsrv_options *opts);
/* Releases hung requests, stops the threads and frees everything. */
void tsrv_stop(struct tsrv *s);
unsigned short tsrv_port(const struct tsrv *s);
/* "http://127.0.0.1:<port>" */
const char *tsrv_url(const struct tsrv *s);

/* Longest matching prefix wins; method NULL matches any. Returns 0, -1 when full. */
int tsrv_route(struct tsrv *s, const char *method, const char *path_prefix, tsrv_handler fn,
	       void *arg);

int tsrv_fault_add(struct tsrv *s, const char *method, const char *path_prefix,
		   const struct tsrv_fault *f);
void tsrv_fault_clear(struct tsrv *s);

/* ---- recorded requests ---- */
size_t tsrv_request_count(struct tsrv *s);
const struct tsrv_request *tsrv_request_at(struct tsrv *s, size_t i);
/* Requests matching (method or NULL, path prefix or NULL). */
size_t tsrv_count(struct tsrv *s, const char *method, const char *path_prefix);
/* The n-th (0-based) matching request, NULL if fewer. */
const struct tsrv_request *tsrv_find(struct tsrv *s, const char *method, const char *path_prefix,
				     size_t n);
void tsrv_clear_requests(struct tsrv *s);
/* TCP connections accepted since start (keep-alive shows as fewer connections than requests). */
size_t tsrv_connections(struct tsrv *s);
/* True if `needle` occurs in any recorded path, query, header name or value, or body. */
bool tsrv_seen_anywhere(struct tsrv *s, const char *needle);

/* Case-insensitive header lookup; NULL when absent. */
const char *tsrv_header(const struct tsrv_request *r, const char *name);
/* Query argument lookup; NULL when absent. */
const char *tsrv_arg(const struct tsrv_request *r, const char *name);

/* ---- allocation for the simulators ---- */
/*
 * A test server that runs out of memory cannot answer truthfully: these
 * print "<who>: out of memory" and abort instead of returning NULL.
 */
void tsrv_oom(const char *who) __attribute__((noreturn));
/* strdup of s (NULL copies as ""), or tsrv_oom(who). */
char *tsrv_xstrdup(const char *who, const char *s);

/* ---- small helpers shared by the simulators ---- */
/* json-c constructors and adders that abort ("tsrv: out of memory") rather than fail; v NULL too. */
struct json_object *tsrv_jobject(void);
struct json_object *tsrv_jarray(void);
void tsrv_jset(struct json_object *o, const char *key, struct json_object *v);
void tsrv_jpush(struct json_object *array, struct json_object *v);
/* SplitMix64's finaliser: well-spread deterministic values from a seed. */
uint64_t tsrv_mix64(uint64_t x);
/* Division rounding towards minus infinity (b > 0 or < 0, not 0). */
int64_t tsrv_floor_div(int64_t a, int64_t b);
/* CLOCK_REALTIME in epoch milliseconds. */
int64_t tsrv_real_now_ms(void);

/* ---- building responses (for handlers) ---- */
/* Copies body; content_type NULL means application/json. */
void tsrv_respond(struct tsrv_response *r, int status, const char *content_type, const char *body,
		  size_t len);
/* Serialises doc (not consumed). */
void tsrv_respond_json(struct tsrv_response *r, int status, struct json_object *doc);
/* tsrv_respond_json, then releases doc. */
void tsrv_respond_doc(struct tsrv_response *r, int status, struct json_object *doc);
/* {"status":N,"message":msg} */
void tsrv_respond_error(struct tsrv_response *r, int status, const char *message);
void tsrv_respond_header(struct tsrv_response *r, const char *name, const char *value);

#endif
