/* SPDX-License-Identifier: MIT */
/* The health HTTP listener on libmicrohttpd (see listener.h). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "health/listener.h"
#include "health/render.h"

#define COMP "health"
#define TEXT_PLAIN "text/plain; charset=utf-8"
#define PROMETHEUS_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define ALLOWED "GET, HEAD"

struct nsc_health_listener {
	struct MHD_Daemon *daemon;
	struct nsc_health_board *board;
	struct nsc_log *log;
	uint16_t port;
	pthread_mutex_t mu; /* guards started and why */
	bool started;
	char why[256]; /* the first thing libmicrohttpd said while starting */
};

/* libmicrohttpd's own messages: kept as the reason while starting, logged after. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct nsc_health_listener *l = cls;
	char msg[256];
	size_t n;
	bool started;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	pthread_mutex_lock(&l->mu);
	started = l->started;
	if (!started && l->why[0] == '\0')
		snprintf(l->why, sizeof(l->why), "%s", msg);
	pthread_mutex_unlock(&l->mu);
	if (started)
		nsc_warn(l->log, COMP, "event=http_error msg=\"%s\"", msg);
}

/* ---- responses ----------------------------------------------------------------- */

/*
 * Queues status with body (len bytes). An owned body is malloc'd and
 * freed by libmicrohttpd (or here, when that fails); else it is static.
 */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, bool owned)
{
	struct MHD_Response *resp;
	enum MHD_Result ret = MHD_NO;

	if (owned)
		resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	else
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (owned)
			free(body);
		return MHD_NO; /* out of memory: drop the connection */
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES &&
	    (status != MHD_HTTP_METHOD_NOT_ALLOWED ||
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, ALLOWED) == MHD_YES))
		ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return reply(conn, status, TEXT_PLAIN, (char *)text, strlen(text), false);
}

static enum MHD_Result reply_rendered(struct MHD_Connection *conn, const char *type, char *body,
				      size_t len)
{
	if (!body)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(conn, MHD_HTTP_OK, type, body, len, true);
}

/* ---- routes --------------------------------------------------------------------- */

static enum MHD_Result healthz(struct nsc_health_board *b, struct MHD_Connection *conn)
{
	if (nsc_health_board_alive(b))
		return reply_text(conn, MHD_HTTP_OK, "ok\n");
	return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "stalled\n");
}

static enum MHD_Result readyz(struct nsc_health_board *b, struct MHD_Connection *conn)
{
	if (nsc_health_board_ready(b))
		return reply_text(conn, MHD_HTTP_OK, "ready\n");
	return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "starting\n");
}

static enum MHD_Result status(struct nsc_health_board *b, struct MHD_Connection *conn)
{
	size_t len = 0;
	char *body = nsc_health_render_status(b, &len);
	return reply_rendered(conn, "application/json", body, len);
}

static enum MHD_Result metrics(struct nsc_health_board *b, struct MHD_Connection *conn)
{
	size_t len = 0;
	char *body = nsc_health_render_metrics(b, &len);
	return reply_rendered(conn, PROMETHEUS_TEXT, body, len);
}

static const struct route {
	const char *path;
	enum MHD_Result (*serve)(struct nsc_health_board *b, struct MHD_Connection *conn);
} routes[] = {
	{ "/healthz", healthz },
	{ "/readyz", readyz },
	{ "/status", status },
	{ "/metrics", metrics },
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct nsc_health_listener *l = cls;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(url, routes[i].path) != 0)
			continue;
		/* A body (POST, PUT) is never read: the answer goes out before it. */
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
		return routes[i].serve(l->board, conn);
	}
	return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ---- lifecycle -------------------------------------------------------------------- */

union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

static void to_sockaddr(const struct nsc_health_addr *a, union sockaddr_any *out)
{
	memset(out, 0, sizeof(*out));
	if (a->ipv6) {
		out->v6.sin6_family = AF_INET6;
		out->v6.sin6_port = htons(a->port);
		(void)inet_pton(AF_INET6, a->host, &out->v6.sin6_addr); /* parsed before */
	} else {
		out->v4.sin_family = AF_INET;
		out->v4.sin_port = htons(a->port);
		(void)inet_pton(AF_INET, a->host, &out->v4.sin_addr);
	}
}

nsc_rc nsc_health_listen(const struct nsc_health_addr *addr, struct nsc_health_board *board,
			 struct nsc_log *log, struct nsc_health_listener **out, struct nsc_error *err)
{
	char where[NSC_HEALTH_ADDR_TEXT_MAX];
	union sockaddr_any sa;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	struct nsc_health_listener *l = calloc(1, sizeof(*l));

	if (!l)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory starting the health listener");
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory starting the health listener");
	}
	l->board = board;
	l->log = log;
	if (addr->ipv6)
		flags |= MHD_USE_IPv6;
	to_sockaddr(addr, &sa);
	nsc_health_addr_format(addr, where, sizeof(where));

	l->daemon = MHD_start_daemon(flags, addr->port, NULL, NULL, on_request, l,
				     MHD_OPTION_SOCK_ADDR, &sa.sa,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)NSC_HEALTH_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)NSC_HEALTH_CONNECTION_TIMEOUT_S,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l,
				     MHD_OPTION_END);
	if (!l->daemon) {
		nsc_rc rc = nsc_error_set(err, NSC_ERR_IO,
					  "%s=%s: cannot listen there (%s); another program may use the "
					  "port, or the address is not one of this machine's: choose "
					  "another port or address",
					  NSC_HEALTH_LISTEN_SETTING, where,
					  l->why[0] ? l->why : "no reason given");
		pthread_mutex_destroy(&l->mu);
		free(l);
		return rc;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
	l->port = info && info->port ? info->port : addr->port;
	pthread_mutex_lock(&l->mu);
	l->started = true;
	pthread_mutex_unlock(&l->mu);

	struct nsc_health_addr bound = *addr;
	bound.port = l->port;
	nsc_health_addr_format(&bound, where, sizeof(where));
	nsc_info(log, COMP, "event=http_listening addr=%s", where);
	if (!addr->loopback)
		nsc_warn(log, COMP,
			 "event=http_listen_public addr=%s msg=\"%s\"", where,
			 "the health, status and metrics pages can be read from other machines; "
			 "they show tenant names, states and errors (no passwords): set "
			 NSC_HEALTH_LISTEN_SETTING " to 127.0.0.1:PORT unless a firewall or proxy "
			 "guards this port");
	*out = l;
	return NSC_OK;
}

uint16_t nsc_health_listener_port(const struct nsc_health_listener *l)
{
	return l->port;
}

void nsc_health_listener_stop(struct nsc_health_listener *l)
{
	if (!l)
		return;
	MHD_stop_daemon(l->daemon);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
