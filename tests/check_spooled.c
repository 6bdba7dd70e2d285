/* SPDX-License-Identifier: MIT */
/*
 * The spooled output: write() returns after the local disk only, batches
 * reach the backend once and in order across outages, restarts and crashes,
 * unreadable or refused batches are moved aside, the spool has a limit,
 * last_known combines the backend and the spool, and close() is bounded.
 *
 * The backend is a scripted in-memory store that can be switched down
 * (NSC_ERR_RETRY), blocked inside write(), or told to refuse one batch.
 * It is shared by the test thread and the spool's writer thread, so every
 * field is guarded by its mutex.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "batch.h"
#include "clock.h"
#include "log.h"
#include "log_capture.h"
#include "nsc_check.h"
#include "test_docs.h"
#include "nsc_config.h"
#include "output.h"
#include "outputs/spooled.h"
#include "timeutil.h"

#define T0 INT64_C(1710085200000) /* 2024-03-10T15:40:00.000Z */
#define MIN NSC_MS_PER_MINUTE
#define MAX_ORDER 256

/* ---- the scripted store (the backend) -------------------------------- */

struct store {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool down;           /* write and last_known answer down_rc (NSC_ERR_RETRY unless set) */
	nsc_rc down_rc;
	bool gate_closed;    /* write blocks until the gate opens */
	bool in_write;       /* a write is blocked at the gate */
	int64_t poison_date; /* a batch whose first entry has this date gets NSC_ERR_DROP */
	nsc_rc open_rc;
	int64_t lk_delay_ms; /* last_known takes this long (a slow store) */
	struct nsc_last_known lk;
	struct json_object *docs; /* identifier -> deep copy of the document received */
	int64_t order[MAX_ORDER]; /* first entry date of each batch stored, in arrival order */
	size_t norder;
	size_t write_calls, down_answers, opens, closes, duplicates;
	const struct nsc_clock *clock; /* when set, the time of each write call is noted */
	int64_t write_at[MAX_ORDER];
	int64_t per_doc_ms;            /* write takes this long per document (a slow store) */
	void (*progress)(void *arg);   /* set by the spool: called per document stored */
	void *progress_arg;
};

static struct store store;

static void sleep_ms(int64_t ms);

static void store_reset(void)
{
	memset(&store, 0, sizeof(store));
	ck_assert_int_eq(pthread_mutex_init(&store.mu, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&store.cv, NULL), 0);
	store.docs = json_object_new_object();
	ck_assert_ptr_nonnull(store.docs);
}

static void store_free(void)
{
	json_object_put(store.docs);
	store.docs = NULL;
	pthread_cond_destroy(&store.cv);
	pthread_mutex_destroy(&store.mu);
}

static void store_set_down(bool down)
{
	pthread_mutex_lock(&store.mu);
	store.down = down;
	pthread_mutex_unlock(&store.mu);
}

static void store_set_gate(bool closed)
{
	pthread_mutex_lock(&store.mu);
	store.gate_closed = closed;
	pthread_cond_broadcast(&store.cv);
	pthread_mutex_unlock(&store.mu);
}

/* Reads a counter of the store under its lock. */
static size_t store_get(const size_t *field)
{
	pthread_mutex_lock(&store.mu);
	size_t v = *field;
	pthread_mutex_unlock(&store.mu);
	return v;
}

static bool store_in_write(void)
{
	pthread_mutex_lock(&store.mu);
	bool v = store.in_write;
	pthread_mutex_unlock(&store.mu);
	return v;
}

static nsc_rc sb_open(const struct nsc_config *cfg, struct nsc_log *log, void **ctx, struct nsc_error *err)
{
	pthread_mutex_lock(&store.mu);
	store.opens++;
	nsc_rc rc = store.open_rc;
	pthread_mutex_unlock(&store.mu);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "scripted store: MONGODB_URI names no database");
	*ctx = &store;
	return NSC_OK;
}

static void sb_close(void *ctx)
{
	struct store *st = ctx;
	pthread_mutex_lock(&st->mu);
	st->closes++;
	pthread_mutex_unlock(&st->mu);
}

static nsc_rc sb_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	struct store *st = ctx;
	pthread_mutex_lock(&st->mu);
	int64_t delay = st->lk_delay_ms;
	pthread_mutex_unlock(&st->mu);
	if (delay > 0)
		sleep_ms(delay);
	pthread_mutex_lock(&st->mu);
	if (st->down) {
		st->down_answers++;
		nsc_rc rc = st->down_rc != NSC_OK ? st->down_rc : NSC_ERR_RETRY;
		pthread_mutex_unlock(&st->mu);
		return nsc_error_set(err, rc, "scripted store is down");
	}
	*out = st->lk;
	pthread_mutex_unlock(&st->mu);
	return NSC_OK;
}

static nsc_rc sb_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
		       struct nsc_error *err)
{
	struct store *st = ctx;
	nsc_rc rc = NSC_OK;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&st->mu);
	if (st->write_calls < MAX_ORDER)
		st->write_at[st->write_calls] = st->clock ? nsc_clock_mono(st->clock) : 0;
	st->write_calls++;
	while (st->gate_closed) {
		st->in_write = true;
		pthread_cond_broadcast(&st->cv);
		pthread_cond_wait(&st->cv, &st->mu);
	}
	st->in_write = false;
	if (st->down) {
		st->down_answers++;
		rc = nsc_error_set(err, st->down_rc != NSC_OK ? st->down_rc : NSC_ERR_RETRY,
				   "scripted store is down");
		goto out;
	}
	int64_t key = 0;
	struct json_object *first = nsc_batch_get(b, NSC_COLL_ENTRIES, 0);
	if (first != NULL && nsc_doc_time_ms(first, &key) != NSC_OK)
		key = 0;
	if (st->poison_date != 0 && key == st->poison_date) {
		rc = nsc_error_set(err, NSC_ERR_DROP, "scripted store cannot use this batch");
		goto out;
	}
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		for (size_t i = 0; i < nsc_batch_count(b, (enum nsc_collection)c); i++) {
			struct json_object *doc = nsc_batch_get(b, (enum nsc_collection)c, i), *id, *copy = NULL;
			int64_t t;
			if (!json_object_object_get_ex(doc, "identifier", &id) ||
			    !json_object_is_type(id, json_type_string)) {
				rc = nsc_error_set(err, NSC_ERR_INTERNAL, "document without identifier");
				goto out;
			}
			const char *k = json_object_get_string(id);
			if (json_object_object_get_ex(st->docs, k, NULL)) {
				res->duplicates[c]++;
				st->duplicates++;
				continue;
			}
			if (json_object_deep_copy(doc, &copy, NULL) != 0 ||
			    json_object_object_add(st->docs, k, copy) != 0) {
				json_object_put(copy);
				rc = nsc_error_set(err, NSC_ERR_NOMEM, "oom");
				goto out;
			}
			res->stored[c]++;
			if (nsc_doc_time_ms(doc, &t) == NSC_OK && t > st->lk.ms[c])
				st->lk.ms[c] = t;
			if (st->per_doc_ms > 0) {
				/* A remote store, one request per document. */
				pthread_mutex_unlock(&st->mu);
				sleep_ms(st->per_doc_ms);
				if (st->progress)
					st->progress(st->progress_arg);
				pthread_mutex_lock(&st->mu);
			}
		}
	}
	if (st->norder < MAX_ORDER)
		st->order[st->norder++] = key;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static void sb_set_progress(void *ctx, void (*fn)(void *arg), void *arg)
{
	struct store *st = ctx;
	pthread_mutex_lock(&st->mu);
	st->progress = fn;
	st->progress_arg = arg;
	pthread_mutex_unlock(&st->mu);
}

static const struct nsc_output_driver store_backend = {
	.name = "scripted",
	.open = sb_open,
	.close = sb_close,
	.last_known = sb_last_known,
	.write = sb_write,
	.set_progress = sb_set_progress,
};

/* ---- suite directory, clock, log capture ----------------------------- */

static char suite_root[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void suite_setup(void)
{
	snprintf(suite_root, sizeof(suite_root), "/tmp/nsc-spool-XXXXXX");
	if (mkdtemp(suite_root) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

static void suite_teardown(void)
{
	if (suite_root[0] != '\0')
		nftw(suite_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

#define WAIT_FOR(cond, ms)                                                                   \
	do {                                                                                 \
		int64_t end_ = now_ms() + (ms);                                              \
		while (!(cond)) {                                                            \
			ck_assert_msg(now_ms() < end_, "timed out waiting for %s", #cond);   \
			sleep_ms(2);                                                         \
		}                                                                            \
	} while (0)

struct env {
	char root[128]; /* mkdtemp directory below suite_root */
	char dir[160];  /* root/spool: the spool directory (created by open) */
	struct nsc_log *log;
	struct log_capture cap;
	struct nsc_spooled_options opts;
};

static void env_setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	store_reset();
	snprintf(e->root, sizeof(e->root), "%s/t-XXXXXX", suite_root);
	ck_assert_ptr_nonnull(mkdtemp(e->root));
	snprintf(e->dir, sizeof(e->dir), "%s/spool", e->root);
	e->log = nsc_log_new(NSC_LOG_DEBUG);
	ck_assert_ptr_nonnull(e->log);
	nsc_log_set_sink(e->log, log_capture_sink, &e->cap);
	e->opts.dir = e->dir;
	e->opts.max_bytes = 1u << 20;
	e->opts.drain_timeout_ms = 2000;
	e->opts.retry_min_ms = 10;
	e->opts.retry_max_ms = 40;
}

static void env_teardown(struct env *e)
{
	nsc_log_free(e->log);
	log_capture_free(&e->cap);
	nftw(e->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	store_free();
}

/* Number of captured lines containing every one of needle and needle2 (NULL: any). */
static int log_count(struct env *e, const char *needle, const char *needle2)
{
	return log_capture_count(&e->cap, needle, needle2);
}

static struct nsc_spooled *open_ok(struct env *e)
{
	struct nsc_spooled *s = NULL;
	struct nsc_error err = { 0 };
	nsc_rc rc = nsc_spooled_open(&store_backend, NULL, e->log, &e->opts, &s, &err);
	ck_assert_msg(rc == NSC_OK, "open: %s: %s", nsc_rc_name(rc), err.msg);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* ---- documents and batches ------------------------------------------- */

static void add(struct nsc_batch *b, enum nsc_collection c, struct json_object *doc)
{
	struct nsc_error err = { 0 };
	nsc_rc rc = nsc_batch_add(b, c, doc, &err);
	ck_assert_msg(rc == NSC_OK, "nsc_batch_add: %s", err.msg);
}

/* Spools a batch of one entry at `date`; asserts success. */
static void write_entry(struct nsc_spooled *s, int64_t date)
{
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err = { 0 };
	nsc_batch_init(&b);
	add(&b, NSC_COLL_ENTRIES, test_entry(date, 100 + (int)((date / MIN) % 100)));
	nsc_rc rc = nsc_spooled_write(s, &b, &res, &err);
	ck_assert_msg(rc == NSC_OK, "write: %s: %s", nsc_rc_name(rc), err.msg);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 1);
	nsc_batch_clear(&b);
}

static void path_in(const struct env *e, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", e->dir, name);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static off_t file_size(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* Number of names in dir ending with suffix. */
static int count_files(const char *dir, const char *suffix)
{
	int n = 0;
	size_t sl = strlen(suffix);
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
		size_t l = strlen(de->d_name);
		if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void assert_order(int64_t first, int64_t step, size_t n)
{
	pthread_mutex_lock(&store.mu);
	size_t got = store.norder;
	int64_t order[MAX_ORDER];
	memcpy(order, store.order, sizeof(order));
	pthread_mutex_unlock(&store.mu);
	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(order[i] == first + (int64_t)i * step, "batch %zu arrived as %lld, expected %lld",
			      i, (long long)order[i], (long long)(first + (int64_t)i * step));
}

/* ---- tests ----------------------------------------------------------- */

START_TEST(test_write_returns_before_backend_and_keeps_order)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err = { 0 };
	struct nsc_spooled_status st;
	char path[256];

	env_setup(&e);
	store_set_gate(true);
	struct nsc_spooled *s = open_ok(&e);

	/* The first batch carries types that must survive the disk round trip. */
	nsc_batch_init(&b);
	struct json_object *e0 = test_entry(T0, 110);
	json_object_object_add(e0, "mills", json_object_new_int64(INT64_C(9007199254740993)));
	json_object_object_add(e0, "noise", json_object_new_double(1.0));
	add(&b, NSC_COLL_ENTRIES, e0);
	add(&b, NSC_COLL_TREATMENTS, test_treatment(T0 - 20 * MIN, "Meal Bolus", 4.0));
	add(&b, NSC_COLL_TREATMENTS, test_treatment(T0 - 10 * MIN, "Correction Bolus", 1.5));
	ck_assert_int_eq(nsc_spooled_write(s, &b, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 1);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 2);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 0);

	/* The writer thread is now stuck inside the backend; writes still return. */
	WAIT_FOR(store_in_write(), 2000);
	int64_t t = now_ms();
	write_entry(s, T0 + 5 * MIN);
	write_entry(s, T0 + 10 * MIN);
	ck_assert_int_lt(now_ms() - t, 1000);

	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.pending_batches, 3);
	uint64_t on_disk = 0;
	static const char *const names[] = { "00000000000000000001.batch", "00000000000000000002.batch",
					     "00000000000000000003.batch" };
	for (int i = 0; i < 3; i++) {
		path_in(&e, names[i], path, sizeof(path));
		ck_assert_msg(exists(path), "%s missing", path);
		on_disk += (uint64_t)file_size(path);
	}
	ck_assert_uint_eq(st.pending_bytes, on_disk);
	ck_assert_int_eq(count_files(e.dir, ".batch"), 3);

	/* A spool file is one JSON object holding the four collections. */
	path_in(&e, names[1], path, sizeof(path));
	struct json_object *f = json_object_from_file(path), *arr;
	ck_assert_ptr_nonnull(f);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		ck_assert(json_object_object_get_ex(f, nsc_collection_name((enum nsc_collection)c), &arr));
		ck_assert(json_object_is_type(arr, json_type_array));
	}
	json_object_object_get_ex(f, "entries", &arr);
	ck_assert_uint_eq(json_object_array_length(arr), 1);
	int64_t d = 0;
	ck_assert_int_eq(nsc_doc_time_ms(json_object_array_get_idx(arr, 0), &d), NSC_OK);
	ck_assert_int_eq(d, T0 + 5 * MIN);
	json_object_put(f);

	store_set_gate(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	assert_order(T0, 5 * MIN, 3);
	ck_assert_int_eq(count_files(e.dir, ".batch"), 0);
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.pending_batches, 0);
	ck_assert_uint_eq(st.pending_bytes, 0);
	ck_assert_uint_eq(st.replayed_batches, 3);
	ck_assert_uint_eq(st.rejected_batches, 0);
	ck_assert_int_eq(st.last_backend_rc, NSC_OK);

	/* The backend received the very documents nsc_batch_add completed, with their types. */
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		for (size_t i = 0; i < nsc_batch_count(&b, (enum nsc_collection)c); i++) {
			struct json_object *orig = nsc_batch_get(&b, (enum nsc_collection)c, i), *id, *got;
			ck_assert(json_object_object_get_ex(orig, "identifier", &id));
			pthread_mutex_lock(&store.mu);
			ck_assert(json_object_object_get_ex(store.docs, json_object_get_string(id), &got));
			ck_assert_msg(json_object_equal(orig, got), "%s changed on the way: %s", nsc_collection_name((enum nsc_collection)c),
				      json_object_to_json_string(got));
			pthread_mutex_unlock(&store.mu);
		}
	}
	struct json_object *tr = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0), *id, *got, *v;
	json_object_object_get_ex(tr, "identifier", &id);
	pthread_mutex_lock(&store.mu);
	json_object_object_get_ex(store.docs, json_object_get_string(id), &got);
	ck_assert(json_object_object_get_ex(got, "insulin", &v));
	ck_assert(json_object_is_type(v, json_type_double));
	ck_assert(json_object_get_double(v) == 4.0);
	pthread_mutex_unlock(&store.mu);
	json_object_object_get_ex(e0, "identifier", &id);
	pthread_mutex_lock(&store.mu);
	json_object_object_get_ex(store.docs, json_object_get_string(id), &got);
	ck_assert(json_object_object_get_ex(got, "mills", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int64(v), INT64_C(9007199254740993));
	ck_assert(json_object_object_get_ex(got, "noise", &v));
	ck_assert(json_object_is_type(v, json_type_double));
	pthread_mutex_unlock(&store.mu);

	nsc_spooled_close(s);
	ck_assert_uint_eq(store_get(&store.closes), 1);
	nsc_batch_clear(&b);
	env_teardown(&e);
}
END_TEST

START_TEST(test_outage_then_recovery_delivers_all_once_in_order)
{
	struct env e;
	struct nsc_spooled_status st;

	env_setup(&e);
	store_set_down(true);
	struct nsc_spooled *s = open_ok(&e);
	for (int i = 0; i < 20; i++)
		write_entry(s, T0 + i * 5 * MIN);

	/* The writer keeps trying (short backoff in tests) and keeps everything. */
	WAIT_FOR(store_get(&store.down_answers) >= 4, 3000);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 50), NSC_ERR_RETRY);
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.pending_batches, 20);
	ck_assert_int_eq(st.last_backend_rc, NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(st.last_backend_error, "scripted store is down"));
	ck_assert_uint_eq(store_get(&store.norder), 0);

	store_set_down(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	assert_order(T0, 5 * MIN, 20);
	ck_assert_uint_eq(store_get(&store.duplicates), 0);
	pthread_mutex_lock(&store.mu);
	ck_assert_int_eq(json_object_object_length(store.docs), 20);
	pthread_mutex_unlock(&store.mu);

	/* One line when it went down, one when it was back, however many retries in between. */
	ck_assert_int_eq(log_count(&e, "event=output_down", NULL), 1);
	ck_assert_int_eq(log_count(&e, "event=output_down", "level=warn"), 1);
	ck_assert_int_eq(log_count(&e, "event=output_down", "scripted store is down"), 1);
	ck_assert_int_eq(log_count(&e, "event=output_recovered", NULL), 1);
	ck_assert_int_eq(log_count(&e, "event=output_recovered", "replayed=20"), 1);
	ck_assert_int_eq(log_count(&e, "event=output_recovered", "level=info"), 1);
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.replayed_batches, 20);
	ck_assert_int_eq(st.last_backend_rc, NSC_OK);
	nsc_spooled_close(s);
	env_teardown(&e);
}
END_TEST

START_TEST(test_auth_verdict_waits_like_retry)
{
	struct env e;
	struct nsc_spooled_status st;

	env_setup(&e);
	pthread_mutex_lock(&store.mu);
	store.down = true;
	store.down_rc = NSC_ERR_AUTH; /* e.g. a token the store no longer accepts */
	pthread_mutex_unlock(&store.mu);
	struct nsc_spooled *s = open_ok(&e);
	write_entry(s, T0);
	write_entry(s, T0 + 5 * MIN);
	WAIT_FOR(store_get(&store.down_answers) >= 4, 3000);
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.pending_batches, 2);
	ck_assert_uint_eq(st.rejected_batches, 0);
	ck_assert_int_eq(st.last_backend_rc, NSC_ERR_AUTH);
	ck_assert_int_eq(log_count(&e, "event=output_down", "rc=NSC_ERR_AUTH"), 1);
	store_set_down(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	assert_order(T0, 5 * MIN, 2);
	nsc_spooled_close(s);
	env_teardown(&e);
}
END_TEST

START_TEST(test_spool_survives_restart)
{
	struct env e;
	struct nsc_spooled_status st;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };

	env_setup(&e);
	store_set_down(true);
	e.opts.drain_timeout_ms = 50;
	struct nsc_spooled *s = open_ok(&e);
	for (int i = 0; i < 5; i++)
		write_entry(s, T0 + i * 5 * MIN);
	nsc_spooled_close(s);
	ck_assert_uint_eq(store_get(&store.closes), 1);
	ck_assert_uint_eq(store_get(&store.norder), 0);
	ck_assert_int_eq(count_files(e.dir, ".batch"), 5);
	ck_assert_int_eq(log_count(&e, "event=closed", "pending_batches=5"), 1);

	/* Next start, with the store still down: the spool alone answers last_known. */
	uint64_t on_disk = 0;
	for (int i = 1; i <= 5; i++) {
		char name[64], path[256];
		snprintf(name, sizeof(name), "%020d.batch", i);
		path_in(&e, name, path, sizeof(path));
		on_disk += (uint64_t)file_size(path);
	}
	s = open_ok(&e);
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.pending_batches, 5);
	ck_assert_uint_eq(st.pending_bytes, on_disk);
	ck_assert_int_eq(log_count(&e, "event=open", "pending_batches=5"), 1);
	ck_assert_int_eq(nsc_spooled_last_known(s, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0 + 20 * MIN);
	ck_assert_int_eq(lk.ms[NSC_COLL_TREATMENTS], 0);
	store_set_down(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	assert_order(T0, 5 * MIN, 5);
	nsc_spooled_close(s);
	ck_assert_int_eq(count_files(e.dir, ".batch"), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(test_crash_leftovers_cleaned_and_rejected)
{
	struct env e;
	struct nsc_spooled_status st;
	char path[256], rej[256];

	env_setup(&e);
	store_set_down(true);
	e.opts.drain_timeout_ms = 0;
	struct nsc_spooled *s = open_ok(&e);
	for (int i = 0; i < 3; i++)
		write_entry(s, T0 + i * 5 * MIN);
	nsc_spooled_close(s);

	/* What a crash and a broken disk could leave: a torn temporary, a half-written batch, garbage. */
	path_in(&e, "00000000000000000002.batch", path, sizeof(path));
	ck_assert_int_eq(truncate(path, file_size(path) / 2), 0);
	path_in(&e, ".tmp-00000000000000000004", path, sizeof(path));
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("{\"entries\":[{\"type\":\"sgv\",\"sg", fp);
	fclose(fp);
	path_in(&e, "00000000000000000005.batch", path, sizeof(path));
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("{\"entries\":[]}", fp);
	fclose(fp);

	s = open_ok(&e);
	path_in(&e, ".tmp-00000000000000000004", path, sizeof(path));
	ck_assert(!exists(path));
	ck_assert_int_eq(log_count(&e, "event=stale_tmp_removed", ".tmp-00000000000000000004"), 1);
	/* The sequence continues after the highest file left. */
	write_entry(s, T0 + 30 * MIN);
	path_in(&e, "00000000000000000006.batch", path, sizeof(path));
	ck_assert(exists(path));

	store_set_down(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	pthread_mutex_lock(&store.mu);
	ck_assert_uint_eq(store.norder, 3);
	ck_assert_int_eq(store.order[0], T0);
	ck_assert_int_eq(store.order[1], T0 + 10 * MIN);
	ck_assert_int_eq(store.order[2], T0 + 30 * MIN);
	pthread_mutex_unlock(&store.mu);

	snprintf(rej, sizeof(rej), "%s/rejected/00000000000000000002.batch", e.dir);
	ck_assert(exists(rej));
	snprintf(rej, sizeof(rej), "%s/rejected/00000000000000000005.batch", e.dir);
	ck_assert(exists(rej));
	ck_assert_int_eq(count_files(e.dir, ".batch"), 0);
	ck_assert_int_eq(log_count(&e, "event=batch_rejected", "00000000000000000002.batch"), 1);
	ck_assert_int_eq(log_count(&e, "event=batch_rejected", "level=error"), 2);
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.rejected_batches, 2);
	ck_assert_uint_eq(st.replayed_batches, 3);
	nsc_spooled_close(s);
	env_teardown(&e);
}
END_TEST

START_TEST(test_drop_verdict_moves_batch_aside)
{
	struct env e;
	struct nsc_spooled_status st;
	char rej[256];

	env_setup(&e);
	pthread_mutex_lock(&store.mu);
	store.poison_date = T0 + 5 * MIN;
	pthread_mutex_unlock(&store.mu);
	struct nsc_spooled *s = open_ok(&e);
	for (int i = 0; i < 4; i++)
		write_entry(s, T0 + i * 5 * MIN);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);

	pthread_mutex_lock(&store.mu);
	ck_assert_uint_eq(store.norder, 3);
	ck_assert_int_eq(store.order[0], T0);
	ck_assert_int_eq(store.order[1], T0 + 10 * MIN);
	ck_assert_int_eq(store.order[2], T0 + 15 * MIN);
	pthread_mutex_unlock(&store.mu);
	snprintf(rej, sizeof(rej), "%s/rejected/00000000000000000002.batch", e.dir);
	ck_assert(exists(rej));
	ck_assert_int_eq(count_files(e.dir, ".batch"), 0);
	ck_assert_int_eq(log_count(&e, "event=batch_rejected", "rejected/00000000000000000002.batch"), 1);
	ck_assert_int_eq(log_count(&e, "event=batch_rejected", "scripted store cannot use this batch"), 1);
	ck_assert_int_eq(log_count(&e, "event=batch_rejected", "rc=NSC_ERR_DROP"), 1);
	/* A refused batch is no outage. */
	ck_assert_int_eq(log_count(&e, "event=output_down", NULL), 0);
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.rejected_batches, 1);
	ck_assert_uint_eq(st.replayed_batches, 3);
	nsc_spooled_close(s);

	/* After a restart on an empty spool, a new rejection never replaces an earlier one. */
	pthread_mutex_lock(&store.mu);
	store.poison_date = T0 + 25 * MIN;
	pthread_mutex_unlock(&store.mu);
	s = open_ok(&e);
	write_entry(s, T0 + 20 * MIN);
	write_entry(s, T0 + 25 * MIN);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	nsc_spooled_close(s);
	snprintf(rej, sizeof(rej), "%s/rejected", e.dir);
	ck_assert_int_eq(count_files(rej, ".batch"), 2);
	snprintf(rej, sizeof(rej), "%s/rejected/00000000000000000002.batch", e.dir);
	struct json_object *f = json_object_from_file(rej), *arr;
	ck_assert_ptr_nonnull(f);
	ck_assert(json_object_object_get_ex(f, "entries", &arr));
	int64_t d = 0;
	ck_assert_int_eq(nsc_doc_time_ms(json_object_array_get_idx(arr, 0), &d), NSC_OK);
	ck_assert_int_eq(d, T0 + 5 * MIN);
	json_object_put(f);
	env_teardown(&e);
}
END_TEST

START_TEST(test_spool_full_refuses_then_accepts)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	struct nsc_spooled_status st;
	char path[256], want[512];

	env_setup(&e);
	store_set_down(true);
	e.opts.max_bytes = 1; /* smaller than any batch */
	struct nsc_spooled *s = open_ok(&e);

	/* An empty spool takes a batch of any size (a first backfill). */
	write_entry(s, T0);
	path_in(&e, "00000000000000000001.batch", path, sizeof(path));
	off_t one = file_size(path);

	nsc_batch_init(&b);
	add(&b, NSC_COLL_ENTRIES, test_entry(T0 + 5 * MIN, 120));
	ck_assert_int_eq(nsc_spooled_write(s, &b, NULL, &err), NSC_ERR_RETRY);
	snprintf(want, sizeof(want),
		 "spool full: %lld bytes pending in %s; the output is not keeping up or is down",
		 (long long)one, e.dir);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(count_files(e.dir, ".batch"), 1);
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.pending_batches, 1);

	store_set_down(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	ck_assert_int_eq(nsc_spooled_write(s, &b, NULL, &err), NSC_OK);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	assert_order(T0, 5 * MIN, 2);
	nsc_spooled_close(s);
	nsc_batch_clear(&b);

	/* A limit of two and a half batches holds two. */
	store_set_down(true);
	e.opts.max_bytes = (uint64_t)one * 5 / 2;
	s = open_ok(&e);
	write_entry(s, T0 + 10 * MIN);
	write_entry(s, T0 + 15 * MIN);
	nsc_batch_init(&b);
	add(&b, NSC_COLL_ENTRIES, test_entry(T0 + 20 * MIN, 130));
	ck_assert_int_eq(nsc_spooled_write(s, &b, NULL, &err), NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(err.msg, "spool full: "));
	nsc_spooled_status(s, &st);
	ck_assert_uint_eq(st.pending_batches, 2);
	ck_assert_uint_eq(st.pending_bytes, (uint64_t)one * 2);
	store_set_down(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	ck_assert_int_eq(nsc_spooled_write(s, &b, NULL, &err), NSC_OK);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	assert_order(T0, 5 * MIN, 5);
	nsc_spooled_close(s);
	nsc_batch_clear(&b);
	env_teardown(&e);
}
END_TEST

START_TEST(test_last_known_is_max_of_backend_and_spool)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };

	env_setup(&e);
	pthread_mutex_lock(&store.mu);
	store.lk.ms[NSC_COLL_ENTRIES] = T0;
	store.lk.ms[NSC_COLL_TREATMENTS] = T0 + 10 * MIN;
	store.lk.ms[NSC_COLL_PROFILE] = T0 - 60 * MIN;
	store.lk_delay_ms = 100;
	pthread_mutex_unlock(&store.mu);
	struct nsc_spooled *s = open_ok(&e);

	/* Right after start it already knows what the store holds (it waits for a slow first answer). */
	ck_assert_int_eq(nsc_spooled_last_known(s, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0);
	ck_assert_int_eq(lk.ms[NSC_COLL_TREATMENTS], T0 + 10 * MIN);
	ck_assert_int_eq(lk.ms[NSC_COLL_DEVICESTATUS], 0);
	ck_assert_int_eq(lk.ms[NSC_COLL_PROFILE], T0 - 60 * MIN);
	pthread_mutex_lock(&store.mu);
	store.lk_delay_ms = 0;
	pthread_mutex_unlock(&store.mu);

	/* While down, the spool's newer entries count; its older treatment does not. */
	store_set_down(true);
	nsc_batch_init(&b);
	add(&b, NSC_COLL_ENTRIES, test_entry(T0 + 30 * MIN, 140));
	add(&b, NSC_COLL_TREATMENTS, test_treatment(T0 - 5 * MIN, "Meal Bolus", 2.0));
	ck_assert_int_eq(nsc_spooled_write(s, &b, NULL, &err), NSC_OK);
	nsc_batch_clear(&b);
	ck_assert_int_eq(nsc_spooled_last_known(s, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0 + 30 * MIN);
	ck_assert_int_eq(lk.ms[NSC_COLL_TREATMENTS], T0 + 10 * MIN);
	ck_assert_int_eq(lk.ms[NSC_COLL_DEVICESTATUS], 0);
	ck_assert_int_eq(lk.ms[NSC_COLL_PROFILE], T0 - 60 * MIN);

	/* Replayed: the same answer, now from what the backend took. */
	store_set_down(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	ck_assert_int_eq(nsc_spooled_last_known(s, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0 + 30 * MIN);
	ck_assert_int_eq(lk.ms[NSC_COLL_TREATMENTS], T0 + 10 * MIN);
	nsc_spooled_close(s);

	/* Store down at start: its part counts as 0 until its answer arrives. */
	store_set_down(true);
	pthread_mutex_lock(&store.mu);
	store.lk.ms[NSC_COLL_ENTRIES] = T0 + 60 * MIN;
	pthread_mutex_unlock(&store.mu);
	s = open_ok(&e);
	ck_assert_int_eq(nsc_spooled_last_known(s, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], 0);
	write_entry(s, T0 + 40 * MIN);
	ck_assert_int_eq(nsc_spooled_last_known(s, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0 + 40 * MIN);
	ck_assert_int_eq(lk.ms[NSC_COLL_TREATMENTS], 0);
	store_set_down(false);
	int64_t end = now_ms() + 3000;
	do {
		ck_assert_int_eq(nsc_spooled_last_known(s, &lk, &err), NSC_OK);
		if (lk.ms[NSC_COLL_ENTRIES] == T0 + 60 * MIN)
			break;
		sleep_ms(2);
	} while (now_ms() < end);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0 + 60 * MIN);
	ck_assert_int_eq(lk.ms[NSC_COLL_TREATMENTS], T0 + 10 * MIN);
	nsc_spooled_close(s);
	env_teardown(&e);
}
END_TEST

START_TEST(test_close_is_bounded_when_backend_down)
{
	struct env e;

	env_setup(&e);
	store_set_down(true);
	e.opts.retry_min_ms = 10000; /* a long backoff must not hold close */
	e.opts.retry_max_ms = 60000;
	e.opts.drain_timeout_ms = 300;
	struct nsc_spooled *s = open_ok(&e);
	for (int i = 0; i < 3; i++)
		write_entry(s, T0 + i * 5 * MIN);
	WAIT_FOR(store_get(&store.write_calls) >= 1, 2000);
	int64_t t = now_ms();
	nsc_spooled_close(s);
	int64_t took = now_ms() - t;
	ck_assert_msg(took < 3 * 300, "close took %lld ms", (long long)took);
	/* It did keep the drain window while batches were pending. */
	ck_assert_msg(took >= 250, "close took only %lld ms", (long long)took);
	ck_assert_int_eq(count_files(e.dir, ".batch"), 3);
	ck_assert_uint_eq(store_get(&store.closes), 1);
	env_teardown(&e);
}
END_TEST

static void *bring_store_up_later(void *arg)
{
	(void)arg;
	sleep_ms(100);
	store_set_down(false);
	return NULL;
}

START_TEST(test_close_drains_when_backend_returns)
{
	struct env e;
	pthread_t th;

	env_setup(&e);
	store_set_down(true);
	e.opts.drain_timeout_ms = 5000;
	struct nsc_spooled *s = open_ok(&e);
	for (int i = 0; i < 5; i++)
		write_entry(s, T0 + i * 5 * MIN);
	ck_assert_int_eq(pthread_create(&th, NULL, bring_store_up_later, NULL), 0);
	int64_t t = now_ms();
	nsc_spooled_close(s);
	int64_t took = now_ms() - t;
	pthread_join(th, NULL);
	assert_order(T0, 5 * MIN, 5);
	ck_assert_int_eq(count_files(e.dir, ".batch"), 0);
	ck_assert_msg(took < 2000, "close took %lld ms", (long long)took);
	env_teardown(&e);
}
END_TEST

struct stored_count {
	pthread_mutex_t mu;
	size_t calls, stored, duplicates;
};

static void on_stored(void *arg, const struct nsc_write_result *res)
{
	struct stored_count *c = arg;
	pthread_mutex_lock(&c->mu);
	c->calls++;
	for (int i = 0; i < NSC_COLL_COUNT; i++) {
		c->stored += res->stored[i];
		c->duplicates += res->duplicates[i];
	}
	pthread_mutex_unlock(&c->mu);
}

static size_t stored_calls(struct stored_count *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = c->calls;
	pthread_mutex_unlock(&c->mu);
	return n;
}

START_TEST(test_stored_callback_once_per_replayed_batch)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_error err = { 0 };
	struct stored_count sc = { 0 };

	env_setup(&e);
	ck_assert_int_eq(pthread_mutex_init(&sc.mu, NULL), 0);
	e.opts.stored = on_stored;
	e.opts.stored_arg = &sc;
	struct nsc_spooled *s = open_ok(&e);

	nsc_batch_init(&b);
	add(&b, NSC_COLL_ENTRIES, test_entry(T0, 100));
	add(&b, NSC_COLL_ENTRIES, test_entry(T0 + 5 * MIN, 105));
	ck_assert_int_eq(nsc_spooled_write(s, &b, NULL, &err), NSC_OK);
	nsc_batch_clear(&b);
	add(&b, NSC_COLL_ENTRIES, test_entry(T0 + 5 * MIN, 105)); /* already stored */
	add(&b, NSC_COLL_ENTRIES, test_entry(T0 + 10 * MIN, 110));
	add(&b, NSC_COLL_TREATMENTS, test_treatment(T0 + 7 * MIN, "Meal Bolus", 3.0));
	ck_assert_int_eq(nsc_spooled_write(s, &b, NULL, &err), NSC_OK);
	nsc_batch_clear(&b);
	write_entry(s, T0 + 15 * MIN);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	ck_assert_uint_eq(stored_calls(&sc), 3);
	ck_assert_uint_eq(sc.stored, 5);
	ck_assert_uint_eq(sc.duplicates, 1);

	/* Failed attempts call nothing. */
	store_set_down(true);
	write_entry(s, T0 + 20 * MIN);
	WAIT_FOR(store_get(&store.down_answers) >= 3, 3000);
	ck_assert_uint_eq(stored_calls(&sc), 3);
	store_set_down(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	ck_assert_uint_eq(stored_calls(&sc), 4);
	nsc_spooled_close(s);
	ck_assert_uint_eq(stored_calls(&sc), 4);
	pthread_mutex_destroy(&sc.mu);
	env_teardown(&e);
}
END_TEST

START_TEST(test_killed_writer_loses_nothing)
{
	struct env e;
	int status = 0;

	env_setup(&e);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A process killed without close(): what write() acknowledged is on disk. */
		struct nsc_spooled *s = NULL;
		struct nsc_error err = { 0 };
		store_set_down(true);
		if (nsc_spooled_open(&store_backend, NULL, e.log, &e.opts, &s, &err) != NSC_OK)
			_exit(2);
		for (int i = 0; i < 6; i++) {
			struct nsc_batch b;
			nsc_batch_init(&b);
			if (nsc_batch_add(&b, NSC_COLL_ENTRIES, test_entry(T0 + i * 5 * MIN, 100), &err) != NSC_OK ||
			    nsc_spooled_write(s, &b, NULL, &err) != NSC_OK)
				_exit(3);
			nsc_batch_clear(&b);
		}
		raise(SIGKILL); /* no close, no atexit, no flush: as if killed */
		_exit(4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
	ck_assert_int_eq(count_files(e.dir, ".batch"), 6);

	struct nsc_spooled *s = open_ok(&e);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 5000), NSC_OK);
	assert_order(T0, 5 * MIN, 6);
	nsc_spooled_close(s);
	env_teardown(&e);
}
END_TEST

START_TEST(test_backend_open_failure_surfaces)
{
	struct env e;
	struct nsc_spooled *s = NULL;
	struct nsc_error err = { 0 };

	env_setup(&e);
	pthread_mutex_lock(&store.mu);
	store.open_rc = NSC_ERR_CONFIG;
	pthread_mutex_unlock(&store.mu);
	ck_assert_int_eq(nsc_spooled_open(&store_backend, NULL, e.log, &e.opts, &s, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err.msg, "MONGODB_URI names no database"));
	ck_assert_uint_eq(store_get(&store.closes), 0);

	/* Nothing was left holding the spool. */
	pthread_mutex_lock(&store.mu);
	store.open_rc = NSC_OK;
	pthread_mutex_unlock(&store.mu);
	s = open_ok(&e);
	nsc_spooled_close(s);
	env_teardown(&e);
}
END_TEST

START_TEST(test_one_spool_per_directory)
{
	struct env e;
	struct nsc_spooled *s2 = NULL;
	struct nsc_error err = { 0 };
	char path[256];

	env_setup(&e);
	struct nsc_spooled *s = open_ok(&e);
	ck_assert_int_eq(nsc_spooled_open(&store_backend, NULL, e.log, &e.opts, &s2, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_null(s2);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_SPOOL_DIR"));
	ck_assert_ptr_nonnull(strstr(err.msg, e.dir));
	nsc_spooled_close(s);

	/* A spool directory whose parent is missing is a configuration error naming the setting. */
	snprintf(path, sizeof(path), "%s/missing/spool", e.root);
	e.opts.dir = path;
	ck_assert_int_eq(nsc_spooled_open(&store_backend, NULL, e.log, &e.opts, &s2, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_SPOOL_DIR"));
	ck_assert_uint_eq(store_get(&store.opens), 1);
	env_teardown(&e);
}
END_TEST


/* The writer's waits are the engine's backoff, on the clock it is given. */
START_TEST(test_retry_backoff_on_virtual_clock)
{
	struct env e;
	struct nsc_fake_clock fc;
	struct nsc_clock clock;
	env_setup(&e);
	nsc_fake_clock_init(&fc, T0, &clock);
	e.opts.clock = &clock;
	e.opts.retry_min_ms = 2000;
	e.opts.retry_max_ms = 60000;
	e.opts.rng_seed = 7;
	store.clock = &clock;
	store_set_down(true);
	struct nsc_spooled *s = open_ok(&e);
	write_entry(s, T0);
	/* Let 40 virtual seconds pass in 50 ms steps, giving the writer real time after each. */
	for (int i = 0; i < 800; i++) {
		pthread_mutex_lock(&store.mu);
		nsc_fake_clock_advance(&fc, 50);
		pthread_mutex_unlock(&store.mu);
		sleep_ms(1);
	}
	size_t calls = store_get(&store.write_calls);
	/* Attempts at 0, 2, 6, 14, 30 s nominal (jitter adds at most 20 % each). */
	ck_assert_uint_ge(calls, 4);
	ck_assert_uint_le(calls, 5);
	bool jittered = false;
	for (size_t k = 1; k < calls; k++) {
		int64_t gap = store.write_at[k] - store.write_at[k - 1];
		int64_t nominal = 2000LL << (k - 1);
		ck_assert_msg(gap >= nominal && gap <= nominal * 12 / 10 + 100,
			      "retry %zu came %lld ms after the one before (nominal %lld)", k,
			      (long long)gap, (long long)nominal);
		jittered |= gap > nominal + 100;
	}
	ck_assert_msg(jittered, "the waits carry jitter");
	store_set_down(false);
	for (int i = 0; i < 1300 && store_get(&store.write_calls) == calls; i++) {
		pthread_mutex_lock(&store.mu);
		nsc_fake_clock_advance(&fc, 50);
		pthread_mutex_unlock(&store.mu);
		sleep_ms(1);
	}
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 2000), NSC_OK);
	nsc_spooled_close(s);
	env_teardown(&e);
}
END_TEST

/* Waiting for the spool: as long as parts of a batch get through, without a fixed end. */
START_TEST(test_wait_follows_progress)
{
	struct env e;
	env_setup(&e);
	store.per_doc_ms = 25;
	struct nsc_spooled *s = open_ok(&e);
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err = { 0 };
	nsc_batch_init(&b);
	for (int i = 0; i < 24; i++)
		add(&b, NSC_COLL_ENTRIES, test_entry(T0 - i * 5 * MIN, 100 + i));
	ck_assert_int_eq(nsc_spooled_write(s, &b, &res, &err), NSC_OK);
	nsc_batch_clear(&b);
	/* 24 documents at 25 ms each: 600 ms in all, never 150 ms without one getting through. */
	int64_t t0 = now_ms();
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 150), NSC_OK);
	ck_assert_int_ge(now_ms() - t0, 500);
	ck_assert_uint_eq(json_object_object_length(store.docs), 24);
	struct nsc_spooled_status st;
	nsc_spooled_status(s, &st);
	ck_assert_uint_ge(st.progress, 25); /* each document, and the batch */

	/* A store that does not answer: the wait gives up once nothing moved for its bound. */
	store_set_gate(true);
	write_entry(s, T0 + 5 * MIN);
	WAIT_FOR(store_in_write(), 2000);
	t0 = now_ms();
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 150), NSC_ERR_RETRY);
	int64_t waited = now_ms() - t0;
	ck_assert_int_ge(waited, 140);
	ck_assert_int_lt(waited, 1000);
	ck_assert_int_eq(nsc_spooled_driver_flush(s, 100, &err), NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(err.msg, "nothing got through"));
	store_set_gate(false);
	ck_assert_int_eq(nsc_spooled_wait_empty(s, 2000), NSC_OK);
	nsc_spooled_close(s);
	env_teardown(&e);
}
END_TEST

START_TEST(test_options_from_config)
{
	struct nsc_config cfg;
	struct nsc_spooled_options o;
	char dir[] = "/var/lib/nsconnect/spool";

	memset(&cfg, 0, sizeof(cfg));
	memset(&o, 0xff, sizeof(o));
	nsc_spooled_options_from_config(&o, &cfg);
	ck_assert_str_eq(o.dir, "./nsconnect-spool");
	ck_assert_uint_eq(o.max_bytes, UINT64_C(256) * 1024 * 1024);
	ck_assert_int_eq(o.drain_timeout_ms, 5000);
	ck_assert_int_eq(o.retry_min_ms, 2000);
	ck_assert_int_eq(o.retry_max_ms, 60000);
	ck_assert(o.stored == NULL);
	ck_assert_ptr_null(o.stored_arg);

	cfg.spool_dir = dir;
	cfg.spool_max_bytes = UINT64_C(5) * 1024 * 1024;
	nsc_spooled_options_from_config(&o, &cfg);
	ck_assert_str_eq(o.dir, dir);
	ck_assert_uint_eq(o.max_bytes, UINT64_C(5) * 1024 * 1024);
}
END_TEST

/* How the registry wraps a remote output: an engine-facing face over a backend, built at run time. */
START_TEST(test_driver_face)
{
	const struct nsc_output_driver test_spooled_output = nsc_spooled_driver(&store_backend);
	struct env e;
	struct nsc_config cfg;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };
	void *ctx = NULL;

	env_setup(&e);
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = e.dir;
	ck_assert_str_eq(test_spooled_output.name, "scripted");
	ck_assert_ptr_eq(test_spooled_output.spooled_over, &store_backend);
	ck_assert_int_eq(test_spooled_output.open(&cfg, e.log, &ctx, &err), NSC_ERR_INTERNAL);
	ck_assert_ptr_null(ctx);
	ck_assert_int_eq(nsc_output_open(&test_spooled_output, &cfg, e.log, &ctx, &err), NSC_OK);
	ck_assert_ptr_nonnull(ctx);
	nsc_batch_init(&b);
	add(&b, NSC_COLL_ENTRIES, test_entry(T0, 100));
	ck_assert_int_eq(test_spooled_output.write(ctx, &b, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 1);
	nsc_batch_clear(&b);
	ck_assert_int_eq(test_spooled_output.last_known(ctx, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0);
	WAIT_FOR(store_get(&store.norder) == 1, 3000);
	test_spooled_output.close(ctx);
	ck_assert_uint_eq(store_get(&store.closes), 1);
	env_teardown(&e);
}
END_TEST

/* The registry holds each output once; only the remote ones reach the engine through the spool. */
START_TEST(test_registry_wraps_remote)
{
	const enum nsc_output_kind remote[] = { NSC_OUTPUT_REST, NSC_OUTPUT_REST3,
#ifdef HAVE_MONGOC
						NSC_OUTPUT_MONGO,
#endif
	};
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		const struct nsc_output_driver *face = nsc_output_driver_for(remote[i]);
		const struct nsc_output_driver *backend = nsc_output_backend_for(remote[i]);
		ck_assert_ptr_nonnull(face);
		ck_assert_ptr_nonnull(backend);
		ck_assert_ptr_ne(face, backend);
		ck_assert_ptr_eq(face->spooled_over, backend);
		ck_assert_ptr_null(backend->spooled_over);
		ck_assert_str_eq(face->name, backend->name);
		ck_assert(face->write == nsc_spooled_driver_write);
		ck_assert(face->flush == nsc_spooled_driver_flush);
		ck_assert_ptr_eq(nsc_output_driver_for(remote[i]), face); /* built once */
	}
	const struct nsc_output_driver *fs = nsc_output_driver_for(NSC_OUTPUT_FILESYSTEM);
	ck_assert_ptr_eq(fs, nsc_output_backend_for(NSC_OUTPUT_FILESYSTEM));
	ck_assert_ptr_null(fs->spooled_over);
	ck_assert_ptr_null(nsc_output_driver_for(NSC_OUTPUT_AUTO));
	ck_assert_ptr_null(nsc_output_backend_for(NSC_OUTPUT_AUTO));
}
END_TEST

static Suite *spooled_suite(void)
{
	Suite *s = suite_create("spooled");
	TCase *tc = tcase_create("spooled");
	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_write_returns_before_backend_and_keeps_order);
	tcase_add_test(tc, test_outage_then_recovery_delivers_all_once_in_order);
	tcase_add_test(tc, test_auth_verdict_waits_like_retry);
	tcase_add_test(tc, test_spool_survives_restart);
	tcase_add_test(tc, test_crash_leftovers_cleaned_and_rejected);
	tcase_add_test(tc, test_drop_verdict_moves_batch_aside);
	tcase_add_test(tc, test_spool_full_refuses_then_accepts);
	tcase_add_test(tc, test_last_known_is_max_of_backend_and_spool);
	tcase_add_test(tc, test_close_is_bounded_when_backend_down);
	tcase_add_test(tc, test_close_drains_when_backend_returns);
	tcase_add_test(tc, test_stored_callback_once_per_replayed_batch);
	tcase_add_test(tc, test_killed_writer_loses_nothing);
	tcase_add_test(tc, test_backend_open_failure_surfaces);
	tcase_add_test(tc, test_one_spool_per_directory);
	tcase_add_test(tc, test_options_from_config);
	tcase_add_test(tc, test_retry_backoff_on_virtual_clock);
	tcase_add_test(tc, test_wait_follows_progress);
	tcase_add_test(tc, test_driver_face);
	tcase_add_test(tc, test_registry_wraps_remote);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(spooled_suite)
