/* SPDX-License-Identifier: MIT */
/* DNS, TCP and TLS to one server (see net_check.h). */
#include "config.h"

#include <string.h>

#include <curl/curl.h>

#include "doctor/net_check.h"

/* scheme://host[:port] of url (never its path or query, which may hold a token). */
static void origin_of(const char *url, char *out, size_t size)
{
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	size_t n = (size_t)(host - url) + strcspn(host, "/?#");
	const char *at = memchr(host, '@', n - (size_t)(host - url));
	if (at) { /* user:password@ is a credential */
		snprintf(out, size, "%.*s%.*s", (int)(host - url), url, (int)(n - (size_t)(at + 1 - url)), at + 1);
		return;
	}
	snprintf(out, size, "%.*s", (int)n, url);
}

bool nsc_doctor_check_server(struct nsc_diag *d, const char *what, const char *url, const char *setting,
			     long timeout_ms)
{
	char origin[300], fix[300];
	origin_of(url, origin, sizeof(origin));
	bool tls = strncmp(origin, "https://", 8) == 0;
	CURL *h = curl_easy_init();
	if (h == NULL) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, what, NULL, "out of memory");
		return false;
	}
	char errbuf[CURL_ERROR_SIZE] = "";
	bool set = curl_easy_setopt(h, CURLOPT_URL, origin) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
	CURLcode rc = set ? curl_easy_perform(h) : CURLE_FAILED_INIT;
	char *ip = NULL;
	long port = 0;
	double connect_s = 0, tls_s = 0;
	(void)curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip);
	(void)curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port);
	(void)curl_easy_getinfo(h, CURLINFO_CONNECT_TIME, &connect_s);
	(void)curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &tls_s);
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	bool ok = false;
	switch (rc) {
	case CURLE_OK:
		nsc_diag_say(d, NSC_DIAG_OK, what, NULL, "%s: name resolves to %s, TCP port %ld open in %.0f ms%s",
			     origin, ip && *ip ? ip : "?", port, connect_s * 1000,
			     tls ? ", TLS handshake and certificate good" : " (plain http, no TLS)");
		ok = true;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(fix, sizeof(fix), "check the host name in %s (or the region setting), and this machine's DNS",
			 setting);
		nsc_diag_say(d, NSC_DIAG_PROBLEM, what, fix, "%s: DNS cannot resolve the name (%s)", origin, why);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
		if (rc == CURLE_OPERATION_TIMEDOUT && tls && connect_s > 0) {
			nsc_diag_say(d, NSC_DIAG_PROBLEM, what, "check that nothing between here and the server intercepts HTTPS",
				     "%s: TCP connects but the TLS handshake does not finish (%s)", origin, why);
			break;
		}
		snprintf(fix, sizeof(fix), "check %s's host and port, and that a firewall lets this machine reach it",
			 setting);
		nsc_diag_say(d, NSC_DIAG_PROBLEM, what, fix, "%s: TCP connection to %s fails (%s)", origin,
			     ip && *ip ? ip : "the server", why);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		nsc_diag_say(d, NSC_DIAG_PROBLEM, what,
			     "install the ca-certificates package, set the clock right, or check that nothing "
			     "intercepts HTTPS; a self-signed server is not trusted",
			     "%s: the server's TLS certificate is not trusted (%s)", origin, why);
		break;
	default:
		if (tls) {
			snprintf(fix, sizeof(fix), "check that %s names the server's https address (not an http port)",
				 setting);
			nsc_diag_say(d, NSC_DIAG_PROBLEM, what, fix, "%s: TCP connects, the TLS handshake fails (%s)",
				     origin, why);
		} else {
			nsc_diag_say(d, NSC_DIAG_PROBLEM, what, NULL, "%s: %s", origin, why);
		}
		break;
	}
	(void)tls_s;
	curl_easy_cleanup(h);
	return ok;
}
