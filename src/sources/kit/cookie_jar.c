/* SPDX-License-Identifier: MIT */
/* The cookies of one vendor session (see cookie_jar.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"
#include "sources/kit/cookie_date.h"
#include "sources/kit/cookie_jar.h"
#include "timeutil.h"

#define COOKIE_PREFIX "Cookie: "

/* A slice of the Set-Cookie value. */
struct span {
	const char *p;
	size_t n;
};

/* What one Set-Cookie value says, before it touches the jar. */
struct parsed {
	struct span name, value;
	struct span domain, path;
	bool have_max_age, have_expires;
	int64_t max_age_s;
	int64_t expires_ms;
	bool secure, http_only;
};

void nsc_cookie_jar_init(struct nsc_cookie_jar *jar, struct nsc_log *log)
{
	memset(jar, 0, sizeof(*jar));
	jar->log = log;
}

static struct span trim(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return (struct span){ p, n };
}

static bool span_is(struct span s, const char *word)
{
	return s.n == strlen(word) && strncasecmp(s.p, word, s.n) == 0;
}

/* A byte no header may carry: a control other than HTAB, or DEL. */
static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/* An RFC 2616 token: no separators and no white space. */
static bool is_token(struct span s)
{
	for (size_t i = 0; i < s.n; i++)
		if (strchr("()<>@,;:\\\"/[]?={} \t", s.p[i]) != NULL)
			return false;
	return s.n > 0;
}

/* RFC 6265 §5.2.2: an optional "-", then digits only; else the attribute is ignored. */
static bool max_age(struct span v, int64_t *out)
{
	size_t i = 0;
	bool negative = v.n > 0 && v.p[0] == '-';
	int64_t s = 0;
	if (negative)
		i++;
	if (i == v.n)
		return false;
	for (; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		if (s < INT64_MAX / 10 - 9) /* saturates: any huge age is "for good" */
			s = s * 10 + (v.p[i] - '0');
	}
	*out = negative ? -s : s;
	return true;
}

static void attribute(struct parsed *c, struct span name, struct span value)
{
	if (span_is(name, "max-age")) {
		c->have_max_age = max_age(value, &c->max_age_s) || c->have_max_age;
	} else if (span_is(name, "expires")) {
		if (nsc_cookie_date_parse(value.p, value.n, &c->expires_ms) == NSC_OK)
			c->have_expires = true;
	} else if (span_is(name, "domain")) {
		if (value.n > 0 && value.p[0] == '.') {
			value.p++;
			value.n--;
		}
		if (value.n < NSC_COOKIE_ATTR_MAX)
			c->domain = value;
	} else if (span_is(name, "path")) {
		if (value.n < NSC_COOKIE_ATTR_MAX)
			c->path = value;
	} else if (span_is(name, "secure")) {
		c->secure = true;
	} else if (span_is(name, "httponly")) {
		c->http_only = true;
	}
	/* SameSite, Priority, Partitioned, ...: nothing a driver acts on. */
}

/* Splits one Set-Cookie value; false when it is unusable. */
static bool parse(const char *line, struct parsed *c)
{
	memset(c, 0, sizeof(*c));
	size_t len = strnlen(line, NSC_COOKIE_LINE_MAX + 1);
	if (len > NSC_COOKIE_LINE_MAX || has_control(line, len))
		return false;
	const char *end = line + len;
	const char *semi = memchr(line, ';', len);
	const char *pair_end = semi ? semi : end;
	const char *eq = memchr(line, '=', (size_t)(pair_end - line));
	if (eq == NULL)
		return false;
	c->name = trim(line, (size_t)(eq - line));
	c->value = trim(eq + 1, (size_t)(pair_end - eq - 1));
	if (!is_token(c->name) || c->name.n >= NSC_COOKIE_NAME_MAX)
		return false;
	for (const char *p = pair_end; p < end;) {
		const char *av = p + 1;
		const char *next = memchr(av, ';', (size_t)(end - av));
		const char *av_end = next ? next : end;
		const char *aeq = memchr(av, '=', (size_t)(av_end - av));
		struct span an = trim(av, (size_t)((aeq ? aeq : av_end) - av));
		struct span aval = aeq ? trim(aeq + 1, (size_t)(av_end - aeq - 1)) : (struct span){ av_end, 0 };
		attribute(c, an, aval);
		p = av_end;
	}
	return true;
}

/* When the parsed cookie stops being sent; <= now deletes it. */
static int64_t expiry(const struct parsed *c, int64_t now)
{
	if (c->have_max_age) {
		if (c->max_age_s <= 0)
			return now;
		if (c->max_age_s > (INT64_MAX - (now > 0 ? now : 0)) / NSC_MS_PER_SECOND)
			return NSC_COOKIE_NEVER;
		return now + c->max_age_s * NSC_MS_PER_SECOND;
	}
	return c->have_expires ? c->expires_ms : NSC_COOKIE_NEVER;
}

static long find(const struct nsc_cookie_jar *jar, struct span name)
{
	for (size_t i = 0; i < jar->count; i++) {
		const char *n = jar->cookies[i].name;
		if (strlen(n) == name.n && memcmp(n, name.p, name.n) == 0)
			return (long)i;
	}
	return -1;
}

/*
 * Unregisters and wipes a value the jar let go of. The redactor counts
 * registrations, so a cookie that holds the same text keeps it redacted.
 */
static void release(struct nsc_cookie_jar *jar, char *old)
{
	struct nsc_secret_slot gone = { .log = jar->log, .value = old };
	nsc_secret_slot_forget(&gone);
}

static void drop(struct nsc_cookie_jar *jar, size_t i)
{
	char *old = jar->cookies[i].value.value;
	memmove(jar->cookies + i, jar->cookies + i + 1, (jar->count - i - 1) * sizeof(jar->cookies[0]));
	jar->count--;
	release(jar, old);
}

static void copy_span(char *dst, struct span s)
{
	if (s.n > 0)
		memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
}
/* The value as a C string in a secret copy (NULL when out of memory). */
static char *value_copy(struct span v)
{
	char *s = malloc(v.n + 1);
	if (s != NULL)
		copy_span(s, v);
	return s;
}

nsc_rc nsc_cookie_jar_take(struct nsc_cookie_jar *jar, const char *set_cookie, int64_t now_wall_ms)
{
	struct parsed c;
	if (set_cookie == NULL || !parse(set_cookie, &c)) {
		jar->ignored++;
		return NSC_OK;
	}
	int64_t expires = expiry(&c, now_wall_ms);
	long at = find(jar, c.name);
	if (c.value.n == 0 || expires <= now_wall_ms) {
		if (at >= 0)
			drop(jar, (size_t)at);
		return NSC_OK;
	}
	size_t room = NSC_COOKIE_JAR_MAX; /* an expired cookie that gives up its place */
	if (at < 0 && jar->count == NSC_COOKIE_JAR_MAX) {
		for (size_t i = 0; i < jar->count && room == NSC_COOKIE_JAR_MAX; i++)
			if (jar->cookies[i].expires_wall_ms <= now_wall_ms)
				room = i;
		if (room == NSC_COOKIE_JAR_MAX)
			return NSC_ERR_RANGE; /* a live cookie is never pushed out */
	}
	char *value = value_copy(c.value);
	if (value == NULL)
		return NSC_ERR_NOMEM;
	struct nsc_secret_slot slot;
	nsc_secret_slot_init(&slot, jar->log);
	if (nsc_secret_slot_roll(&slot, value) != NSC_OK)
		return NSC_ERR_NOMEM; /* value wiped, the jar as it was */
	struct nsc_cookie *k;
	if (at >= 0) {
		k = &jar->cookies[at];
		char *old = k->value.value;
		k->value = slot;
		release(jar, old);
	} else {
		if (room < NSC_COOKIE_JAR_MAX)
			drop(jar, room);
		k = &jar->cookies[jar->count++];
		copy_span(k->name, c.name);
		k->value = slot;
	}
	copy_span(k->domain, c.domain);
	copy_span(k->path, c.path);
	k->expires_wall_ms = expires;
	k->secure = c.secure;
	k->http_only = c.http_only;
	return NSC_OK;
}

static bool live(const struct nsc_cookie *k, int64_t now)
{
	return k->expires_wall_ms > now;
}

nsc_rc nsc_cookie_jar_header(const struct nsc_cookie_jar *jar, int64_t now_wall_ms, char **out)
{
	size_t len = 0;
	*out = NULL;
	for (size_t i = 0; i < jar->count; i++) {
		const struct nsc_cookie *k = &jar->cookies[i];
		if (live(k, now_wall_ms))
			len += strlen(k->name) + 1 + strlen(nsc_secret_slot_get(&k->value)) + 2;
	}
	if (len == 0)
		return NSC_OK;
	/* One allocation of the exact size: a growing buffer would leave copies unwiped. */
	char *h = malloc(strlen(COOKIE_PREFIX) + len + 1);
	if (h == NULL)
		return NSC_ERR_NOMEM;
	char *p = h;
	memcpy(p, COOKIE_PREFIX, strlen(COOKIE_PREFIX));
	p += strlen(COOKIE_PREFIX);
	for (size_t i = 0; i < jar->count; i++) {
		const struct nsc_cookie *k = &jar->cookies[i];
		if (!live(k, now_wall_ms))
			continue;
		if (p != h + strlen(COOKIE_PREFIX)) {
			memcpy(p, "; ", 2);
			p += 2;
		}
		const char *v = nsc_secret_slot_get(&k->value);
		size_t nl = strlen(k->name), vl = strlen(v);
		memcpy(p, k->name, nl);
		p[nl] = '=';
		memcpy(p + nl + 1, v, vl);
		p += nl + 1 + vl;
	}
	*p = '\0';
	*out = h;
	return NSC_OK;
}

const struct nsc_cookie *nsc_cookie_jar_get(const struct nsc_cookie_jar *jar, const char *name)
{
	long at = find(jar, (struct span){ name, strlen(name) });
	return at >= 0 ? &jar->cookies[at] : NULL;
}

void nsc_cookie_jar_clear(struct nsc_cookie_jar *jar)
{
	while (jar->count > 0)
		drop(jar, jar->count - 1);
}
