/* SPDX-License-Identifier: MIT */
/* HTTP status / libcurl result -> nsc_rc for the Nightscout REST outputs (see classify.h). */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "http/classify.h"
#include "http/transport.h"
#include "jsonutil.h"

#define SNIPPET_MAX 200

static void copy_printable(char *buf, size_t size, const char *s, size_t len)
{
	nsc_http_printable(buf, size, s, len, SNIPPET_MAX);
	for (size_t o = strlen(buf); o > 0 && buf[o - 1] == ' '; o--)
		buf[o - 1] = '\0';
}

void nsc_http_server_message(const struct nsc_http_response *resp, char *buf, size_t size)
{
	struct json_object *doc, *v;
	const char *msg = NULL, *desc = NULL;
	size_t skip = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (!resp->body || resp->body_len == 0)
		return;
	while (skip < resp->body_len && isspace((unsigned char)resp->body[skip]))
		skip++;
	if (skip < resp->body_len && resp->body[skip] == '<') {
		snprintf(buf, size, "(an HTML page)");
		return;
	}
	doc = nsc_json_parse(resp->body, resp->body_len);
	if (json_object_is_type(doc, json_type_object)) {
		if (json_object_object_get_ex(doc, "message", &v) &&
		    json_object_is_type(v, json_type_string))
			msg = json_object_get_string(v);
		if (json_object_object_get_ex(doc, "description", &v) &&
		    json_object_is_type(v, json_type_string))
			desc = json_object_get_string(v);
	}
	if (msg && desc && *desc) {
		char tmp[2 * SNIPPET_MAX + 8];

		snprintf(tmp, sizeof(tmp), "%.*s (%.*s)", SNIPPET_MAX, msg, SNIPPET_MAX, desc);
		copy_printable(buf, size, tmp, strlen(tmp));
	} else if (msg) {
		copy_printable(buf, size, msg, strlen(msg));
	} else {
		copy_printable(buf, size, resp->body + skip, resp->body_len - skip);
	}
	json_object_put(doc);
}

nsc_rc nsc_http_classify(enum nsc_rest_api api, const char *what,
			 const struct nsc_http_response *resp, struct nsc_error *err)
{
	char said[SNIPPET_MAX + 8];
	long st = resp->status;

	if (resp->transport != (int)CURLE_OK)
		return nsc_http_transport_rc(resp, "Nightscout", what, "CONNECT_NIGHTSCOUT_ENDPOINT", err);
	if (st >= 200 && st < 300) {
		nsc_error_clear(err);
		return NSC_OK;
	}
	nsc_http_server_message(resp, said, sizeof(said));
	if (!said[0])
		snprintf(said, sizeof(said), "no message");

	if (st >= 300 && st < 400)
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "Nightscout answered %ld (a redirect) to %s; set "
				     "CONNECT_NIGHTSCOUT_ENDPOINT to the address the site "
				     "redirects to (usually its https:// URL)",
				     st, what);
	if (st == 401 || st == 403) {
		if (api == NSC_REST_V3)
			return nsc_error_set(err, NSC_ERR_AUTH, "Nightscout answered %ld to %s: %s",
					     st, what, said);
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "Nightscout refused CONNECT_API_SECRET / "
				     "CONNECT_NIGHTSCOUT_TOKEN: %ld %s (%s); check that "
				     "CONNECT_API_SECRET is the site's API_SECRET, or that the "
				     "token's subject has a role that may read and create this "
				     "collection; the data stays spooled",
				     st, said, what);
	}
	if (st == 404)
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "Nightscout answered 404 to %s: %s; check that "
				     "CONNECT_NIGHTSCOUT_ENDPOINT is the site's base URL; will retry",
				     what, said);
	if (st == 408 || st == 429)
		return nsc_error_set(err, NSC_ERR_RETRY, "Nightscout is busy: %ld %s to %s; will retry",
				     st, said, what);
	if (st >= 400 && st < 500)
		return nsc_error_set(err, NSC_ERR_DROP, "Nightscout refused %s: %ld %s", what, st,
				     said);
	if (st >= 500 && st < 600)
		return nsc_error_set(err, NSC_ERR_RETRY, "Nightscout failed: %ld %s to %s; will retry",
				     st, said, what);
	return nsc_error_set(err, NSC_ERR_RETRY, "Nightscout gave an unexpected answer %ld to %s; "
				     "will retry", st, what);
}
