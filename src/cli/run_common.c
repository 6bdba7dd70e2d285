/* SPDX-License-Identifier: MIT */
/* What the bridge-running commands share (see run_common.h). */
#include "config.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cli/run_common.h"
#include "cli/usage.h"
#include "timeutil.h"

/*
 * A spooled output is waited for as long as it delivers; the wait gives up
 * when nothing got through for as long as one request may take, plus this.
 */
#define NSC_FLUSH_IDLE_SLACK_MS 5000

/* The one process-wide pointer: signal handlers can reach nothing else. */
static struct nsc_loop *signal_loop;

static void on_signal(int sig)
{
	(void)sig;
	if (signal_loop)
		nsc_loop_stop_from_signal(signal_loop);
}

int nsc_cli_signals_install(struct nsc_loop *loop)
{
	struct sigaction sa;
	signal_loop = loop;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

void nsc_cli_signals_clear(void)
{
	signal_loop = NULL;
}

static atomic_bool reload_requested;

static void on_reload_signal(int sig)
{
	(void)sig;
	atomic_store(&reload_requested, true);
}

int nsc_cli_reload_signal_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_reload_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(SIGHUP, &sa, NULL);
}

bool nsc_cli_reload_requested(void)
{
	return atomic_exchange(&reload_requested, false);
}

bool nsc_cli_stored_any(const struct nsc_bridge_stats *st)
{
	for (int i = 0; i < NSC_COLL_COUNT; i++)
		if (st->stored[i] > 0)
			return true;
	return false;
}

int nsc_cli_summary_status(const struct nsc_bridge_stats *st)
{
	switch (nsc_rc_verdict(st->last_rc)) {
	case NSC_VERDICT_OK:
		return nsc_cli_stored_any(st) ? NSC_EXIT_OK : NSC_EXIT_NO_DATA;
	case NSC_VERDICT_RETRY:
	case NSC_VERDICT_AUTH:
		return NSC_EXIT_TEMPFAIL;
	case NSC_VERDICT_REJECTED:
		return NSC_EXIT_REJECTED;
	case NSC_VERDICT_DROP:
		return NSC_EXIT_DROPPED;
	case NSC_VERDICT_FATAL:
		return NSC_EXIT_INTERNAL;
	}
	return NSC_EXIT_INTERNAL;
}

/*
 * The bridge's stats as the store saw them: with a spooled output, what it
 * stored and already held once delivered, not what the spool accepted (a
 * re-read overlap or page is all "held"). Called after the flush.
 */
static void settled_stats(const struct nsc_bridge *b, struct nsc_bridge_stats *out)
{
	struct nsc_write_result d;
	*out = *nsc_bridge_stats(b);
	if (!nsc_bridge_delivered(b, &d))
		return;
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		out->stored[c] = d.stored[c];
		out->duplicates[c] = d.duplicates[c];
	}
	/* Every reading turned out held already: none is new to report. */
	if (out->stored[NSC_COLL_ENTRIES] == 0)
		out->new_sgv_ms = 0;
}

/* The documents stored, those already held, the newest reading and the last problem. */
static void print_summary(const struct nsc_bridge_stats *st)
{
	char when[NSC_ISO_BUF];
	printf("stored: entries=%llu treatments=%llu devicestatus=%llu profile=%llu "
	       "(already held, skipped: %llu)\n",
	       (unsigned long long)st->stored[NSC_COLL_ENTRIES],
	       (unsigned long long)st->stored[NSC_COLL_TREATMENTS],
	       (unsigned long long)st->stored[NSC_COLL_DEVICESTATUS],
	       (unsigned long long)st->stored[NSC_COLL_PROFILE],
	       (unsigned long long)(st->duplicates[NSC_COLL_ENTRIES] + st->duplicates[NSC_COLL_TREATMENTS] +
				    st->duplicates[NSC_COLL_DEVICESTATUS] + st->duplicates[NSC_COLL_PROFILE]));
	if (st->new_sgv_ms > 0 && nsc_time_format_iso(st->new_sgv_ms, when, sizeof(when)) == NSC_OK)
		printf("newest reading: %s sgv=%d mg/dL direction=%s\n", when, st->new_sgv, st->new_direction);
	else if (st->newest_entry_ms > 0 &&
		 nsc_time_format_iso(st->newest_entry_ms, when, sizeof(when)) == NSC_OK)
		printf("newest reading: %s (already stored before this run)\n", when);
	else
		printf("newest reading: none\n");
	if (st->last_error[0])
		printf("problem: %s\n", st->last_error);
}

/* How long to wait for a spooled output without any delivery: a request's timeout, plus slack. */
static int64_t flush_idle_ms(const struct nsc_config *cfg)
{
	int64_t request_ms = cfg->http_timeout_ms > 0 ? cfg->http_timeout_ms : 30000;
	return request_ms + NSC_FLUSH_IDLE_SLACK_MS;
}

nsc_rc nsc_cli_deliver_and_summarize(struct nsc_bridge *b, const struct nsc_config *cfg, struct nsc_bridge_stats *st,
				     struct nsc_error *err)
{
	nsc_rc delivered = nsc_bridge_flush(b, flush_idle_ms(cfg), err);
	settled_stats(b, st);
	print_summary(st);
	return delivered;
}

int nsc_cli_undelivered_status(nsc_rc delivered, const struct nsc_error *err, int status)
{
	if (delivered == NSC_OK)
		return status;
	printf("not yet delivered: %s\n", err->msg);
	return status == NSC_EXIT_OK || status == NSC_EXIT_NO_DATA ? NSC_EXIT_TEMPFAIL : status;
}

int nsc_cli_create_status(nsc_rc rc)
{
	return nsc_rc_verdict(rc) == NSC_VERDICT_FATAL && rc != NSC_ERR_NOMEM && rc != NSC_ERR_INTERNAL
		       ? NSC_EXIT_USAGE
		       : NSC_EXIT_INTERNAL;
}
