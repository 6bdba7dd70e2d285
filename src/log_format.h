/* SPDX-License-Identifier: MIT */
/*
 * The body of a log line, formatted like vsnprintf except that each %s
 * inside a quoted value of the format (`msg="%s"`, `said="... %s ..."`)
 * has `"` and `\` escaped as `\"` and `\\`, so every line parses as
 * key=value whatever its values hold.
 */
#ifndef NSC_SRC_LOG_FORMAT_H
#define NSC_SRC_LOG_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* A malloc'd NUL-terminated body and its length, or NULL when memory runs out. */
char *nsc_log_format(const char *fmt, va_list ap, size_t *out_len);

#endif
