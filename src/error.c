/* SPDX-License-Identifier: MIT */
/* nsc_rc names, messages and verdict classes, all from NSC_RC_LIST. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "error.h"

const char *nsc_rc_name(nsc_rc rc)
{
	switch (rc) {
#define X(name, value, text) case name: return #name;
	NSC_RC_LIST(X)
#undef X
	}
	return "NSC_ERR_UNKNOWN";
}

const char *nsc_strerror(nsc_rc rc)
{
	switch (rc) {
#define X(name, value, text) case name: return text;
	NSC_RC_LIST(X)
#undef X
	}
	return "unknown error";
}

const char *nsc_version(void)
{
	return PACKAGE_VERSION;
}

enum nsc_verdict nsc_rc_verdict(nsc_rc rc)
{
	switch (rc) {
	case NSC_OK:
		return NSC_VERDICT_OK;
	case NSC_ERR_RETRY:
	case NSC_ERR_IO:
	/*
	 * Memory can come back (another tenant, a cache freed): a bridge that
	 * ran out of it backs off and tries again instead of stopping for good.
	 */
	case NSC_ERR_NOMEM:
		return NSC_VERDICT_RETRY;
	case NSC_ERR_AUTH:
		return NSC_VERDICT_AUTH;
	case NSC_ERR_REJECTED:
		return NSC_VERDICT_REJECTED;
	case NSC_ERR_DROP:
	case NSC_ERR_PARSE:
	case NSC_ERR_RANGE:
		return NSC_VERDICT_DROP;
	case NSC_ERR_FATAL:
	case NSC_ERR_CONFIG:
	case NSC_ERR_NOT_FOUND:
	case NSC_ERR_STATE:
	case NSC_ERR_UNSUPPORTED:
	case NSC_ERR_INTERNAL:
		return NSC_VERDICT_FATAL;
	}
	return NSC_VERDICT_FATAL;
}

const char *nsc_verdict_name(enum nsc_verdict v)
{
	static const char *const names[] = {
		[NSC_VERDICT_OK] = "OK",         [NSC_VERDICT_RETRY] = "RETRY",
		[NSC_VERDICT_AUTH] = "AUTH",     [NSC_VERDICT_REJECTED] = "REJECTED",
		[NSC_VERDICT_DROP] = "DROP",     [NSC_VERDICT_FATAL] = "FATAL",
	};
	if ((unsigned)v >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[v];
}

nsc_rc nsc_error_set(struct nsc_error *err, nsc_rc code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void nsc_error_clear(struct nsc_error *err)
{
	if (err) {
		err->code = NSC_OK;
		err->msg[0] = '\0';
	}
}
