/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB backend's state, shared by the files of mongo/: connection
 * (client.c), indexes (indexes.c), writes (writes.c), last-known queries
 * (last_known.c) and the driver (output.c).
 *
 * Ownership & concurrency: one struct nsc_mongo per opened backend, owning
 * its URI, client and collection handles. It is used from one thread at a
 * time (the spool's writer thread after open), as a mongoc_client_t must
 * be; nothing in it is shared between backends.
 */
#ifndef NSC_MONGO_MONGO_INTERNAL_H
#define NSC_MONGO_MONGO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "error.h"
#include "log.h"
#include "mongo/mongoc_compat.h"
#include "nsc_config.h"
#include "output.h"

#define NSC_MONGO_COMP "mongo"
#define NSC_MONGO_APPNAME "nsconnect"
#define NSC_MONGO_DEFAULT_DB "test" /* what Nightscout's driver uses for a URI without database */
#define NSC_MONGO_SELECTION_TIMEOUT_MS 5000
#define NSC_MONGO_CONNECT_TIMEOUT_MS 5000
#define NSC_MONGO_SOCKET_TIMEOUT_MS 60000
#define NSC_MONGO_WRITE_CHUNK 500 /* documents per bulk write (and per srvCreated query) */

struct nsc_mongo {
	struct nsc_log *log;
	mongoc_uri_t *uri;
	mongoc_client_t *client; /* NULL until created (e.g. an SRV lookup failed at open) */
	char *db_name;
	char *where; /* "host:port,.../db" for messages: never credentials */
	char *coll_names[NSC_COLL_COUNT];
	mongoc_collection_t *coll[NSC_COLL_COUNT];
	size_t write_chunk;     /* 1..NSC_MONGO_WRITE_CHUNK; tests lower it to cross chunk edges */
	bool indexes_done;      /* every index exists (or was refused for good) */
	bool auth_error_logged; /* the credentials message was logged since the last success */
	void (*progress)(void *arg); /* told after each chunk written (may be NULL) */
	void *progress_arg;
};

/* client.c */
nsc_rc nsc_mongo_connect(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_mongo **out,
			 struct nsc_error *err);
void nsc_mongo_disconnect(struct nsc_mongo *m);
/* Creates the client and collection handles if not done yet; NSC_ERR_RETRY when it cannot. */
nsc_rc nsc_mongo_ready(struct nsc_mongo *m, struct nsc_error *err);
/*
 * Fills err for a libmongoc failure while doing `what` (e.g. "writing
 * entries"), classified by errors.c: NSC_ERR_RETRY or NSC_ERR_DROP. A
 * refused login is logged once at error level until the next success.
 */
nsc_rc nsc_mongo_fail(struct nsc_mongo *m, const char *what, const bson_error_t *error,
		      const bson_t *reply, struct nsc_error *err);
/* Notes a successful round trip (a later credentials failure is logged again). */
void nsc_mongo_succeeded(struct nsc_mongo *m);

/* indexes.c: creates Nightscout's indexes once; NSC_OK also when some were refused for good. */
nsc_rc nsc_mongo_ensure_indexes(struct nsc_mongo *m, struct nsc_error *err);
/* How many of the indexes Nightscout wants on collection c exist (doctor). */
nsc_rc nsc_mongo_count_indexes(struct nsc_mongo *m, enum nsc_collection c, size_t *have, size_t *want,
			       struct nsc_error *err);

/* diagnose.c: doctor's checks of the database (output.h). */
void nsc_mongo_diagnose(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d);

/* writes.c: one collection's documents of a batch. */
nsc_rc nsc_mongo_write_collection(struct nsc_mongo *m, enum nsc_collection c,
				  const struct nsc_batch *b, int64_t now_ms,
				  struct nsc_write_result *res, struct nsc_error *err);

/* last_known.c */
nsc_rc nsc_mongo_query_last_known(struct nsc_mongo *m, struct nsc_last_known *out,
				  struct nsc_error *err);

#endif
