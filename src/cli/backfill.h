/* SPDX-License-Identifier: MIT */
/*
 * `nightscout-connect backfill --since WHEN [--until WHEN]`: reads a past
 * range from the configured source page by page (engine/backfill.h) into
 * the configured output, shows progress, keeps how far it got in
 * <CONNECT_SPOOL_DIR>/backfill-<source>.json so the same command run again
 * resumes there, and ends with capture's summary.
 *
 * WHEN is a span back from now (`90d`, `36h`, `2w`), a date
 * (`2026-09-01`, midnight on this machine's clock), a local date and time
 * (`2026-09-01T08:30`), or an ISO time with its zone (`...Z`, `...+02:00`).
 */
#ifndef NSC_CLI_BACKFILL_H
#define NSC_CLI_BACKFILL_H

#include <stdint.h>

#include "error.h"
#include "log.h"
#include "nsc_config.h"

struct nsc_cli_backfill_args {
	const char *since; /* required */
	const char *until; /* NULL: now */
};

/* WHEN (above) as epoch ms, now_ms being now. NSC_ERR_CONFIG with err naming the option. */
nsc_rc nsc_cli_parse_when(const char *option, const char *text, int64_t now_ms, int64_t *out,
			  struct nsc_error *err);

/* Runs the backfill; returns the exit status (cli/usage.h). */
int nsc_cli_backfill(const struct nsc_cli_backfill_args *a, const struct nsc_config *cfg,
		     struct nsc_log *log);

#endif
