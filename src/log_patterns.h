/* SPDX-License-Identifier: MIT */
/*
 * The credential patterns of the log redactor (internal): appends `in` to
 * `out` with the value of every well-known credential shape replaced by
 * NSC_REDACTED (`https://user:VALUE@`, `"password": "VALUE"` also in
 * once-escaped JSON, `Authorization: Bearer VALUE` to end of line,
 * `token=VALUE`, ...). Pure text in, text out.
 */
#ifndef NSC_SRC_LOG_PATTERNS_H
#define NSC_SRC_LOG_PATTERNS_H

#include <stddef.h>

#include "log_buf.h"

void nsc_redact_patterns(const char *in, size_t n, struct nsc_lbuf *out);

#endif
