/* SPDX-License-Identifier: MIT */
/* One HTTP request for a simulator's tests (see curl_reply.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_reply.h"
#include "nsc_check.h"

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct curl_reply *r = arg;
	size_t add = size * n;
	char *p = realloc(r->body, r->len + add + 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p + r->len, data, add);
	r->len += add;
	p[r->len] = '\0';
	r->body = p;
	return add;
}

/* Copies the value of header `name` from a "Name: value\r\n" line. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	const char *v = line + n + 1;
	size_t vlen = len - n - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
		vlen--;
	snprintf(out, size, "%.*s", (int)vlen, v);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct curl_reply *r = arg;
	header_value(data, size * n, "Location", r->location, sizeof(r->location));
	header_value(data, size * n, "Set-Cookie", r->set_cookie, sizeof(r->set_cookie));
	header_value(data, size * n, "Retry-After", r->retry_after, sizeof(r->retry_after));
	header_value(data, size * n, "Content-Type", r->content_type, sizeof(r->content_type));
	header_value(data, size * n, "Allow", r->allow, sizeof(r->allow));
	return size * n;
}

void curl_reply_perform(CURL *c, struct curl_slist *h, const char *url, const char *body, struct curl_reply *r)
{
	memset(r, 0, sizeof(*r));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	if (!r->body) {
		r->body = calloc(1, 1);
		ck_assert_ptr_nonnull(r->body);
	}
}
