/* SPDX-License-Identifier: MIT */
/* The output drivers this build has in libnsconnect, by configured kind. */
#include "config.h"

#include <stddef.h>

#include "http/rest_output.h"
#include "output.h"
#include "outputs/filesystem.h"
#ifdef HAVE_MONGOC
#include "mongo/mongo_output.h"
#endif

const struct nsc_output_driver *nsc_output_driver_for(enum nsc_output_kind kind)
{
	switch (kind) {
	case NSC_OUTPUT_FILESYSTEM:
		return &nsc_output_filesystem;
	case NSC_OUTPUT_REST:
		return &nsc_output_rest;
	case NSC_OUTPUT_REST3:
		return &nsc_output_rest3;
	case NSC_OUTPUT_MONGO:
#ifdef HAVE_MONGOC
		return &nsc_output_mongo;
#else
		break; /* built --without-mongoc: refused at start */
#endif
	case NSC_OUTPUT_AUTO:
		break;
	}
	return NULL;
}

const struct nsc_output_driver *nsc_output_backend_for(enum nsc_output_kind kind)
{
	switch (kind) {
	case NSC_OUTPUT_FILESYSTEM:
		return &nsc_output_filesystem; /* local and durable already: never spooled */
	case NSC_OUTPUT_REST:
		return &nsc_rest_v1_backend;
	case NSC_OUTPUT_REST3:
		return &nsc_rest_v3_backend;
	case NSC_OUTPUT_MONGO:
#ifdef HAVE_MONGOC
		return &nsc_mongo_backend;
#else
		break;
#endif
	case NSC_OUTPUT_AUTO:
		break;
	}
	return NULL;
}
