/* SPDX-License-Identifier: MIT */
/* The session machine (see session.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "engine/session.h"

#define COMP "session"

static const char *const state_names[] = {
#define X(n) #n,
	NSC_SESSION_STATES(X)
#undef X
};

static const char *const event_names[] = {
#define X(n) #n,
	NSC_SESSION_EVENTS(X)
#undef X
};

const char *nsc_session_state_name(enum nsc_session_state s)
{
	return (unsigned)s < NSC_SS_COUNT_ ? state_names[s] : "?";
}

const char *nsc_session_event_name(enum nsc_session_event e)
{
	return (unsigned)e < NSC_SE_COUNT_ ? event_names[e] : "?";
}

#define IGN NSC_SESSION_IGNORE
#define S(n) NSC_SS_##n
/*
 * Rows: states; columns: REQUIRED AUTH_OK AUTH_FAILED AUTHZ_OK REFRESH_DUE
 * EXPIRE_DUE RESET ABORT
 */
static const signed char transition[NSC_SS_COUNT_][NSC_SE_COUNT_] = {
	[NSC_SS_INACTIVE] = {S(AUTHENTICATING), IGN, IGN, IGN, IGN, IGN, IGN, IGN},
	/* A reset while a login is in flight waits for its answer; an abort does not. */
	[NSC_SS_AUTHENTICATING] = {IGN, S(AUTHORIZING), S(INACTIVE), IGN, IGN, IGN, IGN, S(INACTIVE)},
	[NSC_SS_AUTHORIZING] = {IGN, IGN, S(INACTIVE), S(ESTABLISHED), IGN, IGN, IGN, S(INACTIVE)},
	[NSC_SS_ESTABLISHED] = {IGN, IGN, IGN, IGN, S(REFRESHING), S(EXPIRED), S(INACTIVE), IGN},
	/* The old session stays usable while the new login runs (unless that login is aborted). */
	[NSC_SS_REFRESHING] = {IGN, S(AUTHORIZING), S(EXPIRED), IGN, IGN, S(EXPIRED), S(INACTIVE),
			       S(INACTIVE)},
	[NSC_SS_EXPIRED] = {S(AUTHENTICATING), IGN, IGN, IGN, IGN, IGN, S(INACTIVE), IGN},
};
#undef S
#undef IGN

int nsc_session_next_state(enum nsc_session_state s, enum nsc_session_event e)
{
	if ((unsigned)s >= NSC_SS_COUNT_ || (unsigned)e >= NSC_SE_COUNT_)
		return NSC_SESSION_IGNORE;
	return transition[s][e];
}

static bool usable(const struct nsc_session *s)
{
	return s->state == NSC_SS_ESTABLISHED || s->state == NSC_SS_REFRESHING;
}

static void answer_now(void *arg)
{
	struct nsc_session *s = arg;
	nsc_session_ready_fn fn = s->waiter;
	s->answer_timer = 0;
	s->waiter = NULL;
	if (fn)
		fn(s->waiter_arg, s->answer_rc, s->answer_rc == NSC_OK ? NULL : s->last_message);
}

/* Answers the waiting frame on the next loop turn (never re-entrantly). */
static void answer(struct nsc_session *s, nsc_rc rc)
{
	if (!s->waiter || s->answer_timer)
		return;
	s->answer_rc = rc;
	if (nsc_loop_timer_in(s->loop, 0, answer_now, s, &s->answer_timer) != NSC_OK) {
		/* Out of memory for a timer: answer directly rather than hang the frame. */
		answer_now(s);
	}
}

static void on_refresh_due(void *arg)
{
	struct nsc_session *s = arg;
	s->refresh_timer = 0;
	nsc_session_dispatch(s, NSC_SE_REFRESH_DUE);
}

static void on_expire_due(void *arg)
{
	struct nsc_session *s = arg;
	s->expire_timer = 0;
	nsc_session_dispatch(s, NSC_SE_EXPIRE_DUE);
}

static void login_done(void *arg, nsc_rc rc, const char *message)
{
	struct nsc_session *s = arg;
	s->last_rc = rc;
	snprintf(s->last_message, sizeof(s->last_message), "%s", message ? message : nsc_strerror(rc));
	nsc_session_dispatch(s, rc == NSC_OK ? NSC_SE_AUTH_OK : NSC_SE_AUTH_FAILED);
}

static void authorize_done(void *arg, nsc_rc rc, const char *message)
{
	struct nsc_session *s = arg;
	s->last_rc = rc;
	snprintf(s->last_message, sizeof(s->last_message), "%s", message ? message : nsc_strerror(rc));
	nsc_session_dispatch(s, rc == NSC_OK ? NSC_SE_AUTHZ_OK : NSC_SE_AUTH_FAILED);
}

static void cancel_timers(struct nsc_session *s)
{
	nsc_loop_timer_cancel(s->loop, &s->refresh_timer);
	nsc_loop_timer_cancel(s->loop, &s->expire_timer);
}

static void start_login(struct nsc_session *s)
{
	s->logins++;
	if (s->driver->authenticate)
		s->driver->authenticate(s->source, login_done, s);
	else
		login_done(s, NSC_OK, NULL);
}

static void arm_timers(struct nsc_session *s)
{
	const struct nsc_source_timing *t = s->timing;
	cancel_timers(s);
	s->established_at_ms = nsc_loop_wall_ms(s->loop);
	if (t->session_refresh_ms > 0 &&
	    nsc_loop_timer_in(s->loop, t->session_refresh_ms, on_refresh_due, s, &s->refresh_timer) != NSC_OK)
		nsc_warn(s->log, COMP, "event=timer_failed timer=refresh");
	if (t->session_expire_ms > 0 &&
	    nsc_loop_timer_in(s->loop, t->session_expire_ms, on_expire_due, s, &s->expire_timer) != NSC_OK)
		nsc_warn(s->log, COMP, "event=timer_failed timer=expire");
}

/* Entry actions, in one place; `from` tells where we came from. */
static void session_set_state(struct nsc_session *s, enum nsc_session_state to, enum nsc_session_event why,
			      const char *caller)
{
	enum nsc_session_state from = s->state;
	nsc_dbg(s->log, COMP, "event=transition from=%s to=%s on=%s by=%s", nsc_session_state_name(from),
		nsc_session_state_name(to), nsc_session_event_name(why), caller);
	s->state = to;
	switch (to) {
	case NSC_SS_AUTHENTICATING:
	case NSC_SS_REFRESHING:
		start_login(s);
		break;
	case NSC_SS_AUTHORIZING:
		if (s->driver->authorize)
			s->driver->authorize(s->source, authorize_done, s);
		else
			authorize_done(s, NSC_OK, NULL);
		break;
	case NSC_SS_ESTABLISHED:
		arm_timers(s);
		if (from == NSC_SS_AUTHORIZING)
			nsc_info(s->log, COMP, "event=session_established source=%s", s->driver->name);
		answer(s, NSC_OK);
		break;
	case NSC_SS_INACTIVE:
	case NSC_SS_EXPIRED:
		cancel_timers(s);
		if (s->driver->drop_session)
			s->driver->drop_session(s->source);
		if (why == NSC_SE_AUTH_FAILED)
			answer(s, s->last_rc == NSC_OK ? NSC_ERR_INTERNAL : s->last_rc);
		else if (why != NSC_SE_ABORT && s->waiter && !s->answer_timer)
			/* A frame still waits (e.g. reset during its wait): log in again. */
			nsc_session_dispatch(s, NSC_SE_REQUIRED);
		break;
	case NSC_SS_COUNT_:
		break;
	}
}

void nsc_session_dispatch(struct nsc_session *s, enum nsc_session_event e)
{
	int next = nsc_session_next_state(s->state, e);
	if (next == NSC_SESSION_IGNORE) {
		nsc_trace(s->log, COMP, "event=ignored state=%s on=%s", nsc_session_state_name(s->state),
			  nsc_session_event_name(e));
		return;
	}
	session_set_state(s, (enum nsc_session_state)next, e, __func__);
}

void nsc_session_init(struct nsc_session *s, const struct nsc_source_driver *driver, void *source,
		      const struct nsc_source_timing *timing, struct nsc_loop *loop, struct nsc_log *log)
{
	memset(s, 0, sizeof(*s));
	s->state = NSC_SS_INACTIVE;
	s->driver = driver;
	s->source = source;
	s->timing = timing;
	s->loop = loop;
	s->log = log;
}

void nsc_session_fini(struct nsc_session *s)
{
	cancel_timers(s);
	nsc_loop_timer_cancel(s->loop, &s->answer_timer);
	s->waiter = NULL;
}

void nsc_session_require(struct nsc_session *s, nsc_session_ready_fn ready, void *arg)
{
	s->waiter = ready;
	s->waiter_arg = arg;
	if (usable(s))
		answer(s, NSC_OK);
	else
		nsc_session_dispatch(s, NSC_SE_REQUIRED);
}

void nsc_session_reset(struct nsc_session *s)
{
	nsc_session_dispatch(s, NSC_SE_RESET);
}

void nsc_session_abort(struct nsc_session *s)
{
	nsc_session_dispatch(s, NSC_SE_ABORT);
}
