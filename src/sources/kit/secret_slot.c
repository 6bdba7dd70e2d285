/* SPDX-License-Identifier: MIT */
/* A vendor secret held by a driver, known to the redactor while held (secret_slot.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "sources/kit/secret_slot.h"

void nsc_secret_slot_init(struct nsc_secret_slot *s, struct nsc_log *log)
{
	s->log = log;
	s->value = NULL;
}

void nsc_secret_slot_forget(struct nsc_secret_slot *s)
{
	if (s->value == NULL)
		return;
	nsc_log_remove_secret(s->log, s->value);
	nsc_secret_free(s->value);
	s->value = NULL;
}

nsc_rc nsc_secret_slot_roll(struct nsc_secret_slot *s, char *value)
{
	if (value == NULL)
		return NSC_OK;
	if (value[0] == '\0') {
		free(value);
		nsc_secret_slot_forget(s);
		return NSC_OK;
	}
	if (s->value != NULL && strcmp(s->value, value) == 0) {
		nsc_secret_free(value);
		return NSC_OK;
	}
	/* Registered before it is stored, so it never prints in clear. */
	if (nsc_log_add_secret(s->log, value) != NSC_OK) {
		nsc_secret_free(value);
		return NSC_ERR_NOMEM;
	}
	nsc_secret_slot_forget(s);
	s->value = value;
	return NSC_OK;
}

nsc_rc nsc_secret_slot_keep(struct nsc_secret_slot *s, const char *value)
{
	if (value == NULL || value[0] == '\0') {
		nsc_secret_slot_forget(s);
		return NSC_OK;
	}
	char *copy = strdup(value);
	if (copy == NULL)
		return NSC_ERR_NOMEM;
	return nsc_secret_slot_roll(s, copy);
}

bool nsc_secret_slot_held(const struct nsc_secret_slot *s)
{
	return s->value != NULL;
}

const char *nsc_secret_slot_get(const struct nsc_secret_slot *s)
{
	return s->value;
}
