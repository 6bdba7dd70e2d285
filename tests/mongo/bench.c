/* SPDX-License-Identifier: MIT */
/*
 * nsc-bench-mongo: writes 90 days of 5-minute readings (25,920 entries)
 * plus their treatments, a pump status and the profile through the MongoDB
 * output and prints documents per second and peak RSS. A benchmark, not a
 * test: it asserts nothing.
 *
 *   nsc-bench-mongo URI [DAYS]   (tests/with-mongo.sh provides a URI: `make bench`)
 *
 * Three runs, each into a fresh database:
 *   bulk      one batch of everything through the backend (a first backfill)
 *   daily     90 batches of one day each through the backend
 *   spooled   the engine's path: spool + writer thread, timed until empty
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "log.h"
#include "mongo/mongo_output.h"
#include "nsc_config.h"
#include "outputs/spooled.h"
#include "sim_batch.h"
#include "timeutil.h"

/* 90 days unless a second argument says otherwise. */
static int64_t days = 90;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static char *uri_for(const char *base, const char *db)
{
	size_t n = strcspn(base, "?");
	while (n > 0 && base[n - 1] == '/')
		n--;
	char *u = malloc(n + strlen(db) + 2);
	if (u)
		sprintf(u, "%.*s/%s", (int)n, base, db);
	return u;
}

static void report(const char *name, size_t docs, double secs)
{
	printf("%-8s %6zu documents in %7.2f s = %8.0f documents/s, peak RSS %ld KiB\n", name, docs, secs,
	       secs > 0 ? (double)docs / secs : 0.0, peak_rss_kib());
	fflush(stdout);
}

static int run_backend(struct nsc_config *cfg, struct nsc_log *log, const struct nsc_batch *all, bool daily)
{
	void *ctx;
	struct nsc_error err = { 0 };
	struct nsc_write_result res = { 0 };
	if (nsc_mongo_backend.open(cfg, log, &ctx, &err) != NSC_OK) {
		fprintf(stderr, "open: %s\n", err.msg);
		return -1;
	}
	double t0 = now_s();
	nsc_rc rc = NSC_OK;
	if (!daily) {
		rc = nsc_mongo_backend.write(ctx, all, &res, &err);
	} else {
		size_t n = nsc_batch_count(all, NSC_COLL_ENTRIES);
		for (size_t day = 0; rc == NSC_OK && day * 288 < n; day++) {
			struct nsc_batch b;
			nsc_batch_init(&b);
			for (size_t i = day * 288; i < (day + 1) * 288 && i < n && rc == NSC_OK; i++)
				rc = nsc_batch_add(&b, NSC_COLL_ENTRIES,
						   json_object_get(nsc_batch_get(all, NSC_COLL_ENTRIES, i)), &err);
			if (rc == NSC_OK)
				rc = nsc_mongo_backend.write(ctx, &b, &res, &err);
			nsc_batch_clear(&b);
		}
		/* Treatments, the pump status and the profile: one document per write. */
		for (int c = NSC_COLL_TREATMENTS; c < NSC_COLL_COUNT; c++) {
			for (size_t i = 0; rc == NSC_OK && i < nsc_batch_count(all, (enum nsc_collection)c); i++) {
				struct nsc_batch b;
				nsc_batch_init(&b);
				rc = nsc_batch_add(&b, (enum nsc_collection)c,
						   json_object_get(nsc_batch_get(all, (enum nsc_collection)c, i)),
						   &err);
				if (rc == NSC_OK)
					rc = nsc_mongo_backend.write(ctx, &b, &res, &err);
				nsc_batch_clear(&b);
			}
		}
	}
	double secs = now_s() - t0;
	nsc_mongo_backend.close(ctx);
	if (rc != NSC_OK) {
		fprintf(stderr, "write: %s: %s\n", nsc_rc_name(rc), err.msg);
		return -1;
	}
	report(daily ? "daily" : "bulk", nsc_batch_total(all), secs);
	return 0;
}

static int run_spooled(struct nsc_config *cfg, struct nsc_log *log, const struct nsc_batch *all)
{
	char dir[] = "/tmp/nsc-bench-spool-XXXXXX";
	if (!mkdtemp(dir))
		return -1;
	struct nsc_spooled_options o = { .dir = dir, .max_bytes = UINT64_C(1) << 30, .drain_timeout_ms = 60000 };
	struct nsc_spooled *s;
	struct nsc_error err = { 0 };
	struct nsc_write_result res = { 0 };
	if (nsc_spooled_open(&nsc_mongo_backend, cfg, log, &o, &s, &err) != NSC_OK) {
		fprintf(stderr, "spooled open: %s\n", err.msg);
		return -1;
	}
	double t0 = now_s();
	nsc_rc rc = nsc_spooled_write(s, all, &res, &err);
	double spooled_at = now_s() - t0;
	if (rc == NSC_OK)
		rc = nsc_spooled_wait_empty(s, 300000);
	double secs = now_s() - t0;
	nsc_spooled_close(s);
	rmdir(dir);
	if (rc != NSC_OK) {
		fprintf(stderr, "spooled: %s: %s\n", nsc_rc_name(rc), err.msg);
		return -1;
	}
	printf("spooled  write() returned after %.3f s (the engine's wait)\n", spooled_at);
	report("spooled", nsc_batch_total(all), secs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 3 && (days = strtoll(argv[2], NULL, 10)) < 1)) {
		fprintf(stderr, "usage: %s MONGODB_URI [DAYS]\n", argv[0]);
		return 2;
	}
	struct nsc_config cfg;
	struct nsc_batch all;
	struct nsc_log *log = nsc_log_new(NSC_LOG_WARN);
	int status = 1;
	char db[64];

	nsc_config_init(&cfg);
	nsc_batch_init(&all);
	cfg.lookback_ms = days * NSC_MS_PER_DAY;
	cfg.simulator_seed = 7;
	cfg.mongo_collection = strdup("entries");
	cfg.mongo_treatments_collection = strdup("treatments");
	cfg.mongo_devicestatus_collection = strdup("devicestatus");
	cfg.mongo_profile_collection = strdup("profile");
	if (!log || !cfg.mongo_collection || !cfg.mongo_treatments_collection ||
	    !cfg.mongo_devicestatus_collection || !cfg.mongo_profile_collection)
		goto out;

	int64_t now = (int64_t)time(NULL) * 1000;
	double t0 = now_s();
	if (nsc_test_simulator_batch(&cfg, log, now - days * NSC_MS_PER_DAY, now, &all) != NSC_OK)
		goto out;
	printf("made     %zu entries + %zu treatments in %.2f s\n", nsc_batch_count(&all, NSC_COLL_ENTRIES),
	       nsc_batch_count(&all, NSC_COLL_TREATMENTS), now_s() - t0);

	const char *runs[] = { "bulk", "daily", "spooled" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(db, sizeof(db), "nsc_bench_%s_%ld", runs[i], (long)getpid());
		free(cfg.mongodb_uri);
		cfg.mongodb_uri = uri_for(argv[1], db);
		if (!cfg.mongodb_uri)
			goto out;
		int r = i == 2 ? run_spooled(&cfg, log, &all) : run_backend(&cfg, log, &all, i == 1);
		if (r != 0)
			goto out;
	}
	status = 0;
out:
	nsc_batch_clear(&all);
	nsc_config_free(&cfg);
	nsc_log_free(log);
	return status;
}
