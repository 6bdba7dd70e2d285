/* SPDX-License-Identifier: MIT */
/*
 * nsconnect.node: the Node-API addon that runs a bridge inside Nightscout.
 * Exports
 *   create(settings)      settings: {CONNECT_SOURCE: 'linkup', ...} (strings);
 *                         checks them and returns a handle (throws an Error
 *                         whose message names every bad or missing
 *                         variable, nsc_embed_validate's message); the
 *                         handle's `ignored` lists names nsconnect does not know
 *   start(handle, onEvent) runs the engine on its own thread; events (see
 *                         addon_events.c) reach onEvent on Node's thread
 *   stop(handle)          stops and waits for the engine; twice is fine
 *   status(handle)        a plain object (running, lastError, counters)
 *   version               nsconnect's version
 * Each batch is written straight into the database, so a batch event means
 * the documents are there.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plugin/addon.h"
#include "secret.h"

napi_value nsc_addon_throw(napi_env env, const char *code, const char *message)
{
	bool pending = false;
	if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
		return NULL;
	(void)napi_throw_error(env, code, message);
	return NULL;
}

/* After a failed napi_* call: the pending exception, else Node's own message. */
static napi_value throw_status(napi_env env)
{
	const napi_extended_error_info *info = NULL;
	const char *msg = "Node-API call failed";
	if (napi_get_last_error_info(env, &info) == napi_ok && info && info->error_message)
		msg = info->error_message;
	return nsc_addon_throw(env, "NSC_ERR_INTERNAL", msg);
}

#define TRY(env, call)                          \
	do {                                    \
		if ((call) != napi_ok)          \
			return throw_status(env); \
	} while (0)

napi_status nsc_addon_set_number(napi_env env, napi_value obj, const char *key, double v)
{
	napi_value n;
	napi_status s = napi_create_double(env, v, &n);
	return s == napi_ok ? napi_set_named_property(env, obj, key, n) : s;
}

napi_status nsc_addon_set_string(napi_env env, napi_value obj, const char *key, const char *v)
{
	napi_value str;
	napi_status s = napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &str);
	return s == napi_ok ? napi_set_named_property(env, obj, key, str) : s;
}

static napi_status set_bool(napi_env env, napi_value obj, const char *key, bool v)
{
	napi_value b;
	napi_status s = napi_get_boolean(env, v, &b);
	return s == napi_ok ? napi_set_named_property(env, obj, key, b) : s;
}

/* ---- the handle's life ---------------------------------------------- */

static void addon_stop(struct nsc_addon *a, bool from_hook);

static void exit_hook(void *arg)
{
	addon_stop(arg, true);
}

static void addon_stop(struct nsc_addon *a, bool from_hook)
{
	if (!a->running)
		return;
	nsc_embed_stop(a->embed);
	nsc_addon_events_detach(a);
	if (a->self)
		(void)napi_delete_reference(a->env, a->self);
	a->self = NULL;
	if (!from_hook)
		(void)napi_remove_env_cleanup_hook(a->env, exit_hook, a);
	a->running = false;
}

static void finalize(napi_env env, void *data, void *hint)
{
	struct nsc_addon *a = data;
	(void)env;
	(void)hint;
	addon_stop(a, false);
	nsc_embed_free(a->embed);
	free(a);
}

static struct nsc_addon *unwrap(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;
	napi_value this_arg;
	void *data = NULL;
	if (napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL) != napi_ok) {
		throw_status(env);
		return NULL;
	}
	if (argc < want || napi_unwrap(env, argv[0], &data) != napi_ok || !data) {
		nsc_addon_throw(env, "NSC_ERR_INTERNAL", "expected a handle made by create()");
		return NULL;
	}
	return data;
}

/* ---- create(settings) ------------------------------------------------ */

struct settings {
	size_t count;
	char **names, **values;
};

static void settings_free(struct settings *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->names[i]);
		nsc_secret_free(s->values[i]); /* passwords among them */
	}
	free(s->names);
	free(s->values);
}

static napi_status utf8(napi_env env, napi_value v, char **out)
{
	size_t n = 0;
	*out = NULL;
	napi_status s = napi_get_value_string_utf8(env, v, NULL, 0, &n);
	if (s != napi_ok)
		return s;
	*out = malloc(n + 1);
	if (!*out)
		return napi_generic_failure;
	return napi_get_value_string_utf8(env, v, *out, n + 1, &n);
}

/* Reads {NAME: value, ...}; undefined and null values are left out, others become strings. */
static napi_status read_settings(napi_env env, napi_value obj, struct settings *out)
{
	napi_value keys;
	uint32_t n = 0;
	napi_status s = napi_get_property_names(env, obj, &keys);
	if (s == napi_ok)
		s = napi_get_array_length(env, keys, &n);
	if (s != napi_ok)
		return s;
	out->names = calloc(n + 1, sizeof(char *));
	out->values = calloc(n + 1, sizeof(char *));
	if (!out->names || !out->values)
		return napi_generic_failure;
	for (uint32_t i = 0; i < n && s == napi_ok; i++) {
		napi_value key, value, text;
		napi_valuetype type;
		s = napi_get_element(env, keys, i, &key);
		if (s == napi_ok)
			s = napi_get_property(env, obj, key, &value);
		if (s == napi_ok)
			s = napi_typeof(env, value, &type);
		if (s != napi_ok || type == napi_undefined || type == napi_null)
			continue;
		s = napi_coerce_to_string(env, value, &text);
		if (s == napi_ok)
			s = napi_coerce_to_string(env, key, &key);
		if (s == napi_ok)
			s = utf8(env, key, &out->names[out->count]);
		if (s == napi_ok)
			s = utf8(env, text, &out->values[out->count]);
		if (out->names[out->count] || out->values[out->count])
			out->count++; /* owned from here, freed by settings_free */
	}
	return s;
}

static napi_value create_handle(napi_env env, struct nsc_addon *a, struct settings *st,
				napi_value *result)
{
	napi_value ignored;
	uint32_t n_ignored = 0;
	struct nsc_error err = { 0 };

	TRY(env, napi_create_object(env, result));
	TRY(env, napi_create_array(env, &ignored));
	/* Unknown names are listed, not fatal: nightscout-connect has settings nsconnect lacks. */
	for (size_t i = 0; i < st->count; i++) {
		nsc_rc rc = nsc_embed_set(a->embed, st->names[i], st->values[i]);
		if (rc == NSC_ERR_CONFIG) {
			napi_value name;
			TRY(env, napi_create_string_utf8(env, st->names[i], NAPI_AUTO_LENGTH, &name));
			TRY(env, napi_set_element(env, ignored, n_ignored++, name));
			continue;
		}
		if (rc != NSC_OK)
			return nsc_addon_throw(env, nsc_rc_name(rc), nsc_strerror(rc));
	}
	nsc_rc rc = nsc_embed_validate(a->embed, &err);
	if (rc != NSC_OK)
		return nsc_addon_throw(env, nsc_rc_name(rc), err.msg[0] ? err.msg : nsc_strerror(rc));
	TRY(env, napi_set_named_property(env, *result, "ignored", ignored));
	return *result;
}

static napi_value js_create(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result = NULL;
	napi_valuetype type;
	struct settings st = { 0 };

	TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_object)
		return nsc_addon_throw(env, "NSC_ERR_INTERNAL", "create() expects an object of settings");

	struct nsc_addon *a = calloc(1, sizeof(*a));
	if (!a)
		return nsc_addon_throw(env, "NSC_ERR_NOMEM", nsc_strerror(NSC_ERR_NOMEM));
	a->env = env;
	nsc_rc rc = nsc_embed_new(&a->embed);
	if (rc != NSC_OK) {
		free(a);
		return nsc_addon_throw(env, nsc_rc_name(rc), nsc_strerror(rc));
	}
	/* A batch event must mean "in the database": no spool in between. */
	nsc_embed_write_directly(a->embed, 1);

	napi_value handle = NULL;
	if (read_settings(env, argv[0], &st) != napi_ok)
		throw_status(env);
	else
		handle = create_handle(env, a, &st, &result);
	settings_free(&st);
	if (handle && napi_wrap(env, handle, a, finalize, NULL, NULL) == napi_ok)
		return handle;
	if (handle)
		throw_status(env);
	nsc_embed_free(a->embed);
	free(a);
	return NULL;
}

/* ---- start, stop, status --------------------------------------------- */

static napi_value js_start(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	napi_valuetype type;
	struct nsc_error err = { 0 };
	struct nsc_addon *a = unwrap(env, info, 2, argv);
	if (!a)
		return NULL;
	if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function)
		return nsc_addon_throw(env, "NSC_ERR_INTERNAL", "start() expects an event callback");
	if (a->running)
		return nsc_addon_throw(env, "NSC_ERR_STATE", "nsconnect is already running");
	TRY(env, nsc_addon_events_attach(env, a, argv[1]));
	nsc_rc rc = nsc_embed_start(a->embed, &err);
	if (rc != NSC_OK) {
		nsc_addon_events_detach(a);
		return nsc_addon_throw(env, nsc_rc_name(rc), err.msg[0] ? err.msg : nsc_strerror(rc));
	}
	a->running = true;
	/* Kept alive while running; stopped before Node's environment goes away. */
	if (napi_create_reference(env, argv[0], 1, &a->self) != napi_ok ||
	    napi_add_env_cleanup_hook(env, exit_hook, a) != napi_ok) {
		napi_value exc = throw_status(env);
		addon_stop(a, true);
		return exc;
	}
	return NULL;
}

static napi_value js_stop(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct nsc_addon *a = unwrap(env, info, 1, argv);
	if (a)
		addon_stop(a, false);
	return NULL;
}

static napi_value js_status(napi_env env, napi_callback_info info)
{
	napi_value argv[1], obj, stored;
	struct nsc_embed_status st;
	struct nsc_addon *a = unwrap(env, info, 1, argv);
	if (!a)
		return NULL;
	nsc_embed_status(a->embed, &st);
	TRY(env, napi_create_object(env, &obj));
	TRY(env, napi_create_object(env, &stored));
	TRY(env, set_bool(env, obj, "running", st.running != 0));
	TRY(env, nsc_addon_set_string(env, obj, "lastCode", nsc_rc_name(st.last_rc)));
	TRY(env, nsc_addon_set_string(env, obj, "lastError", st.last_error));
	TRY(env, nsc_addon_set_number(env, obj, "pollsOk", (double)st.polls_ok));
	TRY(env, nsc_addon_set_number(env, obj, "pollsFailed", (double)st.polls_failed));
	TRY(env, nsc_addon_set_number(env, obj, "loginsRejected", (double)st.logins_rejected));
	TRY(env, nsc_addon_set_number(env, obj, "payloadsDropped", (double)st.payloads_dropped));
	TRY(env, nsc_addon_set_number(env, stored, "entries", (double)st.stored_entries));
	TRY(env, nsc_addon_set_number(env, stored, "treatments", (double)st.stored_treatments));
	TRY(env, nsc_addon_set_number(env, stored, "devicestatus", (double)st.stored_devicestatus));
	TRY(env, nsc_addon_set_number(env, stored, "profile", (double)st.stored_profile));
	TRY(env, napi_set_named_property(env, obj, "stored", stored));
	TRY(env, nsc_addon_set_number(env, obj, "lastSuccessMs", (double)st.last_success_ms));
	TRY(env, nsc_addon_set_number(env, obj, "newestEntryMs", (double)st.newest_entry_ms));
	TRY(env, nsc_addon_set_number(env, obj, "nextPollInMs", (double)st.next_poll_in_ms));
	return obj;
}

/* ---- module ------------------------------------------------------------ */

NAPI_MODULE_EXPORT int32_t NODE_API_MODULE_GET_API_VERSION(void);

NAPI_MODULE_INIT()
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = {
		{ "create", js_create },
		{ "start", js_start },
		{ "stop", js_stop },
		{ "status", js_status },
	};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		napi_value f;
		TRY(env, napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f));
		TRY(env, napi_set_named_property(env, exports, fns[i].name, f));
	}
	TRY(env, nsc_addon_set_string(env, exports, "version", nsc_version()));
	return exports;
}
