/* SPDX-License-Identifier: MIT */
/*
 * The sources' asynchronous HTTP call against the libmicrohttpd test
 * server: what goes on the wire, what comes back, and every way a request
 * can fail (timeout, cut-off body, refused connection, redirect, cancel).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nsc_check.h"
#include "server/server.h"
#include "http/vendor_client.h"

struct vh {
	struct harness h;
	struct tsrv *srv;
	struct nsc_vendor_call *call;
	int done_calls;
	long status;
	int transport;
	char body[256];
	int64_t retry_after_ms;
	char content_type[96];
	nsc_rc rc;
	char msg[NSC_ERROR_MSG_MAX];
};

static void echo(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	(void)arg;
	char buf[512];
	snprintf(buf, sizeof(buf), "{\"method\":\"%s\",\"len\":%zu}", req->method, req->body_len);
	tsrv_respond(resp, 201, NULL, buf, strlen(buf));
}

static void slow_down(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	(void)arg;
	(void)req;
	tsrv_respond(resp, 429, "text/html; charset=utf-8", "<html>busy</html>", 17);
	tsrv_respond_header(resp, "Retry-After", "120");
}

static void moved(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	(void)arg;
	(void)req;
	tsrv_respond(resp, 302, "text/plain", "", 0);
	tsrv_respond_header(resp, "Location", "/elsewhere");
}

static void vh_init(struct vh *t)
{
	memset(t, 0, sizeof(*t));
	harness_setup(&t->h, NSC_LOG_INFO);
	t->srv = tsrv_start(0);
	ck_assert_ptr_nonnull(t->srv);
	ck_assert_int_eq(tsrv_route(t->srv, NULL, "/echo", echo, NULL), 0);
	ck_assert_int_eq(tsrv_route(t->srv, NULL, "/busy", slow_down, NULL), 0);
	ck_assert_int_eq(tsrv_route(t->srv, NULL, "/moved", moved, NULL), 0);
	ck_assert_int_eq(tsrv_route(t->srv, NULL, "/elsewhere", echo, NULL), 0);
	t->call = nsc_vendor_call_new(t->h.loop);
	ck_assert_ptr_nonnull(t->call);
}

static void vh_fini(struct vh *t)
{
	nsc_vendor_call_free(t->call);
	tsrv_stop(t->srv);
	harness_teardown(&t->h);
}

static void on_done(void *arg, struct nsc_http_response *resp)
{
	struct vh *t = arg;
	struct nsc_error err;
	nsc_error_clear(&err);
	t->done_calls++;
	t->status = resp->status;
	t->transport = resp->transport;
	snprintf(t->body, sizeof(t->body), "%s", resp->body);
	t->retry_after_ms = resp->retry_after_ms;
	snprintf(t->content_type, sizeof(t->content_type), "%s", resp->content_type);
	t->rc = nsc_vendor_transport_rc(resp, "Test vendor", &err);
	snprintf(t->msg, sizeof(t->msg), "%s", err.msg);
}

static void request(struct vh *t, const char *method, const char *path, const char *body,
		    long timeout_ms)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", tsrv_url(t->srv), path);
	struct nsc_vendor_request rq = {
		.method = method, .url = url,
		.headers = { "Content-Type: application/json", "version: 4.16.0", NULL },
		.body = body, .body_len = body ? strlen(body) : 0, .timeout_ms = timeout_ms,
	};
	struct nsc_error err;
	ck_assert_int_eq(nsc_vendor_call_start(t->call, &rq, on_done, t, &err), NSC_OK);
}

START_TEST(post_sends_headers_and_body)
{
	struct vh t;
	vh_init(&t);
	request(&t, "POST", "/echo?sessionId=abc&minutes=5", "{\"a\":1}", 0);
	ck_assert(nsc_vendor_call_running(t.call));
	harness_run_for(&t.h, 1000);
	ck_assert_int_eq(t.done_calls, 1);
	ck_assert(!nsc_vendor_call_running(t.call));
	ck_assert_int_eq(t.status, 201);
	ck_assert_int_eq(t.rc, NSC_OK);
	ck_assert_str_eq(t.body, "{\"method\":\"POST\",\"len\":7}");
	ck_assert_str_eq(t.content_type, "application/json");
	ck_assert_int_eq(t.retry_after_ms, -1);
	const struct tsrv_request *r = tsrv_find(t.srv, "POST", "/echo", 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->body, "{\"a\":1}");
	ck_assert_str_eq(tsrv_header(r, "version"), "4.16.0");
	ck_assert_str_eq(tsrv_header(r, "Content-Type"), "application/json");
	ck_assert_ptr_null(tsrv_header(r, "Expect"));
	ck_assert_str_eq(tsrv_arg(r, "sessionId"), "abc");
	ck_assert_str_eq(tsrv_arg(r, "minutes"), "5");
	vh_fini(&t);
}
END_TEST

/* A server setting that names another protocol is refused by curl, not read. */
START_TEST(only_http_and_https)
{
	struct vh t;
	vh_init(&t);
	char path[] = "/tmp/nsc-vendor-http-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"secret\":1}", 12), 12);
	close(fd);
	char url[64];
	snprintf(url, sizeof(url), "file://%s", path);
	struct nsc_vendor_request rq = { .method = "GET", .url = url };
	struct nsc_error err;
	ck_assert_int_eq(nsc_vendor_call_start(t.call, &rq, on_done, &t, &err), NSC_OK);
	harness_run_for(&t.h, 1000);
	unlink(path);
	ck_assert_int_eq(t.done_calls, 1);
	ck_assert_int_eq(t.transport, CURLE_UNSUPPORTED_PROTOCOL);
	ck_assert_str_eq(t.body, "");
	ck_assert_int_eq(t.rc, NSC_ERR_RETRY);
	vh_fini(&t);
}
END_TEST

START_TEST(empty_post_and_get)
{
	struct vh t;
	vh_init(&t);
	request(&t, "POST", "/echo", NULL, 0);
	harness_run_for(&t.h, 1000);
	ck_assert_str_eq(t.body, "{\"method\":\"POST\",\"len\":0}");
	/* The same call object runs the next request. */
	request(&t, "GET", "/echo", NULL, 0);
	harness_run_for(&t.h, 1000);
	ck_assert_int_eq(t.done_calls, 2);
	ck_assert_str_eq(t.body, "{\"method\":\"GET\",\"len\":0}");
	vh_fini(&t);
}
END_TEST

START_TEST(retry_after_and_content_type)
{
	struct vh t;
	vh_init(&t);
	request(&t, "GET", "/busy", NULL, 0);
	harness_run_for(&t.h, 1000);
	ck_assert_int_eq(t.status, 429);
	ck_assert_int_eq(t.rc, NSC_OK); /* an HTTP answer arrived; its meaning is the driver's */
	ck_assert_int_eq(t.retry_after_ms, 120000);
	ck_assert_str_eq(t.content_type, "text/html; charset=utf-8");
	ck_assert_str_eq(t.body, "<html>busy</html>");
	vh_fini(&t);
}
END_TEST

START_TEST(redirect_is_not_followed)
{
	struct vh t;
	vh_init(&t);
	request(&t, "POST", "/moved", "{}", 0);
	harness_run_for(&t.h, 1000);
	ck_assert_int_eq(t.status, 302);
	ck_assert_uint_eq(tsrv_count(t.srv, NULL, "/elsewhere"), 0);
	vh_fini(&t);
}
END_TEST

START_TEST(no_answer_times_out_as_retry)
{
	struct vh t;
	vh_init(&t);
	struct tsrv_fault f = { .hang = true };
	ck_assert_int_eq(tsrv_fault_add(t.srv, NULL, "/echo", &f), 0);
	request(&t, "GET", "/echo", NULL, 300);
	harness_run_for(&t.h, 1000);
	ck_assert_int_eq(t.done_calls, 1);
	ck_assert_int_eq(t.status, 0);
	ck_assert_int_eq(t.transport, CURLE_OPERATION_TIMEDOUT);
	ck_assert_int_eq(t.rc, NSC_ERR_RETRY);
	ck_assert_msg(strstr(t.msg, "Test vendor did not answer in time") != NULL, "%s", t.msg);
	vh_fini(&t);
}
END_TEST

START_TEST(cut_off_body_is_a_transport_failure)
{
	struct vh t;
	vh_init(&t);
	struct tsrv_fault f = { .truncate = true };
	ck_assert_int_eq(tsrv_fault_add(t.srv, NULL, "/echo", &f), 0);
	request(&t, "GET", "/echo", NULL, 2000);
	harness_run_for(&t.h, 1000);
	ck_assert_int_eq(t.done_calls, 1);
	ck_assert_int_eq(t.status, 0);
	ck_assert_int_ne(t.transport, CURLE_OK);
	ck_assert_int_eq(t.rc, NSC_ERR_RETRY);
	vh_fini(&t);
}
END_TEST

START_TEST(refused_connection_is_retry)
{
	struct vh t;
	vh_init(&t);
	unsigned short port = tsrv_port(t.srv);
	tsrv_stop(t.srv);
	t.srv = NULL;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/echo", port);
	struct nsc_vendor_request rq = { .method = "GET", .url = url, .headers = { NULL } };
	struct nsc_error err;
	ck_assert_int_eq(nsc_vendor_call_start(t.call, &rq, on_done, &t, &err), NSC_OK);
	harness_run_for(&t.h, 1000);
	ck_assert_int_eq(t.done_calls, 1);
	ck_assert_int_eq(t.rc, NSC_ERR_RETRY);
	ck_assert_msg(strstr(t.msg, "cannot reach Test vendor") != NULL, "%s", t.msg);
	nsc_vendor_call_free(t.call);
	harness_teardown(&t.h);
}
END_TEST

/*
 * Checks every 5 ms of real time until the hung request reached the server,
 * then cancels it. (A virtual clock stands still while a transfer runs.)
 */
static void cancel_once_arrived(void *arg)
{
	struct vh *t = arg;
	if (tsrv_count(t->srv, NULL, "/echo") == 0) {
		ck_assert_int_eq(nsc_loop_timer_in(t->h.loop, 5, cancel_once_arrived, t, NULL), NSC_OK);
		return;
	}
	nsc_vendor_call_cancel(t->call);
	nsc_loop_stop(t->h.loop);
}

START_TEST(cancel_means_no_callback)
{
	struct vh t;
	vh_init(&t);
	/* This test needs the real clock: rebuild the loop and the call on it. */
	nsc_vendor_call_free(t.call);
	nsc_loop_free(t.h.loop);
	ck_assert_int_eq(nsc_loop_new(&nsc_clock_system, &t.h.loop), NSC_OK);
	t.call = nsc_vendor_call_new(t.h.loop);
	ck_assert_ptr_nonnull(t.call);

	struct tsrv_fault f = { .hang = true, .times = 1 };
	ck_assert_int_eq(tsrv_fault_add(t.srv, NULL, "/echo", &f), 0);
	request(&t, "GET", "/echo", NULL, 0);
	struct nsc_error err;
	/* One request at a time per call object. */
	struct nsc_vendor_request again = { .method = "GET", .url = "http://127.0.0.1:1/", .headers = { NULL } };
	ck_assert_int_eq(nsc_vendor_call_start(t.call, &again, on_done, &t, &err), NSC_ERR_STATE);
	ck_assert_int_eq(nsc_loop_timer_in(t.h.loop, 5, cancel_once_arrived, &t, NULL), NSC_OK);
	ck_assert_int_eq(nsc_loop_run(t.h.loop), NSC_OK);
	ck_assert(!nsc_vendor_call_running(t.call));
	ck_assert_uint_eq(tsrv_count(t.srv, NULL, "/echo"), 1);
	/* Nothing is pending any more: the loop returns at once and no callback ran. */
	ck_assert_int_eq(nsc_loop_run(t.h.loop), NSC_OK);
	ck_assert_int_eq(t.done_calls, 0);
	request(&t, "GET", "/echo", NULL, 0);
	ck_assert_int_eq(nsc_loop_run(t.h.loop), NSC_OK);
	ck_assert_int_eq(t.done_calls, 1);
	ck_assert_int_eq(t.status, 201);
	vh_fini(&t);
}
END_TEST

START_TEST(excerpt_is_printable_and_bounded)
{
	char body[] = "<html>\r\n\tAttention Required!\x01</html>";
	struct nsc_http_response resp = { .body = body, .body_len = sizeof(body) - 1 };
	char buf[20];
	nsc_vendor_body_excerpt(&resp, buf, sizeof(buf));
	ck_assert_str_eq(buf, "<html>   Attention ");
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
}
END_TEST

static Suite *vendor_http_suite(void)
{
	Suite *s = suite_create("vendor_http");
	TCase *tc = tcase_create("call");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, post_sends_headers_and_body);
	tcase_add_test(tc, empty_post_and_get);
	tcase_add_test(tc, only_http_and_https);
	tcase_add_test(tc, retry_after_and_content_type);
	tcase_add_test(tc, redirect_is_not_followed);
	tcase_add_test(tc, no_answer_times_out_as_retry);
	tcase_add_test(tc, cut_off_body_is_a_transport_failure);
	tcase_add_test(tc, refused_connection_is_retry);
	tcase_add_test(tc, cancel_means_no_callback);
	tcase_add_test(tc, excerpt_is_printable_and_bounded);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(vendor_http_suite)
