/* SPDX-License-Identifier: MIT */
/*
 * What `forever` and `serve` share around the loop: a timer that turns
 * every second (the health board's sign of life, and the command's own
 * housekeeping), and the optional status listener of CONNECT_HTTP_LISTEN
 * (/healthz, /readyz, /status, /metrics) over the health board.
 */
#ifndef NSC_CLI_HEALTH_HTTP_H
#define NSC_CLI_HEALTH_HTTP_H

#include <stdint.h>

#include "engine/loop.h"
#include "error.h"
#include "health/board.h"
#include "health/listener.h"
#include "log.h"

struct nsc_cli_health {
	struct nsc_loop *loop;
	struct nsc_health_board *board;       /* NULL without a listener */
	struct nsc_health_listener *listener;
	uint64_t timer;
	void (*every_second)(void *arg);      /* may be NULL */
	void *arg;
};

/*
 * Starts the per-second timer and, when listen is set (CONNECT_HTTP_LISTEN's
 * text), the board and its listener. NSC_ERR_CONFIG/NSC_ERR_IO when the
 * address is refused or cannot be bound (err says which, naming the setting).
 */
nsc_rc nsc_cli_health_start(struct nsc_cli_health *h, struct nsc_loop *loop, const char *listen,
			    struct nsc_log *log, void (*every_second)(void *arg), void *arg,
			    struct nsc_error *err);
/* Stops the listener and the timer and frees the board. */
void nsc_cli_health_stop(struct nsc_cli_health *h);

#endif
