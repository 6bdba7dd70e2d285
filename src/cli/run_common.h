/* SPDX-License-Identifier: MIT */
/*
 * What the commands that run a bridge share: stopping the loop on SIGINT
 * and SIGTERM, the summary `capture` and `backfill` print, and the exit
 * status it maps to.
 */
#ifndef NSC_CLI_RUN_COMMON_H
#define NSC_CLI_RUN_COMMON_H

#include "engine/bridge.h"
#include "engine/loop.h"
#include "nsc_config.h"

/* SIGINT and SIGTERM stop loop (SIGPIPE ignored). 0, or -1 with errno. */
int nsc_cli_signals_install(struct nsc_loop *loop);
/* Signals reach no loop from now on. */
void nsc_cli_signals_clear(void);

/*
 * The bridge's stats as the store saw them: with a spooled output, what
 * it stored and already held once delivered, not what the spool accepted
 * (a re-read overlap or page is all "held"). Call after the flush.
 */
void nsc_cli_settled_stats(const struct nsc_bridge *b, struct nsc_bridge_stats *out);

/* The documents stored, those already held, the newest reading and the last problem. */
void nsc_cli_print_summary(const struct nsc_bridge_stats *st);
/* The exit status for how the last frame ended and whether anything was stored. */
int nsc_cli_summary_status(const struct nsc_bridge_stats *st);

/* How long to wait for a spooled output without any delivery: a request's timeout, plus slack. */
int64_t nsc_cli_flush_idle_ms(const struct nsc_config *cfg);

/* A bridge's creation error as an exit status (configuration or internal). */
int nsc_cli_create_status(nsc_rc rc);

#endif
