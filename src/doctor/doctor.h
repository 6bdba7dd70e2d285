/* SPDX-License-Identifier: MIT */
/*
 * `nightscout-connect doctor` for one bridge's settings: the settings
 * themselves (loaded by the caller), DNS/TCP/TLS to each server the
 * source talks to, one login (none while the lockout guard holds a
 * rejected one, engine/login_hold.h), what the account lets it read (the
 * patient or connection chosen), one read of data (how many readings,
 * the newest and its age), the output (output.h's diagnose) and, for the
 * outputs that have one, the spool folder. Findings go to a struct
 * nsc_diag; nothing is stored (the read goes into a counting output that
 * keeps nothing).
 */
#ifndef NSC_DOCTOR_DOCTOR_H
#define NSC_DOCTOR_DOCTOR_H

#include "diag.h"
#include "log.h"
#include "nsc_config.h"


/* Runs every check for cfg (on a loop of its own), reporting to d. */
void nsc_doctor_run(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d);

/* A bridge's data older than this on the vendor side gets a warning. */
#define NSC_DOCTOR_STALE_MS (30 * 60 * 1000)
/* Bound on each network check. */
#define NSC_DOCTOR_NET_TIMEOUT_MS 10000L

#endif
