/* SPDX-License-Identifier: MIT */
/* The settings rows of no source (settings_rows.c): general first, outputs and spool last. */
#ifndef NSC_SRC_SETTINGS_ROWS_H
#define NSC_SRC_SETTINGS_ROWS_H

#include <stddef.h>

#include "nsc_config.h"

extern const struct nsc_setting nsc_general_settings[];
extern const size_t nsc_general_settings_count;
extern const struct nsc_setting nsc_output_settings[];
extern const size_t nsc_output_settings_count;

#endif
