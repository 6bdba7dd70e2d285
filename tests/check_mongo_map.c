/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB output's pure parts, without a server: batch documents become
 * the BSON Nightscout's Node driver writes (reference/nightscout.md §1.4:
 * int32 for integers within int32, double for epoch ms and fractions,
 * strings for timestamps), entries become {sysTime, type} upserts with
 * srvCreated only on insert, treatments go through Nightscout's prepareData
 * (§1.6, §2.2) with JavaScript's Number(), and replaced documents get the
 * identifier (or API v3 fallback) filter. Driver and server failures get
 * the verdict that keeps data (RETRY) unless a document itself is refused
 * (DROP), and refused credentials are logged once.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "batch.h"
#include "clock.h"
#include "mongo/bson_map.h"
#include "mongo/documents.h"
#include "mongo/errors.h"
#include "mongo/mongo_internal.h"
#include "mongo/mongoc_compat.h"
#include "mongo/treatment_prepare.h"
#include "bson_assert.h"
#include "log_capture.h"
#include "nsc_check.h"

#define NOW INT64_C(1704103260000) /* 2024-01-01T10:01:00.000Z */

/* ---- helpers ----------------------------------------------------------- */

static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "fixture is not JSON: %s", text);
	return o;
}

/* A document completed by the batch (as every output receives it); owned by the batch. */
static struct json_object *batch_doc(struct nsc_batch *b, enum nsc_collection c, const char *text)
{
	struct nsc_error err = { 0 };
	size_t n = nsc_batch_count(b, c);

	ck_assert_msg(nsc_batch_add(b, c, parse(text), &err) == NSC_OK, "batch_add: %s", err.msg);
	return nsc_batch_get(b, c, n);
}

/* The top-level keys of doc, comma-separated, in order. */
static void keys_of(const bson_t *doc, char *buf, size_t size)
{
	bson_iter_t it;
	size_t off = 0;

	buf[0] = '\0';
	ck_assert(bson_iter_init(&it, doc));
	while (bson_iter_next(&it)) {
		int n = snprintf(buf + off, size - off, "%s%s", off ? "," : "", bson_iter_key(&it));
		ck_assert(n > 0 && (size_t)n < size - off);
		off += (size_t)n;
	}
}

/* A sub-document as its own bson_t (valid while `doc` is). */
static void sub_doc(const bson_t *doc, const char *path, bson_t *out)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;

	iter_at(doc, path, &it);
	ck_assert(BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it));
	if (BSON_ITER_HOLDS_DOCUMENT(&it))
		bson_iter_document(&it, &len, &data);
	else
		bson_iter_array(&it, &len, &data);
	ck_assert(bson_init_static(out, data, len));
}

/* Maps one JSON value under key "v". */
static void map_value(const char *json, bson_t *out)
{
	struct json_object *v = json_tokener_parse(json);
	struct nsc_error err = { 0 };

	bson_init(out);
	ck_assert_int_eq(nsc_mongo_append_json(out, "v", v, 0, &err), NSC_OK);
	json_object_put(v);
}

/* A treatment as Nightscout stores it: batch, prepareData, replacement document. */
static void stored_treatment(struct nsc_batch *b, const char *text, bson_t *out)
{
	struct json_object *prepared = NULL;
	struct nsc_error err = { 0 };

	struct json_object *doc = batch_doc(b, NSC_COLL_TREATMENTS, text);
	ck_assert_int_eq(nsc_mongo_prepare_treatment(doc, &prepared, &err), NSC_OK);
	bson_init(out);
	ck_assert_int_eq(nsc_mongo_replacement(prepared, NOW, (double)NOW, out, &err), NSC_OK);
	json_object_put(prepared);
}

/* ---- entries ----------------------------------------------------------- */

START_TEST(test_entry_upsert_types)
{
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, on_insert;
	char keys[512];

	nsc_batch_init(&b);
	/* A Dexcom Share reading as nightscout-connect builds it (§1.5). */
	struct json_object *doc = batch_doc(
		&b, NSC_COLL_ENTRIES,
		"{\"sgv\": 120, \"date\": 1704103200000, \"dateString\": \"2024-01-01T10:00:00.000Z\","
		" \"trend\": 4, \"direction\": \"Flat\", \"device\": \"nightscout-connect\","
		" \"type\": \"sgv\"}");
	ck_assert_int_eq(nsc_mongo_entry_update(doc, NOW, &filter, &update, &err), NSC_OK);

	/* Nightscout's dedup key, nothing else. */
	keys_of(&filter, keys, sizeof(keys));
	ck_assert_str_eq(keys, "sysTime,type");
	ck_assert_str_eq(str_at(&filter, "sysTime"), "2024-01-01T10:00:00.000Z");
	ck_assert_str_eq(str_at(&filter, "type"), "sgv");

	keys_of(&update, keys, sizeof(keys));
	ck_assert_str_eq(keys, "$set,$setOnInsert");
	sub_doc(&update, "$set", &set);
	ck_assert_int_eq(int32_at(&set, "sgv"), 120);
	ck_assert(double_at(&set, "date") == 1704103200000.0);
	ck_assert_str_eq(str_at(&set, "dateString"), "2024-01-01T10:00:00.000Z");
	ck_assert_str_eq(str_at(&set, "sysTime"), "2024-01-01T10:00:00.000Z");
	ck_assert_int_eq(int32_at(&set, "utcOffset"), 0);
	ck_assert_int_eq(int32_at(&set, "trend"), 4);
	ck_assert_str_eq(str_at(&set, "direction"), "Flat");
	ck_assert_str_eq(str_at(&set, "device"), "nightscout-connect");
	ck_assert_str_eq(str_at(&set, "type"), "sgv");
	ck_assert_int_eq(strlen(str_at(&set, "identifier")), 36);
	ck_assert(double_at(&set, "srvModified") == (double)NOW);
	/* srvCreated only when the upsert inserts; never _id. */
	ck_assert(!has(&set, "srvCreated"));
	ck_assert(!has(&set, "_id"));
	sub_doc(&update, "$setOnInsert", &on_insert);
	keys_of(&on_insert, keys, sizeof(keys));
	ck_assert_str_eq(keys, "srvCreated");
	ck_assert(double_at(&on_insert, "srvCreated") == (double)NOW);

	bson_destroy(&filter);
	bson_destroy(&update);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_entry_local_time_offset)
{
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set;

	nsc_batch_init(&b);
	/* §1.5's xDrip example: dateString with +01:00 is stored UTC with utcOffset 60. */
	struct json_object *doc = batch_doc(
		&b, NSC_COLL_ENTRIES,
		"{\"type\": \"sgv\", \"date\": 1704103200000, \"dateString\": "
		"\"2024-01-01T11:00:00.000+01:00\", \"device\": \"xDrip-DexcomG6\", \"direction\": "
		"\"Flat\", \"filtered\": 123456, \"noise\": 1, \"rssi\": -60, \"sgv\": 120, "
		"\"trend\": 4, \"unfiltered\": 123000}");
	ck_assert_int_eq(nsc_mongo_entry_update(doc, NOW, &filter, &update, &err), NSC_OK);
	sub_doc(&update, "$set", &set);
	ck_assert_str_eq(str_at(&set, "sysTime"), "2024-01-01T10:00:00.000Z");
	ck_assert_str_eq(str_at(&set, "dateString"), "2024-01-01T10:00:00.000Z");
	ck_assert_int_eq(int32_at(&set, "utcOffset"), 60);
	ck_assert_int_eq(int32_at(&set, "filtered"), 123456);
	ck_assert_int_eq(int32_at(&set, "noise"), 1);
	ck_assert_int_eq(int32_at(&set, "rssi"), -60);
	ck_assert_int_eq(int32_at(&set, "unfiltered"), 123000);
	bson_destroy(&filter);
	bson_destroy(&update);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_entry_server_fields_not_copied)
{
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set;

	nsc_batch_init(&b);
	/* A document copied from another Nightscout carries its _id and server times. */
	struct json_object *doc = batch_doc(
		&b, NSC_COLL_ENTRIES,
		"{\"_id\": \"65920a00e4b0a1b2c3d4e5f6\", \"type\": \"sgv\", \"sgv\": 99, "
		"\"date\": 1704103200000, \"srvModified\": 1, \"srvCreated\": 2}");
	ck_assert_int_eq(nsc_mongo_entry_update(doc, NOW, &filter, &update, &err), NSC_OK);
	sub_doc(&update, "$set", &set);
	ck_assert(!has(&set, "_id"));
	ck_assert(!has(&set, "srvCreated"));
	ck_assert(double_at(&set, "srvModified") == (double)NOW);
	ck_assert(!has(&filter, "_id"));
	bson_destroy(&filter);
	bson_destroy(&update);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_entry_without_type_keyed_on_identifier)
{
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
	char keys[64];

	nsc_batch_init(&b);
	struct json_object *doc =
		batch_doc(&b, NSC_COLL_ENTRIES, "{\"sgv\": 99, \"date\": 1704103200000}");
	ck_assert_int_eq(nsc_mongo_entry_update(doc, NOW, &filter, &update, &err), NSC_OK);
	keys_of(&filter, keys, sizeof(keys));
	ck_assert_str_eq(keys, "identifier");
	ck_assert_str_eq(str_at(&filter, "identifier"), nsc_mongo_doc_string(doc, "identifier"));
	bson_destroy(&filter);
	bson_destroy(&update);
	nsc_batch_clear(&b);
}
END_TEST

/* ---- numbers and values ------------------------------------------------ */

START_TEST(test_number_types)
{
	static const struct {
		const char *json;
		bson_type_t type;
		double value;
	} cases[] = {
		{ "120", BSON_TYPE_INT32, 120 },
		{ "2147483647", BSON_TYPE_INT32, 2147483647.0 },
		{ "-2147483648", BSON_TYPE_INT32, -2147483648.0 },
		{ "2147483648", BSON_TYPE_DOUBLE, 2147483648.0 },
		{ "-2147483649", BSON_TYPE_DOUBLE, -2147483649.0 },
		{ "1704103200000", BSON_TYPE_DOUBLE, 1704103200000.0 },
		{ "9007199254740993", BSON_TYPE_DOUBLE, 9007199254740992.0 },
		{ "18446744073709551615", BSON_TYPE_DOUBLE, 18446744073709551616.0 },
		{ "2.5", BSON_TYPE_DOUBLE, 2.5 },
		{ "100.5", BSON_TYPE_DOUBLE, 100.5 },
		/* JavaScript has one number type: 20.0 and 2e1 are the integer 20. */
		{ "20.0", BSON_TYPE_INT32, 20 },
		{ "2e1", BSON_TYPE_INT32, 20 },
		{ "-0.0", BSON_TYPE_DOUBLE, 0 },
		{ "0", BSON_TYPE_INT32, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bson_t b;
		bson_iter_t it;

		map_value(cases[i].json, &b);
		ck_assert_msg(type_at(&b, "v") == cases[i].type, "%s: type 0x%02x, expected 0x%02x",
			      cases[i].json, (unsigned)type_at(&b, "v"), (unsigned)cases[i].type);
		iter_at(&b, "v", &it);
		ck_assert_msg(bson_iter_as_double(&it) == cases[i].value, "%s: value %.17g",
			      cases[i].json, bson_iter_as_double(&it));
		bson_destroy(&b);
	}
	bson_t z;
	map_value("-0.0", &z);
	ck_assert(signbit(double_at(&z, "v")));
	bson_destroy(&z);
}
END_TEST

START_TEST(test_epoch_fields_always_double)
{
	struct json_object *doc = parse(
		"{\"date\": 5, \"mills\": 7, \"sgv\": 5, \"nested\": {\"date\": 5}, "
		"\"dateString\": \"2024-01-01T10:00:00.000Z\"}");
	struct nsc_error err = { 0 };
	bson_t b = BSON_INITIALIZER;

	ck_assert_int_eq(nsc_mongo_append_doc_fields(&b, doc, &err), NSC_OK);
	ck_assert(double_at(&b, "date") == 5.0);
	ck_assert(double_at(&b, "mills") == 7.0);
	ck_assert_int_eq(int32_at(&b, "sgv"), 5);
	/* Only the document's own epoch fields; a nested number keeps the JS rule. */
	ck_assert_int_eq(int32_at(&b, "nested.date"), 5);
	/* Timestamps stay strings, never BSON dates. */
	ck_assert_str_eq(str_at(&b, "dateString"), "2024-01-01T10:00:00.000Z");
	bson_destroy(&b);
	json_object_put(doc);
}
END_TEST

START_TEST(test_nested_values)
{
	struct json_object *doc = parse(
		"{\"device\": \"openaps://host\", \"pump\": {\"battery\": {\"percent\": 80}, "
		"\"reservoir\": 100.5, \"clock\": \"2024-01-01T10:00:00Z\", \"status\": {\"status\": "
		"\"normal\", \"bolusing\": false, \"suspended\": true}}, \"uploader\": {\"battery\": "
		"55}, \"predBGs\": [120, 121.5, \"x\", null, [1], {\"a\": 1}], \"none\": null}");
	struct nsc_error err = { 0 };
	bson_t b = BSON_INITIALIZER;
	char keys[256];

	ck_assert_int_eq(nsc_mongo_append_doc_fields(&b, doc, &err), NSC_OK);
	keys_of(&b, keys, sizeof(keys));
	ck_assert_str_eq(keys, "device,pump,uploader,predBGs,none");
	ck_assert_int_eq(type_at(&b, "pump"), BSON_TYPE_DOCUMENT);
	ck_assert_int_eq(int32_at(&b, "pump.battery.percent"), 80);
	ck_assert(double_at(&b, "pump.reservoir") == 100.5);
	ck_assert_str_eq(str_at(&b, "pump.clock"), "2024-01-01T10:00:00Z");
	ck_assert(!bool_at(&b, "pump.status.bolusing"));
	ck_assert(bool_at(&b, "pump.status.suspended"));
	ck_assert_int_eq(int32_at(&b, "uploader.battery"), 55);
	ck_assert_int_eq(type_at(&b, "predBGs"), BSON_TYPE_ARRAY);
	ck_assert_int_eq(int32_at(&b, "predBGs.0"), 120);
	ck_assert(double_at(&b, "predBGs.1") == 121.5);
	ck_assert_str_eq(str_at(&b, "predBGs.2"), "x");
	ck_assert_int_eq(type_at(&b, "predBGs.3"), BSON_TYPE_NULL);
	ck_assert_int_eq(type_at(&b, "predBGs.4"), BSON_TYPE_ARRAY);
	ck_assert_int_eq(int32_at(&b, "predBGs.4.0"), 1);
	ck_assert_int_eq(int32_at(&b, "predBGs.5.a"), 1);
	ck_assert_int_eq(type_at(&b, "none"), BSON_TYPE_NULL);
	ck_assert(bson_validate(&b, BSON_VALIDATE_UTF8, NULL));
	bson_destroy(&b);
	json_object_put(doc);
}
END_TEST

START_TEST(test_utf8_kept_and_repaired)
{
	struct json_object *doc = json_object_new_object();
	struct nsc_error err = { 0 };
	bson_t b = BSON_INITIALIZER;

	json_object_object_add(doc, "notes", json_object_new_string("µmol \xF0\x9F\x98\x80 ok"));
	json_object_object_add(doc, "bad", json_object_new_string("a\xFF" "b\xC3"));
	json_object_object_add(doc, "k\xFE", json_object_new_int(1));
	ck_assert_int_eq(nsc_mongo_append_doc_fields(&b, doc, &err), NSC_OK);
	ck_assert_str_eq(str_at(&b, "notes"), "µmol \xF0\x9F\x98\x80 ok");
	ck_assert_str_eq(str_at(&b, "bad"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
	ck_assert_int_eq(int32_at(&b, "k\xEF\xBF\xBD"), 1);
	ck_assert(bson_validate(&b, BSON_VALIDATE_UTF8, NULL));
	bson_destroy(&b);
	json_object_put(doc);
}
END_TEST

START_TEST(test_too_deep_refused)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *cur = doc;
	struct nsc_error err = { 0 };
	bson_t b = BSON_INITIALIZER;

	for (int i = 0; i < NSC_MONGO_MAX_DEPTH + 5; i++) {
		struct json_object *child = json_object_new_object();
		json_object_object_add(cur, "a", child);
		cur = child;
	}
	ck_assert_int_eq(nsc_mongo_append_doc_fields(&b, doc, &err), NSC_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "deeper"));
	bson_destroy(&b);
	json_object_put(doc);
}
END_TEST

/* ---- treatments: prepareData ------------------------------------------- */

START_TEST(test_js_number)
{
	static const struct {
		const char *json;
		double value; /* NAN = not a number */
	} cases[] = {
		{ "\"20\"", 20 },	  { "\"2.5\"", 2.5 },	 { "\"\"", 0 },
		{ "\"  \\n\"", 0 },	  { "\" 42 \"", 42 },	 { "\"\\u00a042\\u2028\"", 42 },
		{ "\"0x1A\"", 26 },	  { "\"0b101\"", 5 },	 { "\"0o17\"", 15 },
		{ "\"1e3\"", 1000 },	  { "\".5\"", 0.5 },	 { "\"5.\"", 5 },
		{ "\"+5\"", 5 },	  { "\"-5\"", -5 },	 { "\"-0x1A\"", NAN },
		{ "\"12abc\"", NAN },	  { "\"1,5\"", NAN },	 { "\"e5\"", NAN },
		{ "\"1e\"", NAN },	  { "\".\"", NAN },	 { "\"inf\"", NAN },
		{ "\"nan\"", NAN },	  { "true", 1 },	 { "false", 0 },
		{ "null", 0 },		  { "[]", 0 },		 { "[\"7\"]", 7 },
		{ "[null]", 0 },	  { "[1,2]", NAN },	 { "{}", NAN },
		{ "7", 7 },		  { "7.25", 7.25 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *v = json_tokener_parse(cases[i].json);
		ck_assert_msg(v != NULL || strcmp(cases[i].json, "null") == 0, "fixture %s",
			      cases[i].json);
		double got = nsc_js_number(v);
		if (isnan(cases[i].value))
			ck_assert_msg(isnan(got), "Number(%s) = %g, expected NaN", cases[i].json, got);
		else
			ck_assert_msg(got == cases[i].value, "Number(%s) = %g, expected %g",
				      cases[i].json, got, cases[i].value);
		json_object_put(v);
	}
	struct json_object *inf = json_object_new_string("-Infinity");
	ck_assert(isinf(nsc_js_number(inf)) && nsc_js_number(inf) < 0);
	json_object_put(inf);
}
END_TEST

START_TEST(test_treatment_meal_bolus)
{
	struct nsc_batch b;
	bson_t t;
	char keys[256];

	nsc_batch_init(&b);
	/* §1.6's verified example: strings coerced, empty notes removed, UTC created_at. */
	stored_treatment(&b,
			 "{\"eventType\": \"Meal Bolus\", \"created_at\": "
			 "\"2024-01-01T11:00:00+01:00\", \"carbs\": \"20\", \"insulin\": \"2.5\", "
			 "\"enteredBy\": \"me\", \"notes\": \"\"}",
			 &t);
	keys_of(&t, keys, sizeof(keys));
	ck_assert_str_eq(keys, "eventType,created_at,carbs,insulin,enteredBy,utcOffset,date,app,"
			       "identifier,srvModified,srvCreated");
	ck_assert(double_at(&t, "date") == 1704103200000.0);
	ck_assert_str_eq(str_at(&t, "app"), "nsconnect");
	ck_assert_str_eq(str_at(&t, "eventType"), "Meal Bolus");
	ck_assert_str_eq(str_at(&t, "created_at"), "2024-01-01T10:00:00.000Z");
	ck_assert_int_eq(int32_at(&t, "carbs"), 20);
	ck_assert(double_at(&t, "insulin") == 2.5);
	ck_assert_str_eq(str_at(&t, "enteredBy"), "me");
	ck_assert_int_eq(int32_at(&t, "utcOffset"), 60);
	ck_assert_int_eq(strlen(str_at(&t, "identifier")), 36);
	ck_assert(double_at(&t, "srvModified") == (double)NOW);
	ck_assert(double_at(&t, "srvCreated") == (double)NOW);
	bson_destroy(&t);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_treatment_temp_basal_zeroes_kept)
{
	struct nsc_batch b;
	bson_t t;

	nsc_batch_init(&b);
	/* §1.6: absolute 0 and duration 0 survive (removed only when NaN); rate is not coerced. */
	stored_treatment(&b,
			 "{\"eventType\": \"Temp Basal\", \"created_at\": "
			 "\"2024-01-01T10:00:00.000Z\", \"absolute\": 0, \"rate\": 0, "
			 "\"duration\": 30, \"enteredBy\": \"x\"}",
			 &t);
	ck_assert_int_eq(int32_at(&t, "absolute"), 0);
	ck_assert_int_eq(int32_at(&t, "rate"), 0);
	ck_assert_int_eq(int32_at(&t, "duration"), 30);
	ck_assert_int_eq(int32_at(&t, "utcOffset"), 0);
	bson_destroy(&t);

	stored_treatment(&b,
			 "{\"eventType\": \"Temp Basal\", \"created_at\": "
			 "\"2024-01-01T10:05:00.000Z\", \"absolute\": \"0.35\", \"duration\": \"0\"}",
			 &t);
	ck_assert(double_at(&t, "absolute") == 0.35);
	ck_assert_int_eq(int32_at(&t, "duration"), 0);
	bson_destroy(&t);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_treatment_removals)
{
	struct nsc_batch b;
	bson_t t;

	nsc_batch_init(&b);
	stored_treatment(&b,
			 "{\"eventType\": \"Note\", \"created_at\": \"2024-01-01T10:00:00.000Z\", "
			 "\"carbs\": 0, \"insulin\": \"abc\", \"percent\": \"0\", \"relative\": null, "
			 "\"targetTop\": \"\", \"targetBottom\": 0, \"preBolus\": \"0\", "
			 "\"duration\": \"soon\", \"absolute\": {}, \"glucoseType\": \"Finger\", "
			 "\"units\": \"mg/dl\", \"notes\": \"kept\"}",
			 &t);
	static const char *const removed[] = {
		"carbs",    "insulin",	"percent", "relative", "targetTop", "targetBottom",
		"preBolus", "duration", "absolute", "glucose", "glucoseType", "units",
	};
	for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++)
		ck_assert_msg(!has(&t, removed[i]), "%s should be removed", removed[i]);
	ck_assert_str_eq(str_at(&t, "notes"), "kept");
	bson_destroy(&t);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_treatment_glucose_and_targets)
{
	struct nsc_batch b;
	bson_t t;

	nsc_batch_init(&b);
	stored_treatment(&b,
			 "{\"eventType\": \"BG Check\", \"created_at\": \"2024-01-01T10:00:00.000Z\", "
			 "\"glucose\": \"5.5\", \"glucoseType\": \"Finger\", \"units\": \"mmol\", "
			 "\"targetTop\": \" 180 \", \"targetBottom\": 80.0, \"percent\": -20}",
			 &t);
	ck_assert(double_at(&t, "glucose") == 5.5);
	ck_assert_str_eq(str_at(&t, "glucoseType"), "Finger");
	ck_assert_str_eq(str_at(&t, "units"), "mmol");
	ck_assert_int_eq(int32_at(&t, "targetTop"), 180);
	ck_assert_int_eq(int32_at(&t, "targetBottom"), 80);
	ck_assert_int_eq(int32_at(&t, "percent"), -20);
	bson_destroy(&t);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_treatment_announcement_and_event_time)
{
	struct nsc_batch b;
	bson_t t;

	nsc_batch_init(&b);
	stored_treatment(&b,
			 "{\"eventType\": \"Announcement\", \"created_at\": "
			 "\"2024-01-01T10:00:00.000Z\", \"notes\": \"pump change\", "
			 "\"eventTime\": \"2024-01-01T09:30:00+02:00\"}",
			 &t);
	ck_assert(bool_at(&t, "isAnnouncement"));
	ck_assert(!has(&t, "eventTime"));
	ck_assert_str_eq(str_at(&t, "created_at"), "2024-01-01T07:30:00.000Z");
	bson_destroy(&t);

	stored_treatment(&b,
			 "{\"eventType\": \"Note\", \"created_at\": \"2024-01-01T10:00:00.000Z\", "
			 "\"eventTime\": 1704067200000}",
			 &t);
	ck_assert(!has(&t, "isAnnouncement"));
	ck_assert_str_eq(str_at(&t, "created_at"), "2024-01-01T00:00:00.000Z");
	bson_destroy(&t);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(test_prepare_leaves_batch_untouched)
{
	struct nsc_batch b;
	struct json_object *prepared = NULL;
	struct nsc_error err = { 0 };

	nsc_batch_init(&b);
	struct json_object *doc = batch_doc(&b, NSC_COLL_TREATMENTS,
					    "{\"eventType\": \"Note\", \"created_at\": "
					    "\"2024-01-01T10:00:00.000Z\", \"carbs\": \"12\"}");
	ck_assert_int_eq(nsc_mongo_prepare_treatment(doc, &prepared, &err), NSC_OK);
	struct json_object *v;
	ck_assert(json_object_object_get_ex(doc, "carbs", &v));
	ck_assert(json_object_is_type(v, json_type_string));
	json_object_put(prepared);
	nsc_batch_clear(&b);
}
END_TEST

/* ---- replacement filters ----------------------------------------------- */

START_TEST(test_replace_filters)
{
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	bson_t f = BSON_INITIALIZER;
	char keys[128];

	nsc_batch_init(&b);
	struct json_object *t = batch_doc(&b, NSC_COLL_TREATMENTS,
					  "{\"eventType\": \"Correction Bolus\", \"created_at\": "
					  "\"2024-01-01T10:00:00.000Z\", \"insulin\": 1}");
	ck_assert_int_eq(nsc_mongo_replace_filter(NSC_COLL_TREATMENTS, t, &f, &err), NSC_OK);
	keys_of(&f, keys, sizeof(keys));
	ck_assert_str_eq(keys, "$or");
	ck_assert_str_eq(str_at(&f, "$or.0.identifier"), nsc_mongo_doc_string(t, "identifier"));
	ck_assert(!bool_at(&f, "$or.1.identifier.$exists"));
	ck_assert_str_eq(str_at(&f, "$or.1.created_at"), "2024-01-01T10:00:00.000Z");
	ck_assert_str_eq(str_at(&f, "$or.1.eventType"), "Correction Bolus");
	bson_destroy(&f);

	/* devicestatus: API v3's fallback is created_at + device. */
	struct json_object *d = batch_doc(&b, NSC_COLL_DEVICESTATUS,
					  "{\"device\": \"loop://iPhone\", \"created_at\": "
					  "\"2024-01-01T10:00:00.000Z\"}");
	bson_init(&f);
	ck_assert_int_eq(nsc_mongo_replace_filter(NSC_COLL_DEVICESTATUS, d, &f, &err), NSC_OK);
	ck_assert_str_eq(str_at(&f, "$or.1.device"), "loop://iPhone");
	ck_assert(!has(&f, "$or.1.eventType"));
	bson_destroy(&f);

	/* profile: created_at alone. */
	struct json_object *p = batch_doc(&b, NSC_COLL_PROFILE,
					  "{\"defaultProfile\": \"Default\", \"created_at\": "
					  "\"2024-01-01T00:00:05.000Z\", \"store\": {}}");
	bson_init(&f);
	ck_assert_int_eq(nsc_mongo_replace_filter(NSC_COLL_PROFILE, p, &f, &err), NSC_OK);
	bson_t legacy;
	sub_doc(&f, "$or.1", &legacy);
	keys_of(&legacy, keys, sizeof(keys));
	ck_assert_str_eq(keys, "identifier,created_at");
	bson_destroy(&f);

	/* Without identifier a treatment uses Nightscout's own key. */
	struct json_object *bare = parse("{\"eventType\": \"Note\", \"created_at\": "
					 "\"2024-01-01T10:00:00.000Z\"}");
	bson_init(&f);
	ck_assert_int_eq(nsc_mongo_replace_filter(NSC_COLL_TREATMENTS, bare, &f, &err), NSC_OK);
	keys_of(&f, keys, sizeof(keys));
	ck_assert_str_eq(keys, "created_at,eventType");
	bson_destroy(&f);
	json_object_put(bare);
	nsc_batch_clear(&b);
}
END_TEST

/* ---- unchanged documents ------------------------------------------------ */

/* `fields` as a server stores them: _id first, then an optional extra field. */
static bson_t *stored_like(const bson_t *fields, const char *extra_key, int32_t extra_value)
{
	bson_t *d = bson_new();
	bson_oid_t oid;

	bson_oid_init(&oid, NULL);
	ck_assert(BSON_APPEND_OID(d, "_id", &oid));
	ck_assert(bson_concat(d, fields));
	if (extra_key)
		ck_assert(BSON_APPEND_INT32(d, extra_key, extra_value));
	return d;
}

START_TEST(test_unchanged_detection)
{
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set;
	bson_t later_filter = BSON_INITIALIZER, later = BSON_INITIALIZER;

	nsc_batch_init(&b);
	struct json_object *entry = batch_doc(
		&b, NSC_COLL_ENTRIES,
		"{\"sgv\": 120, \"date\": 1704103200000, \"direction\": \"Flat\", \"type\": \"sgv\"}");
	ck_assert_int_eq(nsc_mongo_entry_update(entry, NOW, &filter, &update, &err), NSC_OK);
	sub_doc(&update, "$set", &set);

	/* Stored by an earlier write (other srvModified), plus a field Nightscout keeps. */
	bson_t *stored = stored_like(&set, "noise", 1);
	ck_assert(nsc_mongo_unchanged(NSC_COLL_ENTRIES, &update, stored));
	bson_destroy(stored);
	/* A later srvModified alone is no change... */
	ck_assert_int_eq(nsc_mongo_entry_update(entry, NOW + 60000, &later_filter, &later, &err),
			 NSC_OK);
	stored = stored_like(&set, NULL, 0);
	ck_assert(nsc_mongo_unchanged(NSC_COLL_ENTRIES, &later, stored));
	bson_destroy(stored);

	/* ...but another type for the same number, or a missing field, is. */
	bson_t *typed = BCON_NEW("sgv", BCON_DOUBLE(120.0));
	bson_t *copy = bson_new();
	bson_copy_to_excluding_noinit(&set, copy, "sgv", NULL);
	bson_concat(copy, typed);
	stored = stored_like(copy, NULL, 0);
	ck_assert(!nsc_mongo_unchanged(NSC_COLL_ENTRIES, &update, stored));
	bson_destroy(stored);
	bson_destroy(copy);
	bson_destroy(typed);
	copy = bson_new();
	bson_copy_to_excluding_noinit(&set, copy, "identifier", NULL);
	stored = stored_like(copy, NULL, 0);
	ck_assert(!nsc_mongo_unchanged(NSC_COLL_ENTRIES, &update, stored));
	bson_destroy(stored);
	bson_destroy(copy);

	/* Replacements: exactly the same fields, nested values compared too. */
	struct json_object *status = batch_doc(
		&b, NSC_COLL_DEVICESTATUS,
		"{\"device\": \"d\", \"created_at\": \"2024-01-01T10:00:00.000Z\", "
		"\"pump\": {\"reservoir\": 100.5}}");
	bson_t repl = BSON_INITIALIZER, repl_later = BSON_INITIALIZER;
	ck_assert_int_eq(nsc_mongo_replacement(status, NOW, 5.0, &repl, &err), NSC_OK);
	ck_assert_int_eq(nsc_mongo_replacement(status, NOW + 1, 5.0, &repl_later, &err), NSC_OK);
	stored = stored_like(&repl, NULL, 0);
	ck_assert(nsc_mongo_unchanged(NSC_COLL_DEVICESTATUS, &repl_later, stored));
	bson_destroy(stored);
	stored = stored_like(&repl, "extra", 1); /* a replacement would drop it */
	ck_assert(!nsc_mongo_unchanged(NSC_COLL_DEVICESTATUS, &repl_later, stored));
	bson_destroy(stored);
	copy = bson_new();
	bson_copy_to_excluding_noinit(&repl, copy, "srvCreated", NULL); /* stored by Nightscout */
	stored = stored_like(copy, NULL, 0);
	ck_assert(!nsc_mongo_unchanged(NSC_COLL_DEVICESTATUS, &repl_later, stored));
	bson_destroy(stored);
	bson_destroy(copy);
	struct json_object *status2 = batch_doc(
		&b, NSC_COLL_DEVICESTATUS,
		"{\"device\": \"d\", \"created_at\": \"2024-01-01T10:00:00.000Z\", "
		"\"pump\": {\"reservoir\": 99.5}}");
	bson_t repl2 = BSON_INITIALIZER;
	ck_assert_int_eq(nsc_mongo_replacement(status2, NOW, 5.0, &repl2, &err), NSC_OK);
	stored = stored_like(&repl, NULL, 0);
	ck_assert(!nsc_mongo_unchanged(NSC_COLL_DEVICESTATUS, &repl2, stored));
	bson_destroy(stored);

	bson_destroy(&repl);
	bson_destroy(&repl_later);
	bson_destroy(&repl2);
	bson_destroy(&filter);
	bson_destroy(&update);
	bson_destroy(&later);
	bson_destroy(&later_filter);
	nsc_batch_clear(&b);
}
END_TEST

/* ---- failures ----------------------------------------------------------- */

static enum nsc_mongo_failure classify(uint32_t domain, uint32_t code, const char *msg,
				       const char *reply_json)
{
	bson_error_t e;
	bson_error_t perr;

	bson_set_error(&e, domain, code, "%s", msg);
	if (!reply_json)
		return nsc_mongo_classify(&e, NULL);
	bson_t *reply = bson_new_from_json((const uint8_t *)reply_json, -1, &perr);
	ck_assert_msg(reply != NULL, "reply fixture: %s", perr.message);
	enum nsc_mongo_failure f = nsc_mongo_classify(&e, reply);
	bson_destroy(reply);
	return f;
}

START_TEST(test_failure_classes)
{
	/* Unreachable or busy: keep the data and retry. */
	ck_assert_int_eq(classify(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_CONNECT,
				  "Failed to connect to target host: 127.0.0.1:1", NULL),
			 NSC_MONGO_FAIL_TRANSIENT);
	ck_assert_int_eq(classify(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_NAME_RESOLUTION,
				  "Failed to look up SRV record", NULL),
			 NSC_MONGO_FAIL_TRANSIENT);
	ck_assert_int_eq(classify(MONGOC_ERROR_SERVER_SELECTION,
				  MONGOC_ERROR_SERVER_SELECTION_FAILURE,
				  "No suitable servers found", NULL),
			 NSC_MONGO_FAIL_TRANSIENT);
	ck_assert_int_eq(classify(MONGOC_ERROR_SERVER, 10107, "not primary", NULL),
			 NSC_MONGO_FAIL_TRANSIENT);
	/* A refused command (Atlas quota) is not a refused document: retry, nothing set aside. */
	ck_assert_int_eq(classify(MONGOC_ERROR_SERVER, 8000, "you are over your space quota", NULL),
			 NSC_MONGO_FAIL_TRANSIENT);
	ck_assert_int_eq(classify(MONGOC_ERROR_WRITE_CONCERN, 64, "waiting for replication timed out",
				  "{\"nUpserted\": 1, \"writeConcernErrors\": [{\"code\": 64, "
				  "\"errmsg\": \"timeout\"}]}"),
			 NSC_MONGO_FAIL_TRANSIENT);
	ck_assert_int_eq(classify(MONGOC_ERROR_SERVER, 91, "shutting down",
				  "{\"writeErrors\": [{\"index\": 0, \"code\": 91, "
				  "\"errmsg\": \"shutting down\"}]}"),
			 NSC_MONGO_FAIL_TRANSIENT);

	/* Credentials: kept and retried, but reported as such. */
	ck_assert_int_eq(classify(MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_AUTHENTICATE,
				  "Unsupported authentication mechanism", NULL),
			 NSC_MONGO_FAIL_AUTH);
	ck_assert_int_eq(classify(MONGOC_ERROR_SERVER, 18, "Authentication failed.", NULL),
			 NSC_MONGO_FAIL_AUTH);
	ck_assert_int_eq(classify(MONGOC_ERROR_SERVER_SELECTION,
				  MONGOC_ERROR_SERVER_SELECTION_FAILURE,
				  "No suitable servers found: [Authentication failed.]", NULL),
			 NSC_MONGO_FAIL_AUTH);
	ck_assert_int_eq(classify(MONGOC_ERROR_SERVER, 13, "not authorized on ns to execute", NULL),
			 NSC_MONGO_FAIL_AUTH);

	/* A document itself refused: set the batch aside. */
	ck_assert_int_eq(classify(MONGOC_ERROR_SERVER, 121, "Document failed validation",
				  "{\"nUpserted\": 0, \"writeErrors\": [{\"index\": 0, "
				  "\"code\": 121, \"errmsg\": \"Document failed validation\"}]}"),
			 NSC_MONGO_FAIL_DOCUMENT);
	ck_assert_int_eq(classify(MONGOC_ERROR_BSON, MONGOC_ERROR_BSON_INVALID, "invalid document",
				  NULL),
			 NSC_MONGO_FAIL_DOCUMENT);
	ck_assert_int_eq(classify(MONGOC_ERROR_COMMAND, MONGOC_ERROR_COMMAND_INVALID_ARG,
				  "invalid key", NULL),
			 NSC_MONGO_FAIL_DOCUMENT);

	/* Index creation: only a definite server refusal is given up. */
	bson_error_t e;
	bson_set_error(&e, MONGOC_ERROR_SERVER, 238, "NotImplemented");
	ck_assert(nsc_mongo_server_refused(&e));
	bson_set_error(&e, MONGOC_ERROR_SERVER, 91, "shutting down");
	ck_assert(!nsc_mongo_server_refused(&e));
	bson_set_error(&e, MONGOC_ERROR_SERVER, 18, "Authentication failed.");
	ck_assert(!nsc_mongo_server_refused(&e));
	bson_set_error(&e, MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET, "socket error");
	ck_assert(!nsc_mongo_server_refused(&e));
}
END_TEST

static int occurrences(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text ? strstr(text, needle) : NULL; p; p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(test_failure_messages)
{
	static const char refused[] = "MongoDB refused the credentials in MONGODB_URI";
	char where[] = "db.example.net:27017/nightscout", db[] = "nightscout";
	struct log_capture cap = { NULL, 0 };
	struct nsc_mongo m;
	struct nsc_error err = { 0 };
	bson_error_t e;
	struct nsc_fake_clock fc;
	struct nsc_clock clock;

	memset(&m, 0, sizeof(m));
	m.log = nsc_log_new(NSC_LOG_INFO);
	ck_assert_ptr_nonnull(m.log);
	nsc_log_set_sink(m.log, log_capture_sink, &cap);
	/* The logger holds back identical errors for a minute; its time is ours. */
	nsc_fake_clock_init(&fc, 1704103200000LL, &clock);
	nsc_log_set_clock(m.log, &clock);
	m.where = where;
	m.db_name = db;

	bson_set_error(&e, MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_AUTHENTICATE,
		       "Authentication failed.");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(nsc_mongo_fail(&m, "writing entries", &e, NULL, &err), NSC_ERR_RETRY);
		ck_assert_ptr_nonnull(strstr(err.msg, refused));
	}
	ck_assert_int_eq(occurrences(cap.text, refused), 1);
	ck_assert_ptr_nonnull(strstr(cap.text, "level=error"));
	/* After a success, a new refusal is news again (later than the logger's repeat window). */
	nsc_mongo_succeeded(&m);
	nsc_fake_clock_advance(&fc, 61000);
	nsc_mongo_fail(&m, "writing entries", &e, NULL, &err);
	ck_assert_int_eq(occurrences(cap.text, refused), 2);

	bson_set_error(&e, MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_CONNECT,
		       "Failed to connect to target host");
	ck_assert_int_eq(nsc_mongo_fail(&m, "writing entries", &e, NULL, &err), NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(err.msg, "db.example.net:27017/nightscout"));
	ck_assert_ptr_nonnull(strstr(err.msg, "Failed to connect to target host"));

	bson_set_error(&e, MONGOC_ERROR_BSON, MONGOC_ERROR_BSON_INVALID, "field name too odd");
	ck_assert_int_eq(nsc_mongo_fail(&m, "writing treatments", &e, NULL, &err), NSC_ERR_DROP);
	ck_assert_ptr_nonnull(strstr(err.msg, "writing treatments"));
	ck_assert_ptr_nonnull(strstr(err.msg, "field name too odd"));

	/* Driver messages may span lines or quote: the log keeps one line per event. */
	char plain[64];
	nsc_mongo_plain_message("Unsupported \"SCRAM-SHA-1\".\nSee\tdocs", plain, sizeof(plain));
	ck_assert_str_eq(plain, "Unsupported 'SCRAM-SHA-1'. See docs");
	nsc_mongo_plain_message("abcdef", plain, 4);
	ck_assert_str_eq(plain, "abc");

	nsc_log_free(m.log);
	free(cap.text);
}
END_TEST

static Suite *mongo_map_suite(void)
{
	Suite *s = suite_create("mongo_map");
	TCase *tc = tcase_create("entries");
	tcase_add_test(tc, test_entry_upsert_types);
	tcase_add_test(tc, test_entry_local_time_offset);
	tcase_add_test(tc, test_entry_server_fields_not_copied);
	tcase_add_test(tc, test_entry_without_type_keyed_on_identifier);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_number_types);
	tcase_add_test(tc, test_epoch_fields_always_double);
	tcase_add_test(tc, test_nested_values);
	tcase_add_test(tc, test_utf8_kept_and_repaired);
	tcase_add_test(tc, test_too_deep_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("treatments");
	tcase_add_test(tc, test_js_number);
	tcase_add_test(tc, test_treatment_meal_bolus);
	tcase_add_test(tc, test_treatment_temp_basal_zeroes_kept);
	tcase_add_test(tc, test_treatment_removals);
	tcase_add_test(tc, test_treatment_glucose_and_targets);
	tcase_add_test(tc, test_treatment_announcement_and_event_time);
	tcase_add_test(tc, test_prepare_leaves_batch_untouched);
	tcase_add_test(tc, test_replace_filters);
	tcase_add_test(tc, test_unchanged_detection);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_test(tc, test_failure_classes);
	tcase_add_test(tc, test_failure_messages);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(mongo_map_suite)
