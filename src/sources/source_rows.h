/* SPDX-License-Identifier: MIT */
/*
 * The settings rows each source keeps in its folder
 * (sources/<vendor>/<vendor>_settings.c), for the registry to list.
 */
#ifndef NSC_SRC_SOURCES_SOURCE_ROWS_H
#define NSC_SRC_SOURCES_SOURCE_ROWS_H

#include <stddef.h>

#include "nsc_config.h"

#define NSC_SOURCE_ROWS(vendor_)                                        \
	extern const struct nsc_setting nsc_##vendor_##_settings[];    \
	extern const size_t nsc_##vendor_##_settings_count

NSC_SOURCE_ROWS(simulator);
NSC_SOURCE_ROWS(dexcom);
NSC_SOURCE_ROWS(librelinkup);
NSC_SOURCE_ROWS(nightscout);
NSC_SOURCE_ROWS(glooko);
NSC_SOURCE_ROWS(carelink);

#endif
