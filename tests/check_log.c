/* SPDX-License-Identifier: MIT */
/*
 * Check suite for log: line format, level filtering, and redaction of
 * registered secrets and credential patterns at every level (here TRACE),
 * captured through a sink, plus the default stderr sink.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "logline.h"
#include "nsc_check.h"
#include "timeutil.h"

#include <json-c/json.h>

#define MAX_LINES 256

struct capture {
	pthread_mutex_t mu;
	char *lines[MAX_LINES];
	enum nsc_log_level levels[MAX_LINES];
	int n;
	int dropped;
};

static void capture_sink(void *ctx, enum nsc_log_level level, const char *line)
{
	struct capture *cap = ctx;

	pthread_mutex_lock(&cap->mu);
	if (cap->n < MAX_LINES) {
		cap->lines[cap->n] = strdup(line);
		ck_assert_ptr_nonnull(cap->lines[cap->n]);
		cap->levels[cap->n] = level;
		cap->n++;
	} else {
		cap->dropped++;
	}
	pthread_mutex_unlock(&cap->mu);
}

static void capture_init(struct capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	ck_assert_int_eq(pthread_mutex_init(&cap->mu, NULL), 0);
}

static void capture_free(struct capture *cap)
{
	for (int i = 0; i < cap->n; i++)
		free(cap->lines[i]);
	pthread_mutex_destroy(&cap->mu);
}

static struct nsc_log *g_log;
static struct capture g_cap;

static void setup(void)
{
	capture_init(&g_cap);
	g_log = nsc_log_new(NSC_LOG_TRACE);
	ck_assert_ptr_nonnull(g_log);
	nsc_log_set_sink(g_log, capture_sink, &g_cap);
}

static void teardown(void)
{
	nsc_log_free(g_log);
	g_log = NULL;
	capture_free(&g_cap);
}

/* Logs `text` at TRACE and returns what follows the `comp=test ` prefix. */
static const char *trace_body(const char *text)
{
	const char *line, *p;
	int before = g_cap.n;

	nsc_trace(g_log, "test", "%s", text);
	ck_assert_int_eq(g_cap.n, before + 1);
	line = g_cap.lines[g_cap.n - 1];
	p = strstr(line, " comp=test ");
	ck_assert_msg(p != NULL, "no comp field: %s", line);
	return p + strlen(" comp=test ");
}

/* Logs `text`, asserts `gone` is absent and the body equals `want`. */
static void assert_redacted(const char *text, const char *gone, const char *want)
{
	const char *body = trace_body(text);

	ck_assert_msg(strstr(body, gone) == NULL, "\"%s\" leaked in: %s", gone, body);
	ck_assert_str_eq(body, want);
}

START_TEST(test_line_format)
{
	const char *line;
	char ts[NSC_ISO_BUF];
	int64_t ms = 0;
	int64_t now = (int64_t)time(NULL) * 1000;

	nsc_info(g_log, "engine", "event=poll n=%d msg=\"%s\"", 42, "all good");
	ck_assert_int_eq(g_cap.n, 1);
	ck_assert_int_eq(g_cap.levels[0], NSC_LOG_INFO);
	line = g_cap.lines[0];
	ck_assert_msg(strncmp(line, "ts=", 3) == 0, "%s", line);
	ck_assert_uint_gt(strlen(line), 3 + NSC_ISO_MS_LEN);
	memcpy(ts, line + 3, NSC_ISO_MS_LEN);
	ts[NSC_ISO_MS_LEN] = '\0';
	ck_assert_int_eq(ts[NSC_ISO_MS_LEN - 1], 'Z');
	ck_assert_int_eq(ts[19], '.');
	ck_assert_int_eq(nsc_time_parse_iso(ts, &ms, NULL), NSC_OK);
	ck_assert_msg(ms > now - 5000 && ms < now + 5000, "timestamp %s is not now", ts);
	ck_assert_str_eq(line + 3 + NSC_ISO_MS_LEN,
			 " level=info comp=engine event=poll n=42 msg=\"all good\"");
	ck_assert_ptr_null(strchr(line, '\n'));
}
END_TEST

START_TEST(test_levels)
{
	nsc_log_set_level(g_log, NSC_LOG_INFO);
	ck_assert_int_eq(nsc_log_get_level(g_log), NSC_LOG_INFO);
	ck_assert(nsc_log_enabled(g_log, NSC_LOG_INFO));
	ck_assert(nsc_log_enabled(g_log, NSC_LOG_ERROR));
	ck_assert(!nsc_log_enabled(g_log, NSC_LOG_DEBUG));
	ck_assert(!nsc_log_enabled(g_log, NSC_LOG_TRACE));

	nsc_dbg(g_log, "t", "event=hidden_debug");
	nsc_trace(g_log, "t", "event=hidden_trace");
	ck_assert_int_eq(g_cap.n, 0);
	nsc_info(g_log, "t", "event=shown_info");
	nsc_warn(g_log, "t", "event=shown_warn");
	nsc_err(g_log, "t", "event=shown_error");
	ck_assert_int_eq(g_cap.n, 3);
	ck_assert_ptr_nonnull(strstr(g_cap.lines[0], "level=info comp=t event=shown_info"));
	ck_assert_ptr_nonnull(strstr(g_cap.lines[1], "level=warn comp=t event=shown_warn"));
	ck_assert_ptr_nonnull(strstr(g_cap.lines[2], "level=error comp=t event=shown_error"));

	nsc_log_set_level(g_log, NSC_LOG_ERROR);
	nsc_warn(g_log, "t", "event=hidden_warn");
	ck_assert_int_eq(g_cap.n, 3);

	nsc_log_set_level(g_log, NSC_LOG_DEBUG);
	nsc_dbg(g_log, "t", "event=shown_debug");
	nsc_trace(g_log, "t", "event=hidden_trace2");
	ck_assert_int_eq(g_cap.n, 4);
	ck_assert_ptr_nonnull(strstr(g_cap.lines[3], "level=debug comp=t event=shown_debug"));

	/* A NULL logger is a no-op. */
	nsc_info(NULL, "t", "event=nothing");
	ck_assert(!nsc_log_enabled(NULL, NSC_LOG_ERROR));
}
END_TEST

START_TEST(test_level_names)
{
	static const char *const names[] = { "error", "warn", "info", "debug", "trace" };
	enum nsc_log_level lv;

	for (int i = 0; i < 5; i++) {
		ck_assert_str_eq(nsc_log_level_name((enum nsc_log_level)i), names[i]);
		lv = NSC_LOG_ERROR;
		ck_assert_int_eq(nsc_log_level_parse(names[i], &lv), NSC_OK);
		ck_assert_int_eq(lv, i);
	}
	ck_assert_int_eq(nsc_log_level_parse("DEBUG", &lv), NSC_OK);
	ck_assert_int_eq(lv, NSC_LOG_DEBUG);
	ck_assert_int_eq(nsc_log_level_parse("Warning", &lv), NSC_OK);
	ck_assert_int_eq(lv, NSC_LOG_WARN);
	ck_assert_int_eq(nsc_log_level_parse("verbose", &lv), NSC_ERR_PARSE);
	ck_assert_int_eq(nsc_log_level_parse("", &lv), NSC_ERR_PARSE);
	ck_assert_int_eq(nsc_log_level_parse(NULL, &lv), NSC_ERR_PARSE);
}
END_TEST

START_TEST(test_secret_plain_and_encoded)
{
	ck_assert_int_eq(nsc_log_add_secret(g_log, "p@ss word/&1"), NSC_OK);
	ck_assert_int_eq(nsc_log_add_secret(g_log, "hunter22"), NSC_OK);

	assert_redacted("msg=\"login with hunter22 failed\"", "hunter22",
			"msg=\"login with [redacted] failed\"");
	assert_redacted("pw=p@ss word/&1 end", "p@ss word", "pw=[redacted] end");
	/* Percent-encoded, upper and lower hex, and form-encoded. */
	assert_redacted("url=/login?u=bob&pw=p%40ss%20word%2F%261&x=1", "p%40ss",
			"url=/login?u=bob&pw=[redacted]&x=1");
	assert_redacted("url=/login?pw=p%40ss%20word%2f%261 next", "p%40ss",
			"url=/login?pw=[redacted] next");
	assert_redacted("body=u=bob&pw=p%40ss+word%2F%261", "p%40ss", "body=u=bob&pw=[redacted]");
	/* As json-c would escape it inside a JSON string. */
	assert_redacted("json={\"pw\":\"p@ss word\\/&1\"}", "p@ss", "json={\"pw\":\"[redacted]\"}");
	/* Several occurrences in one line. */
	assert_redacted("a=hunter22 b=hunter22hunter22", "hunter22",
			"a=[redacted] b=[redacted][redacted]");
}
END_TEST

START_TEST(test_secret_removed)
{
	ck_assert_int_eq(nsc_log_add_secret(g_log, "tok-0123456789"), NSC_OK);
	ck_assert_int_eq(nsc_log_add_secret(g_log, "keep-this-secret"), NSC_OK);
	assert_redacted("a=tok-0123456789 b=keep-this-secret", "tok-0123456789", "a=[redacted] b=[redacted]");
	/* A forgotten value (an expired session token) is ordinary text again; others stay redacted. */
	nsc_log_remove_secret(g_log, "tok-0123456789");
	assert_redacted("a=tok-0123456789 b=keep-this-secret", "keep-this-secret",
			"a=tok-0123456789 b=[redacted]");
	/* Its encoded spellings are gone too, and removing twice is harmless. */
	nsc_log_remove_secret(g_log, "tok-0123456789");
	assert_redacted("u=%74ok x", "keep-this-secret", "u=%74ok x");
}
END_TEST

START_TEST(test_secret_held_twice_stays_until_both_forget)
{
	/* A configured secret and a driver's slot holding the same text. */
	ck_assert_int_eq(nsc_log_add_secret(g_log, "shared-0123456789"), NSC_OK);
	ck_assert_int_eq(nsc_log_add_secret(g_log, "shared-0123456789"), NSC_OK);
	nsc_log_remove_secret(g_log, "shared-0123456789");
	assert_redacted("a=shared-0123456789 b=x", "shared-0123456789", "a=[redacted] b=x");
	nsc_log_remove_secret(g_log, "shared-0123456789");
	assert_redacted("a=shared-0123456789", "[redacted]", "a=shared-0123456789");
}
END_TEST

START_TEST(test_secret_rules)
{
	/* Too short to register: ordinary text must survive. */
	ck_assert_int_eq(nsc_log_add_secret(g_log, "ab"), NSC_OK);
	ck_assert_int_eq(nsc_log_add_secret(g_log, ""), NSC_OK);
	ck_assert_int_eq(nsc_log_add_secret(g_log, NULL), NSC_OK);
	assert_redacted("tab ab abc", "[redacted]", "tab ab abc");

	/* A shorter secret inside a longer one must not leave the rest visible. */
	ck_assert_int_eq(nsc_log_add_secret(g_log, "abc"), NSC_OK);
	ck_assert_int_eq(nsc_log_add_secret(g_log, "abcdefgh"), NSC_OK);
	ck_assert_int_eq(nsc_log_add_secret(g_log, "abcdefgh"), NSC_OK); /* duplicate */
	assert_redacted("x abcdefgh y abc z", "def", "x [redacted] y [redacted] z");

	/* A secret that occurs inside the marker text does not mangle earlier markers. */
	ck_assert_int_eq(nsc_log_add_secret(g_log, "act"), NSC_OK);
	assert_redacted("abcdefgh act", "act ", "[redacted] [redacted]");
}
END_TEST

START_TEST(test_userinfo)
{
	assert_redacted("uri=mongodb://nsuser:S3cretPw@db.example.com:27017/ns?x=1", "S3cretPw",
			"uri=mongodb://nsuser:[redacted]@db.example.com:27017/ns?x=1");
	assert_redacted("url=\"https://bob:pa:ss@host.example/api\"", "pa:ss",
			"url=\"https://bob:[redacted]@host.example/api\"");
	assert_redacted("url=HTTPS://Bob:P%40w@h/", "P%40w", "url=HTTPS://Bob:[redacted]@h/");
	/* A port or an '@' in the path is not userinfo. */
	assert_redacted("url=http://host:8080/path@x", "[redacted]", "url=http://host:8080/path@x");
	assert_redacted("url=https://user@host/", "[redacted]", "url=https://user@host/");
}
END_TEST

START_TEST(test_query_form_keys)
{
	static const char *const keys[] = {
		"token",     "secret", "api_secret", "apisecret",    "password",      "passwd",
		"sessionid", "session_id", "access_token", "refresh_token", "TOKEN", "Password",
		"SessionId",
	};
	char text[256], want[256];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(text, sizeof(text), "GET /api/v1/entries?count=10&%s=Zq9Val-ue_1&x=2 done",
			 keys[i]);
		snprintf(want, sizeof(want),
			 "GET /api/v1/entries?count=10&%s=[redacted]&x=2 done", keys[i]);
		assert_redacted(text, "Zq9Val", want);

		snprintf(text, sizeof(text), "body=user=bob&%s=Zq9Val\"", keys[i]);
		snprintf(want, sizeof(want), "body=user=bob&%s=[redacted]\"", keys[i]);
		assert_redacted(text, "Zq9Val", want);

		snprintf(text, sizeof(text), "%s=Zq9Val next=1", keys[i]);
		snprintf(want, sizeof(want), "%s=[redacted] next=1", keys[i]);
		assert_redacted(text, "Zq9Val", want);
	}
	/* Quoted values are redacted up to the closing quote. */
	assert_redacted("password=\"two words\" user=bob", "two words",
			"password=\"[redacted]\" user=bob");
	assert_redacted("token='a b c' user=bob", "a b c", "token='[redacted]' user=bob");
	/* `key: value` too. */
	assert_redacted("msg=\"refresh_token: Zq9Val seen\"", "Zq9Val",
			"msg=\"refresh_token: [redacted] seen\"");
}
END_TEST

START_TEST(test_json_keys)
{
	static const char *const keys[] = {
		"password", "token",         "secret",        "api_secret",   "accessToken",
		"sessionId", "ticket",       "authTicket",    "refresh_token", "access_token",
		"PASSWORD", "accesstoken",
	};
	char text[256], want[256];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(text, sizeof(text), "body={\"user\":\"bob\",\"%s\": \"Zq9 V\\\"al\",\"n\":1}",
			 keys[i]);
		snprintf(want, sizeof(want), "body={\"user\":\"bob\",\"%s\": \"[redacted]\",\"n\":1}",
			 keys[i]);
		assert_redacted(text, "Zq9", want);
		/* No space after the colon. */
		snprintf(text, sizeof(text), "{\"%s\":\"Zq9Val\"}", keys[i]);
		snprintf(want, sizeof(want), "{\"%s\":\"[redacted]\"}", keys[i]);
		assert_redacted(text, "Zq9Val", want);
	}
	/* JSON that was escaped once more inside a quoted log value; \" inside the secret. */
	assert_redacted("body=\"{\\\"password\\\":\\\"abc\\\\\\\"def\\\",\\\"user\\\":\\\"bob\\\"}\"",
			"def",
			"body=\"{\\\"password\\\":\\\"[redacted]\\\",\\\"user\\\":\\\"bob\\\"}\"");
	/* Dexcom Share's login answers with a bare session id: registered secrets cover that. */
	assert_redacted("{\"accountName\":\"bob\",\"applicationId\":\"d89443d2\"}", "[redacted]",
			"{\"accountName\":\"bob\",\"applicationId\":\"d89443d2\"}");
}
END_TEST

START_TEST(test_headers)
{
	assert_redacted("req=\"api-secret: 0b2c9f1e7d\nAccept: application/json\"", "0b2c9f1e7d",
			"req=\"api-secret: [redacted]\\nAccept: application/json\"");
	assert_redacted("API-SECRET:0b2c9f1e7d", "0b2c9f1e7d", "API-SECRET:[redacted]");
	assert_redacted("hdr=Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig\r\nHost: x", "eyJ",
			"hdr=Authorization: Bearer [redacted]\\r\\nHost: x");
	assert_redacted("authorization: Basic dXNlcjpwYXNz\nHost: x", "dXNlcjpwYXNz",
			"authorization: Basic [redacted]\\nHost: x");
	assert_redacted("Authorization: dXNlcjpwYXNz", "dXNlcjpwYXNz", "Authorization: [redacted]");
	assert_redacted("Cookie: JSESSIONID=Zq9Val; theme=dark\nHost: x", "Zq9Val",
			"Cookie: [redacted]\\nHost: x");
	assert_redacted("Set-Cookie: sid=Zq9Val; Path=/; HttpOnly\r\nX: y", "Zq9Val",
			"Set-Cookie: [redacted]\\r\\nX: y");
	/* A header as a quoted log value: redacted up to its closing quote, the rest kept. */
	assert_redacted("h=\"Cookie: sid=Zq9Val; theme=dark\" next=1", "Zq9Val", "h=\"Cookie: [redacted]\" next=1");
	assert_redacted("h=\"Authorization: Bearer Zq9Val\" step=graph", "Zq9Val",
			"h=\"Authorization: Bearer [redacted]\" step=graph");
	/* Headers as a JSON object. */
	assert_redacted("{\"Authorization\":\"Bearer Zq9Val\",\"Accept\":\"json\"}", "Zq9Val",
			"{\"Authorization\":\"[redacted]\",\"Accept\":\"json\"}");
}
END_TEST

START_TEST(test_no_over_redaction)
{
	static const char *const keep[] = {
		"event=token_refreshed",
		"event=session_established msg=\"the token expired, secret rotation planned\"",
		"tokens=5 mytoken=abc password_hint=none passwordless=true",
		"comp=share event=login_ok sessions=1 secrets_loaded=3",
		"msg=\"enter your password in CONNECT_SHARE_PASSWORD\"",
		"url=https://share2.dexcom.com/ShareWebServices/Services/General/LoginPublisherAccountByName",
		"{\"tokenType\":\"Bearer\",\"expires\":3600}",
		"cookie_jar=enabled authorization_failed=1",
		/* Empty values show nothing secret and stay as they are. */
		"password= token=\"\" x=1",
	};

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		assert_redacted(keep[i], "[redacted]", keep[i]);
}
END_TEST

START_TEST(test_redacted_at_every_level)
{
	ck_assert_int_eq(nsc_log_add_secret(g_log, "Zq9SecretVal"), NSC_OK);
	nsc_err(g_log, "t", "a=Zq9SecretVal password=pw1x");
	nsc_warn(g_log, "t", "a=Zq9SecretVal password=pw1x");
	nsc_info(g_log, "t", "a=Zq9SecretVal password=pw1x");
	nsc_dbg(g_log, "t", "a=Zq9SecretVal password=pw1x");
	nsc_trace(g_log, "t", "a=Zq9SecretVal password=pw1x");
	ck_assert_int_eq(g_cap.n, 5);
	for (int i = 0; i < 5; i++) {
		ck_assert_ptr_null(strstr(g_cap.lines[i], "Zq9SecretVal"));
		ck_assert_ptr_null(strstr(g_cap.lines[i], "pw1x"));
		ck_assert_ptr_nonnull(strstr(g_cap.lines[i], "a=[redacted] password=[redacted]"));
	}
}
END_TEST

START_TEST(test_redact_function)
{
	char *s = nsc_log_redact(NULL, "https://u:pw9x@h/?token=abc9x&q=1");

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "https://u:[redacted]@h/?token=[redacted]&q=1");
	free(s);

	ck_assert_int_eq(nsc_log_add_secret(g_log, "Zq9SecretVal"), NSC_OK);
	s = nsc_log_redact(g_log, "line one Zq9SecretVal\nline two");
	ck_assert_ptr_nonnull(s);
	/* Only redaction: the text keeps its newline. */
	ck_assert_str_eq(s, "line one [redacted]\nline two");
	free(s);

	s = nsc_log_redact(g_log, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_int_eq(g_cap.n, 0);
}
END_TEST

START_TEST(test_control_chars_and_truncation)
{
	size_t big = 100000;
	char *msg = malloc(big + 64);
	const char *line;

	assert_redacted("a\tb\x01" "c", "\x01", "a\\tb\\x01c");

	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq(nsc_log_add_secret(g_log, "QQSECRETQQ"), NSC_OK);
	/* Put the secret across the cut at every nearby offset: no part may survive. */
	for (size_t pad = 32768 - 120; pad < 32768 - 40; pad++) {
		memset(msg, 'a', pad);
		memcpy(msg + pad, "QQSECRETQQ", 10);
		memset(msg + pad + 10, 'b', big - pad - 10);
		msg[big] = '\0';
		nsc_trace(g_log, "t", "%s", msg);
		line = g_cap.lines[g_cap.n - 1];
		ck_assert_ptr_null(strstr(line, "QQSE"));
		ck_assert_ptr_null(strstr(line, "RETQQ"));
		ck_assert_uint_lt(strlen(line), 32768 + 64);
		ck_assert_ptr_nonnull(strstr(line, " [truncated]"));
		free(g_cap.lines[g_cap.n - 1]);
		g_cap.n--;
	}
	free(msg);
}
END_TEST

START_TEST(test_stderr_sink)
{
	/* The built-in sink writes the redacted line plus '\n' to stderr. */
	struct nsc_log *log = nsc_log_new(NSC_LOG_INFO);
	FILE *tmp = tmpfile();
	char buf[512];
	size_t n;
	int saved;

	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_eq(nsc_log_add_secret(log, "Zq9SecretVal"), NSC_OK);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
	nsc_info(log, "cli", "event=start secret=Zq9SecretVal x=1");
	nsc_dbg(log, "cli", "event=hidden");
	fflush(stderr);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);

	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1); /* exactly one line */
	ck_assert_ptr_null(strstr(buf, "Zq9SecretVal"));
	ck_assert_ptr_nonnull(strstr(buf, " level=info comp=cli event=start secret=[redacted] x=1\n"));
	nsc_log_free(log);
}
END_TEST

struct thread_arg {
	struct nsc_log *log;
	int id;
};

static void *log_thread(void *p)
{
	struct thread_arg *a = p;
	char secret[32];

	snprintf(secret, sizeof(secret), "thr%dSecret", a->id);
	if (nsc_log_add_secret(a->log, secret) != NSC_OK)
		return p;
	for (int i = 0; i < 20; i++)
		nsc_info(a->log, "thr", "id=%d i=%d s=%s", a->id, i, secret);
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t th[8];
	struct thread_arg args[8];

	for (int i = 0; i < 8; i++) {
		args[i].log = g_log;
		args[i].id = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, log_thread, &args[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		void *ret = (void *)1;

		ck_assert_int_eq(pthread_join(th[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
	ck_assert_int_eq(g_cap.n + g_cap.dropped, 160);
	for (int i = 0; i < g_cap.n; i++) {
		ck_assert_ptr_null(strstr(g_cap.lines[i], "Secret"));
		ck_assert_ptr_nonnull(strstr(g_cap.lines[i], "s=[redacted]"));
	}
}
END_TEST


/* ---- quoted values stay one value --------------------------------------- */

START_TEST(test_quoted_values_escaped)
{
	nsc_warn(g_log, "test", "event=x said=\"%s\" n=%d msg=\"vendor: %s, again %.3s\"",
		 "he said \"no\"", 7, "a \\ b \"c\"", "\"\"\"\"");
	ck_assert_int_eq(g_cap.n, 1);
	const char *body = strstr(g_cap.lines[0], " comp=test ") + strlen(" comp=test ");
	ck_assert_str_eq(body, "event=x said=\"he said \\\"no\\\"\" n=7 "
			       "msg=\"vendor: a \\\\ b \\\"c\\\", again \\\"\\\"\\\"\"");
	logline_assert(g_cap.lines[0]);
	/* Bare values and numbers of every width are formatted as printf would. */
	nsc_info(g_log, "test", "event=y a=%s b=%lld c=%zu d=%u e=%.2f f=%5d g=%-3s| h=%x i=%%",
		 "bare", -12345678901LL, (size_t)42, 7u, 2.5, 3, "z", 255u);
	body = strstr(g_cap.lines[1], " comp=test ") + strlen(" comp=test ");
	ck_assert_str_eq(body, "event=y a=bare b=-12345678901 c=42 d=7 e=2.50 f=    3 g=z  | h=ff i=%");
	/* A secret inside a quoted value is still redacted. */
	ck_assert_int_eq(nsc_log_add_secret(g_log, "pa\"ss-word"), NSC_OK);
	nsc_warn(g_log, "test", "event=z msg=\"%s\"", "login with pa\"ss-word failed");
	ck_assert_ptr_null(strstr(g_cap.lines[2], "ss-word"));
}
END_TEST

START_TEST(test_line_grammar)
{
	char why[128];
	ck_assert(logline_parse("ts=2024-01-01T00:00:00.000Z level=info comp=x event=a msg=\"q \\\"b\\\"\"", why,
				sizeof(why)));
	ck_assert(logline_parse("ts=- level=warn comp=x event=a empty= n=1", why, sizeof(why)));
	/* What the old logger wrote for a message holding quotes. */
	ck_assert(!logline_parse("ts=- level=warn comp=x msg=\"said \"no\" twice\"", why, sizeof(why)));
	ck_assert(!logline_parse("ts=- level=warn comp=x msg=\"open", why, sizeof(why)));
	ck_assert(!logline_parse("level=warn ts=- comp=x", why, sizeof(why)));
	ck_assert(!logline_parse("ts=- level=warn comp=x a b", why, sizeof(why)));
	ck_assert(!logline_parse("ts=- level=warn comp=x  a=b", why, sizeof(why)));
}
END_TEST

/* ---- repeated warnings ---------------------------------------------------- */

static struct nsc_fake_clock r_fc;
static struct nsc_clock r_clock;

static void repeats_setup(void)
{
	setup();
	nsc_fake_clock_init(&r_fc, 1704103200000LL, &r_clock);
	nsc_log_set_clock(g_log, &r_clock);
}

static int count_lines(const char *needle)
{
	int n = 0;
	for (int i = 0; i < g_cap.n; i++)
		n += strstr(g_cap.lines[i], needle) != NULL;
	return n;
}

/* A tight loop of one warning: the first line, then a count once a minute. */
START_TEST(test_repeats_limited)
{
	/* 100,000 lines a second for 5 virtual minutes, 10 ms apart here. */
	for (int i = 0; i < 30000; i++) {
		nsc_warn(g_log, "frame", "event=step_failed attempt=0 msg=\"%s\"", "No servers yet");
		nsc_fake_clock_advance(&r_fc, 10);
	}
	ck_assert_int_eq(count_lines("event=step_failed"), 1);
	/* One count per full minute that passed (the fifth is still open). */
	ck_assert_int_eq(count_lines("event=repeated like=step_failed"), 4);
	unsigned long total = 0;
	for (int i = 0; i < g_cap.n; i++) {
		const char *c = strstr(g_cap.lines[i], " count=");
		if (c && strstr(g_cap.lines[i], "event=repeated")) {
			total += strtoul(c + 7, NULL, 10);
			ck_assert_ptr_nonnull(strstr(g_cap.lines[i], "level=warn comp=frame "));
		}
		logline_assert(g_cap.lines[i]);
	}
	ck_assert_uint_eq(total, 4 * 6000 - 1); /* every line of the first 4 minutes but the first */
	/* The rest is told when the logger goes away. */
	nsc_log_free(g_log);
	g_log = NULL;
	ck_assert_int_eq(count_lines("event=repeated like=step_failed"), 5);
	total = 0;
	for (int i = 0; i < g_cap.n; i++) {
		const char *c = strstr(g_cap.lines[i], " count=");
		if (c && strstr(g_cap.lines[i], "event=repeated"))
			total += strtoul(c + 7, NULL, 10);
	}
	ck_assert_uint_eq(total, 30000 - 1);
}
END_TEST

START_TEST(test_repeats_only_identical_warnings)
{
	for (int i = 0; i < 50; i++) {
		nsc_warn(g_log, "x", "event=a n=%d", i);   /* all different */
		nsc_info(g_log, "x", "event=b same=1");   /* info is never held back */
		nsc_err(g_log, "x", "event=c same=1");    /* errors are */
	}
	ck_assert_int_eq(count_lines("event=a"), 50);
	ck_assert_int_eq(count_lines("event=b"), 50);
	ck_assert_int_eq(count_lines("event=c"), 1);
	/* The same text from another component is another line. */
	nsc_err(g_log, "y", "event=c same=1");
	ck_assert_int_eq(count_lines("event=c"), 2);
}
END_TEST

START_TEST(test_repeats_news_again_after_a_quiet_minute)
{
	nsc_warn(g_log, "x", "event=outage msg=\"down\"");
	nsc_fake_clock_advance(&r_fc, 30000);
	nsc_warn(g_log, "x", "event=outage msg=\"down\"");   /* held back */
	nsc_fake_clock_advance(&r_fc, 31000);
	nsc_info(g_log, "x", "event=other");                 /* the count is due now */
	ck_assert_int_eq(count_lines("event=repeated like=outage count=1 "), 1);
	nsc_fake_clock_advance(&r_fc, 61000);
	nsc_info(g_log, "x", "event=other");                 /* a quiet window: forgotten */
	nsc_warn(g_log, "x", "event=outage msg=\"down\"");   /* written in full again */
	ck_assert_int_eq(count_lines("event=outage"), 2);
	ck_assert_int_eq(count_lines("event=repeated"), 1);
}
END_TEST

/* More distinct loops than the table holds: counts are told, none lost. */
START_TEST(test_repeats_table_full)
{
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < 40; k++)
			nsc_warn(g_log, "x", "event=loop%d", k);
	nsc_log_free(g_log);
	g_log = NULL;
	unsigned long written = 0, counted = 0;
	for (int i = 0; i < g_cap.n; i++) {
		const char *c = strstr(g_cap.lines[i], " count=");
		if (strstr(g_cap.lines[i], "event=repeated"))
			counted += strtoul(c + 7, NULL, 10);
		else
			written++;
	}
	ck_assert_uint_eq(written + counted, 120);
}
END_TEST


/* A tenant's logger: its fields after the component, its secrets and the root's redacted. */
START_TEST(test_child_fields_and_secrets)
{
	struct nsc_log *alice = nsc_log_new_child(g_log, NSC_LOG_INFO, "tenant=alice");
	struct nsc_log *bob = nsc_log_new_child(g_log, NSC_LOG_WARN, "tenant=bob");
	ck_assert_ptr_nonnull(alice);
	ck_assert_ptr_nonnull(bob);
	ck_assert_int_eq(nsc_log_add_secret(g_log, "process-wide-secret"), NSC_OK);
	ck_assert_int_eq(nsc_log_add_secret(alice, "alice-password"), NSC_OK);

	nsc_info(alice, "bridge", "event=frame_ok pw=%s shared=%s", "alice-password", "process-wide-secret");
	ck_assert_int_eq(g_cap.n, 1);
	ck_assert_str_eq(strstr(g_cap.lines[0], " comp="),
			 " comp=bridge tenant=alice event=frame_ok pw=" NSC_REDACTED " shared=" NSC_REDACTED);
	logline_assert(g_cap.lines[0]);
	/* Each child has its own level. */
	nsc_info(bob, "bridge", "event=frame_ok");
	ck_assert_int_eq(g_cap.n, 1);
	nsc_dbg(alice, "bridge", "event=detail");
	ck_assert_int_eq(g_cap.n, 1);
	/* A child's secret is its own: alice's does not reach the root's list. */
	char *r = nsc_log_redact(g_log, "alice-password");
	ck_assert_str_eq(r, "alice-password");
	free(r);
	r = nsc_log_redact(alice, "alice-password and process-wide-secret");
	ck_assert_str_eq(r, NSC_REDACTED " and " NSC_REDACTED);
	free(r);
	nsc_log_free(alice);
	nsc_log_free(bob);
}
END_TEST

/* The same failure in two tenants is two lines; repeats of one tenant are held back. */
START_TEST(test_child_repeats_per_tenant)
{
	struct nsc_log *a = nsc_log_new_child(g_log, NSC_LOG_INFO, "tenant=a");
	struct nsc_log *b = nsc_log_new_child(g_log, NSC_LOG_INFO, "tenant=b");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (int i = 0; i < 100; i++) {
		nsc_warn(a, "frame", "event=step_failed msg=\"down\"");
		nsc_warn(b, "frame", "event=step_failed msg=\"down\"");
	}
	ck_assert_int_eq(count_lines("tenant=a event=step_failed"), 1);
	ck_assert_int_eq(count_lines("tenant=b event=step_failed"), 1);
	nsc_fake_clock_advance(&r_fc, 61000);
	nsc_info(a, "x", "event=other");
	/* The counts name the event, not the tenant's field. */
	ck_assert_int_eq(count_lines("event=repeated like=step_failed count=99 "), 2);
	nsc_log_free(a);
	nsc_log_free(b);
}
END_TEST


/* CONNECT_LOG_FORMAT=json: each line one JSON object with the text line's keys. */
START_TEST(test_json_format)
{
	struct nsc_log *child = nsc_log_new_child(g_log, NSC_LOG_INFO, "tenant=alice");
	ck_assert_ptr_nonnull(child);
	ck_assert_int_eq(nsc_log_add_secret(child, "hunter2-secret"), NSC_OK);
	nsc_log_set_format(child, NSC_LOG_FORMAT_JSON); /* sets the root's */
	nsc_warn(child, "bridge", "event=frame_failed n=%d msg=\"%s\"", 3,
		 "a \"quoted\" word, a back\\slash, hunter2-secret\nand a second line");
	ck_assert_int_eq(g_cap.n, 1);
	struct json_object *o = json_tokener_parse(g_cap.lines[0]);
	ck_assert_msg(o != NULL, "not JSON: %s", g_cap.lines[0]);
	static const char *const keys[] = { "ts", "level", "comp", "tenant", "event", "n", "msg" };
	size_t k = 0;
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		ck_assert_uint_lt(k, sizeof(keys) / sizeof(keys[0]));
		ck_assert_str_eq(key, keys[k++]); /* the text line's order */
	}
	ck_assert_uint_eq(k, sizeof(keys) / sizeof(keys[0]));
	struct json_object *v;
	ck_assert(json_object_object_get_ex(o, "level", &v));
	ck_assert_str_eq(json_object_get_string(v), "warn");
	ck_assert(json_object_object_get_ex(o, "n", &v));
	ck_assert_str_eq(json_object_get_string(v), "3");
	ck_assert(json_object_object_get_ex(o, "msg", &v));
	ck_assert_str_eq(json_object_get_string(v),
			 "a \"quoted\" word, a back\\slash, " NSC_REDACTED "\\nand a second line");
	json_object_put(o);

	/* A cut line says so. */
	char big[40000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nsc_info(g_log, "test", "event=big v=%s", big);
	ck_assert_int_eq(g_cap.n, 2);
	o = json_tokener_parse(g_cap.lines[1]);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "truncated", &v));
	ck_assert(json_object_get_boolean(v));
	json_object_put(o);
	nsc_log_set_format(g_log, NSC_LOG_FORMAT_TEXT);
	nsc_info(g_log, "test", "event=back");
	ck_assert_ptr_nonnull(strstr(g_cap.lines[2], " comp=test event=back"));
	nsc_log_free(child);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("format");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_line_format);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_level_names);
	tcase_add_test(tc, test_stderr_sink);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("redaction");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_secret_plain_and_encoded);
	tcase_add_test(tc, test_secret_rules);
	tcase_add_test(tc, test_secret_removed);
	tcase_add_test(tc, test_secret_held_twice_stays_until_both_forget);
	tcase_add_test(tc, test_userinfo);
	tcase_add_test(tc, test_query_form_keys);
	tcase_add_test(tc, test_json_keys);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_no_over_redaction);
	tcase_add_test(tc, test_redacted_at_every_level);
	tcase_add_test(tc, test_redact_function);
	tcase_add_test(tc, test_control_chars_and_truncation);
	tcase_add_test(tc, test_child_fields_and_secrets);
	suite_add_tcase(s, tc);

	tc = tcase_create("quoting");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_quoted_values_escaped);
	tcase_add_test(tc, test_json_format);
	tcase_add_test(tc, test_line_grammar);
	suite_add_tcase(s, tc);

	tc = tcase_create("repeats");
	tcase_add_checked_fixture(tc, repeats_setup, teardown);
	tcase_add_test(tc, test_repeats_limited);
	tcase_add_test(tc, test_repeats_only_identical_warnings);
	tcase_add_test(tc, test_repeats_news_again_after_a_quiet_minute);
	tcase_add_test(tc, test_repeats_table_full);
	tcase_add_test(tc, test_child_repeats_per_tenant);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(log_suite)
