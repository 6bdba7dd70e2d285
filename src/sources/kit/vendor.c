/* SPDX-License-Identifier: MIT */
/* The driver skeleton: steps, send, answers, standard ops (see vendor.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/loop.h"
#include "http/transport.h"
#include "nsc_config.h"
#include "sources/kit/vendor.h"

nsc_rc nsc_vendor_base_init(struct nsc_vendor_base *b, const struct nsc_vendor_profile *profile,
			    const struct nsc_source_env *env, struct nsc_error *err)
{
	memset(b, 0, sizeof(*b));
	if (env == NULL || env->config == NULL || env->loop == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "%s: created without configuration", profile->comp);
	b->profile = profile;
	b->cfg = env->config;
	b->log = env->log;
	b->loop = env->loop;
	b->call = nsc_vendor_call_new(env->loop);
	if (b->call == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "%s: out of memory", profile->comp);
	return NSC_OK;
}

static void idle(struct nsc_vendor_base *b)
{
	b->step = 0;
	b->done = NULL;
	b->done_arg = NULL;
	b->out = NULL;
	b->answered = NULL;
}

void nsc_vendor_std_cancel(void *ctx)
{
	struct nsc_vendor_base *b = ctx;
	nsc_vendor_call_cancel(b->call);
	idle(b);
}

int64_t nsc_vendor_std_hold_off_ms(void *ctx)
{
	struct nsc_vendor_base *b = ctx;
	int64_t h = b->hold_off_ms;
	b->hold_off_ms = 0;
	return h;
}

void nsc_vendor_base_fini(struct nsc_vendor_base *b)
{
	nsc_vendor_std_cancel(b);
	nsc_vendor_call_free(b->call);
	b->call = NULL;
}

int64_t nsc_vendor_wall_ms(const struct nsc_vendor_base *b)
{
	return nsc_loop_wall_ms(b->loop);
}

const char *nsc_vendor_step_name(const struct nsc_vendor_base *b)
{
	const char *const *names = b->profile->step_names;
	if (names == NULL || b->step < 0)
		return "none";
	for (int i = 0; names[i] != NULL; i++)
		if (i == b->step)
			return names[i];
	return "none";
}

void nsc_vendor_begin(struct nsc_vendor_base *b, int step, nsc_step_done_fn done, void *arg,
		      struct nsc_payload *out)
{
	nsc_vendor_std_cancel(b);
	b->step = step;
	b->done = done;
	b->done_arg = arg;
	b->out = out;
}

void nsc_vendor_finish(struct nsc_vendor_base *b, nsc_rc rc, const char *message)
{
	nsc_step_done_fn done = b->done;
	void *arg = b->done_arg;
	idle(b);
	if (done)
		done(arg, rc, rc == NSC_OK ? NULL : message);
}

void nsc_vendor_finish_verdict(struct nsc_vendor_base *b, const struct nsc_vendor_verdict *v)
{
	if (v->hold_off_ms > b->hold_off_ms)
		b->hold_off_ms = v->hold_off_ms;
	nsc_vendor_finish(b, v->rc, v->msg);
}

void nsc_vendor_finish_with_body(struct nsc_vendor_base *b, const struct nsc_http_response *resp)
{
	char *copy = malloc(resp->body_len + 1);
	if (copy == NULL) {
		nsc_vendor_finish(b, NSC_ERR_NOMEM, "out of memory keeping the vendor's answer");
		return;
	}
	memcpy(copy, resp->body, resp->body_len);
	copy[resp->body_len] = '\0';
	nsc_payload_free(b->out);
	b->out->data = copy;
	b->out->len = resp->body_len;
	nsc_dbg(b->log, b->profile->comp, "event=fetched bytes=%zu elapsed_ms=%ld", resp->body_len,
		resp->elapsed_ms);
	nsc_vendor_finish(b, NSC_OK, NULL);
}

static void on_answer(void *arg, struct nsc_http_response *resp)
{
	struct nsc_vendor_base *b = arg;
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_trace(b->log, b->profile->comp,
		  "event=answer step=%s status=%ld bytes=%zu elapsed_ms=%ld content_type=\"%s\"",
		  nsc_vendor_step_name(b), resp->status, resp->body_len, resp->elapsed_ms, resp->content_type);
	nsc_rc rc = nsc_http_transport_rc(resp, b->profile->words->who, NULL, b->profile->words->server_setting,
					  &err);
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, rc, err.msg);
		return;
	}
	nsc_vendor_answer_fn answered = b->answered;
	b->answered = NULL;
	if (answered)
		answered(b, resp);
}

void nsc_vendor_send(struct nsc_vendor_base *b, struct nsc_vendor_request *rq,
		     nsc_vendor_answer_fn answered)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	if (rq->timeout_ms == 0 && b->cfg->http_timeout_ms > 0)
		rq->timeout_ms = (long)b->cfg->http_timeout_ms;
	nsc_trace(b->log, b->profile->comp, "event=request step=%s method=%s url=%s", nsc_vendor_step_name(b),
		  rq->method, rq->url);
	b->answered = answered;
	nsc_rc rc = nsc_vendor_call_start(b->call, rq, on_answer, b, &err);
	if (rc != NSC_OK)
		nsc_vendor_finish(b, rc == NSC_ERR_NOMEM ? NSC_ERR_NOMEM : NSC_ERR_RETRY, err.msg);
}

void nsc_vendor_log_transform(const struct nsc_vendor_base *b, const struct nsc_batch *out,
			      size_t skipped)
{
	nsc_dbg(b->log, b->profile->comp,
		"event=transform entries=%zu treatments=%zu devicestatus=%zu profile=%zu skipped=%zu",
		nsc_batch_count(out, NSC_COLL_ENTRIES), nsc_batch_count(out, NSC_COLL_TREATMENTS),
		nsc_batch_count(out, NSC_COLL_DEVICESTATUS), nsc_batch_count(out, NSC_COLL_PROFILE), skipped);
}

char *nsc_vendor_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}
