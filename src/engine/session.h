/* SPDX-License-Identifier: MIT */
/*
 * The session machine, table-driven: state x event -> next state, with
 * every pair written out (NSC_SESSION_IGNORE where an event means nothing
 * in a state). Entry actions (start a login, arm refresh/expiry timers,
 * answer the waiting frame) run in one place, nsc_session_set_state().
 *
 *   INACTIVE --REQUIRED--> AUTHENTICATING --AUTH_OK--> AUTHORIZING
 *   AUTHORIZING --AUTHZ_OK--> ESTABLISHED --REFRESH_DUE--> REFRESHING
 *   ESTABLISHED/REFRESHING --EXPIRE_DUE--> EXPIRED --REQUIRED--> AUTHENTICATING
 *   any login failure --AUTH_FAILED--> INACTIVE (the waiter gets the code)
 *   RESET (vendor killed the session) --> INACTIVE, from any settled state
 *   ABORT (the bridge stopped while a login was in flight) --> INACTIVE
 *
 * The driver's steps are asynchronous; the machine never retries by itself.
 */
#ifndef NSC_ENGINE_SESSION_H
#define NSC_ENGINE_SESSION_H

#include <stdint.h>

#include "engine/loop.h"
#include "log.h"
#include "source.h"

#define NSC_SESSION_STATES(X)                                                \
	X(INACTIVE) X(AUTHENTICATING) X(AUTHORIZING) X(ESTABLISHED) X(REFRESHING) \
	X(EXPIRED)
#define NSC_SESSION_EVENTS(X)                                                \
	X(REQUIRED) X(AUTH_OK) X(AUTH_FAILED) X(AUTHZ_OK) X(REFRESH_DUE)     \
	X(EXPIRE_DUE) X(RESET) X(ABORT)

#define NSC_SS_ENUM_(n) NSC_SS_##n,
enum nsc_session_state { NSC_SESSION_STATES(NSC_SS_ENUM_) NSC_SS_COUNT_ };
#undef NSC_SS_ENUM_
#define NSC_SE_ENUM_(n) NSC_SE_##n,
enum nsc_session_event { NSC_SESSION_EVENTS(NSC_SE_ENUM_) NSC_SE_COUNT_ };
#undef NSC_SE_ENUM_

#define NSC_SESSION_STATE_COUNT ((int)NSC_SS_COUNT_)
#define NSC_SESSION_EVENT_COUNT ((int)NSC_SE_COUNT_)
#define NSC_SESSION_IGNORE (-1)

const char *nsc_session_state_name(enum nsc_session_state s);
const char *nsc_session_event_name(enum nsc_session_event e);

/* The pure transition table: the next state, or NSC_SESSION_IGNORE. */
int nsc_session_next_state(enum nsc_session_state s, enum nsc_session_event e);

/* Called (always from the loop, never re-entrantly) when a session is usable or not. */
typedef void (*nsc_session_ready_fn)(void *arg, nsc_rc rc, const char *message);

struct nsc_session {
	enum nsc_session_state state;
	const struct nsc_source_driver *driver;
	void *source; /* the driver's ctx */
	const struct nsc_source_timing *timing; /* this instance's (owned by the caller) */
	struct nsc_loop *loop;
	struct nsc_log *log;

	uint64_t refresh_timer, expire_timer, answer_timer;

	nsc_session_ready_fn waiter; /* one frame at a time waits */
	void *waiter_arg;
	nsc_rc answer_rc;

	nsc_rc last_rc;       /* of the last login attempt */
	char last_message[NSC_ERROR_MSG_MAX];
	uint64_t logins;      /* authenticate calls made, for health and tests */
	int64_t established_at_ms;
};

void nsc_session_init(struct nsc_session *s, const struct nsc_source_driver *driver, void *source,
		      const struct nsc_source_timing *timing, struct nsc_loop *loop, struct nsc_log *log);
void nsc_session_fini(struct nsc_session *s);

/* Feeds one event to the machine (used by the timers, the driver's callbacks and tests). */
void nsc_session_dispatch(struct nsc_session *s, enum nsc_session_event e);

/* Asks for a usable session; `ready` is called once, later, from the loop. */
void nsc_session_require(struct nsc_session *s, nsc_session_ready_fn ready, void *arg);
/* The vendor no longer accepts the session: forget it (RESET). */
void nsc_session_reset(struct nsc_session *s);
/*
 * The driver's step in flight was cancelled (bridge stopped): a login that
 * will never answer is forgotten (ABORT), so the next start logs in afresh.
 */
void nsc_session_abort(struct nsc_session *s);

#endif
