/* SPDX-License-Identifier: MIT */
/* The Glooko source driver: sign-in and the paged v2 feeds, sequenced on the kit (see glooko.h). */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "sources/glooko/glooko.h"
#include "sources/kit/cookie_jar.h"
#include "sources/kit/paging.h"
#include "sources/kit/vendor.h"
#include "timeutil.h"

#define COMP "glooko"
#define GUID_MAX 96
#define SAFARI_UA                                                                                        \
	"User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) " \
	"Version/16.5 Safari/605.1.15"

enum step {
	STEP_NONE,
	STEP_SIGN_IN,
	STEP_FETCH,
};

const struct nsc_vendor_words nsc_glooko_words = {
	.who = "Glooko",
	.server_setting = "CONNECT_GLOOKO_SERVER",
	.rate_hold_off_ms = 60 * NSC_MS_PER_SECOND,
};

NSC_VENDOR_PROFILE(profile, COMP, &nsc_glooko_words, "sign-in", "fetch");

struct glk_ctx {
	struct nsc_vendor_base base; /* first: the kit's standard ops cast to it */
	struct nsc_glooko_hosts hosts;
	struct nsc_tz *tz;
	struct nsc_cookie_jar jar;
	char patient[NSC_GLOOKO_CODE_MAX];
	bool v3_sign_in;     /* v2 answered 422: this account signs in through v3 */
	unsigned unavailable; /* feeds this session found missing (404/422), bit per kind */
	/* The fetch in flight. */
	struct nsc_paging pages;
	int kind;             /* the feed being read, -1 before the first */
	bool history;         /* a backfill page: the clinical range, from the start of the cursor */
	int64_t local_from_ms, local_to_ms;
	int64_t floor_ms;     /* a poll reads no update older than this */
	struct nsc_last_known last_known;
};

/* ---- lifecycle ------------------------------------------------------------ */

static void glk_free(struct glk_ctx *c)
{
	nsc_vendor_base_fini(&c->base);
	nsc_paging_fini(&c->pages);
	nsc_cookie_jar_clear(&c->jar);
	nsc_tz_free(c->tz);
	free(c);
}

/* The devices' zone: CONNECT_GLOOKO_TIMEZONE, else the fixed offset (warned), else the machine's (warned). */
static nsc_rc load_zone(struct glk_ctx *c, const struct nsc_config *cfg, struct nsc_error *err)
{
	if (cfg->glooko_timezone && *cfg->glooko_timezone) {
		nsc_rc rc = nsc_tz_load(cfg->glooko_timezone, &c->tz, err);
		if (rc == NSC_ERR_CONFIG)
			return nsc_error_set(err, NSC_ERR_CONFIG, "CONNECT_GLOOKO_TIMEZONE: %s", err->msg);
		return rc;
	}
	if (cfg->has_glooko_tz_offset) {
		nsc_warn(c->base.log, COMP,
			 "event=fixed_offset offset_h=%g msg=\"CONNECT_GLOOKO_TIMEZONE_OFFSET is a fixed offset: Glooko "
			 "times will be an hour off for the half of the year on the other side of a daylight-saving "
			 "change; set CONNECT_GLOOKO_TIMEZONE to the devices' zone, e.g. Europe/Berlin\"",
			 cfg->glooko_tz_offset_hours);
		return nsc_tz_fixed((int32_t)lround(cfg->glooko_tz_offset_hours * 3600.0), &c->tz) == NSC_OK
			       ? NSC_OK
			       : nsc_error_set(err, NSC_ERR_NOMEM, "Glooko: out of memory");
	}
	nsc_rc rc = nsc_tz_load_local(&c->tz, err);
	if (rc == NSC_OK)
		nsc_warn(c->base.log, COMP,
			 "event=machine_zone zone=%s msg=\"CONNECT_GLOOKO_TIMEZONE is not set: Glooko times are read in "
			 "this machine's zone (%s); set it to the zone of the pump and meter if they differ\"",
			 nsc_tz_name(c->tz), nsc_tz_name(c->tz));
	return rc;
}

static nsc_rc glk_create(const struct nsc_source_env *env, void **out, struct nsc_error *err)
{
	if (env == NULL || env->config == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "glooko: created without configuration");
	struct glk_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "glooko: out of memory");
	nsc_cookie_jar_init(&c->jar, env->log);
	nsc_rc rc = nsc_vendor_base_init(&c->base, &profile, env, err);
	if (rc != NSC_OK) {
		free(c);
		return rc;
	}
	const struct nsc_config *cfg = env->config;
	rc = nsc_glooko_hosts_for(cfg->glooko_env, cfg->glooko_server, &c->hosts, err);
	if (rc == NSC_OK)
		rc = load_zone(c, cfg, err);
	if (rc == NSC_OK && nsc_paging_init(&c->pages, "Glooko", NSC_GLOOKO_MAX_PAGES) != NSC_OK)
		rc = nsc_error_set(err, NSC_ERR_INTERNAL, "Glooko: bad page limit");
	if (rc != NSC_OK) {
		glk_free(c);
		return rc;
	}
	nsc_dbg(env->log, COMP, "event=create api=%s origin=%s zone=%s", c->hosts.api, c->hosts.origin,
		nsc_tz_name(c->tz));
	*out = c;
	return NSC_OK;
}

static size_t glk_servers(void *vctx, const char **urls, size_t max)
{
	const struct glk_ctx *c = vctx;
	if (max < 1)
		return 0;
	urls[0] = c->hosts.api;
	return 1;
}

static void glk_destroy(void *vctx)
{
	if (vctx != NULL)
		glk_free(vctx);
}

static void glk_drop_session(void *vctx)
{
	struct glk_ctx *c = vctx;
	if (c->jar.count > 0)
		nsc_dbg(c->base.log, COMP, "event=session_dropped");
	nsc_cookie_jar_clear(&c->jar);
	c->patient[0] = '\0';
	c->unavailable = 0;
}

/* ---- requests ------------------------------------------------------------- */

/* Sends a request with the browser headers Glooko expects (and the session cookie on data calls). */
static void send(struct glk_ctx *c, const char *method, const char *url, const char *body,
		 nsc_vendor_answer_fn answered)
{
	char *origin = nsc_vendor_printf("Origin: %s", c->hosts.origin);
	char *referer = nsc_vendor_printf("Referer: %s/", c->hosts.origin);
	char *cookie = NULL;
	if (c->base.step == STEP_FETCH && nsc_cookie_jar_header(&c->jar, nsc_vendor_wall_ms(&c->base), &cookie) != NSC_OK)
		cookie = NULL;
	if (url == NULL || origin == NULL || referer == NULL || (c->base.step == STEP_FETCH && cookie == NULL)) {
		bool lost = c->base.step == STEP_FETCH && cookie == NULL && url && origin && referer;
		free(origin);
		free(referer);
		nsc_secret_free(cookie);
		nsc_vendor_finish(&c->base, lost ? NSC_ERR_AUTH : NSC_ERR_NOMEM,
				  lost ? "Glooko: the session cookie is gone; signing in again"
				       : "Glooko: out of memory building a request");
		return;
	}
	struct nsc_vendor_request rq = {
		.method = method,
		.url = url,
		.headers = { "Content-Type: application/json", "Accept: application/json, text/plain, */*",
			     SAFARI_UA, origin, referer, "Accept-Language: en-GB,en;q=0.9", cookie, NULL },
		.body = body,
		.body_len = body ? strlen(body) : 0,
	};
	nsc_vendor_send(&c->base, &rq, answered);
	free(origin);
	free(referer);
	nsc_secret_free(cookie);
}

/* ---- sign-in -------------------------------------------------------------- */

static void sign_in_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp);

static void start_sign_in(struct glk_ctx *c)
{
	const struct nsc_config *cfg = c->base.cfg;
	char *body = nsc_glooko_sign_in_body(cfg->glooko_email, cfg->glooko_password);
	char *url = nsc_vendor_printf("%s/api/%s/users/sign_in", c->hosts.api, c->v3_sign_in ? "v3" : "v2");
	if (body == NULL || url == NULL) {
		nsc_secret_free(body);
		free(url);
		nsc_vendor_finish(&c->base, NSC_ERR_NOMEM, "Glooko: out of memory building the sign-in");
		return;
	}
	send(c, "POST", url, body, sign_in_answered);
	nsc_secret_free(body); /* it held the password */
	free(url);
}

static void sign_in_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct glk_ctx *c = (struct glk_ctx *)b;
	struct nsc_vendor_verdict v;
	size_t at = 0;
	char code[NSC_GLOOKO_CODE_MAX];
	enum nsc_glooko_sign_in r = nsc_glooko_sign_in_answer(resp, c->v3_sign_in, &at, code, &v);
	if (r == NSC_GLOOKO_TRY_V3) {
		nsc_info(b->log, COMP, "event=sign_in_v3 msg=\"Glooko refused the v2 sign-in as unprocessable; "
				       "signing in through v3\"");
		c->v3_sign_in = true;
		start_sign_in(c);
		return;
	}
	if (r != NSC_GLOOKO_SIGNED_IN) {
		nsc_dbg(b->log, COMP, "event=sign_in_failed status=%ld rc=%s", resp->status, nsc_rc_name(v.rc));
		nsc_vendor_finish_verdict(b, &v);
		return;
	}
	nsc_cookie_jar_clear(&c->jar);
	int64_t now = nsc_vendor_wall_ms(b);
	for (size_t i = 0; i < resp->set_cookie_count; i++) {
		if (nsc_cookie_jar_take(&c->jar, resp->set_cookie[i], now) != NSC_OK && i == at) {
			nsc_vendor_finish(b, NSC_ERR_NOMEM, "Glooko: out of memory keeping the session cookie");
			return;
		}
	}
	if (nsc_cookie_jar_get(&c->jar, NSC_GLOOKO_COOKIE) == NULL) {
		nsc_vendor_finish(b, NSC_ERR_RETRY, "Glooko sent a session cookie nsconnect could not read");
		return;
	}
	snprintf(c->patient, sizeof(c->patient), "%s", code);
	c->unavailable = 0;
	nsc_dbg(b->log, COMP, "event=session_established api=%s", c->v3_sign_in ? "v3" : "v2");
	nsc_vendor_finish(b, NSC_OK, NULL);
}

static void glk_authenticate(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct glk_ctx *c = vctx;
	nsc_vendor_begin(&c->base, STEP_SIGN_IN, done, arg, NULL);
	start_sign_in(c);
}

/* ---- the feeds ------------------------------------------------------------- */

static void page_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp);

/* Where a poll starts a feed's update cursor: an hour before the newest document held, not before the lookback. */
static int64_t cursor_start(const struct glk_ctx *c, enum nsc_glooko_kind k)
{
	if (c->history)
		return 0;
	int64_t known = c->last_known.ms[nsc_glooko_feed(k)->coll];
	int64_t from = known > 0 ? known - NSC_GLOOKO_OVERLAP_MS : c->floor_ms;
	return from > c->floor_ms ? from : c->floor_ms;
}

static void request_page(struct glk_ctx *c, int64_t updated_after_ms, const char *guid)
{
	enum nsc_glooko_kind k = (enum nsc_glooko_kind)c->kind;
	nsc_trace(c->base.log, COMP, "event=page feed=%s after_ms=%" PRId64, nsc_glooko_feed(k)->part, updated_after_ms);
	char *url = nsc_glooko_page_url(c->hosts.api, k, c->patient, updated_after_ms, guid,
					c->history ? c->local_from_ms : 0, c->history ? c->local_to_ms : 0);
	send(c, "GET", url, NULL, page_answered);
	free(url);
}

/* Starts the next feed this session has, or ends the fetch with the pages as its payload. */
static void next_feed(struct glk_ctx *c)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	while (++c->kind < NSC_GLOOKO_KIND_COUNT && (c->unavailable & (1u << c->kind)))
		;
	if (c->kind >= NSC_GLOOKO_KIND_COUNT) {
		nsc_rc rc = nsc_paging_finish(&c->pages, c->base.out, &err);
		nsc_vendor_finish(&c->base, rc, rc == NSC_OK ? NULL : err.msg);
		return;
	}
	if (nsc_paging_start(&c->pages, nsc_glooko_feed((enum nsc_glooko_kind)c->kind)->part, &err) != NSC_OK) {
		nsc_vendor_finish(&c->base, NSC_ERR_NOMEM, err.msg);
		return;
	}
	request_page(c, cursor_start(c, (enum nsc_glooko_kind)c->kind), NULL);
}

static void page_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct glk_ctx *c = (struct glk_ctx *)b;
	enum nsc_glooko_kind k = (enum nsc_glooko_kind)c->kind;
	const char *part = nsc_glooko_feed(k)->part;
	struct nsc_vendor_verdict v;
	struct nsc_error err;
	bool unavailable;
	nsc_error_clear(&err);
	nsc_glooko_data_verdict(resp, &unavailable, &v);
	if (unavailable) {
		nsc_dbg(b->log, COMP, "event=feed_unavailable feed=%s status=%ld", part, resp->status);
		c->unavailable |= 1u << k;
		next_feed(c);
		return;
	}
	if (v.rc != NSC_OK) {
		nsc_dbg(b->log, COMP, "event=read_failed feed=%s status=%ld rc=%s", part, resp->status, nsc_rc_name(v.rc));
		nsc_vendor_finish_verdict(b, &v);
		return;
	}
	struct json_object *records;
	size_t n;
	bool last;
	char cursor[GUID_MAX + 64];
	nsc_rc rc = nsc_glooko_page_read(resp->body, resp->body_len, k, &records, &n, &last, cursor, sizeof(cursor), &err);
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, rc, err.msg);
		return;
	}
	bool more = false;
	rc = nsc_paging_page(&c->pages, records, last ? NULL : cursor, &more, &err);
	if (rc == NSC_ERR_RANGE)
		rc = nsc_error_set(&err, NSC_ERR_RANGE,
				   "Glooko has more than %d pages of %s to read in one poll; the next poll goes on, "
				   "or copy the history with nightscout-connect backfill",
				   NSC_GLOOKO_MAX_PAGES, part);
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, rc, err.msg);
		return;
	}
	nsc_dbg(b->log, COMP, "event=page_read feed=%s records=%zu last=%s", part, n, last ? "yes" : "no");
	int64_t after;
	char guid[GUID_MAX];
	if (!more) {
		next_feed(c);
	} else if (nsc_glooko_cursor_split(cursor, &after, guid, sizeof(guid))) {
		request_page(c, after, guid);
	} else {
		nsc_vendor_finish(b, NSC_ERR_DROP, "Glooko sent a page cursor nsconnect cannot read");
	}
}

static void glk_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out, nsc_step_done_fn done,
		      void *arg)
{
	struct glk_ctx *c = vctx;
	if (nsc_cookie_jar_get(&c->jar, NSC_GLOOKO_COOKIE) == NULL || c->patient[0] == '\0') {
		done(arg, NSC_ERR_AUTH, "Glooko: no session; signing in");
		return;
	}
	nsc_vendor_begin(&c->base, STEP_FETCH, done, arg, out);
	nsc_paging_fini(&c->pages);
	(void)nsc_paging_init(&c->pages, "Glooko", NSC_GLOOKO_MAX_PAGES);
	c->last_known = w->last_known;
	c->history = w->history;
	int64_t lookback = c->base.cfg->lookback_ms > 0 ? c->base.cfg->lookback_ms : 48 * NSC_MS_PER_HOUR;
	c->floor_ms = w->to_ms - lookback;
	if (c->history) {
		/* Glooko filters startDate/endDate on its clinical (wall-clock) times. */
		c->local_from_ms = w->from_ms + (int64_t)nsc_tz_offset_at(c->tz, w->from_ms) * 1000;
		c->local_to_ms = w->to_ms + (int64_t)nsc_tz_offset_at(c->tz, w->to_ms) * 1000;
	}
	c->kind = -1;
	next_feed(c);
}

static nsc_rc glk_transform(void *vctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			    struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct glk_ctx *c = vctx;
	(void)w;
	nsc_rc rc = nsc_glooko_transform(in ? in->data : NULL, in ? in->len : 0, c->tz, out, skipped, err);
	if (rc == NSC_OK)
		nsc_vendor_log_transform(&c->base, out, *skipped);
	return rc;
}

const struct nsc_source_driver nsc_source_glooko = {
	.name = "glooko",
	.display_name = "Glooko",
	/*
	 * Pump, meter and CGM data reach Glooko when a phone or uploader
	 * syncs, a minute or more after they happen: a poll every 5 minutes,
	 * two minutes after a reading is due. The session cookie lives about
	 * a day; a 401 says sooner.
	 */
	.timing = NSC_VENDOR_TIMING(23 * NSC_MS_PER_HOUR, 24 * NSC_MS_PER_HOUR, 2 * NSC_MS_PER_MINUTE,
				    30 * NSC_MS_PER_SECOND),
	/* Glooko keeps the account's whole history; two weeks a page bounds memory. */
	.history = { .page_ms = NSC_GLOOKO_BACKFILL_PAGE_MS, .pause_ms = 2 * NSC_MS_PER_SECOND },
	.create = glk_create,
	.destroy = glk_destroy,
	.servers = glk_servers,
	.authenticate = glk_authenticate,
	.drop_session = glk_drop_session,
	.cancel = nsc_vendor_std_cancel,
	.hold_off_ms = nsc_vendor_std_hold_off_ms,
	.fetch = glk_fetch,
	.transform = glk_transform,
};
