/* SPDX-License-Identifier: MIT */
/*
 * The outputs this build has in libnsconnect, each held once by configured
 * kind with whether it is remote. A remote output (MongoDB, Nightscout
 * REST) reaches the engine through a spool, so the engine loop never waits
 * on the network and nothing is lost while the store is down: its face is
 * built here at run time over the backend (outputs/spooled.h). A local one
 * (filesystem) is durable already and never spooled.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/rest_output.h"
#include "output.h"
#include "outputs/filesystem.h"
#include "outputs/spooled.h"
#ifdef HAVE_MONGOC
#include "mongo/mongo_output.h"
#endif

struct output_entry {
	enum nsc_output_kind kind;
	const struct nsc_output_driver *driver; /* blocking: writes reach the store */
	bool remote;
};

static const struct output_entry outputs[] = {
	{ NSC_OUTPUT_FILESYSTEM, &nsc_output_filesystem, false },
	{ NSC_OUTPUT_REST, &nsc_rest_v1_backend, true },
	{ NSC_OUTPUT_REST3, &nsc_rest_v3_backend, true },
#ifdef HAVE_MONGOC
	{ NSC_OUTPUT_MONGO, &nsc_mongo_backend, true }, /* else refused at start */
#endif
};

#define OUTPUT_COUNT (sizeof(outputs) / sizeof(outputs[0]))

/* The spooled faces of the remote entries, same index; built once. */
static struct nsc_output_driver faces[OUTPUT_COUNT];
static pthread_once_t faces_once = PTHREAD_ONCE_INIT;

static void build_faces(void)
{
	for (size_t i = 0; i < OUTPUT_COUNT; i++) {
		if (outputs[i].remote)
			faces[i] = nsc_spooled_driver(outputs[i].driver);
	}
}

static const struct output_entry *entry_for(enum nsc_output_kind kind)
{
	for (size_t i = 0; i < OUTPUT_COUNT; i++) {
		if (outputs[i].kind == kind)
			return &outputs[i];
	}
	return NULL;
}

const struct nsc_output_driver *nsc_output_driver_for(enum nsc_output_kind kind)
{
	const struct output_entry *e = entry_for(kind);
	if (e == NULL)
		return NULL;
	if (!e->remote)
		return e->driver;
	if (pthread_once(&faces_once, build_faces) != 0)
		return NULL;
	return &faces[e - outputs];
}

const struct nsc_output_driver *nsc_output_backend_for(enum nsc_output_kind kind)
{
	const struct output_entry *e = entry_for(kind);
	return e != NULL ? e->driver : NULL;
}

nsc_rc nsc_output_open(const struct nsc_output_driver *d, const struct nsc_config *cfg,
		       struct nsc_log *log, void **ctx, struct nsc_error *err)
{
	if (d == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "output opened without a driver");
	if (d->spooled_over != NULL)
		return nsc_spooled_driver_open(d->spooled_over, cfg, log, ctx, err);
	if (d->open == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "output %s has no open operation",
				     d->name != NULL ? d->name : "(unnamed)");
	return d->open(cfg, log, ctx, err);
}
