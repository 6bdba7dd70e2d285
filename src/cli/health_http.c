/* SPDX-License-Identifier: MIT */
/* The per-second timer and the status listener of the long-running commands (see health_http.h). */
#include "config.h"

#include <string.h>

#include "cli/health_http.h"
#include "health/addr.h"

#define TICK_MS 1000

static void on_tick(void *arg)
{
	struct nsc_cli_health *h = arg;
	h->timer = 0;
	if (h->board)
		nsc_health_board_tick(h->board);
	if (h->every_second)
		h->every_second(h->arg);
	(void)nsc_loop_timer_in(h->loop, TICK_MS, on_tick, h, &h->timer);
}

nsc_rc nsc_cli_health_start(struct nsc_cli_health *h, struct nsc_loop *loop, const char *listen,
			    struct nsc_log *log, void (*every_second)(void *arg), void *arg,
			    struct nsc_error *err)
{
	memset(h, 0, sizeof(*h));
	h->loop = loop;
	h->every_second = every_second;
	h->arg = arg;
	if (listen && listen[0]) {
		struct nsc_health_addr addr;
		nsc_rc rc = nsc_health_addr_parse(listen, &addr, err);
		if (rc != NSC_OK)
			return rc;
		if (nsc_health_board_new(nsc_loop_clock(loop), &h->board) != NSC_OK)
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
		nsc_health_board_tick(h->board);
		rc = nsc_health_listen(&addr, h->board, log, &h->listener, err);
		if (rc != NSC_OK) {
			nsc_health_board_free(h->board);
			h->board = NULL;
			return rc;
		}
	}
	if (nsc_loop_timer_in(loop, TICK_MS, on_tick, h, &h->timer) != NSC_OK) {
		nsc_cli_health_stop(h);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
	}
	return NSC_OK;
}

void nsc_cli_health_stop(struct nsc_cli_health *h)
{
	nsc_loop_timer_cancel(h->loop, &h->timer);
	nsc_health_listener_stop(h->listener);
	h->listener = NULL;
	nsc_health_board_free(h->board);
	h->board = NULL;
}
