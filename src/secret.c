/* SPDX-License-Identifier: MIT */
/* Wiping secrets so the compiler cannot remove it (see secret.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "secret.h"

/*
 * A call through a volatile function pointer: the compiler cannot know it
 * is memset, so it cannot prove the stores dead and remove them.
 */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void nsc_secret_wipe(void *p, size_t n)
{
	if (p && n)
		wipe_memset(p, 0, n);
}

void nsc_secret_free(char *s)
{
	if (!s)
		return;
	nsc_secret_wipe(s, strlen(s));
	free(s);
}
