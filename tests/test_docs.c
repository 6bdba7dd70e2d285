/* SPDX-License-Identifier: MIT */
/* Nightscout documents for output tests (see test_docs.h). */
#include "config.h"

#include <check.h>

#include "test_docs.h"
#include "timeutil.h"

struct json_object *test_entry(int64_t date, int sgv)
{
	char iso[NSC_ISO_BUF];
	struct json_object *d = json_object_new_object();
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(nsc_time_format_iso(date, iso, sizeof(iso)), NSC_OK);
	json_object_object_add(d, "type", json_object_new_string("sgv"));
	json_object_object_add(d, "sgv", json_object_new_int(sgv));
	json_object_object_add(d, "date", json_object_new_int64(date));
	json_object_object_add(d, "dateString", json_object_new_string(iso));
	json_object_object_add(d, "direction", json_object_new_string("Flat"));
	json_object_object_add(d, "device", json_object_new_string("test/device"));
	return d;
}

struct json_object *test_treatment(int64_t t, const char *event_type, double insulin)
{
	char iso[NSC_ISO_BUF];
	struct json_object *d = json_object_new_object();
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(nsc_time_format_iso(t, iso, sizeof(iso)), NSC_OK);
	json_object_object_add(d, "eventType", json_object_new_string(event_type));
	json_object_object_add(d, "created_at", json_object_new_string(iso));
	json_object_object_add(d, "insulin", json_object_new_double(insulin));
	json_object_object_add(d, "enteredBy", json_object_new_string("test"));
	return d;
}
