/* SPDX-License-Identifier: MIT */
/* Transport failures in plain words, and printable excerpts (see transport.h). */
#include "config.h"

#include <stdio.h>

#include <curl/curl.h>

#include "http/transport.h"

void nsc_http_printable(char *buf, size_t size, const char *text, size_t len, size_t max)
{
	size_t o = 0;

	if (size == 0)
		return;
	if (text == NULL)
		len = 0;
	if (len > max)
		len = max;
	for (size_t i = 0; i < len && o + 1 < size; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '"')
			buf[o++] = '\'';
		else
			buf[o++] = (ch < 0x20 || ch >= 0x7f) ? ' ' : (char)ch;
	}
	buf[o] = '\0';
}

nsc_rc nsc_http_transport_rc(const struct nsc_http_response *resp, const char *who,
			     const char *what, const char *setting, struct nsc_error *err)
{
	if (resp->transport == (int)CURLE_OK && resp->status > 0)
		return NSC_OK;
	const char *said = resp->transport_msg[0] ? resp->transport_msg
						   : curl_easy_strerror((CURLcode)resp->transport);
	char part[160] = "";
	if (what != NULL)
		snprintf(part, sizeof(part), " for %s", what);

	switch ((CURLcode)resp->transport) {
	case CURLE_OPERATION_TIMEDOUT:
		return nsc_error_set(err, NSC_ERR_RETRY, "%s did not answer in time%s (%s); will retry",
				     who, part, said);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return nsc_error_set(err, NSC_ERR_RETRY, "cannot reach %s%s (%s); check %s%s; will retry",
				     who, part, said, setting ? setting : "the address",
				     " and the network");
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "TLS with %s failed%s (%s); check the site's certificate; will retry",
				     who, part, said);
	case CURLE_WRITE_ERROR:
		if (resp->too_large)
			return nsc_error_set(err, NSC_ERR_RETRY,
					     "the answer of %s%s is larger than nsconnect accepts; will retry",
					     who, part);
		break;
	case CURLE_OUT_OF_MEMORY:
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory talking to %s%s", who, part);
	default:
		break;
	}
	return nsc_error_set(err, NSC_ERR_RETRY, "the connection to %s failed%s (%s); will retry", who,
			     part, said);
}
