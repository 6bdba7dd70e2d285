/* SPDX-License-Identifier: MIT */
/* logline_assert(), for Check suites (see logline.h). */
#include "config.h"

#include <check.h>

#include "logline.h"

void logline_assert(const char *line)
{
	char why[128];
	bool ok = logline_parse(line, why, sizeof(why));
	ck_assert_msg(ok, "log line is not key=value (%s): %s", why, line);
}
