/* SPDX-License-Identifier: MIT */
/*
 * doctor's checks of Nightscout's MongoDB: the connection string, the
 * server answering (ping), the database taking a write (one document
 * into a scratch collection, dropped again at once, so nothing stays),
 * and the indexes Nightscout wants on its collections (missing ones are
 * a warning: the bridge creates them at its first write).
 */
#include "config.h"

#include <stdio.h>

#include "mongo/mongo_internal.h"

#define SCRATCH_COLLECTION "nsconnect_doctor"

static const char *const fix_uri =
	"set MONGODB_URI to the connection string Nightscout itself uses (its MONGODB_URI or "
	"MONGO_CONNECTION), with the host, port, user and database";

static bool ping(struct nsc_mongo *m, struct nsc_diag *d)
{
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_error_t error;
	BSON_APPEND_INT32(&cmd, "ping", 1);
	bool ok = mongoc_client_command_simple(m->client, m->db_name, &cmd, NULL, &reply, &error);
	bson_destroy(&cmd);
	if (!ok) {
		struct nsc_error err = { 0 };
		nsc_mongo_fail(m, "answering a ping", &error, &reply, &err);
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "mongodb", fix_uri, "MongoDB at %s does not answer: %s", m->where,
			     err.msg);
	} else {
		nsc_diag_say(d, NSC_DIAG_OK, "mongodb", NULL, "MongoDB at %s answers", m->where);
	}
	bson_destroy(&reply);
	return ok;
}

static bool try_write(struct nsc_mongo *m, struct nsc_diag *d)
{
	mongoc_collection_t *coll = mongoc_client_get_collection(m->client, m->db_name, SCRATCH_COLLECTION);
	if (coll == NULL) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "mongodb write", NULL, "out of memory");
		return false;
	}
	bson_t doc = BSON_INITIALIZER;
	bson_error_t error;
	BSON_APPEND_UTF8(&doc, "written_by", "nightscout-connect doctor");
	bool ok = mongoc_collection_insert_one(coll, &doc, NULL, NULL, &error);
	bson_destroy(&doc);
	if (!ok) {
		struct nsc_error err = { 0 };
		nsc_mongo_fail(m, "writing a test document", &error, NULL, &err);
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "mongodb write",
			     "give the user in MONGODB_URI the readWrite role on this database, or use "
			     "Nightscout's own connection string",
			     "database %s refuses a write: %s", m->db_name, err.msg);
	} else if (!mongoc_collection_drop(coll, &error)) {
		nsc_diag_say(d, NSC_DIAG_WARNING, "mongodb write",
			     "drop the collection " SCRATCH_COLLECTION " by hand",
			     "database %s takes writes, but the scratch collection %s could not be removed",
			     m->db_name, SCRATCH_COLLECTION);
	} else {
		nsc_diag_say(d, NSC_DIAG_OK, "mongodb write", NULL,
			     "database %s takes writes (a test document was written and removed)", m->db_name);
	}
	mongoc_collection_destroy(coll);
	return ok;
}

static void indexes(struct nsc_mongo *m, struct nsc_diag *d)
{
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		size_t have = 0, want = 0;
		struct nsc_error err = { 0 };
		if (nsc_mongo_count_indexes(m, (enum nsc_collection)c, &have, &want, &err) != NSC_OK)
			nsc_diag_say(d, NSC_DIAG_WARNING, "mongodb indexes", NULL, "cannot list the indexes of %s: %s",
				     m->coll_names[c], err.msg);
		else if (have < want)
			nsc_diag_say(d, NSC_DIAG_WARNING, "mongodb indexes",
				     "nothing to do: the bridge creates them at its first write (or start Nightscout once)",
				     "collection %s has %zu of the %zu indexes Nightscout uses", m->coll_names[c], have,
				     want);
		else
			nsc_diag_say(d, NSC_DIAG_OK, "mongodb indexes", NULL, "collection %s has all %zu indexes",
				     m->coll_names[c], want);
	}
}

void nsc_mongo_diagnose(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d)
{
	struct nsc_mongo *m = NULL;
	struct nsc_error err = { 0 };
	if (nsc_mongo_connect(cfg, log, &m, &err) != NSC_OK) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "mongodb", fix_uri, "%s", err.msg);
		return;
	}
	if (nsc_mongo_ready(m, &err) != NSC_OK)
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "mongodb", fix_uri, "%s", err.msg);
	else if (ping(m, d) && try_write(m, d))
		indexes(m, d);
	nsc_mongo_disconnect(m);
}
