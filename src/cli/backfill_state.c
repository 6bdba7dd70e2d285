/* SPDX-License-Identifier: MIT */
/* A backfill's progress on disk (see backfill_state.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "atomic_file.h"
#include "fileio.h"
#include "cli/backfill_state.h"
#include "jsonutil.h"

/* A state file is a few hundred bytes; anything far larger is not ours. */
#define STATE_MAX_BYTES 4096

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

nsc_rc nsc_backfill_state_init(struct nsc_backfill_state *st, const char *dir, const char *source,
			       const char *since_text, const char *until_text)
{
	memset(st, 0, sizeof(*st));
	const char *d = dir && *dir ? dir : ".";
	size_t n = strlen(d) + strlen(source) + sizeof("/backfill-.json");
	st->path = malloc(n);
	st->source = dup_or_empty(source);
	st->since_text = dup_or_empty(since_text);
	st->until_text = dup_or_empty(until_text);
	if (!st->path || !st->source || !st->since_text || !st->until_text) {
		nsc_backfill_state_fini(st);
		return NSC_ERR_NOMEM;
	}
	snprintf(st->path, n, "%s/backfill-%s.json", d, source);
	return NSC_OK;
}

void nsc_backfill_state_fini(struct nsc_backfill_state *st)
{
	free(st->path);
	free(st->source);
	free(st->since_text);
	free(st->until_text);
	memset(st, 0, sizeof(*st));
}

static bool same_text(struct json_object *o, const char *key, const char *want)
{
	const char *got = nsc_json_get_string(o, key);
	return got != NULL && strcmp(got, want) == 0;
}

/* The file's text (NUL-terminated, malloc'd) or NULL with errno; ENOENT when there is none. */
static char *read_small_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = malloc(STATE_MAX_BYTES + 1);
	ssize_t got = buf ? read(fd, buf, STATE_MAX_BYTES + 1) : -1;
	int e = buf ? errno : ENOMEM;
	close(fd);
	if (got < 0 || got > STATE_MAX_BYTES) {
		free(buf);
		errno = got > STATE_MAX_BYTES ? EFBIG : e;
		return NULL;
	}
	buf[got] = '\0';
	*len = (size_t)got;
	return buf;
}

bool nsc_backfill_state_load(struct nsc_backfill_state *st, struct nsc_error *err)
{
	size_t len = 0;
	char *text = read_small_file(st->path, &len);
	if (text == NULL) {
		if (errno != ENOENT)
			nsc_error_set(err, NSC_ERR_IO, "cannot read %s (%s); starting the backfill from the beginning",
				      st->path, strerror(errno));
		return false;
	}
	struct json_object *o = nsc_json_parse(text, len);
	free(text);
	int64_t since = 0, until = 0, reached = 0;
	bool ok = json_object_is_type(o, json_type_object) && nsc_json_get_int64(o, "since", &since) &&
		  nsc_json_get_int64(o, "until", &until) && nsc_json_get_int64(o, "reached", &reached) &&
		  since < until && reached >= since && reached <= until;
	if (!ok)
		nsc_error_set(err, NSC_ERR_PARSE, "%s is not a backfill's progress; starting from the beginning",
			      st->path);
	bool same = ok && same_text(o, "source", st->source) && same_text(o, "since_text", st->since_text) &&
		    same_text(o, "until_text", st->until_text);
	json_object_put(o);
	if (!same)
		return false;
	st->since_ms = since;
	st->until_ms = until;
	st->reached_ms = reached;
	return true;
}

nsc_rc nsc_backfill_state_save(const struct nsc_backfill_state *st, struct nsc_error *err)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory saving the backfill's progress");
	bool built = json_object_object_add(o, "source", json_object_new_string(st->source)) == 0 &&
		     json_object_object_add(o, "since_text", json_object_new_string(st->since_text)) == 0 &&
		     json_object_object_add(o, "until_text", json_object_new_string(st->until_text)) == 0 &&
		     json_object_object_add(o, "since", json_object_new_int64(st->since_ms)) == 0 &&
		     json_object_object_add(o, "until", json_object_new_int64(st->until_ms)) == 0 &&
		     json_object_object_add(o, "reached", json_object_new_int64(st->reached_ms)) == 0;
	size_t len = 0;
	const char *text = built ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len) : NULL;
	if (text == NULL) {
		json_object_put(o);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory saving the backfill's progress");
	}
	const char *step = "create the directory of";
	int rc = nsc_make_parent_dir(st->path);
	if (rc == 0)
		rc = nsc_atomic_file_write(st->path, text, len, &step);
	int e = errno;
	json_object_put(o);
	if (rc != 0)
		return nsc_error_set(err, NSC_ERR_IO, "cannot %s %s (%s): the backfill could not resume from here",
				     step, st->path, strerror(e));
	return NSC_OK;
}

void nsc_backfill_state_remove(const struct nsc_backfill_state *st)
{
	if (unlink(st->path) != 0 && errno != ENOENT)
		fprintf(stderr, "nightscout-connect: cannot remove %s (%s)\n", st->path, strerror(errno));
}
