/* SPDX-License-Identifier: MIT */
/*
 * The cookies one vendor session sets, for a driver whose vendor keeps
 * the session in a cookie (Glooko's `_logbook-web_session`) rather than
 * a token: take each Set-Cookie value of an answer, send them back as one
 * `Cookie:` header on the next request.
 *
 * A jar serves one vendor host, so Domain and Path are kept for a driver
 * to inspect but not matched: every live cookie goes into the header.
 * Expires (RFC 1123, the old "Wdy, DD-Mon-YY HH:MM:SS GMT" and asctime
 * forms, read as RFC 6265 §5.1.1 says) and Max-Age (which wins over
 * Expires) set when a cookie stops being sent; without either it lives
 * until cleared. Secure and HttpOnly are recorded, SameSite and unknown
 * attributes ignored, an attribute with a value we cannot read (a
 * Max-Age of "soon") ignored as RFC 6265 says. A cookie of the same name
 * replaces the one held; an empty value, Max-Age <= 0 or an Expires in the
 * past deletes it. Names are case-sensitive.
 *
 * A Set-Cookie value we cannot use (no `=`, an empty or over-long name, a
 * control byte anywhere, longer than NSC_COOKIE_LINE_MAX) is ignored and
 * counted in `ignored`, never an error: one odd header from a vendor must
 * not fail a login.
 *
 * Values are secrets: each is held in a secret slot, so it is redacted
 * from every log line while held and wiped when replaced, deleted or
 * cleared. Time is always the caller's wall clock in epoch ms (the loop's,
 * virtual in tests); nothing here reads a clock.
 *
 * Ownership & concurrency: the jar owns its cookies and belongs to the
 * thread of the driver that embeds it; `log` is borrowed and outlives it.
 * Call nsc_cookie_jar_clear() before dropping a jar.
 */
#ifndef NSC_SRC_SOURCES_KIT_COOKIE_JAR_H
#define NSC_SRC_SOURCES_KIT_COOKIE_JAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "log.h"
#include "sources/kit/secret_slot.h"

#define NSC_COOKIE_JAR_MAX 16      /* cookies held at once */
#define NSC_COOKIE_NAME_MAX 128    /* bytes of a name, with its NUL */
#define NSC_COOKIE_ATTR_MAX 256    /* bytes of a Domain or Path, with its NUL */
#define NSC_COOKIE_LINE_MAX 8192   /* bytes of one Set-Cookie value */
#define NSC_COOKIE_NEVER INT64_MAX /* expires_wall_ms of a cookie without Expires or Max-Age */

struct nsc_cookie {
	char name[NSC_COOKIE_NAME_MAX];
	struct nsc_secret_slot value;     /* never empty while the cookie is held */
	char domain[NSC_COOKIE_ATTR_MAX]; /* "" when not given; a leading dot dropped */
	char path[NSC_COOKIE_ATTR_MAX];   /* "" when not given */
	int64_t expires_wall_ms;          /* no longer sent from this instant on */
	bool secure;
	bool http_only;
};

struct nsc_cookie_jar {
	struct nsc_log *log;
	struct nsc_cookie cookies[NSC_COOKIE_JAR_MAX]; /* [0, count) in the order first set */
	size_t count;
	size_t ignored; /* Set-Cookie values ignored as unusable, for the life of the jar */
};

void nsc_cookie_jar_init(struct nsc_cookie_jar *jar, struct nsc_log *log);

/*
 * Takes one Set-Cookie header value (without "Set-Cookie:"). NSC_OK when
 * it was stored, deleted a cookie, or was ignored (counted in `ignored`);
 * NSC_ERR_RANGE when it is a new cookie and NSC_COOKIE_JAR_MAX live ones
 * are held (expired ones make room first); NSC_ERR_NOMEM. On an error the
 * jar is as it was.
 */
nsc_rc nsc_cookie_jar_take(struct nsc_cookie_jar *jar, const char *set_cookie, int64_t now_wall_ms);

/*
 * The request header "Cookie: a=b; c=d" of the cookies still live at
 * now_wall_ms, in the order they were first set, into *out (malloc'd;
 * free it with nsc_secret_free). *out is NULL when no cookie is live:
 * send no Cookie header then. NSC_ERR_NOMEM leaves *out NULL.
 */
nsc_rc nsc_cookie_jar_header(const struct nsc_cookie_jar *jar, int64_t now_wall_ms, char **out);

/* The cookie called `name`, expired or not, or NULL; valid until the jar next changes. */
const struct nsc_cookie *nsc_cookie_jar_get(const struct nsc_cookie_jar *jar, const char *name);

/* Forgets every cookie, wiping their values (the ignored count stays). */
void nsc_cookie_jar_clear(struct nsc_cookie_jar *jar);

#endif
