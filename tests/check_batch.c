/* SPDX-License-Identifier: MIT */
/*
 * Check suite for batch: documents are completed the way Nightscout's
 * storage code completes them (reference/nightscout.md §1.5, §1.6, §2.1,
 * §5.3), ownership moves to the batch, and bad documents are refused.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "batch.h"
#include "nsc_check.h"

static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "fixture is not JSON: %s", text);
	return o;
}

static const char *str_field(struct json_object *doc, const char *key)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(doc, key, &v), "missing %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", key);
	return json_object_get_string(v);
}

static int64_t int_field(struct json_object *doc, const char *key)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(doc, key, &v), "missing %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_int), "%s is not an integer", key);
	return json_object_get_int64(v);
}

START_TEST(test_collection_names)
{
	ck_assert_str_eq(nsc_collection_name(NSC_COLL_ENTRIES), "entries");
	ck_assert_str_eq(nsc_collection_name(NSC_COLL_TREATMENTS), "treatments");
	ck_assert_str_eq(nsc_collection_name(NSC_COLL_DEVICESTATUS), "devicestatus");
	ck_assert_str_eq(nsc_collection_name(NSC_COLL_PROFILE), "profile");
}
END_TEST

START_TEST(test_entry_from_date)
{
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	struct json_object *doc;

	nsc_batch_init(&b);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
	ck_assert_ptr_null(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0));
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES,
				       parse("{\"type\":\"sgv\",\"sgv\":120,\"date\":1704103200000,"
					     "\"device\":\"xDrip-DexcomG6\",\"direction\":\"Flat\"}"),
				       &err),
			 NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 1);
	ck_assert_uint_eq(nsc_batch_total(&b), 1);
	doc = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(str_field(doc, "dateString"), "2024-01-01T10:00:00.000Z");
	ck_assert_str_eq(str_field(doc, "sysTime"), "2024-01-01T10:00:00.000Z");
	ck_assert_int_eq(int_field(doc, "utcOffset"), 0);
	ck_assert_int_eq(int_field(doc, "date"), INT64_C(1704103200000));
	/* reference/nightscout.md §5.3 */
	ck_assert_str_eq(str_field(doc, "identifier"), "9ddf8112-c049-594e-a7fe-cbf9d69067d6");
	/* What API v3 stores too (§5.5): created_at from date, and the app. */
	ck_assert_str_eq(str_field(doc, "created_at"), "2024-01-01T10:00:00.000Z");
	ck_assert_str_eq(str_field(doc, "app"), "nsconnect");
	/* Untouched fields survive. */
	ck_assert_int_eq(int_field(doc, "sgv"), 120);
	ck_assert_str_eq(str_field(doc, "direction"), "Flat");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_entry_date_double)
{
	struct nsc_batch b;
	struct json_object *doc;

	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES,
				       parse("{\"type\":\"sgv\",\"sgv\":99,\"date\":1704103200000.0}"),
				       NULL),
			 NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	ck_assert_int_eq(int_field(doc, "date"), INT64_C(1704103200000));
	ck_assert_str_eq(str_field(doc, "sysTime"), "2024-01-01T10:00:00.000Z");
	/* No device: the key starts with "undefined_" (Python uuid5 of "undefined_1704103200000"). */
	ck_assert_str_eq(str_field(doc, "identifier"), "01b35ca6-849e-587a-995b-4250f0dfbf14");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_entry_dateString_with_offset)
{
	/* reference/nightscout.md §1.5: the stored example for an xDrip-style post. */
	struct nsc_batch b;
	struct json_object *doc;

	nsc_batch_init(&b);
	ck_assert_int_eq(
		nsc_batch_add(&b, NSC_COLL_ENTRIES,
			      parse("{\"type\":\"sgv\",\"sgv\":120,\"date\":1704103200000,"
				    "\"dateString\":\"2024-01-01T11:00:00.000+01:00\","
				    "\"device\":\"xDrip-DexcomG6\"}"),
			      NULL),
		NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	ck_assert_str_eq(str_field(doc, "sysTime"), "2024-01-01T10:00:00.000Z");
	ck_assert_str_eq(str_field(doc, "dateString"), "2024-01-01T10:00:00.000Z");
	ck_assert_int_eq(int_field(doc, "utcOffset"), 60);
	ck_assert_int_eq(int_field(doc, "date"), INT64_C(1704103200000));
	ck_assert_str_eq(str_field(doc, "identifier"), "9ddf8112-c049-594e-a7fe-cbf9d69067d6");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_entry_dateString_wins)
{
	/* dateString one hour later than date: Nightscout keys sysTime on dateString. */
	struct nsc_batch b;
	struct json_object *doc;

	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES,
				       parse("{\"type\":\"sgv\",\"date\":1704103200000,"
					     "\"dateString\":\"2024-01-01T11:00:00-00:00\","
					     "\"utcOffset\":-300}"),
				       NULL),
			 NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	ck_assert_str_eq(str_field(doc, "sysTime"), "2024-01-01T11:00:00.000Z");
	ck_assert_str_eq(str_field(doc, "dateString"), "2024-01-01T11:00:00.000Z");
	ck_assert_int_eq(int_field(doc, "date"), INT64_C(1704103200000));
	/* A given utcOffset is kept. */
	ck_assert_int_eq(int_field(doc, "utcOffset"), -300);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_entry_keeps_identifier)
{
	struct nsc_batch b;

	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES,
				       parse("{\"date\":1704103200000,\"identifier\":\"client-id-1\"}"),
				       NULL),
			 NSC_OK);
	ck_assert_str_eq(str_field(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "identifier"),
			 "client-id-1");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_entry_rejects)
{
	static const char *const bad[] = {
		"{\"type\":\"sgv\",\"sgv\":120}",
		"{\"type\":\"sgv\",\"date\":\"1704103200000\"}",
		"{\"type\":\"sgv\",\"date\":1704103200000.5}",
		"{\"type\":\"sgv\",\"date\":null}",
		"{\"type\":\"sgv\",\"date\":true}",
	};
	struct nsc_batch b;
	struct nsc_error err;

	nsc_batch_init(&b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		/* Ownership moves also on failure; ASan would report a leak otherwise. */
		ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES, parse(bad[i]), &err), NSC_ERR_PARSE);
		ck_assert_int_eq(err.code, NSC_ERR_PARSE);
		ck_assert_msg(strstr(err.msg, "`date`") != NULL, "message does not name date: %s",
			      err.msg);
	}
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES,
				       parse("{\"date\":1704103200000,\"dateString\":\"yesterday\"}"),
				       &err),
			 NSC_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "dateString"));
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES, parse("[1,2]"), &err), NSC_ERR_PARSE);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES, NULL, &err), NSC_ERR_PARSE);
	/* A date that cannot be written as a four-digit-year ISO string. */
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES,
				       parse("{\"date\":9000000000000000}"), &err),
			 NSC_ERR_RANGE);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_treatment_normalised)
{
	/* reference/nightscout.md §1.6 example: +01:00 becomes UTC with utcOffset 60. */
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	struct json_object *doc;

	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_TREATMENTS,
				       parse("{\"eventType\":\"Meal Bolus\","
					     "\"created_at\":\"2024-01-01T11:00:00+01:00\","
					     "\"carbs\":20,\"insulin\":2.5,\"enteredBy\":\"me\"}"),
				       &err),
			 NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0);
	ck_assert_str_eq(str_field(doc, "created_at"), "2024-01-01T10:00:00.000Z");
	ck_assert_int_eq(int_field(doc, "utcOffset"), 60);
	/* Python uuid5 of "undefined_1704103200000_Meal Bolus". */
	ck_assert_str_eq(str_field(doc, "identifier"), "8920c1ed-2a06-5d22-b3fd-99b244bf8ded");
	/* API v3's `date` (epoch ms of created_at) and `app`, so v3 date$gte finds it. */
	ck_assert_int_eq(int_field(doc, "date"), INT64_C(1704103200000));
	ck_assert_str_eq(str_field(doc, "app"), "nsconnect");
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_TREATMENTS), 1);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 0);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_treatment_aaps_identifier)
{
	/* The API v3 tutorial's AAPS bolus (reference/nightscout.md §5.3). */
	struct nsc_batch b;
	struct json_object *doc;

	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_TREATMENTS,
				       parse("{\"device\":\"Samsung XCover 4-861536030196001\","
					     "\"eventType\":\"Correction Bolus\",\"insulin\":0.3,"
					     "\"created_at\":\"2021-02-11T15:30:04.186Z\"}"),
				       NULL),
			 NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0);
	ck_assert_str_eq(str_field(doc, "identifier"), "5b0f7124-475f-5db0-824c-a73c5eea0975");
	ck_assert_str_eq(str_field(doc, "created_at"), "2021-02-11T15:30:04.186Z");
	ck_assert_int_eq(int_field(doc, "utcOffset"), 0);
	nsc_batch_clear(&b);

	/* A document that names its app, date or created_at keeps them. */
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_TREATMENTS,
				       parse("{\"eventType\":\"Note\",\"app\":\"AndroidAPS\",\"date\":1613057404186,"
					     "\"created_at\":\"2021-02-11T15:30:04.186Z\"}"),
				       NULL),
			 NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0);
	ck_assert_str_eq(str_field(doc, "app"), "AndroidAPS");
	ck_assert_int_eq(int_field(doc, "date"), INT64_C(1613057404186));
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES,
				       parse("{\"type\":\"sgv\",\"sgv\":100,\"date\":1704103200000,"
					     "\"created_at\":\"2024-01-01T10:00:00.000Z\",\"app\":\"xDrip\"}"),
				       NULL),
			 NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	ck_assert_str_eq(str_field(doc, "app"), "xDrip");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_devicestatus_and_profile)
{
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	struct json_object *doc;

	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_DEVICESTATUS,
				       parse("{\"device\":\"xDrip-DexcomG6\",\"created_at\":"
					     "\"2024-01-01 10:00:00.123456\",\"uploaderBattery\":80}"),
				       &err),
			 NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0);
	ck_assert_str_eq(str_field(doc, "created_at"), "2024-01-01T10:00:00.123Z");
	ck_assert_int_eq(int_field(doc, "utcOffset"), 0);
	ck_assert_int_eq(int_field(doc, "date"), INT64_C(1704103200123));
	ck_assert_str_eq(str_field(doc, "app"), "nsconnect");
	ck_assert_int_eq(strlen(str_field(doc, "identifier")), 36);

	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_PROFILE,
				       parse("{\"defaultProfile\":\"Default\",\"utcOffset\":120,"
					     "\"created_at\":\"2024-01-01T12:00:00+0200\"}"),
				       &err),
			 NSC_OK);
	doc = nsc_batch_get(&b, NSC_COLL_PROFILE, 0);
	ck_assert_str_eq(str_field(doc, "created_at"), "2024-01-01T10:00:00.000Z");
	ck_assert_int_eq(int_field(doc, "utcOffset"), 120);
	ck_assert_int_eq(int_field(doc, "date"), INT64_C(1704103200000));
	/* Same instant and no device/eventType as a bare entry: uuid5("undefined_1704103200000"). */
	ck_assert_str_eq(str_field(doc, "identifier"), "01b35ca6-849e-587a-995b-4250f0dfbf14");
	ck_assert_uint_eq(nsc_batch_total(&b), 2);

	/* Missing or bad created_at. */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_TREATMENTS, parse("{\"eventType\":\"Note\"}"),
				       &err),
			 NSC_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "created_at"));
	ck_assert_ptr_nonnull(strstr(err.msg, "treatments"));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_DEVICESTATUS,
				       parse("{\"created_at\":1704103200000}"), &err),
			 NSC_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "created_at"));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_PROFILE,
				       parse("{\"created_at\":\"2024-02-30T00:00:00Z\"}"), &err),
			 NSC_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "2024-02-30"));
	ck_assert_uint_eq(nsc_batch_total(&b), 2);
	nsc_batch_clear(&b);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
}
END_TEST

START_TEST(test_batch_clear_reuse)
{
	struct nsc_batch b;
	char text[96];

	nsc_batch_init(&b);
	for (int i = 0; i < 50; i++) {
		snprintf(text, sizeof(text), "{\"date\":%lld}",
			 (long long)(1704103200000LL + i * 300000LL));
		ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES, parse(text), NULL), NSC_OK);
	}
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 50);
	ck_assert_str_eq(str_field(nsc_batch_get(&b, NSC_COLL_ENTRIES, 49), "sysTime"),
			 "2024-01-01T14:05:00.000Z");
	ck_assert_ptr_null(nsc_batch_get(&b, NSC_COLL_ENTRIES, 50));
	nsc_batch_clear(&b);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES, parse("{\"date\":0}"), NULL), NSC_OK);
	ck_assert_str_eq(str_field(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "sysTime"),
			 "1970-01-01T00:00:00.000Z");
	nsc_batch_clear(&b);
	nsc_batch_clear(&b); /* idempotent */
}
END_TEST

START_TEST(test_doc_time)
{
	struct json_object *doc;
	int64_t ms = 0;

	doc = parse("{\"date\":1704103200000,\"created_at\":\"2000-01-01T00:00:00Z\"}");
	ck_assert_int_eq(nsc_doc_time_ms(doc, &ms), NSC_OK);
	ck_assert_int_eq(ms, INT64_C(1704103200000));
	json_object_put(doc);

	doc = parse("{\"date\":1704103200000.0}");
	ck_assert_int_eq(nsc_doc_time_ms(doc, &ms), NSC_OK);
	ck_assert_int_eq(ms, INT64_C(1704103200000));
	json_object_put(doc);

	doc = parse("{\"created_at\":\"2024-01-01T11:00:00+01:00\","
		    "\"dateString\":\"2000-01-01T00:00:00Z\"}");
	ck_assert_int_eq(nsc_doc_time_ms(doc, &ms), NSC_OK);
	ck_assert_int_eq(ms, INT64_C(1704103200000));
	json_object_put(doc);

	/* A string date is not a number: fall back to dateString. */
	doc = parse("{\"date\":\"123\",\"dateString\":\"2024-01-01T10:00:00Z\"}");
	ck_assert_int_eq(nsc_doc_time_ms(doc, &ms), NSC_OK);
	ck_assert_int_eq(ms, INT64_C(1704103200000));
	json_object_put(doc);

	doc = parse("{\"sgv\":100}");
	ck_assert_int_eq(nsc_doc_time_ms(doc, &ms), NSC_ERR_NOT_FOUND);
	json_object_put(doc);

	doc = parse("{\"created_at\":\"soon\"}");
	ck_assert_int_ne(nsc_doc_time_ms(doc, &ms), NSC_OK);
	json_object_put(doc);
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("entries");

	tcase_add_test(tc, test_collection_names);
	tcase_add_test(tc, test_entry_from_date);
	tcase_add_test(tc, test_entry_date_double);
	tcase_add_test(tc, test_entry_dateString_with_offset);
	tcase_add_test(tc, test_entry_dateString_wins);
	tcase_add_test(tc, test_entry_keeps_identifier);
	tcase_add_test(tc, test_entry_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("other");
	tcase_add_test(tc, test_treatment_normalised);
	tcase_add_test(tc, test_treatment_aaps_identifier);
	tcase_add_test(tc, test_devicestatus_and_profile);
	tcase_add_test(tc, test_batch_clear_reuse);
	tcase_add_test(tc, test_doc_time);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(batch_suite)
