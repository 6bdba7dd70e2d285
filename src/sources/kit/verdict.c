/* SPDX-License-Identifier: MIT */
/* The shared verdict shape and the default status map (see verdict.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "sources/kit/verdict.h"

void nsc_vendor_verdict_ok(struct nsc_vendor_verdict *v)
{
	v->rc = NSC_OK;
	v->hold_off_ms = 0;
	v->msg[0] = '\0';
}

nsc_rc nsc_vendor_verdict_set(struct nsc_vendor_verdict *v, nsc_rc rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	v->rc = rc;
	v->hold_off_ms = 0;
	return rc;
}

static const struct nsc_vendor_status_rule *find_rule(const struct nsc_vendor_status_rule *rules,
						      enum nsc_vendor_phase phase, long status)
{
	for (const struct nsc_vendor_status_rule *r = rules; r && r->status != 0; r++)
		if (r->status == status && r->phase == phase)
			return r;
	return NULL;
}

static int64_t rate_hold(const struct nsc_vendor_words *w, int64_t retry_after_ms, int64_t fallback)
{
	if (retry_after_ms > 0)
		return retry_after_ms;
	return fallback > 0 ? fallback : w->rate_hold_off_ms;
}

nsc_rc nsc_vendor_status_verdict(const struct nsc_vendor_words *w, enum nsc_vendor_phase phase,
				 long status, int64_t retry_after_ms, struct nsc_vendor_verdict *v)
{
	const char *who = w->who;
	const struct nsc_vendor_status_rule *r = find_rule(w->rules, phase, status);
	if (r != NULL) {
		/* The rule's text takes the vendor's name, then the status. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		nsc_vendor_verdict_set(v, r->rc, r->msg, who, status);
#pragma GCC diagnostic pop
		v->hold_off_ms = status == 429 ? rate_hold(w, retry_after_ms, r->hold_off_ms) : r->hold_off_ms;
		return v->rc;
	}
	if (status >= 200 && status < 300) {
		nsc_vendor_verdict_ok(v);
		return NSC_OK;
	}
	if (status == 401 && phase == NSC_VENDOR_PHASE_DATA)
		return nsc_vendor_verdict_set(v, NSC_ERR_AUTH,
					      "%s no longer accepts the session (HTTP 401); logging in again", who);
	if (status == 401)
		return nsc_vendor_verdict_set(v, NSC_ERR_RETRY,
					      "%s refused the login request (HTTP 401); will try again", who);
	if (status == 429) {
		nsc_vendor_verdict_set(v, NSC_ERR_RETRY,
				       "%s asked us to slow down (HTTP 429); waiting before the next try", who);
		v->hold_off_ms = rate_hold(w, retry_after_ms, 0);
		return v->rc;
	}
	if (status == 400)
		return nsc_vendor_verdict_set(v, NSC_ERR_RETRY,
					      "%s refused the request as malformed (HTTP 400); will try again", who);
	if (status == 404)
		return nsc_vendor_verdict_set(v, NSC_ERR_RETRY,
					      "%s has no such service at this address (HTTP 404): check %s", who,
					      w->server_setting ? w->server_setting : "the server setting");
	if (status >= 500)
		return nsc_vendor_verdict_set(v, NSC_ERR_RETRY, "%s is unavailable (HTTP %ld); will try again",
					      who, status);
	return nsc_vendor_verdict_set(v, NSC_ERR_RETRY, "%s answered HTTP %ld unexpectedly; will try again",
				      who, status);
}
