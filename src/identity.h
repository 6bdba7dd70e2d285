/* SPDX-License-Identifier: MIT */
/*
 * Document identity: the `identifier` Nightscout API v3 computes
 * (reference/nightscout.md §5.3), so the same reading reaches the same
 * document whichever path wrote it:
 *   uuidv5("<device>_<date>" [+ "_<eventType>"], namespace = the 16 bytes
 *   of "NightscoutRocks!")
 * where <device> is the literal "undefined" when the document has none and
 * <date> is epoch ms in decimal.
 */
#ifndef NSC_SRC_IDENTITY_H
#define NSC_SRC_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define NSC_UUID_STR_LEN 36
#define NSC_UUID_BUF 37

/* RFC 4122 UUIDv5 (SHA-1) of `name` in `ns`, as lower-case text. */
nsc_rc nsc_uuid_v5(const unsigned char ns[16], const char *name, size_t name_len,
		   char out[NSC_UUID_BUF]);

/* The v3 identifier for (device or NULL, date ms, eventType or NULL). */
nsc_rc nsc_identifier_compute(const char *device, int64_t date_ms, const char *event_type,
			      char out[NSC_UUID_BUF]);

#endif
