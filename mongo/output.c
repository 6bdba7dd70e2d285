/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB output driver: the synchronous backend (open, close,
 * last_known, write over the files of mongo/). The output registry puts it
 * behind a spool and a writer thread for the engine (outputs/registry.c).
 *
 * open() only parses MONGODB_URI and prepares the client; it succeeds while
 * the server is down (the spool keeps the data) and fails only for an
 * unusable URI. Indexes are created before the first write that reaches the
 * server. Ownership & concurrency: see mongo_internal.h (one thread at a
 * time per backend).
 */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "mongo/mongo_internal.h"
#include "mongo/mongo_output.h"

static nsc_rc mongo_open(const struct nsc_config *cfg, struct nsc_log *log, void **ctx,
			 struct nsc_error *err)
{
	struct nsc_mongo *m = NULL;
	nsc_rc rc = nsc_mongo_connect(cfg, log, &m, err);

	*ctx = rc == NSC_OK ? m : NULL;
	return rc;
}

static void mongo_close(void *ctx)
{
	nsc_mongo_disconnect(ctx);
}

static nsc_rc mongo_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	struct nsc_mongo *m = ctx;
	nsc_rc rc;

	memset(out, 0, sizeof(*out));
	rc = nsc_mongo_ready(m, err);
	if (rc == NSC_OK)
		rc = nsc_mongo_query_last_known(m, out, err);
	if (rc != NSC_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

static nsc_rc mongo_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
			  struct nsc_error *err)
{
	struct nsc_mongo *m = ctx;
	struct nsc_error e = { 0 }, first_drop = { 0 };
	nsc_rc rc;

	memset(res, 0, sizeof(*res));
	if (nsc_batch_total(b) == 0)
		return NSC_OK;
	rc = nsc_mongo_ready(m, &e);
	if (rc == NSC_OK)
		rc = nsc_mongo_ensure_indexes(m, &e);
	if (rc != NSC_OK) {
		nsc_error_set(err, rc, "%s", e.msg);
		return rc;
	}

	int64_t now_ms = nsc_clock_wall(&nsc_clock_system);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (nsc_batch_count(b, (enum nsc_collection)c) == 0)
			continue;
		rc = nsc_mongo_write_collection(m, (enum nsc_collection)c, b, now_ms, res, &e);
		if (rc == NSC_ERR_DROP) {
			/* Keep writing the other collections; the batch is set aside at the end. */
			if (first_drop.code == NSC_OK)
				first_drop = e;
			continue;
		}
		if (rc != NSC_OK) {
			nsc_error_set(err, rc, "%s", e.msg);
			return rc;
		}
	}
	nsc_dbg(m->log, NSC_MONGO_COMP,
		"event=written entries=%zu/%zu treatments=%zu/%zu devicestatus=%zu/%zu "
		"profile=%zu/%zu msg=\"new/already stored\"",
		res->stored[0], res->duplicates[0], res->stored[1], res->duplicates[1],
		res->stored[2], res->duplicates[2], res->stored[3], res->duplicates[3]);
	if (first_drop.code != NSC_OK)
		return nsc_error_set(err, NSC_ERR_DROP, "%s", first_drop.msg);
	return NSC_OK;
}

static void mongo_set_progress(void *ctx, void (*fn)(void *arg), void *arg)
{
	struct nsc_mongo *m = ctx;
	m->progress = fn;
	m->progress_arg = arg;
}

const struct nsc_output_driver nsc_mongo_backend = {
	.name = "mongo",
	.open = mongo_open,
	.close = mongo_close,
	.last_known = mongo_last_known,
	.write = mongo_write,
	.set_progress = mongo_set_progress,
	.diagnose = nsc_mongo_diagnose,
};
