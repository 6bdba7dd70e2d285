/* SPDX-License-Identifier: MIT */
/*
 * Nightscout REST outputs (reference/nightscout.md §4–§6): API v1 with the
 * API secret's SHA-1 or an access token, and API v3 with a JWT obtained from
 * an access token. Synchronous backends (each call blocks the spool's
 * writer thread until it is done; v3 runs several POSTs at once inside a
 * call). The output registry puts them behind a spool for the engine
 * (nsc_output_driver_for(NSC_OUTPUT_REST), ..._REST3).
 */
#ifndef NSC_HTTP_REST_OUTPUT_H
#define NSC_HTTP_REST_OUTPUT_H

#include "output.h"

extern const struct nsc_output_driver nsc_rest_v1_backend;
extern const struct nsc_output_driver nsc_rest_v3_backend;

/* doctor's checks of the site (rest_diagnose.c): reachable, credentials accepted, grants allow writing. */
void nsc_rest_v1_diagnose(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d);
void nsc_rest_v3_diagnose(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d);

#endif
