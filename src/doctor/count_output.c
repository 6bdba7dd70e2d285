/* SPDX-License-Identifier: MIT */
/* Counts a bridge's documents and keeps none (see count_output.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "doctor/count_output.h"
#include "jsonutil.h"

static nsc_rc co_open(const struct nsc_config *cfg, struct nsc_log *log, void **ctx, struct nsc_error *err)
{
	(void)cfg;
	(void)log;
	*ctx = calloc(1, sizeof(struct nsc_count_output));
	return *ctx ? NSC_OK : nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
}

static void co_close(void *ctx)
{
	free(ctx);
}

static nsc_rc co_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	(void)ctx;
	(void)err;
	memset(out, 0, sizeof(*out));
	return NSC_OK;
}

static nsc_rc co_write(void *vctx, const struct nsc_batch *b, struct nsc_write_result *res, struct nsc_error *err)
{
	(void)err;
	struct nsc_count_output *c = vctx;
	memset(res, 0, sizeof(*res));
	for (int k = 0; k < NSC_COLL_COUNT; k++) {
		size_t n = nsc_batch_count(b, (enum nsc_collection)k);
		c->documents[k] += n;
		res->stored[k] = n;
	}
	for (size_t i = 0; i < nsc_batch_count(b, NSC_COLL_ENTRIES); i++) {
		struct json_object *doc = nsc_batch_get(b, NSC_COLL_ENTRIES, i);
		int64_t t = 0, sgv = 0;
		if (nsc_doc_time_ms(doc, &t) == NSC_OK && t > c->newest_entry_ms) {
			c->newest_entry_ms = t;
			c->newest_sgv = nsc_json_get_int64(doc, "sgv", &sgv) ? (int)sgv : 0;
		}
	}
	return NSC_OK;
}

const struct nsc_output_driver nsc_count_output = {
	.name = "doctor",
	.open = co_open,
	.close = co_close,
	.last_known = co_last_known,
	.write = co_write,
};

const struct nsc_count_output *nsc_count_output_counts(const void *ctx)
{
	return ctx;
}
