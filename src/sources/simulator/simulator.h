/* SPDX-License-Identifier: MIT */
/*
 * The built-in `simulator` source (CONNECT_SOURCE=simulator): a
 * deterministic glucose curve on the 5-minute grid of epoch time (or a
 * faster grid set by CONNECT_SIMULATOR_INTERVAL, for tests), with
 * meals, boluses and noise derived from CONNECT_SIMULATOR_SEED only, and
 * the pump status and therapy profile that go with them, so it fills all
 * four collections. It goes through the same steps as a vendor driver
 * (optional login, a raw vendor-shaped JSON payload, a transform into
 * Nightscout documents), so the whole engine path can run without a
 * network.
 */
#ifndef NSC_SRC_SOURCES_SIMULATOR_H
#define NSC_SRC_SOURCES_SIMULATOR_H

#include <stdint.h>

#include "source.h"

#define NSC_SIMULATOR_DEVICE "nsconnect-simulator"
#define NSC_SIMULATOR_SLOT_MS INT64_C(300000) /* one reading every 5 minutes */
#define NSC_SIMULATOR_MIN_MGDL 40
#define NSC_SIMULATOR_MAX_MGDL 400

extern const struct nsc_source_driver nsc_source_simulator;

/*
 * The simulated glucose (mg/dL, 40..400) of the 5-minute slot containing
 * t_ms, for `seed`. Pure: the same arguments always give the same value.
 */
int nsc_simulator_glucose_at(uint64_t seed, int64_t t_ms);

#endif
