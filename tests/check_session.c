/* SPDX-License-Identifier: MIT */
/*
 * The session machine: every state x event pair against the table this test
 * writes out by hand, then its behaviour with a scripted source on a loop
 * driven by a virtual clock.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "engine/session.h"
#include "fake_source.h"
#include "harness.h"
#include "nsc_check.h"

#define MIN 60000LL

/* The expected transitions; every pair not listed is ignored. */
static const struct {
	enum nsc_session_state from;
	enum nsc_session_event on;
	enum nsc_session_state to;
} expected[] = {
	{ NSC_SS_INACTIVE, NSC_SE_REQUIRED, NSC_SS_AUTHENTICATING },
	{ NSC_SS_AUTHENTICATING, NSC_SE_AUTH_OK, NSC_SS_AUTHORIZING },
	{ NSC_SS_AUTHENTICATING, NSC_SE_AUTH_FAILED, NSC_SS_INACTIVE },
	{ NSC_SS_AUTHORIZING, NSC_SE_AUTHZ_OK, NSC_SS_ESTABLISHED },
	{ NSC_SS_AUTHORIZING, NSC_SE_AUTH_FAILED, NSC_SS_INACTIVE },
	{ NSC_SS_ESTABLISHED, NSC_SE_REFRESH_DUE, NSC_SS_REFRESHING },
	{ NSC_SS_ESTABLISHED, NSC_SE_EXPIRE_DUE, NSC_SS_EXPIRED },
	{ NSC_SS_ESTABLISHED, NSC_SE_RESET, NSC_SS_INACTIVE },
	{ NSC_SS_REFRESHING, NSC_SE_AUTH_OK, NSC_SS_AUTHORIZING },
	{ NSC_SS_REFRESHING, NSC_SE_AUTH_FAILED, NSC_SS_EXPIRED },
	{ NSC_SS_REFRESHING, NSC_SE_EXPIRE_DUE, NSC_SS_EXPIRED },
	{ NSC_SS_REFRESHING, NSC_SE_RESET, NSC_SS_INACTIVE },
	{ NSC_SS_EXPIRED, NSC_SE_REQUIRED, NSC_SS_AUTHENTICATING },
	{ NSC_SS_EXPIRED, NSC_SE_RESET, NSC_SS_INACTIVE },
	{ NSC_SS_AUTHENTICATING, NSC_SE_ABORT, NSC_SS_INACTIVE },
	{ NSC_SS_AUTHORIZING, NSC_SE_ABORT, NSC_SS_INACTIVE },
	{ NSC_SS_REFRESHING, NSC_SE_ABORT, NSC_SS_INACTIVE },
};

START_TEST(every_pair)
{
	/* _i enumerates all state x event pairs. */
	enum nsc_session_state s = (enum nsc_session_state)(_i / NSC_SESSION_EVENT_COUNT);
	enum nsc_session_event e = (enum nsc_session_event)(_i % NSC_SESSION_EVENT_COUNT);
	int want = NSC_SESSION_IGNORE;
	for (size_t k = 0; k < sizeof(expected) / sizeof(expected[0]); k++)
		if (expected[k].from == s && expected[k].on == e)
			want = (int)expected[k].to;
	ck_assert_msg(nsc_session_next_state(s, e) == want, "%s x %s: got %d, want %d",
		      nsc_session_state_name(s), nsc_session_event_name(e), nsc_session_next_state(s, e), want);
}
END_TEST

START_TEST(out_of_range_is_ignored)
{
	ck_assert_int_eq(nsc_session_next_state((enum nsc_session_state)99, NSC_SE_REQUIRED), NSC_SESSION_IGNORE);
	ck_assert_int_eq(nsc_session_next_state(NSC_SS_INACTIVE, (enum nsc_session_event)99), NSC_SESSION_IGNORE);
	ck_assert_str_eq(nsc_session_state_name(NSC_SS_REFRESHING), "REFRESHING");
	ck_assert_str_eq(nsc_session_event_name(NSC_SE_EXPIRE_DUE), "EXPIRE_DUE");
}
END_TEST

/* A session over the scripted source, on the harness loop. */
struct sess {
	struct harness h;
	struct fake_source *src;
	struct nsc_session s;
	int answers;
	nsc_rc last_rc;
	char last_msg[256];
};

static void sess_init(struct sess *t, const struct nsc_source_driver *drv)
{
	memset(t, 0, sizeof(*t));
	harness_setup(&t->h, NSC_LOG_TRACE);
	struct nsc_source_env env = { .log = t->h.log, .loop = t->h.loop };
	void *ctx;
	ck_assert_int_eq(drv->create(&env, &ctx, NULL), NSC_OK);
	t->src = ctx;
	nsc_session_init(&t->s, drv, ctx, &drv->timing, t->h.loop, t->h.log);
}

static void sess_fini(struct sess *t, const struct nsc_source_driver *drv)
{
	nsc_session_fini(&t->s);
	drv->destroy(t->src);
	harness_teardown(&t->h);
}

static void on_ready(void *arg, nsc_rc rc, const char *msg)
{
	struct sess *t = arg;
	t->answers++;
	t->last_rc = rc;
	snprintf(t->last_msg, sizeof(t->last_msg), "%s", msg ? msg : "");
}

START_TEST(login_once_then_reuse)
{
	struct sess h;
	sess_init(&h, &fake_source_driver);
	nsc_session_require(&h.s, on_ready, &h);
	ck_assert_int_eq(h.answers, 0); /* never answered re-entrantly */
	harness_run_for(&h.h, 1);
	ck_assert_int_eq(h.answers, 1);
	ck_assert_int_eq(h.last_rc, NSC_OK);
	ck_assert_int_eq(h.s.state, NSC_SS_ESTABLISHED);
	ck_assert_uint_eq(h.src->auth_calls, 1);
	sess_fini(&h, &fake_source_driver);
}
END_TEST

START_TEST(refresh_and_expiry_timers)
{
	struct sess h;
	sess_init(&h, &fake_source_driver);
	nsc_session_require(&h.s, on_ready, &h);
	/* Refresh after 50 minutes logs in again in the background. */
	harness_run_for(&h.h, 50 * MIN + 1);
	ck_assert_uint_eq(h.src->auth_calls, 2);
	ck_assert_int_eq(h.s.state, NSC_SS_ESTABLISHED);
	sess_fini(&h, &fake_source_driver);

	/* A failed refresh lets the session expire; the next require logs in. */
	sess_init(&h, &fake_source_driver);
	fake_script_push(&h.src->auth, NSC_OK);
	fake_script_push(&h.src->auth, NSC_ERR_RETRY);
	nsc_session_require(&h.s, on_ready, &h);
	harness_run_for(&h.h, 50 * MIN + 1);
	ck_assert_int_eq(h.s.state, NSC_SS_EXPIRED);
	ck_assert_uint_eq(h.src->drops, 1);
	sess_fini(&h, &fake_source_driver);
}
END_TEST

START_TEST(expiry_without_refresh)
{
	struct sess h;
	sess_init(&h, &fake_source_driver);
	nsc_session_require(&h.s, on_ready, &h);
	harness_run_for(&h.h, 1);
	nsc_session_dispatch(&h.s, NSC_SE_EXPIRE_DUE);
	ck_assert_int_eq(h.s.state, NSC_SS_EXPIRED);
	nsc_session_require(&h.s, on_ready, &h);
	ck_assert_uint_eq(h.src->auth_calls, 2);
	sess_fini(&h, &fake_source_driver);
}
END_TEST

START_TEST(rejected_login_answers_with_message)
{
	struct sess h;
	sess_init(&h, &fake_source_driver);
	fake_script_push(&h.src->auth, NSC_ERR_REJECTED);
	nsc_session_require(&h.s, on_ready, &h);
	harness_run_for(&h.h, 1);
	ck_assert_int_eq(h.answers, 1);
	ck_assert_int_eq(h.last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(h.last_msg, "check FAKE_PASSWORD"));
	ck_assert_int_eq(h.s.state, NSC_SS_INACTIVE);
	ck_assert_uint_eq(h.src->auth_calls, 1); /* the machine never retries by itself */
	sess_fini(&h, &fake_source_driver);
}
END_TEST

START_TEST(reset_drops_and_relogs)
{
	struct sess h;
	sess_init(&h, &fake_source_driver);
	nsc_session_require(&h.s, on_ready, &h);
	harness_run_for(&h.h, 1);
	nsc_session_reset(&h.s);
	ck_assert_int_eq(h.s.state, NSC_SS_INACTIVE);
	ck_assert_uint_eq(h.src->drops, 1);
	sess_fini(&h, &fake_source_driver);

	sess_init(&h, &fake_source_driver);
	nsc_session_require(&h.s, on_ready, &h);
	harness_run_for(&h.h, 1);
	nsc_session_reset(&h.s);
	nsc_session_require(&h.s, on_ready, &h);
	ck_assert_uint_eq(h.src->auth_calls, 2);
	/* The expiry timer of the dropped session must not fire later. */
	ck_assert_int_eq(h.s.state, NSC_SS_ESTABLISHED);
	sess_fini(&h, &fake_source_driver);
}
END_TEST

START_TEST(two_step_login)
{
	struct sess h;
	sess_init(&h, &fake_source_driver_two_step);
	nsc_session_require(&h.s, on_ready, &h);
	harness_run_for(&h.h, 1);
	ck_assert_uint_eq(h.src->auth_calls, 1);
	ck_assert_uint_eq(h.src->authorize_calls, 1);
	ck_assert_int_eq(h.last_rc, NSC_OK);
	sess_fini(&h, &fake_source_driver_two_step);

	sess_init(&h, &fake_source_driver_two_step);
	fake_script_push(&h.src->authorize, NSC_ERR_REJECTED);
	nsc_session_require(&h.s, on_ready, &h);
	harness_run_for(&h.h, 1);
	ck_assert_int_eq(h.last_rc, NSC_ERR_REJECTED);
	ck_assert_int_eq(h.s.state, NSC_SS_INACTIVE);
	sess_fini(&h, &fake_source_driver_two_step);
}
END_TEST

static Suite *session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *grid = tcase_create("grid");
	tcase_add_loop_test(grid, every_pair, 0, NSC_SESSION_STATE_COUNT * NSC_SESSION_EVENT_COUNT);
	tcase_add_test(grid, out_of_range_is_ignored);
	suite_add_tcase(s, grid);
	TCase *tc = tcase_create("behaviour");
	tcase_add_test(tc, login_once_then_reuse);
	tcase_add_test(tc, refresh_and_expiry_timers);
	tcase_add_test(tc, expiry_without_refresh);
	tcase_add_test(tc, rejected_login_answers_with_message);
	tcase_add_test(tc, reset_drops_and_relogs);
	tcase_add_test(tc, two_step_login);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(session_suite)
