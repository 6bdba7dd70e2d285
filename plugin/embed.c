/* SPDX-License-Identifier: MIT */
/*
 * The embedding API of <nsconnect.h>: one bridge on an engine thread of its
 * own, configured from key/value settings, watched through a status
 * snapshot and callbacks. The Node plugin (plugin/addon.c) is one host.
 *
 * Threads: the host calls in on its thread; the engine thread runs the
 * loop and the bridge of one run (struct nsc_embed_run). The snapshot in
 * `status` is the only state of the handle both touch, under `lock`.
 * Callbacks run on the engine thread under the run's `mu`, and only while
 * the run still has its host: stop never waits more than
 * NSC_EMBED_STOP_WAIT_MS, then lets a busy engine thread finish alone.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "engine/bridge.h"
#include "sources/registry.h"
#include "engine/loop.h"
#include "log.h"
#include "nsc_config.h"
#include "nsconnect.h"
#include "output.h"
#include "source.h"

#define COMP "embed"
/*
 * How long stop waits for the engine thread. Node's event loop waits with
 * it, so it is short; a thread still busy after it is let go.
 */
#define NSC_EMBED_STOP_WAIT_MS 500

/*
 * One start of the engine: what start builds and the engine thread uses.
 * Normally stop joins the thread and frees it. When the thread does not
 * finish in time (a MongoDB write waiting for its socket timeout), stop
 * lets go of it instead: the thread frees the run itself when the write
 * returns, and touches the host's handle no more.
 */
struct nsc_embed_run {
	pthread_mutex_t mu;     /* guards host, done and orphan */
	pthread_cond_t done_cv; /* done became true */
	nsc_embed *host;        /* NULL once the host let go: no callback, no status */
	bool done;              /* the loop has returned */
	bool orphan;            /* nobody joins: the thread frees the run */

	struct nsc_config cfg;
	bool cfg_loaded;
	struct nsc_log *log;
	struct nsc_loop *loop;
	struct nsc_bridge *bridge;
	pthread_t thread;
	char last_problem[NSC_ERROR_MSG_MAX]; /* engine thread only */
};

struct nsc_embed {
	struct nsc_config_kv settings;
	bool use_env, direct;
	nsc_embed_batch_fn on_batch;
	void *batch_arg;
	nsc_embed_log_fn on_log;
	void *log_arg;
	nsc_embed_problem_fn on_problem;
	void *problem_arg;

	struct nsc_embed_run *run; /* while running */

	pthread_mutex_t lock;
	struct nsc_embed_status status;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* libcurl's global state is process-wide: set it up once and keep it. */
static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *env_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

nsc_rc nsc_embed_new(nsc_embed **out)
{
	*out = NULL;
	if (pthread_once(&curl_once, init_curl) != 0 || curl_init_rc != CURLE_OK)
		return NSC_ERR_INTERNAL;
	nsc_embed *e = calloc(1, sizeof(*e));
	if (!e)
		return NSC_ERR_NOMEM;
	if (pthread_mutex_init(&e->lock, NULL) != 0) {
		free(e);
		return NSC_ERR_INTERNAL;
	}
	nsc_config_kv_init(&e->settings, NULL, NULL);
	e->status.next_poll_in_ms = -1;
	*out = e;
	return NSC_OK;
}

/* A name the command line would accept: a setting, or a secret's NAME_FILE. */
static bool known_setting(const char *name)
{
	if (nsc_setting_by_name(name))
		return true;
	size_t n = strlen(name);
	static const char suffix[] = "_FILE";
	if (n <= sizeof(suffix) - 1 || strcmp(name + n - (sizeof(suffix) - 1), suffix) != 0)
		return false;
	char base[128];
	if (n - (sizeof(suffix) - 1) >= sizeof(base))
		return false;
	memcpy(base, name, n - (sizeof(suffix) - 1));
	base[n - (sizeof(suffix) - 1)] = '\0';
	const struct nsc_setting *s = nsc_setting_by_name(base);
	return s && s->kind == NSC_SETTING_SECRET;
}

nsc_rc nsc_embed_set(nsc_embed *e, const char *name, const char *value)
{
	if (!e || !name || !value)
		return NSC_ERR_INTERNAL;
	if (e->run)
		return NSC_ERR_STATE;
	if (!known_setting(name))
		return NSC_ERR_CONFIG;
	return nsc_config_kv_set(&e->settings, name, value);
}

void nsc_embed_use_environment(nsc_embed *e, int yes)
{
	e->use_env = yes != 0;
}

void nsc_embed_write_directly(nsc_embed *e, int yes)
{
	e->direct = yes != 0;
}

void nsc_embed_on_batch(nsc_embed *e, nsc_embed_batch_fn fn, void *arg)
{
	e->on_batch = fn;
	e->batch_arg = arg;
}

void nsc_embed_on_log(nsc_embed *e, nsc_embed_log_fn fn, void *arg)
{
	e->on_log = fn;
	e->log_arg = arg;
}

void nsc_embed_on_problem(nsc_embed *e, nsc_embed_problem_fn fn, void *arg)
{
	e->on_problem = fn;
	e->problem_arg = arg;
}

/* Log lines reach the host while it holds the run (any thread that logs). */
static void log_to_host(void *ctx, enum nsc_log_level level, const char *line)
{
	struct nsc_embed_run *run = ctx;
	pthread_mutex_lock(&run->mu);
	nsc_embed *e = run->host;
	if (e && e->on_log)
		e->on_log(e->log_arg, (enum nsc_embed_log_level)level, line);
	pthread_mutex_unlock(&run->mu);
}

static void copy_status(struct nsc_embed_status *s, const struct nsc_bridge_stats *st)
{
	s->last_rc = st->last_rc;
	snprintf(s->last_error, sizeof(s->last_error), "%s", st->last_error);
	s->polls_ok = st->frames_ok;
	s->polls_failed = st->frames_failed;
	s->logins_rejected = st->frames_rejected;
	s->payloads_dropped = st->payloads_dropped;
	s->stored_entries = st->stored[NSC_COLL_ENTRIES];
	s->stored_treatments = st->stored[NSC_COLL_TREATMENTS];
	s->stored_devicestatus = st->stored[NSC_COLL_DEVICESTATUS];
	s->stored_profile = st->stored[NSC_COLL_PROFILE];
	s->last_success_ms = st->last_success_ms;
	s->newest_entry_ms = st->newest_entry_ms;
	s->next_poll_in_ms = st->next_frame_in_ms;
}

/* The host's callbacks for one poll (run->mu held, run->host set). */
static void tell_host(struct nsc_embed_run *run, nsc_embed *e, const struct nsc_frame_result *r)
{
	if (r->verdict == NSC_VERDICT_OK) {
		run->last_problem[0] = '\0';
		size_t total = 0;
		for (int c = 0; c < NSC_COLL_COUNT; c++)
			total += r->written.stored[c];
		if (total > 0 && e->on_batch) {
			struct nsc_embed_batch batch = {
				.stored_entries = r->written.stored[NSC_COLL_ENTRIES],
				.stored_treatments = r->written.stored[NSC_COLL_TREATMENTS],
				.stored_devicestatus = r->written.stored[NSC_COLL_DEVICESTATUS],
				.stored_profile = r->written.stored[NSC_COLL_PROFILE],
				.oldest_ms = r->batch_oldest_ms,
				.newest_ms = r->batch_newest_ms,
			};
			e->on_batch(e->batch_arg, &batch);
		}
		return;
	}
	/* A problem is told once until it changes or a poll succeeds. */
	if (strcmp(run->last_problem, r->message) == 0)
		return;
	snprintf(run->last_problem, sizeof(run->last_problem), "%s", r->message);
	if (e->on_problem)
		e->on_problem(e->problem_arg, r->rc, r->message);
}

/* Runs on the engine thread after each poll. */
static void on_frame(void *arg, struct nsc_bridge *b, const struct nsc_frame_result *r)
{
	struct nsc_embed_run *run = arg;
	pthread_mutex_lock(&run->mu);
	nsc_embed *e = run->host;
	if (e) {
		pthread_mutex_lock(&e->lock);
		copy_status(&e->status, nsc_bridge_stats(b));
		pthread_mutex_unlock(&e->lock);
		tell_host(run, e, r);
	}
	pthread_mutex_unlock(&run->mu);
}

/* Frees what start built; the engine thread must be gone or be this one. */
static void run_free(struct nsc_embed_run *run)
{
	nsc_bridge_free(run->bridge); /* closes (and flushes) the output */
	nsc_loop_free(run->loop);
	nsc_log_free(run->log);
	if (run->cfg_loaded)
		nsc_config_free(&run->cfg);
	pthread_cond_destroy(&run->done_cv);
	pthread_mutex_destroy(&run->mu);
	free(run);
}

static void *engine_main(void *arg)
{
	struct nsc_embed_run *run = arg;
	nsc_rc rc = nsc_loop_run(run->loop);
	if (rc != NSC_OK)
		nsc_err(run->log, COMP, "event=engine_stopped msg=\"the event loop failed: %s\"",
			nsc_strerror(rc));
	pthread_mutex_lock(&run->mu);
	run->done = true;
	pthread_cond_broadcast(&run->done_cv);
	if (run->host) {
		pthread_mutex_lock(&run->host->lock);
		run->host->status.running = 0;
		pthread_mutex_unlock(&run->host->lock);
	}
	bool orphan = run->orphan;
	pthread_mutex_unlock(&run->mu);
	if (orphan) {
		/* The host stopped waiting for this thread: clean up here. */
		nsc_bridge_stop(run->bridge);
		run_free(run);
	}
	return NULL;
}

static nsc_rc run_new(struct nsc_embed_run **out)
{
	struct nsc_embed_run *run = calloc(1, sizeof(*run));
	pthread_condattr_t ca;
	*out = NULL;
	if (!run)
		return NSC_ERR_NOMEM;
	if (pthread_condattr_init(&ca) != 0) {
		free(run);
		return NSC_ERR_NOMEM;
	}
	int cv = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (cv == 0)
		cv = pthread_cond_init(&run->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (cv != 0) {
		free(run);
		return NSC_ERR_NOMEM;
	}
	if (pthread_mutex_init(&run->mu, NULL) != 0) {
		pthread_cond_destroy(&run->done_cv);
		free(run);
		return NSC_ERR_NOMEM;
	}
	*out = run;
	return NSC_OK;
}

/*
 * Loads e->settings into cfg and picks the drivers: the checks both
 * validate and start make. Secrets are registered with log when given.
 */
static nsc_rc load_settings(nsc_embed *e, struct nsc_config *cfg, struct nsc_log *log,
			    const struct nsc_source_driver **src, const struct nsc_output_driver **out,
			    struct nsc_error *err)
{
	e->settings.fallback = e->use_env ? env_lookup : NULL;
	nsc_rc rc = nsc_config_load(cfg, nsc_config_kv_lookup, &e->settings, err);
	if (rc == NSC_OK && log)
		rc = nsc_config_register_secrets(cfg, log);
	if (rc != NSC_OK)
		return rc;
	*src = nsc_source_driver_for(cfg->source);
	*out = e->direct ? nsc_output_backend_for(cfg->output) : nsc_output_driver_for(cfg->output);
	if (!*src)
		return nsc_error_set(err, NSC_ERR_UNSUPPORTED,
				     "CONNECT_SOURCE=%s is not available in this version of nsconnect yet",
				     nsc_source_name(cfg->source));
	if (!*out)
		return nsc_error_set(err, NSC_ERR_UNSUPPORTED,
				     "CONNECT_OUTPUT=%s is not available in this build of nsconnect",
				     nsc_output_kind_name(cfg->output));
	return NSC_OK;
}

nsc_rc nsc_embed_validate(nsc_embed *e, struct nsc_error *err)
{
	struct nsc_error local;
	struct nsc_config cfg;
	const struct nsc_source_driver *src;
	const struct nsc_output_driver *out;
	if (!err)
		err = &local;
	nsc_error_clear(err);
	nsc_config_init(&cfg);
	nsc_rc rc = load_settings(e, &cfg, NULL, &src, &out, err);
	nsc_config_free(&cfg);
	return rc;
}

/* Configuration messages name settings, never their secret values (config.c). */
static nsc_rc start_failed(struct nsc_embed_run *run, nsc_rc rc)
{
	run_free(run);
	return rc;
}

nsc_rc nsc_embed_start(nsc_embed *e, struct nsc_error *err)
{
	struct nsc_error local;
	const struct nsc_source_driver *src;
	const struct nsc_output_driver *out;
	struct nsc_embed_run *run;
	if (!err)
		err = &local;
	nsc_error_clear(err);
	if (e->run)
		return nsc_error_set(err, NSC_ERR_STATE, "nsconnect is already running");
	if (run_new(&run) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
	run->host = e;
	run->log = nsc_log_new(NSC_LOG_INFO);
	if (!run->log)
		return start_failed(run, nsc_error_set(err, NSC_ERR_NOMEM, "out of memory"));
	if (e->on_log)
		nsc_log_set_sink(run->log, log_to_host, run);
	nsc_config_init(&run->cfg);
	run->cfg_loaded = true;
	nsc_rc rc = load_settings(e, &run->cfg, run->log, &src, &out, err);
	if (rc != NSC_OK)
		return start_failed(run, rc);
	nsc_log_set_level(run->log, run->cfg.log_level);

	if (nsc_loop_new(NULL, &run->loop) != NSC_OK)
		return start_failed(run, nsc_error_set(err, NSC_ERR_NOMEM, "cannot create the event loop"));
	struct nsc_bridge_options opts = { .frame_done = on_frame, .frame_done_arg = run };
	rc = nsc_bridge_new_with(run->loop, &run->cfg, run->log, &opts, src, out, &run->bridge, err);
	if (rc != NSC_OK)
		return start_failed(run, rc);
	rc = nsc_bridge_start(run->bridge);
	if (rc != NSC_OK)
		return start_failed(run, nsc_error_set(err, rc, "cannot start the bridge"));

	pthread_mutex_lock(&e->lock);
	memset(&e->status, 0, sizeof(e->status));
	e->status.next_poll_in_ms = -1;
	e->status.running = 1;
	pthread_mutex_unlock(&e->lock);
	if (pthread_create(&run->thread, NULL, engine_main, run) != 0) {
		pthread_mutex_lock(&e->lock);
		e->status.running = 0;
		pthread_mutex_unlock(&e->lock);
		return start_failed(run, nsc_error_set(err, NSC_ERR_INTERNAL, "cannot start the engine thread"));
	}
	e->run = run;
	nsc_info(run->log, COMP, "event=started version=%s source=%s output=%s%s", nsc_version(),
		 nsc_source_name(run->cfg.source), nsc_output_kind_name(run->cfg.output),
		 e->direct ? " spool=off" : "");
	return NSC_OK;
}

/* Waits up to wait_ms until the run's loop has returned; true when it has. */
static bool wait_done(struct nsc_embed_run *run, int64_t wait_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(wait_ms / 1000);
	ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&run->mu);
	while (!run->done && pthread_cond_timedwait(&run->done_cv, &run->mu, &ts) == 0)
		;
	bool done = run->done;
	pthread_mutex_unlock(&run->mu);
	return done;
}

void nsc_embed_stop(nsc_embed *e)
{
	if (!e || !e->run)
		return;
	struct nsc_embed_run *run = e->run;
	e->run = NULL;
	pthread_mutex_lock(&e->lock);
	e->status.running = 0;
	pthread_mutex_unlock(&e->lock);

	nsc_loop_stop(run->loop);
	bool done = wait_done(run, NSC_EMBED_STOP_WAIT_MS);
	if (!done)
		nsc_warn(run->log, COMP,
			 "event=stop_pending msg=\"the output is still busy (a database write that does "
			 "not answer); it is left to finish in the background and nothing is reported "
			 "from it\"");
	pthread_mutex_lock(&run->mu);
	done = run->done; /* it may have finished meanwhile */
	pthread_t thread = run->thread;
	if (!done) {
		run->orphan = true;
		run->host = NULL;
	}
	pthread_mutex_unlock(&run->mu);
	if (!done) {
		/* From here the engine thread owns the run and frees it. */
		pthread_detach(thread);
		return;
	}
	pthread_join(thread, NULL);
	/* Stopped on the host thread now that the loop's own thread is gone. */
	nsc_bridge_stop(run->bridge);
	nsc_info(run->log, COMP, "event=stopped");
	run_free(run);
}

void nsc_embed_status(nsc_embed *e, struct nsc_embed_status *out)
{
	pthread_mutex_lock(&e->lock);
	*out = e->status;
	pthread_mutex_unlock(&e->lock);
}

void nsc_embed_free(nsc_embed *e)
{
	if (!e)
		return;
	nsc_embed_stop(e);
	nsc_config_kv_free(&e->settings);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
