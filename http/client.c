/* SPDX-License-Identifier: MIT */
/* A blocking HTTP request helper over one reused libcurl easy handle (see client.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http/client.h"
#include "http/transfer.h"
#include "secret.h"

struct nsc_http_client {
	CURL *easy; /* reused: its connection cache gives keep-alive */
	struct nsc_http_limits lim;
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
	nsc_http_limits_init(&c->lim);
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
	nsc_http_limits_set_timeouts(&c->lim, connect_ms, total_ms);
}

char *nsc_http_escape(struct nsc_http_client *c, const char *s)
{
	char *e = curl_easy_escape(c ? c->easy : NULL, s, 0);
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
	/* Answers may carry tokens and session cookies. */
	if (resp->body)
		nsc_secret_wipe(resp->body, resp->body_len);
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	for (size_t i = 0; i < resp->set_cookie_count; i++) {
		nsc_secret_free(resp->set_cookie[i]);
		resp->set_cookie[i] = NULL;
	}
	resp->set_cookie_count = 0;
}

nsc_rc nsc_http_request(struct nsc_http_client *c, const char *method, const char *url,
			const char *const *headers, const char *body, size_t body_len,
			struct nsc_http_response *resp, struct nsc_error *err)
{
	struct nsc_http_transfer t;
	nsc_rc rc = nsc_http_transfer_setup(&t, c->easy, &c->lim, method, url, headers, body,
					    body_len, resp, err);

	if (rc != NSC_OK)
		return rc;
	nsc_http_transfer_finish(&t, c->easy, curl_easy_perform(c->easy));
	return NSC_OK;
}
