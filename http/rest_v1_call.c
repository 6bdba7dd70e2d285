/* SPDX-License-Identifier: MIT */
/*
 * One REST v1 request, classified (rest_v1.h): what the v1 backend's write
 * (rest_v1.c) and its lookup of held documents (rest_v1_held.c) both send.
 */
#include "config.h"

#include "jsonutil.h"
#include "http/rest_v1.h"

nsc_rc nsc_rest_v1_call(struct nsc_rest *r, const char *what, const char *method,
			const char *path, const char *query, const char *body, size_t len,
			struct nsc_http_response *resp, struct nsc_error *err)
{
	nsc_rc rc = nsc_rest_call(r, what, method, path, query, NULL, body, len, resp, err);

	if (rc == NSC_OK)
		rc = nsc_http_classify(NSC_REST_V1, what, resp, err);
	if (rc != NSC_OK && resp->transport == 0 && (resp->status == 401 || resp->status == 403))
		nsc_err(r->log, NSC_REST_COMP, "event=auth_refused api=v1 status=%ld msg=\"%s\"",
			resp->status, err->msg);
	return rc;
}

nsc_rc nsc_rest_v1_call_docs(struct nsc_rest *r, const char *what, const char *method,
			     const char *path, const char *query, const char *body, size_t len,
			     const char *unlike, struct json_object **docs, struct nsc_error *err)
{
	struct nsc_http_response resp;
	nsc_rc rc = nsc_rest_v1_call(r, what, method, path, query, body, len, &resp, err);

	*docs = rc == NSC_OK ? nsc_json_parse(resp.body, resp.body_len) : NULL;
	nsc_http_response_free(&resp);
	if (rc != NSC_OK)
		return rc;
	if (!json_object_is_type(*docs, json_type_array)) {
		json_object_put(*docs);
		*docs = NULL;
		return nsc_error_set(err, NSC_ERR_RETRY, "Nightscout answered %s %s; will retry", what,
				     unlike);
	}
	return NSC_OK;
}
