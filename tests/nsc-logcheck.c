/* SPDX-License-Identifier: MIT */
/*
 * nsc-logcheck: reads a log (stdin) and exits 1 when a line that looks like
 * one of nsconnect's (it starts with "ts=") does not parse as key=value
 * (logline.h), printing each such line. Shell tests pipe the CLI's stderr
 * through it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logline.h"

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lines = 0, bad = 0;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strncmp(line, "ts=", 3) != 0)
			continue;
		lines++;
		char why[128];
		if (!logline_parse(line, why, sizeof(why))) {
			bad++;
			printf("not key=value (%s): %s\n", why, line);
		}
	}
	free(line);
	printf("%lu log lines, %lu not key=value\n", lines, bad);
	return bad ? 1 : 0;
}
