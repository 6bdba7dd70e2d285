/* SPDX-License-Identifier: MIT */
/*
 * Check suite for identity: RFC 4122 UUIDv5 and Nightscout's API v3
 * `identifier`. Expected values come from Nightscout's own documentation
 * (reference/nightscout.md §5.3), RFC/Python uuid.uuid5 vectors, never from
 * this code.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "identity.h"
#include "nsc_check.h"

static const unsigned char ns_dns[16] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
					  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
static const unsigned char ns_url[16] = { 0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
					  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };

static void assert_identifier(const char *device, int64_t date, const char *event_type,
			      const char *want)
{
	char out[NSC_UUID_BUF];

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(nsc_identifier_compute(device, date, event_type, out), NSC_OK);
	ck_assert_str_eq(out, want);
}

START_TEST(test_uuid_v5_rfc_vector)
{
	char out[NSC_UUID_BUF];
	const char *name = "www.example.com";

	ck_assert_int_eq(nsc_uuid_v5(ns_dns, name, strlen(name), out), NSC_OK);
	ck_assert_str_eq(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
	ck_assert_uint_eq(strlen(out), NSC_UUID_STR_LEN);

	/* Python: uuid.uuid5(uuid.NAMESPACE_URL, "") */
	ck_assert_int_eq(nsc_uuid_v5(ns_url, "", 0, out), NSC_OK);
	ck_assert_str_eq(out, "1b4db7eb-4057-5ddf-91e0-36dec72071f5");

	/* name_len is honoured: only the first 15 bytes count. */
	ck_assert_int_eq(nsc_uuid_v5(ns_dns, "www.example.comXYZ", 15, out), NSC_OK);
	ck_assert_str_eq(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
}
END_TEST

START_TEST(test_uuid_v5_shape)
{
	char out[NSC_UUID_BUF];

	ck_assert_int_eq(nsc_uuid_v5(ns_dns, "anything at all", 15, out), NSC_OK);
	ck_assert_uint_eq(strlen(out), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			ck_assert_int_eq(out[i], '-');
		} else {
			ck_assert_msg((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f'),
				      "not lower-case hex at %d: %s", i, out);
		}
	}
	ck_assert_int_eq(out[14], '5');                  /* version */
	ck_assert_ptr_nonnull(strchr("89ab", out[19])); /* RFC 4122 variant */
}
END_TEST

START_TEST(test_identifier_nightscout_vectors)
{
	/* reference/nightscout.md §5.3, verified against Nightscout. */
	assert_identifier("xDrip-DexcomG6", INT64_C(1704103200000), NULL,
			  "9ddf8112-c049-594e-a7fe-cbf9d69067d6");
	/* The API v3 tutorial's AAPS bolus. */
	assert_identifier("Samsung XCover 4-861536030196001", INT64_C(1613057404186),
			  "Correction Bolus", "5b0f7124-475f-5db0-824c-a73c5eea0975");
}
END_TEST

START_TEST(test_identifier_key_rules)
{
	/* Python uuid.uuid5(UUID(bytes=b"NightscoutRocks!"), key) for each key. */
	/* key "undefined_1704103200000": no device. */
	assert_identifier(NULL, INT64_C(1704103200000), NULL, "01b35ca6-849e-587a-995b-4250f0dfbf14");
	/* key "undefined_1704103200000_Meal Bolus". */
	assert_identifier(NULL, INT64_C(1704103200000), "Meal Bolus",
			  "8920c1ed-2a06-5d22-b3fd-99b244bf8ded");
	/* An empty eventType is falsy in Nightscout and adds nothing to the key. */
	assert_identifier(NULL, INT64_C(1704103200000), "", "01b35ca6-849e-587a-995b-4250f0dfbf14");
	assert_identifier("xDrip-DexcomG6", INT64_C(1704103200000), "",
			  "9ddf8112-c049-594e-a7fe-cbf9d69067d6");
	/* key "null_1704103200000" (a JSON null device, as JS would print it). */
	assert_identifier("null", INT64_C(1704103200000), NULL, "1e58bd47-b89f-5b1d-9c8d-6578cc2d3d0b");
	/* key "undefined_-5": negative dates print with a sign. */
	assert_identifier(NULL, INT64_C(-5), NULL, "d835e6bf-b047-53e1-8816-d265ca4c734b");
}
END_TEST

START_TEST(test_identifier_distinct)
{
	char a[NSC_UUID_BUF], b[NSC_UUID_BUF];

	ck_assert_int_eq(nsc_identifier_compute("dev", 1, NULL, a), NSC_OK);
	ck_assert_int_eq(nsc_identifier_compute("dev", 2, NULL, b), NSC_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(nsc_identifier_compute("dev", 1, "Note", b), NSC_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(nsc_identifier_compute("dev2", 1, NULL, b), NSC_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(nsc_identifier_compute("dev", 1, NULL, b), NSC_OK);
	ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_identifier_long_device)
{
	/* No fixed-size key buffer: a long device name still hashes and differs by its tail. */
	char dev[4096];
	char a[NSC_UUID_BUF], b[NSC_UUID_BUF];

	memset(dev, 'd', sizeof(dev) - 1);
	dev[sizeof(dev) - 1] = '\0';
	ck_assert_int_eq(nsc_identifier_compute(dev, INT64_C(1704103200000), "Note", a), NSC_OK);
	dev[sizeof(dev) - 2] = 'e';
	ck_assert_int_eq(nsc_identifier_compute(dev, INT64_C(1704103200000), "Note", b), NSC_OK);
	ck_assert_str_ne(a, b);
}
END_TEST

static Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("uuid");

	tcase_add_test(tc, test_uuid_v5_rfc_vector);
	tcase_add_test(tc, test_uuid_v5_shape);
	tcase_add_test(tc, test_identifier_nightscout_vectors);
	tcase_add_test(tc, test_identifier_key_rules);
	tcase_add_test(tc, test_identifier_distinct);
	tcase_add_test(tc, test_identifier_long_device);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(identity_suite)
