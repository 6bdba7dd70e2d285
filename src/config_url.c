/* SPDX-License-Identifier: MIT */
/*
 * Server URLs in settings: a bare host ("share2.dexcom.com"), host:port,
 * or an http(s) base URL with optional port and path, normalised to
 * "scheme://host[:port][/path]" with the scheme and host lower-cased and
 * trailing slashes removed. Full endpoints (CONNECT_SOURCE_ENDPOINT) need
 * the scheme and may keep a ?query. Refusals name the setting, say what is
 * wrong and give the expected form.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_internal.h"
#include "nsc_config.h"

#define ENDPOINT_FORM "a full URL like https://host[:port][/path], optionally with ?token=..."

static bool host_char(char c)
{
	return nsc_cfg_is_alpha(c) || nsc_cfg_is_digit(c) || c == '.' || c == '-' || c == '_';
}

static bool ipv6_char(char c)
{
	return nsc_cfg_hex_value(c) >= 0 || c == ':' || c == '.';
}

/*
 * Parses an http(s) URL or (when !need_scheme) a bare host[:port][/path]
 * and writes "scheme://host[:port][/path][?query]" with the host and
 * scheme lower-cased and trailing slashes of the path removed. `echo`
 * false keeps the value out of error messages (it may hold a token).
 * Declared in cfg_internal.h: config.c checks server and endpoint
 * settings with it.
 */
nsc_rc nsc_cfg_parse_http_url(const char *name, const char *value, bool need_scheme,
			      bool allow_query, bool echo, char **out, struct nsc_error *err)
{
	const char *expected = need_scheme ? ENDPOINT_FORM : NSC_CFG_SERVER_FORM;
	char why[160];
	const char *scheme = "https";
	const char *rest, *auth_end, *host, *host_end, *port_text = NULL, *path, *path_end;
	const char *query, *sep;
	unsigned long port = 0;
	size_t host_len, path_len, query_len, size;
	char *buf;

	*out = NULL;
	why[0] = '\0';
	if (!value || !*value) {
		snprintf(why, sizeof(why), "it is empty");
		goto bad;
	}
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ' ' || c == '\t') {
			snprintf(why, sizeof(why), "it contains a space");
			goto bad;
		}
		if (c < 0x21 || c > 0x7e) {
			snprintf(why, sizeof(why), "it contains a control or non-ASCII character");
			goto bad;
		}
	}

	sep = strstr(value, "://");
	if (sep) {
		size_t n = (size_t)(sep - value);
		if (n == 4 && strncasecmp(value, "http", 4) == 0) {
			scheme = "http";
		} else if (n == 5 && strncasecmp(value, "https", 5) == 0) {
			scheme = "https";
		} else {
			snprintf(why, sizeof(why),
				 "the scheme \"%.*s\" is not supported, only http and https are",
				 (int)(n > 20 ? 20 : n), value);
			goto bad;
		}
		rest = sep + 3;
	} else if (need_scheme) {
		snprintf(why, sizeof(why), "it does not start with http:// or https://");
		goto bad;
	} else {
		rest = value;
	}

	auth_end = rest + strcspn(rest, "/?#");
	if (memchr(rest, '@', (size_t)(auth_end - rest))) {
		snprintf(why, sizeof(why),
			 "it must not contain a user name or password; use the credential "
			 "settings instead");
		goto bad;
	}
	host = rest;
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(auth_end - host));
		if (!close || close == host + 1) {
			snprintf(why, sizeof(why), "the IPv6 address in brackets is incomplete");
			goto bad;
		}
		for (const char *p = host + 1; p < close; p++) {
			if (!ipv6_char(*p)) {
				snprintf(why, sizeof(why), "the IPv6 address contains '%c'", *p);
				goto bad;
			}
		}
		host_end = close + 1;
		if (host_end < auth_end) {
			if (*host_end != ':') {
				snprintf(why, sizeof(why), "unexpected text after the IPv6 address");
				goto bad;
			}
			port_text = host_end + 1;
		}
	} else {
		const char *colon = memchr(host, ':', (size_t)(auth_end - host));
		host_end = colon ? colon : auth_end;
		if (colon) {
			port_text = colon + 1;
			if (memchr(port_text, ':', (size_t)(auth_end - port_text))) {
				snprintf(why, sizeof(why),
					 "it has more than one ':' (write IPv6 addresses in "
					 "brackets)");
				goto bad;
			}
		}
		for (const char *p = host; p < host_end; p++) {
			if (!host_char(*p)) {
				snprintf(why, sizeof(why), "the host name contains '%c'", *p);
				goto bad;
			}
		}
	}
	host_len = (size_t)(host_end - host);
	if (host_len == 0) {
		snprintf(why, sizeof(why), "the host name is empty");
		goto bad;
	}
	if (port_text) {
		size_t n = (size_t)(auth_end - port_text);
		if (n == 0) {
			snprintf(why, sizeof(why), "the port after ':' is empty");
			goto bad;
		}
		for (size_t i = 0; i < n; i++) {
			if (!nsc_cfg_is_digit(port_text[i])) {
				snprintf(why, sizeof(why), "the port \"%.*s\" is not a number",
					 (int)(n > 20 ? 20 : n), port_text);
				goto bad;
			}
			if (port <= 65535)
				port = port * 10 + (unsigned long)(port_text[i] - '0');
		}
		if (port == 0 || port > 65535) {
			snprintf(why, sizeof(why), "the port %.*s is not in 1..65535",
				 (int)(n > 20 ? 20 : n), port_text);
			goto bad;
		}
	}

	path = auth_end;
	path_end = path + strcspn(path, "?#");
	query = path_end;
	if (strchr(query, '#')) {
		snprintf(why, sizeof(why), "it must not contain a #fragment");
		goto bad;
	}
	if (*query == '?' && !allow_query) {
		snprintf(why, sizeof(why), "it must not contain a ?query");
		goto bad;
	}
	while (path_end > path && path_end[-1] == '/')
		path_end--;
	path_len = (size_t)(path_end - path);
	query_len = strlen(query);

	size = strlen(scheme) + 3 + host_len + 6 + path_len + query_len + 1;
	buf = malloc(size);
	if (!buf)
		return nsc_cfg_nomem(err);
	{
		size_t at = 0;
		memcpy(buf, scheme, strlen(scheme));
		at += strlen(scheme);
		memcpy(buf + at, "://", 3);
		at += 3;
		for (size_t i = 0; i < host_len; i++)
			buf[at++] = nsc_cfg_to_lower(host[i]);
		if (port_text)
			at += (size_t)snprintf(buf + at, size - at, ":%lu", port);
		memcpy(buf + at, path, path_len);
		at += path_len;
		memcpy(buf + at, query, query_len);
		at += query_len;
		buf[at] = '\0';
	}
	*out = buf;
	return NSC_OK;
bad:
	if (echo)
		return nsc_error_set(err, NSC_ERR_CONFIG, "%s=\"%s\" is not valid: %s; expected %s",
				     name, value ? value : "", why, expected);
	return nsc_error_set(err, NSC_ERR_CONFIG, "%s is not valid: %s; expected %s", name, why,
			     expected);
}

nsc_rc nsc_config_normalize_url(const char *name, const char *value, char **out,
				struct nsc_error *err)
{
	return nsc_cfg_parse_http_url(name ? name : "URL", value, false, false, true, out, err);
}
