/* SPDX-License-Identifier: MIT */
/*
 * CONNECT_LOG_FORMAT=json: a finished key=value line (redacted, one line)
 * turned into one JSON object with the same keys, in the same order, for
 * log shippers. Every value is a JSON string, as the text line has it
 * (quoted values unescaped); the logger's " [truncated]" mark becomes
 * "truncated":true. A word without '=' (not written by nsconnect) is kept
 * under "text".
 */
#ifndef NSC_SRC_LOG_JSON_H
#define NSC_SRC_LOG_JSON_H

#include <stddef.h>

enum nsc_log_format {
	NSC_LOG_FORMAT_TEXT = 0,
	NSC_LOG_FORMAT_JSON,
};

/* The JSON object for line (len bytes), malloc'd and NUL-terminated; NULL when memory runs out. */
char *nsc_log_line_json(const char *line, size_t len, size_t *out_len);

#endif
