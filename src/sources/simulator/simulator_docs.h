/* SPDX-License-Identifier: MIT */
/*
 * The simulator's transform, record by record: one record of the vendor
 * payload (simulator.c) becomes one Nightscout document, shaped as a
 * bridge uploads it (reference/nightscout.md §1.5–1.8). nsc_batch_add
 * then completes it and gives it its `identifier`.
 *
 * Vendor records:
 *   reading:   {"t": <ms>, "mgdl": <int>, "delta": <int, optional>}
 *   treatment: {"t": <ms>, "kind": "meal", "carbs": <int>, "insulin": <num>}
 *              {"t": <ms>, "kind": "correction", "insulin": <num>}
 *   status:    {"t": <ms>, "uploaderBattery": <%>, "pumpBattery": <%>,
 *               "reservoir": <U>, "iob": <U>, "bolusing": <bool>}
 *   profile:   {"t": <ms>, "dia": <h>, "carbRatio": <g/U>, "sensitivity": <mg/dL/U>,
 *               "targetLow": <mg/dL>, "targetHigh": <mg/dL>, "carbsPerHour": <g/h>,
 *               "carbDelay": <min>, "basal": [{"minute": <0..1439>, "rate": <U/h>}, ...]}
 */
#ifndef NSC_SRC_SOURCES_SIMULATOR_DOCS_H
#define NSC_SRC_SOURCES_SIMULATOR_DOCS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "error.h"
#include "source.h"

/* The profile's name in its `store`, and its `defaultProfile`. */
#define NSC_SIM_PROFILE_NAME "Simulator"

struct nsc_sim_doc_ctx {
	const struct nsc_fetch_window *w;
	int64_t slot_ms; /* the reading cadence (arrows follow the change over 5 min or one cadence) */
};

/*
 * One record -> *doc_out. NSC_OK with *doc_out NULL for a record the
 * window does not ask for; NSC_ERR_PARSE for a malformed record;
 * NSC_ERR_NOMEM.
 */
typedef nsc_rc (*nsc_sim_doc_fn)(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
				 struct json_object **doc_out);

nsc_rc nsc_sim_entry_doc(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
			 struct json_object **doc_out);
nsc_rc nsc_sim_treatment_doc(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
			     struct json_object **doc_out);
nsc_rc nsc_sim_status_doc(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
			  struct json_object **doc_out);
nsc_rc nsc_sim_profile_doc(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
			   struct json_object **doc_out);

/*
 * Whether the window asks for a pump status at t (the newest reading's
 * time): t is in (from, to] and newer than any status the output holds, so
 * no poll repeats one (Nightscout does not de-duplicate devicestatus).
 */
bool nsc_sim_status_wanted(const struct nsc_fetch_window *w, int64_t t);

/* Whether the window asks for the profile of time t: the output holds none as new. */
bool nsc_sim_profile_wanted(const struct nsc_fetch_window *w, int64_t t);

#endif
