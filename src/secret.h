/* SPDX-License-Identifier: MIT */
/*
 * Wiping secret text (passwords, tokens, session ids, API secrets) before
 * its memory is freed or reused, in a way the compiler cannot drop: a
 * memset right before free() is dead code to the optimiser and vanishes
 * at -O2.
 */
#ifndef NSC_SRC_SECRET_H
#define NSC_SRC_SECRET_H

#include <stddef.h>

/* Overwrites n bytes at p with zeros (p may be NULL). */
void nsc_secret_wipe(void *p, size_t n);
/* Wipes the NUL-terminated string s and frees it (s may be NULL). */
void nsc_secret_free(char *s);

#endif
