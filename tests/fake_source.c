/* SPDX-License-Identifier: MIT */
/* Scripted source and in-memory output for the engine tests. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/loop.h"
#include "fake_source.h"

struct fake_source *fake_source_last;
struct fake_output *fake_output_last;

void fake_script_push(struct fake_script *s, nsc_rc rc)
{
	if (s->len < FAKE_SCRIPT_MAX)
		s->codes[s->len++] = rc;
}

nsc_rc fake_script_next(struct fake_script *s, struct nsc_loop *loop)
{
	if (s->calls < FAKE_SCRIPT_MAX)
		s->at_ms[s->calls] = loop ? nsc_loop_mono_ms(loop) : 0;
	s->calls++;
	return s->pos < s->len ? s->codes[s->pos++] : s->always;
}

static nsc_rc src_create(const struct nsc_source_env *env, void **ctx, struct nsc_error *err)
{
	struct fake_source *f = calloc(1, sizeof(*f));
	if (!f)
		return nsc_error_set(err, NSC_ERR_NOMEM, "oom");
	f->log = env->log;
	f->loop = env->loop;
	fake_source_last = f;
	*ctx = f;
	return NSC_OK;
}

static void src_destroy(void *ctx)
{
	if (fake_source_last == ctx)
		fake_source_last = NULL;
	free(ctx);
}

static const char *message_for(nsc_rc rc)
{
	return rc == NSC_ERR_REJECTED ? "Fake vendor rejected the login: check FAKE_PASSWORD" : NULL;
}

static void src_authenticate(void *ctx, nsc_step_done_fn done, void *arg)
{
	struct fake_source *f = ctx;
	f->auth_calls++;
	if (f->auth_hangs) {
		f->auth_pending = true; /* like a vendor that never answers */
		return;
	}
	nsc_rc rc = fake_script_next(&f->auth, f->loop);
	done(arg, rc, message_for(rc));
}

static void src_authorize(void *ctx, nsc_step_done_fn done, void *arg)
{
	struct fake_source *f = ctx;
	f->authorize_calls++;
	nsc_rc rc = fake_script_next(&f->authorize, f->loop);
	done(arg, rc, message_for(rc));
}

static void src_cancel(void *ctx)
{
	struct fake_source *f = ctx;
	f->cancels++;
	f->auth_pending = false;
}

static int64_t src_hold_off(void *ctx)
{
	struct fake_source *f = ctx;
	int64_t ms = f->hold_off_ms;
	f->hold_off_ms = 0;
	return ms;
}

static void src_drop(void *ctx)
{
	((struct fake_source *)ctx)->drops++;
}

static void src_fetch(void *ctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		      nsc_step_done_fn done, void *arg)
{
	struct fake_source *f = ctx;
	f->fetch_calls++;
	f->last_window = *w;
	nsc_rc rc = fake_script_next(&f->fetch, f->loop);
	if (rc == NSC_OK) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%lld", (long long)(w->to_ms - w->to_ms % 300000));
		out->data = malloc((size_t)n + 1);
		if (!out->data) {
			done(arg, NSC_ERR_NOMEM, "oom");
			return;
		}
		memcpy(out->data, buf, (size_t)n + 1);
		out->len = (size_t)n;
	}
	done(arg, rc, rc == NSC_OK ? NULL : "scripted fetch failure");
}

static nsc_rc src_transform(void *ctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			    struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct fake_source *f = ctx;
	f->transform_calls++;
	nsc_rc rc = fake_script_next(&f->transform, f->loop);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "scripted transform failure");
	long long t = strtoll(in->data, NULL, 10);
	if (t <= w->from_ms || f->no_readings)
		return NSC_OK; /* nothing new */
	struct json_object *doc = json_object_new_object();
	if (!doc)
		return nsc_error_set(err, NSC_ERR_NOMEM, "oom");
	json_object_object_add(doc, "type", json_object_new_string("sgv"));
	json_object_object_add(doc, "sgv", json_object_new_int(100));
	json_object_object_add(doc, "direction", json_object_new_string("Flat"));
	json_object_object_add(doc, "device", json_object_new_string("fake"));
	json_object_object_add(doc, "date", json_object_new_int64(t));
	return nsc_batch_add(out, NSC_COLL_ENTRIES, doc, err);
}

#define FAKE_TIMING                                                                   \
	{                                                                             \
		.expected_interval_ms = 300000, .align_buffer_ms = 18000,             \
		.align_jitter_ms = 18000, .session_refresh_ms = 50 * 60000,          \
		.session_expire_ms = 60 * 60000, .max_retries = 2, .retry_base_ms = 30000, \
	}

const struct nsc_source_driver fake_source_driver = {
	.name = "fake", .display_name = "Fake", .timing = FAKE_TIMING,
	.create = src_create, .destroy = src_destroy,
	.authenticate = src_authenticate, .authorize = NULL, .drop_session = src_drop,
	.cancel = src_cancel, .hold_off_ms = src_hold_off,
	.fetch = src_fetch, .transform = src_transform,
};

const struct nsc_source_driver fake_source_driver_two_step = {
	.name = "fake2", .display_name = "Fake two-step", .timing = FAKE_TIMING,
	.create = src_create, .destroy = src_destroy,
	.authenticate = src_authenticate, .authorize = src_authorize, .drop_session = src_drop,
	.cancel = src_cancel, .hold_off_ms = src_hold_off,
	.fetch = src_fetch, .transform = src_transform,
};

static nsc_rc out_open(const struct nsc_config *cfg, struct nsc_log *log, void **ctx, struct nsc_error *err)
{
	struct fake_output *o = calloc(1, sizeof(*o));
	if (!o || !(o->ids = json_object_new_object())) {
		free(o);
		return nsc_error_set(err, NSC_ERR_NOMEM, "oom");
	}
	fake_output_last = o;
	*ctx = o;
	return NSC_OK;
}

static void out_close(void *ctx)
{
	struct fake_output *o = ctx;
	if (fake_output_last == o)
		fake_output_last = NULL;
	json_object_put(o->ids);
	free(o);
}

static nsc_rc out_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	struct fake_output *o = ctx;
	nsc_rc rc = fake_script_next(&o->last_known, o->loop);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "scripted last_known failure");
	*out = o->lk;
	return NSC_OK;
}

static nsc_rc out_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
			struct nsc_error *err)
{
	struct fake_output *o = ctx;
	o->write_calls++;
	nsc_rc rc = fake_script_next(&o->write, o->loop);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "scripted write failure");
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		for (size_t i = 0; i < nsc_batch_count(b, (enum nsc_collection)c); i++) {
			struct json_object *doc = nsc_batch_get(b, (enum nsc_collection)c, i), *id;
			int64_t t = 0;
			if (!json_object_object_get_ex(doc, "identifier", &id))
				return nsc_error_set(err, NSC_ERR_INTERNAL, "document without identifier");
			const char *key = json_object_get_string(id);
			if (json_object_object_get_ex(o->ids, key, NULL)) {
				res->duplicates[c]++;
				continue;
			}
			json_object_object_add(o->ids, key, NULL);
			res->stored[c]++;
			o->held++;
			if (nsc_doc_time_ms(doc, &t) == NSC_OK && t > o->lk.ms[c])
				o->lk.ms[c] = t;
		}
	}
	return NSC_OK;
}

/* An instance that polls every minute: exercises tune_timing. */
static void src_tune_fast(void *ctx, struct nsc_source_timing *t)
{
	t->expected_interval_ms = 60000;
	t->align_buffer_ms = 1000;
	t->align_jitter_ms = 1000;
}

const struct nsc_source_driver fake_source_driver_fast = {
	.name = "fakefast", .display_name = "Fake fast", .timing = FAKE_TIMING,
	.create = src_create, .destroy = src_destroy, .tune_timing = src_tune_fast,
	.authenticate = src_authenticate, .authorize = NULL, .drop_session = src_drop,
	.cancel = src_cancel, .hold_off_ms = src_hold_off,
	.fetch = src_fetch, .transform = src_transform,
};

const struct nsc_output_driver fake_output_driver = {
	.name = "memory", .open = out_open, .close = out_close,
	.last_known = out_last_known, .write = out_write,
};
