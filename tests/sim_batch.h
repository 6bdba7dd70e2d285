/* SPDX-License-Identifier: MIT */
/* The batch the simulator source makes for a time window, for the benchmarks. */
#ifndef NSC_TESTS_SIM_BATCH_H
#define NSC_TESTS_SIM_BATCH_H

#include <stdint.h>

#include "batch.h"
#include "log.h"
#include "nsc_config.h"

/*
 * Fills b (initialised by the caller) with what the simulator source
 * produces for [from_ms, to_ms) under cfg (its seed and interval), through
 * its own fetch and transform. Returns the first failure.
 */
nsc_rc nsc_test_simulator_batch(const struct nsc_config *cfg, struct nsc_log *log, int64_t from_ms,
				int64_t to_ms, struct nsc_batch *b);

#endif
