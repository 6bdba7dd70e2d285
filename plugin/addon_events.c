/* SPDX-License-Identifier: MIT */
/*
 * From the engine's thread to JavaScript: the batch, log and problem
 * callbacks copy what they are given into an event and queue it on a
 * thread-safe function (never blocking the engine); Node's thread turns it
 * into a plain object and calls the host's onEvent with it:
 *   {type:'batch', stored:{entries, treatments, devicestatus, profile}, oldestMs, newestMs}
 *   {type:'problem', code:'NSC_ERR_REJECTED', message}
 *   {type:'log', level:'info', line}
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plugin/addon.h"

enum event_type { EVENT_BATCH, EVENT_PROBLEM, EVENT_LOG };

struct event {
	enum event_type type;
	struct nsc_embed_batch batch;
	nsc_rc rc;
	enum nsc_embed_log_level level;
	char text[]; /* the problem's message or the log line */
};

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

static struct event *event_new(enum event_type type, const char *text)
{
	size_t n = text ? strlen(text) : 0;
	struct event *ev = malloc(sizeof(*ev) + n + 1);
	if (!ev)
		return NULL;
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	memcpy(ev->text, text ? text : "", n + 1);
	return ev;
}

/* Any thread: queue the event; dropped (and freed) once the function is closing. */
static void post(struct nsc_addon *a, struct event *ev)
{
	if (!ev)
		return;
	if (!a->tsfn || napi_call_threadsafe_function(a->tsfn, ev, napi_tsfn_nonblocking) != napi_ok)
		free(ev);
}

static void on_batch(void *arg, const struct nsc_embed_batch *batch)
{
	struct event *ev = event_new(EVENT_BATCH, NULL);
	if (ev)
		ev->batch = *batch;
	post(arg, ev);
}

static void on_problem(void *arg, nsc_rc rc, const char *message)
{
	struct event *ev = event_new(EVENT_PROBLEM, message);
	if (ev)
		ev->rc = rc;
	post(arg, ev);
}

static void on_log(void *arg, enum nsc_embed_log_level level, const char *line)
{
	struct event *ev = event_new(EVENT_LOG, line);
	if (ev)
		ev->level = level;
	post(arg, ev);
}

static napi_status batch_object(napi_env env, const struct event *ev, napi_value obj)
{
	napi_value stored;
	napi_status s = napi_create_object(env, &stored);
	if (s == napi_ok)
		s = nsc_addon_set_number(env, stored, "entries", (double)ev->batch.stored_entries);
	if (s == napi_ok)
		s = nsc_addon_set_number(env, stored, "treatments", (double)ev->batch.stored_treatments);
	if (s == napi_ok)
		s = nsc_addon_set_number(env, stored, "devicestatus", (double)ev->batch.stored_devicestatus);
	if (s == napi_ok)
		s = nsc_addon_set_number(env, stored, "profile", (double)ev->batch.stored_profile);
	if (s == napi_ok)
		s = napi_set_named_property(env, obj, "stored", stored);
	if (s == napi_ok)
		s = nsc_addon_set_number(env, obj, "oldestMs", (double)ev->batch.oldest_ms);
	if (s == napi_ok)
		s = nsc_addon_set_number(env, obj, "newestMs", (double)ev->batch.newest_ms);
	return s;
}

static napi_status event_object(napi_env env, const struct event *ev, napi_value *out)
{
	napi_status s = napi_create_object(env, out);
	if (s != napi_ok)
		return s;
	switch (ev->type) {
	case EVENT_BATCH:
		s = nsc_addon_set_string(env, *out, "type", "batch");
		if (s == napi_ok)
			s = batch_object(env, ev, *out);
		break;
	case EVENT_PROBLEM:
		s = nsc_addon_set_string(env, *out, "type", "problem");
		if (s == napi_ok)
			s = nsc_addon_set_string(env, *out, "code", nsc_rc_name(ev->rc));
		if (s == napi_ok)
			s = nsc_addon_set_string(env, *out, "message", ev->text);
		break;
	case EVENT_LOG:
		s = nsc_addon_set_string(env, *out, "type", "log");
		if (s == napi_ok)
			s = nsc_addon_set_string(env, *out, "level",
						 (unsigned)ev->level < sizeof(level_names) / sizeof(level_names[0])
							 ? level_names[ev->level]
							 : "info");
		if (s == napi_ok)
			s = nsc_addon_set_string(env, *out, "line", ev->text);
		break;
	}
	return s;
}

/* Node's thread: one queued event to onEvent. env is NULL while Node shuts down. */
static void call_js(napi_env env, napi_value on_event, void *context, void *data)
{
	struct event *ev = data;
	napi_value obj, undefined, result;

	(void)context;
	if (env && on_event && event_object(env, ev, &obj) == napi_ok &&
	    napi_get_undefined(env, &undefined) == napi_ok) {
		napi_status s = napi_call_function(env, undefined, on_event, 1, &obj, &result);
		if (s == napi_pending_exception) {
			/* A throwing handler is the host's bug: report it as uncaught. */
			napi_value exc;
			if (napi_get_and_clear_last_exception(env, &exc) == napi_ok)
				(void)napi_fatal_exception(env, exc);
		}
	}
	free(ev);
}

napi_status nsc_addon_events_attach(napi_env env, struct nsc_addon *a, napi_value on_event)
{
	napi_value name;
	napi_status s = napi_create_string_utf8(env, "nsconnect", NAPI_AUTO_LENGTH, &name);
	if (s == napi_ok)
		s = napi_create_threadsafe_function(env, on_event, NULL, name, 0, 1, NULL, NULL, NULL,
						    call_js, &a->tsfn);
	if (s != napi_ok)
		return s;
	/* A running bridge does not hold the process open by itself (Nightscout's server does). */
	s = napi_unref_threadsafe_function(env, a->tsfn);
	if (s != napi_ok) {
		nsc_addon_events_detach(a);
		return s;
	}
	nsc_embed_on_batch(a->embed, on_batch, a);
	nsc_embed_on_problem(a->embed, on_problem, a);
	nsc_embed_on_log(a->embed, on_log, a);
	return napi_ok;
}

void nsc_addon_events_detach(struct nsc_addon *a)
{
	if (!a->tsfn)
		return;
	(void)napi_release_threadsafe_function(a->tsfn, napi_tsfn_release);
	a->tsfn = NULL;
}
