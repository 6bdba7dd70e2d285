/* SPDX-License-Identifier: MIT */
/*
 * Typed reads of BSON fields for the MongoDB tests. Each asserts the BSON
 * type (Nightscout's readers depend on int32 vs double vs string) before
 * returning the value. `path` may be dotted ("pump.battery.percent").
 */
#ifndef NSC_TESTS_BSON_ASSERT_H
#define NSC_TESTS_BSON_ASSERT_H

#include <stdbool.h>
#include <stdint.h>

#include "mongo/mongoc_compat.h"

/* BSON_TYPE_EOD when the field is absent. */
bson_type_t type_at(const bson_t *doc, const char *path);
bool has(const bson_t *doc, const char *path);
/* Positions `out` at the field; asserts it exists. */
void iter_at(const bson_t *doc, const char *path, bson_iter_t *out);
int32_t int32_at(const bson_t *doc, const char *path);
double double_at(const bson_t *doc, const char *path);
const char *str_at(const bson_t *doc, const char *path);
bool bool_at(const bson_t *doc, const char *path);

#endif
