/* SPDX-License-Identifier: MIT */
/*
 * One HTTP request from a simulator's own tests, through libcurl and not
 * the project's client (so a simulator is checked independently of the
 * code it serves): the status, the whole body, and the headers those
 * tests read. Failures are Check assertions.
 */
#ifndef NSC_TESTS_CURL_REPLY_H
#define NSC_TESTS_CURL_REPLY_H

#include <stddef.h>

#include <curl/curl.h>

struct curl_reply {
	long status;
	char *body; /* NUL-terminated, never NULL after curl_reply_perform; the caller frees it */
	size_t len;
	char location[512];
	char set_cookie[256]; /* the last Set-Cookie */
	char retry_after[32];
	char content_type[128];
	char allow[64];
};

/* Runs url with headers h (kept by the caller) on the easy handle c, POSTing body unless NULL; then frees c. */
void curl_reply_perform(CURL *c, struct curl_slist *h, const char *url, const char *body, struct curl_reply *r);

#endif
