/* SPDX-License-Identifier: MIT */
/*
 * The one shape every driver classifies a vendor's answer into, and the
 * default meaning of an HTTP status that a driver's own rules override.
 *
 * A driver's protocol code reads an answer (status, body) and fills a
 * struct nsc_vendor_verdict: the code the engine acts on, how long the
 * vendor asked us to stay away, and the message for the user. What the
 * vendor says in its body comes first; a status alone falls back to
 * nsc_vendor_status_verdict(), which checks the driver's rules (a table
 * ending with status 0) before the defaults:
 *
 *   2xx                 OK
 *   401 on data         AUTH (the session is gone: one re-login)
 *   401 on a login      RETRY (a refused request, not a refused password:
 *                       only the vendor's own words may reject credentials)
 *   429                 RETRY, hold off Retry-After or the profile's default
 *   400, 404, 5xx, else RETRY, worded for each (404 names the server setting)
 *
 * Ownership & concurrency: pure; the verdict is the caller's.
 */
#ifndef NSC_SRC_SOURCES_KIT_VERDICT_H
#define NSC_SRC_SOURCES_KIT_VERDICT_H

#include <stdint.h>

#include "error.h"

enum nsc_vendor_phase {
	NSC_VENDOR_PHASE_LOGIN, /* a request that opens or renews the session */
	NSC_VENDOR_PHASE_DATA,  /* a request made with the session */
};

struct nsc_vendor_verdict {
	nsc_rc rc;             /* NSC_OK, or what the engine does about the failure */
	int64_t hold_off_ms;   /* how long the vendor asked us to stay away; 0 when it did not */
	char msg[NSC_ERROR_MSG_MAX]; /* plain words for the user; "" for NSC_OK */
};

/* A driver's own meaning for a status (a table of them ends with status 0). */
struct nsc_vendor_status_rule {
	long status;
	enum nsc_vendor_phase phase;
	nsc_rc rc;
	int64_t hold_off_ms;   /* 0: none (429 still honours Retry-After) */
	const char *msg;       /* "%s" is the vendor's name, "%ld" the status, in that order */
};

/* What the default map needs to word its messages. */
struct nsc_vendor_words {
	const char *who;            /* "Dexcom Share" */
	const char *server_setting; /* "CONNECT_SHARE_SERVER", named by the 404 message */
	int64_t rate_hold_off_ms;   /* a 429 without Retry-After waits this long */
	const struct nsc_vendor_status_rule *rules; /* NULL or ends with status 0 */
};

void nsc_vendor_verdict_ok(struct nsc_vendor_verdict *v);

/* Sets rc and the message (printf), clears the hold-off; returns rc. */
nsc_rc nsc_vendor_verdict_set(struct nsc_vendor_verdict *v, nsc_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The meaning of `status` alone; retry_after_ms is the header's value, -1 when absent. */
nsc_rc nsc_vendor_status_verdict(const struct nsc_vendor_words *w, enum nsc_vendor_phase phase,
				 long status, int64_t retry_after_ms, struct nsc_vendor_verdict *v);

#endif
