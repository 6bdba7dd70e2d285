/* SPDX-License-Identifier: MIT */
/*
 * Helpers for writing rows of the settings table (struct nsc_setting):
 * NSC_ROW(name, flag, kind, group, .field = value, ...) and the string,
 * secret and integer shapes most rows have. Included only by the files
 * that hold rows.
 */
#ifndef NSC_SRC_SETTING_ROW_H
#define NSC_SRC_SETTING_ROW_H

#include <stddef.h>

#include "nsc_config.h"

#define NSC_ROW(name_, flag_, kind_, group_, ...)                               \
	{                                                                       \
		.name = (name_), .flag = (flag_), .kind = NSC_SETTING_##kind_,  \
		.group = NSC_GROUP_##group_, __VA_ARGS__                        \
	}

/* A string field of struct nsc_config. */
#define NSC_AT_STR(field_) .store = NSC_STORE_STRING, .offset = offsetof(struct nsc_config, field_)

/* A whole number from min_ to max_ unit_s, kept times scale_ in an int64_t/uint64_t/unsigned. */
#define NSC_AT_RANGE(store_, field_, min_, max_, unit_, scale_)                           \
	.store = NSC_STORE_##store_, .offset = offsetof(struct nsc_config, field_),      \
	.check = NSC_CHECK_RANGE, .min = (min_), .max = (max_), .unit = (unit_),          \
	.scale = (scale_)

#endif
