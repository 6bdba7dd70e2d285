/* SPDX-License-Identifier: MIT */
/* doctor's checks of one bridge (see doctor.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/count_output.h"
#include "doctor/doctor.h"
#include "doctor/net_check.h"
#include "doctor/spool_check.h"
#include "engine/bridge.h"
#include "engine/login_hold.h"
#include "engine/loop.h"
#include "sources/registry.h"
#include "timeutil.h"

#define MAX_SERVERS 4

/* The source's server setting (CONNECT_SHARE_SERVER, ...), for messages. */
static const char *server_setting(const struct nsc_config *cfg)
{
	size_t n = cfg->source && cfg->source->n_rows ? *cfg->source->n_rows : 0;
	for (size_t i = 0; i < n; i++)
		if (cfg->source->rows[i].check == NSC_CHECK_SERVER || cfg->source->rows[i].check == NSC_CHECK_ENDPOINT)
			return cfg->source->rows[i].name;
	return "the source's server setting";
}

/* True when an earlier run's rejected login still holds (said as a problem): no login now. */
static bool held(const struct nsc_config *cfg, const char *source, int64_t now, struct nsc_diag *d)
{
	char *path = nsc_login_hold_path(cfg, source);
	if (path == NULL)
		return false;
	struct nsc_login_hold h;
	struct nsc_error err = { 0 };
	nsc_rc rc = nsc_login_hold_load(path, &h, &err);
	free(path);
	if (rc == NSC_ERR_PARSE)
		nsc_diag_say(d, NSC_DIAG_WARNING, "login hold", "remove the file; the bridge writes a new one when needed",
			     "%s", err.msg);
	if (rc != NSC_OK || h.until_ms <= now)
		return false;
	if (!nsc_login_hold_matches(&h, cfg)) {
		nsc_diag_say(d, NSC_DIAG_OK, "login hold", NULL,
			     "an earlier login was rejected, but the source's settings changed since: trying again");
		return false;
	}
	char at[40] = "", until[40] = "", wait[32];
	(void)nsc_time_format_iso(h.rejected_at_ms, at, sizeof(at));
	(void)nsc_time_format_iso(h.until_ms, until, sizeof(until));
	nsc_diag_minutes(h.until_ms - now, wait, sizeof(wait));
	nsc_diag_say(d, NSC_DIAG_PROBLEM, "login",
		     "fix what the message names (a changed setting lifts the wait at once), or wait: "
		     "repeated rejected logins lock the account",
		     "not tried: the login at %s was rejected (%s); the next attempt is allowed at %s, in %s",
		     at, h.message, until, wait);
	return true;
}

static bool check_servers(const struct nsc_source_driver *drv, void *ctx, const struct nsc_config *cfg,
			  struct nsc_diag *d)
{
	const char *urls[MAX_SERVERS];
	size_t n = drv->servers ? drv->servers(ctx, urls, MAX_SERVERS) : 0;
	bool ok = true;
	for (size_t i = 0; i < n; i++)
		ok = nsc_doctor_check_server(d, "source server", urls[i], server_setting(cfg), NSC_DOCTOR_NET_TIMEOUT_MS) &&
		     ok;
	if (n == 0)
		nsc_diag_say(d, NSC_DIAG_OK, "source server", NULL, "%s talks to no server", drv->display_name);
	return ok;
}

static void report_read(const struct nsc_count_output *c, int64_t now, const struct nsc_config *cfg,
			struct nsc_diag *d)
{
	char span[32];
	nsc_diag_minutes(cfg->lookback_ms, span, sizeof(span));
	size_t readings = c->documents[NSC_COLL_ENTRIES];
	if (readings == 0 || c->newest_entry_ms <= 0) {
		nsc_diag_say(d, NSC_DIAG_WARNING, "read",
			     "check that the sensor's app (or uploader) is sending to the vendor; the bridge "
			     "stores readings once they arrive there",
			     "the vendor has no reading from the last %s (treatments %zu, device status %zu)", span,
			     c->documents[NSC_COLL_TREATMENTS], c->documents[NSC_COLL_DEVICESTATUS]);
		return;
	}
	char when[40] = "", age[32];
	(void)nsc_time_format_iso(c->newest_entry_ms, when, sizeof(when));
	int64_t age_ms = now > c->newest_entry_ms ? now - c->newest_entry_ms : 0;
	nsc_diag_minutes(age_ms, age, sizeof(age));
	enum nsc_diag_level lv = age_ms > NSC_DOCTOR_STALE_MS ? NSC_DIAG_WARNING : NSC_DIAG_OK;
	nsc_diag_say(d, lv, "read",
		     "the vendor's newest reading is old: check that the sensor's app (or uploader) is sending",
		     "%zu readings from the last %s, the newest at %s (%d mg/dL), %s old; treatments %zu, "
		     "device status %zu, profiles %zu (nothing was stored)",
		     readings, span, when, c->newest_sgv, age, c->documents[NSC_COLL_TREATMENTS],
		     c->documents[NSC_COLL_DEVICESTATUS], c->documents[NSC_COLL_PROFILE]);
}

/* The fix for a failed login or read, by its verdict. */
static const char *failure_fix(nsc_rc rc)
{
	switch (nsc_rc_verdict(rc)) {
	case NSC_VERDICT_REJECTED:
		return "change the setting the message names; nsconnect will not log in again for at least "
		       "30 minutes with the same settings, to keep the account from being locked";
	case NSC_VERDICT_DROP:
		return "the vendor answered with data nsconnect cannot use; the bridge skips such answers and "
		       "goes on (run with CONNECT_LOG_LEVEL=debug to see it)";
	case NSC_VERDICT_FATAL:
		return "fix what the message names: the bridge stops on this error instead of retrying";
	default:
		return "try again later; if it persists, check the vendor's service status";
	}
}

/* The once-bridge ended: the session's timers would keep the loop going. */
static void bridge_finished(void *arg, struct nsc_bridge *b)
{
	(void)b;
	nsc_loop_stop(arg);
}

/* One login and one read through a bridge whose output keeps nothing. */
static void check_source(struct nsc_loop *loop, const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d)
{
	const struct nsc_source_driver *drv = nsc_source_driver_for(cfg->source);
	if (drv == NULL) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "source", "choose another CONNECT_SOURCE",
			     "CONNECT_SOURCE=%s is not available in this version", nsc_source_name(cfg->source));
		return;
	}
	struct nsc_bridge *b = NULL;
	struct nsc_error err = { 0 };
	struct nsc_bridge_options opts = { .once = true, .probe = true, .finished = bridge_finished,
					     .finished_arg = loop };
	if (nsc_bridge_new_with(loop, cfg, log, &opts, drv, &nsc_count_output, &b, &err) != NSC_OK) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "source", NULL, "%s", err.msg);
		return;
	}
	const struct nsc_session *s = nsc_bridge_session(b);
	int64_t now = nsc_loop_wall_ms(loop);
	if (!check_servers(drv, s->source, cfg, d)) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "login", "fix the server problem above first",
			     "not tried: %s cannot be reached", drv->display_name);
	} else if (!held(cfg, drv->name, now, d)) {
		nsc_bridge_set_max_retries(b, 0);
		if (nsc_bridge_start(b) == NSC_OK)
			(void)nsc_loop_run(loop);
		const struct nsc_bridge_stats *st = nsc_bridge_stats(b);
		bool in_session = drv->authenticate == NULL || s->state == NSC_SS_ESTABLISHED ||
				  s->state == NSC_SS_REFRESHING;
		if (drv->authenticate == NULL)
			nsc_diag_say(d, NSC_DIAG_OK, "login", NULL, "%s needs no login", drv->display_name);
		else if (in_session)
			nsc_diag_say(d, NSC_DIAG_OK, "login", NULL, "%s accepted the login (%llu login%s)",
				     drv->display_name, (unsigned long long)s->logins, s->logins == 1 ? "" : "s");
		if (!in_session) {
			nsc_diag_say(d, NSC_DIAG_PROBLEM, "login", failure_fix(st->last_rc), "%s",
				     st->last_error[0] ? st->last_error : nsc_strerror(st->last_rc));
		} else {
			if (drv->describe_selection) {
				char what[600] = "";
				drv->describe_selection(s->source, what, sizeof(what));
				nsc_diag_say(d, NSC_DIAG_OK, "selection", NULL, "%s", what);
			}
			if (st->last_rc != NSC_OK) {
				nsc_diag_say(d, NSC_DIAG_PROBLEM, "read", failure_fix(st->last_rc), "%s",
					     st->last_error[0] ? st->last_error : nsc_strerror(st->last_rc));
			}
		}
	}
	bool read = nsc_bridge_stats(b)->frames_ok > 0;
	struct nsc_bridge_output out;
	nsc_bridge_free_except_output(b, &out);
	if (out.driver) {
		if (read)
			report_read(nsc_count_output_counts(out.ctx), nsc_loop_wall_ms(loop), cfg, d);
		out.driver->close(out.ctx);
	}
}

void nsc_doctor_run(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d)
{
	nsc_diag_say(d, NSC_DIAG_OK, "settings", NULL, "source %s, output %s: every setting has a valid value",
		     nsc_source_name(cfg->source), nsc_output_kind_name(cfg->output));
	struct nsc_loop *loop = NULL;
	if (nsc_loop_new(&nsc_clock_system, &loop) != NSC_OK) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "source", NULL, "out of memory");
		return;
	}
	check_source(loop, cfg, log, d);
	nsc_loop_free(loop);

	if (cfg->output == NSC_OUTPUT_REST || cfg->output == NSC_OUTPUT_REST3) {
		if (cfg->nightscout_endpoint)
			(void)nsc_doctor_check_server(d, "output server", cfg->nightscout_endpoint,
						      "CONNECT_NIGHTSCOUT_ENDPOINT", NSC_DOCTOR_NET_TIMEOUT_MS);
	}
	const struct nsc_output_driver *backend = nsc_output_backend_for(cfg->output);
	if (backend == NULL)
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "output", "choose another CONNECT_OUTPUT",
			     "CONNECT_OUTPUT=%s is not available in this build", nsc_output_kind_name(cfg->output));
	else if (backend->diagnose)
		backend->diagnose(cfg, log, d);
	const struct nsc_output_driver *face = nsc_output_driver_for(cfg->output);
	if (face && face->spooled_over) {
		nsc_diag_folder(d, "spool folder", "CONNECT_SPOOL_DIR", cfg->spool_dir);
		nsc_doctor_check_spool(d, cfg->spool_dir, nsc_clock_wall(&nsc_clock_system));
	}
}
