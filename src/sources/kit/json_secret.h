/* SPDX-License-Identifier: MIT */
/*
 * Wiping the strings of a json-c tree that held secrets (an OAuth answer,
 * a token file) before json-c frees them: json_object_put() frees a
 * string's bytes as they are, so a token would stay readable in freed
 * heap memory.
 *
 * What this cannot reach: the copies json-c's parser and serialiser keep
 * in their own buffers while they work (freed unwiped by json-c).
 *
 * Ownership & concurrency: pure; only call it on a tree nothing else
 * shares (json_object_get) and still reads.
 */
#ifndef NSC_SRC_SOURCES_KIT_JSON_SECRET_H
#define NSC_SRC_SOURCES_KIT_JSON_SECRET_H

#include <json-c/json.h>

/* Overwrites the bytes of a JSON string with zeros; anything else (or NULL) is left alone. */
void nsc_json_secret_wipe(struct json_object *s);

/* Wipes every string in the tree (values, not keys), then drops our reference. NULL is harmless. */
void nsc_json_secret_put(struct json_object *obj);

#endif
