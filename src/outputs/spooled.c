/* SPDX-License-Identifier: MIT */
/*
 * The spooled output (contract in spooled.h): write() turns a batch into one
 * durable spool file, a writer thread replays the files oldest first through
 * a synchronous backend, with backoff while the backend is down.
 *
 * On disk, in the spool directory:
 *   <20-digit sequence>.batch   one batch: {"entries":[...],"treatments":[...],
 *                               "devicestatus":[...],"profile":[...]}
 *   .tmp-<20-digit sequence>    a file being written; renamed when complete
 *   rejected/                   batches the backend refused, or unreadable ones
 *
 * Ownership & concurrency: struct nsc_spooled is shared by the caller's
 * threads (write, last_known, status, wait_empty, close) and the writer
 * thread. `mu` guards the queue of pending files and every counter below
 * it in the struct; `append_mu` serialises write() so files enter the queue
 * in sequence order. No file I/O and no backend call happens under `mu`.
 * Only the writer thread removes the head of the queue, so it may work on
 * a copy of the head while unlocked. The backend context is used by the
 * writer thread only, from its start until close() has joined it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fileio.h"
#include "outputs/spooled.h"

#define SP_COMP "spool"
#define SP_DEFAULT_DIR "./nsconnect-spool"
#define SP_DEFAULT_MAX_BYTES (UINT64_C(256) * 1024 * 1024)
#define SP_DEFAULT_DRAIN_MS 5000
#define SP_DEFAULT_RETRY_MIN_MS 2000
#define SP_DEFAULT_RETRY_MAX_MS 60000
/*
 * How long the first last_known() waits for the writer thread's first
 * answer from the backend, so a restart fetches only the gap; when the
 * backend is slow to answer, the engine goes on with what the spool holds.
 */
#define SP_FIRST_QUERY_WAIT_MS 5000

#define SP_SUFFIX ".batch"
#define SP_TMP_PREFIX ".tmp-"
#define SP_REJECTED_DIR "rejected"
#define SP_SEQ_DIGITS 20
#define SP_NAME_MAX 48
#define SP_READ_CHUNK 65536
#define SP_JSON_DEPTH 64 /* documents nest; the wrapper adds two levels */
#define SP_JSON_FLAGS JSON_C_TO_STRING_PLAIN

/* One pending spool file. */
struct sp_file {
	uint64_t seq;
	uint64_t bytes;
	int64_t newest[NSC_COLL_COUNT]; /* newest document time per collection, 0 = none */
};

struct nsc_spooled {
	/* Fixed from open to close. */
	const struct nsc_output_driver *backend;
	void *bctx; /* writer thread only */
	struct nsc_log *log;
	char *dir;
	int dfd; /* the spool directory, flock'd while open */
	int rfd; /* <dir>/rejected */
	uint64_t max_bytes;
	int64_t drain_timeout_ms, retry_min_ms, retry_max_ms;
	void (*stored)(void *arg, const struct nsc_write_result *res);
	void *stored_arg;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t append_mu;
	pthread_mutex_t mu;
	pthread_cond_t wake;    /* writer thread: a new file, or close */
	pthread_cond_t changed; /* waiters: a file left the queue, first query done */
	bool sync_ready;        /* the four above are initialised */

	/* Guarded by mu. */
	struct sp_file *q; /* pending files, oldest first; q[0] may be in replay */
	size_t qlen, qcap;
	uint64_t next_seq;
	uint64_t pending_bytes; /* queued files plus writes in progress */
	uint64_t replayed, rejected;
	nsc_rc last_rc;
	char last_err[NSC_ERROR_MSG_MAX];
	int64_t backend_lk[NSC_COLL_COUNT];
	bool lk_known;     /* the backend answered last_known once */
	bool lk_attempted; /* the first query has finished, either way */
	bool closing;
	int64_t deadline_ms; /* monotonic; valid once closing */
};

/* What the writer thread knows about an outage (writer thread only). */
struct sp_outage {
	bool down;
	bool contacted; /* the backend answered since the outage began */
	uint64_t replayed;
	int64_t since_ms;
};

enum sp_outcome {
	SP_DONE,     /* stored: file deleted */
	SP_RETRY,    /* backend down: keep the file, back off */
	SP_LOCAL,    /* cannot read the file now: keep it, back off */
	SP_REJECTED, /* moved to rejected/ */
	SP_GONE,     /* the file disappeared */
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t sp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sp_min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Waits on cv (mu held) until the monotonic time until_ms at the latest. */
static void sp_wait_until(struct nsc_spooled *s, pthread_cond_t *cv, int64_t until_ms)
{
	struct timespec ts;
	if (until_ms < 0)
		until_ms = 0;
	ts.tv_sec = (time_t)(until_ms / 1000);
	ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
	pthread_cond_timedwait(cv, &s->mu, &ts);
}

static void sp_name(uint64_t seq, char buf[SP_NAME_MAX])
{
	snprintf(buf, SP_NAME_MAX, "%0*" PRIu64 SP_SUFFIX, SP_SEQ_DIGITS, seq);
}

static void sp_tmp_name(uint64_t seq, char buf[SP_NAME_MAX])
{
	snprintf(buf, SP_NAME_MAX, SP_TMP_PREFIX "%0*" PRIu64, SP_SEQ_DIGITS, seq);
}

/* "<20 digits>.batch" exactly; *seq gets the number. */
static bool sp_parse_name(const char *name, uint64_t *seq)
{
	uint64_t v = 0;
	for (int i = 0; i < SP_SEQ_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		unsigned d = (unsigned)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (strcmp(name + SP_SEQ_DIGITS, SP_SUFFIX) != 0)
		return false;
	*seq = v;
	return true;
}

static bool sp_all_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return false;
	}
	return true;
}

static void sp_batch_newest(const struct nsc_batch *b, int64_t newest[NSC_COLL_COUNT])
{
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		newest[c] = 0;
		size_t n = nsc_batch_count(b, (enum nsc_collection)c);
		for (size_t i = 0; i < n; i++) {
			int64_t t;
			if (nsc_doc_time_ms(nsc_batch_get(b, (enum nsc_collection)c, i), &t) == NSC_OK &&
			    t > newest[c])
				newest[c] = t;
		}
	}
}

/* ---- spool files ------------------------------------------------------ */

/*
 * Reads spool file `name` into b (empty on entry). NSC_ERR_NOT_FOUND when it
 * is gone, NSC_ERR_IO / NSC_ERR_NOMEM when it cannot be read now,
 * NSC_ERR_PARSE when it is not a complete spool batch.
 */
static nsc_rc sp_load(int dfd, const char *name, struct nsc_batch *b, struct nsc_error *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL;
	char *chunk = NULL;
	size_t offset = 0;
	nsc_rc rc = NSC_OK;

	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return nsc_error_set(err, e == ENOENT ? NSC_ERR_NOT_FOUND : NSC_ERR_IO, "cannot open %s: %s",
				     name, strerror(e));
	}
	tok = json_tokener_new_ex(SP_JSON_DEPTH);
	chunk = malloc(SP_READ_CHUNK);
	if (tok == NULL || chunk == NULL) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading %s", name);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, SP_READ_CHUNK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			rc = nsc_error_set(err, NSC_ERR_IO, "cannot read %s: %s", name, strerror(e));
			goto out;
		}
		if (r == 0)
			break;
		if (root != NULL) {
			if (!sp_all_space(chunk, (size_t)r)) {
				rc = nsc_error_set(err, NSC_ERR_PARSE, "%s has data after its JSON object", name);
				goto out;
			}
			offset += (size_t)r;
			continue;
		}
		root = json_tokener_parse_ex(tok, chunk, (int)r);
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		if (root == NULL) {
			if (jerr == json_tokener_continue) {
				offset += (size_t)r;
				continue;
			}
			rc = nsc_error_set(err, NSC_ERR_PARSE, "%s is not valid JSON (%s near byte %zu)", name,
					   json_tokener_error_desc(jerr),
					   offset + json_tokener_get_parse_end(tok));
			goto out;
		}
		size_t end = json_tokener_get_parse_end(tok);
		if (end < (size_t)r && !sp_all_space(chunk + end, (size_t)r - end)) {
			rc = nsc_error_set(err, NSC_ERR_PARSE, "%s has data after its JSON object", name);
			goto out;
		}
		offset += (size_t)r;
	}
	if (root == NULL) {
		rc = nsc_error_set(err, NSC_ERR_PARSE,
				   "%s ends before its JSON object does (%zu bytes; an interrupted write)",
				   name, offset);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		rc = nsc_error_set(err, NSC_ERR_PARSE, "%s does not hold a JSON object", name);
		goto out;
	}
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		const char *coll = nsc_collection_name((enum nsc_collection)c);
		struct json_object *arr = NULL;
		if (!json_object_object_get_ex(root, coll, &arr) || !json_object_is_type(arr, json_type_array)) {
			rc = nsc_error_set(err, NSC_ERR_PARSE, "%s has no \"%s\" array", name, coll);
			goto out;
		}
		size_t n = json_object_array_length(arr);
		for (size_t i = 0; i < n; i++) {
			if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_object)) {
				rc = nsc_error_set(err, NSC_ERR_PARSE, "%s: %s[%zu] is not a JSON object", name,
						   coll, i);
				goto out;
			}
		}
		/* The documents were completed by nsc_batch_add() before they were spooled. */
		if (n > 0)
			b->docs[c] = json_object_get(arr);
	}
out:
	if (rc != NSC_OK)
		nsc_batch_clear(b);
	json_object_put(root);
	free(chunk);
	if (tok != NULL)
		json_tokener_free(tok);
	close(fd);
	return rc;
}

/* The batch as the text of one spool file (a pointer into *holder, which the caller puts). */
static nsc_rc sp_serialize(const struct nsc_batch *b, struct json_object **holder, const char **text,
			   size_t *len, struct nsc_error *err)
{
	struct json_object *root = json_object_new_object();
	if (root == NULL)
		goto oom;
	*holder = root;
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		struct json_object *arr =
			b->docs[c] != NULL ? json_object_get(b->docs[c]) : json_object_new_array();
		if (arr == NULL)
			goto oom;
		if (json_object_object_add(root, nsc_collection_name((enum nsc_collection)c), arr) != 0) {
			json_object_put(arr);
			goto oom;
		}
	}
	*text = json_object_to_json_string_length(root, SP_JSON_FLAGS, len);
	if (*text == NULL)
		goto oom;
	return NSC_OK;
oom:
	return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory spooling a batch");
}

/* Writes text durably as <seq>.batch: temporary name, fsync, rename, fsync of the directory. */
static nsc_rc sp_write_file(struct nsc_spooled *s, uint64_t seq, const char *text, size_t len,
			    struct nsc_error *err)
{
	char tmp[SP_NAME_MAX], name[SP_NAME_MAX];
	const char *step = "create";
	bool renamed = false;

	sp_tmp_name(seq, tmp);
	sp_name(seq, name);
	int fd = openat(s->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	step = "write";
	if (nsc_write_all(fd, text, len) != 0)
		goto fail;
	step = "sync";
	if (nsc_fsync(fd) != 0)
		goto fail;
	step = "close";
	int crc = close(fd);
	fd = -1;
	if (crc != 0)
		goto fail;
	step = "rename";
	if (renameat(s->dfd, tmp, s->dfd, name) != 0)
		goto fail;
	renamed = true;
	step = "sync the directory of";
	if (nsc_fsync(s->dfd) != 0)
		goto fail;
	return NSC_OK;

fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	/* Not acknowledged, so not kept: the engine fetches this data again. */
	unlinkat(s->dfd, renamed ? name : tmp, 0);
	return nsc_error_set(err, NSC_ERR_IO, "cannot %s spool file %s/%s: %s", step, s->dir,
			     renamed ? name : tmp, strerror(e));
}

/* ---- queue (mu held) -------------------------------------------------- */

static int sp_queue_push(struct nsc_spooled *s, const struct sp_file *f)
{
	if (s->qlen == s->qcap) {
		size_t cap = s->qcap ? s->qcap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*s->q))
			return -1;
		struct sp_file *nq = realloc(s->q, cap * sizeof(*nq));
		if (nq == NULL)
			return -1;
		s->q = nq;
		s->qcap = cap;
	}
	s->q[s->qlen++] = *f;
	return 0;
}

static void sp_queue_pop(struct nsc_spooled *s)
{
	if (s->qlen == 0)
		return;
	s->pending_bytes -= s->q[0].bytes < s->pending_bytes ? s->q[0].bytes : s->pending_bytes;
	memmove(&s->q[0], &s->q[1], (s->qlen - 1) * sizeof(s->q[0]));
	s->qlen--;
	pthread_cond_broadcast(&s->changed);
}

static void sp_note_backend(struct nsc_spooled *s, nsc_rc rc, const struct nsc_error *err)
{
	s->last_rc = rc;
	if (rc == NSC_OK)
		s->last_err[0] = '\0';
	else
		snprintf(s->last_err, sizeof(s->last_err), "%s", err->msg[0] ? err->msg : nsc_strerror(rc));
}

/* ---- writer thread ---------------------------------------------------- */

static bool sp_retryable(nsc_rc rc)
{
	enum nsc_verdict v = nsc_rc_verdict(rc);
	/* Running out of memory is this process's passing trouble, not the batch's fault. */
	return v == NSC_VERDICT_RETRY || v == NSC_VERDICT_AUTH || rc == NSC_ERR_NOMEM;
}

static void sp_outage_fail(struct nsc_spooled *s, struct sp_outage *o, const char *op, nsc_rc rc,
			   const char *msg)
{
	if (o->down)
		return;
	o->down = true;
	o->contacted = false;
	o->replayed = 0;
	o->since_ms = sp_now_ms();
	nsc_warn(s->log, SP_COMP,
		 "event=output_down output=%s op=%s rc=%s dir=%s msg=\"%s; batches are kept in the spool and replayed in order when it is back\"",
		 s->backend->name, op, nsc_rc_name(rc), s->dir, msg);
}

/* After a success: the outage is over once the spool it left behind is empty. */
static void sp_outage_check(struct nsc_spooled *s, struct sp_outage *o, size_t pending)
{
	if (!o->down || !o->contacted || pending > 0)
		return;
	o->down = false;
	nsc_info(s->log, SP_COMP, "event=output_recovered output=%s replayed=%" PRIu64 " down_ms=%" PRId64,
		 s->backend->name, o->replayed, sp_now_ms() - o->since_ms);
}

/* Asks the backend for its last-known times (mu held; released during the call). */
static bool sp_query_last_known(struct nsc_spooled *s, struct sp_outage *o)
{
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };

	memset(&lk, 0, sizeof(lk));
	pthread_mutex_unlock(&s->mu);
	nsc_rc rc = s->backend->last_known(s->bctx, &lk, &err);
	pthread_mutex_lock(&s->mu);
	sp_note_backend(s, rc, &err);
	if (!s->lk_attempted) {
		s->lk_attempted = true;
		pthread_cond_broadcast(&s->changed);
	}
	if (rc != NSC_OK) {
		sp_outage_fail(s, o, "last_known", rc, err.msg[0] ? err.msg : nsc_strerror(rc));
		return false;
	}
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (lk.ms[c] > s->backend_lk[c])
			s->backend_lk[c] = lk.ms[c];
	}
	s->lk_known = true;
	if (o->down)
		o->contacted = true;
	sp_outage_check(s, o, s->qlen);
	return true;
}

/* Moves spool file `name` to rejected/ and logs why. */
static void sp_reject(struct nsc_spooled *s, const char *name, nsc_rc rc, const char *why)
{
	if (renameat(s->dfd, name, s->rfd, name) != 0) {
		int e = errno;
		nsc_err(s->log, SP_COMP,
			"event=batch_rejected output=%s file=%s/%s rc=%s msg=\"%s; it could not be moved to %s/ (%s), it is skipped until the next start\"",
			s->backend->name, s->dir, name, nsc_rc_name(rc), why, SP_REJECTED_DIR, strerror(e));
		return;
	}
	if (nsc_fsync(s->rfd) != 0 || nsc_fsync(s->dfd) != 0)
		nsc_dbg(s->log, SP_COMP, "event=dir_sync_failed dir=%s msg=\"%s\"", s->dir, strerror(errno));
	nsc_err(s->log, SP_COMP,
		"event=batch_rejected output=%s file=%s/%s/%s rc=%s msg=\"%s; the batch was moved aside and later batches go on\"",
		s->backend->name, s->dir, SP_REJECTED_DIR, name, nsc_rc_name(rc), why);
}

/* Replays the oldest file (mu held; released during I/O and the backend call). */
static enum sp_outcome sp_replay_head(struct nsc_spooled *s, struct sp_outage *o)
{
	struct sp_file f = s->q[0];
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err = { 0 };
	char name[SP_NAME_MAX];
	enum sp_outcome out;
	bool called = false;

	pthread_mutex_unlock(&s->mu);
	nsc_batch_init(&b);
	memset(&res, 0, sizeof(res));
	sp_name(f.seq, name);

	nsc_rc rc = sp_load(s->dfd, name, &b, &err);
	if (rc == NSC_ERR_NOT_FOUND) {
		nsc_warn(s->log, SP_COMP, "event=batch_missing file=%s/%s msg=\"the spool file disappeared; skipped\"",
			 s->dir, name);
		out = SP_GONE;
	} else if (rc == NSC_ERR_PARSE) {
		sp_reject(s, name, rc, err.msg);
		out = SP_REJECTED;
	} else if (rc != NSC_OK) {
		nsc_warn(s->log, SP_COMP, "event=spool_read_failed file=%s/%s rc=%s msg=\"%s; will try again\"",
			 s->dir, name, nsc_rc_name(rc), err.msg);
		out = SP_LOCAL;
	} else {
		rc = s->backend->write(s->bctx, &b, &res, &err);
		called = true;
		const char *msg = err.msg[0] ? err.msg : nsc_strerror(rc);
		if (rc == NSC_OK) {
			/* Not synced: a deletion lost in a crash only replays an idempotent batch. */
			if (unlinkat(s->dfd, name, 0) != 0 && errno != ENOENT)
				nsc_warn(s->log, SP_COMP,
					 "event=unlink_failed file=%s/%s msg=\"%s; it will be replayed again at the next start\"",
					 s->dir, name, strerror(errno));
			size_t docs = 0, stored = 0;
			for (int c = 0; c < NSC_COLL_COUNT; c++) {
				docs += nsc_batch_count(&b, (enum nsc_collection)c);
				stored += res.stored[c];
			}
			nsc_dbg(s->log, SP_COMP, "event=replayed output=%s file=%s documents=%zu stored=%zu",
				s->backend->name, name, docs, stored);
			/* Before the queue changes, so wait_empty() returning means callbacks ran. */
			if (s->stored != NULL)
				s->stored(s->stored_arg, &res);
			out = SP_DONE;
		} else if (sp_retryable(rc)) {
			sp_outage_fail(s, o, "write", rc, msg);
			out = SP_RETRY;
		} else {
			sp_reject(s, name, rc, msg);
			out = SP_REJECTED;
		}
	}
	nsc_batch_clear(&b);

	pthread_mutex_lock(&s->mu);
	if (called)
		sp_note_backend(s, rc, &err);
	switch (out) {
	case SP_DONE:
		for (int c = 0; c < NSC_COLL_COUNT; c++) {
			if (f.newest[c] > s->backend_lk[c])
				s->backend_lk[c] = f.newest[c];
		}
		s->replayed++;
		sp_queue_pop(s);
		if (o->down) {
			o->contacted = true;
			o->replayed++;
		}
		sp_outage_check(s, o, s->qlen);
		break;
	case SP_REJECTED:
		s->rejected++;
		sp_queue_pop(s);
		if (o->down && called)
			o->contacted = true;
		sp_outage_check(s, o, s->qlen);
		break;
	case SP_GONE:
		sp_queue_pop(s);
		break;
	case SP_RETRY:
	case SP_LOCAL:
		break;
	}
	return out;
}

static int64_t sp_next_delay(const struct nsc_spooled *s, int64_t delay)
{
	if (delay <= 0)
		return s->retry_min_ms;
	return delay > s->retry_max_ms / 2 ? s->retry_max_ms : delay * 2;
}

static void *sp_writer_main(void *arg)
{
	struct nsc_spooled *s = arg;
	struct sp_outage o = { 0 };
	int64_t lk_delay = 0, lk_next = 0, w_delay = 0, w_next = 0;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		int64_t now = sp_now_ms();
		if (s->closing && (s->qlen == 0 || now >= s->deadline_ms))
			break;
		if (!s->lk_known && !s->closing && now >= lk_next) {
			if (sp_query_last_known(s, &o)) {
				lk_delay = 0;
			} else {
				lk_delay = sp_next_delay(s, lk_delay);
				lk_next = sp_now_ms() + lk_delay;
			}
			continue;
		}
		if (s->qlen > 0 && now >= w_next) {
			enum sp_outcome r = sp_replay_head(s, &o);
			if (r == SP_RETRY || r == SP_LOCAL) {
				w_delay = sp_next_delay(s, w_delay);
				w_next = sp_now_ms() + w_delay;
			} else {
				w_delay = 0;
				w_next = 0;
				/* The backend answers again: ask for what it holds now, not after a backoff. */
				if (r == SP_DONE && !s->lk_known)
					lk_next = 0;
			}
			continue;
		}
		/* Nothing due: sleep until something is, or until woken. */
		int64_t until = INT64_MAX;
		if (!s->lk_known && !s->closing)
			until = lk_next;
		if (s->qlen > 0)
			until = sp_min64(until, w_next);
		if (s->closing)
			until = sp_min64(until, s->deadline_ms);
		if (until == INT64_MAX)
			pthread_cond_wait(&s->wake, &s->mu);
		else
			sp_wait_until(s, &s->wake, until);
	}
	/* Nobody waits for the first answer any more. */
	s->lk_attempted = true;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- open / close ----------------------------------------------------- */

static nsc_rc sp_errno_rc(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
	case EACCES:
	case EPERM:
	case EROFS:
	case ELOOP:
	case ENAMETOOLONG:
	case EEXIST:
		return NSC_ERR_CONFIG; /* the user must fix the directory */
	default:
		return NSC_ERR_IO;
	}
}

static void sp_free(struct nsc_spooled *s)
{
	if (s->rfd >= 0)
		close(s->rfd);
	if (s->dfd >= 0)
		close(s->dfd); /* also drops the flock */
	if (s->sync_ready) {
		pthread_cond_destroy(&s->changed);
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->mu);
		pthread_mutex_destroy(&s->append_mu);
	}
	free(s->q);
	free(s->dir);
	free(s);
}

static nsc_rc sp_init_sync(struct nsc_spooled *s, struct nsc_error *err)
{
	pthread_condattr_t ca;
	int wake_ok = -1, changed_ok = -1, mu_ok = -1, append_ok = -1;

	if (pthread_condattr_init(&ca) != 0)
		return nsc_error_set(err, NSC_ERR_NOMEM, "cannot initialise the spool's locks");
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0) {
		wake_ok = pthread_cond_init(&s->wake, &ca);
		changed_ok = pthread_cond_init(&s->changed, &ca);
	}
	pthread_condattr_destroy(&ca);
	mu_ok = pthread_mutex_init(&s->mu, NULL);
	append_ok = pthread_mutex_init(&s->append_mu, NULL);
	if (wake_ok == 0 && changed_ok == 0 && mu_ok == 0 && append_ok == 0) {
		s->sync_ready = true;
		return NSC_OK;
	}
	if (wake_ok == 0)
		pthread_cond_destroy(&s->wake);
	if (changed_ok == 0)
		pthread_cond_destroy(&s->changed);
	if (mu_ok == 0)
		pthread_mutex_destroy(&s->mu);
	if (append_ok == 0)
		pthread_mutex_destroy(&s->append_mu);
	return nsc_error_set(err, NSC_ERR_NOMEM, "cannot initialise the spool's locks");
}

/* Creates (0700) or opens the spool directory and its rejected/ folder, and locks the spool. */
static nsc_rc sp_open_dir(struct nsc_spooled *s, struct nsc_error *err)
{
	if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		return nsc_error_set(err, sp_errno_rc(e),
				     "CONNECT_SPOOL_DIR: cannot create directory %s: %s (its parent directory must exist)",
				     s->dir, strerror(e));
	}
	s->dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dfd < 0) {
		int e = errno;
		return nsc_error_set(err, sp_errno_rc(e), "CONNECT_SPOOL_DIR: cannot open directory %s: %s",
				     s->dir, strerror(e));
	}
	/* One process per spool: two writers would replay each other's batches. */
	if (flock(s->dfd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		return nsc_error_set(err, e == EWOULDBLOCK ? NSC_ERR_CONFIG : NSC_ERR_IO,
				     "CONNECT_SPOOL_DIR: cannot lock %s: %s", s->dir,
				     e == EWOULDBLOCK ? "another bridge is using this spool directory; give each its own"
						      : strerror(e));
	}
	if (mkdirat(s->dfd, SP_REJECTED_DIR, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		return nsc_error_set(err, sp_errno_rc(e), "CONNECT_SPOOL_DIR: cannot create %s/%s: %s",
				     s->dir, SP_REJECTED_DIR, strerror(e));
	}
	s->rfd = openat(s->dfd, SP_REJECTED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rfd < 0) {
		int e = errno;
		return nsc_error_set(err, sp_errno_rc(e), "CONNECT_SPOOL_DIR: cannot open %s/%s: %s", s->dir,
				     SP_REJECTED_DIR, strerror(e));
	}
	return NSC_OK;
}

static int sp_cmp_file(const void *a, const void *b)
{
	uint64_t x = ((const struct sp_file *)a)->seq, y = ((const struct sp_file *)b)->seq;
	return x < y ? -1 : x > y;
}

/*
 * The highest sequence among the batches in rejected/, so a new batch never
 * takes (and a later rejection never overwrites) the name of a rejected one.
 */
static nsc_rc sp_rejected_max_seq(struct nsc_spooled *s, uint64_t *max_seq, struct nsc_error *err)
{
	int fd = openat(s->rfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return nsc_error_set(err, NSC_ERR_IO, "cannot read directory %s/%s: %s", s->dir,
				     SP_REJECTED_DIR, strerror(e));
	}
	for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
		uint64_t seq;
		if (sp_parse_name(de->d_name, &seq) && seq > *max_seq)
			*max_seq = seq;
	}
	closedir(d);
	return NSC_OK;
}

/* Finds the files an earlier run left: removes torn temporaries, queues the batches in order. */
static nsc_rc sp_scan(struct nsc_spooled *s, struct nsc_error *err)
{
	int fd = openat(s->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return nsc_error_set(err, NSC_ERR_IO, "cannot read directory %s: %s", s->dir, strerror(e));
	}
	nsc_rc rc = NSC_OK;
	uint64_t max_seq = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				int e = errno;
				rc = nsc_error_set(err, NSC_ERR_IO, "cannot read directory %s: %s", s->dir,
						   strerror(e));
			}
			break;
		}
		struct sp_file f;
		memset(&f, 0, sizeof(f));
		if (strncmp(de->d_name, SP_TMP_PREFIX, strlen(SP_TMP_PREFIX)) == 0) {
			if (unlinkat(s->dfd, de->d_name, 0) != 0 && errno != ENOENT)
				nsc_warn(s->log, SP_COMP, "event=stale_tmp file=%s/%s msg=\"cannot remove: %s\"",
					 s->dir, de->d_name, strerror(errno));
			else
				nsc_warn(s->log, SP_COMP,
					 "event=stale_tmp_removed file=%s/%s msg=\"a write interrupted before it completed; that batch was never acknowledged and is fetched again\"",
					 s->dir, de->d_name);
			continue;
		}
		if (!sp_parse_name(de->d_name, &f.seq))
			continue;
		struct stat st;
		if (fstatat(s->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		f.bytes = (uint64_t)st.st_size;
		if (sp_queue_push(s, &f) != 0) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading the spool %s", s->dir);
			break;
		}
		if (f.seq > max_seq)
			max_seq = f.seq;
	}
	closedir(d);
	if (rc == NSC_OK)
		rc = sp_rejected_max_seq(s, &max_seq, err);
	if (rc != NSC_OK)
		return rc;
	if (s->qlen > 1)
		qsort(s->q, s->qlen, sizeof(s->q[0]), sp_cmp_file);

	/* What each file holds counts for last_known until it is replayed. */
	for (size_t i = 0; i < s->qlen; i++) {
		struct sp_file *f = &s->q[i];
		struct nsc_batch b;
		struct nsc_error lerr = { 0 };
		char name[SP_NAME_MAX];

		nsc_batch_init(&b);
		sp_name(f->seq, name);
		nsc_rc lrc = sp_load(s->dfd, name, &b, &lerr);
		if (lrc == NSC_ERR_NOMEM)
			return nsc_error_set(err, lrc, "out of memory reading the spool %s", s->dir);
		if (lrc == NSC_OK)
			sp_batch_newest(&b, f->newest);
		else
			nsc_dbg(s->log, SP_COMP, "event=unreadable_at_open file=%s/%s msg=\"%s\"", s->dir, name,
				lerr.msg);
		nsc_batch_clear(&b);
		s->pending_bytes += f->bytes;
	}
	s->next_seq = max_seq + 1;
	return NSC_OK;
}

static nsc_rc sp_start_thread(struct nsc_spooled *s, struct nsc_error *err)
{
	sigset_t all, old;

	/* Signals go to the host's threads, never to the writer. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&s->thread, NULL, sp_writer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return nsc_error_set(err, e == EAGAIN ? NSC_ERR_NOMEM : NSC_ERR_INTERNAL,
				     "cannot start the spool writer thread: %s", strerror(e));
	s->thread_started = true;
	return NSC_OK;
}

void nsc_spooled_options_from_config(struct nsc_spooled_options *o, const struct nsc_config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->dir = cfg != NULL && cfg->spool_dir != NULL && cfg->spool_dir[0] != '\0' ? cfg->spool_dir
										     : SP_DEFAULT_DIR;
	o->max_bytes = cfg != NULL && cfg->spool_max_bytes > 0 ? cfg->spool_max_bytes : SP_DEFAULT_MAX_BYTES;
	o->drain_timeout_ms = SP_DEFAULT_DRAIN_MS;
	o->retry_min_ms = SP_DEFAULT_RETRY_MIN_MS;
	o->retry_max_ms = SP_DEFAULT_RETRY_MAX_MS;
}

nsc_rc nsc_spooled_open(const struct nsc_output_driver *backend, const struct nsc_config *cfg,
			struct nsc_log *log, const struct nsc_spooled_options *opts,
			struct nsc_spooled **out, struct nsc_error *err)
{
	if (backend == NULL || backend->open == NULL || backend->close == NULL || backend->write == NULL ||
	    backend->last_known == NULL || opts == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "spooled output opened without a backend or options");

	struct nsc_spooled *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the spool");
	s->dfd = s->rfd = -1;
	s->backend = backend;
	s->log = log;
	s->max_bytes = opts->max_bytes > 0 ? opts->max_bytes : SP_DEFAULT_MAX_BYTES;
	s->drain_timeout_ms = opts->drain_timeout_ms > 0 ? opts->drain_timeout_ms : 0;
	s->retry_min_ms = opts->retry_min_ms > 0 ? opts->retry_min_ms : SP_DEFAULT_RETRY_MIN_MS;
	s->retry_max_ms = opts->retry_max_ms > 0 ? opts->retry_max_ms : SP_DEFAULT_RETRY_MAX_MS;
	if (s->retry_max_ms < s->retry_min_ms)
		s->retry_max_ms = s->retry_min_ms;
	s->stored = opts->stored;
	s->stored_arg = opts->stored_arg;
	s->last_rc = NSC_OK;
	s->next_seq = 1;

	nsc_rc rc;
	s->dir = strdup(opts->dir != NULL && opts->dir[0] != '\0' ? opts->dir : SP_DEFAULT_DIR);
	if (s->dir == NULL) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the spool");
		goto fail;
	}
	rc = sp_init_sync(s, err);
	if (rc == NSC_OK)
		rc = sp_open_dir(s, err);
	if (rc == NSC_OK)
		rc = sp_scan(s, err);
	if (rc != NSC_OK)
		goto fail;

	/* On the caller's thread, so configuration errors surface at start. */
	rc = backend->open(cfg, log, &s->bctx, err);
	if (rc != NSC_OK)
		goto fail;
	rc = sp_start_thread(s, err);
	if (rc != NSC_OK) {
		backend->close(s->bctx);
		goto fail;
	}
	nsc_info(log, SP_COMP, "event=open output=%s dir=%s pending_batches=%zu pending_bytes=%" PRIu64
		 " max_bytes=%" PRIu64,
		 backend->name, s->dir, s->qlen, s->pending_bytes, s->max_bytes);
	*out = s;
	return NSC_OK;

fail:
	sp_free(s);
	return rc;
}

void nsc_spooled_close(struct nsc_spooled *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	s->deadline_ms = sp_now_ms() + s->drain_timeout_ms;
	pthread_cond_signal(&s->wake);
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mu);

	if (s->thread_started)
		pthread_join(s->thread, NULL);
	s->backend->close(s->bctx);

	if (s->qlen > 0)
		nsc_warn(s->log, SP_COMP,
			 "event=closed output=%s dir=%s pending_batches=%zu pending_bytes=%" PRIu64
			 " msg=\"the output did not take these in time; they stay in the spool and are replayed at the next start\"",
			 s->backend->name, s->dir, s->qlen, s->pending_bytes);
	else
		nsc_info(s->log, SP_COMP, "event=closed output=%s dir=%s replayed=%" PRIu64 " rejected=%" PRIu64,
			 s->backend->name, s->dir, s->replayed, s->rejected);
	sp_free(s);
}

/* ---- engine-facing calls ---------------------------------------------- */

nsc_rc nsc_spooled_last_known(struct nsc_spooled *s, struct nsc_last_known *out, struct nsc_error *err)
{
	if (s == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "spooled output is not open");
	pthread_mutex_lock(&s->mu);
	int64_t until = sp_now_ms() + SP_FIRST_QUERY_WAIT_MS;
	while (!s->lk_attempted && !s->closing && sp_now_ms() < until)
		sp_wait_until(s, &s->changed, until);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		int64_t v = s->backend_lk[c];
		for (size_t i = 0; i < s->qlen; i++) {
			if (s->q[i].newest[c] > v)
				v = s->q[i].newest[c];
		}
		out->ms[c] = v;
	}
	pthread_mutex_unlock(&s->mu);
	return NSC_OK;
}

nsc_rc nsc_spooled_write(struct nsc_spooled *s, const struct nsc_batch *b, struct nsc_write_result *res,
			 struct nsc_error *err)
{
	struct json_object *holder = NULL;
	const char *text = NULL;
	size_t len = 0;
	struct sp_file f;

	if (s == NULL || b == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "spooled output is not open");
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (nsc_batch_total(b) == 0)
		return NSC_OK;

	memset(&f, 0, sizeof(f));
	sp_batch_newest(b, f.newest);
	nsc_rc rc = sp_serialize(b, &holder, &text, &len, err);
	if (rc != NSC_OK) {
		json_object_put(holder);
		return rc;
	}
	f.bytes = len;

	pthread_mutex_lock(&s->append_mu);
	pthread_mutex_lock(&s->mu);
	if (s->closing) {
		rc = nsc_error_set(err, NSC_ERR_STATE, "spooled output is closing");
	} else if (s->pending_bytes > 0 &&
		   (f.bytes > s->max_bytes || s->pending_bytes > s->max_bytes - f.bytes)) {
		/* A batch larger than the limit still goes into an empty spool (a first backfill). */
		rc = nsc_error_set(err, NSC_ERR_RETRY,
				   "spool full: %" PRIu64 " bytes pending in %s; the output is not keeping up or is down",
				   s->pending_bytes, s->dir);
	} else {
		f.seq = s->next_seq++;
		s->pending_bytes += f.bytes;
	}
	pthread_mutex_unlock(&s->mu);
	if (rc != NSC_OK) {
		pthread_mutex_unlock(&s->append_mu);
		json_object_put(holder);
		return rc;
	}

	rc = sp_write_file(s, f.seq, text, len, err);
	json_object_put(holder);

	pthread_mutex_lock(&s->mu);
	if (rc == NSC_OK && sp_queue_push(s, &f) != 0) {
		/* The file is durable but untracked: keep it for the next start, refuse this write. */
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory queueing a spooled batch");
	}
	if (rc != NSC_OK)
		s->pending_bytes -= f.bytes;
	else
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&s->append_mu);
	if (rc != NSC_OK)
		return rc;

	if (res != NULL) {
		for (int c = 0; c < NSC_COLL_COUNT; c++)
			res->stored[c] = nsc_batch_count(b, (enum nsc_collection)c);
	}
	nsc_trace(s->log, SP_COMP, "event=spooled seq=%" PRIu64 " bytes=%" PRIu64 " documents=%zu", f.seq,
		  f.bytes, nsc_batch_total(b));
	return NSC_OK;
}

void nsc_spooled_status(struct nsc_spooled *s, struct nsc_spooled_status *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	out->pending_batches = s->qlen;
	out->pending_bytes = s->pending_bytes;
	out->replayed_batches = s->replayed;
	out->rejected_batches = s->rejected;
	out->last_backend_rc = s->last_rc;
	snprintf(out->last_backend_error, sizeof(out->last_backend_error), "%s", s->last_err);
	pthread_mutex_unlock(&s->mu);
}

nsc_rc nsc_spooled_wait_empty(struct nsc_spooled *s, int64_t timeout_ms)
{
	if (s == NULL)
		return NSC_ERR_INTERNAL;
	pthread_mutex_lock(&s->mu);
	int64_t until = sp_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	while (s->qlen > 0 && sp_now_ms() < until)
		sp_wait_until(s, &s->changed, until);
	nsc_rc rc = s->qlen == 0 ? NSC_OK : NSC_ERR_RETRY;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ---- driver wrappers (NSC_SPOOLED_DRIVER) ----------------------------- */

void nsc_spooled_driver_close(void *ctx)
{
	nsc_spooled_close(ctx);
}

nsc_rc nsc_spooled_driver_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	return nsc_spooled_last_known(ctx, out, err);
}

nsc_rc nsc_spooled_driver_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
				struct nsc_error *err)
{
	return nsc_spooled_write(ctx, b, res, err);
}

nsc_rc nsc_spooled_driver_flush(void *ctx, int64_t timeout_ms, struct nsc_error *err)
{
	if (nsc_spooled_wait_empty(ctx, timeout_ms) == NSC_OK)
		return NSC_OK;
	struct nsc_spooled_status st;
	nsc_spooled_status(ctx, &st);
	return nsc_error_set(err, NSC_ERR_RETRY,
			     "%zu batch(es) still wait in the spool; the output's last error: %s",
			     st.pending_batches, st.last_backend_error[0] ? st.last_backend_error : "none yet");
}
