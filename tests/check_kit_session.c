/* SPDX-License-Identifier: MIT */
/*
 * The driver kit's session parts: the cookie jar (each Set-Cookie
 * attribute, deletion, replacement, expiry, the limit, unusable lines,
 * redaction), bearer tokens (JWT exp, expires_in, refresh margins,
 * rotation, bad answers, the header and refresh body), the CareLink token
 * file (load, every missing key, save keeping what we do not know, mode
 * 0600, no temporary file left behind) and guarded paging (the shape of
 * the accumulated document, the page limit, a repeated cursor).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "log_capture.h"
#include "nsc_check.h"
#include "secret.h"
#include "sources/kit/bearer.h"
#include "sources/kit/cookie_date.h"
#include "sources/kit/cookie_jar.h"
#include "sources/kit/jwt_claims.h"
#include "sources/kit/paging.h"
#include "sources/kit/token_file.h"

#define NOW INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */
#define OCT21_2015 INT64_C(1445412480000) /* 2015-10-21T07:28:00Z */

/* ---- a log that keeps what it wrote --------------------------------------------- */

static struct log_capture cap;

static struct nsc_log *capture(void)
{
	struct nsc_log *log = nsc_log_new(NSC_LOG_TRACE);
	ck_assert_ptr_nonnull(log);
	log_capture_free(&cap);
	nsc_log_set_sink(log, log_capture_sink, &cap);
	return log;
}

static void release(struct nsc_log *log)
{
	nsc_log_free(log);
	log_capture_free(&cap);
}

/* Whether `text`, written to the log, comes out in clear. */
static bool prints_in_clear(struct nsc_log *log, const char *text)
{
	log_capture_free(&cap);
	nsc_info(log, "test", "event=probe value=%s", text);
	return log_capture_count(&cap, text, NULL) > 0;
}

/* ---- cookie dates --------------------------------------------------------------- */

static int64_t date(const char *s)
{
	int64_t ms = -1;
	ck_assert_msg(nsc_cookie_date_parse(s, strlen(s), &ms) == NSC_OK, "parse %s", s);
	return ms;
}

START_TEST(cookie_date_forms)
{
	ck_assert_int_eq(date("Wed, 21 Oct 2015 07:28:00 GMT"), OCT21_2015);     /* RFC 1123 */
	ck_assert_int_eq(date("Wed, 21-Oct-15 07:28:00 GMT"), OCT21_2015);       /* Netscape */
	ck_assert_int_eq(date("Wednesday, 21-Oct-15 07:28:00 GMT"), OCT21_2015); /* RFC 850 */
	ck_assert_int_eq(date("Wed Oct 21 07:28:00 2015"), OCT21_2015);          /* asctime */
	ck_assert_int_eq(date("Sun, 06 Nov 1994 08:49:37 GMT"), INT64_C(784111777000));
	ck_assert_int_eq(date("sun, 6-nov-94 8:49:37 gmt"), INT64_C(784111777000));
	/* Two-digit years: 70-99 are 19xx, 00-69 are 20xx. */
	ck_assert_int_eq(date("Thu, 01-Jan-70 00:00:01 GMT"), 1000);
	ck_assert_int_eq(date("Tue, 01-Jan-69 00:00:00 GMT"), INT64_C(3124224000000));
	ck_assert_int_eq(date("Thu, 29 Feb 2024 00:00:00 GMT") - date("Wed, 28 Feb 2024 00:00:00 GMT"),
			 86400000);

	static const char *const bad[] = {
		"", "Wed, 21 Oct 2015 GMT", "Wed, 21 2015 07:28:00 GMT", "Wed, Oct 2015 07:28:00 GMT",
		"Wed, 21 Oct 07:28:00 GMT", "Fri, 30 Feb 2024 00:00:00 GMT", "Wed, 21 Oct 2015 24:00:00 GMT",
		"Wed, 21 Oct 2015 07:60:00 GMT", "Wed, 32 Oct 2015 07:28:00 GMT", "Mon, 01 Jan 1600 00:00:00 GMT",
		"tomorrow",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 42;
		ck_assert_msg(nsc_cookie_date_parse(bad[i], strlen(bad[i]), &ms) == NSC_ERR_PARSE, "%s", bad[i]);
		ck_assert_int_eq(ms, 42);
	}
}
END_TEST

/* ---- cookie jar ----------------------------------------------------------------- */

static void take(struct nsc_cookie_jar *jar, const char *line, int64_t now)
{
	ck_assert_msg(nsc_cookie_jar_take(jar, line, now) == NSC_OK, "take %s", line);
}

static const char *value_of(const struct nsc_cookie_jar *jar, const char *name)
{
	const struct nsc_cookie *c = nsc_cookie_jar_get(jar, name);
	return c ? nsc_secret_slot_get(&c->value) : NULL;
}

/* The Cookie header at now, "" when there is none. */
static void assert_header(const struct nsc_cookie_jar *jar, int64_t now, const char *want)
{
	char *h = (char *)"unset";
	ck_assert_int_eq(nsc_cookie_jar_header(jar, now, &h), NSC_OK);
	if (want[0] == '\0') {
		ck_assert_ptr_null(h);
		return;
	}
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h, want);
	nsc_secret_free(h);
}

START_TEST(cookie_attributes)
{
	struct nsc_log *log = capture();
	struct nsc_cookie_jar jar;
	nsc_cookie_jar_init(&jar, log);
	take(&jar, "_logbook-web_session=c2Vzc2lvbi0xMjM0; path=/; domain=.my.glooko.com; Secure; HttpOnly; "
		   "SameSite=Lax; Priority=High",
	     NOW);
	const struct nsc_cookie *c = nsc_cookie_jar_get(&jar, "_logbook-web_session");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(nsc_secret_slot_get(&c->value), "c2Vzc2lvbi0xMjM0");
	ck_assert_str_eq(c->path, "/");
	ck_assert_str_eq(c->domain, "my.glooko.com");
	ck_assert(c->secure);
	ck_assert(c->http_only);
	ck_assert_int_eq(c->expires_wall_ms, NSC_COOKIE_NEVER);

	/* White space around parts, attribute names in any case, no flags. */
	take(&jar, "  plain =  v1  ;PATH=/api ;  DOMAIN=glooko.com", NOW);
	c = nsc_cookie_jar_get(&jar, "plain");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(nsc_secret_slot_get(&c->value), "v1");
	ck_assert_str_eq(c->path, "/api");
	ck_assert_str_eq(c->domain, "glooko.com");
	ck_assert(!c->secure && !c->http_only);
	/* Names are case-sensitive. */
	ck_assert_ptr_null(nsc_cookie_jar_get(&jar, "PLAIN"));

	/* Expires in the future, in both date forms. */
	take(&jar, "e1=x; Expires=Wed, 21 Oct 2015 07:28:00 GMT", OCT21_2015 - 1000);
	ck_assert_int_eq(nsc_cookie_jar_get(&jar, "e1")->expires_wall_ms, OCT21_2015);
	take(&jar, "e2=y; expires=Wednesday, 21-Oct-15 07:28:00 GMT; path=/", OCT21_2015 - 1000);
	ck_assert_int_eq(nsc_cookie_jar_get(&jar, "e2")->expires_wall_ms, OCT21_2015);
	/* An Expires we cannot read is ignored: the cookie lives until cleared. */
	take(&jar, "e3=z; Expires=sometime soon", NOW);
	ck_assert_int_eq(nsc_cookie_jar_get(&jar, "e3")->expires_wall_ms, NSC_COOKIE_NEVER);
	ck_assert_uint_eq(jar.ignored, 0);
	nsc_cookie_jar_clear(&jar);
	ck_assert_uint_eq(jar.count, 0);
	release(log);
}
END_TEST

START_TEST(cookie_max_age_wins)
{
	struct nsc_cookie_jar jar;
	nsc_cookie_jar_init(&jar, NULL);
	/* Either order: Max-Age decides, even against an Expires in the past. */
	take(&jar, "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=60", NOW);
	ck_assert_int_eq(nsc_cookie_jar_get(&jar, "a")->expires_wall_ms, NOW + 60000);
	take(&jar, "b=2; Max-Age=3600; Expires=Wed, 21 Oct 2015 07:28:00 GMT", NOW);
	ck_assert_int_eq(nsc_cookie_jar_get(&jar, "b")->expires_wall_ms, NOW + 3600000);
	/* A Max-Age that is not a number is ignored: Expires decides. */
	take(&jar, "c=3; Max-Age=soon; Expires=Wed, 21 Oct 2015 07:28:00 GMT", OCT21_2015 - 5);
	ck_assert_int_eq(nsc_cookie_jar_get(&jar, "c")->expires_wall_ms, OCT21_2015);
	take(&jar, "d=4; Max-Age=1e3", NOW);
	ck_assert_int_eq(nsc_cookie_jar_get(&jar, "d")->expires_wall_ms, NSC_COOKIE_NEVER);
	/* A huge one saturates instead of overflowing. */
	take(&jar, "e=5; Max-Age=99999999999999999999999", NOW);
	ck_assert_int_eq(nsc_cookie_jar_get(&jar, "e")->expires_wall_ms, NSC_COOKIE_NEVER);
	nsc_cookie_jar_clear(&jar);
}
END_TEST

START_TEST(cookie_deletion)
{
	static const char *const deleting[] = {
		"s=; Path=/",
		"s=gone; Max-Age=0",
		"s=gone; Max-Age=-1",
		"s=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
		"s=gone; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/",
		"s=gone; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
	};
	struct nsc_cookie_jar jar;
	nsc_cookie_jar_init(&jar, NULL);
	for (size_t i = 0; i < sizeof(deleting) / sizeof(deleting[0]); i++) {
		take(&jar, "keep=1", NOW);
		take(&jar, "s=session-value", NOW);
		ck_assert_uint_eq(jar.count, 2);
		take(&jar, deleting[i], NOW);
		ck_assert_msg(nsc_cookie_jar_get(&jar, "s") == NULL, "%s deletes", deleting[i]);
		ck_assert_str_eq(value_of(&jar, "keep"), "1");
		ck_assert_uint_eq(jar.count, 1);
		/* Deleting what is not held is harmless and stores nothing. */
		take(&jar, deleting[i], NOW);
		ck_assert_uint_eq(jar.count, 1);
	}
	ck_assert_uint_eq(jar.ignored, 0);
	nsc_cookie_jar_clear(&jar);
}
END_TEST

START_TEST(cookie_replacement)
{
	struct nsc_cookie_jar jar;
	nsc_cookie_jar_init(&jar, NULL);
	take(&jar, "a=one; Path=/x; Secure", NOW);
	take(&jar, "b=two", NOW);
	take(&jar, "a=three; Max-Age=100", NOW);
	ck_assert_uint_eq(jar.count, 2);
	const struct nsc_cookie *a = nsc_cookie_jar_get(&jar, "a");
	ck_assert_str_eq(nsc_secret_slot_get(&a->value), "three");
	/* Every attribute comes from the new line, none from the old. */
	ck_assert_str_eq(a->path, "");
	ck_assert(!a->secure);
	ck_assert_int_eq(a->expires_wall_ms, NOW + 100000);
	/* Order of first setting stays. */
	assert_header(&jar, NOW, "Cookie: a=three; b=two");
	nsc_cookie_jar_clear(&jar);
	assert_header(&jar, NOW, "");
}
END_TEST

START_TEST(cookie_header_skips_expired)
{
	struct nsc_cookie_jar jar;
	nsc_cookie_jar_init(&jar, NULL);
	assert_header(&jar, NOW, "");
	take(&jar, "short=s1; Max-Age=10", NOW);
	take(&jar, "long=l1", NOW);
	take(&jar, "dated=d1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", OCT21_2015 - 20000);
	/* dated lives until OCT21_2015, long before NOW: only at an earlier now is it sent. */
	assert_header(&jar, OCT21_2015 - 1, "Cookie: short=s1; long=l1; dated=d1");
	assert_header(&jar, NOW, "Cookie: short=s1; long=l1");
	assert_header(&jar, NOW + 9999, "Cookie: short=s1; long=l1");
	assert_header(&jar, NOW + 10000, "Cookie: long=l1");
	take(&jar, "long=; Path=/", NOW);
	assert_header(&jar, NOW + 10000, "");
	/* Expired cookies are not sent, but are still there to look at. */
	ck_assert_ptr_nonnull(nsc_cookie_jar_get(&jar, "short"));
	nsc_cookie_jar_clear(&jar);
}
END_TEST

START_TEST(cookie_limit)
{
	struct nsc_cookie_jar jar;
	char line[64];
	nsc_cookie_jar_init(&jar, NULL);
	for (int i = 0; i < NSC_COOKIE_JAR_MAX; i++) {
		snprintf(line, sizeof(line), "c%d=v%d%s", i, i, i == 5 ? "; Max-Age=10" : "");
		take(&jar, line, NOW);
	}
	ck_assert_uint_eq(jar.count, NSC_COOKIE_JAR_MAX);
	/* Full of live cookies: a new one is refused and nothing changes. */
	ck_assert_int_eq(nsc_cookie_jar_take(&jar, "extra=x", NOW), NSC_ERR_RANGE);
	ck_assert_uint_eq(jar.count, NSC_COOKIE_JAR_MAX);
	ck_assert_ptr_null(nsc_cookie_jar_get(&jar, "extra"));
	ck_assert_str_eq(value_of(&jar, "c5"), "v5");
	/* Replacing one that is held still works when full. */
	take(&jar, "c0=new", NOW);
	ck_assert_str_eq(value_of(&jar, "c0"), "new");
	/* Once c5 expired, it makes room; the others keep their order. */
	take(&jar, "extra=x", NOW + 10000);
	ck_assert_uint_eq(jar.count, NSC_COOKIE_JAR_MAX);
	ck_assert_ptr_null(nsc_cookie_jar_get(&jar, "c5"));
	ck_assert_str_eq(jar.cookies[5].name, "c6");
	ck_assert_str_eq(jar.cookies[NSC_COOKIE_JAR_MAX - 1].name, "extra");
	ck_assert_int_eq(nsc_cookie_jar_take(&jar, "more=y", NOW + 10000), NSC_ERR_RANGE);
	nsc_cookie_jar_clear(&jar);
}
END_TEST

START_TEST(cookie_unusable_lines_counted)
{
	static char long_line[NSC_COOKIE_LINE_MAX + 16], long_name[NSC_COOKIE_NAME_MAX + 8];
	memset(long_line, 'v', sizeof(long_line) - 1);
	memcpy(long_line, "big=", 4);
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 3] = '=';
	const char *const bad[] = {
		"novalue",
		"=x",
		"",
		"   ",
		"; Path=/",
		"a b=c",
		"a\"b=c",
		"s=abc\r\nX-Injected: 1",
		"s=abc\n",
		"s=a\x01z",
		"s=ok; Path=/\x7f",
		"s\t=ok\x1b",
		NULL,
		long_line,
		long_name,
	};
	struct nsc_cookie_jar jar;
	nsc_cookie_jar_init(&jar, NULL);
	take(&jar, "s=kept", NOW);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(nsc_cookie_jar_take(&jar, bad[i], NOW), NSC_OK);
		ck_assert_uint_eq(jar.ignored, i + 1);
	}
	/* None of them touched the cookie that was held. */
	ck_assert_uint_eq(jar.count, 1);
	ck_assert_str_eq(value_of(&jar, "s"), "kept");
	/* A tab around parts is white space, not a control byte. */
	take(&jar, "t\t=\tv;\tPath=/", NOW);
	ck_assert_str_eq(value_of(&jar, "t"), "v");
	ck_assert_uint_eq(jar.ignored, sizeof(bad) / sizeof(bad[0]));
	nsc_cookie_jar_clear(&jar);
}
END_TEST

START_TEST(cookie_values_redacted)
{
	struct nsc_log *log = capture();
	struct nsc_cookie_jar jar;
	nsc_cookie_jar_init(&jar, log);
	take(&jar, "_logbook-web_session=glooko-session-aaaa; Path=/", NOW);
	ck_assert(!prints_in_clear(log, "glooko-session-aaaa"));
	char *h = NULL;
	ck_assert_int_eq(nsc_cookie_jar_header(&jar, NOW, &h), NSC_OK);
	log_capture_free(&cap);
	ck_assert_str_eq(h, "Cookie: _logbook-web_session=glooko-session-aaaa");
	nsc_trace(log, "test", "event=request cookies=\"%s\"", h + strlen("Cookie: "));
	ck_assert_int_eq(log_capture_count(&cap, "glooko-session-aaaa", NULL), 0);
	ck_assert_int_eq(log_capture_count(&cap, "cookies=\"_logbook-web_session=" NSC_REDACTED "\"", NULL), 1);
	nsc_secret_free(h);

	/* Replaced: the new value is redacted, the old one forgotten. */
	take(&jar, "_logbook-web_session=glooko-session-bbbb", NOW);
	ck_assert(!prints_in_clear(log, "glooko-session-bbbb"));
	ck_assert(prints_in_clear(log, "glooko-session-aaaa"));

	/* Two cookies with one value: dropping one keeps it redacted for the other. */
	take(&jar, "twin=glooko-session-bbbb", NOW);
	take(&jar, "twin=; Max-Age=0", NOW);
	ck_assert(!prints_in_clear(log, "glooko-session-bbbb"));
	take(&jar, "twin=glooko-session-bbbb", NOW);
	take(&jar, "_logbook-web_session=glooko-session-cccc", NOW);
	ck_assert(!prints_in_clear(log, "glooko-session-bbbb"));
	ck_assert(!prints_in_clear(log, "glooko-session-cccc"));

	/* Deleted and cleared values are forgotten. */
	take(&jar, "_logbook-web_session=; Max-Age=0", NOW);
	ck_assert(prints_in_clear(log, "glooko-session-cccc"));
	nsc_cookie_jar_clear(&jar);
	ck_assert(prints_in_clear(log, "glooko-session-bbbb"));
	release(log);
}
END_TEST

/* ---- JWTs and bearer tokens ----------------------------------------------------- */

/* base64url without padding, as JWTs use it; malloc'd. */
static char *b64url(const char *in)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(in), o = 0;
	char *out = malloc(n / 3 * 4 + 5);
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = abc[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = abc[v & 63];
	}
	out[o] = '\0';
	return out;
}

/* header.claims.signature for the claims JSON given; malloc'd. */
static char *make_jwt(const char *claims)
{
	char *h = b64url("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"), *c = b64url(claims);
	size_t n = strlen(h) + strlen(c) + 32;
	char *jwt = malloc(n);
	ck_assert_ptr_nonnull(jwt);
	snprintf(jwt, n, "%s.%s.c2lnbmF0dXJl", h, c);
	free(h);
	free(c);
	return jwt;
}

START_TEST(jwt_exp_claim)
{
	/* Claims whose encoding has both '-' and '_', and every length mod 3. */
	static const struct {
		const char *claims;
		int64_t exp_ms;
	} ok[] = {
		{ "{\"exp\":1700000000,\"n\":\"~~~?\?\?>>>\"}", INT64_C(1700000000000) },
		{ "{\"sub\":\"a\",\"exp\":1700000001}", INT64_C(1700000001000) },
		{ "{\"sub\":\"ab\",\"exp\":1700000002.5}", INT64_C(1700000002500) },
		{ "{\"exp\":1700000003,\"iat\":1}", INT64_C(1700000003000) },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *jwt = make_jwt(ok[i].claims);
		int64_t exp = 0;
		ck_assert_msg(nsc_jwt_claim_exp_ms(jwt, &exp) == NSC_OK, "%s", ok[i].claims);
		ck_assert_int_eq(exp, ok[i].exp_ms);
		free(jwt);
	}
	char *c = b64url("{\"exp\":1700000000,\"n\":\"~~~?\?\?>>>\"}");
	ck_assert(strchr(c, '-') != NULL && strchr(c, '_') != NULL);
	/* Padding is allowed though JWTs leave it out. */
	char padded[256];
	snprintf(padded, sizeof(padded), "e30.%s==.sig", c);
	int64_t exp = 0;
	ck_assert_int_eq(nsc_jwt_claim_exp_ms(padded, &exp), NSC_OK);
	ck_assert_int_eq(exp, INT64_C(1700000000000));
	free(c);

	static const char *const bad_claims[] = {
		"{\"sub\":\"no exp\"}", "{\"exp\":\"1700000000\"}", "{\"exp\":-5}", "{\"exp\":1e300}", "[1700000000]",
		"not json",
	};
	for (size_t i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++) {
		char *jwt = make_jwt(bad_claims[i]);
		ck_assert_msg(nsc_jwt_claim_exp_ms(jwt, &exp) == NSC_ERR_PARSE, "%s", bad_claims[i]);
		free(jwt);
	}
	static const char *const bad_shape[] = {
		"opaque-token", "a.b", ".e30.sig", "a..sig", "a.e30.b.c", "a.e3+0.sig", "a.e/30.sig", "a.e3$0.sig",
		"a.e.sig",
	};
	for (size_t i = 0; i < sizeof(bad_shape) / sizeof(bad_shape[0]); i++)
		ck_assert_msg(nsc_jwt_claim_exp_ms(bad_shape[i], &exp) == NSC_ERR_PARSE, "%s", bad_shape[i]);
	ck_assert_int_eq(nsc_jwt_claim_exp_ms(NULL, &exp), NSC_ERR_PARSE);
	ck_assert_int_eq(exp, INT64_C(1700000000000));
}
END_TEST

START_TEST(bearer_expiry_sources)
{
	struct nsc_bearer b;
	nsc_bearer_init(&b, NULL);
	/* A JWT access token: its exp. */
	char *jwt = make_jwt("{\"exp\":1700003600}");
	ck_assert_int_eq(nsc_bearer_set(&b, jwt, "refresh-1"), NSC_OK);
	ck_assert_int_eq(b.expires_wall_ms, INT64_C(1700003600000));
	ck_assert_str_eq(nsc_secret_slot_get(&b.access), jwt);
	ck_assert_str_eq(nsc_secret_slot_get(&b.refresh), "refresh-1");
	/* An opaque one: not known. */
	ck_assert_int_eq(nsc_bearer_set(&b, "opaque-access", NULL), NSC_OK);
	ck_assert_int_eq(b.expires_wall_ms, 0);
	ck_assert_str_eq(nsc_secret_slot_get(&b.refresh), "refresh-1");
	/* expires_in wins over the JWT's exp: counted on our clock. */
	char body[512];
	snprintf(body, sizeof(body), "{\"access_token\":\"%s\",\"expires_in\":900,\"token_type\":\"Bearer\"}", jwt);
	ck_assert_int_eq(nsc_bearer_take_answer(&b, body, strlen(body), NOW, NULL, NULL), NSC_OK);
	ck_assert_int_eq(b.expires_wall_ms, NOW + 900000);
	/* Without expires_in (or with a useless one), the JWT's exp. */
	snprintf(body, sizeof(body), "{\"access_token\":\"%s\",\"expires_in\":\"soon\"}", jwt);
	ck_assert_int_eq(nsc_bearer_take_answer(&b, body, strlen(body), NOW, NULL, NULL), NSC_OK);
	ck_assert_int_eq(b.expires_wall_ms, INT64_C(1700003600000));
	/* Neither: not known. */
	const char *opaque = "{\"access_token\":\"opaque-2\",\"expires_in\":0}";
	ck_assert_int_eq(nsc_bearer_take_answer(&b, opaque, strlen(opaque), NOW, NULL, NULL), NSC_OK);
	ck_assert_int_eq(b.expires_wall_ms, 0);
	nsc_bearer_expires_in(&b, NOW, 60);
	ck_assert_int_eq(b.expires_wall_ms, NOW + 60000);
	nsc_bearer_expires_in(&b, NOW, -1);
	ck_assert_int_eq(b.expires_wall_ms, NOW);
	free(jwt);
	nsc_bearer_clear(&b);
	ck_assert(!nsc_secret_slot_held(&b.access) && !nsc_secret_slot_held(&b.refresh));
}
END_TEST

START_TEST(bearer_needs_refresh_margins)
{
	struct nsc_bearer b;
	nsc_bearer_init(&b, NULL);
	ck_assert(nsc_bearer_needs_refresh(&b, NOW, 0)); /* nothing held */
	ck_assert_int_eq(nsc_bearer_set(&b, "opaque-access", "r"), NSC_OK);
	ck_assert(!nsc_bearer_needs_refresh(&b, NOW, 600000)); /* expiry not known */
	nsc_bearer_expires_in(&b, NOW, 3600);
	int64_t t = NOW + 3600000;
	ck_assert(!nsc_bearer_needs_refresh(&b, t - 600001, 600000));
	ck_assert(nsc_bearer_needs_refresh(&b, t - 600000, 600000));
	ck_assert(!nsc_bearer_needs_refresh(&b, t - 1, 0));
	ck_assert(nsc_bearer_needs_refresh(&b, t, 0));
	ck_assert(nsc_bearer_needs_refresh(&b, t + 1, 0));
	ck_assert(!nsc_bearer_needs_refresh(&b, t - 1, -5000)); /* a negative margin is none */
	ck_assert(nsc_bearer_needs_refresh(&b, NOW, INT64_MAX));
	nsc_bearer_clear(&b);
}
END_TEST

static nsc_rc answer(struct nsc_bearer *b, const char *json, bool *rotated, struct nsc_error *err)
{
	*rotated = true; /* must be set either way */
	return nsc_bearer_take_answer(b, json, strlen(json), NOW, rotated, err);
}

START_TEST(bearer_rotation)
{
	struct nsc_log *log = capture();
	struct nsc_bearer b;
	bool rotated;
	nsc_bearer_init(&b, log);
	ck_assert_int_eq(answer(&b, "{\"access_token\":\"access-1111\",\"refresh_token\":\"refresh-1111\"}", &rotated,
				NULL),
			 NSC_OK);
	ck_assert(rotated); /* the first refresh token is news */
	ck_assert_int_eq(answer(&b, "{\"access_token\":\"access-2222\",\"refresh_token\":\"refresh-1111\"}", &rotated,
				NULL),
			 NSC_OK);
	ck_assert(!rotated);
	ck_assert_str_eq(nsc_secret_slot_get(&b.access), "access-2222");
	ck_assert(prints_in_clear(log, "access-1111"));
	ck_assert(!prints_in_clear(log, "access-2222"));
	/* No refresh_token in the answer: the one held stays. */
	ck_assert_int_eq(answer(&b, "{\"access_token\":\"access-3333\"}", &rotated, NULL), NSC_OK);
	ck_assert(!rotated);
	ck_assert_str_eq(nsc_secret_slot_get(&b.refresh), "refresh-1111");
	ck_assert_int_eq(answer(&b, "{\"access_token\":\"access-4444\",\"refresh_token\":\"\"}", &rotated, NULL),
			 NSC_OK);
	ck_assert(!rotated);
	ck_assert_str_eq(nsc_secret_slot_get(&b.refresh), "refresh-1111");
	/* A new one: rotated, redacted, the old one forgotten. */
	ck_assert_int_eq(answer(&b, "{\"access_token\":\"access-5555\",\"refresh_token\":\"refresh-2222\"}", &rotated,
				NULL),
			 NSC_OK);
	ck_assert(rotated);
	ck_assert_str_eq(nsc_secret_slot_get(&b.refresh), "refresh-2222");
	ck_assert(!prints_in_clear(log, "refresh-2222"));
	ck_assert(prints_in_clear(log, "refresh-1111"));
	nsc_bearer_clear(&b);
	ck_assert(prints_in_clear(log, "refresh-2222"));
	release(log);
}
END_TEST

START_TEST(bearer_bad_answers)
{
	static const char *const bad[] = {
		"{\"refresh_token\":\"refresh-9999\",\"expires_in\":60}",
		"{\"access_token\":\"\",\"refresh_token\":\"refresh-9999\"}",
		"{\"access_token\":12345678,\"refresh_token\":\"refresh-9999\"}",
		"{\"access_token\":null,\"refresh_token\":\"refresh-9999\"}",
		"[\"access-9999\",\"refresh-9999\"]",
		"\"access-9999\"",
		"{\"access_token\":\"access-9999\",\"refresh_token\":\"refresh-9999\"",
		"<html>access-9999 refresh-9999</html>",
		"",
	};
	struct nsc_bearer b;
	nsc_bearer_init(&b, NULL);
	ck_assert_int_eq(nsc_bearer_set(&b, "access-held", "refresh-held"), NSC_OK);
	nsc_bearer_expires_in(&b, NOW, 100);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nsc_error err;
		bool rotated;
		nsc_error_clear(&err);
		ck_assert_msg(answer(&b, bad[i], &rotated, &err) == NSC_ERR_PARSE, "%s", bad[i]);
		ck_assert(!rotated);
		ck_assert_msg(err.msg[0] != '\0', "%s says why", bad[i]);
		ck_assert_ptr_nonnull(strstr(err.msg, "token answer"));
		ck_assert_msg(strstr(err.msg, "9999") == NULL, "no token in: %s", err.msg);
		/* Nothing held changed. */
		ck_assert_str_eq(nsc_secret_slot_get(&b.access), "access-held");
		ck_assert_str_eq(nsc_secret_slot_get(&b.refresh), "refresh-held");
		ck_assert_int_eq(b.expires_wall_ms, NOW + 100000);
	}
	nsc_bearer_clear(&b);
}
END_TEST

START_TEST(bearer_header_and_refresh_body)
{
	struct nsc_bearer b;
	char *out = (char *)"unset";
	size_t len = 99;
	nsc_bearer_init(&b, NULL);
	ck_assert_int_eq(nsc_bearer_header(&b, &out), NSC_ERR_STATE);
	ck_assert_ptr_null(out);
	out = (char *)"unset";
	ck_assert_int_eq(nsc_bearer_refresh_body(&b, "cid", &out, &len), NSC_ERR_STATE);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);

	ck_assert_int_eq(nsc_bearer_set(&b, "eyJ.access.tok", "r/1+2=3&x y\xc3\xa9"), NSC_OK);
	ck_assert_int_eq(nsc_bearer_header(&b, &out), NSC_OK);
	ck_assert_str_eq(out, "Authorization: Bearer eyJ.access.tok");
	nsc_secret_free(out);
	ck_assert_int_eq(nsc_bearer_refresh_body(&b, "client id&1", &out, &len), NSC_OK);
	ck_assert_str_eq(out, "grant_type=refresh_token&refresh_token=r%2F1%2B2%3D3%26x%20y%C3%A9"
			      "&client_id=client%20id%261");
	ck_assert_uint_eq(len, strlen(out));
	nsc_secret_free(out);
	ck_assert_int_eq(nsc_bearer_refresh_body(&b, NULL, &out, &len), NSC_OK);
	ck_assert_str_eq(out, "grant_type=refresh_token&refresh_token=r%2F1%2B2%3D3%26x%20y%C3%A9");
	ck_assert_uint_eq(len, strlen(out));
	nsc_secret_free(out);
	nsc_bearer_clear(&b);
}
END_TEST

/* ---- the CareLink token file ---------------------------------------------------- */

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/nsc-kit-session-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Entries of d other than . and .., how many, and how many start with "." (a temporary file). */
static size_t entries(const char *d, size_t *hidden)
{
	DIR *dp = opendir(d);
	ck_assert_ptr_nonnull(dp);
	size_t n = 0;
	*hidden = 0;
	for (struct dirent *e; (e = readdir(dp)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (e->d_name[0] == '.')
			(*hidden)++;
	}
	closedir(dp);
	return n;
}

static void remove_dir(const char *d)
{
	DIR *dp = opendir(d);
	if (dp == NULL)
		return;
	char path[512];
	for (struct dirent *e; (e = readdir(dp)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		if (unlink(path) != 0)
			remove_dir(path);
	}
	closedir(dp);
	rmdir(d);
}

#define TOKEN_DOC                                                                                  \
	"{\n  \"access_token\": \"%s\",\n  \"refresh_token\": \"refresh-secret-7777\",\n"             \
	"  \"scope\": \"openid profile\",\n  \"client_id\": \"carelink-client\",\n"                  \
	"  \"client_secret\": \"client-secret-8888\",\n  \"mag-identifier\": \"mag-1\",\n"            \
	"  \"token_url\": \"https://carelink-login.minimed.eu/oauth/token\",\n"                       \
	"  \"audience\": \"https://carelink.minimed.eu\",\n  \"extra\": {\"n\": [1, 2.5, true, null]}\n}\n"

static char *token_doc(void)
{
	char *jwt = make_jwt("{\"exp\":1700007200,\"sub\":\"user\"}");
	size_t n = strlen(TOKEN_DOC) + strlen(jwt) + 1;
	char *doc = malloc(n);
	ck_assert_ptr_nonnull(doc);
	snprintf(doc, n, TOKEN_DOC, jwt);
	free(jwt);
	return doc;
}

START_TEST(token_file_load)
{
	char path[128];
	make_dir();
	snprintf(path, sizeof(path), "%s/logindata.json", dir);
	char *doc = token_doc();
	write_file(path, doc, 0600);
	struct nsc_log *log = capture();
	struct nsc_token_file tf;
	struct nsc_bearer b;
	struct nsc_error err;
	nsc_token_file_init(&tf);
	nsc_bearer_init(&b, log);
	ck_assert_int_eq(nsc_token_file_load(&tf, path, &b, &err), NSC_OK);
	ck_assert_str_eq(tf.path, path);
	ck_assert_str_eq(tf.client_id, "carelink-client");
	ck_assert_str_eq(tf.token_url, "https://carelink-login.minimed.eu/oauth/token");
	ck_assert_str_eq(tf.audience, "https://carelink.minimed.eu");
	ck_assert_str_eq(tf.scope, "openid profile");
	ck_assert_str_eq(nsc_secret_slot_get(&b.refresh), "refresh-secret-7777");
	ck_assert_ptr_nonnull(strstr(doc, nsc_secret_slot_get(&b.access)));
	ck_assert_int_eq(b.expires_wall_ms, INT64_C(1700007200000));
	ck_assert(!prints_in_clear(log, "refresh-secret-7777"));
	ck_assert(!prints_in_clear(log, nsc_secret_slot_get(&b.access)));
	/* The document keeps no copy of the tokens. */
	const char *kept = json_object_to_json_string(tf.doc);
	ck_assert_ptr_null(strstr(kept, "refresh-secret-7777"));
	ck_assert_ptr_nonnull(strstr(kept, "client-secret-8888"));

	/* Without audience and scope: NULL. */
	write_file(path,
		   "{\"access_token\":\"a-2\",\"refresh_token\":\"r-2\",\"client_id\":\"c\",\"token_url\":\"u\","
		   "\"scope\":7}",
		   0600);
	ck_assert_int_eq(nsc_token_file_load(&tf, path, &b, &err), NSC_OK);
	ck_assert_ptr_null(tf.audience);
	ck_assert_ptr_null(tf.scope);
	ck_assert_str_eq(tf.client_id, "c");
	ck_assert_int_eq(b.expires_wall_ms, 0);
	nsc_token_file_fini(&tf);
	nsc_token_file_fini(&tf); /* harmless twice */
	nsc_bearer_clear(&b);
	free(doc);
	release(log);
	remove_dir(dir);
}
END_TEST

START_TEST(token_file_load_errors)
{
	static const struct {
		const char *text; /* NULL: no file at all */
		const char *names;
	} cases[] = {
		{ "{\"refresh_token\":\"refresh-9999\",\"client_id\":\"c\",\"token_url\":\"u\"}", "\"access_token\"" },
		{ "{\"access_token\":\"access-9999\",\"client_id\":\"c\",\"token_url\":\"u\"}", "\"refresh_token\"" },
		{ "{\"access_token\":\"access-9999\",\"refresh_token\":\"refresh-9999\",\"token_url\":\"u\"}",
		  "\"client_id\"" },
		{ "{\"access_token\":\"access-9999\",\"refresh_token\":\"refresh-9999\",\"client_id\":\"c\"}",
		  "\"token_url\"" },
		{ "{\"access_token\":\"\",\"refresh_token\":\"refresh-9999\",\"client_id\":\"c\",\"token_url\":\"u\"}",
		  "\"access_token\"" },
		{ "{\"access_token\":\"access-9999\",\"refresh_token\":9999,\"client_id\":\"c\",\"token_url\":\"u\"}",
		  "\"refresh_token\"" },
		{ "{\"access_token\":\"access-9999\",\"refresh_token\":\"refresh-9999\",\"client_id\":null,"
		  "\"token_url\":\"u\"}",
		  "\"client_id\"" },
		{ "[\"access-9999\",\"refresh-9999\"]", "not a JSON object" },
		{ "access_token=access-9999", "not JSON" },
		{ "{\"access_token\":\"access-9999\",", "not JSON" },
		{ "", "not JSON" },
		{ NULL, "cannot be read" },
	};
	char path[128];
	make_dir();
	snprintf(path, sizeof(path), "%s/logindata.json", dir);
	struct nsc_bearer b;
	nsc_bearer_init(&b, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_token_file tf;
		struct nsc_error err;
		nsc_token_file_init(&tf);
		nsc_error_clear(&err);
		unlink(path);
		if (cases[i].text != NULL)
			write_file(path, cases[i].text, 0600);
		ck_assert_msg(nsc_token_file_load(&tf, path, &b, &err) == NSC_ERR_CONFIG, "case %zu", i);
		ck_assert_msg(strstr(err.msg, "CONNECT_CARELINK_TOKEN_FILE") != NULL, "case %zu: %s", i, err.msg);
		ck_assert_msg(strstr(err.msg, path) != NULL, "case %zu names the path: %s", i, err.msg);
		ck_assert_msg(strstr(err.msg, cases[i].names) != NULL, "case %zu: %s", i, err.msg);
		ck_assert_msg(strstr(err.msg, "9999") == NULL, "case %zu shows a token: %s", i, err.msg);
		ck_assert_ptr_null(tf.doc);
		ck_assert(!nsc_secret_slot_held(&b.access) && !nsc_secret_slot_held(&b.refresh));
	}
	/* Too large. */
	static char big[NSC_TOKEN_FILE_MAX + 64];
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	write_file(path, big, 0600);
	struct nsc_token_file tf;
	struct nsc_error err;
	nsc_token_file_init(&tf);
	ck_assert_int_eq(nsc_token_file_load(&tf, path, &b, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than"));
	/* A directory. */
	ck_assert_int_eq(nsc_token_file_load(&tf, dir, &b, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot be read"));
	remove_dir(dir);
}
END_TEST

/* Loads the standard document from dir/logindata.json into tf and b. */
static void load_standard(char *path, size_t size, struct nsc_token_file *tf, struct nsc_bearer *b,
			  mode_t mode)
{
	struct nsc_error err;
	make_dir();
	snprintf(path, size, "%s/logindata.json", dir);
	char *doc = token_doc();
	write_file(path, doc, mode);
	free(doc);
	nsc_token_file_init(tf);
	nsc_bearer_init(b, NULL);
	ck_assert_int_eq(nsc_token_file_load(tf, path, b, &err), NSC_OK);
}

START_TEST(token_file_save_keeps_the_rest)
{
	char path[128];
	struct nsc_token_file tf;
	struct nsc_bearer b;
	struct nsc_error err;
	load_standard(path, sizeof(path), &tf, &b, 0644);
	bool rotated;
	const char *ans = "{\"access_token\":\"access-new-1\",\"refresh_token\":\"refresh-new-1\",\"expires_in\":60}";
	ck_assert_int_eq(nsc_bearer_take_answer(&b, ans, strlen(ans), NOW, &rotated, NULL), NSC_OK);
	ck_assert(rotated);
	mode_t old = umask(0);
	nsc_rc rc = nsc_token_file_save(&tf, &b, &err);
	umask(old);
	ck_assert_msg(rc == NSC_OK, "%s", err.msg);

	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	size_t hidden;
	ck_assert_uint_eq(entries(dir, &hidden), 1);
	ck_assert_uint_eq(hidden, 0);

	struct json_object *saved = json_object_from_file(path);
	ck_assert_ptr_nonnull(saved);
	ck_assert_str_eq(nsc_json_get_string(saved, "access_token"), "access-new-1");
	ck_assert_str_eq(nsc_json_get_string(saved, "refresh_token"), "refresh-new-1");
	ck_assert_str_eq(nsc_json_get_string(saved, "client_id"), "carelink-client");
	ck_assert_str_eq(nsc_json_get_string(saved, "client_secret"), "client-secret-8888");
	ck_assert_str_eq(nsc_json_get_string(saved, "mag-identifier"), "mag-1");
	ck_assert_str_eq(nsc_json_get_string(saved, "audience"), "https://carelink.minimed.eu");
	ck_assert_str_eq(nsc_json_get_string(saved, "scope"), "openid profile");
	struct json_object *extra = NULL;
	ck_assert(json_object_object_get_ex(saved, "extra", &extra));
	ck_assert_str_eq(json_object_to_json_string_ext(extra, JSON_C_TO_STRING_PLAIN), "{\"n\":[1,2.5,true,null]}");
	/* Members stay in the order the file had them. */
	static const char *const order[] = { "access_token", "refresh_token", "scope", "client_id", "client_secret",
					     "mag-identifier", "token_url", "audience", "extra" };
	size_t i = 0;
	json_object_object_foreach(saved, key, val)
	{
		(void)val;
		ck_assert_uint_lt(i, sizeof(order) / sizeof(order[0]));
		ck_assert_str_eq(key, order[i++]);
	}
	ck_assert_uint_eq(i, sizeof(order) / sizeof(order[0]));
	json_object_put(saved);

	/* What was saved loads again, and saving twice is the same file. */
	struct nsc_token_file again;
	struct nsc_bearer b2;
	nsc_token_file_init(&again);
	nsc_bearer_init(&b2, NULL);
	ck_assert_int_eq(nsc_token_file_load(&again, path, &b2, &err), NSC_OK);
	ck_assert_str_eq(nsc_secret_slot_get(&b2.refresh), "refresh-new-1");
	ck_assert_int_eq(nsc_token_file_save(&again, &b2, &err), NSC_OK);
	ck_assert_uint_eq(entries(dir, &hidden), 1);
	nsc_token_file_fini(&again);
	nsc_bearer_clear(&b2);

	/* Saving without tokens or without a load is refused. */
	nsc_bearer_clear(&b);
	ck_assert_int_eq(nsc_token_file_save(&tf, &b, &err), NSC_ERR_STATE);
	nsc_token_file_fini(&tf);
	ck_assert_int_eq(nsc_token_file_save(&tf, &b2, &err), NSC_ERR_STATE);
	remove_dir(dir);
}
END_TEST

/* A save that fails says why, names the file, shows no token, and leaves no temporary file. */
static void assert_failed_save(const struct nsc_token_file *tf, const struct nsc_bearer *b, nsc_rc want)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	ck_assert_int_eq(nsc_token_file_save(tf, b, &err), want);
	ck_assert_msg(strstr(err.msg, "CONNECT_CARELINK_TOKEN_FILE") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, tf->path) != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "refresh-secret-7777") == NULL, "%s", err.msg);
}

START_TEST(token_file_failed_save_leaves_nothing)
{
	char path[128], moved[160];
	struct nsc_token_file tf;
	struct nsc_bearer b;
	size_t hidden;
	load_standard(path, sizeof(path), &tf, &b, 0600);

	/* The target became a directory: the rename fails after the temporary file was written. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	assert_failed_save(&tf, &b, NSC_ERR_IO);
	ck_assert_uint_eq(entries(dir, &hidden), 1);
	ck_assert_uint_eq(hidden, 0);
	ck_assert_int_eq(rmdir(path), 0);

	/* The directory is gone: nothing can be created. */
	snprintf(moved, sizeof(moved), "%s-moved", dir);
	ck_assert_int_eq(rename(dir, moved), 0);
	assert_failed_save(&tf, &b, NSC_ERR_CONFIG);
	ck_assert_uint_eq(entries(moved, &hidden), 0);
	ck_assert_int_eq(rename(moved, dir), 0);

	/* And with the directory back, the same save works. */
	struct nsc_error err;
	ck_assert_int_eq(nsc_token_file_save(&tf, &b, &err), NSC_OK);
	ck_assert_uint_eq(entries(dir, &hidden), 1);
	ck_assert_uint_eq(hidden, 0);
	nsc_token_file_fini(&tf);
	nsc_bearer_clear(&b);
	remove_dir(dir);
}
END_TEST

/* ---- paging --------------------------------------------------------------------- */

static struct json_object *page(const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	ck_assert_ptr_nonnull(o);
	return o;
}

static void finish_is(struct nsc_paging *p, const char *want)
{
	struct nsc_payload out = { NULL, 0 };
	struct nsc_error err;
	ck_assert_int_eq(nsc_paging_finish(p, &out, &err), NSC_OK);
	ck_assert_str_eq(out.data, want);
	ck_assert_uint_eq(out.len, strlen(want));
	nsc_payload_free(&out);
}

START_TEST(paging_accumulates_by_part)
{
	struct nsc_paging p;
	struct nsc_error err;
	bool more = true;
	ck_assert_int_eq(nsc_paging_init(&p, "Glooko", 5), NSC_OK);
	finish_is(&p, "{}");
	ck_assert_int_eq(nsc_paging_start(&p, "readings", &err), NSC_OK);
	ck_assert_ptr_null(nsc_paging_cursor(&p));
	ck_assert_int_eq(nsc_paging_page(&p, page("[{\"v\":1}]"), "cursor-1", &more, &err), NSC_OK);
	ck_assert(more);
	ck_assert_str_eq(nsc_paging_cursor(&p), "cursor-1");
	ck_assert_int_eq(nsc_paging_page(&p, page("[{\"v\":2}]"), "cursor-2", &more, &err), NSC_OK);
	ck_assert_str_eq(nsc_paging_cursor(&p), "cursor-2");
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), NULL, &more, &err), NSC_OK);
	ck_assert(!more);
	ck_assert_ptr_null(nsc_paging_cursor(&p));
	ck_assert_uint_eq(nsc_paging_count(&p), 3);
	/* After the last page, another is a driver bug. */
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), NULL, &more, &err), NSC_ERR_STATE);

	ck_assert_int_eq(nsc_paging_start(&p, "boluses", &err), NSC_OK);
	ck_assert_uint_eq(nsc_paging_count(&p), 0);
	ck_assert_int_eq(nsc_paging_page(&p, page("{\"b\":true}"), "", &more, &err), NSC_OK);
	ck_assert(!more);
	finish_is(&p, "{\"readings\":[[{\"v\":1}],[{\"v\":2}],[]],\"boluses\":[{\"b\":true}]}");

	/* A part started again adds to its own list; the same cursor text is fine in a new run. */
	ck_assert_int_eq(nsc_paging_start(&p, "readings", &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[3]"), "cursor-1", &more, &err), NSC_OK);
	ck_assert(more);
	ck_assert_int_eq(nsc_paging_page(&p, page("[4]"), NULL, &more, &err), NSC_OK);
	finish_is(&p, "{\"readings\":[[{\"v\":1}],[{\"v\":2}],[],[3],[4]],\"boluses\":[{\"b\":true}]}");
	nsc_paging_fini(&p);

	/* No start: refused, the page freed. */
	ck_assert_int_eq(nsc_paging_init(&p, "Glooko", 1), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[1]"), NULL, &more, &err), NSC_ERR_STATE);
	nsc_paging_fini(&p);
}
END_TEST

START_TEST(paging_limit)
{
	struct nsc_paging p;
	struct nsc_error err;
	bool more;
	char cursor[16];
	ck_assert_int_eq(nsc_paging_init(&p, "Glooko", 0), NSC_ERR_RANGE);
	ck_assert_int_eq(nsc_paging_init(&p, "Glooko", NSC_PAGING_MAX_PAGES + 1), NSC_ERR_RANGE);
	ck_assert_int_eq(nsc_paging_init(&p, "Glooko", 3), NSC_OK);
	ck_assert_int_eq(nsc_paging_start(&p, "readings", &err), NSC_OK);
	/* The third page may be the last... */
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), "c1", &more, &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), "c2", &more, &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), NULL, &more, &err), NSC_OK);
	ck_assert(!more);
	/* ...but a third that says there is more is one too many. */
	ck_assert_int_eq(nsc_paging_start(&p, "boluses", &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), "c1", &more, &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), "c2", &more, &err), NSC_OK);
	nsc_error_clear(&err);
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), "c3", &more, &err), NSC_ERR_RANGE);
	ck_assert(!more);
	ck_assert_ptr_nonnull(strstr(err.msg, "Glooko"));
	ck_assert_ptr_nonnull(strstr(err.msg, "boluses"));
	ck_assert_ptr_nonnull(strstr(err.msg, "after 3"));
	ck_assert_ptr_null(nsc_paging_cursor(&p));
	ck_assert_int_eq(nsc_paging_page(&p, page("[]"), NULL, &more, &err), NSC_ERR_STATE);
	nsc_paging_fini(&p);

	/* The largest limit works to its end. */
	ck_assert_int_eq(nsc_paging_init(&p, "Glooko", NSC_PAGING_MAX_PAGES), NSC_OK);
	ck_assert_int_eq(nsc_paging_start(&p, "readings", &err), NSC_OK);
	nsc_rc rc = NSC_OK;
	int pages = 0;
	while (rc == NSC_OK) {
		snprintf(cursor, sizeof(cursor), "c%d", ++pages);
		rc = nsc_paging_page(&p, page("[]"), cursor, &more, &err);
	}
	ck_assert_int_eq(rc, NSC_ERR_RANGE);
	ck_assert_int_eq(pages, NSC_PAGING_MAX_PAGES);
	nsc_paging_fini(&p);
}
END_TEST

START_TEST(paging_repeated_cursor)
{
	struct nsc_paging p;
	struct nsc_error err;
	bool more;
	ck_assert_int_eq(nsc_paging_init(&p, "Glooko", 50), NSC_OK);
	/* The cursor just used, sent again. */
	ck_assert_int_eq(nsc_paging_start(&p, "readings", &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[1]"), "same", &more, &err), NSC_OK);
	nsc_error_clear(&err);
	ck_assert_int_eq(nsc_paging_page(&p, page("[2]"), "same", &more, &err), NSC_ERR_DROP);
	ck_assert(!more);
	ck_assert_ptr_nonnull(strstr(err.msg, "Glooko"));
	ck_assert_ptr_nonnull(strstr(err.msg, "readings"));
	ck_assert_int_eq(nsc_paging_page(&p, page("[3]"), "other", &more, &err), NSC_ERR_STATE);
	/* A cycle: A, B, A. */
	ck_assert_int_eq(nsc_paging_start(&p, "boluses", &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[1]"), "A", &more, &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[2]"), "B", &more, &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[3]"), "A", &more, &err), NSC_ERR_DROP);
	/* A new start pages again; pages up to the error were kept. */
	ck_assert_int_eq(nsc_paging_start(&p, "boluses", &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[4]"), "A", &more, &err), NSC_OK);
	ck_assert_int_eq(nsc_paging_page(&p, page("[5]"), NULL, &more, &err), NSC_OK);
	finish_is(&p, "{\"readings\":[[1],[2]],\"boluses\":[[1],[2],[3],[4],[5]]}");
	nsc_paging_fini(&p);
}
END_TEST

static Suite *kit_session_suite(void)
{
	Suite *s = suite_create("kit_session");
	TCase *tc = tcase_create("cookie_jar");
	tcase_add_test(tc, cookie_date_forms);
	tcase_add_test(tc, cookie_attributes);
	tcase_add_test(tc, cookie_max_age_wins);
	tcase_add_test(tc, cookie_deletion);
	tcase_add_test(tc, cookie_replacement);
	tcase_add_test(tc, cookie_header_skips_expired);
	tcase_add_test(tc, cookie_limit);
	tcase_add_test(tc, cookie_unusable_lines_counted);
	tcase_add_test(tc, cookie_values_redacted);
	suite_add_tcase(s, tc);
	tc = tcase_create("bearer");
	tcase_add_test(tc, jwt_exp_claim);
	tcase_add_test(tc, bearer_expiry_sources);
	tcase_add_test(tc, bearer_needs_refresh_margins);
	tcase_add_test(tc, bearer_rotation);
	tcase_add_test(tc, bearer_bad_answers);
	tcase_add_test(tc, bearer_header_and_refresh_body);
	suite_add_tcase(s, tc);
	tc = tcase_create("token_file");
	tcase_add_test(tc, token_file_load);
	tcase_add_test(tc, token_file_load_errors);
	tcase_add_test(tc, token_file_save_keeps_the_rest);
	tcase_add_test(tc, token_file_failed_save_leaves_nothing);
	suite_add_tcase(s, tc);
	tc = tcase_create("paging");
	tcase_add_test(tc, paging_accumulates_by_part);
	tcase_add_test(tc, paging_limit);
	tcase_add_test(tc, paging_repeated_cursor);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(kit_session_suite)
