/* SPDX-License-Identifier: MIT */
/* SHA-1 hex of the Nightscout API secret via libcrypto's EVP interface (see auth.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http/auth.h"

nsc_rc nsc_http_sha1_hex(const char *secret, char out[NSC_SHA1_HEX_BUF], struct nsc_error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (!secret)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "no API secret to hash");
	if (EVP_Digest(secret, strlen(secret), md, &n, EVP_sha1(), NULL) != 1 || n != 20)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "SHA-1 of the API secret failed");
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[2 * n] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return NSC_OK;
}
