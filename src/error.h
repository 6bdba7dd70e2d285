/* SPDX-License-Identifier: MIT */
/*
 * Errors as values: nsc_rc (see nsconnect.h), the verdict class each code
 * belongs to, and helpers that fill a struct nsc_error.
 */
#ifndef NSC_SRC_ERROR_H
#define NSC_SRC_ERROR_H

#include "nsconnect.h"

/*
 * The engine reacts to a failure by its verdict only; every nsc_rc maps to
 * exactly one. Drivers return codes, never retry on their own.
 */
enum nsc_verdict {
	NSC_VERDICT_OK,
	NSC_VERDICT_RETRY,    /* timeout, 5xx, 429: back off and try again */
	NSC_VERDICT_AUTH,     /* data call unauthorized: drop session, re-login once */
	NSC_VERDICT_REJECTED, /* bad credentials, terms, lock: wait long, tell the user */
	NSC_VERDICT_DROP,     /* unusable payload: log, count, skip */
	NSC_VERDICT_FATAL,    /* configuration or bug: stop this bridge */
};

enum nsc_verdict nsc_rc_verdict(nsc_rc rc);
const char *nsc_verdict_name(enum nsc_verdict v);

/* Sets err (if not NULL) and returns code, so callers can `return nsc_error_set(...)`. */
nsc_rc nsc_error_set(struct nsc_error *err, nsc_rc code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void nsc_error_clear(struct nsc_error *err);

#endif
