/* SPDX-License-Identifier: MIT */
/*
 * The address the health listener binds, from the setting
 * CONNECT_HTTP_LISTEN: a port alone ("9117", then 127.0.0.1: loopback is
 * the default), HOST:PORT with an IPv4 literal or "localhost", or
 * [IPv6]:PORT. Port 0 picks a free port (tests). Host names other than
 * localhost are refused: binding must not depend on name resolution.
 */
#ifndef NSC_HEALTH_ADDR_H
#define NSC_HEALTH_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define NSC_HEALTH_LISTEN_SETTING "CONNECT_HTTP_LISTEN"

struct nsc_health_addr {
	char host[64]; /* the IP literal in canonical form, IPv6 without brackets */
	uint16_t port;
	bool ipv6;
	bool loopback; /* 127.0.0.0/8, ::1 (and ::ffff:127.0.0.0/104) */
};

/* NSC_ERR_CONFIG with a message starting "CONNECT_HTTP_LISTEN" that says the expected form. */
nsc_rc nsc_health_addr_parse(const char *text, struct nsc_health_addr *out, struct nsc_error *err);

/* "HOST:PORT", "[HOST]:PORT" for IPv6; this size always suffices. */
#define NSC_HEALTH_ADDR_TEXT_MAX 80
void nsc_health_addr_format(const struct nsc_health_addr *a, char *buf, size_t size);

#endif
