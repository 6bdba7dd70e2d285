/* SPDX-License-Identifier: MIT */
/*
 * What the commands that run a bridge share: stopping the loop on SIGINT
 * and SIGTERM, waiting for a spooled output, the summary `capture` and
 * `backfill` print (as the store saw it), and the exit status it maps to.
 */
#ifndef NSC_CLI_RUN_COMMON_H
#define NSC_CLI_RUN_COMMON_H

#include <stdbool.h>

#include "engine/bridge.h"
#include "engine/loop.h"
#include "nsc_config.h"

/* SIGINT and SIGTERM stop loop (SIGPIPE ignored). 0, or -1 with errno. */
int nsc_cli_signals_install(struct nsc_loop *loop);
/* Signals reach no loop from now on. */
void nsc_cli_signals_clear(void);
/* SIGHUP asks for a reload, which nsc_cli_reload_requested() tells (once). 0, or -1 with errno. */
int nsc_cli_reload_signal_install(void);
bool nsc_cli_reload_requested(void);

/* Whether the stats count any document stored. */
bool nsc_cli_stored_any(const struct nsc_bridge_stats *st);

/*
 * Waits for a spooled output to deliver what it accepted, then prints the
 * summary as the store saw it (into *st). Returns the flush's result (err
 * says what still waits), for nsc_cli_undelivered_status().
 */
nsc_rc nsc_cli_deliver_and_summarize(struct nsc_bridge *b, const struct nsc_config *cfg, struct nsc_bridge_stats *st,
				     struct nsc_error *err);

/* After a failed delivery: prints what still waits and makes a success TEMPFAIL; else status as it is. */
int nsc_cli_undelivered_status(nsc_rc delivered, const struct nsc_error *err, int status);

/* The exit status for how the last frame ended and whether anything was stored. */
int nsc_cli_summary_status(const struct nsc_bridge_stats *st);

/* A bridge's creation error as an exit status (configuration or internal). */
int nsc_cli_create_status(nsc_rc rc);

#endif
