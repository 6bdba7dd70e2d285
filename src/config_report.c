/* SPDX-License-Identifier: MIT */
/*
 * The problems one configuration load found: the loader files each
 * refusal here under the setting it is about and goes on reading, asks
 * whether a setting already had a problem (then it is not also "missing"),
 * and at the end every problem is joined into one struct nsc_error message
 * that fits NSC_ERROR_MSG_MAX: "N settings need fixing: A; B; … and K more".
 *
 * Ownership: a report owns its problems' messages; the setting names are
 * static text from the loader's tables.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"
#include "nsc_config.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, "…" */
#define SEPARATOR "; "

void nsc_config_report_init(struct nsc_config_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void nsc_config_report_free(struct nsc_config_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->count; i++)
		free(rep->problems[i].message);
	free(rep->problems);
	memset(rep, 0, sizeof(*rep));
}

static nsc_rc report_add(struct nsc_config_report *rep, const char *setting, const char *message)
{
	char *copy;

	if (rep->count == rep->cap) {
		size_t cap = rep->cap ? rep->cap * 2 : 8;
		struct nsc_config_problem *p;
		if (cap > SIZE_MAX / sizeof(*p))
			return NSC_ERR_NOMEM;
		p = realloc(rep->problems, cap * sizeof(*p));
		if (!p)
			return NSC_ERR_NOMEM;
		rep->problems = p;
		rep->cap = cap;
	}
	copy = nsc_cfg_dup_str(message);
	if (!copy)
		return NSC_ERR_NOMEM;
	rep->problems[rep->count].setting = setting;
	rep->problems[rep->count].message = copy;
	rep->count++;
	return NSC_OK;
}

nsc_rc nsc_cfg_note(const struct nsc_cfg_reader *r, const char *setting, nsc_rc rc)
{
	if (rc != NSC_ERR_CONFIG)
		return rc;
	rc = report_add(r->report, setting, r->err->msg);
	nsc_error_clear(r->err);
	return rc == NSC_OK ? NSC_OK : nsc_cfg_nomem(r->err);
}

bool nsc_cfg_has_problem(const struct nsc_cfg_reader *r, const char *setting)
{
	for (size_t i = 0; i < r->report->count; i++) {
		if (strcmp(r->report->problems[i].setting, setting) == 0)
			return true;
	}
	return false;
}

/* ---- one message ------------------------------------------------------- */

/* The text being built in a fixed buffer; `used` never reaches `size`. */
struct joined {
	char *buf;
	size_t size, used;
};

static void put_bytes(struct joined *j, const char *s, size_t n)
{
	if (n >= j->size - j->used)
		n = j->size - j->used - 1;
	memcpy(j->buf + j->used, s, n);
	j->used += n;
	j->buf[j->used] = '\0';
}

static void put(struct joined *j, const char *s)
{
	put_bytes(j, s, strlen(s));
}

/* What ends a list cut after some problems: "; … and 3 more" ("" for none). */
static void tail_text(char *out, size_t size, size_t left)
{
	if (left == 0)
		out[0] = '\0';
	else
		snprintf(out, size, SEPARATOR ELLIPSIS " and %zu more", left);
}

/*
 * Puts as much of `text` as fits before `reserve` bytes stay free, cut
 * before a space (inside a word only when it has none), then "…". Only a
 * first problem longer than the whole buffer comes here.
 */
static void put_cut(struct joined *j, const char *text, size_t reserve)
{
	size_t room = j->size - j->used - 1, n;

	if (room < reserve + sizeof(ELLIPSIS) - 1)
		return;
	room -= reserve + sizeof(ELLIPSIS) - 1;
	n = room;
	while (n > 0 && text[n] != ' ')
		n--;
	if (n == 0) {
		/* One long word: cut it, but not inside a UTF-8 sequence. */
		n = room;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	put_bytes(j, text, n);
	put(j, ELLIPSIS);
}

void nsc_config_report_join(const struct nsc_config_report *rep, struct nsc_error *err)
{
	struct joined j;
	char head[64], tail[64];

	if (!err)
		return;
	nsc_error_clear(err);
	err->code = NSC_ERR_CONFIG;
	if (!rep || rep->count == 0)
		return;
	j = (struct joined){ .buf = err->msg, .size = sizeof(err->msg), .used = 0 };
	if (rep->count > 1) {
		snprintf(head, sizeof(head), "%zu settings need fixing: ", rep->count);
		put(&j, head);
	}
	for (size_t i = 0; i < rep->count; i++) {
		const char *text = rep->problems[i].message;
		const char *sep = i ? SEPARATOR : "";
		size_t need;

		/* Room for this problem and for saying how many are left after it. */
		tail_text(tail, sizeof(tail), rep->count - i - 1);
		need = strlen(sep) + strlen(text) + strlen(tail);
		if (need < j.size - j.used) {
			put(&j, sep);
			put(&j, text);
			continue;
		}
		if (i == 0) {
			put_cut(&j, text, strlen(tail));
			put(&j, tail);
			return;
		}
		/* The room for this tail was kept when the problem before was put. */
		tail_text(tail, sizeof(tail), rep->count - i);
		put(&j, tail);
		return;
	}
}
