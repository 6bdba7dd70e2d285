/* SPDX-License-Identifier: MIT */
/*
 * Where configuration values come from: the process environment, and
 * key/value pairs (command-line flags, a host's settings) layered over
 * another lookup. Keys are environment names.
 *
 * Ownership & concurrency: a struct nsc_config_kv owns copies of its keys
 * and values; it is not locked, so one thread fills it and readers use it
 * only after that. nsc_config_lookup_env() reads the environment with
 * getenv() and must not race with setenv().
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"
#include "nsc_config.h"
#include "secret.h"

const char *nsc_config_lookup_env(void *ctx, const char *name)
{
	(void)ctx;
	return name ? getenv(name) : NULL;
}

void nsc_config_kv_init(struct nsc_config_kv *kv, nsc_config_lookup_fn fallback, void *ctx)
{
	memset(kv, 0, sizeof(*kv));
	kv->fallback = fallback;
	kv->fallback_ctx = ctx;
}

static bool kv_find(const struct nsc_config_kv *kv, const char *name, size_t *index)
{
	for (size_t i = 0; i < kv->count; i++) {
		if (strcmp(kv->keys[i], name) == 0) {
			*index = i;
			return true;
		}
	}
	return false;
}

/* Sets name=value, replacing an earlier value; value NULL removes the key. */
nsc_rc nsc_config_kv_set(struct nsc_config_kv *kv, const char *name, const char *value)
{
	size_t i;

	if (!kv || !name)
		return NSC_ERR_INTERNAL;
	if (kv_find(kv, name, &i)) {
		if (!value) {
			free(kv->keys[i]);
			nsc_secret_free(kv->values[i]);
			memmove(&kv->keys[i], &kv->keys[i + 1], (kv->count - i - 1) * sizeof(char *));
			memmove(&kv->values[i], &kv->values[i + 1],
				(kv->count - i - 1) * sizeof(char *));
			kv->count--;
			return NSC_OK;
		}
		char *v = nsc_cfg_dup_str(value);
		if (!v)
			return NSC_ERR_NOMEM;
		nsc_secret_free(kv->values[i]);
		kv->values[i] = v;
		return NSC_OK;
	}
	if (!value)
		return NSC_OK;
	if (kv->count == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 8;
		if (cap > SIZE_MAX / sizeof(char *))
			return NSC_ERR_NOMEM;
		char **keys = realloc(kv->keys, cap * sizeof(char *));
		if (!keys)
			return NSC_ERR_NOMEM;
		kv->keys = keys;
		char **values = realloc(kv->values, cap * sizeof(char *));
		if (!values)
			return NSC_ERR_NOMEM;
		kv->values = values;
		kv->cap = cap;
	}
	char *k = nsc_cfg_dup_str(name);
	char *v = nsc_cfg_dup_str(value);
	if (!k || !v) {
		free(k);
		nsc_secret_free(v);
		return NSC_ERR_NOMEM;
	}
	kv->keys[kv->count] = k;
	kv->values[kv->count] = v;
	kv->count++;
	return NSC_OK;
}

void nsc_config_kv_free(struct nsc_config_kv *kv)
{
	if (!kv)
		return;
	for (size_t i = 0; i < kv->count; i++) {
		free(kv->keys[i]);
		nsc_secret_free(kv->values[i]); /* the settings' values hold passwords */
	}
	free(kv->keys);
	free(kv->values);
	memset(kv, 0, sizeof(*kv));
}

const char *nsc_config_kv_lookup(void *ctx, const char *name)
{
	const struct nsc_config_kv *kv = ctx;
	size_t i;

	if (!kv || !name)
		return NULL;
	if (kv_find(kv, name, &i))
		return kv->values[i];
	if (kv->fallback)
		return kv->fallback(kv->fallback_ctx, name);
	return NULL;
}
