/* SPDX-License-Identifier: MIT */
/*
 * RFC 4122 name-based UUIDs (version 5, SHA-1 via OpenSSL EVP) and the
 * `identifier` Nightscout API v3 derives from (device, date, eventType).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "identity.h"

/* The 16 ASCII bytes of "NightscoutRocks!" (no terminating NUL). */
static const unsigned char nightscout_ns[16] = { 'N', 'i', 'g', 'h', 't', 's', 'c', 'o',
						 'u', 't', 'R', 'o', 'c', 'k', 's', '!' };

nsc_rc nsc_uuid_v5(const unsigned char ns[16], const char *name, size_t name_len,
		   char out[NSC_UUID_BUF])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	nsc_rc rc = NSC_ERR_INTERNAL;
	EVP_MD_CTX *ctx;

	if (!out)
		return NSC_ERR_INTERNAL;
	out[0] = '\0';
	if (!ns || (!name && name_len > 0))
		return NSC_ERR_INTERNAL;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return NSC_ERR_NOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 && EVP_DigestUpdate(ctx, ns, 16) == 1 &&
	    (name_len == 0 || EVP_DigestUpdate(ctx, name, name_len) == 1) &&
	    EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= 16)
		rc = NSC_OK;
	EVP_MD_CTX_free(ctx);
	if (rc != NSC_OK)
		return rc;

	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */

	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 0x0f];
	}
	out[o] = '\0';
	return NSC_OK;
}

nsc_rc nsc_identifier_compute(const char *device, int64_t date_ms, const char *event_type,
			      char out[NSC_UUID_BUF])
{
	/* Like Nightscout's `if (doc.eventType)`: an empty eventType adds nothing. */
	bool with_event = event_type && event_type[0] != '\0';
	const char *dev = device ? device : "undefined";
	char *key;
	int n;

	if (!out)
		return NSC_ERR_INTERNAL;
	out[0] = '\0';

	n = snprintf(NULL, 0, "%s_%" PRId64 "%s%s", dev, date_ms, with_event ? "_" : "",
		     with_event ? event_type : "");
	if (n < 0)
		return NSC_ERR_INTERNAL;
	key = malloc((size_t)n + 1);
	if (!key)
		return NSC_ERR_NOMEM;
	if (snprintf(key, (size_t)n + 1, "%s_%" PRId64 "%s%s", dev, date_ms, with_event ? "_" : "",
		     with_event ? event_type : "") != n) {
		free(key);
		return NSC_ERR_INTERNAL;
	}

	nsc_rc rc = nsc_uuid_v5(nightscout_ns, key, (size_t)n, out);

	free(key);
	return rc;
}
