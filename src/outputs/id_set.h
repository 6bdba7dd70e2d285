/* SPDX-License-Identifier: MIT */
/*
 * A set of document identifiers, for the filesystem output's dedup: each
 * identifier is kept as a 16-byte digest (the start of its SHA-1) in
 * one open-addressing table, about 24 bytes an identifier where a JSON
 * object takes over 100, which matters with thousands of bridges in one
 * process. Two identifiers sharing a digest is as likely as two UUIDs
 * colliding.
 *
 * Ownership & concurrency: the caller's, one thread at a time.
 */
#ifndef NSC_OUTPUTS_ID_SET_H
#define NSC_OUTPUTS_ID_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define NSC_ID_KEY_LEN 16

struct nsc_id_set {
	unsigned char (*slot)[NSC_ID_KEY_LEN]; /* all zero: empty */
	size_t n, cap;                         /* cap: 0 or a power of two */
};

void nsc_id_set_init(struct nsc_id_set *s);
void nsc_id_set_free(struct nsc_id_set *s);
/* The digest of an identifier. NSC_ERR_NOMEM when the digest cannot be made. */
nsc_rc nsc_id_key(const char *id, unsigned char key[NSC_ID_KEY_LEN]);
bool nsc_id_set_has(const struct nsc_id_set *s, const unsigned char key[NSC_ID_KEY_LEN]);
/* Adds key (nothing when present). NSC_ERR_NOMEM when the table cannot grow. */
nsc_rc nsc_id_set_add(struct nsc_id_set *s, const unsigned char key[NSC_ID_KEY_LEN]);
/* Adds every key of from. */
nsc_rc nsc_id_set_add_all(struct nsc_id_set *s, const struct nsc_id_set *from);

#endif
