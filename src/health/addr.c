/* SPDX-License-Identifier: MIT */
/* CONNECT_HTTP_LISTEN: port, IPv4:port, localhost:port or [IPv6]:port (see addr.h). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "health/addr.h"

#define NAME NSC_HEALTH_LISTEN_SETTING
#define FORMS "a port such as 9117, or HOST:PORT such as 127.0.0.1:9117, 0.0.0.0:9117 or [::1]:9117"

static nsc_rc refuse(struct nsc_error *err, const char *text, const char *why)
{
	return nsc_error_set(err, NSC_ERR_CONFIG, "%s=\"%.80s\" is not valid: %s; expected %s", NAME,
			     text, why, FORMS);
}

/* Digits only, 0..65535. */
static bool parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 5 || s[n] != '\0')
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static nsc_rc set_host(struct nsc_health_addr *out, const char *host, bool ipv6)
{
	unsigned char bin[sizeof(struct in6_addr)];
	int family = ipv6 ? AF_INET6 : AF_INET;

	if (inet_pton(family, host, bin) != 1 ||
	    !inet_ntop(family, bin, out->host, sizeof(out->host)))
		return NSC_ERR_PARSE;
	out->ipv6 = ipv6;
	if (ipv6) {
		struct in6_addr a;
		memcpy(&a, bin, sizeof(a));
		out->loopback = IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && bin[12] == 127);
	} else {
		out->loopback = bin[0] == 127;
	}
	return NSC_OK;
}

nsc_rc nsc_health_addr_parse(const char *text, struct nsc_health_addr *out, struct nsc_error *err)
{
	char host[64];
	const char *start, *port;
	size_t host_len;
	bool ipv6 = false;

	memset(out, 0, sizeof(*out));
	if (!text || text[0] == '\0')
		return nsc_error_set(err, NSC_ERR_CONFIG, "%s is empty; expected %s", NAME, FORMS);

	if (text[strspn(text, "0123456789")] == '\0') {
		if (!parse_port(text, &out->port))
			return refuse(err, text, "the port must be a number from 0 to 65535");
		return set_host(out, "127.0.0.1", false);
	}

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			return refuse(err, text, "an IPv6 address in brackets needs a port after it, as in [::1]:9117");
		ipv6 = true;
		start = text + 1;
		host_len = (size_t)(close - start);
		port = close + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon)
			return refuse(err, text, "the port is missing");
		if (memchr(text, ':', (size_t)(colon - text)))
			return refuse(err, text, "put an IPv6 address in brackets, as in [::1]:9117");
		start = text;
		host_len = (size_t)(colon - text);
		port = colon + 1;
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return refuse(err, text, host_len ? "the host is too long" : "the host is missing");
	memcpy(host, start, host_len);
	host[host_len] = '\0';

	if (!parse_port(port, &out->port))
		return refuse(err, text, "the port must be a number from 0 to 65535");
	if (!ipv6 && strcasecmp(host, "localhost") == 0)
		return set_host(out, "127.0.0.1", false);
	if (set_host(out, host, ipv6) != NSC_OK)
		return refuse(err, text,
			      ipv6 ? "the part in brackets is not an IPv6 address"
				   : "give an IP address such as 127.0.0.1, not a host name");
	return NSC_OK;
}

void nsc_health_addr_format(const struct nsc_health_addr *a, char *buf, size_t size)
{
	snprintf(buf, size, a->ipv6 ? "[%s]:%u" : "%s:%u", a->host, (unsigned)a->port);
}
