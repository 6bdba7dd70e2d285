/* SPDX-License-Identifier: MIT */
/* Announcements of a bridge that needs someone (see announce.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "atomic_file.h"
#include "engine/announce.h"
#include "fileio.h"
#include "jsonutil.h"
#include "timeutil.h"

#define COMP "announce"

/* A state file is a few hundred bytes; anything far larger is not ours. */
#define STATE_MAX_BYTES 4096

static const char *const state_names[] = {
	[NSC_ANNOUNCE_OK] = "ok",
	[NSC_ANNOUNCE_NEEDS_USER] = "needs_user",
	[NSC_ANNOUNCE_STALE] = "stale",
};

const char *nsc_announce_state_name(enum nsc_announce_state s)
{
	return (unsigned)s <= NSC_ANNOUNCE_STALE ? state_names[s] : "unknown";
}

bool nsc_announce_state_parse(const char *text, enum nsc_announce_state *out)
{
	for (unsigned s = 0; text && s <= NSC_ANNOUNCE_STALE; s++) {
		if (strcmp(text, state_names[s]) == 0) {
			*out = (enum nsc_announce_state)s;
			return true;
		}
	}
	return false;
}

/* ---- the machine ------------------------------------------------------ */

void nsc_announce_init(struct nsc_announce *a, int64_t stale_ms)
{
	memset(a, 0, sizeof(*a));
	a->stale_ms = stale_ms > 0 ? stale_ms : 30 * NSC_MS_PER_MINUTE;
	a->announced = NSC_ANNOUNCE_OK;
}

bool nsc_announce_feed(struct nsc_announce *a, const struct nsc_announce_input *in,
		       struct nsc_announcement *out)
{
	if (a->first_frame_ms == 0)
		a->first_frame_ms = in->now_ms;
	if (in->newest_entry_ms > a->newest_ms)
		a->newest_ms = in->newest_entry_ms;
	memset(out, 0, sizeof(*out));
	switch (in->verdict) {
	case NSC_VERDICT_REJECTED: {
		const char *msg = in->message && *in->message ? in->message : "the vendor rejected the login";
		if (a->announced == NSC_ANNOUNCE_NEEDS_USER && strcmp(a->announced_message, msg) == 0)
			return false;
		out->state = NSC_ANNOUNCE_NEEDS_USER;
		snprintf(out->message, sizeof(out->message), "%s", msg);
		return true;
	}
	case NSC_VERDICT_OK: {
		int64_t since = a->newest_ms > 0 ? a->newest_ms : a->first_frame_ms;
		int64_t quiet = in->now_ms - since;
		if (quiet >= a->stale_ms) {
			if (a->announced == NSC_ANNOUNCE_STALE)
				return false;
			out->state = NSC_ANNOUNCE_STALE;
			out->quiet_ms = quiet;
			out->never_read = a->newest_ms <= 0;
			return true;
		}
		/* Fresh: a recovery only after a problem was announced, once readings come again. */
		if (a->announced == NSC_ANNOUNCE_OK || in->readings == 0)
			return false;
		out->state = NSC_ANNOUNCE_OK;
		return true;
	}
	case NSC_VERDICT_RETRY:
	case NSC_VERDICT_AUTH:
	case NSC_VERDICT_DROP:
	case NSC_VERDICT_FATAL:
		break;
	}
	return false;
}

void nsc_announce_written(struct nsc_announce *a, const struct nsc_announcement *an, int64_t now_ms)
{
	a->announced = an->state;
	snprintf(a->announced_message, sizeof(a->announced_message), "%s",
		 an->state == NSC_ANNOUNCE_NEEDS_USER ? an->message : "");
	a->announced_ms = now_ms;
}

/* ---- the document ----------------------------------------------------- */

/* The message without a trailing full stop, as the middle of a sentence. */
static int message_len(const char *m)
{
	size_t n = strlen(m);
	while (n > 0 && (m[n - 1] == '.' || m[n - 1] == ' '))
		n--;
	return n > (size_t)NSC_ERROR_MSG_MAX ? NSC_ERROR_MSG_MAX : (int)n;
}

void nsc_announce_notes(const struct nsc_announcement *an, const char *vendor, char *buf, size_t size)
{
	const char *v = vendor && *vendor ? vendor : "the vendor";
	long long minutes = (long long)(an->quiet_ms / NSC_MS_PER_MINUTE);
	switch (an->state) {
	case NSC_ANNOUNCE_NEEDS_USER:
		snprintf(buf, size,
			 "Readings from %s stopped: %.*s. Nothing reaches Nightscout until this is fixed; "
			 "nightscout-connect tries again by itself.",
			 v, message_len(an->message), an->message);
		return;
	case NSC_ANNOUNCE_STALE:
		if (an->never_read)
			snprintf(buf, size,
				 "No reading from %s in the %lld minutes since nightscout-connect started, "
				 "although %s answers. Check that the sensor works and that the app uploading "
				 "to %s is running and online; nightscout-connect keeps checking.",
				 v, minutes, v, v);
		else
			snprintf(buf, size,
				 "No new reading from %s for %lld minutes, although %s answers. Check that "
				 "the sensor works and that the app uploading to %s is running and online; "
				 "nightscout-connect keeps checking.",
				 v, minutes, v, v);
		return;
	case NSC_ANNOUNCE_OK:
		break;
	}
	snprintf(buf, size, "Readings from %s reach Nightscout again; nothing more to do.", v);
}

nsc_rc nsc_announce_to_batch(const char *notes, int64_t now_ms, struct nsc_batch *batch,
			     struct nsc_error *err)
{
	char when[NSC_ISO_BUF];
	nsc_rc rc = nsc_time_format_iso(now_ms, when, sizeof(when));
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "cannot write the time %lld of an announcement", (long long)now_ms);
	struct json_object *doc = json_object_new_object();
	if (doc == NULL || nsc_json_add_string(doc, "eventType", "Announcement") != 0 ||
	    nsc_json_add_bool(doc, "isAnnouncement", true) != 0 || nsc_json_add_string(doc, "notes", notes) != 0 ||
	    nsc_json_add_string(doc, "enteredBy", "nightscout-connect") != 0 ||
	    nsc_json_add_string(doc, "created_at", when) != 0) {
		json_object_put(doc);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory building an announcement");
	}
	return nsc_batch_add(batch, NSC_COLL_TREATMENTS, doc, err);
}

/* ---- the state file --------------------------------------------------- */

bool nsc_announce_load(struct nsc_announce *a, const char *path, const char *source,
		       struct nsc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	if (nsc_read_small_file(path, STATE_MAX_BYTES, &text, &len) != 0) {
		if (errno != ENOENT)
			nsc_error_set(err, NSC_ERR_IO, "cannot read %s (%s)", path, strerror(errno));
		return false;
	}
	struct json_object *o = nsc_json_parse(text, len);
	free(text);
	enum nsc_announce_state st = NSC_ANNOUNCE_OK;
	int64_t at = 0;
	const char *src = json_object_is_type(o, json_type_object) ? nsc_json_get_string(o, "source") : NULL;
	const char *msg = src ? nsc_json_get_string(o, "message") : NULL;
	bool ok = src && strcmp(src, source) == 0 &&
		  nsc_announce_state_parse(nsc_json_get_string(o, "state"), &st) &&
		  nsc_json_get_int64(o, "announced_ms", &at) && at >= 0 &&
		  (st != NSC_ANNOUNCE_NEEDS_USER || (msg && *msg));
	if (ok) {
		a->announced = st;
		snprintf(a->announced_message, sizeof(a->announced_message), "%s",
			 st == NSC_ANNOUNCE_NEEDS_USER ? msg : "");
		a->announced_ms = at;
	} else {
		nsc_error_set(err, NSC_ERR_PARSE, "%s is not an announcement state of %s", path, source);
	}
	json_object_put(o);
	return ok;
}

nsc_rc nsc_announce_save(const struct nsc_announce *a, const char *path, const char *source,
			 struct nsc_error *err)
{
	struct json_object *o = json_object_new_object();
	bool built = o && nsc_json_add_string(o, "source", source) == 0 &&
		     nsc_json_add_string(o, "state", nsc_announce_state_name(a->announced)) == 0 &&
		     nsc_json_add_string(o, "message", a->announced_message) == 0 &&
		     nsc_json_add_int64(o, "announced_ms", a->announced_ms) == 0;
	size_t len = 0;
	const char *text = built ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len) : NULL;
	if (text == NULL) {
		json_object_put(o);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory saving the announcement state");
	}
	const char *step = "create the folder of";
	int rc = nsc_make_parent_dir(path);
	if (rc == 0)
		rc = nsc_atomic_file_write(path, text, len, &step);
	int e = errno;
	json_object_put(o);
	if (rc != 0)
		return nsc_error_set(err, NSC_ERR_IO, "cannot %s %s (%s)", step, path, strerror(e));
	return NSC_OK;
}

/* ---- the bridge's side ------------------------------------------------ */

struct nsc_announcer {
	struct nsc_announce m;
	struct nsc_log *log;
	const char *source, *vendor; /* the driver's, static */
	char *path;
};

static bool announce_enabled(const struct nsc_config *cfg)
{
	return cfg->announce != NULL && strcmp(cfg->announce, "true") == 0;
}

nsc_rc nsc_announcer_new(const struct nsc_config *cfg, struct nsc_log *log,
			 const struct nsc_source_driver *source, struct nsc_announcer **out,
			 struct nsc_error *err)
{
	*out = NULL;
	if (!announce_enabled(cfg))
		return NSC_OK;
	struct nsc_announcer *an = calloc(1, sizeof(*an));
	const char *dir = cfg->spool_dir && *cfg->spool_dir ? cfg->spool_dir : ".";
	size_t n = strlen(dir) + strlen(source->name) + sizeof("/announce-.json");
	char *path = an ? malloc(n) : NULL;
	if (path == NULL) {
		free(an);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory setting up announcements");
	}
	snprintf(path, n, "%s/announce-%s.json", dir, source->name);
	an->path = path;
	an->log = log;
	an->source = source->name;
	an->vendor = source->display_name ? source->display_name : source->name;
	nsc_announce_init(&an->m, cfg->stale_ms);
	struct nsc_error lerr;
	nsc_error_clear(&lerr);
	if (nsc_announce_load(&an->m, an->path, an->source, &lerr))
		nsc_info(log, COMP, "event=announcement_standing state=%s source=%s since_ms=%lld",
			 nsc_announce_state_name(an->m.announced), an->source, (long long)an->m.announced_ms);
	else if (lerr.code != NSC_OK)
		nsc_warn(log, COMP, "event=announce_state_unreadable source=%s msg=\"%s; taken as nothing announced\"",
			 an->source, lerr.msg);
	*out = an;
	return NSC_OK;
}

void nsc_announcer_frame(struct nsc_announcer *an, const struct nsc_frame_result *r, int64_t now_ms,
			 const struct nsc_output_driver *output, void *output_ctx)
{
	if (an == NULL)
		return;
	struct nsc_announce_input in = {
		.verdict = r->verdict,
		.message = r->message,
		.newest_entry_ms = r->newest_entry_ms,
		.readings = r->written.stored[NSC_COLL_ENTRIES] + r->written.duplicates[NSC_COLL_ENTRIES],
		.now_ms = now_ms,
	};
	struct nsc_announcement due;
	if (!nsc_announce_feed(&an->m, &in, &due))
		return;
	const char *state = nsc_announce_state_name(due.state);
	char notes[2 * NSC_ERROR_MSG_MAX];
	nsc_announce_notes(&due, an->vendor, notes, sizeof(notes));
	/* The message is plain words already; a secret must not reach every viewer of the site all the same. */
	char *clean = nsc_log_redact(an->log, notes);
	struct nsc_error err;
	nsc_error_clear(&err);
	struct nsc_batch batch;
	nsc_batch_init(&batch);
	nsc_rc rc = clean ? nsc_announce_to_batch(clean, now_ms, &batch, &err)
			  : nsc_error_set(&err, NSC_ERR_NOMEM, "out of memory writing an announcement");
	free(clean);
	if (rc == NSC_OK) {
		struct nsc_write_result res;
		memset(&res, 0, sizeof(res));
		rc = output->write(output_ctx, &batch, &res, &err);
	}
	nsc_batch_clear(&batch);
	if (rc != NSC_OK) {
		nsc_warn(an->log, COMP,
			 "event=announcement_not_written state=%s source=%s msg=\"%s; tried again after the next poll\"",
			 state, an->source, err.msg);
		return;
	}
	nsc_announce_written(&an->m, &due, now_ms);
	nsc_info(an->log, COMP, "event=announcement_written state=%s source=%s", state, an->source);
	nsc_error_clear(&err);
	if (nsc_announce_save(&an->m, an->path, an->source, &err) != NSC_OK)
		nsc_err(an->log, COMP,
			"event=announce_state_not_saved source=%s msg=\"%s: after a restart this announcement may be "
			"written again\"",
			an->source, err.msg);
}

void nsc_announcer_free(struct nsc_announcer *an)
{
	if (an == NULL)
		return;
	free(an->path);
	free(an);
}
