/* SPDX-License-Identifier: MIT */
/* One HTTP transfer on an easy handle: policy, headers, capped body (see transfer.h). */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/transfer.h"
#include "secret.h"
#include "strbuf.h"

void nsc_http_limits_init(struct nsc_http_limits *l)
{
	l->connect_ms = NSC_HTTP_CONNECT_TIMEOUT_MS;
	l->total_ms = NSC_HTTP_TIMEOUT_MS;
	l->max_response = NSC_HTTP_MAX_RESPONSE;
}

void nsc_http_limits_set_timeouts(struct nsc_http_limits *l, long connect_ms, long total_ms)
{
	if (connect_ms > 0)
		l->connect_ms = connect_ms;
	if (total_ms > 0)
		l->total_ms = total_ms;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct nsc_http_transfer *t = userdata;
	struct nsc_http_response *r = t->resp;
	size_t n = size * nmemb;

	if (nmemb != 0 && n / nmemb != size)
		return 0;
	if (n > t->max - r->body_len) {
		r->too_large = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	/* The response owns the text; the transfer only remembers its capacity. */
	struct nsc_strbuf buf = { .p = r->body, .len = r->body_len, .cap = t->cap };
	if (nsc_strbuf_append(&buf, data, n) != NSC_OK)
		return 0;
	r->body = buf.p;
	r->body_len = buf.len;
	t->cap = buf.cap;
	return n;
}

/* True when one of the caller's "Name: value" lines has the name of `line`. */
static bool caller_sets(const char *const *headers, const char *line)
{
	size_t n = strcspn(line, ":");

	for (size_t i = 0; headers && headers[i]; i++)
		if (strncasecmp(headers[i], line, n) == 0 && headers[i][n] == ':')
			return true;
	return false;
}

/* Builds the header list; the caller's lines replace ours of the same name. NULL on allocation failure. */
static struct curl_slist *make_headers(const char *const *headers, bool has_body)
{
	static const char *const fixed[] = { "Accept: application/json", "Expect:" };
	static const char json_body[] = "Content-Type: application/json";
	struct curl_slist *list = NULL, *next;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (caller_sets(headers, fixed[i]))
			continue;
		next = curl_slist_append(list, fixed[i]);
		if (!next)
			goto fail;
		list = next;
	}
	if (has_body && !caller_sets(headers, json_body)) {
		next = curl_slist_append(list, json_body);
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

/* Retry-After in its seconds form; the HTTP-date form is rare for these APIs and ignored. */
static void parse_retry_after(struct nsc_http_response *r, const char *v, size_t len)
{
	int64_t secs = 0;
	size_t i = 0;

	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i == len || !isdigit((unsigned char)v[i]))
		return;
	for (; i < len && isdigit((unsigned char)v[i]); i++) {
		secs = secs * 10 + (v[i] - '0');
		if (secs > NSC_HTTP_MAX_RETRY_AFTER_S)
			secs = NSC_HTTP_MAX_RETRY_AFTER_S;
	}
	r->retry_after_ms = secs * 1000;
}

/* The value of a header line if it has `name` ("retry-after:"), trimmed; NULL otherwise. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *len)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0)
		return NULL;
	const char *v = line + k;
	size_t l = n - k;
	while (l && (*v == ' ' || *v == '\t')) {
		v++;
		l--;
	}
	while (l && (v[l - 1] == '\r' || v[l - 1] == '\n' || v[l - 1] == ' '))
		l--;
	*len = l;
	return v;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct nsc_http_transfer *t = userdata;
	struct nsc_http_response *r = t->resp;
	size_t n = size * nmemb, len;
	const char *v;

	if ((v = header_value(data, n, "retry-after:", &len)) != NULL) {
		parse_retry_after(r, v, len);
	} else if ((v = header_value(data, n, "content-type:", &len)) != NULL) {
		if (len >= sizeof(r->content_type))
			len = sizeof(r->content_type) - 1;
		memcpy(r->content_type, v, len);
		r->content_type[len] = '\0';
	} else if ((v = header_value(data, n, "set-cookie:", &len)) != NULL &&
		   r->set_cookie_count < NSC_HTTP_MAX_SET_COOKIES) {
		char *c = strndup(v, len);
		if (c == NULL)
			return 0; /* aborts the transfer: out of memory */
		r->set_cookie[r->set_cookie_count++] = c;
	}
	return n;
}

/* The handle must not keep pointers to t or its list once they are gone. */
static void detach(struct nsc_http_transfer *t, CURL *easy)
{
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, NULL);
	/* Header lines carry secrets and bearer tokens. */
	for (struct curl_slist *h = t->headers; h; h = h->next)
		nsc_secret_wipe(h->data, strlen(h->data));
	curl_slist_free_all(t->headers);
	t->headers = NULL;
}

nsc_rc nsc_http_transfer_setup(struct nsc_http_transfer *t, CURL *easy,
			       const struct nsc_http_limits *lim, const char *method,
			       const char *url, const char *const *headers, const char *body,
			       size_t body_len, struct nsc_http_response *resp,
			       struct nsc_error *err)
{
	CURLcode ok = CURLE_OK;

	memset(t, 0, sizeof(*t));
	memset(resp, 0, sizeof(*resp));
	t->resp = resp;
	t->cap = 1;
	t->max = lim->max_response;
	resp->retry_after_ms = -1;
	resp->body = calloc(1, 1);
	if (!resp->body)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory for an HTTP response");
	t->headers = make_headers(headers, body != NULL);
	if (!t->headers)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory for HTTP headers");

	/* reset keeps the connection cache, so the next request reuses the connection. */
	curl_easy_reset(easy);
#define SET(opt, val)                                          \
	do {                                                   \
		if (ok == CURLE_OK)                            \
			ok = curl_easy_setopt(easy, opt, val); \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, lim->connect_ms);
	SET(CURLOPT_TIMEOUT_MS, lim->total_ms);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_USERAGENT, "nsconnect/" PACKAGE_VERSION);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_HTTPHEADER, t->headers);
	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, t);
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
		detach(t, easy);
		return nsc_error_set(err, NSC_ERR_INTERNAL, "cannot set up an HTTP request: %s",
				     curl_easy_strerror(ok));
	}
	return NSC_OK;
}

void nsc_http_transfer_finish(struct nsc_http_transfer *t, CURL *easy, CURLcode rc)
{
	struct nsc_http_response *resp = t->resp;
	curl_off_t us = 0;
	long status = 0;

	if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us) != CURLE_OK)
		us = 0;
	detach(t, easy);
	resp->transport = (int)rc;
	resp->status = status;
	resp->elapsed_ms = (long)(us / 1000);
	if (rc != CURLE_OK)
		snprintf(resp->transport_msg, sizeof(resp->transport_msg), "%s",
			 t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
}
