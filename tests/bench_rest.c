/* SPDX-License-Identifier: MIT */
/*
 * nsc-bench-rest: how long the rest3 output takes to upload a first
 * backfill (48 hours of simulator data: 576 entries and their treatments)
 * to a Nightscout that answers every request LATENCY ms late, as a remote
 * site does: the in-process test Nightscout (tests/server/) with
 * tsns_set_latency_ms(), once per CONNECT_REST_CONCURRENCY given. A
 * benchmark, not a test: it prints seconds and asserts nothing.
 *
 *   nsc-bench-rest [LATENCY_MS [CONCURRENCY...]]   (default: 40 ms, 1 and 4)
 *   make bench-rest [BENCH_REST_ARGS="40 1 2 4 8"]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "batch.h"
#include "http/rest_output.h"
#include "log.h"
#include "nsc_config.h"
#include "server/nightscout.h"
#include "server/server.h"
#include "sim_batch.h"
#include "timeutil.h"

#define TOKEN "bench-0123456789abcdef"
#define HOURS 48

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool whole_number(const char *s, long max, long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	*out = strtol(s, &end, 10);
	return *end == '\0' && *out <= max;
}

/* One upload into a fresh server; prints its line. Returns 0 when everything was stored. */
static int run(const struct nsc_batch *b, long latency_ms, long concurrency, struct nsc_log *log)
{
	struct tsns_config nc = { .access_token = TOKEN };
	struct nsc_write_result res;
	struct nsc_error err = { 0 };
	struct nsc_config cfg;
	struct tsrv *srv = tsrv_start(0);
	struct tsns *ns = srv ? tsns_attach(srv, &nc) : NULL;
	size_t stored = 0;
	void *ctx = NULL;
	double t0, secs;
	nsc_rc rc = NSC_ERR_NOMEM;

	memset(&res, 0, sizeof(res));
	nsc_config_init(&cfg);
	cfg.rest_concurrency = (unsigned)concurrency;
	cfg.nightscout_endpoint = srv ? strdup(tsrv_url(srv)) : NULL;
	cfg.nightscout_token = strdup(TOKEN);
	if (ns && cfg.nightscout_endpoint && cfg.nightscout_token) {
		tsns_set_latency_ms(ns, (int)latency_ms);
		rc = nsc_rest_v3_backend.open(&cfg, log, &ctx, &err);
	}
	t0 = now_s();
	if (rc == NSC_OK)
		rc = nsc_rest_v3_backend.write(ctx, b, &res, &err);
	secs = now_s() - t0;
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		stored += res.stored[c];
	if (rc == NSC_OK)
		printf("rest3 latency=%ldms concurrency=%-2ld %4zu documents in %6.2f s "
		       "(most in flight at once: %zu)\n",
		       latency_ms, concurrency, stored, secs, tsns_max_in_flight(ns, NULL));
	else
		fprintf(stderr, "nsc-bench-rest: concurrency %ld: %s: %s\n", concurrency,
			nsc_rc_name(rc), err.msg);
	fflush(stdout);
	if (ctx)
		nsc_rest_v3_backend.close(ctx);
	tsrv_stop(srv);
	tsns_free(ns);
	nsc_config_free(&cfg);
	return rc == NSC_OK && stored == nsc_batch_total(b) ? 0 : 1;
}

int main(int argc, char **argv)
{
	long latency_ms = 40, k;
	struct nsc_log *log = nsc_log_new(NSC_LOG_WARN);
	struct nsc_config sim;
	struct nsc_batch b;
	int64_t now = (int64_t)time(NULL) * 1000;
	int status = 0;

	if ((argc > 1 && !whole_number(argv[1], 60000, &latency_ms)) || !log ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "usage: nsc-bench-rest [LATENCY_MS [CONCURRENCY...]]\n");
		nsc_log_free(log);
		return 2;
	}
	nsc_config_init(&sim);
	nsc_batch_init(&b);
	if (nsc_test_simulator_batch(&sim, log, now - HOURS * NSC_MS_PER_HOUR, now, &b) != NSC_OK) {
		fprintf(stderr, "nsc-bench-rest: the simulator made no batch\n");
		status = 1;
		goto out;
	}
	printf("upload of %zu entries + %zu treatments, each a POST\n",
	       nsc_batch_count(&b, NSC_COLL_ENTRIES), nsc_batch_count(&b, NSC_COLL_TREATMENTS));
	for (int i = 2; i < argc || (argc <= 2 && i < 4); i++) {
		const char *arg = i < argc ? argv[i] : i == 2 ? "1" : "4";

		if (!whole_number(arg, 16, &k) || k < 1) {
			fprintf(stderr, "nsc-bench-rest: a concurrency is 1..16, not \"%s\"\n", arg);
			status = 2;
			break;
		}
		status |= run(&b, latency_ms, k, log);
	}
out:
	nsc_batch_clear(&b);
	nsc_config_free(&sim);
	nsc_log_free(log);
	curl_global_cleanup();
	return status;
}
