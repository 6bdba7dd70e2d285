/* SPDX-License-Identifier: MIT */
/*
 * nsc-mongo-probe: reads what a bridge stored in a MongoDB database and
 * prints facts the integration tests check, one `key=value` per line:
 *
 *   nsc-mongo-probe URI COLLECTION [INTERVAL_MS]
 *
 * count, distinct (sysTime+type for entries, identifier otherwise),
 * min_date and max_date (entries' `date`), gaps (missing readings on the
 * INTERVAL_MS grid between min and max), and out_of_order (documents whose
 * srvCreated is older than that of an earlier reading: a batch replayed
 * out of order). The database is the one named in the URI. With
 * NSC_PROBE_DATES=1 it first prints every entry's `date=` in order.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_MONGOC2
#include <mongoc/mongoc.h>
#else
#include <mongoc.h>
#endif

static double number(const bson_iter_t *it)
{
	switch (bson_iter_type(it)) {
	case BSON_TYPE_DOUBLE:
		return bson_iter_double(it);
	case BSON_TYPE_INT32:
		return bson_iter_int32(it);
	case BSON_TYPE_INT64:
		return (double)bson_iter_int64(it);
	default:
		return -1;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s URI COLLECTION [INTERVAL_MS]\n", argv[0]);
		return 2;
	}
	int64_t interval = argc > 3 ? strtoll(argv[3], NULL, 10) : 0;
	bson_error_t error;
	int status = 1;

	mongoc_init();
	mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &error);
	if (!uri) {
		fprintf(stderr, "bad URI: %s\n", error.message);
		return 2;
	}
	const char *dbname = mongoc_uri_get_database(uri) ? mongoc_uri_get_database(uri) : "test";
	mongoc_client_t *client = mongoc_client_new_from_uri(uri);
	mongoc_collection_t *coll = client ? mongoc_client_get_collection(client, dbname, argv[2]) : NULL;
	if (!coll) {
		fprintf(stderr, "cannot open %s\n", argv[2]);
		goto out;
	}
	bool entries = strcmp(argv[2], "entries") == 0 || interval > 0;
	bson_t *filter = bson_new();
	bson_t *opts = BCON_NEW("sort", "{", entries ? "date" : "created_at", BCON_INT32(1), "}");
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	const bson_t *doc;
	int64_t count = 0, distinct = 0, out_of_order = 0, gaps = 0;
	const char *dates_env = getenv("NSC_PROBE_DATES");
	int list_dates = entries && dates_env && strcmp(dates_env, "1") == 0;
	double min_date = -1, max_date = -1, prev_date = -1, max_created = -1;
	char prev_key[128] = "";

	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		double date = -1, created = -1;
		char key[128] = "";
		count++;
		if (bson_iter_init_find(&it, doc, "date"))
			date = number(&it);
		if (bson_iter_init_find(&it, doc, "srvCreated"))
			created = number(&it);
		if (bson_iter_init_find(&it, doc, entries ? "sysTime" : "identifier") && BSON_ITER_HOLDS_UTF8(&it))
			snprintf(key, sizeof(key), "%s", bson_iter_utf8(&it, NULL));
		if (strcmp(key, prev_key) != 0)
			distinct++;
		snprintf(prev_key, sizeof(prev_key), "%s", key);
		if (date >= 0) {
			if (min_date < 0)
				min_date = date;
			if (list_dates)
				printf("date=%.0f\n", date);
			if (interval > 0 && prev_date >= 0 && date - prev_date > (double)interval)
				gaps += (int64_t)((date - prev_date) / (double)interval) - 1;
			prev_date = date;
			max_date = date;
		}
		/* Replayed in order: a later reading never got an older srvCreated. */
		if (created >= 0) {
			if (created < max_created)
				out_of_order++;
			else
				max_created = created;
		}
	}
	if (mongoc_cursor_error(cur, &error)) {
		fprintf(stderr, "query failed: %s\n", error.message);
	} else {
		printf("count=%" PRId64 "\ndistinct=%" PRId64 "\nmin_date=%.0f\nmax_date=%.0f\ngaps=%" PRId64
		       "\nout_of_order=%" PRId64 "\n",
		       count, distinct, min_date, max_date, gaps, out_of_order);
		status = 0;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(filter);
out:
	if (coll)
		mongoc_collection_destroy(coll);
	if (client)
		mongoc_client_destroy(client);
	mongoc_uri_destroy(uri);
	mongoc_cleanup();
	return status;
}
