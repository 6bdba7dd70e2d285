/* SPDX-License-Identifier: MIT */
/* The JSON status page (see render.h). */
#include "config.h"

#include <inttypes.h>

#include "health/render.h"
#include "health/text.h"
#include "timeutil.h"

/* ,"key":"<UTC ISO>" or ,"key":null when ms is 0 (none). */
static void put_time(struct nsc_health_text *t, const char *key, int64_t ms)
{
	char iso[NSC_ISO_BUF];

	if (ms != 0 && nsc_time_format_iso(ms, iso, sizeof(iso)) == NSC_OK)
		nsc_health_text_printf(t, ",\"%s\":\"%s\"", key, iso);
	else
		nsc_health_text_printf(t, ",\"%s\":null", key);
}

/* ,"key":N whole seconds from `from` to `to` (floored), or null when `ms` (the instant) is 0. */
static void put_seconds_between(struct nsc_health_text *t, const char *key, int64_t ms,
				int64_t from, int64_t to)
{
	int64_t rem;

	if (ms == 0)
		nsc_health_text_printf(t, ",\"%s\":null", key);
	else
		nsc_health_text_printf(t, ",\"%s\":%" PRId64, key, nsc_floor_div(to - from, 1000, &rem));
}

static void put_key_string(struct nsc_health_text *t, const char *key, const char *value)
{
	nsc_health_text_printf(t, ",\"%s\":", key);
	nsc_health_text_json(t, value);
}

static void put_tenant(struct nsc_health_text *t, const struct nsc_health_tenant *x, int64_t now)
{
	nsc_health_text_printf(t, "{\"name\":");
	nsc_health_text_json(t, x->name);
	put_key_string(t, "state", nsc_health_state_name(x->state));
	put_key_string(t, "source", x->source);
	put_key_string(t, "output", x->output);
	put_time(t, "started", x->started_ms);
	put_time(t, "last_attempt", x->last_attempt_ms);
	put_time(t, "last_success", x->last_success_ms);
	put_time(t, "newest_reading", x->newest_reading_ms);
	put_seconds_between(t, "newest_reading_age_s", x->newest_reading_ms, x->newest_reading_ms, now);
	put_time(t, "next_poll", x->next_poll_ms);
	put_seconds_between(t, "next_poll_in_s", x->next_poll_ms, now, x->next_poll_ms);
	nsc_health_text_printf(t,
			       ",\"consecutive_failures\":%u,\"polls\":%" PRIu64 ",\"logins\":%" PRIu64
			       ",\"login_rejections\":%" PRIu64,
			       x->consecutive_failures, x->polls, x->logins, x->login_rejections);

	nsc_health_text_printf(t, ",\"stored\":{");
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		nsc_health_text_printf(t, "%s\"%s\":%" PRIu64, c ? "," : "",
				       nsc_collection_name((enum nsc_collection)c), x->stored[c]);
	nsc_health_text_printf(t, "},\"failures\":{");
	for (int v = NSC_VERDICT_RETRY; v <= NSC_VERDICT_FATAL; v++)
		nsc_health_text_printf(t, "%s\"%s\":%" PRIu64, v > NSC_VERDICT_RETRY ? "," : "",
				       nsc_health_verdict_name((enum nsc_verdict)v), x->failures[v]);
	nsc_health_text_printf(t, "}");

	if (x->error_class[0] == '\0' && x->last_error[0] == '\0') {
		nsc_health_text_printf(t, ",\"last_error\":null");
	} else {
		nsc_health_text_printf(t, ",\"last_error\":{\"class\":");
		nsc_health_text_json(t, x->error_class);
		put_key_string(t, "message", x->last_error);
		nsc_health_text_printf(t, "}");
	}
	nsc_health_text_printf(t, ",\"spool\":{\"bytes\":%" PRIu64 ",\"batches\":%" PRIu64 "}}",
			       x->spool_bytes, x->spool_batches);
}

char *nsc_health_render_status(struct nsc_health_board *b, size_t *len)
{
	struct nsc_health_text t = {0};
	struct nsc_health_view v;
	int64_t rem;

	nsc_health_board_lock(b, &v);
	nsc_health_text_printf(&t, "{\"version\":");
	nsc_health_text_json(&t, nsc_version());
	nsc_health_text_printf(&t, ",\"uptime_s\":%" PRId64 ",\"alive\":%s,\"ready\":%s,\"tenants\":[",
			       nsc_floor_div(v.uptime_ms, 1000, &rem), v.alive ? "true" : "false",
			       v.ready ? "true" : "false");
	for (size_t i = 0; i < v.count && !t.nomem; i++) {
		if (i > 0)
			nsc_health_text_printf(&t, ",");
		put_tenant(&t, nsc_health_view_at(&v, i), v.now_wall_ms);
	}
	nsc_health_board_unlock(b);
	nsc_health_text_printf(&t, "]}\n");
	return nsc_health_text_finish(&t, len);
}
