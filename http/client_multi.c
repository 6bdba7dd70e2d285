/* SPDX-License-Identifier: MIT */
/* Several HTTP requests at once over one libcurl multi handle (see client_multi.h). */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http/client_multi.h"
#include "http/transfer.h"
#include "strbuf.h"

/* Longest single wait for socket activity; libcurl wakes earlier for its own timeouts. */
#define POLL_MS 1000

struct slot {
	CURL *easy; /* reused; its connections live in the multi handle's cache */
	struct nsc_http_transfer t;
	struct nsc_http_response resp;
	struct nsc_strbuf body; /* this request's copy of the body, reused */
	void *tag;
	bool busy;
};

struct nsc_http_multi {
	CURLM *multi;
	struct nsc_http_limits lim;
	unsigned nslots;
	unsigned in_flight;
	struct slot slots[];
};

struct nsc_http_multi *nsc_http_multi_new(unsigned slots)
{
	struct nsc_http_multi *m;

	if (slots < 1)
		slots = 1;
	if (slots > NSC_HTTP_MULTI_MAX_SLOTS)
		slots = NSC_HTTP_MULTI_MAX_SLOTS;
	m = calloc(1, sizeof(*m) + slots * sizeof(m->slots[0]));
	if (!m)
		return NULL;
	m->nslots = slots;
	nsc_http_limits_init(&m->lim);
	m->multi = curl_multi_init();
	/* Keep a connection per slot open between requests. */
	if (!m->multi || curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)slots) != CURLM_OK)
		goto fail;
	for (unsigned i = 0; i < slots; i++) {
		m->slots[i].easy = curl_easy_init();
		if (!m->slots[i].easy)
			goto fail;
	}
	return m;
fail:
	nsc_http_multi_free(m);
	return NULL;
}

void nsc_http_multi_free(struct nsc_http_multi *m)
{
	if (!m)
		return;
	nsc_http_multi_abort(m);
	if (m->multi)
		curl_multi_cleanup(m->multi);
	for (unsigned i = 0; i < m->nslots; i++) {
		if (m->slots[i].easy)
			curl_easy_cleanup(m->slots[i].easy);
		nsc_strbuf_free(&m->slots[i].body);
	}
	free(m);
}

void nsc_http_multi_set_timeouts(struct nsc_http_multi *m, long connect_ms, long total_ms)
{
	nsc_http_limits_set_timeouts(&m->lim, connect_ms, total_ms);
}

unsigned nsc_http_multi_slots(const struct nsc_http_multi *m)
{
	return m->nslots;
}

unsigned nsc_http_multi_in_flight(const struct nsc_http_multi *m)
{
	return m->in_flight;
}

nsc_rc nsc_http_multi_start(struct nsc_http_multi *m, const char *method, const char *url,
			    const char *const *headers, const char *body, size_t body_len,
			    void *tag, struct nsc_error *err)
{
	struct slot *s = NULL;
	const char *copy = NULL;
	CURLMcode mc;
	nsc_rc rc;

	for (unsigned i = 0; i < m->nslots && !s; i++)
		if (!m->slots[i].busy)
			s = &m->slots[i];
	if (!s)
		return nsc_error_set(err, NSC_ERR_STATE, "every HTTP slot is busy");
	if (body) {
		s->body.len = 0;
		if (nsc_strbuf_append(&s->body, body, body_len) != NSC_OK)
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory for an HTTP request");
		copy = s->body.p;
	}
	rc = nsc_http_transfer_setup(&s->t, s->easy, &m->lim, method, url, headers, copy,
				     body_len, &s->resp, err);
	if (rc != NSC_OK) {
		nsc_http_response_free(&s->resp);
		return rc;
	}
	mc = curl_multi_add_handle(m->multi, s->easy);
	if (mc != CURLM_OK) {
		nsc_http_transfer_finish(&s->t, s->easy, CURLE_FAILED_INIT);
		nsc_http_response_free(&s->resp);
		return nsc_error_set(err, mc == CURLM_OUT_OF_MEMORY ? NSC_ERR_NOMEM : NSC_ERR_INTERNAL,
				     "cannot start an HTTP request: %s", curl_multi_strerror(mc));
	}
	s->tag = tag;
	s->busy = true;
	m->in_flight++;
	return NSC_OK;
}

static struct slot *slot_of(struct nsc_http_multi *m, CURL *easy)
{
	for (unsigned i = 0; i < m->nslots; i++)
		if (m->slots[i].busy && m->slots[i].easy == easy)
			return &m->slots[i];
	return NULL;
}

/* Ends the slot's transfer with rc; its answer stays in s->resp. */
static void release(struct nsc_http_multi *m, struct slot *s, CURLcode rc)
{
	curl_multi_remove_handle(m->multi, s->easy);
	nsc_http_transfer_finish(&s->t, s->easy, rc);
	s->busy = false;
	m->in_flight--;
}

/* Hands out one finished request, if libcurl has reported one. */
static bool take_done(struct nsc_http_multi *m, void **tag, struct nsc_http_response *resp)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		struct slot *s;
		CURLcode rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		s = slot_of(m, msg->easy_handle);
		if (!s)
			continue;
		rc = msg->data.result; /* msg is gone once the handle is removed */
		release(m, s, rc);
		*resp = s->resp;
		memset(&s->resp, 0, sizeof(s->resp));
		*tag = s->tag;
		s->tag = NULL;
		return true;
	}
	return false;
}

nsc_rc nsc_http_multi_next(struct nsc_http_multi *m, void **tag, struct nsc_http_response *resp,
			   struct nsc_error *err)
{
	CURLMcode mc = CURLM_OK;
	int running;

	memset(resp, 0, sizeof(*resp));
	*tag = NULL;
	if (m->in_flight == 0)
		return nsc_error_set(err, NSC_ERR_STATE, "no HTTP request is in flight");
	for (;;) {
		if (take_done(m, tag, resp))
			return NSC_OK;
		mc = curl_multi_perform(m->multi, &running);
		if (mc != CURLM_OK)
			break;
		if (take_done(m, tag, resp))
			return NSC_OK;
		mc = curl_multi_poll(m->multi, NULL, 0, POLL_MS, NULL);
		if (mc != CURLM_OK)
			break;
	}
	nsc_http_multi_abort(m);
	return nsc_error_set(err, mc == CURLM_OUT_OF_MEMORY ? NSC_ERR_NOMEM : NSC_ERR_INTERNAL,
			     "HTTP transfers failed: %s", curl_multi_strerror(mc));
}

void nsc_http_multi_abort(struct nsc_http_multi *m)
{
	for (unsigned i = 0; i < m->nslots; i++) {
		struct slot *s = &m->slots[i];

		if (!s->busy)
			continue;
		release(m, s, CURLE_ABORTED_BY_CALLBACK);
		nsc_http_response_free(&s->resp);
		s->tag = NULL;
	}
}
