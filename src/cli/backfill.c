/* SPDX-License-Identifier: MIT */
/* nightscout-connect backfill (see backfill.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/backfill.h"
#include "cli/backfill_progress.h"
#include "cli/backfill_state.h"
#include "cli/run_common.h"
#include "cli/usage.h"
#include "engine/backfill.h"
#include "engine/bridge.h"
#include "engine/loop.h"
#include "sources/registry.h"
#include "timeutil.h"

#define COMP "backfill"

/* `90d`, `36h`, `2w`: a span back from now; false when text is not one. */
static bool parse_span(const char *text, int64_t *span_ms)
{
	char *end;
	if (!isdigit((unsigned char)text[0]))
		return false;
	unsigned long long n = strtoull(text, &end, 10);
	int64_t unit = 0;
	if (end[0] != '\0' && end[1] == '\0') {
		switch (end[0]) {
		case 'h':
			unit = NSC_MS_PER_HOUR;
			break;
		case 'd':
			unit = 24 * NSC_MS_PER_HOUR;
			break;
		case 'w':
			unit = 7 * 24 * NSC_MS_PER_HOUR;
			break;
		}
	}
	/* Ten years at most: the product stays far inside int64. */
	if (unit == 0 || n == 0 || n > 3660ULL * 24 * NSC_MS_PER_HOUR / (unsigned long long)unit)
		return false;
	*span_ms = (int64_t)n * unit;
	return true;
}

/* `YYYY-MM-DD[THH:MM[:SS]]` with no zone: this machine's local time; false when text is not one. */
static bool parse_local(const char *text, int64_t *ms)
{
	struct tm tm;
	char tail = 0;
	int n = 0;
	memset(&tm, 0, sizeof(tm));
	size_t len = strlen(text);
	if (len == 10)
		n = sscanf(text, "%4d-%2d-%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tail) == 3 ? 3 : -1;
	else if (len == 16 || len == 19)
		n = sscanf(text, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			   &tm.tm_min, &tm.tm_sec);
	if (!(n == 3 || (len == 16 && n == 5) || (len == 19 && n == 6)))
		return false;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 59)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1; /* the zone's rules say whether summer time applies that day */
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return false;
	*ms = (int64_t)t * 1000;
	return true;
}

nsc_rc nsc_cli_parse_when(const char *option, const char *text, int64_t now_ms, int64_t *out,
			  struct nsc_error *err)
{
	int64_t span;
	if (text == NULL || *text == '\0')
		return nsc_error_set(err, NSC_ERR_CONFIG, "backfill: %s needs a time", option);
	if (parse_span(text, &span)) {
		*out = now_ms - span;
		return NSC_OK;
	}
	if (parse_local(text, out))
		return NSC_OK;
	if (nsc_time_parse_iso(text, out, NULL) == NSC_OK && strpbrk(text + 10, "Z+-") != NULL)
		return NSC_OK;
	return nsc_error_set(err, NSC_ERR_CONFIG,
			     "backfill: %s '%s' is not a time: use a span back from now (90d, 36h, 2w), a date "
			     "(2026-09-01), a local time (2026-09-01T08:30) or an ISO time with its zone "
			     "(2026-09-01T06:30:00Z)",
			     option, text);
}

struct backfill_run {
	struct nsc_backfill plan;
	struct nsc_backfill_state state;
	struct nsc_backfill_progress progress;
	struct nsc_loop *loop;
	bool state_failed; /* told once; the backfill goes on without resuming */
};

/* With a bar on screen, a log line starts on a line of its own; the next page redraws the bar. */
static void log_beside_bar(void *ctx, enum nsc_log_level level, const char *line)
{
	struct backfill_run *run = ctx;
	(void)level;
	nsc_backfill_progress_end(&run->progress);
	fprintf(stderr, "%s\n", line);
}

static void on_finished(void *arg, struct nsc_bridge *b)
{
	(void)b;
	nsc_loop_stop(((struct backfill_run *)arg)->loop);
}

/* After every frame: keep the progress on disk and show it. */
static void on_frame(void *arg, struct nsc_bridge *b, const struct nsc_frame_result *r)
{
	struct backfill_run *run = arg;
	if (r->verdict != NSC_VERDICT_OK && r->verdict != NSC_VERDICT_DROP)
		return; /* the bridge logs the failure; the page is read again or the run stops */
	run->state.reached_ms = run->plan.reached_ms;
	struct nsc_error err;
	nsc_error_clear(&err);
	if (!run->state_failed && nsc_backfill_state_save(&run->state, &err) != NSC_OK) {
		nsc_backfill_progress_end(&run->progress);
		fprintf(stderr, "nightscout-connect: %s\n", err.msg);
		run->state_failed = true;
	}
	nsc_backfill_progress_page(&run->progress, &run->plan, nsc_bridge_stats(b), nsc_loop_mono_ms(run->loop));
}

/* What the plan means for this source, said before the first page. */
static void print_plan(const struct backfill_run *run, const struct nsc_source_driver *src, bool resumed)
{
	char from[NSC_ISO_BUF] = "?", to[NSC_ISO_BUF] = "?", at[NSC_ISO_BUF] = "?";
	(void)nsc_time_format_iso(run->plan.start_ms, from, sizeof(from));
	(void)nsc_time_format_iso(run->plan.end_ms, to, sizeof(to));
	(void)nsc_time_format_iso(run->plan.reached_ms, at, sizeof(at));
	if (run->plan.clamped)
		fprintf(stderr, "backfill: %s keeps only its last %lld hours: reading from %s\n", src->display_name,
			(long long)(src->history.kept_ms / NSC_MS_PER_HOUR), from);
	if (run->plan.whole)
		fprintf(stderr, "backfill: %s serves its recent data in one answer: one fetch up to now\n",
			src->display_name);
	if (resumed)
		fprintf(stderr, "backfill: resuming %s, read up to %s already (%s)\n", run->state.path, at, from);
	fprintf(stderr, "backfill: %s from %s to %s\n", src->display_name, from, to);
}

/* The plan: a saved run's range when this is the same command again, else a new one. */
static nsc_rc plan_run(struct backfill_run *run, const struct nsc_cli_backfill_args *a,
		       const struct nsc_source_driver *src, int64_t now, bool *resumed, struct nsc_error *err)
{
	struct nsc_error why;
	nsc_error_clear(&why);
	*resumed = nsc_backfill_state_load(&run->state, &why);
	if (why.msg[0])
		fprintf(stderr, "nightscout-connect: %s\n", why.msg);
	int64_t since = run->state.since_ms, until = run->state.until_ms;
	if (!*resumed) {
		nsc_rc rc = nsc_cli_parse_when("--since", a->since, now, &since, err);
		until = 0;
		if (rc == NSC_OK && a->until)
			rc = nsc_cli_parse_when("--until", a->until, now, &until, err);
		if (rc != NSC_OK)
			return rc;
	}
	nsc_rc rc = nsc_backfill_plan(&run->plan, &src->history, since, until, now, err);
	if (rc != NSC_OK)
		return rc;
	if (*resumed)
		nsc_backfill_resume(&run->plan, run->state.reached_ms);
	*resumed = *resumed && run->plan.reached_ms > run->plan.start_ms;
	run->state.since_ms = since;
	run->state.until_ms = run->plan.until_ms;
	run->state.reached_ms = run->plan.reached_ms;
	return NSC_OK;
}

/* Peak resident memory of this process in KiB (0 when unknown). */
static long peak_rss_kib(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* The summary after the loop: capture's (as the store saw it), then how far the range got. */
static int summarize(struct backfill_run *run, struct nsc_bridge *bridge, const struct nsc_config *cfg)
{
	struct nsc_error err;
	struct nsc_bridge_stats st;
	nsc_error_clear(&err);
	nsc_backfill_progress_end(&run->progress);
	nsc_rc delivered = nsc_cli_deliver_and_summarize(bridge, cfg, &st, &err);
	bool complete = run->plan.reached_ms >= run->plan.end_ms;
	char at[NSC_ISO_BUF] = "?";
	(void)nsc_time_format_iso(run->plan.reached_ms, at, sizeof(at));
	printf("backfill: %s, %u pages read, %u skipped (their answer could not be used), peak memory %ld KiB\n",
	       complete ? "complete" : "not finished", run->plan.pages_done, run->plan.pages_skipped,
	       peak_rss_kib());
	int status;
	if (complete) {
		nsc_backfill_state_remove(&run->state);
		status = run->plan.pages_skipped > 0 ? NSC_EXIT_DROPPED
			 : nsc_cli_stored_any(&st)   ? NSC_EXIT_OK
						     : NSC_EXIT_NO_DATA;
	} else {
		printf("backfill: stopped after %s; run the same command again to go on from there\n", at);
		/* A rejected login or a fatal error says so; anything else is "not finished yet". */
		status = nsc_cli_summary_status(&st);
		if (status != NSC_EXIT_REJECTED && status != NSC_EXIT_INTERNAL)
			status = NSC_EXIT_TEMPFAIL;
	}
	return nsc_cli_undelivered_status(delivered, &err, status);
}

int nsc_cli_backfill(const struct nsc_cli_backfill_args *a, const struct nsc_config *cfg,
		     struct nsc_log *log)
{
	struct backfill_run run;
	struct nsc_bridge *bridge = NULL;
	struct nsc_error err;
	int status = NSC_EXIT_INTERNAL;
	bool resumed = false;
	memset(&run, 0, sizeof(run));
	nsc_error_clear(&err);

	const struct nsc_source_driver *src = nsc_source_driver_for(cfg->source);
	if (src == NULL) {
		fprintf(stderr, "nightscout-connect: CONNECT_SOURCE=%s is not available in this version yet\n",
			nsc_source_name(cfg->source));
		return NSC_EXIT_USAGE;
	}
	if (nsc_backfill_state_init(&run.state, cfg->spool_dir, src->name, a->since, a->until ? a->until : "") !=
	    NSC_OK) {
		fprintf(stderr, "nightscout-connect: out of memory\n");
		return NSC_EXIT_INTERNAL;
	}
	if (nsc_loop_new(NULL, &run.loop) != NSC_OK) {
		fprintf(stderr, "nightscout-connect: cannot create the event loop\n");
		goto out;
	}
	nsc_rc rc = plan_run(&run, a, src, nsc_loop_wall_ms(run.loop), &resumed, &err);
	if (rc != NSC_OK) {
		fprintf(stderr, "nightscout-connect: %s\n", err.msg);
		status = rc == NSC_ERR_NOMEM ? NSC_EXIT_INTERNAL : NSC_EXIT_USAGE;
		goto out;
	}
	struct nsc_bridge_options opts = {
		.finished = on_finished,
		.finished_arg = &run,
		.frame_done = on_frame,
		.frame_done_arg = &run,
		.backfill = &run.plan,
	};
	rc = nsc_bridge_new(run.loop, cfg, log, &opts, &bridge, &err);
	if (rc != NSC_OK) {
		fprintf(stderr, "nightscout-connect: %s\n", err.msg[0] ? err.msg : nsc_strerror(rc));
		status = nsc_cli_create_status(rc);
		goto out;
	}
	print_plan(&run, src, resumed);
	nsc_backfill_progress_init(&run.progress, stderr, isatty(STDERR_FILENO) == 1, nsc_loop_mono_ms(run.loop),
				   &run.plan);
	if (run.progress.bar)
		nsc_log_set_sink(log, log_beside_bar, &run);
	nsc_info(log, COMP, "event=backfill_started source=%s from_ms=%lld to_ms=%lld resumed=%s", src->name,
		 (long long)run.plan.reached_ms, (long long)run.plan.end_ms, resumed ? "yes" : "no");
	if (nsc_cli_signals_install(run.loop) != 0) {
		fprintf(stderr, "nightscout-connect: cannot install signal handlers\n");
		goto out;
	}
	if (nsc_bridge_start(bridge) != NSC_OK || nsc_loop_run(run.loop) != NSC_OK) {
		fprintf(stderr, "nightscout-connect: the event loop failed\n");
		goto out;
	}
	status = summarize(&run, bridge, cfg);
out:
	nsc_cli_signals_clear();
	nsc_bridge_free(bridge); /* flushes and closes the output */
	nsc_log_set_sink(log, NULL, NULL);
	nsc_loop_free(run.loop);
	nsc_backfill_state_fini(&run.state);
	return status;
}
