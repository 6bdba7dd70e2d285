/* SPDX-License-Identifier: MIT */
/*
 * One secret a driver receives from its vendor and holds for a while: a
 * session id, an access or refresh token, a session cookie's value.
 *
 * keep/roll registers the new value with the log's redactor before it is
 * stored (there is no moment where it could print in clear), forget
 * unregisters it and wipes the copy. A slot never holds an empty string:
 * keeping "" forgets.
 *
 * Ownership & concurrency: the slot owns its copy; it belongs to the thread
 * of the driver that embeds it. `log` is borrowed and outlives the slot.
 */
#ifndef NSC_SRC_SOURCES_KIT_SECRET_SLOT_H
#define NSC_SRC_SOURCES_KIT_SECRET_SLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "log.h"

struct nsc_secret_slot {
	struct nsc_log *log;
	char *value; /* NULL when empty */
};

void nsc_secret_slot_init(struct nsc_secret_slot *s, struct nsc_log *log);

/* Copies value in (NULL or "" forgets). NSC_ERR_NOMEM leaves the slot as it was. */
nsc_rc nsc_secret_slot_keep(struct nsc_secret_slot *s, const char *value);

/*
 * Takes ownership of value, which was allocated with malloc (NULL keeps
 * the current value: an answer that carried no new token). The same value
 * again is freed and the slot unchanged. On NSC_ERR_NOMEM value is wiped
 * and freed and the slot is unchanged.
 */
nsc_rc nsc_secret_slot_roll(struct nsc_secret_slot *s, char *value);

/* Unregisters and wipes the value; harmless when empty. */
void nsc_secret_slot_forget(struct nsc_secret_slot *s);

bool nsc_secret_slot_held(const struct nsc_secret_slot *s);
/* The value, or NULL when empty. */
const char *nsc_secret_slot_get(const struct nsc_secret_slot *s);

#endif
