/* SPDX-License-Identifier: MIT */
/* A backfill's progress (see backfill_progress.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/backfill_progress.h"
#include "timeutil.h"

#define BAR_WIDTH 24

void nsc_backfill_progress_init(struct nsc_backfill_progress *p, FILE *out, bool bar, int64_t now_mono_ms,
				const struct nsc_backfill *bf)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->bar = bar;
	p->start_mono_ms = now_mono_ms;
	p->start_fraction = nsc_backfill_fraction(bf);
}

/* "42 s", "7 min", "3 h 20 min": a duration a person reads at a glance. */
static void format_duration(char *buf, size_t size, double s)
{
	if (s < 90)
		snprintf(buf, size, "%.0f s", s);
	else if (s < 90 * 60)
		snprintf(buf, size, "%.0f min", s / 60);
	else
		snprintf(buf, size, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
}

void nsc_backfill_progress_text(char *buf, size_t size, const struct nsc_backfill *bf, uint64_t documents,
				double elapsed_s, double start_fraction)
{
	char reached[NSC_ISO_BUF] = "?";
	(void)nsc_time_format_iso(bf->reached_ms, reached, sizeof(reached));
	double f = nsc_backfill_fraction(bf);
	int n = snprintf(buf, size, "%3.0f%% read, %llu documents, reached %s", f * 100,
			 (unsigned long long)documents, reached);
	if (n < 0 || (size_t)n >= size || elapsed_s <= 0)
		return;
	char left[32] = "";
	double done_here = f - start_fraction;
	if (f < 1 && done_here > 0)
		format_duration(left, sizeof(left), elapsed_s * (1 - f) / done_here);
	snprintf(buf + n, size - (size_t)n, ", %.0f documents/s%s%s%s", (double)documents / elapsed_s,
		 left[0] ? ", about " : "", left, left[0] ? " left" : "");
}

static uint64_t documents_of(const struct nsc_bridge_stats *st)
{
	uint64_t n = 0;
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		n += st->stored[c] + st->duplicates[c];
	return n;
}

void nsc_backfill_progress_page(struct nsc_backfill_progress *p, const struct nsc_backfill *bf,
				const struct nsc_bridge_stats *st, int64_t now_mono_ms)
{
	char text[256];
	double elapsed = (double)(now_mono_ms - p->start_mono_ms) / 1000.0;
	nsc_backfill_progress_text(text, sizeof(text), bf, documents_of(st), elapsed, p->start_fraction);
	if (!p->bar) {
		fprintf(p->out, "backfill: %s\n", text);
		fflush(p->out);
		return;
	}
	char bar[BAR_WIDTH + 1];
	int filled = (int)(nsc_backfill_fraction(bf) * BAR_WIDTH + 0.5);
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	/* \r and clear to the end of the line: a shorter text leaves nothing behind. */
	fprintf(p->out, "\r[%s] %s\033[K", bar, text);
	fflush(p->out);
	p->drawn = true;
}

void nsc_backfill_progress_end(struct nsc_backfill_progress *p)
{
	if (p->drawn) {
		fputc('\n', p->out);
		fflush(p->out);
		p->drawn = false;
	}
}
