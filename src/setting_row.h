/* SPDX-License-Identifier: MIT */
/*
 * Helpers for writing rows of the settings table (struct nsc_setting):
 * NSC_ROW(name, kind, group, .field = value, ...) and the string,
 * secret and integer shapes most rows have. Included only by the files
 * that hold rows.
 */
#ifndef NSC_SRC_SETTING_ROW_H
#define NSC_SRC_SETTING_ROW_H

#include <stddef.h>

#include "nsc_config.h"

#define NSC_ROW(name_, kind_, group_, ...)                                       \
	{                                                                        \
		.name = (name_), .kind = NSC_SETTING_##kind_,                    \
		.group = NSC_GROUP_##group_, __VA_ARGS__                         \
	}

/* A string field of struct nsc_config. */
#define NSC_AT_STR(field_) .store = NSC_STORE_STRING, .offset = offsetof(struct nsc_config, field_)

/* A whole number from min_ to max_ unit_s, kept times scale_ in an int64_t/uint64_t/unsigned. */
#define NSC_AT_RANGE(store_, field_, min_, max_, unit_, scale_)                           \
	.store = NSC_STORE_##store_, .offset = offsetof(struct nsc_config, field_),      \
	.check = NSC_CHECK_RANGE, .min = (min_), .max = (max_), .unit = (unit_),          \
	.scale = (scale_)

/* The shapes a source's rows mostly have. */
#define NSC_ROW_ACCOUNT(name_, field_, help_) \
	NSC_ROW(name_, STRING, SOURCE, NSC_AT_STR(field_), .required = true, .help = (help_))
/* Every vendor's password and server rows say the same, with its name (a literal). */
#define NSC_ROW_PASSWORD(name_, field_, vendor_)                                  \
	NSC_ROW(name_, SECRET, SOURCE, NSC_AT_STR(field_), .required = true,     \
		.help = vendor_ " account password, kept exactly as given")
#define NSC_ROW_CHOICE(name_, field_, choices_, def_, help_)                      \
	NSC_ROW(name_, ENUM, SOURCE, NSC_AT_STR(field_), .check = NSC_CHECK_ENUM, \
		.choices = (choices_), .default_text = (def_), .help = (help_))
#define NSC_ROW_SERVER(name_, field_, vendor_, region_setting_)                   \
	NSC_ROW(name_, URL, SOURCE, NSC_AT_STR(field_), .check = NSC_CHECK_SERVER, \
		.help = vendor_ " server instead of the region's; default from " region_setting_)
#define NSC_ROW_TEXT(name_, field_, check_, def_, help_)                         \
	NSC_ROW(name_, STRING, SOURCE, NSC_AT_STR(field_), .check = NSC_CHECK_##check_, \
		.default_text = (def_), .help = (help_))

#endif
