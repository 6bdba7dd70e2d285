/* SPDX-License-Identifier: MIT */
/*
 * The connection: MONGODB_URI parsed by libmongoc (mongodb:// and
 * mongodb+srv://, TLS and auth options pass through), short timeouts unless
 * the URI sets its own, one mongoc_client_t, and the collection handles.
 * A server that is down is not an error here: the client connects on first
 * use and the spool keeps the data meanwhile. Failures become messages that
 * name the hosts and database, never the credentials.
 *
 * libmongoc is initialised once per process (pthread_once) and never cleaned
 * up by the library: the host may use libmongoc too, and mongoc_cleanup()
 * may only run once, at the very end of a process.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongo/errors.h"
#include "mongo/mongo_internal.h"

static pthread_once_t mongoc_once = PTHREAD_ONCE_INIT;

static void mongoc_init_once(void)
{
	mongoc_init();
}

static const char *const default_collections[NSC_COLL_COUNT] = {
	[NSC_COLL_ENTRIES] = "entries",
	[NSC_COLL_TREATMENTS] = "treatments",
	[NSC_COLL_DEVICESTATUS] = "devicestatus",
	[NSC_COLL_PROFILE] = "profile",
};

/* "host:port,host:port/db" or "srv:cluster.example.net/db": where, without credentials. */
static char *describe_where(const mongoc_uri_t *uri, const char *db)
{
	const char *srv = mongoc_uri_get_srv_hostname(uri);
	size_t len = strlen(db) + 8;
	char *s;

	if (srv) {
		len += strlen(srv);
	} else {
		for (const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri); h; h = h->next)
			len += strlen(h->host_and_port) + 1;
	}
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	if (srv) {
		snprintf(s, len, "srv:%s/%s", srv, db);
		return s;
	}
	size_t off = 0;
	for (const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri); h; h = h->next) {
		int n = snprintf(s + off, len - off, "%s%s", off ? "," : "", h->host_and_port);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	snprintf(s + off, len - off, "/%s", db);
	return s;
}

static void default_int32_option(mongoc_uri_t *uri, const char *option, int32_t value)
{
	if (!mongoc_uri_has_option(uri, option))
		mongoc_uri_set_option_as_int32(uri, option, value);
}

/* Creates the client; false with error set when libmongoc refuses. */
static bool create_client(struct nsc_mongo *m, bson_error_t *error)
{
	m->client = mongoc_client_new_from_uri_with_error(m->uri, error);
	if (!m->client)
		return false;
	mongoc_client_set_error_api(m->client, MONGOC_ERROR_API_VERSION_2);
	return true;
}

nsc_rc nsc_mongo_ready(struct nsc_mongo *m, struct nsc_error *err)
{
	bson_error_t error;

	if (!m->client && !create_client(m, &error)) {
		char msg[sizeof(error.message)];
		nsc_mongo_plain_message(error.message, msg, sizeof(msg));
		return nsc_error_set(err, NSC_ERR_RETRY, "MongoDB at %s is not reachable yet: %s",
				     m->where, msg);
	}
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (m->coll[c])
			continue;
		m->coll[c] = mongoc_client_get_collection(m->client, m->db_name, m->coll_names[c]);
		if (!m->coll[c])
			return nsc_error_set(err, NSC_ERR_NOMEM,
					     "out of memory opening MongoDB collection %s",
					     m->coll_names[c]);
	}
	return NSC_OK;
}

nsc_rc nsc_mongo_connect(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_mongo **out,
			 struct nsc_error *err)
{
	const char *names[NSC_COLL_COUNT] = {
		cfg->mongo_collection,
		cfg->mongo_treatments_collection,
		cfg->mongo_devicestatus_collection,
		cfg->mongo_profile_collection,
	};
	struct nsc_mongo *m;
	bson_error_t error;

	*out = NULL;
	if (!cfg->mongodb_uri || cfg->mongodb_uri[0] == '\0')
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "MONGODB_URI is not set; the MongoDB output needs Nightscout's "
				     "connection string (MONGODB_URI, MONGO_CONNECTION or "
				     "CUSTOMCONNSTR_mongo), e.g. mongodb://user:password@host:27017/nightscout");

	pthread_once(&mongoc_once, mongoc_init_once);

	m = calloc(1, sizeof(*m));
	if (!m)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the MongoDB output");
	m->log = log;
	m->write_chunk = NSC_MONGO_WRITE_CHUNK;

	m->uri = mongoc_uri_new_with_error(cfg->mongodb_uri, &error);
	if (!m->uri) {
		char msg[sizeof(error.message)];
		nsc_mongo_plain_message(error.message, msg, sizeof(msg));
		nsc_mongo_disconnect(m);
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "MONGODB_URI is not a valid MongoDB connection string (%s); "
				     "expected mongodb://[user:password@]host[:port]/database[?options] "
				     "or mongodb+srv://...",
				     msg);
	}
	default_int32_option(m->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
			     NSC_MONGO_SELECTION_TIMEOUT_MS);
	default_int32_option(m->uri, MONGOC_URI_CONNECTTIMEOUTMS, NSC_MONGO_CONNECT_TIMEOUT_MS);
	default_int32_option(m->uri, MONGOC_URI_SOCKETTIMEOUTMS, NSC_MONGO_SOCKET_TIMEOUT_MS);
	if (!mongoc_uri_has_option(m->uri, MONGOC_URI_APPNAME))
		mongoc_uri_set_appname(m->uri, NSC_MONGO_APPNAME);

	const char *db = mongoc_uri_get_database(m->uri);
	m->db_name = strdup(db && db[0] ? db : NSC_MONGO_DEFAULT_DB);
	m->where = m->db_name ? describe_where(m->uri, m->db_name) : NULL;
	for (int c = 0; c < NSC_COLL_COUNT && m->where; c++) {
		const char *n = names[c] && names[c][0] ? names[c] : default_collections[c];
		m->coll_names[c] = strdup(n);
		if (!m->coll_names[c]) {
			free(m->where);
			m->where = NULL;
		}
	}
	if (!m->where) {
		nsc_mongo_disconnect(m);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the MongoDB output");
	}

	if (!create_client(m, &error)) {
		char msg[sizeof(error.message)];
		nsc_mongo_plain_message(error.message, msg, sizeof(msg));
		if (error.domain != MONGOC_ERROR_STREAM) {
			nsc_rc rc = nsc_error_set(err, NSC_ERR_CONFIG, "MONGODB_URI cannot be used: %s",
						  msg);
			nsc_mongo_disconnect(m);
			return rc;
		}
		/* e.g. the SRV record cannot be resolved right now: try again on first use. */
		nsc_warn(log, NSC_MONGO_COMP,
			 "event=connect_deferred where=%s msg=\"%s; retrying on first write\"",
			 m->where, msg);
	}
	nsc_info(log, NSC_MONGO_COMP,
		 "event=open where=%s collections=%s,%s,%s,%s msg=\"MongoDB output ready\"",
		 m->where, m->coll_names[0], m->coll_names[1], m->coll_names[2], m->coll_names[3]);
	*out = m;
	return NSC_OK;
}

void nsc_mongo_disconnect(struct nsc_mongo *m)
{
	if (!m)
		return;
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (m->coll[c])
			mongoc_collection_destroy(m->coll[c]);
		free(m->coll_names[c]);
	}
	if (m->client)
		mongoc_client_destroy(m->client);
	if (m->uri)
		mongoc_uri_destroy(m->uri);
	free(m->db_name);
	free(m->where);
	free(m);
}

nsc_rc nsc_mongo_fail(struct nsc_mongo *m, const char *what, const bson_error_t *error,
		      const bson_t *reply, struct nsc_error *err)
{
	char msg[sizeof(error->message)];

	nsc_mongo_plain_message(error->message, msg, sizeof(msg));
	switch (nsc_mongo_classify(error, reply)) {
	case NSC_MONGO_FAIL_AUTH:
		if (!m->auth_error_logged) {
			nsc_err(m->log, NSC_MONGO_COMP,
				"event=credentials_refused where=%s msg=\"MongoDB refused the "
				"credentials in MONGODB_URI: %s. Fix the user name, password or "
				"authSource in MONGODB_URI, or give the user readWrite on database %s; "
				"data is kept and written once it works\"",
				m->where, msg, m->db_name);
			m->auth_error_logged = true;
		}
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "MongoDB refused the credentials in MONGODB_URI while %s: %s",
				     what, msg);
	case NSC_MONGO_FAIL_DOCUMENT:
		return nsc_error_set(err, NSC_ERR_DROP, "MongoDB refused a document while %s: %s",
				     what, msg);
	case NSC_MONGO_FAIL_TRANSIENT:
		break;
	}
	return nsc_error_set(err, NSC_ERR_RETRY, "MongoDB at %s failed while %s: %s", m->where,
			     what, msg);
}

void nsc_mongo_succeeded(struct nsc_mongo *m)
{
	m->auth_error_logged = false;
}
