/* SPDX-License-Identifier: MIT */
/*
 * How far a backfill got, kept on disk so that the same command run again
 * (after Ctrl-C, a reboot, an outage that outlasted the retries) goes on
 * where it stopped: <dir>/backfill-<source>.json, rewritten atomically
 * after every page, removed when the range is read.
 *
 * A run resumes a saved one when the source and the --since and --until
 * texts are the same (so `--since 90d` resumes the range it meant the
 * first time, not one shifted by the pause).
 */
#ifndef NSC_CLI_BACKFILL_STATE_H
#define NSC_CLI_BACKFILL_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct nsc_backfill_state {
	char *path;       /* the state file (malloc'd) */
	char *source;     /* CONNECT_SOURCE's name */
	char *since_text; /* as typed */
	char *until_text; /* as typed, "" for now */
	int64_t since_ms, until_ms, reached_ms;
};

/* Fills st for a run (strings copied); NSC_ERR_NOMEM. No file is touched. */
nsc_rc nsc_backfill_state_init(struct nsc_backfill_state *st, const char *dir, const char *source,
			       const char *since_text, const char *until_text);
void nsc_backfill_state_fini(struct nsc_backfill_state *st);

/*
 * Reads the saved run into st's times when it is the same run (true).
 * False when there is none or it was another run (which the next save
 * replaces); a file that cannot be read or parsed is reported in err
 * and treated as none.
 */
bool nsc_backfill_state_load(struct nsc_backfill_state *st, struct nsc_error *err);

/* Writes st (creating dir when missing). NSC_ERR_IO with err naming the path. */
nsc_rc nsc_backfill_state_save(const struct nsc_backfill_state *st, struct nsc_error *err);

/* The range is read: the file goes. */
void nsc_backfill_state_remove(const struct nsc_backfill_state *st);

#endif
