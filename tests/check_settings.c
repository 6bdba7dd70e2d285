/* SPDX-License-Identifier: MIT */
/*
 * The settings table checks itself: every row is complete and consistent
 * with its kind, every registry entry owns exactly its rows, the help's
 * form/range/default text is derived from the row, and the loader reads
 * every number row by its row alone (no code of its own).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsc_check.h"
#include "nsc_config.h"
#include "source.h"
#include "sources/registry.h"

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

static size_t store_size(enum nsc_setting_store st)
{
	switch (st) {
	case NSC_STORE_STRING:
		return sizeof(char *);
	case NSC_STORE_INT64:
		return sizeof(int64_t);
	case NSC_STORE_UINT64:
		return sizeof(uint64_t);
	case NSC_STORE_UNSIGNED:
		return sizeof(unsigned);
	case NSC_STORE_NONE:
		break;
	}
	return 0;
}

START_TEST(test_rows_complete)
{
	size_t n = nsc_settings_count();

	for (size_t i = 0; i < n; i++) {
		const struct nsc_setting *s = nsc_setting_at(i);
		ck_assert_msg(s->help && strlen(s->help) > 10, "%s has no help", s->name);
		ck_assert_msg(s->help[strlen(s->help) - 1] != '.', "%s: the row's help ends "
			      "without a period, describe() adds it", s->name);
		/* a password, secret or token is a secret and has no default */
		if (ends_with(s->name, "_PASSWORD") || ends_with(s->name, "_SECRET") ||
		    ends_with(s->name, "_TOKEN"))
			ck_assert_msg(s->kind == NSC_SETTING_SECRET, "%s is not secret", s->name);
		if (s->kind == NSC_SETTING_SECRET)
			ck_assert_ptr_null(s->default_text);
		/* an int has a range (or is any unsigned 64-bit number) and a default inside it */
		if (s->kind == NSC_SETTING_INT) {
			ck_assert_msg(s->check == NSC_CHECK_RANGE || s->check == NSC_CHECK_U64,
				      "%s has no range", s->name);
			ck_assert_uint_ne(s->store, NSC_STORE_STRING);
		}
		if (s->check == NSC_CHECK_RANGE) {
			ck_assert_int_ge(s->min, 0);
			ck_assert_int_lt(s->min, s->max);
			ck_assert_ptr_nonnull(s->unit);
			ck_assert_int_gt(s->scale, 0);
			if (s->default_text) {
				char *end;
				long long d = strtoll(s->default_text, &end, 10);
				ck_assert_msg(*end == '\0' && d >= s->min && d <= s->max,
					      "%s: default %s out of range", s->name, s->default_text);
			}
		}
		/* an enum checked by the table lists its choices, the default among them */
		if (s->check == NSC_CHECK_ENUM) {
			bool found = s->default_text == NULL;
			ck_assert_ptr_nonnull(s->choices);
			ck_assert_ptr_nonnull(s->choices[0]);
			for (size_t c = 0; s->choices[c]; c++)
				found = found || strcmp(s->choices[c], s->default_text) == 0;
			ck_assert_msg(found, "%s: default not a choice", s->name);
		}
		/* a field inside struct nsc_config, no two rows on one field */
		if (s->store != NSC_STORE_NONE) {
			ck_assert_uint_le(s->offset + store_size(s->store), sizeof(struct nsc_config));
			for (size_t j = 0; j < i; j++) {
				const struct nsc_setting *o = nsc_setting_at(j);
				ck_assert_msg(o->store == NSC_STORE_NONE || o->offset != s->offset,
					      "%s and %s share a field", s->name, o->name);
			}
		} else {
			ck_assert_msg(s->check == NSC_CHECK_OWN, "%s is read by no one", s->name);
		}
		/* a pair names an existing row that names it back */
		if (s->needs) {
			const struct nsc_setting *o = nsc_setting_by_name(s->needs);
			ck_assert_ptr_nonnull(o);
			ck_assert_ptr_nonnull(o->needs);
			ck_assert_str_eq(o->needs, s->name);
		}
	}
}
END_TEST

START_TEST(test_registry_owns_its_rows)
{
	size_t n_src, owned = 0, n = nsc_settings_count();
	const struct nsc_source_entry *e = nsc_source_entries(&n_src);

	ck_assert_uint_eq(n_src, 6);
	for (size_t i = 0; i < n_src; i++) {
		ck_assert_ptr_eq(nsc_source_by_name(e[i].name), &e[i]);
		ck_assert_ptr_nonnull(e[i].title);
		ck_assert_ptr_nonnull(e[i].help);
		ck_assert_uint_gt(*e[i].n_rows, 0);
		if (e[i].driver)
			ck_assert_str_eq(e[i].driver->name, e[i].name);
		for (size_t r = 0; r < *e[i].n_rows; r++) {
			const struct nsc_setting *s = &e[i].rows[r];
			ck_assert_ptr_eq(nsc_setting_source(s), &e[i]);
			ck_assert_int_eq(s->group, NSC_GROUP_SOURCE);
			ck_assert_ptr_eq(nsc_setting_by_name(s->name), s);
		}
		owned += *e[i].n_rows;
	}
	/* no source row outside an entry, no entry's row in another group */
	for (size_t i = 0; i < n; i++) {
		const struct nsc_setting *s = nsc_setting_at(i);
		ck_assert_int_eq(s->group == NSC_GROUP_SOURCE, nsc_setting_source(s) != NULL);
		if (s->required && !nsc_setting_source(s))
			ck_assert_str_eq(s->name, "CONNECT_SOURCE");
	}
	ck_assert_uint_lt(owned, n);
	/* case-insensitive, unknown names refused; every source built */
	ck_assert_ptr_eq(nsc_source_by_name("DexcomShare"), nsc_source_by_name("dexcomshare"));
	ck_assert_ptr_null(nsc_source_by_name("dexcom"));
	ck_assert_ptr_null(nsc_source_by_name(NULL));
	ck_assert_ptr_nonnull(nsc_source_driver_for(nsc_source_by_name("linkup")));
	ck_assert_ptr_nonnull(nsc_source_driver_for(nsc_source_by_name("simulator")));
	ck_assert_ptr_nonnull(nsc_source_driver_for(nsc_source_by_name("nightscout")));
	ck_assert_ptr_nonnull(nsc_source_driver_for(nsc_source_by_name("glooko")));
	ck_assert_ptr_nonnull(nsc_source_driver_for(nsc_source_by_name("minimedcarelink")));
}
END_TEST

static const char *describe(const char *name)
{
	static char buf[1024];

	ck_assert_ptr_nonnull(nsc_setting_by_name(name));
	return nsc_setting_describe(nsc_setting_by_name(name), buf, sizeof(buf));
}

START_TEST(test_help_is_derived)
{
	char names[256];

	ck_assert_str_eq(describe("CONNECT_LOOKBACK_HOURS"),
			 "How far back to fetch when nothing is known yet; a whole number of "
			 "hours from 1 to 2160; default 48.");
	ck_assert_str_eq(describe("CONNECT_SHARE_REGION"),
			 "Dexcom Share region: us, ous (outside the US) or jp (Japan); one of "
			 "us, ous, jp; default us.");
	ck_assert_str_eq(describe("CONNECT_SHARE_PASSWORD"),
			 "Dexcom account password, kept exactly as given; required for "
			 "dexcomshare, no default.");
	ck_assert_ptr_nonnull(strstr(describe("CONNECT_REST_CONCURRENCY"),
				     "a whole number of requests from 1 to 16; default 4."));
	ck_assert_ptr_nonnull(strstr(describe("CONNECT_SIMULATOR_SEED"),
				     "an unsigned 64-bit decimal number; default 1."));
	ck_assert_ptr_nonnull(strstr(describe("CONNECT_SOURCE"),
				     nsc_source_names(names, sizeof(names))));
	ck_assert_str_eq(names, "simulator, dexcomshare, linkup, nightscout, glooko, "
				"minimedcarelink");
	/* cut to fit, still a string */
	char tiny[16];
	nsc_setting_describe(nsc_setting_by_name("CONNECT_LOOKBACK_HOURS"), tiny, sizeof(tiny));
	ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
}
END_TEST

static const char *lookup(void *ctx, const char *name)
{
	const char *const *kv = ctx;

	for (size_t i = 0; kv[i]; i += 2) {
		if (strcmp(kv[i], name) == 0)
			return kv[i + 1];
	}
	return NULL;
}

static long long field_value(const struct nsc_config *cfg, const struct nsc_setting *s)
{
	const void *at = (const char *)cfg + s->offset;

	switch (s->store) {
	case NSC_STORE_INT64:
		return (long long)*(const int64_t *)at;
	case NSC_STORE_UINT64:
		return (long long)*(const uint64_t *)at;
	case NSC_STORE_UNSIGNED:
		return (long long)*(const unsigned *)at;
	case NSC_STORE_NONE:
	case NSC_STORE_STRING:
		break;
	}
	return -1;
}

/* Every range row is loaded, scaled, defaulted and refused by its row alone. */
START_TEST(test_every_range_row_loads)
{
	size_t n = nsc_settings_count();

	for (size_t i = 0; i < n; i++) {
		const struct nsc_setting *s = nsc_setting_at(i);
		struct nsc_config cfg;
		struct nsc_error err;
		char value[32], expect[160];
		if (s->check != NSC_CHECK_RANGE)
			continue;
		const char *kv[] = { "CONNECT_SOURCE", "simulator", s->name, value, NULL };

		nsc_config_init(&cfg);
		ck_assert_int_eq(field_value(&cfg, s),
				 s->default_text ? strtoll(s->default_text, NULL, 10) * s->scale : 0);
		snprintf(value, sizeof(value), "%lld", s->max);
		ck_assert_msg(nsc_config_load(&cfg, lookup, (void *)kv, &err) == NSC_OK, "%s: %s",
			      s->name, err.msg);
		ck_assert_int_eq(field_value(&cfg, s), s->max * s->scale);
		nsc_config_free(&cfg);

		nsc_config_init(&cfg);
		snprintf(value, sizeof(value), "%lld", s->max + 1);
		ck_assert_int_eq(nsc_config_load(&cfg, lookup, (void *)kv, &err), NSC_ERR_CONFIG);
		snprintf(expect, sizeof(expect),
			 "%s=\"%lld\" is not valid; expected a whole number of %s from %lld to %lld",
			 s->name, s->max + 1, s->unit, s->min, s->max);
		ck_assert_str_eq(err.msg, expect);
		nsc_config_free(&cfg);
	}
}
END_TEST

static Suite *settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_rows_complete);
	tcase_add_test(tc, test_registry_owns_its_rows);
	tcase_add_test(tc, test_help_is_derived);
	tcase_add_test(tc, test_every_range_row_loads);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(settings_suite)
