/* SPDX-License-Identifier: MIT */
/* The log line grammar, for tests (see logline.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "logline.h"

#define TRUNCATED " [truncated]"

static bool is_key_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_key_char(char c)
{
	return is_key_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static bool fail(char *why, size_t size, size_t at, const char *what)
{
	snprintf(why, size, "at column %zu: %s", at, what);
	return false;
}

bool logline_parse(const char *line, char *why, size_t why_size)
{
	static const char *const first[] = { "ts", "level", "comp" };
	size_t n = strlen(line), i = 0, pairs = 0;
	size_t tl = sizeof(TRUNCATED) - 1;
	if (n >= tl && strcmp(line + n - tl, TRUNCATED) == 0)
		return true; /* cut mid-value by the length limit: the start was checked by writers */
	while (i < n) {
		size_t ks = i;
		if (!is_key_start(line[i]))
			return fail(why, why_size, i, "expected a key");
		while (i < n && is_key_char(line[i]))
			i++;
		if (pairs < 3 && (i - ks != strlen(first[pairs]) ||
				  strncmp(line + ks, first[pairs], i - ks) != 0))
			return fail(why, why_size, ks, "a line starts with ts=, level=, comp=");
		if (i >= n || line[i] != '=')
			return fail(why, why_size, i, "expected '=' after the key");
		i++;
		if (i < n && line[i] == '"') {
			i++;
			while (i < n && line[i] != '"') {
				if (line[i] == '\\') {
					if (i + 1 >= n)
						return fail(why, why_size, i, "a backslash ends the line");
					i++;
				}
				i++;
			}
			if (i >= n)
				return fail(why, why_size, i, "a quoted value is not closed");
			i++;
		} else {
			while (i < n && line[i] != ' ') {
				if (line[i] == '"')
					return fail(why, why_size, i, "a quote inside a bare value");
				i++;
			}
		}
		pairs++;
		if (i == n)
			break;
		if (line[i] != ' ' || i + 1 >= n)
			return fail(why, why_size, i, "expected one space before the next key");
		i++;
	}
	if (pairs < 3)
		return fail(why, why_size, n, "a line has ts=, level= and comp=");
	return true;
}
