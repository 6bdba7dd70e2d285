/* SPDX-License-Identifier: MIT */
/*
 * `nightscout-connect carelink-login [--region eu|us]`: the one-time
 * browser sign-in to Medtronic CareLink (Auth0 with PKCE; its CAPTCHA
 * keeps a program out) that writes CONNECT_CARELINK_TOKEN_FILE, which the
 * bridge then keeps fresh. Reads the discovery document and the sign-in
 * configuration of the region, prints the address to open, reads the
 * address the browser ends on (or its code) from `in`, trades the code for
 * tokens and writes the file atomically, mode 0600.
 *
 * Needs no CONNECT_SOURCE and no output: it reads only
 * CONNECT_CARELINK_REGION, CONNECT_CARELINK_SERVER (every *.minimed.eu /
 * *.minimed.com request goes there instead, for tests) and
 * CONNECT_CARELINK_TOKEN_FILE.
 */
#ifndef NSC_CLI_CARELINK_LOGIN_H
#define NSC_CLI_CARELINK_LOGIN_H

#include <stdio.h>

#include "nsc_config.h"

struct nsc_cli_carelink_args {
	const char *region; /* --region; NULL: CONNECT_CARELINK_REGION, else eu */
};

/*
 * Runs the sign-in with settings from lookup(ctx, NAME); returns the exit
 * status (cli/usage.h). Instructions go to out, problems to err_out; no
 * code, verifier or token is ever printed.
 */
int nsc_cli_carelink_login(const struct nsc_cli_carelink_args *a, nsc_config_lookup_fn lookup,
			   void *ctx, FILE *in, FILE *out, FILE *err_out);

#endif
