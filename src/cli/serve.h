/* SPDX-License-Identifier: MIT */
/* `nightscout-connect serve`: one bridge per file of a tenants folder, on one loop (tenant_set.h). */
#ifndef NSC_CLI_SERVE_H
#define NSC_CLI_SERVE_H

#include "log.h"
#include "nsc_config.h"

struct nsc_cli_serve_args {
	const char *tenants_dir; /* --tenants; NULL: CONNECT_TENANTS_DIR */
};

/*
 * Runs until SIGINT or SIGTERM; SIGHUP reloads the folder. lookup gives
 * the process's settings (flags over the environment): the defaults of
 * every tenant, and CONNECT_LOG_LEVEL, CONNECT_HTTP_LISTEN and
 * CONNECT_TENANTS_DIR of the process itself. Returns the exit status.
 */
int nsc_cli_serve(const struct nsc_cli_serve_args *a, nsc_config_lookup_fn lookup, void *ctx,
		  struct nsc_log *log);

#endif
