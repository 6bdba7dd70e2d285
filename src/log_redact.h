/* SPDX-License-Identifier: MIT */
/*
 * The log redactor (internal; log.h is the public face): the registered
 * secrets of one logger and the text transformation that hides them and
 * every well-known credential pattern (log_patterns.h) before a line is
 * written. A redactor does no locking: the logger guards it with its
 * mutex. Spellings are made outside that lock, then added or removed.
 */
#ifndef NSC_SRC_LOG_REDACT_H
#define NSC_SRC_LOG_REDACT_H

#include <stddef.h>

#include "error.h"

/* A secret as given and in each encoding it may be logged in. */
#define NSC_REDACT_SPELLINGS 7

struct nsc_redact_spellings {
	char *v[NSC_REDACT_SPELLINGS];
	size_t n;
};

/* Zero-initialised it holds no secret. */
struct nsc_redactor {
	char **spellings; /* longest first, so no shorter one splits a longer one */
	size_t *lens;
	unsigned *refs;   /* how many registrations hold each spelling */
	size_t n;
	size_t cap;
};

/*
 * Makes the spellings of `secret` (none for NULL or one shorter than 3
 * characters). NSC_ERR_NOMEM when one could not be made; sp then holds
 * what was, for nsc_redact_spellings_free().
 */
nsc_rc nsc_redact_spellings(const char *secret, struct nsc_redact_spellings *sp);
/* Wipes and frees what sp holds; sp is empty afterwards. */
void nsc_redact_spellings_free(struct nsc_redact_spellings *sp);

/*
 * Adds every spelling, taking them over (sp is empty afterwards); ones
 * already held are not added twice. NSC_ERR_NOMEM when the list could not
 * grow: the spellings not added are wiped and freed.
 */
nsc_rc nsc_redactor_add(struct nsc_redactor *r, struct nsc_redact_spellings *sp);
/* Removes these spellings where held (the caller still owns sp). */
void nsc_redactor_remove(struct nsc_redactor *r, const struct nsc_redact_spellings *sp);
/* Wipes and frees every spelling; r is empty and reusable afterwards. */
void nsc_redactor_fini(struct nsc_redactor *r);

/*
 * The n bytes of `in` with every registered secret (r may be NULL) and
 * every credential pattern replaced by NSC_REDACTED; malloc'd and
 * NUL-terminated, its length in *out_len (may be NULL). NULL when memory
 * runs out.
 */
char *nsc_redactor_apply(const struct nsc_redactor *r, const char *in, size_t n, size_t *out_len);

#endif
