/* SPDX-License-Identifier: MIT */
/*
 * The grammar every log line must follow, for tests: `ts=… level=… comp=…`
 * then `key=value` pairs separated by one space, a value either bare (no
 * space, no quote) or in double quotes with backslash escapes, optionally
 * ending in the logger's " [truncated]" mark.
 */
#ifndef NSC_TESTS_LOGLINE_H
#define NSC_TESTS_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>

/* true when line parses; otherwise false with the reason in why. */
bool logline_parse(const char *line, char *why, size_t why_size);

/* Fails the running Check test, quoting the line, when it does not parse. */
void logline_assert(const char *line);

#endif
