/* SPDX-License-Identifier: MIT */
/* `nightscout-connect doctor`: checks one bridge's settings, or every tenant's (doctor/doctor.h). */
#ifndef NSC_CLI_DOCTOR_H
#define NSC_CLI_DOCTOR_H

#include <stdio.h>

#include "log.h"
#include "nsc_config.h"

struct nsc_cli_doctor_args {
	const char *tenants_dir; /* --tenants; NULL: the settings of one bridge */
};

/*
 * Prints each finding to out; returns 0 when everything needed works,
 * 1 when a check found a problem, 2 when the settings are refused.
 */
int nsc_cli_doctor(const struct nsc_cli_doctor_args *a, nsc_config_lookup_fn lookup, void *ctx,
		   struct nsc_log *log, FILE *out);

#endif
