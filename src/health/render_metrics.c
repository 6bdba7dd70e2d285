/* SPDX-License-Identifier: MIT */
/* The Prometheus metrics page, text exposition format 0.0.4 (see render.h). */
#include "config.h"

#include <inttypes.h>

#include "health/proc.h"
#include "health/render.h"
#include "health/text.h"

static void family(struct nsc_health_text *t, const char *name, const char *type, const char *help)
{
	nsc_health_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `name{tenant="…"` for a sample the caller finishes. */
static void tenant_sample(struct nsc_health_text *t, const char *name,
			  const struct nsc_health_tenant *x)
{
	nsc_health_text_printf(t, "%s{tenant=", name);
	nsc_health_text_label(t, x->name);
}

/* ---- one number per tenant --------------------------------------------------- */

typedef uint64_t (*tenant_value_fn)(const struct nsc_health_tenant *x);

static uint64_t polls(const struct nsc_health_tenant *x) { return x->polls; }
static uint64_t logins(const struct nsc_health_tenant *x) { return x->logins; }
static uint64_t rejections(const struct nsc_health_tenant *x) { return x->login_rejections; }
static uint64_t failing(const struct nsc_health_tenant *x) { return x->consecutive_failures; }
static uint64_t spool_bytes(const struct nsc_health_tenant *x) { return x->spool_bytes; }
static uint64_t spool_batches(const struct nsc_health_tenant *x) { return x->spool_batches; }

struct per_tenant {
	const char *name, *type, *help;
	tenant_value_fn value;
};

static const struct per_tenant counters[] = {
	{ "nsconnect_polls_total", "counter", "Polls of the vendor finished, whatever their outcome.", polls },
	{ "nsconnect_logins_total", "counter", "Logins to the vendor attempted.", logins },
	{ "nsconnect_login_rejections_total", "counter",
	  "Logins the vendor refused (wrong password, locked account, terms to accept).", rejections },
};

static const struct per_tenant gauges[] = {
	{ "nsconnect_consecutive_failures", "gauge", "Polls failed in a row since the last success.", failing },
	{ "nsconnect_spool_bytes", "gauge", "Bytes waiting in the on-disk spool for the output.", spool_bytes },
	{ "nsconnect_spool_batches", "gauge", "Batches waiting in the on-disk spool for the output.",
	  spool_batches },
};

static void per_tenant_family(struct nsc_health_text *t, const struct nsc_health_view *v,
			      const struct per_tenant *f)
{
	family(t, f->name, f->type, f->help);
	for (size_t i = 0; i < v->count && !t->nomem; i++) {
		const struct nsc_health_tenant *x = nsc_health_view_at(v, i);
		tenant_sample(t, f->name, x);
		nsc_health_text_printf(t, "} %" PRIu64 "\n", f->value(x));
	}
}

/* ---- families with more labels or optional samples ------------------------------ */

static void states(struct nsc_health_text *t, const struct nsc_health_view *v)
{
	uint64_t n[NSC_HEALTH_STATE_COUNT] = {0};

	for (size_t i = 0; i < v->count; i++)
		n[v->tenants[i].state]++;
	family(t, "nsconnect_tenants", "gauge", "Tenants in each state.");
	for (int s = 0; s < NSC_HEALTH_STATE_COUNT; s++)
		nsc_health_text_printf(t, "nsconnect_tenants{state=\"%s\"} %" PRIu64 "\n",
				       nsc_health_state_name((enum nsc_health_state)s), n[s]);
	family(t, "nsconnect_tenant_state", "gauge", "The state each tenant is in (1).");
	for (size_t i = 0; i < v->count && !t->nomem; i++) {
		const struct nsc_health_tenant *x = nsc_health_view_at(v, i);
		tenant_sample(t, "nsconnect_tenant_state", x);
		nsc_health_text_printf(t, ",state=\"%s\"} 1\n", nsc_health_state_name(x->state));
	}
}

static void stored(struct nsc_health_text *t, const struct nsc_health_view *v)
{
	static const char name[] = "nsconnect_documents_stored_total";

	family(t, name, "counter", "Documents written to the output, by Nightscout collection.");
	for (size_t i = 0; i < v->count && !t->nomem; i++) {
		const struct nsc_health_tenant *x = nsc_health_view_at(v, i);
		for (int c = 0; c < NSC_COLL_COUNT; c++) {
			tenant_sample(t, name, x);
			nsc_health_text_printf(t, ",collection=\"%s\"} %" PRIu64 "\n",
					       nsc_collection_name((enum nsc_collection)c), x->stored[c]);
		}
	}
}

static void failures(struct nsc_health_text *t, const struct nsc_health_view *v)
{
	static const char name[] = "nsconnect_failures_total";

	family(t, name, "counter", "Failed polls, by what the engine did about them (verdict).");
	for (size_t i = 0; i < v->count && !t->nomem; i++) {
		const struct nsc_health_tenant *x = nsc_health_view_at(v, i);
		for (int f = NSC_VERDICT_RETRY; f <= NSC_VERDICT_FATAL; f++) {
			tenant_sample(t, name, x);
			nsc_health_text_printf(t, ",verdict=\"%s\"} %" PRIu64 "\n",
					       nsc_health_verdict_name((enum nsc_verdict)f), x->failures[f]);
		}
	}
}

typedef int64_t (*tenant_instant_fn)(const struct nsc_health_tenant *x);

static int64_t newest_reading(const struct nsc_health_tenant *x) { return x->newest_reading_ms; }
static int64_t last_success(const struct nsc_health_tenant *x) { return x->last_success_ms; }

/* A gauge in seconds for each tenant that has the instant: its age at `now`, or the instant itself. */
static void instant_family(struct nsc_health_text *t, const struct nsc_health_view *v,
			   const char *name, const char *help, tenant_instant_fn instant, bool age)
{
	family(t, name, "gauge", help);
	for (size_t i = 0; i < v->count && !t->nomem; i++) {
		const struct nsc_health_tenant *x = nsc_health_view_at(v, i);
		int64_t ms = instant(x);
		if (ms == 0)
			continue;
		tenant_sample(t, name, x);
		nsc_health_text_printf(t, "} ");
		nsc_health_text_seconds(t, age ? v->now_wall_ms - ms : ms);
		nsc_health_text_printf(t, "\n");
	}
}

static void delays(struct nsc_health_text *t, const struct nsc_health_delays *d)
{
	static const char name[] = "nsconnect_reading_delay_seconds";
	uint64_t below = 0;

	family(t, name, "histogram",
	       "Seconds from a reading being available at the vendor to its being stored.");
	for (int i = 0; i < NSC_HEALTH_DELAY_BUCKETS; i++) {
		below += d->counts[i];
		nsc_health_text_printf(t, "%s_bucket{le=\"", name);
		nsc_health_text_seconds(t, nsc_health_delay_bounds_ms[i]);
		nsc_health_text_printf(t, "\"} %" PRIu64 "\n", below);
	}
	nsc_health_text_printf(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum ", name, d->count, name);
	nsc_health_text_seconds(t, d->sum_ms);
	nsc_health_text_printf(t, "\n%s_count %" PRIu64 "\n", name, d->count);
}

static void process(struct nsc_health_text *t, const struct nsc_health_proc *p)
{
	if (p->has_rss) {
		family(t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
		nsc_health_text_printf(t, "process_resident_memory_bytes %" PRIu64 "\n", p->rss_bytes);
	}
	if (p->has_cpu) {
		family(t, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
		nsc_health_text_printf(t, "process_cpu_seconds_total ");
		nsc_health_text_seconds(t, p->cpu_ms);
		nsc_health_text_printf(t, "\n");
	}
	family(t, "process_start_time_seconds", "gauge",
	       "Start time of the process since unix epoch in seconds.");
	nsc_health_text_printf(t, "process_start_time_seconds ");
	nsc_health_text_seconds(t, p->start_ms);
	nsc_health_text_printf(t, "\n");
	if (p->has_fds) {
		family(t, "process_open_fds", "gauge", "Number of open file descriptors.");
		nsc_health_text_printf(t, "process_open_fds %" PRIu64 "\n", p->open_fds);
	}
}

char *nsc_health_render_metrics(struct nsc_health_board *b, size_t *len)
{
	struct nsc_health_text t = {0};
	struct nsc_health_proc p;
	struct nsc_health_view v;

	/* /proc is read before the lock, so the loop thread never waits on it. */
	nsc_health_proc_read(&p);
	nsc_health_board_lock(b, &v);
	if (!p.has_start)
		p.start_ms = v.created_wall_ms; /* close enough: the board is made at start-up */

	family(&t, "nsconnect_build_info", "gauge", "The nsconnect version that runs (always 1).");
	nsc_health_text_printf(&t, "nsconnect_build_info{version=");
	nsc_health_text_label(&t, nsc_version());
	nsc_health_text_printf(&t, "} 1\n");
	family(&t, "nsconnect_up", "gauge", "1 while the event loop turns, 0 when it stalled for 30 s.");
	nsc_health_text_printf(&t, "nsconnect_up %d\n", v.alive ? 1 : 0);
	states(&t, &v);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		per_tenant_family(&t, &v, &counters[i]);
	stored(&t, &v);
	failures(&t, &v);
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		per_tenant_family(&t, &v, &gauges[i]);
	instant_family(&t, &v, "nsconnect_data_age_seconds",
		       "Seconds since the newest reading the output holds was taken.", newest_reading, true);
	instant_family(&t, &v, "nsconnect_last_success_timestamp_seconds",
		       "When the last successful poll ended (Unix time).", last_success, false);
	delays(&t, &v.delays);
	nsc_health_board_unlock(b);

	process(&t, &p);
	return nsc_health_text_finish(&t, len);
}
