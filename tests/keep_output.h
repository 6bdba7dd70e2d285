/* SPDX-License-Identifier: MIT */
/*
 * An output for driver tests that keeps every document a bridge hands it:
 * each identifier stored once (a second one is a duplicate), how often a
 * batch carried each identifier and the version it carried last, and the
 * newest time per collection as last-known. One at a time: `kept` is the
 * one open (NULL when none).
 */
#ifndef NSC_TESTS_KEEP_OUTPUT_H
#define NSC_TESTS_KEEP_OUTPUT_H

#include <stddef.h>

#include <json-c/json.h>

#include "output.h"

struct keep_output {
	struct json_object *docs[NSC_COLL_COUNT]; /* arrays, in write order */
	struct json_object *ids;
	struct json_object *offers; /* "c/identifier" -> how often a batch carried it */
	struct json_object *latest; /* "c/identifier" -> the version the last batch carried */
	struct nsc_last_known lk;
	unsigned fail_writes; /* the next this many writes fail (an output outage), keeping nothing */
};

extern struct keep_output *kept;
extern const struct nsc_output_driver keep_output_driver;

/* Documents kept in collection c. */
size_t kept_count(enum nsc_collection c);
/* How often the bridge handed the output the document with this identifier. */
int kept_offers(enum nsc_collection c, const char *identifier);
/* The version of the document the bridge handed the output last, NULL when never. */
struct json_object *kept_latest(enum nsc_collection c, const char *identifier);

#endif
