/* SPDX-License-Identifier: MIT */
/*
 * doctor's look at what the spool holds: batches waiting for the output
 * (how many, how much, since when) and batches the output refused, kept
 * in rejected/. Read without locking, so a running bridge is not
 * disturbed; nothing is moved or removed.
 */
#ifndef NSC_DOCTOR_SPOOL_CHECK_H
#define NSC_DOCTOR_SPOOL_CHECK_H

#include <stdint.h>

#include "diag.h"

/* Batches waiting longer than this mean the output has not been taking them. */
#define NSC_DOCTOR_SPOOL_WAIT_MS (15 * 60 * 1000)

/* Says what the spool folder dir (CONNECT_SPOOL_DIR) holds; now_ms is the wall clock. */
void nsc_doctor_check_spool(struct nsc_diag *d, const char *dir, int64_t now_ms);

#endif
