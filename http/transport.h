/* SPDX-License-Identifier: MIT */
/*
 * What every HTTP client here says about an answer that did not arrive
 * (timeout, refused, TLS, cut off, too large), and how any body is shown
 * in a message: shared by the REST outputs and the vendor client, so a
 * user reads the same words whoever they were talking to.
 *
 * Ownership & concurrency: pure functions; they only read the response.
 */
#ifndef NSC_HTTP_TRANSPORT_H
#define NSC_HTTP_TRANSPORT_H

#include <stddef.h>

#include "error.h"
#include "http/client.h"

/*
 * NSC_OK when an HTTP answer arrived (transport 0, a status); otherwise
 * NSC_ERR_RETRY (NSC_ERR_NOMEM for out of memory) with err in plain words:
 * who was talked to ("Dexcom Share", "Nightscout"), what for ("POST
 * /api/v1/entries.json", or NULL) and the setting that names the address
 * (or NULL), e.g. "cannot reach Dexcom Share (Connection refused); check
 * CONNECT_SHARE_SERVER and the network; will retry".
 */
nsc_rc nsc_http_transport_rc(const struct nsc_http_response *resp, const char *who,
			     const char *what, const char *setting, struct nsc_error *err);

/*
 * Copies at most `max` bytes of text for a message, at most size-1 bytes:
 * control characters become spaces, double quotes single ones (the text
 * goes inside a quoted log value).
 */
void nsc_http_printable(char *buf, size_t size, const char *text, size_t len, size_t max);

#endif
