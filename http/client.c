/* SPDX-License-Identifier: MIT */
/* A blocking HTTP request helper over one reused libcurl easy handle (see client.h). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http/client.h"
#include "strbuf.h"

struct nsc_http_client {
	CURL *easy; /* reused: its connection cache gives keep-alive */
	long connect_ms;
	long total_ms;
	size_t max_response;
};

struct sink {
	struct nsc_http_response *resp;
	size_t cap;
	size_t max;
};

struct nsc_http_client *nsc_http_client_new(void)
{
	struct nsc_http_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->easy = curl_easy_init();
	if (!c->easy) {
		free(c);
		return NULL;
	}
	c->connect_ms = NSC_HTTP_CONNECT_TIMEOUT_MS;
	c->total_ms = NSC_HTTP_TIMEOUT_MS;
	c->max_response = NSC_HTTP_MAX_RESPONSE;
	return c;
}

void nsc_http_client_free(struct nsc_http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->easy);
	free(c);
}

void nsc_http_client_set_timeouts(struct nsc_http_client *c, long connect_ms, long total_ms)
{
	if (connect_ms > 0)
		c->connect_ms = connect_ms;
	if (total_ms > 0)
		c->total_ms = total_ms;
}

char *nsc_http_escape(struct nsc_http_client *c, const char *s)
{
	char *e = curl_easy_escape(c->easy, s, 0);
	char *out;

	if (!e)
		return NULL;
	out = strdup(e); /* callers free() it, not curl_free() */
	curl_free(e);
	return out;
}

void nsc_http_response_free(struct nsc_http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	struct nsc_http_response *r = s->resp;
	size_t n = size * nmemb;

	if (nmemb != 0 && n / nmemb != size)
		return 0;
	if (n > s->max - r->body_len) {
		r->too_large = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	/* The response owns the text; the sink only remembers its capacity. */
	struct nsc_strbuf buf = { .p = r->body, .len = r->body_len, .cap = s->cap };
	if (nsc_strbuf_append(&buf, data, n) != NSC_OK)
		return 0;
	r->body = buf.p;
	r->body_len = buf.len;
	s->cap = buf.cap;
	return n;
}

/* Builds the header list; NULL on allocation failure. */
static struct curl_slist *make_headers(const char *const *headers, bool has_body)
{
	static const char *const fixed[] = { "Accept: application/json", "Expect:" };
	struct curl_slist *list = NULL, *next;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		next = curl_slist_append(list, fixed[i]);
		if (!next)
			goto fail;
		list = next;
	}
	if (has_body) {
		next = curl_slist_append(list, "Content-Type: application/json");
		if (!next)
			goto fail;
		list = next;
	}
	for (size_t i = 0; headers && headers[i]; i++) {
		next = curl_slist_append(list, headers[i]);
		if (!next)
			goto fail;
		list = next;
	}
	return list;
fail:
	curl_slist_free_all(list);
	return NULL;
}

nsc_rc nsc_http_request(struct nsc_http_client *c, const char *method, const char *url,
			const char *const *headers, const char *body, size_t body_len,
			struct nsc_http_response *resp, struct nsc_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	struct sink sink = { .resp = resp, .cap = 1, .max = c->max_response };
	struct curl_slist *list;
	CURLcode ok = CURLE_OK, rc;
	long status = 0;

	memset(resp, 0, sizeof(*resp));
	resp->body = calloc(1, 1);
	if (!resp->body)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory for an HTTP response");
	list = make_headers(headers, body != NULL);
	if (!list)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory for HTTP headers");
	errbuf[0] = '\0';

	/* reset keeps the connection cache, so the next request reuses the connection. */
	curl_easy_reset(c->easy);
#define SET(opt, val)                                            \
	do {                                                     \
		if (ok == CURLE_OK)                              \
			ok = curl_easy_setopt(c->easy, opt, val); \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	SET(CURLOPT_TIMEOUT_MS, c->total_ms);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_USERAGENT, "nsconnect/" PACKAGE_VERSION);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_HTTPHEADER, list);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, &sink);
	if (strcmp(method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(method, "POST") == 0)
			SET(CURLOPT_POST, 1L);
		else
			SET(CURLOPT_CUSTOMREQUEST, method);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
		SET(CURLOPT_POSTFIELDS, body ? body : "");
	}
#undef SET
	if (ok != CURLE_OK) {
		curl_slist_free_all(list);
		return nsc_error_set(err, NSC_ERR_INTERNAL, "cannot set up an HTTP request: %s",
				     curl_easy_strerror(ok));
	}

	rc = curl_easy_perform(c->easy);
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	/* The handle must not keep pointers to our stack or list past this call. */
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(list);

	resp->transport = (int)rc;
	resp->status = status;
	if (rc != CURLE_OK)
		snprintf(resp->transport_msg, sizeof(resp->transport_msg), "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return NSC_OK;
}
