/* SPDX-License-Identifier: MIT */
/* Nightscout documents for output tests: an sgv entry and a treatment. */
#ifndef NSC_TESTS_TEST_DOCS_H
#define NSC_TESTS_TEST_DOCS_H

#include <stdint.h>

#include <json-c/json.h>

/* {type: sgv, sgv, date, dateString, direction: Flat, device: test/device} */
struct json_object *test_entry(int64_t date, int sgv);
/* {eventType, created_at, insulin, enteredBy: test} */
struct json_object *test_treatment(int64_t t, const char *event_type, double insulin);

#endif
