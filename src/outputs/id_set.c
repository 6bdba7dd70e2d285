/* SPDX-License-Identifier: MIT */
/* Identifiers as 16-byte digests in an open-addressing table (see id_set.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "outputs/id_set.h"

void nsc_id_set_init(struct nsc_id_set *s)
{
	memset(s, 0, sizeof(*s));
}

void nsc_id_set_free(struct nsc_id_set *s)
{
	free(s->slot);
	nsc_id_set_init(s);
}

nsc_rc nsc_id_key(const char *id, unsigned char key[NSC_ID_KEY_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_Digest(id, strlen(id), md, &len, EVP_sha1(), NULL) != 1 || len < NSC_ID_KEY_LEN)
		return NSC_ERR_NOMEM;
	memcpy(key, md, NSC_ID_KEY_LEN);
	static const unsigned char zero[NSC_ID_KEY_LEN];
	if (memcmp(key, zero, NSC_ID_KEY_LEN) == 0)
		key[NSC_ID_KEY_LEN - 1] = 1; /* all zero marks an empty slot */
	return NSC_OK;
}

static bool empty(const unsigned char *slot)
{
	for (int i = 0; i < NSC_ID_KEY_LEN; i++)
		if (slot[i])
			return false;
	return true;
}

static size_t start_of(const unsigned char key[NSC_ID_KEY_LEN], size_t cap)
{
	uint64_t h;
	memcpy(&h, key, sizeof(h)); /* the digest is uniform already */
	return (size_t)h & (cap - 1);
}

bool nsc_id_set_has(const struct nsc_id_set *s, const unsigned char key[NSC_ID_KEY_LEN])
{
	if (s->cap == 0)
		return false;
	for (size_t i = start_of(key, s->cap);; i = (i + 1) & (s->cap - 1)) {
		if (empty(s->slot[i]))
			return false;
		if (memcmp(s->slot[i], key, NSC_ID_KEY_LEN) == 0)
			return true;
	}
}

static void place(unsigned char (*slot)[NSC_ID_KEY_LEN], size_t cap, const unsigned char key[NSC_ID_KEY_LEN])
{
	size_t i = start_of(key, cap);
	while (!empty(slot[i]))
		i = (i + 1) & (cap - 1);
	memcpy(slot[i], key, NSC_ID_KEY_LEN);
}

/* Keeps the table at most 3/4 full. */
static nsc_rc grow(struct nsc_id_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 16;
	unsigned char (*slot)[NSC_ID_KEY_LEN] = calloc(cap, NSC_ID_KEY_LEN);
	if (!slot)
		return NSC_ERR_NOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (!empty(s->slot[i]))
			place(slot, cap, s->slot[i]);
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return NSC_OK;
}

nsc_rc nsc_id_set_add(struct nsc_id_set *s, const unsigned char key[NSC_ID_KEY_LEN])
{
	if (nsc_id_set_has(s, key))
		return NSC_OK;
	if ((s->n + 1) * 4 > s->cap * 3 && grow(s) != NSC_OK)
		return NSC_ERR_NOMEM;
	place(s->slot, s->cap, key);
	s->n++;
	return NSC_OK;
}

nsc_rc nsc_id_set_add_all(struct nsc_id_set *s, const struct nsc_id_set *from)
{
	for (size_t i = 0; i < from->cap; i++)
		if (!empty(from->slot[i]) && nsc_id_set_add(s, from->slot[i]) != NSC_OK)
			return NSC_ERR_NOMEM;
	return NSC_OK;
}
