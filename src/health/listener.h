/* SPDX-License-Identifier: MIT */
/*
 * The health HTTP listener (libmicrohttpd, on a thread of its own):
 *   GET|HEAD /healthz  200 "ok\n", 503 "stalled\n" when the loop stopped ticking
 *   GET|HEAD /readyz   200 "ready\n", 503 "starting\n"
 *   GET|HEAD /status   200 application/json (render.h)
 *   GET|HEAD /metrics  200 Prometheus text 0.0.4 (render.h)
 * Other paths get 404, other methods 405 with `Allow: GET, HEAD`.
 *
 * Only the nightscout-connect program links it: libnsconnect does not
 * depend on libmicrohttpd.
 *
 * Ownership & concurrency: the board and the log must outlive the
 * listener; requests read the board from the listener's thread.
 */
#ifndef NSC_HEALTH_LISTENER_H
#define NSC_HEALTH_LISTENER_H

#include <stdint.h>

#include "error.h"
#include "health/addr.h"
#include "health/board.h"
#include "log.h"

/* At most this many connections at once; each may idle this long. */
#define NSC_HEALTH_MAX_CONNECTIONS 32
#define NSC_HEALTH_CONNECTION_TIMEOUT_S 10

struct nsc_health_listener;

/*
 * Binds exactly addr and starts serving; logs event=http_listening, and a
 * warning event=http_listen_public when addr is not loopback. NSC_ERR_IO
 * naming CONNECT_HTTP_LISTEN and the address when it cannot bind (the
 * port is taken, the address is not on this machine).
 */
nsc_rc nsc_health_listen(const struct nsc_health_addr *addr, struct nsc_health_board *board,
			 struct nsc_log *log, struct nsc_health_listener **out, struct nsc_error *err);
/* The bound port (the one chosen when addr asked for port 0). */
uint16_t nsc_health_listener_port(const struct nsc_health_listener *l);
/* Stops serving and frees; NULL is harmless. */
void nsc_health_listener_stop(struct nsc_health_listener *l);

#endif
