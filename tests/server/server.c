/* SPDX-License-Identifier: MIT */
/*
 * The generic core of the HTTP test server (see server.h): MHD daemon,
 * route table, scripted faults and the record of every request.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "server.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
/* What a "malformed" fault sends: JSON cut off in the middle of an object. */
#define MALFORMED_BODY "{\"status\":200,\"result\":[{\"date\":16"

struct route {
	char method[16]; /* "" = any */
	char *prefix;
	tsrv_handler fn;
	void *arg;
};

struct fault {
	char method[16]; /* "" = any */
	char *prefix;
	struct tsrv_fault f;
	char *body;
};

struct tsrv {
	struct MHD_Daemon *daemon;
	unsigned short port;
	char url[64];

	pthread_mutex_t lock;
	pthread_cond_t wake; /* broadcast on stop: releases hung and delayed requests */
	bool stopping;

	struct route routes[TSRV_MAX_ROUTES];
	size_t nroutes;
	struct fault faults[TSRV_MAX_FAULTS];
	size_t nfaults;

	bool no_record; /* requests are freed once answered */
	FILE *log_requests;
	struct tsrv_request **reqs;
	size_t nreqs, capreqs;
	size_t connections; /* TCP connections accepted so far */
};

/* Per-connection upload state. */
struct upload {
	char *body;
	size_t len, cap;
	bool too_large;
	bool failed;
};

/* ---- small helpers ------------------------------------------------------ */

static char *dup_or_die(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fprintf(stderr, "tsrv: out of memory\n");
		abort();
	}
	return d;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "tsrv: out of memory\n");
		abort();
	}
	return q;
}

static bool method_matches(const char *want, const char *method)
{
	return want[0] == '\0' || strcasecmp(want, method) == 0;
}

static bool prefix_matches(const char *prefix, const char *path)
{
	return prefix == NULL || strncmp(path, prefix, strlen(prefix)) == 0;
}

static void set_method(char dst[16], const char *method)
{
	snprintf(dst, 16, "%s", method ? method : "");
}

static void request_free(struct tsrv_request *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->query);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	for (size_t i = 0; i < r->nargs; i++) {
		free(r->args[i].name);
		free(r->args[i].value);
	}
	free(r->args);
	free(r->body);
	free(r);
}

static void response_free(struct tsrv_response *r)
{
	free(r->body);
	r->body = NULL;
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
}

/* ---- response builders ---------------------------------------------------- */

void tsrv_respond(struct tsrv_response *r, int status, const char *content_type, const char *body,
		  size_t len)
{
	free(r->body);
	r->status = status;
	r->body = xrealloc(NULL, len + 1);
	if (len)
		memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->body_len = len;
	snprintf(r->content_type, sizeof(r->content_type), "%s",
		 content_type ? content_type : "application/json");
}

void tsrv_respond_json(struct tsrv_response *r, int status, struct json_object *doc)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(doc, JSON_FLAGS, &len);

	if (!text) {
		fprintf(stderr, "tsrv: cannot serialise a response\n");
		abort();
	}
	tsrv_respond(r, status, NULL, text, len);
}

void tsrv_respond_error(struct tsrv_response *r, int status, const char *message)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		abort();
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "message", json_object_new_string(message));
	tsrv_respond_json(r, status, o);
	json_object_put(o);
}

void tsrv_respond_header(struct tsrv_response *r, const char *name, const char *value)
{
	if (r->nheaders >= TSRV_MAX_RESPONSE_HEADERS) {
		fprintf(stderr, "tsrv: too many response headers\n");
		abort();
	}
	r->headers[r->nheaders].name = dup_or_die(name);
	r->headers[r->nheaders].value = dup_or_die(value);
	r->nheaders++;
}

/* ---- recording ------------------------------------------------------------- */

struct kv_list {
	struct tsrv_kv *items;
	size_t n;
};

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct kv_list *l = cls;

	(void)kind;
	l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
	l->items[l->n].name = dup_or_die(key);
	l->items[l->n].value = dup_or_die(value);
	l->n++;
	return MHD_YES;
}

static char *join_query(const struct tsrv_kv *args, size_t n)
{
	size_t len = 1;
	char *q, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(args[i].name) + strlen(args[i].value) + 2;
	q = xrealloc(NULL, len);
	p = q;
	*p = '\0';
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "%s%s=%s", i ? "&" : "", args[i].name, args[i].value);
	}
	return q;
}

static struct tsrv_request *request_new(struct MHD_Connection *conn, const char *url,
					const char *method, struct upload *up)
{
	struct tsrv_request *r = calloc(1, sizeof(*r));
	struct kv_list h = { 0 }, a = { 0 };

	if (!r)
		abort();
	set_method(r->method, method);
	r->path = dup_or_die(url);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_kv, &h);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_kv, &a);
	r->headers = h.items;
	r->nheaders = h.n;
	r->args = a.items;
	r->nargs = a.n;
	r->query = join_query(r->args, r->nargs);
	r->body = xrealloc(NULL, up->len + 1);
	if (up->len)
		memcpy(r->body, up->body, up->len);
	r->body[up->len] = '\0';
	r->body_len = up->len;
	return r;
}

/* Appends a finished record (the server takes ownership), or frees it when not recording. */
static void record(struct tsrv *s, struct tsrv_request *r)
{
	if (s->log_requests) {
		flockfile(s->log_requests);
		fprintf(s->log_requests, "%s %s\n", r->method, r->path);
		fflush(s->log_requests);
		funlockfile(s->log_requests);
	}
	if (s->no_record) {
		request_free(r);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->nreqs == s->capreqs) {
		s->capreqs = s->capreqs ? s->capreqs * 2 : 64;
		s->reqs = xrealloc(s->reqs, s->capreqs * sizeof(*s->reqs));
	}
	s->reqs[s->nreqs++] = r;
	pthread_mutex_unlock(&s->lock);
}

const char *tsrv_header(const struct tsrv_request *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

const char *tsrv_arg(const struct tsrv_request *r, const char *name)
{
	for (size_t i = 0; i < r->nargs; i++)
		if (strcmp(r->args[i].name, name) == 0)
			return r->args[i].value;
	return NULL;
}

size_t tsrv_request_count(struct tsrv *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->nreqs;
	pthread_mutex_unlock(&s->lock);
	return n;
}

const struct tsrv_request *tsrv_request_at(struct tsrv *s, size_t i)
{
	const struct tsrv_request *r = NULL;

	pthread_mutex_lock(&s->lock);
	if (i < s->nreqs)
		r = s->reqs[i];
	pthread_mutex_unlock(&s->lock);
	return r;
}

static bool request_matches(const struct tsrv_request *r, const char *method,
			    const char *path_prefix)
{
	return (method == NULL || strcasecmp(method, r->method) == 0) &&
	       prefix_matches(path_prefix, r->path);
}

size_t tsrv_count(struct tsrv *s, const char *method, const char *path_prefix)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nreqs; i++)
		if (request_matches(s->reqs[i], method, path_prefix))
			n++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

const struct tsrv_request *tsrv_find(struct tsrv *s, const char *method, const char *path_prefix,
				     size_t n)
{
	const struct tsrv_request *found = NULL;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nreqs && !found; i++) {
		if (!request_matches(s->reqs[i], method, path_prefix))
			continue;
		if (n == 0)
			found = s->reqs[i];
		else
			n--;
	}
	pthread_mutex_unlock(&s->lock);
	return found;
}

void tsrv_clear_requests(struct tsrv *s)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nreqs; i++)
		request_free(s->reqs[i]);
	s->nreqs = 0;
	pthread_mutex_unlock(&s->lock);
}

static bool contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || len < n)
		return false;
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

bool tsrv_seen_anywhere(struct tsrv *s, const char *needle)
{
	bool seen = false;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nreqs && !seen; i++) {
		const struct tsrv_request *r = s->reqs[i];

		seen = contains(r->path, strlen(r->path), needle) ||
		       contains(r->query, strlen(r->query), needle) ||
		       contains(r->body, r->body_len, needle);
		for (size_t h = 0; h < r->nheaders && !seen; h++)
			seen = contains(r->headers[h].name, strlen(r->headers[h].name), needle) ||
			       contains(r->headers[h].value, strlen(r->headers[h].value), needle);
	}
	pthread_mutex_unlock(&s->lock);
	return seen;
}

/* ---- routes and faults ------------------------------------------------------ */

int tsrv_route(struct tsrv *s, const char *method, const char *path_prefix, tsrv_handler fn,
	       void *arg)
{
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	if (s->nroutes < TSRV_MAX_ROUTES) {
		struct route *r = &s->routes[s->nroutes++];

		set_method(r->method, method);
		r->prefix = dup_or_die(path_prefix);
		r->fn = fn;
		r->arg = arg;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int tsrv_fault_add(struct tsrv *s, const char *method, const char *path_prefix,
		   const struct tsrv_fault *f)
{
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	if (s->nfaults < TSRV_MAX_FAULTS) {
		struct fault *x = &s->faults[s->nfaults++];

		set_method(x->method, method);
		x->prefix = dup_or_die(path_prefix);
		x->f = *f;
		x->body = f->body ? dup_or_die(f->body) : NULL;
		x->f.body = x->body;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void fault_remove_locked(struct tsrv *s, size_t i)
{
	free(s->faults[i].prefix);
	free(s->faults[i].body);
	memmove(&s->faults[i], &s->faults[i + 1], (s->nfaults - i - 1) * sizeof(s->faults[0]));
	s->nfaults--;
}

void tsrv_fault_clear(struct tsrv *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->nfaults > 0)
		fault_remove_locked(s, s->nfaults - 1);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Under the lock: takes the first fault matching the request (copying its
 * body into *body_out) and the longest matching route.
 */
static bool pick_locked(struct tsrv *s, const struct tsrv_request *req, struct tsrv_fault *fault,
			char **body_out, struct route *route)
{
	bool have_fault = false;
	size_t best = 0;

	*body_out = NULL;
	for (size_t i = 0; i < s->nfaults; i++) {
		struct fault *x = &s->faults[i];

		if (!method_matches(x->method, req->method) || !prefix_matches(x->prefix, req->path))
			continue;
		if (x->f.after > 0) {
			x->f.after--;
			break; /* this request passes; no later fault applies either */
		}
		*fault = x->f;
		*body_out = x->body ? dup_or_die(x->body) : NULL;
		fault->body = *body_out;
		have_fault = true;
		if (x->f.times > 0 && --x->f.times == 0)
			fault_remove_locked(s, i);
		break;
	}
	memset(route, 0, sizeof(*route));
	for (size_t i = 0; i < s->nroutes; i++) {
		struct route *r = &s->routes[i];
		size_t n = strlen(r->prefix);

		if (method_matches(r->method, req->method) && prefix_matches(r->prefix, req->path) &&
		    (route->fn == NULL || n > best)) {
			*route = *r;
			best = n;
		}
	}
	return have_fault;
}

/* Waits until the server stops or ms pass (ms < 0: until it stops). */
static void wait_or_stop(struct tsrv *s, int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	if (ms >= 0) {
		until.tv_sec += ms / 1000;
		until.tv_nsec += (long)(ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		if (ms < 0) {
			pthread_cond_wait(&s->wake, &s->lock);
		} else if (pthread_cond_timedwait(&s->wake, &s->lock, &until) == ETIMEDOUT) {
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* ---- MHD callbacks ------------------------------------------------------------ */

struct cut_body {
	char *data;
	size_t send; /* bytes sent before the connection is dropped */
};

static ssize_t cut_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct cut_body *c = cls;

	if (pos >= c->send)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = c->send - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, c->data + pos, n);
	return (ssize_t)n;
}

static void cut_free(void *cls)
{
	struct cut_body *c = cls;

	free(c->data);
	free(c);
}

static struct MHD_Response *make_mhd_response(struct tsrv_response *resp, bool truncate)
{
	struct MHD_Response *m;

	if (truncate) {
		struct cut_body *c = calloc(1, sizeof(*c));
		uint64_t announced = resp->body_len ? resp->body_len : 16;

		if (!c)
			abort();
		c->data = resp->body;
		c->send = resp->body_len / 2;
		resp->body = NULL;
		m = MHD_create_response_from_callback(announced, 1024, cut_reader, c, cut_free);
		if (!m)
			cut_free(c);
	} else {
		m = MHD_create_response_from_buffer(resp->body_len, resp->body ? resp->body : (void *)"",
						    MHD_RESPMEM_MUST_COPY);
	}
	if (!m)
		return NULL;
	MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	for (size_t i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(m, resp->headers[i].name, resp->headers[i].value);
	return m;
}

static enum MHD_Result dispatch(struct tsrv *s, struct MHD_Connection *conn, const char *url,
				const char *method, struct upload *up)
{
	struct tsrv_request *req = request_new(conn, url, method, up);
	struct tsrv_response resp = { 0 };
	struct tsrv_fault fault = { 0 };
	struct route route;
	char *fault_body = NULL;
	bool have_fault;
	enum MHD_Result ret;

	pthread_mutex_lock(&s->lock);
	have_fault = pick_locked(s, req, &fault, &fault_body, &route);
	pthread_mutex_unlock(&s->lock);

	if (have_fault && fault.hang) {
		free(fault_body);
		req->status = 0;
		record(s, req);
		wait_or_stop(s, -1);
		return MHD_NO; /* drops the connection */
	}
	if (have_fault && fault.delay_ms > 0)
		wait_or_stop(s, fault.delay_ms);

	if (up->too_large) {
		tsrv_respond_error(&resp, 413, "Payload Too Large");
	} else if (have_fault && fault.status > 0) {
		if (fault.body) {
			tsrv_respond(&resp, fault.status, NULL, fault.body, strlen(fault.body));
		} else {
			tsrv_respond_error(&resp, fault.status, "scripted fault");
		}
	} else if (route.fn) {
		route.fn(route.arg, req, &resp);
		if (resp.status == 0)
			tsrv_respond_error(&resp, 500, "handler gave no answer");
	} else {
		tsrv_respond_error(&resp, 404, "Not Found");
	}
	free(fault_body);
	if (have_fault && fault.malformed)
		tsrv_respond(&resp, resp.status, NULL, MALFORMED_BODY, strlen(MALFORMED_BODY));

	req->status = resp.status;
	record(s, req);

	struct MHD_Response *m = make_mhd_response(&resp, have_fault && fault.truncate);
	if (!m) {
		response_free(&resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, (unsigned)resp.status, m);
	MHD_destroy_response(m);
	response_free(&resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct tsrv *s = cls;
	struct upload *up = *con_cls;

	(void)version;
	if (!up) {
		up = calloc(1, sizeof(*up));
		if (!up)
			return MHD_NO;
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (up->too_large || n > TSRV_MAX_UPLOAD - up->len) {
			up->too_large = true;
			return MHD_YES;
		}
		if (up->len + n + 1 > up->cap) {
			size_t cap = up->cap ? up->cap : 4096;

			while (cap < up->len + n + 1)
				cap *= 2;
			up->body = xrealloc(up->body, cap);
			up->cap = cap;
		}
		memcpy(up->body + up->len, upload_data, n);
		up->len += n;
		return MHD_YES;
	}
	return dispatch(s, conn, url, method, up);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (up) {
		free(up->body);
		free(up);
		*con_cls = NULL;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct tsrv *s = cls;

	(void)conn;
	(void)socket_context;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&s->lock);
	s->connections++;
	pthread_mutex_unlock(&s->lock);
}

size_t tsrv_connections(struct tsrv *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->connections;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- lifecycle ------------------------------------------------------------------ */

struct tsrv *tsrv_start(unsigned short port)
{
	return tsrv_start_with(port, NULL);
}

struct tsrv *tsrv_start_with(unsigned short port, const struct tsrv_options *opts)
{
	static const struct tsrv_options none = { 0 };
	struct tsrv *s = calloc(1, sizeof(*s));
	struct sockaddr_in addr;
	pthread_condattr_t ca;
	const union MHD_DaemonInfo *info;
	struct MHD_OptionItem extra[3];
	size_t nextra = 0;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

	if (!s)
		return NULL;
	if (!opts)
		opts = &none;
	s->no_record = opts->no_record;
	s->log_requests = opts->log_requests;
	if (opts->threads > 0)
		extra[nextra++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
							   (intptr_t)opts->threads, NULL };
	else
		flags |= MHD_USE_THREAD_PER_CONNECTION;
	if (opts->connection_limit > 0)
		extra[nextra++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
							   (intptr_t)opts->connection_limit, NULL };
	extra[nextra] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
				     (const struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
				     on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
				     MHD_OPTION_ARRAY, extra, MHD_OPTION_END);
	if (!s->daemon) {
		fprintf(stderr, "tsrv: cannot start the HTTP server on 127.0.0.1:%u\n", port);
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", s->port);
	return s;
}

void tsrv_stop(struct tsrv *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	MHD_stop_daemon(s->daemon);

	tsrv_clear_requests(s);
	free(s->reqs);
	tsrv_fault_clear(s);
	for (size_t i = 0; i < s->nroutes; i++)
		free(s->routes[i].prefix);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

unsigned short tsrv_port(const struct tsrv *s)
{
	return s->port;
}

const char *tsrv_url(const struct tsrv *s)
{
	return s->url;
}

void tsrv_oom(const char *who)
{
	fprintf(stderr, "%s: out of memory\n", who);
	abort();
}

char *tsrv_xstrdup(const char *who, const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		tsrv_oom(who);
	return d;
}

struct json_object *tsrv_jobject(void)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		tsrv_oom("tsrv");
	return o;
}

struct json_object *tsrv_jarray(void)
{
	struct json_object *a = json_object_new_array();
	if (!a)
		tsrv_oom("tsrv");
	return a;
}

void tsrv_jset(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(o, key, v) != 0)
		tsrv_oom("tsrv");
}

void tsrv_jpush(struct json_object *array, struct json_object *v)
{
	if (!v || json_object_array_add(array, v) != 0)
		tsrv_oom("tsrv");
}

void tsrv_respond_doc(struct tsrv_response *r, int status, struct json_object *doc)
{
	tsrv_respond_json(r, status, doc);
	json_object_put(doc);
}

uint64_t tsrv_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int64_t tsrv_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if (a % b != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t tsrv_real_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
