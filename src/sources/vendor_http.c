/* SPDX-License-Identifier: MIT */
/* One asynchronous vendor HTTP request on the loop (see vendor_http.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sources/vendor_http.h"
#include "strbuf.h"
#include "secret.h"

/* Answers and requests may carry tokens and passwords: wiped before they are freed. */
static void reset_response(struct nsc_vendor_response *r)
{
	nsc_secret_free(r->body);
	memset(r, 0, sizeof(*r));
	r->retry_after_ms = -1;
}

static void release(struct nsc_vendor_call *c)
{
	if (c->transfer.easy) {
		curl_easy_cleanup(c->transfer.easy);
		c->transfer.easy = NULL;
	}
	for (struct curl_slist *h = c->headers; h; h = h->next)
		nsc_secret_wipe(h->data, strlen(h->data));
	curl_slist_free_all(c->headers);
	c->headers = NULL;
	nsc_secret_free(c->request_body);
	c->request_body = NULL;
	c->running = false;
}

void nsc_vendor_call_init(struct nsc_vendor_call *c, struct nsc_loop *loop)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->resp.retry_after_ms = -1;
}

void nsc_vendor_call_cancel(struct nsc_vendor_call *c)
{
	if (!c->running)
		return;
	nsc_loop_transfer_abort(c->loop, &c->transfer);
	release(c);
	reset_response(&c->resp);
}

void nsc_vendor_call_fini(struct nsc_vendor_call *c)
{
	nsc_vendor_call_cancel(c);
	release(c);
	reset_response(&c->resp);
}

bool nsc_vendor_call_running(const struct nsc_vendor_call *c)
{
	return c->running;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct nsc_vendor_call *c = userp;
	size_t n = size * nmemb;
	struct nsc_vendor_response *r = &c->resp;
	if (n > NSC_VENDOR_MAX_BODY - r->body_len) {
		c->overflow = true;
		return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
	}
	struct nsc_strbuf buf = { .p = r->body, .len = r->body_len, .cap = c->body_cap };
	if (nsc_strbuf_append(&buf, data, n) != NSC_OK)
		return 0;
	r->body = buf.p;
	r->body_len = buf.len;
	c->body_cap = buf.cap;
	return n;
}

/* Retry-After in its seconds form; the HTTP-date form is rare for these APIs and ignored. */
static void parse_retry_after(struct nsc_vendor_response *r, const char *value, size_t len)
{
	int64_t secs = 0;
	size_t i = 0;
	while (i < len && (value[i] == ' ' || value[i] == '\t'))
		i++;
	if (i == len || !isdigit((unsigned char)value[i]))
		return;
	for (; i < len && isdigit((unsigned char)value[i]); i++) {
		secs = secs * 10 + (value[i] - '0');
		if (secs > 7 * 24 * 3600)
			secs = 7 * 24 * 3600; /* a week is as long as we will honour */
	}
	r->retry_after_ms = secs * 1000;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct nsc_vendor_call *c = userp;
	size_t n = size * nmemb;
	static const char retry[] = "retry-after:";
	static const char ctype[] = "content-type:";
	if (n > sizeof(retry) - 1 && strncasecmp(data, retry, sizeof(retry) - 1) == 0) {
		parse_retry_after(&c->resp, data + sizeof(retry) - 1, n - (sizeof(retry) - 1));
	} else if (n > sizeof(ctype) - 1 && strncasecmp(data, ctype, sizeof(ctype) - 1) == 0) {
		const char *v = data + sizeof(ctype) - 1;
		size_t len = n - (sizeof(ctype) - 1);
		while (len && (*v == ' ' || *v == '\t')) {
			v++;
			len--;
		}
		while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len >= sizeof(c->resp.content_type))
			len = sizeof(c->resp.content_type) - 1;
		memcpy(c->resp.content_type, v, len);
		c->resp.content_type[len] = '\0';
	}
	return n;
}

static void on_transfer_done(struct nsc_loop_transfer *t, CURLcode result)
{
	struct nsc_vendor_call *c = (struct nsc_vendor_call *)t; /* transfer is the first member */
	struct nsc_vendor_response *r = &c->resp;
	r->transport = result;
	if (c->overflow) {
		r->transport = CURLE_FILESIZE_EXCEEDED;
		snprintf(r->transport_error, sizeof(r->transport_error),
			 "the answer is larger than %u MiB", NSC_VENDOR_MAX_BODY / (1024u * 1024u));
	} else if (result != CURLE_OK && r->transport_error[0] == '\0') {
		snprintf(r->transport_error, sizeof(r->transport_error), "%s", curl_easy_strerror(result));
	}
	if (result == CURLE_OK && !c->overflow)
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
	else
		r->status = 0;
	curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &r->elapsed_s);
	if (!r->body) {
		r->body = calloc(1, 1);
		r->body_len = 0;
	}
	nsc_vendor_done_fn done = c->done;
	void *arg = c->arg;
	/* Free the handle first: done() may start the next request on this call. */
	release(c);
	struct nsc_vendor_response resp = *r;
	memset(r, 0, sizeof(*r));
	r->retry_after_ms = -1;
	c->body_cap = 0;
	if (resp.body == NULL) {
		/* Out of memory for an empty body: report it as a transport failure. */
		resp.transport = CURLE_OUT_OF_MEMORY;
		resp.status = 0;
		snprintf(resp.transport_error, sizeof(resp.transport_error), "out of memory");
		static char empty[1];
		resp.body = empty;
		if (done)
			done(arg, &resp);
		return;
	}
	if (done)
		done(arg, &resp);
	nsc_secret_wipe(resp.body, resp.body_len);
	free(resp.body);
}

#define SETOPT(h, o, v)                                  \
	do {                                             \
		if (curl_easy_setopt((h), (o), (v)) != CURLE_OK) \
			goto setopt_failed;              \
	} while (0)

nsc_rc nsc_vendor_call_start(struct nsc_vendor_call *c, const struct nsc_vendor_request *rq,
			     nsc_vendor_done_fn done, void *arg, struct nsc_error *err)
{
	if (c->running)
		return nsc_error_set(err, NSC_ERR_STATE, "a request is already running");
	reset_response(&c->resp);
	c->body_cap = 0;
	c->overflow = false;
	CURL *h = curl_easy_init();
	if (!h)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory starting a request");
	c->transfer.easy = h;
	c->transfer.done = on_transfer_done;
	for (size_t i = 0; i < NSC_VENDOR_MAX_HEADERS && rq->headers[i]; i++) {
		struct curl_slist *l = curl_slist_append(c->headers, rq->headers[i]);
		if (!l) {
			release(c);
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory starting a request");
		}
		c->headers = l;
	}
	/* curl adds "Expect: 100-continue" to larger POSTs; vendors do not expect it. */
	struct curl_slist *l = curl_slist_append(c->headers, "Expect:");
	if (!l) {
		release(c);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory starting a request");
	}
	c->headers = l;
	long timeout = rq->timeout_ms > 0 ? rq->timeout_ms : NSC_VENDOR_TIMEOUT_MS;
	long connect_timeout = timeout < NSC_VENDOR_CONNECT_TIMEOUT_MS ? timeout : NSC_VENDOR_CONNECT_TIMEOUT_MS;

	SETOPT(h, CURLOPT_URL, rq->url);
	SETOPT(h, CURLOPT_HTTPHEADER, c->headers);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_TIMEOUT_MS, timeout);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
	SETOPT(h, CURLOPT_ACCEPT_ENCODING, ""); /* whatever this libcurl can decode */
	SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(h, CURLOPT_WRITEDATA, c);
	SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(h, CURLOPT_HEADERDATA, c);
	SETOPT(h, CURLOPT_ERRORBUFFER, c->resp.transport_error);
	/* Only http and https, whatever a configured server or a vendor's answer names. */
#if LIBCURL_VERSION_NUM >= 0x075500 /* CURLOPT_PROTOCOLS_STR is an enum value, not a macro */
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (strcmp(rq->method, "POST") == 0) {
		size_t len = rq->body ? rq->body_len : 0;
		c->request_body = malloc(len + 1);
		if (!c->request_body) {
			release(c);
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory starting a request");
		}
		if (len)
			memcpy(c->request_body, rq->body, len);
		c->request_body[len] = '\0';
		SETOPT(h, CURLOPT_POST, 1L);
		SETOPT(h, CURLOPT_POSTFIELDS, c->request_body);
		SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(rq->method, "GET") == 0) {
		SETOPT(h, CURLOPT_HTTPGET, 1L);
	} else {
		release(c);
		return nsc_error_set(err, NSC_ERR_INTERNAL, "unsupported method %s", rq->method);
	}
	c->done = done;
	c->arg = arg;
	c->running = true;
	if (nsc_loop_transfer_start(c->loop, &c->transfer) != NSC_OK) {
		release(c);
		return nsc_error_set(err, NSC_ERR_INTERNAL, "cannot start the request");
	}
	return NSC_OK;

setopt_failed:
	release(c);
	return nsc_error_set(err, NSC_ERR_INTERNAL, "cannot set up the request");
}

nsc_rc nsc_vendor_transport_rc(const struct nsc_vendor_response *resp, const char *who,
			       struct nsc_error *err)
{
	if (resp->transport == CURLE_OK && resp->status > 0)
		return NSC_OK;
	const char *what = resp->transport_error[0] ? resp->transport_error
						    : curl_easy_strerror(resp->transport);
	switch (resp->transport) {
	case CURLE_OPERATION_TIMEDOUT:
		return nsc_error_set(err, NSC_ERR_RETRY, "%s did not answer in time (%s)", who, what);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return nsc_error_set(err, NSC_ERR_RETRY, "cannot reach %s (%s)", who, what);
	case CURLE_OUT_OF_MEMORY:
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory talking to %s", who);
	default:
		return nsc_error_set(err, NSC_ERR_RETRY, "the connection to %s failed (%s)", who, what);
	}
}

void nsc_vendor_body_excerpt(const struct nsc_vendor_response *resp, char *buf, size_t size)
{
	size_t j = 0;
	if (size == 0)
		return;
	for (size_t i = 0; resp->body && i < resp->body_len && j + 1 < size; i++) {
		unsigned char ch = (unsigned char)resp->body[i];
		buf[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
	}
	buf[j] = '\0';
}
