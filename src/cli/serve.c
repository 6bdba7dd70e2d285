/* SPDX-License-Identifier: MIT */
/*
 * The serve command: the tenants folder on one loop, reloaded on SIGHUP
 * and when a file changes (looked at every RESCAN_S seconds), with the
 * optional status listener, and a shutdown bounded in time.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/health_http.h"
#include "cli/run_common.h"
#include "cli/serve.h"
#include "cli/usage.h"
#include "engine/loop.h"
#include "tenants/tenant_set.h"

#define COMP "serve"
#define RESCAN_S 30
/* Connections kept alive to one vendor host, shared by every tenant; more requests queue. */
#define PER_HOST_CONNECTIONS 16
#define CACHED_CONNECTIONS 256
/* How long spools may keep sending at shutdown (the whole shutdown takes at most twice this). */
#define SHUTDOWN_DRAIN_MS 10000

struct serve {
	struct nsc_loop *loop;
	struct nsc_log *log;
	struct nsc_tenant_set *tenants;
	struct nsc_cli_health health;
	unsigned seconds;
};

static void log_scan(struct serve *s, const char *why, const struct nsc_tenant_scan *r, bool always)
{
	if (!always && r->started + r->restarted + r->stopped + r->invalid == 0)
		return;
	nsc_info(s->log, COMP,
		 "event=tenants_loaded reason=%s tenants=%zu running=%zu started=%zu restarted=%zu stopped=%zu "
		 "refused=%zu unchanged=%zu",
		 why, nsc_tenant_set_count(s->tenants), nsc_tenant_set_running(s->tenants), r->started,
		 r->restarted, r->stopped, r->invalid, r->unchanged);
}

static void rescan(struct serve *s, bool sighup)
{
	struct nsc_tenant_scan r;
	struct nsc_error err;
	nsc_error_clear(&err);
	if (nsc_tenant_set_scan(s->tenants, sighup, &r, &err) != NSC_OK) {
		nsc_err(s->log, COMP, "event=reload_failed msg=\"%s; the tenants keep running as they were\"", err.msg);
		return;
	}
	log_scan(s, sighup ? "sighup" : "changed", &r, sighup);
}

static void every_second(void *arg)
{
	struct serve *s = arg;
	nsc_tenant_set_tick(s->tenants);
	if (nsc_cli_reload_requested())
		rescan(s, true);
	else if (++s->seconds % RESCAN_S == 0)
		rescan(s, false);
}

/* Thousands of tenants hold many sockets and files: raise the soft limit as far as allowed. */
static void raise_open_files(struct nsc_log *log)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		nsc_dbg(log, COMP, "event=open_files_limit from=%llu to=%llu", (unsigned long long)was,
			(unsigned long long)rl.rlim_cur);
}

static int refuse(struct nsc_log *log, const char *text)
{
	char *safe = nsc_log_redact(log, text);
	fprintf(stderr, "nightscout-connect: %s\n", safe ? safe : "invalid configuration");
	free(safe);
	return NSC_EXIT_USAGE;
}

int nsc_cli_serve(const struct nsc_cli_serve_args *a, nsc_config_lookup_fn lookup, void *ctx,
		  struct nsc_log *log)
{
	struct serve s = { .log = log };
	struct nsc_error err;
	int status = NSC_EXIT_INTERNAL;
	nsc_error_clear(&err);

	const char *dir = a->tenants_dir ? a->tenants_dir : lookup(ctx, "CONNECT_TENANTS_DIR");
	if (!dir || !dir[0])
		return refuse(log, "serve needs a tenants folder: --tenants DIR or CONNECT_TENANTS_DIR "
				   "(one NAME.env file of settings per bridge); see serve --help");
	const char *level_text = lookup(ctx, "CONNECT_LOG_LEVEL");
	enum nsc_log_level level = NSC_LOG_INFO;
	if (level_text && level_text[0] && nsc_log_level_parse(level_text, &level) != NSC_OK)
		return refuse(log, "CONNECT_LOG_LEVEL must be error, warn, info, debug or trace");
	nsc_log_set_level(log, level);
	const char *format = lookup(ctx, "CONNECT_LOG_FORMAT");
	if (format && format[0] && strcasecmp(format, "json") != 0 && strcasecmp(format, "text") != 0)
		return refuse(log, "CONNECT_LOG_FORMAT must be text or json");
	if (format && strcasecmp(format, "json") == 0)
		nsc_log_set_format(log, NSC_LOG_FORMAT_JSON);
	nsc_info(log, "cli", "event=starting version=%s command=serve dir=\"%s\"", nsc_version(), dir);
	raise_open_files(log);

	if (nsc_loop_new(NULL, &s.loop) != NSC_OK) {
		fprintf(stderr, "nightscout-connect: cannot create the event loop\n");
		return NSC_EXIT_INTERNAL;
	}
	if (nsc_loop_set_connection_limits(s.loop, PER_HOST_CONNECTIONS, CACHED_CONNECTIONS) != NSC_OK)
		nsc_warn(log, COMP, "event=connection_limits_not_set");
	nsc_rc rc = nsc_cli_health_start(&s.health, s.loop, lookup(ctx, "CONNECT_HTTP_LISTEN"), log, every_second,
					 &s, &err);
	if (rc != NSC_OK) {
		status = refuse(log, err.msg);
		goto out;
	}
	/* Before the first scan, which may take seconds: a SIGHUP must not end the process meanwhile. */
	if (nsc_cli_signals_install(s.loop) != 0 || nsc_cli_reload_signal_install() != 0) {
		fprintf(stderr, "nightscout-connect: cannot install signal handlers\n");
		goto out;
	}
	struct nsc_tenant_set_options o = {
		.dir = dir, .defaults = lookup, .defaults_ctx = ctx, .log = log, .board = s.health.board,
	};
	if (nsc_tenant_set_new(s.loop, &o, &s.tenants, &err) != NSC_OK) {
		fprintf(stderr, "nightscout-connect: %s\n", err.msg);
		goto out;
	}
	struct nsc_tenant_scan first;
	rc = nsc_tenant_set_scan(s.tenants, false, &first, &err);
	if (rc != NSC_OK) {
		status = rc == NSC_ERR_CONFIG ? refuse(log, err.msg) : NSC_EXIT_INTERNAL;
		goto out;
	}
	log_scan(&s, "start", &first, true);
	if (nsc_tenant_set_count(s.tenants) == 0)
		nsc_warn(log, COMP,
			 "event=no_tenants dir=\"%s\" msg=\"the tenants folder holds no NAME.env file yet; add one and "
			 "it starts within a minute (or send SIGHUP)\"",
			 dir);
	if (s.health.board)
		nsc_health_board_set_ready(s.health.board, true);
	if (nsc_loop_run(s.loop) != NSC_OK) {
		fprintf(stderr, "nightscout-connect: the event loop failed\n");
		goto out;
	}
	nsc_info(log, COMP, "event=shutdown reason=signal tenants=%zu", nsc_tenant_set_count(s.tenants));
	status = NSC_EXIT_OK;
out:
	nsc_cli_signals_clear();
	if (s.tenants && !nsc_tenant_set_shutdown(s.tenants, SHUTDOWN_DRAIN_MS)) {
		/* Outputs still in a request hold the logger: leave now, their spools keep the rest. */
		fflush(NULL);
		_exit(status);
	}
	nsc_tenant_set_free(s.tenants);
	nsc_cli_health_stop(&s.health);
	nsc_loop_free(s.loop);
	return status;
}
