/* SPDX-License-Identifier: MIT */
/*
 * A log sink for tests: keeps every line (from any thread), '\n'-separated,
 * and fails the test when a line does not parse as key=value (logline.h).
 * Zero-initialised it is empty; log_capture_free() releases the text.
 */
#ifndef NSC_TESTS_LOG_CAPTURE_H
#define NSC_TESTS_LOG_CAPTURE_H

#include <stddef.h>

#include "log.h"

struct log_capture {
	char *text; /* NULL until the first line */
	size_t len;
};

/* The sink for nsc_log_set_sink(log, log_capture_sink, capture). */
void log_capture_sink(void *ctx, enum nsc_log_level level, const char *line);
/* Lines holding needle and, when not NULL, needle2. */
int log_capture_count(struct log_capture *c, const char *needle, const char *needle2);
/* A copy of the text so far (caller frees; "" when nothing was logged). */
char *log_capture_text(struct log_capture *c);
void log_capture_free(struct log_capture *c);

#endif
