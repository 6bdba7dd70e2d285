/* SPDX-License-Identifier: MIT */
/*
 * doctor's network check of one server: the name resolves (DNS), a TCP
 * connection opens, and for https the TLS handshake completes with a
 * certificate this machine trusts. One libcurl connection that stops
 * after connecting (no request is sent), so what failed is told apart by
 * libcurl's code; `setting` is the one to fix in the message.
 */
#ifndef NSC_DOCTOR_NET_CHECK_H
#define NSC_DOCTOR_NET_CHECK_H

#include <stdbool.h>

#include "diag.h"

/* True when the server can be reached (each step said). timeout_ms bounds it. */
bool nsc_doctor_check_server(struct nsc_diag *d, const char *what, const char *url, const char *setting,
			     long timeout_ms);

#endif
