/* SPDX-License-Identifier: MIT */
/*
 * The spooled output (contract in spooled.h): write() turns a batch into one
 * durable spool file, a writer thread replays the files oldest first through
 * a synchronous backend, with backoff while the backend is down. The files
 * themselves (names, format, atomic writes, rejected/) are spool_files.c.
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

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clock.h"
#include "engine/backoff.h"
#include "outputs/spool_files.h"
#include "outputs/spooled.h"

#define SP_COMP NSC_SPOOL_COMP
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
/* With a virtual clock, how often (real ms) a waiting thread looks at it again. */
#define SP_VIRTUAL_POLL_MS 2


struct nsc_spooled {
	/* Fixed from open to close. */
	const struct nsc_output_driver *backend;
	void *bctx; /* writer thread only */
	struct nsc_log *log;
	char *dir;
	int dfd; /* the spool directory, flock'd while open */
	int rfd; /* <dir>/rejected */
	uint64_t max_bytes;
	int64_t drain_timeout_ms;
	const struct nsc_clock *clock; /* the engine's: virtual in tests */
	struct nsc_backoff retry;      /* after a failed backend call (jittered) */
	struct nsc_rng rng;            /* writer thread only */
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
	struct nsc_spool_queue q; /* pending files, oldest first; q.v[0] may be in replay */
	uint64_t next_seq;
	uint64_t pending_bytes; /* queued files plus writes in progress */
	uint64_t replayed, rejected;
	struct nsc_write_result delivered; /* the backend's results, summed */
	nsc_rc last_rc;
	char last_err[NSC_ERROR_MSG_MAX];
	uint64_t progress;      /* batches and parts of batches that reached the backend */
	int64_t progress_ms;    /* monotonic time of the last progress */
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

static int64_t sp_now_ms(const struct nsc_spooled *s)
{
	return nsc_clock_mono(s->clock);
}

static int64_t sp_min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * Waits on cv (mu held) until the clock reads until_ms at the latest. A
 * virtual clock moves only when a test advances it, so then the wait is
 * a short real one and the caller looks at the clock again.
 */
static void sp_wait_until(struct nsc_spooled *s, pthread_cond_t *cv, int64_t until_ms)
{
	struct timespec ts;
	if (nsc_clock_is_virtual(s->clock)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += SP_VIRTUAL_POLL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(cv, &s->mu, &ts);
		return;
	}
	if (until_ms < 0)
		until_ms = 0;
	ts.tv_sec = (time_t)(until_ms / 1000);
	ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
	pthread_cond_timedwait(cv, &s->mu, &ts);
}

static void sp_queue_pop(struct nsc_spooled *s)
{
	if (s->q.len == 0)
		return;
	s->pending_bytes -= s->q.v[0].bytes < s->pending_bytes ? s->q.v[0].bytes : s->pending_bytes;
	memmove(&s->q.v[0], &s->q.v[1], (s->q.len - 1) * sizeof(s->q.v[0]));
	s->q.len--;
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

/* Something reached the backend: a waiter's deadline moves (mu held). */
static void sp_note_progress_locked(struct nsc_spooled *s)
{
	s->progress++;
	s->progress_ms = sp_now_ms(s);
	pthread_cond_broadcast(&s->changed);
}

/* The backend's own report of a part of a batch delivered (writer thread, mu not held). */
static void sp_backend_progress(void *arg)
{
	struct nsc_spooled *s = arg;
	pthread_mutex_lock(&s->mu);
	sp_note_progress_locked(s);
	pthread_mutex_unlock(&s->mu);
}

static void sp_outage_fail(struct nsc_spooled *s, struct sp_outage *o, const char *op, nsc_rc rc,
			   const char *msg)
{
	if (o->down)
		return;
	o->down = true;
	o->contacted = false;
	o->replayed = 0;
	o->since_ms = sp_now_ms(s);
	nsc_warn(s->log, SP_COMP,
		 "event=output_down output=%s op=%s rc=%s dir=\"%s\" msg=\"%s; batches are kept in the spool and replayed in order when it is back\"",
		 s->backend->name, op, nsc_rc_name(rc), s->dir, msg);
}

/* After a success: the outage is over once the spool it left behind is empty. */
static void sp_outage_check(struct nsc_spooled *s, struct sp_outage *o, size_t pending)
{
	if (!o->down || !o->contacted || pending > 0)
		return;
	o->down = false;
	nsc_info(s->log, SP_COMP, "event=output_recovered output=%s replayed=%" PRIu64 " down_ms=%" PRId64,
		 s->backend->name, o->replayed, sp_now_ms(s) - o->since_ms);
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
	sp_outage_check(s, o, s->q.len);
	return true;
}

/* Moves spool file `name` to rejected/ and logs why. */
static void sp_reject(struct nsc_spooled *s, const char *name, nsc_rc rc, const char *why)
{
	int sync_e;
	int e = nsc_spool_move_rejected(s->dfd, s->rfd, name, &sync_e);
	if (e != 0) {
		nsc_err(s->log, SP_COMP,
			"event=batch_rejected output=%s file=\"%s/%s\" rc=%s msg=\"%s; it could not be moved to %s/ (%s), it is skipped until the next start\"",
			s->backend->name, s->dir, name, nsc_rc_name(rc), why, NSC_SPOOL_REJECTED_DIR, strerror(e));
		return;
	}
	if (sync_e != 0)
		nsc_dbg(s->log, SP_COMP, "event=dir_sync_failed dir=\"%s\" msg=\"%s\"", s->dir, strerror(sync_e));
	nsc_err(s->log, SP_COMP,
		"event=batch_rejected output=%s file=\"%s/%s/%s\" rc=%s msg=\"%s; the batch was moved aside and later batches go on\"",
		s->backend->name, s->dir, NSC_SPOOL_REJECTED_DIR, name, nsc_rc_name(rc), why);
}

/* Replays the oldest file (mu held; released during I/O and the backend call). */
static enum sp_outcome sp_replay_head(struct nsc_spooled *s, struct sp_outage *o)
{
	struct nsc_spool_file f = s->q.v[0];
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err = { 0 };
	char name[NSC_SPOOL_NAME_MAX];
	enum sp_outcome out;
	bool called = false;

	pthread_mutex_unlock(&s->mu);
	nsc_batch_init(&b);
	memset(&res, 0, sizeof(res));
	nsc_spool_name(f.seq, name);

	nsc_rc rc = nsc_spool_load(s->dfd, name, &b, &err);
	if (rc == NSC_ERR_NOT_FOUND) {
		nsc_warn(s->log, SP_COMP, "event=batch_missing file=\"%s/%s\" msg=\"the spool file disappeared; skipped\"",
			 s->dir, name);
		out = SP_GONE;
	} else if (rc == NSC_ERR_PARSE) {
		sp_reject(s, name, rc, err.msg);
		out = SP_REJECTED;
	} else if (rc != NSC_OK) {
		nsc_warn(s->log, SP_COMP, "event=spool_read_failed file=\"%s/%s\" rc=%s msg=\"%s; will try again\"",
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
					 "event=unlink_failed file=\"%s/%s\" msg=\"%s; it will be replayed again at the next start\"",
					 s->dir, name, strerror(errno));
			size_t docs = 0, stored = 0;
			for (int c = 0; c < NSC_COLL_COUNT; c++) {
				docs += nsc_batch_count(&b, (enum nsc_collection)c);
				stored += res.stored[c];
			}
			nsc_dbg(s->log, SP_COMP, "event=replayed output=%s file=\"%s\" documents=%zu stored=%zu",
				s->backend->name, name, docs, stored);
			pthread_mutex_lock(&s->mu);
			for (int c = 0; c < NSC_COLL_COUNT; c++) {
				s->delivered.stored[c] += res.stored[c];
				s->delivered.duplicates[c] += res.duplicates[c];
			}
			pthread_mutex_unlock(&s->mu);
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
		sp_note_progress_locked(s);
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
		sp_outage_check(s, o, s->q.len);
		break;
	case SP_REJECTED:
		s->rejected++;
		sp_queue_pop(s);
		if (o->down && called)
			o->contacted = true;
		sp_outage_check(s, o, s->q.len);
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

/* The wait after the n-th failure in a row: the engine's backoff, with jitter. */
static int64_t sp_retry_delay(struct nsc_spooled *s, unsigned failures)
{
	return nsc_backoff_delay(&s->retry, failures, &s->rng);
}

static void *sp_writer_main(void *arg)
{
	struct nsc_spooled *s = arg;
	struct sp_outage o = { 0 };
	unsigned lk_failures = 0, w_failures = 0;
	int64_t lk_next = 0, w_next = 0;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		int64_t now = sp_now_ms(s);
		if (s->closing && (s->q.len == 0 || now >= s->deadline_ms))
			break;
		if (!s->lk_known && !s->closing && now >= lk_next) {
			if (sp_query_last_known(s, &o))
				lk_failures = 0;
			else
				lk_next = sp_now_ms(s) + sp_retry_delay(s, ++lk_failures);
			continue;
		}
		if (s->q.len > 0 && now >= w_next) {
			enum sp_outcome r = sp_replay_head(s, &o);
			if (r == SP_RETRY || r == SP_LOCAL) {
				w_next = sp_now_ms(s) + sp_retry_delay(s, ++w_failures);
			} else {
				w_failures = 0;
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
		if (s->q.len > 0)
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
	free(s->q.v);
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
	o->clock = &nsc_clock_system;
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
	s->clock = opts->clock ? opts->clock : &nsc_clock_system;
	s->retry = (struct nsc_backoff){
		.base_ms = opts->retry_min_ms > 0 ? opts->retry_min_ms : SP_DEFAULT_RETRY_MIN_MS,
		.cap_ms = opts->retry_max_ms > 0 ? opts->retry_max_ms : SP_DEFAULT_RETRY_MAX_MS,
		.factor = 2.0,
		.jitter = 0.2,
	};
	if (s->retry.cap_ms < s->retry.base_ms)
		s->retry.cap_ms = s->retry.base_ms;
	nsc_rng_seed(&s->rng, opts->rng_seed ? opts->rng_seed
					     : (uint64_t)nsc_clock_wall(&nsc_clock_system) ^ (uint64_t)(uintptr_t)s);
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
		rc = nsc_spool_open_dir(s->dir, &s->dfd, &s->rfd, err);
	if (rc == NSC_OK)
		rc = nsc_spool_scan(s->dfd, s->rfd, s->dir, s->log, &s->q, &s->pending_bytes, &s->next_seq, err);
	if (rc != NSC_OK)
		goto fail;

	/* On the caller's thread, so configuration errors surface at start. */
	rc = backend->open(cfg, log, &s->bctx, err);
	if (rc != NSC_OK)
		goto fail;
	if (backend->set_progress)
		backend->set_progress(s->bctx, sp_backend_progress, s);
	rc = sp_start_thread(s, err);
	if (rc != NSC_OK) {
		backend->close(s->bctx);
		goto fail;
	}
	nsc_info(log, SP_COMP, "event=open output=%s dir=\"%s\" pending_batches=%zu pending_bytes=%" PRIu64
		 " max_bytes=%" PRIu64,
		 backend->name, s->dir, s->q.len, s->pending_bytes, s->max_bytes);
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
	s->deadline_ms = sp_now_ms(s) + s->drain_timeout_ms;
	pthread_cond_signal(&s->wake);
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mu);

	if (s->thread_started)
		pthread_join(s->thread, NULL);
	s->backend->close(s->bctx);

	if (s->q.len > 0)
		nsc_warn(s->log, SP_COMP,
			 "event=closed output=%s dir=\"%s\" pending_batches=%zu pending_bytes=%" PRIu64
			 " msg=\"the output did not take these in time; they stay in the spool and are replayed at the next start\"",
			 s->backend->name, s->dir, s->q.len, s->pending_bytes);
	else
		nsc_info(s->log, SP_COMP, "event=closed output=%s dir=\"%s\" replayed=%" PRIu64 " rejected=%" PRIu64,
			 s->backend->name, s->dir, s->replayed, s->rejected);
	sp_free(s);
}

/* ---- engine-facing calls ---------------------------------------------- */

nsc_rc nsc_spooled_last_known(struct nsc_spooled *s, struct nsc_last_known *out, struct nsc_error *err)
{
	if (s == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "spooled output is not open");
	pthread_mutex_lock(&s->mu);
	int64_t until = sp_now_ms(s) + SP_FIRST_QUERY_WAIT_MS;
	while (!s->lk_attempted && !s->closing && sp_now_ms(s) < until)
		sp_wait_until(s, &s->changed, until);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		int64_t v = s->backend_lk[c];
		for (size_t i = 0; i < s->q.len; i++) {
			if (s->q.v[i].newest[c] > v)
				v = s->q.v[i].newest[c];
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
	struct nsc_spool_file f;

	if (s == NULL || b == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "spooled output is not open");
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (nsc_batch_total(b) == 0)
		return NSC_OK;

	memset(&f, 0, sizeof(f));
	nsc_spool_batch_newest(b, f.newest);
	nsc_rc rc = nsc_spool_serialize(b, &holder, &text, &len, err);
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

	rc = nsc_spool_write_file(s->dfd, s->dir, f.seq, text, len, err);
	json_object_put(holder);

	pthread_mutex_lock(&s->mu);
	if (rc == NSC_OK && nsc_spool_queue_push(&s->q, &f) != 0) {
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
	out->pending_batches = s->q.len;
	out->pending_bytes = s->pending_bytes;
	out->replayed_batches = s->replayed;
	out->rejected_batches = s->rejected;
	out->last_backend_rc = s->last_rc;
	out->progress = s->progress;
	snprintf(out->last_backend_error, sizeof(out->last_backend_error), "%s", s->last_err);
	pthread_mutex_unlock(&s->mu);
}

void nsc_spooled_delivered(struct nsc_spooled *s, struct nsc_write_result *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	*out = s->delivered;
	pthread_mutex_unlock(&s->mu);
}

static void face_delivered(void *ctx, struct nsc_write_result *out)
{
	nsc_spooled_delivered(ctx, out);
}

static void face_pending(void *ctx, uint64_t *bytes, uint64_t *batches)
{
	struct nsc_spooled *s = ctx;
	pthread_mutex_lock(&s->mu);
	*bytes = s->pending_bytes;
	*batches = s->q.len;
	pthread_mutex_unlock(&s->mu);
}

static void face_set_drain(void *ctx, int64_t drain_ms)
{
	struct nsc_spooled *s = ctx;
	pthread_mutex_lock(&s->mu);
	s->drain_timeout_ms = drain_ms > 0 ? drain_ms : 0;
	pthread_mutex_unlock(&s->mu);
}

nsc_rc nsc_spooled_wait_empty(struct nsc_spooled *s, int64_t idle_ms)
{
	if (s == NULL)
		return NSC_ERR_INTERNAL;
	if (idle_ms < 0)
		idle_ms = 0;
	pthread_mutex_lock(&s->mu);
	/* The deadline moves with every part of a batch that gets through. */
	int64_t since = sp_now_ms(s);
	for (;;) {
		if (s->progress_ms > since)
			since = s->progress_ms;
		if (s->q.len == 0 || sp_now_ms(s) >= since + idle_ms)
			break;
		sp_wait_until(s, &s->changed, since + idle_ms);
	}
	nsc_rc rc = s->q.len == 0 ? NSC_OK : NSC_ERR_RETRY;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ---- the engine-facing face over a backend --------------------------- */

nsc_rc nsc_spooled_driver_open(const struct nsc_output_driver *backend, const struct nsc_config *cfg,
			       struct nsc_log *log, void **ctx, struct nsc_error *err)
{
	struct nsc_spooled_options o;
	nsc_spooled_options_from_config(&o, cfg);
	return nsc_spooled_open(backend, cfg, log, &o, (struct nsc_spooled **)ctx, err);
}

/* A face cannot know its backend from open()'s arguments: refuse rather than guess. */
static nsc_rc face_open_refused(const struct nsc_config *cfg, struct nsc_log *log, void **ctx,
				struct nsc_error *err)
{
	(void)cfg;
	(void)log;
	*ctx = NULL;
	return nsc_error_set(err, NSC_ERR_INTERNAL,
			     "a spooled output is opened with nsc_output_open(), not its open()");
}

struct nsc_output_driver nsc_spooled_driver(const struct nsc_output_driver *backend)
{
	struct nsc_output_driver d = {
		.name = backend != NULL ? backend->name : NULL,
		.spooled_over = backend,
		.open = face_open_refused,
		.close = nsc_spooled_driver_close,
		.last_known = nsc_spooled_driver_last_known,
		.write = nsc_spooled_driver_write,
		.flush = nsc_spooled_driver_flush,
		.delivered = face_delivered,
		.pending = face_pending,
		.set_drain = face_set_drain,
	};
	return d;
}

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

nsc_rc nsc_spooled_driver_flush(void *ctx, int64_t idle_ms, struct nsc_error *err)
{
	if (nsc_spooled_wait_empty(ctx, idle_ms) == NSC_OK)
		return NSC_OK;
	struct nsc_spooled_status st;
	nsc_spooled_status(ctx, &st);
	return nsc_error_set(err, NSC_ERR_RETRY,
			     "%zu batch(es) still wait in the spool and nothing got through for %lld s; "
			     "the output's last error: %s",
			     st.pending_batches, (long long)(idle_ms / 1000),
			     st.last_backend_error[0] ? st.last_backend_error : "none yet");
}
