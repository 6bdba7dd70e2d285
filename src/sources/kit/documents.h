/* SPDX-License-Identifier: MIT */
/*
 * Building Nightscout documents from what a vendor sent, the same way for
 * every driver: an sgv entry from a reading, and adding a document to the
 * batch where a document the batch finds malformed is one skipped record,
 * not a failed fetch.
 *
 * Ownership & concurrency: pure; documents move to the caller or the batch.
 */
#ifndef NSC_SRC_SOURCES_KIT_DOCUMENTS_H
#define NSC_SRC_SOURCES_KIT_DOCUMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "error.h"
#include "log.h"
#include "trend.h"

/* One glucose reading as Nightscout stores it in `entries`. */
struct nsc_sgv_reading {
	int64_t sgv;        /* mg/dL */
	int64_t date_ms;    /* the reading's instant, UTC */
	bool has_trend;     /* false: the entry has neither direction nor trend */
	enum nsc_trend trend;
	const char *device; /* e.g. "nsconnect-dexcomshare" */
};

/*
 * A new entry {type: "sgv", sgv, date, dateString[, direction, trend],
 * device} into *out. NSC_ERR_PARSE when the date cannot be written as an
 * ISO time (the record is to be skipped), NSC_ERR_NOMEM.
 */
nsc_rc nsc_sgv_entry_new(const struct nsc_sgv_reading *r, struct json_object **out);

/*
 * Adds doc to collection c of out (ownership moves, also on failure). A
 * document the batch refuses as malformed (a DROP verdict) counts in
 * *skipped, with a warning under `comp` when log is given, and returns
 * NSC_OK; any other failure is returned with "<vendor>: why" in err.
 */
nsc_rc nsc_kit_batch_add(struct nsc_batch *out, enum nsc_collection c, struct json_object *doc,
			 size_t *skipped, struct nsc_log *log, const char *comp, const char *vendor,
			 struct nsc_error *err);

#endif
