/* SPDX-License-Identifier: MIT */
/* One asynchronous vendor HTTP request on the loop, set up like every other (see vendor_client.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "engine/loop.h"
#include "http/transfer.h"
#include "http/transport.h"
#include "http/vendor_client.h"
#include "secret.h"

struct nsc_vendor_call {
	struct nsc_loop_transfer transfer; /* first: the loop hands it back */
	struct nsc_loop *loop;
	struct nsc_http_transfer setup;    /* points into resp while running */
	struct nsc_http_response resp;
	char *request_body;                /* our copy; may hold a password */
	size_t request_len;
	bool running;
	nsc_vendor_done_fn done;
	void *arg;
};

struct nsc_vendor_call *nsc_vendor_call_new(struct nsc_loop *loop)
{
	struct nsc_vendor_call *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->loop = loop;
	c->resp.retry_after_ms = -1;
	return c;
}

static void release(struct nsc_vendor_call *c)
{
	if (c->transfer.easy) {
		curl_easy_cleanup(c->transfer.easy);
		c->transfer.easy = NULL;
	}
	if (c->request_body) {
		nsc_secret_wipe(c->request_body, c->request_len);
		free(c->request_body);
		c->request_body = NULL;
	}
	c->running = false;
}

void nsc_vendor_call_cancel(struct nsc_vendor_call *c)
{
	if (c == NULL || !c->running)
		return;
	nsc_loop_transfer_abort(c->loop, &c->transfer);
	nsc_http_transfer_finish(&c->setup, c->transfer.easy, CURLE_ABORTED_BY_CALLBACK);
	release(c);
	nsc_http_response_free(&c->resp);
}

void nsc_vendor_call_free(struct nsc_vendor_call *c)
{
	if (c == NULL)
		return;
	nsc_vendor_call_cancel(c);
	release(c);
	nsc_http_response_free(&c->resp);
	free(c);
}

bool nsc_vendor_call_running(const struct nsc_vendor_call *c)
{
	return c != NULL && c->running;
}

static void on_transfer_done(struct nsc_loop_transfer *t, CURLcode result)
{
	struct nsc_vendor_call *c = (struct nsc_vendor_call *)t; /* transfer is the first member */
	nsc_http_transfer_finish(&c->setup, t->easy, result);
	if (c->resp.transport != (int)CURLE_OK)
		c->resp.status = 0; /* a cut-off answer is no answer */
	nsc_vendor_done_fn done = c->done;
	void *arg = c->arg;
	/* Free the handle and take the answer first: done() may start the next request on this call. */
	release(c);
	struct nsc_http_response resp = c->resp;
	memset(&c->resp, 0, sizeof(c->resp));
	c->resp.retry_after_ms = -1;
	if (done)
		done(arg, &resp);
	nsc_http_response_free(&resp);
}

nsc_rc nsc_vendor_call_start(struct nsc_vendor_call *c, const struct nsc_vendor_request *rq,
			     nsc_vendor_done_fn done, void *arg, struct nsc_error *err)
{
	if (c->running)
		return nsc_error_set(err, NSC_ERR_STATE, "a request is already running");
	bool post = strcmp(rq->method, "POST") == 0;
	if (!post && strcmp(rq->method, "GET") != 0)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "unsupported method %s", rq->method);
	nsc_http_response_free(&c->resp);
	CURL *h = curl_easy_init();
	if (!h)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory starting a request");
	c->transfer.easy = h;
	c->transfer.done = on_transfer_done;
	if (post) {
		/* Sent as is; a POST without a body sends an empty one. */
		c->request_len = rq->body ? rq->body_len : 0;
		c->request_body = malloc(c->request_len + 1);
		if (!c->request_body) {
			release(c);
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory starting a request");
		}
		if (c->request_len)
			memcpy(c->request_body, rq->body, c->request_len);
		c->request_body[c->request_len] = '\0';
	}
	struct nsc_http_limits lim;
	nsc_http_limits_init(&lim);
	long timeout = rq->timeout_ms > 0 ? rq->timeout_ms : NSC_VENDOR_TIMEOUT_MS;
	nsc_http_limits_set_timeouts(&lim, timeout < NSC_VENDOR_CONNECT_TIMEOUT_MS ? timeout
										 : NSC_VENDOR_CONNECT_TIMEOUT_MS,
				     timeout);
	lim.max_response = NSC_VENDOR_MAX_BODY;
	nsc_rc rc = nsc_http_transfer_setup(&c->setup, h, &lim, rq->method, rq->url, rq->headers,
					    c->request_body, c->request_len, &c->resp, err);
	if (rc != NSC_OK) {
		release(c);
		nsc_http_response_free(&c->resp);
		return rc;
	}
	c->done = done;
	c->arg = arg;
	c->running = true;
	if (nsc_loop_transfer_start(c->loop, &c->transfer) != NSC_OK) {
		nsc_http_transfer_finish(&c->setup, h, CURLE_FAILED_INIT);
		release(c);
		nsc_http_response_free(&c->resp);
		return nsc_error_set(err, NSC_ERR_INTERNAL, "cannot start the request");
	}
	return NSC_OK;
}

nsc_rc nsc_vendor_transport_rc(const struct nsc_http_response *resp, const char *who,
			       struct nsc_error *err)
{
	return nsc_http_transport_rc(resp, who, NULL, NULL, err);
}

void nsc_vendor_body_excerpt(const struct nsc_http_response *resp, char *buf, size_t size)
{
	nsc_http_printable(buf, size, resp->body, resp->body_len, resp->body_len);
}

char *nsc_vendor_escape(const char *s)
{
	return nsc_http_escape(NULL, s);
}
