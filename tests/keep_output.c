/* SPDX-License-Identifier: MIT */
/* An in-memory output that keeps every document a bridge stores (see keep_output.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "keep_output.h"
#include "nsc_check.h"

struct keep_output *kept;

static nsc_rc keep_open(const struct nsc_config *cfg, struct nsc_log *log, void **ctx, struct nsc_error *err)
{
	(void)cfg;
	(void)log;
	struct keep_output *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "oom");
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		o->docs[c] = json_object_new_array();
	o->ids = json_object_new_object();
	o->offers = json_object_new_object();
	o->latest = json_object_new_object();
	kept = o;
	*ctx = o;
	return NSC_OK;
}

static void keep_close(void *ctx)
{
	struct keep_output *o = ctx;
	if (kept == o)
		kept = NULL;
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		json_object_put(o->docs[c]);
	json_object_put(o->ids);
	json_object_put(o->offers);
	json_object_put(o->latest);
	free(o);
}

static nsc_rc keep_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	(void)err;
	*out = ((struct keep_output *)ctx)->lk;
	return NSC_OK;
}

static nsc_rc keep_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res, struct nsc_error *err)
{
	struct keep_output *o = ctx;
	if (o->fail_writes > 0) {
		o->fail_writes--;
		return nsc_error_set(err, NSC_ERR_RETRY, "the keep output is down (test)");
	}
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		for (size_t i = 0; i < nsc_batch_count(b, (enum nsc_collection)c); i++) {
			struct json_object *doc = nsc_batch_get(b, (enum nsc_collection)c, i), *id;
			char key[128];
			int64_t t;
			ck_assert(json_object_object_get_ex(doc, "identifier", &id));
			snprintf(key, sizeof(key), "%d/%s", c, json_object_get_string(id));
			struct json_object *n = NULL;
			int offered = json_object_object_get_ex(o->offers, key, &n) ? json_object_get_int(n) : 0;
			json_object_object_add(o->offers, key, json_object_new_int(offered + 1));
			json_object_object_add(o->latest, key, json_object_get(doc));
			if (json_object_object_get_ex(o->ids, key, NULL)) {
				res->duplicates[c]++;
				continue;
			}
			json_object_object_add(o->ids, key, NULL);
			json_object_array_add(o->docs[c], json_object_get(doc));
			res->stored[c]++;
			if (nsc_doc_time_ms(doc, &t) == NSC_OK && t > o->lk.ms[c])
				o->lk.ms[c] = t;
		}
	}
	return NSC_OK;
}

const struct nsc_output_driver keep_output_driver = {
	.name = "keep", .open = keep_open, .close = keep_close,
	.last_known = keep_last_known, .write = keep_write,
};

size_t kept_count(enum nsc_collection c)
{
	return kept ? json_object_array_length(kept->docs[c]) : 0;
}

/* How often the bridge handed the output the document with this identifier. */
int kept_offers(enum nsc_collection c, const char *identifier)
{
	char key[128];
	struct json_object *n;
	snprintf(key, sizeof(key), "%d/%s", (int)c, identifier);
	return kept && json_object_object_get_ex(kept->offers, key, &n) ? json_object_get_int(n) : 0;
}

/* The version of the document the bridge handed the output last, NULL when never. */
struct json_object *kept_latest(enum nsc_collection c, const char *identifier)
{
	char key[128];
	struct json_object *d;
	snprintf(key, sizeof(key), "%d/%s", (int)c, identifier);
	return kept && json_object_object_get_ex(kept->latest, key, &d) ? d : NULL;
}
