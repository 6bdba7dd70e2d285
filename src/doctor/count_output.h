/* SPDX-License-Identifier: MIT */
/*
 * The output doctor's one read goes into: it counts what a bridge would
 * store and the newest reading, holds nothing, and answers last_known
 * with nothing held (so the read covers the whole lookback).
 */
#ifndef NSC_DOCTOR_COUNT_OUTPUT_H
#define NSC_DOCTOR_COUNT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "output.h"

struct nsc_count_output {
	size_t documents[NSC_COLL_COUNT];
	int64_t newest_entry_ms; /* 0: no reading */
	int newest_sgv;
};

extern const struct nsc_output_driver nsc_count_output;
/* What the context (from nsc_count_output.open) counted. */
const struct nsc_count_output *nsc_count_output_counts(const void *ctx);

#endif
