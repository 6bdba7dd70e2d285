/* SPDX-License-Identifier: MIT */
/*
 * Announcements: what a caregiver sees in Nightscout when a bridge needs
 * someone (CONNECT_ANNOUNCE=true). One Nightscout "Announcement" treatment
 * per change of what is wrong, written through the bridge's own output:
 *
 *   OK ---------- login rejected -----------> NEEDS_USER
 *   OK -- vendor answers, newest reading ---> STALE
 *         older than CONNECT_STALE_MINUTES
 *   NEEDS_USER / STALE -- a reading again --> OK (one "working again")
 *
 * The machine (struct nsc_announce) is pure: it is fed each finished
 * frame and says whether an announcement is due; it changes what it
 * considers announced only when told the announcement was written, so a
 * failed write is due again after the next frame. Rules:
 * - never twice for the same state: a login rejected 20 times in a row is
 *   one announcement; a frame that fails for a temporary reason (vendor
 *   or output unreachable, RETRY/AUTH), a dropped payload or a fatal stop
 *   tells nothing new and changes nothing (an unreachable vendor is not
 *   "stale": the health status and logs say it);
 * - a rejection with a different message (password fixed, now terms to
 *   accept) is announced again: it asks for something else;
 * - NEEDS_USER followed by successful but stale frames announces STALE
 *   (the login works, readings still do not come);
 * - recovery is announced only after a problem was, when a frame
 *   delivers readings and the newest is fresh.
 *
 * The announced state lives in CONNECT_SPOOL_DIR/announce-<source>.json
 * (rewritten atomically) so a restarted bridge neither repeats a standing
 * announcement nor forgets to announce the recovery. A file that cannot
 * be read as ours is logged and treated as "nothing announced".
 */
#ifndef NSC_ENGINE_ANNOUNCE_H
#define NSC_ENGINE_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "engine/frame.h"
#include "error.h"
#include "log.h"
#include "nsc_config.h"
#include "output.h"
#include "source.h"

enum nsc_announce_state {
	NSC_ANNOUNCE_OK,         /* data flows (or nothing was ever wrong) */
	NSC_ANNOUNCE_NEEDS_USER, /* the vendor rejected the login: someone must act */
	NSC_ANNOUNCE_STALE,      /* the vendor answers but no reading comes */
};
/* "ok", "needs_user", "stale". */
const char *nsc_announce_state_name(enum nsc_announce_state s);
/* The inverse; false for any other text. */
bool nsc_announce_state_parse(const char *text, enum nsc_announce_state *out);

/* What one finished frame tells the machine. */
struct nsc_announce_input {
	enum nsc_verdict verdict;
	const char *message;     /* the frame's plain words (REJECTED: what to fix) */
	int64_t newest_entry_ms; /* newest reading the output holds (0: none or unknown) */
	size_t readings;         /* readings this frame delivered (stored or already held) */
	int64_t now_ms;          /* wall time */
};

/* An announcement that is due. */
struct nsc_announcement {
	enum nsc_announce_state state; /* what it tells of; OK: working again */
	char message[NSC_ERROR_MSG_MAX]; /* NEEDS_USER: the frame's message */
	int64_t quiet_ms;              /* STALE: how long no reading came */
	bool never_read;               /* STALE: no reading known at all */
};

struct nsc_announce {
	int64_t stale_ms;
	/* What stands in Nightscout (what was written last). */
	enum nsc_announce_state announced;
	char announced_message[NSC_ERROR_MSG_MAX];
	int64_t announced_ms;    /* when it was written (0: never) */
	/* What the frames showed so far. */
	int64_t newest_ms;       /* newest reading seen */
	int64_t first_frame_ms;  /* staleness is counted from here while no reading is known */
};

void nsc_announce_init(struct nsc_announce *a, int64_t stale_ms);
/*
 * Feeds a finished frame: true when an announcement is due (*out filled).
 * Nothing counts as announced until nsc_announce_written().
 */
bool nsc_announce_feed(struct nsc_announce *a, const struct nsc_announce_input *in,
		       struct nsc_announcement *out);
/* The announcement fed back was written at now_ms: it stands from now on. */
void nsc_announce_written(struct nsc_announce *a, const struct nsc_announcement *an, int64_t now_ms);

/*
 * The notes of an announcement for a source shown as `vendor` ("Dexcom
 * Share"): what happened and what to do, plain words. Cut to fit size.
 */
void nsc_announce_notes(const struct nsc_announcement *an, const char *vendor, char *buf, size_t size);

/*
 * Adds the Announcement treatment for `notes` at now_ms to batch (its
 * identifier, utcOffset and app as every treatment gets them).
 */
nsc_rc nsc_announce_to_batch(const char *notes, int64_t now_ms, struct nsc_batch *batch,
			     struct nsc_error *err);

/*
 * The state file. load: true when `path` held an announced state (into
 * a's announced fields); false when there is none, or with err set
 * (NSC_ERR_IO, NSC_ERR_PARSE) when it could not be used, to be logged.
 */
bool nsc_announce_load(struct nsc_announce *a, const char *path, const char *source,
		       struct nsc_error *err);
/* Writes a's announced state to path atomically (creating its folder). NSC_ERR_IO/NOMEM. */
nsc_rc nsc_announce_save(const struct nsc_announce *a, const char *path, const char *source,
			 struct nsc_error *err);

/*
 * The bridge's side: the machine, its file, and the write through the
 * bridge's output. NSC_OK with *out NULL when cfg does not ask for
 * announcements.
 */
struct nsc_announcer;
nsc_rc nsc_announcer_new(const struct nsc_config *cfg, struct nsc_log *log,
			 const struct nsc_source_driver *source, struct nsc_announcer **out,
			 struct nsc_error *err);
/*
 * After each frame (on the loop thread, the frame being over): feeds the
 * machine and writes a due announcement through output. A failed write is
 * logged and due again after the next frame.
 */
void nsc_announcer_frame(struct nsc_announcer *an, const struct nsc_frame_result *r, int64_t now_ms,
			 const struct nsc_output_driver *output, void *output_ctx);
void nsc_announcer_free(struct nsc_announcer *an);

#endif
