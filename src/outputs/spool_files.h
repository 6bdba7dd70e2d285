/* SPDX-License-Identifier: MIT */
/*
 * The spool's on-disk format (private to the spooled output, spooled.c).
 * In the spool directory:
 *   <20-digit sequence>.batch   one batch: {"entries":[...],"treatments":[...],
 *                               "devicestatus":[...],"profile":[...]}
 *   .tmp-<20-digit sequence>    a file being written; renamed when complete
 *   rejected/                   batches the backend refused, or unreadable ones
 *
 * Ownership & concurrency: these functions keep no state. A queue belongs to
 * its caller, who serialises access to it (spooled.c: under its `mu`).
 * nsc_spool_peek is the one reader from outside (doctor): it takes no lock
 * and changes nothing, so it may look at a running bridge's spool.
 */
#ifndef NSC_OUTPUTS_SPOOL_FILES_H
#define NSC_OUTPUTS_SPOOL_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "batch.h"
#include "log.h"

#define NSC_SPOOL_COMP "spool"
#define NSC_SPOOL_REJECTED_DIR "rejected"
#define NSC_SPOOL_NAME_MAX 48

/* One pending spool file. */
struct nsc_spool_file {
	uint64_t seq;
	uint64_t bytes;
	int64_t newest[NSC_COLL_COUNT]; /* newest document time per collection, 0 = none */
};

/* Pending spool files, oldest first. */
struct nsc_spool_queue {
	struct nsc_spool_file *v;
	size_t len, cap;
};

/* Appends *f; 0, or -1 when out of memory. */
int nsc_spool_queue_push(struct nsc_spool_queue *q, const struct nsc_spool_file *f);

/* "<20 digits>.batch" for seq. */
void nsc_spool_name(uint64_t seq, char buf[NSC_SPOOL_NAME_MAX]);

/* The newest document time per collection in b (0 = none). */
void nsc_spool_batch_newest(const struct nsc_batch *b, int64_t newest[NSC_COLL_COUNT]);

/*
 * Creates (0700) or opens the spool directory `dir` and its rejected/ folder,
 * and locks the spool (flock on *dfd). *dfd and *rfd are set as soon as they
 * are open, so the caller closes them even on failure.
 */
nsc_rc nsc_spool_open_dir(const char *dir, int *dfd, int *rfd, struct nsc_error *err);

/*
 * Finds the files an earlier run left in the spool (dfd, named dir for
 * messages; rfd its rejected/): removes torn temporaries, appends the
 * batches to q oldest first with what each holds, adds their sizes to
 * *bytes, and sets *next_seq past every batch, pending or rejected.
 */
nsc_rc nsc_spool_scan(int dfd, int rfd, const char *dir, struct nsc_log *log, struct nsc_spool_queue *q,
		      uint64_t *bytes, uint64_t *next_seq, struct nsc_error *err);

/*
 * Reads spool file `name` into b (empty on entry). NSC_ERR_NOT_FOUND when it
 * is gone, NSC_ERR_IO / NSC_ERR_NOMEM when it cannot be read now,
 * NSC_ERR_PARSE when it is not a complete spool batch.
 */
nsc_rc nsc_spool_load(int dfd, const char *name, struct nsc_batch *b, struct nsc_error *err);

/* The batch as the text of one spool file (a pointer into *holder, which the caller puts). */
nsc_rc nsc_spool_serialize(const struct nsc_batch *b, struct json_object **holder, const char **text,
			   size_t *len, struct nsc_error *err);

/* Writes text durably as <seq>.batch in dfd: temporary name, fsync, rename, fsync of the directory. */
nsc_rc nsc_spool_write_file(int dfd, const char *dir, uint64_t seq, const char *text, size_t len,
			    struct nsc_error *err);

/*
 * Moves spool file `name` from dfd to rejected/ (rfd) and syncs both
 * directories. 0 when moved (*sync_errno is then 0, or the errno of a failed
 * directory sync); otherwise the errno of the failed move.
 */
int nsc_spool_move_rejected(int dfd, int rfd, const char *name, int *sync_errno);

/* What a spool folder holds, as nsc_spool_peek saw it. */
struct nsc_spool_contents {
	bool exists;		/* false: the folder is not there (made at the first start) */
	size_t pending;		/* batches waiting for the output */
	uint64_t pending_bytes;
	int64_t oldest_ms;	/* modification time of the oldest waiting batch; 0 = none */
	size_t rejected;	/* batches kept in rejected/ */
};

/*
 * Counts what the spool folder `dir` holds without locking it or removing
 * anything (a bridge may be writing it). NSC_ERR_IO when it cannot be read.
 */
nsc_rc nsc_spool_peek(const char *dir, struct nsc_spool_contents *out, struct nsc_error *err);

#endif
