/* SPDX-License-Identifier: MIT */
/*
 * nsconnect public API: result codes, version, and the embedding entry
 * points (configure a bridge from settings, run it on an event loop).
 * Installed as <nsconnect.h>; everything else in src/ is private.
 */
#ifndef NSCONNECT_H
#define NSCONNECT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(NSC_BUILDING_LIBRARY)
#define NSC_API __attribute__((visibility("default")))
#else
#define NSC_API
#endif

/*
 * Result codes. Zero is success, every failure is negative and has a name.
 * The first group are the verdicts that drive the engine's machines.
 */
#define NSC_RC_LIST(X)                                                       \
	X(NSC_OK, 0, "success")                                              \
	X(NSC_ERR_RETRY, -1, "temporary failure, will retry")               \
	X(NSC_ERR_AUTH, -2, "session no longer accepted")                    \
	X(NSC_ERR_REJECTED, -3, "login rejected; user action needed")       \
	X(NSC_ERR_DROP, -4, "unusable payload skipped")                      \
	X(NSC_ERR_FATAL, -5, "fatal error")                                  \
	X(NSC_ERR_CONFIG, -6, "invalid configuration")                       \
	X(NSC_ERR_NOMEM, -7, "out of memory")                                \
	X(NSC_ERR_IO, -8, "input/output error")                              \
	X(NSC_ERR_PARSE, -9, "cannot parse value")                           \
	X(NSC_ERR_RANGE, -10, "value out of range")                          \
	X(NSC_ERR_NOT_FOUND, -11, "not found")                               \
	X(NSC_ERR_STATE, -12, "operation not valid in this state")           \
	X(NSC_ERR_UNSUPPORTED, -13, "not supported by this build")           \
	X(NSC_ERR_INTERNAL, -14, "internal error")

#define NSC_RC_ENUM_(name, value, text) name = value,
typedef enum nsc_rc { NSC_RC_LIST(NSC_RC_ENUM_) } nsc_rc;
#undef NSC_RC_ENUM_

/* A failure's code plus a human message (like bson_error_t). */
#define NSC_ERROR_MSG_MAX 512
struct nsc_error {
	nsc_rc code;
	char msg[NSC_ERROR_MSG_MAX];
};

NSC_API const char *nsc_rc_name(nsc_rc rc);     /* "NSC_ERR_RETRY" */
NSC_API const char *nsc_strerror(nsc_rc rc);    /* "temporary failure, …" */
NSC_API const char *nsc_version(void);          /* package version */

#ifdef __cplusplus
}
#endif
#endif /* NSCONNECT_H */
