/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB output: writes into Nightscout's own database exactly what
 * Nightscout's storage code would write (reference/nightscout.md §1.4–1.8,
 * §2, §10). Plain C: no libmongoc type appears here, so src/ may include it.
 */
#ifndef NSC_MONGO_OUTPUT_H
#define NSC_MONGO_OUTPUT_H

#include "output.h"

/*
 * Synchronous backend (connect, indexes, bulk writes, last-known); one
 * thread at a time. The engine gets it behind a spool from the output
 * registry (nsc_output_driver_for(NSC_OUTPUT_MONGO)).
 */
extern const struct nsc_output_driver nsc_mongo_backend;

#endif
