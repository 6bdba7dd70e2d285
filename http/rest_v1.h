/* SPDX-License-Identifier: MIT */
/*
 * Inside the REST v1 backend: what its two halves share, rest_v1.c (open,
 * close, write, last_known, the driver) and rest_v1_held.c (which
 * documents of a batch Nightscout already holds).
 *
 * Ownership & concurrency: as struct nsc_rest (rest.h).
 */
#ifndef NSC_HTTP_REST_V1_H
#define NSC_HTTP_REST_V1_H

#include <stdbool.h>
#include <stddef.h>

#include "http/rest.h"

/*
 * One v1 request, classified; a refusal the operator must fix (credentials)
 * is logged at error level. Returns the classified code; resp holds the
 * answer (the caller frees it in every case).
 */
nsc_rc nsc_rest_v1_call(struct nsc_rest *r, const char *what, const char *method,
			const char *path, const char *query, const char *body, size_t len,
			struct nsc_http_response *resp, struct nsc_error *err);

/*
 * As nsc_rest_v1_call, for an answer that must be a JSON array of
 * documents: anything else is NSC_ERR_RETRY ("Nightscout answered <what>
 * <unlike>; will retry"). On NSC_OK *docs holds the parsed array (the
 * caller puts it); otherwise it is NULL.
 */
nsc_rc nsc_rest_v1_call_docs(struct nsc_rest *r, const char *what, const char *method,
			     const char *path, const char *query, const char *body, size_t len,
			     const char *unlike, struct json_object **docs, struct nsc_error *err);

/* Whether Nightscout's v1 storage de-duplicates the collection itself (entries, treatments). */
bool nsc_rest_v1_dedups(enum nsc_collection c);

/*
 * For a collection Nightscout does not de-duplicate: sets held[i] for every
 * document i of the collection that Nightscout already holds (asked by
 * identifier) or that repeats the identifier of an earlier document of
 * the batch, and counts them in *nheld. held has one entry per document,
 * all false on entry. Any failure returns its code with err set (RETRY
 * for whatever Nightscout answers: the documents are not at fault).
 */
nsc_rc nsc_rest_v1_find_held(struct nsc_rest *r, const struct nsc_batch *b,
			     enum nsc_collection c, bool *held, size_t *nheld,
			     struct nsc_error *err);

#endif
