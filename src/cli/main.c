/* SPDX-License-Identifier: MIT */
/*
 * nightscout-connect: the command-line front end. Parses flags into
 * settings (flags override the environment), loads and validates the
 * configuration, then runs a bridge on one event loop: `forever` until a
 * signal, `capture` for one cycle.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/backfill.h"
#include "cli/carelink_login.h"
#include "cli/health_http.h"
#include "cli/run_common.h"
#include "cli/doctor.h"
#include "cli/serve.h"
#include "cli/usage.h"
#include "engine/bridge.h"
#include "engine/loop.h"
#include "log.h"
#include "nsc_config.h"
#include "tenants/tenant_health.h"
#include "timeutil.h"

enum command { CMD_NONE, CMD_FOREVER, CMD_CAPTURE, CMD_BACKFILL, CMD_SETTINGS, CMD_CARELINK_LOGIN, CMD_SERVE,
	       CMD_DOCTOR };

static const char *const command_names[] = { "",         "forever",  "capture",
					     "backfill", "settings", "carelink-login", "serve",
					     "doctor" };

struct cli {
	enum command cmd;
	bool once;
	bool help;
	struct nsc_cli_backfill_args backfill;
	struct nsc_cli_carelink_args carelink;
	struct nsc_cli_serve_args serve;
	struct nsc_cli_doctor_args doctor;
	struct nsc_config_kv flags;
};

static void usage_for(enum command cmd, FILE *out)
{
	switch (cmd) {
	case CMD_FOREVER:
		nsc_usage_forever(out);
		return;
	case CMD_CAPTURE:
		nsc_usage_capture(out);
		return;
	case CMD_BACKFILL:
		nsc_usage_backfill(out);
		return;
	case CMD_SETTINGS:
		nsc_usage_settings(out);
		return;
	case CMD_CARELINK_LOGIN:
		nsc_usage_carelink_login(out);
		return;
	case CMD_SERVE:
		nsc_usage_serve(out);
		return;
	case CMD_DOCTOR:
		nsc_usage_doctor(out);
		return;
	case CMD_NONE:
		nsc_usage_main(out);
		return;
	}
}

/* --flag=value or --flag value, for any setting in the table. */
static int parse_setting_flag(struct cli *c, int argc, char **argv, int *i)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	char name[128];
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (len == 0 || len >= sizeof(name)) {
		fprintf(stderr, "nightscout-connect: unknown option '%s'; see --help\n", argv[*i]);
		return -1;
	}
	memcpy(name, arg, len);
	name[len] = '\0';
	const struct nsc_setting *s = nsc_setting_by_flag(name);
	if (!s) {
		fprintf(stderr, "nightscout-connect: unknown option '--%s'; see 'nightscout-connect settings'\n",
			name);
		return -1;
	}
	const char *value = eq ? eq + 1 : NULL;
	if (!value) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "nightscout-connect: option '--%s' needs a value (%s)\n", name, s->name);
			return -1;
		}
		value = argv[++*i];
	}
	if (nsc_config_kv_set(&c->flags, s->name, value) != NSC_OK) {
		fprintf(stderr, "nightscout-connect: out of memory\n");
		return -1;
	}
	return 0;
}

/*
 * Whether argv[*i] is the option `name` of a command (`--name VALUE` or
 * `--name=VALUE`): 1 with *value set (and *i past a separate value), 0 when
 * it is another argument, -1 when its value is missing.
 */
static int option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
		return 0;
	if (a[n] == '=')
		*value = a + n + 1;
	else if (*i + 1 < argc)
		*value = argv[++*i];
	else
		return -1;
	return 1;
}

/* --since/--until of backfill: 1 when argv[*i] is one, 0 when not, -1 (said here) when its value is missing. */
static int backfill_option(struct cli *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	int found = option_value(argc, argv, i, "--since", &c->backfill.since);
	if (found == 0)
		found = option_value(argc, argv, i, "--until", &c->backfill.until);
	if (found < 0)
		fprintf(stderr, "nightscout-connect: %s needs a time; see backfill --help\n", a);
	return found;
}

/* --region of carelink-login: 1, 0 when argv[*i] is not it, -1 (said here). */
static int carelink_option(struct cli *c, int argc, char **argv, int *i)
{
	int found = option_value(argc, argv, i, "--region", &c->carelink.region);
	if (found < 0)
		fprintf(stderr, "nightscout-connect: --region needs eu or us; see carelink-login --help\n");
	return found;
}

/* --tenants of serve and doctor: 1, 0 when argv[*i] is not it, -1 (said here). */
static int serve_option(struct cli *c, int argc, char **argv, int *i)
{
	const char **dir = c->cmd == CMD_DOCTOR ? &c->doctor.tenants_dir : &c->serve.tenants_dir;
	int found = option_value(argc, argv, i, "--tenants", dir);
	if (found < 0)
		fprintf(stderr, "nightscout-connect: --tenants needs a folder; see %s --help\n", command_names[c->cmd]);
	return found;
}

static int parse_args(struct cli *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int opt;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			c->help = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("nightscout-connect (nsconnect) %s\n", nsc_version());
			exit(NSC_EXIT_OK);
		} else if (!strcmp(a, "--once")) {
			if (c->cmd != CMD_CAPTURE) {
				fprintf(stderr, "nightscout-connect: --once belongs to the capture command\n");
				return -1;
			}
			c->once = true;
		} else if (c->cmd == CMD_BACKFILL && (opt = backfill_option(c, argc, argv, &i)) != 0) {
			if (opt < 0)
				return -1;
		} else if (c->cmd == CMD_CARELINK_LOGIN && (opt = carelink_option(c, argc, argv, &i)) != 0) {
			if (opt < 0)
				return -1;
		} else if ((c->cmd == CMD_SERVE || c->cmd == CMD_DOCTOR) && (opt = serve_option(c, argc, argv, &i)) != 0) {
			if (opt < 0)
				return -1;
		} else if (!strncmp(a, "--", 2)) {
			if (parse_setting_flag(c, argc, argv, &i) != 0)
				return -1;
		} else if (c->cmd == CMD_NONE && !strcmp(a, "forever")) {
			c->cmd = CMD_FOREVER;
		} else if (c->cmd == CMD_NONE && !strcmp(a, "capture")) {
			c->cmd = CMD_CAPTURE;
		} else if (c->cmd == CMD_NONE && !strcmp(a, "backfill")) {
			c->cmd = CMD_BACKFILL;
		} else if (c->cmd == CMD_NONE && !strcmp(a, "settings")) {
			c->cmd = CMD_SETTINGS;
		} else if (c->cmd == CMD_NONE && !strcmp(a, "carelink-login")) {
			c->cmd = CMD_CARELINK_LOGIN;
		} else if (c->cmd == CMD_NONE && !strcmp(a, "serve")) {
			c->cmd = CMD_SERVE;
		} else if (c->cmd == CMD_NONE && !strcmp(a, "doctor")) {
			c->cmd = CMD_DOCTOR;
		} else if (c->cmd == CMD_NONE && !strcmp(a, "help")) {
			c->help = true;
		} else {
			fprintf(stderr, "nightscout-connect: unknown %s '%s'; see --help\n",
				c->cmd == CMD_NONE ? "command" : "argument", a);
			return -1;
		}
	}
	return 0;
}

/* Configuration messages name settings, never their secret values; redacted all the same. */
static void print_config_line(struct nsc_log *log, const char *text)
{
	char *safe = nsc_log_redact(log, text);
	fprintf(stderr, "nightscout-connect: %s\n", safe ? safe : "invalid configuration");
	free(safe);
}

/* A refused configuration: one problem a line, after a count when there are several. */
static void print_config_problems(struct nsc_log *log, const struct nsc_config_report *rep)
{
	char head[64];

	if (rep->count > 1) {
		snprintf(head, sizeof(head), "%zu settings need fixing:", rep->count);
		print_config_line(log, head);
	}
	for (size_t i = 0; i < rep->count; i++)
		print_config_line(log, rep->problems[i].message);
}

static void on_bridge_finished(void *arg, struct nsc_bridge *b)
{
	(void)b;
	nsc_loop_stop(arg);
}

/* The one bridge of `forever` on the health board, refreshed every second. */
struct watched {
	struct nsc_bridge *bridge;
	struct nsc_health_board *board;
	int64_t started_ms;
	struct nsc_health_tenant h;
};

static void publish_bridge(void *arg)
{
	struct watched *w = arg;
	if (!w->board || !w->bridge)
		return;
	nsc_tenant_health_fill(&w->h, "default", w->bridge, w->started_ms);
	(void)nsc_health_board_put(w->board, &w->h);
}

static int run(struct cli *c, struct nsc_config *cfg, struct nsc_log *log)
{
	struct nsc_loop *loop = NULL;
	struct nsc_bridge *bridge = NULL;
	struct nsc_error err;
	struct nsc_cli_health health = { 0 };
	struct watched watched = { 0 };
	int status = NSC_EXIT_INTERNAL;
	nsc_error_clear(&err);

	if (nsc_loop_new(NULL, &loop) != NSC_OK) {
		fprintf(stderr, "nightscout-connect: cannot create the event loop\n");
		return NSC_EXIT_INTERNAL;
	}
	struct nsc_bridge_options opts = {
		.once = c->cmd == CMD_CAPTURE,
		.finished = on_bridge_finished,
		.finished_arg = loop,
	};
	nsc_rc rc = nsc_bridge_new(loop, cfg, log, &opts, &bridge, &err);
	if (rc != NSC_OK) {
		fprintf(stderr, "nightscout-connect: %s\n", err.msg[0] ? err.msg : nsc_strerror(rc));
		status = nsc_cli_create_status(rc);
		goto out;
	}
	if (c->once) {
		/* One attempt only: no retries inside the cycle. */
		nsc_bridge_set_max_retries(bridge, 0);
	}
	if (nsc_cli_signals_install(loop) != 0) {
		fprintf(stderr, "nightscout-connect: cannot install signal handlers\n");
		goto out;
	}
	if (c->cmd == CMD_FOREVER) {
		watched.bridge = bridge;
		watched.started_ms = nsc_loop_wall_ms(loop);
		rc = nsc_cli_health_start(&health, loop, cfg->http_listen, log, publish_bridge, &watched, &err);
		if (rc != NSC_OK) {
			print_config_line(log, err.msg);
			status = NSC_EXIT_USAGE;
			goto out;
		}
		watched.board = health.board;
		if (health.board)
			nsc_health_board_set_ready(health.board, true);
	}
	if (nsc_bridge_start(bridge) != NSC_OK || nsc_loop_run(loop) != NSC_OK) {
		fprintf(stderr, "nightscout-connect: the event loop failed\n");
		goto out;
	}
	if (c->cmd == CMD_CAPTURE) {
		/* Data accepted by a spool is not stored yet: wait for it, and count what the store said. */
		struct nsc_bridge_stats settled;
		nsc_rc delivered = nsc_cli_deliver_and_summarize(bridge, cfg, &settled, &err);
		status = nsc_bridge_finished(bridge) ? nsc_cli_summary_status(&settled) : NSC_EXIT_OK;
		status = nsc_cli_undelivered_status(delivered, &err, status);
	} else {
		/* forever: a signal stops the loop; a finished bridge means a fatal error. */
		status = nsc_bridge_finished(bridge) ? NSC_EXIT_INTERNAL : NSC_EXIT_OK;
		nsc_info(log, "cli", "event=shutdown reason=%s", nsc_bridge_finished(bridge) ? "fatal" : "signal");
	}
out:
	nsc_cli_signals_clear();
	nsc_bridge_free(bridge); /* flushes and closes the output */
	if (health.loop)
		nsc_cli_health_stop(&health);
	nsc_loop_free(loop);
	return status;
}

int main(int argc, char **argv)
{
	struct cli c = { .cmd = CMD_NONE };
	struct nsc_config cfg;
	struct nsc_error err;
	struct nsc_config_report problems;
	struct nsc_log *log = NULL;
	int status = NSC_EXIT_USAGE;

	nsc_config_kv_init(&c.flags, nsc_config_lookup_env, NULL);
	nsc_config_init(&cfg);
	nsc_config_report_init(&problems);
	nsc_error_clear(&err);

	if (parse_args(&c, argc, argv) != 0)
		goto out;
	if (c.help) {
		usage_for(c.cmd, stdout);
		status = NSC_EXIT_OK;
		goto out;
	}
	if (c.cmd == CMD_NONE) {
		nsc_usage_main(stderr);
		goto out;
	}
	if (c.cmd == CMD_SETTINGS) {
		nsc_usage_print_settings(stdout);
		status = NSC_EXIT_OK;
		goto out;
	}
	if (c.cmd == CMD_BACKFILL && (c.backfill.since == NULL || c.backfill.since[0] == '\0')) {
		fprintf(stderr, "nightscout-connect: backfill needs --since, e.g. --since 90d; see backfill --help\n");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "nightscout-connect: cannot initialise libcurl\n");
		status = NSC_EXIT_INTERNAL;
		goto out;
	}
	if (c.cmd == CMD_CARELINK_LOGIN) {
		/* A setup step: no source, output or log; only the three CareLink settings it reads. */
		status = nsc_cli_carelink_login(&c.carelink, nsc_config_kv_lookup, &c.flags, stdin,
						stdout, stderr);
		goto out_curl;
	}
	/* doctor's report is its output; the bridges' own lines are only its warnings. */
	log = nsc_log_new(c.cmd == CMD_DOCTOR ? NSC_LOG_WARN : NSC_LOG_INFO);
	if (!log) {
		status = NSC_EXIT_INTERNAL;
		goto out_curl;
	}
	if (c.cmd == CMD_DOCTOR) {
		status = nsc_cli_doctor(&c.doctor, nsc_config_kv_lookup, &c.flags, log, stdout);
		goto out_curl;
	}
	if (c.cmd == CMD_SERVE) {
		/* Each tenant loads its own configuration; the process's settings are their defaults. */
		status = nsc_cli_serve(&c.serve, nsc_config_kv_lookup, &c.flags, log);
		goto out_curl;
	}
	nsc_rc rc = nsc_config_load_report(&cfg, nsc_config_kv_lookup, &c.flags, &problems, &err);
	if (rc == NSC_ERR_CONFIG && problems.count > 0) {
		print_config_problems(log, &problems);
		goto out_curl;
	}
	if (rc == NSC_OK)
		rc = nsc_config_register_secrets(&cfg, log);
	if (rc != NSC_OK) {
		print_config_line(log, err.msg[0] ? err.msg : nsc_strerror(rc));
		status = rc == NSC_ERR_NOMEM ? NSC_EXIT_INTERNAL : NSC_EXIT_USAGE;
		goto out_curl;
	}
	nsc_log_set_level(log, cfg.log_level);
	if (cfg.log_format && strcmp(cfg.log_format, "json") == 0)
		nsc_log_set_format(log, NSC_LOG_FORMAT_JSON);
	nsc_info(log, "cli", "event=starting version=%s command=%s source=%s output=%s", nsc_version(),
		 command_names[c.cmd], nsc_source_name(cfg.source),
		 nsc_output_kind_name(cfg.output));
	nsc_config_log(&cfg, log);
	status = c.cmd == CMD_BACKFILL ? nsc_cli_backfill(&c.backfill, &cfg, log) : run(&c, &cfg, log);
out_curl:
	curl_global_cleanup();
out:
	nsc_config_report_free(&problems);
	nsc_config_free(&cfg);
	nsc_config_kv_free(&c.flags);
	nsc_log_free(log);
	return status;
}
