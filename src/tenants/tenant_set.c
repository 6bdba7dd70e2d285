/* SPDX-License-Identifier: MIT */
/* Many bridges on one loop, one per tenant file (see tenant_set.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/backoff.h"
#include "engine/bridge.h"
#include "tenants/closer.h"
#include "tenants/tenant_dir.h"
#include "tenants/tenant_health.h"
#include "tenants/tenant_config.h"
#include "tenants/tenant_set.h"

#define COMP "serve"
#define DEFAULT_SPACING_MS 30
#define DEFAULT_CADENCE_MS (5 * 60 * 1000)
#define CLOSER_THREADS 16

struct tenant {
	char name[NSC_TENANT_NAME_MAX];
	char *path;
	struct nsc_tenant_set *set;
	struct nsc_file_stamp stamp;
	uint64_t fingerprint;
	bool have_fingerprint;

	struct nsc_config *cfg;   /* NULL when refused */
	struct nsc_log *log;      /* child of the root: tenant=NAME */
	struct nsc_bridge *bridge;
	uint64_t start_timer;
	int64_t started_ms;
	bool waiting_close;       /* the old output of this folder is still closing */
	bool had_success;         /* a poll succeeded: later readings count for the delay */
	char *problem;            /* why it does not run (plain words), or NULL */
	enum nsc_health_state refused_state;
};

struct nsc_tenant_set {
	struct nsc_loop *loop;
	struct nsc_tenant_set_options o;
	char *dir;
	struct nsc_closer *closer;
	struct nsc_rng rng;
	struct tenant **t;        /* sorted by name */
	size_t n, cap;
};

/* ---- health ---- */

static void publish(struct tenant *t)
{
	struct nsc_health_board *board = t->set->o.board;
	struct nsc_health_tenant h;
	if (!board)
		return;
	if (t->bridge)
		nsc_tenant_health_fill(&h, t->name, t->bridge, t->started_ms);
	else
		nsc_tenant_health_refused(&h, t->name, t->waiting_close ? NSC_HEALTH_STARTING : t->refused_state,
					  t->problem ? (t->refused_state == NSC_HEALTH_INVALID ? "settings" : "fatal") : "",
					  t->problem);
	if (t->cfg && !t->bridge) {
		snprintf(h.source, sizeof(h.source), "%s", nsc_source_name(t->cfg->source));
		snprintf(h.output, sizeof(h.output), "%s", nsc_output_kind_name(t->cfg->output));
	}
	if (nsc_health_board_put(board, &h) != NSC_OK)
		nsc_warn(t->log, COMP, "event=health_not_updated msg=\"out of memory updating the health board\"");
}

static void on_frame(void *arg, struct nsc_bridge *b, const struct nsc_frame_result *r)
{
	struct tenant *t = arg;
	(void)b;
	if (r->verdict == NSC_VERDICT_OK) {
		/* The first poll fetches what was there before we started: not a delay. */
		if (t->had_success && r->new_sgv_ms > 0 && t->set->o.board)
			nsc_health_board_observe_delay(t->set->o.board,
						       nsc_loop_wall_ms(t->set->loop) - r->new_sgv_ms);
		t->had_success = true;
	}
	publish(t);
}

static void on_attempt_failed(void *arg, struct nsc_bridge *b)
{
	(void)b;
	publish(arg);
}

static void on_finished(void *arg, struct nsc_bridge *b)
{
	struct tenant *t = arg;
	(void)b;
	nsc_err(t->log, COMP,
		"event=tenant_stopped file=\"%s\" msg=\"this tenant stopped (see the error before); the others go on. "
		"Fix its settings and save the file, or send SIGHUP, to start it again\"",
		t->path);
	publish(t);
}

/* ---- settings ---- */

static void set_problem(struct tenant *t, enum nsc_health_state state, const char *text)
{
	free(t->problem);
	t->problem = strdup(text ? text : "");
	t->refused_state = state;
}

/* The problems of a refused configuration, one sentence after another. */
static void set_report_problem(struct tenant *t, const struct nsc_config_report *rep)
{
	size_t len = 1;
	for (size_t i = 0; i < rep->count; i++)
		len += strlen(rep->problems[i].message) + 2;
	free(t->problem);
	t->problem = malloc(len);
	t->refused_state = NSC_HEALTH_INVALID;
	if (!t->problem)
		return;
	t->problem[0] = '\0';
	for (size_t i = 0; i < rep->count; i++) {
		if (i)
			strcat(t->problem, "; ");
		strcat(t->problem, rep->problems[i].message);
	}
}

/* The tenant that already uses dir for its spool or output, or NULL. */
static const struct tenant *folder_owner(const struct nsc_tenant_set *ts, const struct tenant *self, const char *dir)
{
	for (size_t i = 0; i < ts->n; i++) {
		const struct tenant *o = ts->t[i];
		if (o == self || !o->cfg)
			continue;
		if ((o->cfg->spool_dir && strcmp(o->cfg->spool_dir, dir) == 0) ||
		    (o->cfg->output_dir && strcmp(o->cfg->output_dir, dir) == 0))
			return o;
	}
	return NULL;
}

/* The folder this tenant's output keeps its data in. */
static const char *data_folder(const struct nsc_config *cfg)
{
	return cfg->output == NSC_OUTPUT_FILESYSTEM ? cfg->output_dir : cfg->spool_dir;
}

/*
 * Reads t's file into a configuration (t->cfg, t->log). NSC_OK when it
 * loaded; otherwise t->problem says why (logged here) and t->cfg is NULL.
 */
static nsc_rc tenant_load(struct tenant *t)
{
	struct nsc_tenant_set *ts = t->set;
	struct nsc_config_report rep;
	struct nsc_error err;
	char fields[NSC_TENANT_NAME_MAX + 8];

	nsc_error_clear(&err);
	snprintf(fields, sizeof(fields), "tenant=%s", t->name);
	t->log = nsc_log_new_child(ts->o.log, nsc_log_get_level(ts->o.log), fields);
	if (!t->log)
		return NSC_ERR_NOMEM;
	nsc_config_report_init(&rep);
	t->cfg = calloc(1, sizeof(*t->cfg));
	nsc_rc rc = t->cfg ? NSC_OK : NSC_ERR_NOMEM;
	if (rc == NSC_OK) {
		nsc_config_init(t->cfg);
		uint64_t fp = 0;
		rc = nsc_tenant_config_load(t->name, t->path, ts->o.defaults, ts->o.defaults_ctx, true, t->cfg, &rep,
					    &fp, &err);
		/* A file that was read has a fingerprint, even when its settings are refused. */
		t->have_fingerprint = rc == NSC_OK || rep.count > 0;
		t->fingerprint = fp;
		if (rc == NSC_ERR_CONFIG && rep.count > 0)
			set_report_problem(t, &rep);
	}
	nsc_config_report_free(&rep);
	if (rc == NSC_OK)
		rc = nsc_config_register_secrets(t->cfg, t->log);
	const struct tenant *owner = NULL;
	if (rc == NSC_OK && (owner = folder_owner(ts, t, data_folder(t->cfg))) != NULL) {
		char msg[NSC_ERROR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s %s is tenant %s's already; give each tenant its own",
			 t->cfg->output == NSC_OUTPUT_FILESYSTEM ? "CONNECT_OUTPUT_DIR" : "CONNECT_SPOOL_DIR",
			 data_folder(t->cfg), owner->name);
		set_problem(t, NSC_HEALTH_INVALID, msg);
		rc = NSC_ERR_CONFIG;
	}
	if (rc == NSC_OK) {
		nsc_log_set_level(t->log, t->cfg->log_level);
		free(t->problem);
		t->problem = NULL;
		return NSC_OK;
	}
	if (!t->problem)
		set_problem(t, NSC_HEALTH_INVALID, err.msg[0] ? err.msg : nsc_strerror(rc));
	char *safe = nsc_log_redact(t->log, t->problem ? t->problem : "");
	nsc_err(t->log, COMP,
		"event=tenant_invalid file=\"%s\" msg=\"%s. This tenant is skipped; the others run. Fix the file "
		"and save it (or send SIGHUP)\"",
		t->path, safe ? safe : "its settings were refused");
	free(safe);
	if (t->cfg) {
		nsc_config_free(t->cfg);
		free(t->cfg);
		t->cfg = NULL;
	}
	return rc == NSC_ERR_NOMEM ? NSC_ERR_NOMEM : NSC_ERR_CONFIG;
}

/* ---- running ---- */

static void start_bridge(void *arg)
{
	struct tenant *t = arg;
	t->start_timer = 0;
	if (t->bridge && nsc_bridge_start(t->bridge) != NSC_OK)
		nsc_err(t->log, COMP, "event=tenant_not_started msg=\"the bridge could not be started\"");
}

/*
 * Creates t's bridge and schedules its first poll in delay_ms (t->cfg
 * loaded). False when it could not (reported); a start that waits for
 * the old output to close counts as started.
 */
static bool tenant_start(struct tenant *t, int64_t delay_ms)
{
	struct nsc_tenant_set *ts = t->set;
	struct nsc_error err;
	nsc_error_clear(&err);
	if (nsc_closer_busy_with(ts->closer, t->cfg->spool_dir) ||
	    nsc_closer_busy_with(ts->closer, t->cfg->output_dir)) {
		t->waiting_close = true; /* the tick tries again */
		publish(t);
		return true;
	}
	t->waiting_close = false;
	struct nsc_bridge_options opts = {
		.frame_done = on_frame,
		.frame_done_arg = t,
		.attempt_failed = on_attempt_failed,
		.finished = on_finished,
		.finished_arg = t,
		.rng_seed = nsc_rng_next(&ts->rng) | 1,
	};
	nsc_rc rc = nsc_bridge_new(ts->loop, t->cfg, t->log, &opts, &t->bridge, &err);
	if (rc != NSC_OK) {
		t->bridge = NULL;
		set_problem(t, NSC_HEALTH_STOPPED, err.msg[0] ? err.msg : nsc_strerror(rc));
		nsc_err(t->log, COMP,
			"event=tenant_not_started file=\"%s\" msg=\"%s. This tenant is skipped; the others run\"",
			t->path, t->problem ? t->problem : nsc_strerror(rc));
		publish(t);
		return false;
	}
	t->started_ms = nsc_loop_wall_ms(ts->loop);
	t->had_success = false;
	if (nsc_loop_timer_in(ts->loop, delay_ms, start_bridge, t, &t->start_timer) != NSC_OK)
		start_bridge(t);
	nsc_info(t->log, COMP, "event=tenant_started file=\"%s\" source=%s output=%s first_poll_in_ms=%lld", t->path,
		 nsc_bridge_source_name(t->bridge), nsc_bridge_output_name(t->bridge), (long long)delay_ms);
	publish(t);
	return true;
}

/* Stops t's bridge; its output closes on the closer, which then frees the config and log. */
static void tenant_teardown(struct tenant *t, int64_t drain_ms)
{
	struct nsc_tenant_set *ts = t->set;
	nsc_loop_timer_cancel(ts->loop, &t->start_timer);
	struct nsc_bridge_output out = { 0 };
	if (t->bridge) {
		if (drain_ms >= 0)
			nsc_bridge_set_drain(t->bridge, drain_ms);
		nsc_bridge_free_except_output(t->bridge, &out);
		t->bridge = NULL;
	}
	if (out.driver) {
		nsc_closer_add(ts->closer, out, t->cfg, t->log);
	} else {
		if (t->cfg)
			nsc_config_free(t->cfg);
		free(t->cfg);
		nsc_log_free(t->log);
	}
	t->cfg = NULL;
	t->log = NULL;
	t->waiting_close = false;
}

static void tenant_free(struct tenant *t)
{
	if (!t)
		return;
	tenant_teardown(t, -1);
	free(t->problem);
	free(t->path);
	free(t);
}

/* ---- the set ---- */

nsc_rc nsc_tenant_set_new(struct nsc_loop *loop, const struct nsc_tenant_set_options *o,
			  struct nsc_tenant_set **out, struct nsc_error *err)
{
	struct nsc_tenant_set *ts = calloc(1, sizeof(*ts));
	if (!ts || !(ts->dir = strdup(o->dir ? o->dir : ""))) {
		free(ts);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
	}
	if (nsc_closer_new(CLOSER_THREADS, &ts->closer) != NSC_OK) {
		free(ts->dir);
		free(ts);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
	}
	ts->loop = loop;
	ts->o = *o;
	ts->o.dir = ts->dir;
	if (ts->o.start_spacing_ms <= 0)
		ts->o.start_spacing_ms = DEFAULT_SPACING_MS;
	nsc_rng_seed(&ts->rng, o->rng_seed ? o->rng_seed
					   : (uint64_t)nsc_clock_wall(&nsc_clock_system) ^ (uint64_t)(uintptr_t)ts);
	*out = ts;
	return NSC_OK;
}

static struct tenant *tenant_new(struct nsc_tenant_set *ts, const struct nsc_tenant_file *f)
{
	struct tenant *t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(f->path))) {
		free(t);
		return NULL;
	}
	memcpy(t->name, f->name, sizeof(t->name));
	t->set = ts;
	t->stamp = f->stamp;
	return t;
}

/* A tenant's first poll: a random point of a window as long as the starts need, at most its cadence. */
static int64_t first_poll_delay(struct nsc_tenant_set *ts, const struct tenant *t, size_t starting)
{
	int64_t cadence = t->cfg && t->cfg->poll_interval_ms > 0 ? t->cfg->poll_interval_ms : DEFAULT_CADENCE_MS;
	int64_t window = (int64_t)starting * ts->o.start_spacing_ms;
	if (window > cadence)
		window = cadence;
	return window > 1 ? nsc_rng_below(&ts->rng, window) : 0;
}

/*
 * Loads and starts (or reports) t, counting it in *scan; its first poll
 * spread among `starting` tenants (0: at once).
 */
static nsc_rc tenant_bring_up(struct tenant *t, size_t starting, size_t *counter, struct nsc_tenant_scan *scan)
{
	nsc_rc rc = tenant_load(t);
	if (rc == NSC_ERR_NOMEM)
		return rc;
	if (rc == NSC_OK && tenant_start(t, starting ? first_poll_delay(t->set, t, starting) : 0)) {
		(*counter)++;
	} else {
		scan->invalid++;
		publish(t);
	}
	return NSC_OK;
}

/* Whether f differs from what t runs: by stamp first, then by content. */
static bool file_changed(struct tenant *t, const struct nsc_tenant_file *f)
{
	if (nsc_file_stamp_equal(&t->stamp, &f->stamp) && t->have_fingerprint)
		return false;
	t->stamp = f->stamp;
	struct nsc_config_kv kv;
	struct nsc_error err;
	uint64_t fp = 0;
	nsc_config_kv_init(&kv, NULL, NULL);
	nsc_rc rc = nsc_config_envfile_read(f->path, &kv, &fp, &err);
	nsc_config_kv_free(&kv);
	/* An unreadable or broken file is a change too: the tenant is then reported. */
	return rc != NSC_OK || !t->have_fingerprint || fp != t->fingerprint;
}

static nsc_rc grow(struct nsc_tenant_set *ts, size_t need)
{
	if (need <= ts->cap)
		return NSC_OK;
	size_t cap = ts->cap ? ts->cap : 16;
	while (cap < need)
		cap *= 2;
	struct tenant **t = realloc(ts->t, cap * sizeof(*t));
	if (!t)
		return NSC_ERR_NOMEM;
	ts->t = t;
	ts->cap = cap;
	return NSC_OK;
}

static int by_tenant_name(const void *a, const void *b)
{
	return strcmp((*(struct tenant *const *)a)->name, (*(struct tenant *const *)b)->name);
}

static int name_vs_tenant(const void *key, const void *elem)
{
	return strcmp(key, (*(struct tenant *const *)elem)->name);
}

/* Stops and forgets the tenants whose file is gone (files sorted by name). */
static size_t remove_gone(struct nsc_tenant_set *ts, const struct nsc_tenant_file *files, size_t nf)
{
	size_t kept = 0, gone = 0;
	for (size_t i = 0, j = 0; i < ts->n; i++) {
		struct tenant *t = ts->t[i];
		while (j < nf && strcmp(files[j].name, t->name) < 0)
			j++;
		if (j < nf && strcmp(files[j].name, t->name) == 0) {
			ts->t[kept++] = t;
			continue;
		}
		/* The file is gone: stop the tenant; a spool keeps what it could not send. */
		nsc_info(t->log ? t->log : ts->o.log, COMP, "event=tenant_removed file=\"%s\"", t->path);
		if (ts->o.board)
			nsc_health_board_remove(ts->o.board, t->name);
		tenant_free(t);
		gone++;
	}
	ts->n = kept;
	return gone;
}

nsc_rc nsc_tenant_set_scan(struct nsc_tenant_set *ts, bool retry_idle, struct nsc_tenant_scan *out,
			   struct nsc_error *err)
{
	struct nsc_tenant_file *files = NULL;
	size_t nf = 0;
	struct nsc_tenant_scan scan = { 0 };
	nsc_rc rc = nsc_tenant_dir_list(ts->dir, ts->o.log, &files, &nf, err);
	if (rc != NSC_OK)
		return rc;
	if (grow(ts, ts->n + nf) != NSC_OK) {
		nsc_tenant_files_free(files, nf);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
	}
	scan.stopped = remove_gone(ts, files, nf);
	size_t known = ts->n; /* ts->t[0..known) stays sorted; new tenants go after it */
	size_t new_files = 0;
	for (size_t j = 0; j < nf; j++)
		new_files += bsearch(files[j].name, ts->t, known, sizeof(*ts->t), name_vs_tenant) == NULL;
	for (size_t j = 0; rc == NSC_OK && j < nf; j++) {
		const struct nsc_tenant_file *f = &files[j];
		struct tenant **found = bsearch(f->name, ts->t, known, sizeof(*ts->t), name_vs_tenant);
		if (!found) {
			struct tenant *t = tenant_new(ts, f);
			if (!t) {
				rc = NSC_ERR_NOMEM;
				break;
			}
			ts->t[ts->n++] = t;
			rc = tenant_bring_up(t, new_files, &scan.started, &scan);
			continue;
		}
		struct tenant *t = *found;
		bool changed = file_changed(t, f);
		bool idle = !t->waiting_close && (!t->bridge || nsc_bridge_finished(t->bridge));
		if (!changed && !(retry_idle && idle)) {
			scan.unchanged++;
			continue;
		}
		nsc_info(t->log ? t->log : ts->o.log, COMP, "event=tenant_reload file=\"%s\" reason=%s", t->path,
			 changed ? "changed" : "sighup");
		tenant_teardown(t, -1);
		rc = tenant_bring_up(t, 0, &scan.restarted, &scan);
	}
	if (ts->n > known)
		qsort(ts->t, ts->n, sizeof(*ts->t), by_tenant_name);
	nsc_tenant_files_free(files, nf);
	if (out)
		*out = scan;
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "out of memory starting tenants");
	return NSC_OK;
}

void nsc_tenant_set_tick(struct nsc_tenant_set *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		struct tenant *t = ts->t[i];
		if (t->waiting_close && t->cfg && !t->bridge)
			(void)tenant_start(t, 0);
	}
}

size_t nsc_tenant_set_running(const struct nsc_tenant_set *ts)
{
	size_t n = 0;
	for (size_t i = 0; i < ts->n; i++)
		n += ts->t[i]->bridge != NULL && !nsc_bridge_finished(ts->t[i]->bridge);
	return n;
}

size_t nsc_tenant_set_count(const struct nsc_tenant_set *ts)
{
	return ts->n;
}

bool nsc_tenant_set_shutdown(struct nsc_tenant_set *ts, int64_t budget_ms)
{
	for (size_t i = 0; i < ts->n; i++)
		tenant_teardown(ts->t[i], budget_ms);
	size_t left = nsc_closer_wait(ts->closer, 2 * budget_ms);
	if (left > 0)
		nsc_warn(ts->o.log, COMP,
			 "event=shutdown_incomplete outputs_closing=%zu msg=\"%zu outputs were still sending when time ran "
			 "out; what they hold stays in their spools and is sent at the next start\"",
			 left, left);
	return left == 0;
}

void nsc_tenant_set_free(struct nsc_tenant_set *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++)
		tenant_free(ts->t[i]);
	free(ts->t);
	nsc_closer_free(ts->closer); /* with closes left, they finish on their own */
	free(ts->dir);
	free(ts);
}
