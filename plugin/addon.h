/* SPDX-License-Identifier: MIT */
/*
 * The Node-API addon's shared pieces: one bridge handle as JavaScript sees
 * it, the engine-to-JavaScript event plumbing and the settings check.
 */
#ifndef NSC_PLUGIN_ADDON_H
#define NSC_PLUGIN_ADDON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>

#include "nsconnect.h"

/* One bridge; owned by the JavaScript handle object it is wrapped in. */
struct nsc_addon {
	nsc_embed *embed;
	napi_env env;
	/* While started: events to JavaScript, the handle kept alive, the exit hook. */
	napi_threadsafe_function tsfn;
	napi_ref self;
	bool running;
};

/*
 * Routes the engine's batch, log and problem callbacks to `on_event`
 * through a thread-safe function that does not keep Node's loop alive.
 */
napi_status nsc_addon_events_attach(napi_env env, struct nsc_addon *a, napi_value on_event);
/* Lets go of the thread-safe function; queued events are still delivered. */
void nsc_addon_events_detach(struct nsc_addon *a);

/* Small helpers: each throws a JavaScript Error and returns NULL. */
napi_value nsc_addon_throw(napi_env env, const char *code, const char *message);
napi_status nsc_addon_set_number(napi_env env, napi_value obj, const char *key, double v);
napi_status nsc_addon_set_string(napi_env env, napi_value obj, const char *key, const char *v);

#endif
