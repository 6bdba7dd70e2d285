/* SPDX-License-Identifier: MIT */
/* The simulator's batch for a window (see sim_batch.h). */
#include "config.h"

#include "sim_batch.h"
#include "sources/simulator/simulator.h"

static void step_done(void *arg, nsc_rc rc, const char *msg)
{
	(void)msg;
	*(nsc_rc *)arg = rc;
}

nsc_rc nsc_test_simulator_batch(const struct nsc_config *cfg, struct nsc_log *log, int64_t from_ms,
				int64_t to_ms, struct nsc_batch *b)
{
	struct nsc_source_env env = { .config = cfg, .log = log };
	struct nsc_fetch_window w = { .from_ms = from_ms, .to_ms = to_ms };
	struct nsc_payload p = { 0 };
	struct nsc_error err = { 0 };
	size_t skipped = 0;
	void *src;
	nsc_rc rc = nsc_source_simulator.create(&env, &src, &err);

	if (rc != NSC_OK)
		return rc;
	rc = NSC_ERR_INTERNAL; /* unless the fetch says otherwise */
	nsc_source_simulator.fetch(src, &w, &p, step_done, &rc);
	if (rc == NSC_OK)
		rc = nsc_source_simulator.transform(src, &p, &w, b, &skipped, &err);
	nsc_payload_free(&p);
	nsc_source_simulator.destroy(src);
	return rc;
}
