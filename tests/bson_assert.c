/* SPDX-License-Identifier: MIT */
/* Typed reads of BSON fields for the MongoDB tests (see bson_assert.h). */
#include "config.h"

#include <check.h>

#include "bson_assert.h"

bson_type_t type_at(const bson_t *doc, const char *path)
{
	bson_iter_t it, found;

	ck_assert(bson_iter_init(&it, doc));
	if (!bson_iter_find_descendant(&it, path, &found))
		return BSON_TYPE_EOD;
	return bson_iter_type(&found);
}

bool has(const bson_t *doc, const char *path)
{
	return type_at(doc, path) != BSON_TYPE_EOD;
}

void iter_at(const bson_t *doc, const char *path, bson_iter_t *out)
{
	bson_iter_t it;

	ck_assert(bson_iter_init(&it, doc));
	ck_assert_msg(bson_iter_find_descendant(&it, path, out), "missing %s", path);
}

int32_t int32_at(const bson_t *doc, const char *path)
{
	bson_iter_t it;

	ck_assert_msg(type_at(doc, path) == BSON_TYPE_INT32, "%s: type 0x%02x, expected int32",
		      path, (unsigned)type_at(doc, path));
	iter_at(doc, path, &it);
	return bson_iter_int32(&it);
}

double double_at(const bson_t *doc, const char *path)
{
	bson_iter_t it;

	ck_assert_msg(type_at(doc, path) == BSON_TYPE_DOUBLE, "%s: type 0x%02x, expected double",
		      path, (unsigned)type_at(doc, path));
	iter_at(doc, path, &it);
	return bson_iter_double(&it);
}

const char *str_at(const bson_t *doc, const char *path)
{
	bson_iter_t it;

	ck_assert_msg(type_at(doc, path) == BSON_TYPE_UTF8, "%s: type 0x%02x, expected string",
		      path, (unsigned)type_at(doc, path));
	iter_at(doc, path, &it);
	return bson_iter_utf8(&it, NULL);
}

bool bool_at(const bson_t *doc, const char *path)
{
	bson_iter_t it;

	ck_assert_msg(type_at(doc, path) == BSON_TYPE_BOOL, "%s: expected boolean", path);
	iter_at(doc, path, &it);
	return bson_iter_bool(&it);
}
