/* SPDX-License-Identifier: MIT */
/*
 * The engine-facing REST outputs: the v1 and v3 backends behind a spool and
 * its writer thread (outputs/spooled.h). Kept apart from the backends so
 * that code using only a backend (the tests) does not pull in the spool.
 */
#include "config.h"

#include "http/rest_output.h"
#include "outputs/spooled.h"

NSC_SPOOLED_DRIVER(nsc_output_rest, "rest", &nsc_rest_v1_backend);
NSC_SPOOLED_DRIVER(nsc_output_rest3, "rest3", &nsc_rest_v3_backend);
