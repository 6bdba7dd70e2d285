/* SPDX-License-Identifier: MIT */
/*
 * The filesystem output: JSON lines per collection, idempotent writes,
 * last-known from what the files hold, torn and invalid lines survived,
 * and I/O failures that leave nothing half-written or marked as held.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "batch.h"
#include "log.h"
#include "log_capture.h"
#include "nsc_check.h"
#include "test_docs.h"
#include "nsc_config.h"
#include "output.h"
#include "outputs/filesystem.h"
#include "outputs/id_set.h"
#include "timeutil.h"

#define T0 INT64_C(1710085200000) /* 2024-03-10T15:40:00.000Z */
#define MIN NSC_MS_PER_MINUTE

static const struct nsc_output_driver *const fs = &nsc_output_filesystem;

/*
 * Every test works below one directory that the parent process creates and
 * removes (an unchecked fixture), so a failed test leaves nothing behind.
 */
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
	snprintf(suite_root, sizeof(suite_root), "/tmp/nsc-fs-XXXXXX");
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

/* ---- fixtures -------------------------------------------------------- */

struct env {
	char root[128];    /* mkdtemp directory below suite_root */
	char dir[160];     /* root/out: the output directory (created by open) */
	struct nsc_config cfg;
	struct nsc_log *log;
	struct log_capture out;
};

static void env_setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->root, sizeof(e->root), "%s/t-XXXXXX", suite_root);
	ck_assert_ptr_nonnull(mkdtemp(e->root));
	snprintf(e->dir, sizeof(e->dir), "%s/out", e->root);
	nsc_config_init(&e->cfg);
	e->cfg.output = NSC_OUTPUT_FILESYSTEM;
	e->cfg.output_dir = strdup(e->dir);
	ck_assert_ptr_nonnull(e->cfg.output_dir);
	e->log = nsc_log_new(NSC_LOG_DEBUG);
	ck_assert_ptr_nonnull(e->log);
	nsc_log_set_sink(e->log, log_capture_sink, &e->out);
}

static void env_path(const struct env *e, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", e->dir, name);
}

static void env_teardown(struct env *e)
{
	static const char *const files[] = { "entries.jsonl", "treatments.jsonl", "devicestatus.jsonl",
					     "profile.jsonl" };
	char path[256];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		env_path(e, files[i], path, sizeof(path));
		unlink(path);
	}
	rmdir(e->dir);
	snprintf(path, sizeof(path), "%s/plain-file", e->root);
	unlink(path);
	ck_assert_int_eq(rmdir(e->root), 0);
	nsc_config_free(&e->cfg);
	nsc_log_free(e->log);
	free(e->out.text);
}

static void *fs_open_ok(struct env *e)
{
	struct nsc_error err = { 0 };
	void *ctx = NULL;
	nsc_rc rc = fs->open(&e->cfg, e->log, &ctx, &err);
	ck_assert_msg(rc == NSC_OK, "open: %s: %s", nsc_rc_name(rc), err.msg);
	ck_assert_ptr_nonnull(ctx);
	return ctx;
}

/* 3 entries (newest T0), 2 treatments (newest T0 - 20 min). */
static void make_batch(struct nsc_batch *b)
{
	struct nsc_error err = { 0 };
	nsc_batch_init(b);
	ck_assert_int_eq(nsc_batch_add(b, NSC_COLL_ENTRIES, test_entry(T0 - 10 * MIN, 100), &err), NSC_OK);
	ck_assert_int_eq(nsc_batch_add(b, NSC_COLL_ENTRIES, test_entry(T0, 110), &err), NSC_OK);
	ck_assert_int_eq(nsc_batch_add(b, NSC_COLL_ENTRIES, test_entry(T0 - 5 * MIN, 105), &err), NSC_OK);
	ck_assert_int_eq(nsc_batch_add(b, NSC_COLL_TREATMENTS, test_treatment(T0 - 60 * MIN, "Meal Bolus", 4.5),
				       &err),
			 NSC_OK);
	ck_assert_int_eq(nsc_batch_add(b, NSC_COLL_TREATMENTS,
				       test_treatment(T0 - 20 * MIN, "Correction Bolus", 1.5), &err),
			 NSC_OK);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char *buf = malloc(1 << 20);
	ck_assert_ptr_nonnull(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

/* Number of lines; asserts every line is a JSON object and the file ends with a newline. */
static size_t count_json_lines(const char *path)
{
	size_t len, lines = 0;
	char *text = slurp(path, &len);
	ck_assert(len == 0 || text[len - 1] == '\n');
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(l);
		ck_assert_msg(o != NULL && json_object_is_type(o, json_type_object), "bad line: %s", l);
		json_object_put(o);
		lines++;
	}
	free(text);
	return lines;
}

static void append_raw(const char *path, const char *text)
{
	FILE *f = fopen(path, "ab");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

static off_t file_size(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* ---- tests ----------------------------------------------------------- */

START_TEST(test_write_then_reopen_last_known)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };
	char path[256];
	struct stat st;

	env_setup(&e);
	void *ctx = fs_open_ok(&e);
	ck_assert_int_eq(stat(e.dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);

	ck_assert_int_eq(fs->last_known(ctx, &lk, &err), NSC_OK);
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		ck_assert_int_eq(lk.ms[c], 0);

	make_batch(&b);
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 3);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 2);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 0);
	ck_assert_int_eq(fs->last_known(ctx, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0);
	ck_assert_int_eq(lk.ms[NSC_COLL_TREATMENTS], T0 - 20 * MIN);
	fs->close(ctx);

	env_path(&e, "entries.jsonl", path, sizeof(path));
	ck_assert_uint_eq(count_json_lines(path), 3);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* Plain lines, unescaped slashes, the batch's identifier kept. */
	char *text = slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "\"device\":\"test/device\""));
	ck_assert_ptr_nonnull(strstr(text, "\"identifier\":\""));
	ck_assert_ptr_null(strstr(text, ": "));
	free(text);
	env_path(&e, "treatments.jsonl", path, sizeof(path));
	ck_assert_uint_eq(count_json_lines(path), 2);
	text = slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "\"insulin\":4.5"));
	/* The fields API v3 readers need, as Nightscout's v3 create stores them. */
	char want[64];
	snprintf(want, sizeof(want), "\"date\":%lld", (long long)(T0 - 20 * MIN));
	ck_assert_ptr_nonnull(strstr(text, want));
	ck_assert_ptr_nonnull(strstr(text, "\"app\":\"nsconnect\""));
	ck_assert_ptr_nonnull(strstr(text, "\"utcOffset\":0"));
	free(text);

	/* A fresh open learns the same from the files alone. */
	ctx = fs_open_ok(&e);
	memset(&lk, 0xff, sizeof(lk));
	ck_assert_int_eq(fs->last_known(ctx, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0);
	ck_assert_int_eq(lk.ms[NSC_COLL_TREATMENTS], T0 - 20 * MIN);
	ck_assert_int_eq(lk.ms[NSC_COLL_DEVICESTATUS], 0);
	ck_assert_int_eq(lk.ms[NSC_COLL_PROFILE], 0);
	fs->close(ctx);
	nsc_batch_clear(&b);
	env_teardown(&e);
}
END_TEST

START_TEST(test_same_batch_twice_stores_nothing)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err = { 0 };
	char path[256];

	env_setup(&e);
	void *ctx = fs_open_ok(&e);
	make_batch(&b);
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 0);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 0);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 3);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_TREATMENTS], 2);
	fs->close(ctx);

	/* Also across a restart: the identifiers come back from the files. */
	ctx = fs_open_ok(&e);
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 0);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 3);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_TREATMENTS], 2);

	/* A document repeated inside one batch is stored once. */
	struct nsc_batch b2;
	nsc_batch_init(&b2);
	ck_assert_int_eq(nsc_batch_add(&b2, NSC_COLL_ENTRIES, test_entry(T0 + 5 * MIN, 120), &err), NSC_OK);
	ck_assert_int_eq(nsc_batch_add(&b2, NSC_COLL_ENTRIES, test_entry(T0 + 5 * MIN, 120), &err), NSC_OK);
	ck_assert_int_eq(nsc_batch_add(&b2, NSC_COLL_ENTRIES, test_entry(T0 - 5 * MIN, 105), &err), NSC_OK);
	ck_assert_int_eq(fs->write(ctx, &b2, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 1);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 2);
	fs->close(ctx);

	env_path(&e, "entries.jsonl", path, sizeof(path));
	ck_assert_uint_eq(count_json_lines(path), 4);
	env_path(&e, "treatments.jsonl", path, sizeof(path));
	ck_assert_uint_eq(count_json_lines(path), 2);
	nsc_batch_clear(&b);
	nsc_batch_clear(&b2);
	env_teardown(&e);
}
END_TEST

START_TEST(test_torn_last_line_repaired)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };
	char path[256];
	static const char torn[] = "{\"type\":\"sgv\",\"sgv\":300,\"date\":17100900";

	env_setup(&e);
	void *ctx = fs_open_ok(&e);
	make_batch(&b);
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	fs->close(ctx);

	env_path(&e, "entries.jsonl", path, sizeof(path));
	off_t good = file_size(path);
	append_raw(path, torn);
	ck_assert_int_eq(file_size(path), good + (off_t)strlen(torn));

	ctx = fs_open_ok(&e);
	ck_assert_int_eq(file_size(path), good);
	char want[128];
	snprintf(want, sizeof(want), "bytes_dropped=%zu", strlen(torn));
	ck_assert_ptr_nonnull(e.out.text);
	ck_assert_ptr_nonnull(strstr(e.out.text, want));
	ck_assert_ptr_nonnull(strstr(e.out.text, "level=warn"));
	ck_assert_int_eq(fs->last_known(ctx, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0);

	/* The good lines are kept and still deduplicate; new ones start on a fresh line. */
	struct nsc_batch b2;
	nsc_batch_init(&b2);
	ck_assert_int_eq(nsc_batch_add(&b2, NSC_COLL_ENTRIES, test_entry(T0, 110), &err), NSC_OK);
	ck_assert_int_eq(nsc_batch_add(&b2, NSC_COLL_ENTRIES, test_entry(T0 + 5 * MIN, 115), &err), NSC_OK);
	ck_assert_int_eq(fs->write(ctx, &b2, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 1);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 1);
	ck_assert_uint_eq(count_json_lines(path), 4);

	/* A torn tail appearing while open (a failed append) is cut before the next append. */
	append_raw(path, torn);
	struct nsc_batch b3;
	nsc_batch_init(&b3);
	ck_assert_int_eq(nsc_batch_add(&b3, NSC_COLL_ENTRIES, test_entry(T0 + 10 * MIN, 118), &err), NSC_OK);
	ck_assert_int_eq(fs->write(ctx, &b3, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 1);
	ck_assert_uint_eq(count_json_lines(path), 5);
	fs->close(ctx);

	nsc_batch_clear(&b);
	nsc_batch_clear(&b2);
	nsc_batch_clear(&b3);
	env_teardown(&e);
}
END_TEST

START_TEST(test_invalid_line_skipped)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };
	char path[256];
	char *line1, *line2;

	env_setup(&e);
	ck_assert_int_eq(mkdir(e.dir, 0700), 0);
	env_path(&e, "entries.jsonl", path, sizeof(path));

	/* Two valid documents (one without identifier) around garbage and a blank line. */
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES, test_entry(T0 - 5 * MIN, 100), &err), NSC_OK);
	struct json_object *bare = test_entry(T0 + 5 * MIN, 130);
	line1 = strdup(json_object_to_json_string_ext(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0),
						     JSON_C_TO_STRING_PLAIN));
	line2 = strdup(json_object_to_json_string_ext(bare, JSON_C_TO_STRING_PLAIN));
	ck_assert_ptr_nonnull(line1);
	ck_assert_ptr_nonnull(line2);
	append_raw(path, line1);
	append_raw(path, "\nthis is not json\n\n[1,2,3]\n");
	append_raw(path, line2);
	append_raw(path, "\n");

	void *ctx = fs_open_ok(&e);
	ck_assert_ptr_nonnull(strstr(e.out.text, "event=invalid_line"));
	ck_assert_ptr_nonnull(strstr(e.out.text, "line=2"));
	ck_assert_ptr_nonnull(strstr(e.out.text, "line=4"));
	ck_assert_int_eq(fs->last_known(ctx, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0 + 5 * MIN);

	/* Both valid documents are held, the bare one by its computed identifier. */
	ck_assert_int_eq(nsc_batch_add(&b, NSC_COLL_ENTRIES, bare, &err), NSC_OK);
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 0);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 2);
	fs->close(ctx);

	free(line1);
	free(line2);
	nsc_batch_clear(&b);
	env_teardown(&e);
}
END_TEST

START_TEST(test_unusable_directory_named)
{
	struct env e;
	struct nsc_error err = { 0 };
	char file[192], bad[256];
	void *ctx = NULL;

	env_setup(&e);
	snprintf(file, sizeof(file), "%s/plain-file", e.root);
	append_raw(file, "x");

	/* A directory below a regular file cannot exist, even for root. */
	snprintf(bad, sizeof(bad), "%s/sub", file);
	free(e.cfg.output_dir);
	e.cfg.output_dir = strdup(bad);
	ck_assert_ptr_nonnull(e.cfg.output_dir);
	nsc_rc rc = fs->open(&e.cfg, e.log, &ctx, &err);
	ck_assert_int_ne(rc, NSC_OK);
	ck_assert_ptr_null(ctx);
	ck_assert_msg(strstr(err.msg, bad) != NULL, "message does not name %s: %s", bad, err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, "Not a directory"));

	/* The output directory itself being a file is refused the same way. */
	free(e.cfg.output_dir);
	e.cfg.output_dir = strdup(file);
	ck_assert_ptr_nonnull(e.cfg.output_dir);
	rc = fs->open(&e.cfg, e.log, &ctx, &err);
	ck_assert_int_ne(rc, NSC_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, file));

	/* A missing parent is not created. */
	snprintf(bad, sizeof(bad), "%s/missing/out", e.root);
	free(e.cfg.output_dir);
	e.cfg.output_dir = strdup(bad);
	ck_assert_ptr_nonnull(e.cfg.output_dir);
	rc = fs->open(&e.cfg, e.log, &ctx, &err);
	ck_assert_int_eq(rc, NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, bad));
	env_teardown(&e);
}
END_TEST

START_TEST(test_collection_file_must_be_regular)
{
	struct env e;
	struct nsc_error err = { 0 };
	char path[256];
	void *ctx = NULL;

	env_setup(&e);
	ck_assert_int_eq(mkdir(e.dir, 0700), 0);
	/* A device (here via a symlink) would be read forever or written nowhere. */
	env_path(&e, "entries.jsonl", path, sizeof(path));
	ck_assert_int_eq(symlink("/dev/null", path), 0);
	nsc_rc rc = fs->open(&e.cfg, e.log, &ctx, &err);
	ck_assert_int_eq(rc, NSC_ERR_CONFIG);
	ck_assert_ptr_null(ctx);
	ck_assert_ptr_nonnull(strstr(err.msg, path));
	ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
	ck_assert_int_eq(unlink(path), 0);

	/* A directory in the file's place is named too. */
	env_path(&e, "treatments.jsonl", path, sizeof(path));
	ck_assert_int_eq(mkdir(path, 0700), 0);
	rc = fs->open(&e.cfg, e.log, &ctx, &err);
	ck_assert_int_ne(rc, NSC_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, path));
	ck_assert_int_eq(rmdir(path), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(test_io_failure_retried_cleanly)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };
	struct rlimit old, lim;
	char path[256];

	env_setup(&e);
	void *ctx = fs_open_ok(&e);
	make_batch(&b);
	env_path(&e, "entries.jsonl", path, sizeof(path));

	/* Files may not grow past 100 bytes: the append fails part-way (EFBIG). */
	ck_assert_ptr_ne(signal(SIGXFSZ, SIG_IGN), SIG_ERR);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	nsc_rc rc = fs->write(ctx, &b, &res, &err);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);

	ck_assert_int_eq(rc, NSC_ERR_IO);
	ck_assert_msg(strstr(err.msg, path) != NULL, "message does not name %s: %s", path, err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, strerror(EFBIG)));
	/* Rolled back, and nothing marked as held. */
	ck_assert_int_eq(file_size(path), 0);
	ck_assert_int_eq(fs->last_known(ctx, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], 0);

	/* The engine retries the same batch: everything is stored. */
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 3);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 2);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 0);
	ck_assert_uint_eq(count_json_lines(path), 3);
	fs->close(ctx);
	nsc_batch_clear(&b);
	env_teardown(&e);
}
END_TEST

START_TEST(test_second_writer_refused)
{
	struct env e;
	struct nsc_error err = { 0 };
	void *other = NULL;

	env_setup(&e);
	void *ctx = fs_open_ok(&e);
	nsc_rc rc = fs->open(&e.cfg, e.log, &other, &err);
	ck_assert_int_eq(rc, NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, e.dir));
	ck_assert_ptr_nonnull(strstr(err.msg, "another process"));
	fs->close(ctx);
	/* Released on close. */
	ctx = fs_open_ok(&e);
	fs->close(ctx);
	env_teardown(&e);
}
END_TEST


static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Thousands of bridges in one process: each keeps one file open, not one per collection. */
START_TEST(test_one_file_held_open)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err = { 0 };

	env_setup(&e);
	int before = open_fds();
	void *ctx = fs_open_ok(&e);
	ck_assert_int_eq(open_fds(), before + 1);
	make_batch(&b);
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	ck_assert_int_eq(open_fds(), before + 1);
	/* What was appended through a file opened for the write is held all the same. */
	ck_assert_int_eq(fs->write(ctx, &b, &res, &err), NSC_OK);
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		ck_assert_uint_eq(res.stored[c], 0);
	nsc_batch_clear(&b);
	fs->close(ctx);
	ck_assert_int_eq(open_fds(), before);
	env_teardown(&e);
}
END_TEST

/* The digest set the output dedups with. */
START_TEST(test_id_set)
{
	struct nsc_id_set s;
	unsigned char k[NSC_ID_KEY_LEN];
	char id[64];

	nsc_id_set_init(&s);
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "%08x-0000-5000-8000-%012d", i, i);
		ck_assert_int_eq(nsc_id_key(id, k), NSC_OK);
		ck_assert(!nsc_id_set_has(&s, k));
		ck_assert_int_eq(nsc_id_set_add(&s, k), NSC_OK);
		ck_assert_int_eq(nsc_id_set_add(&s, k), NSC_OK); /* twice is once */
	}
	ck_assert_uint_eq(s.n, 10000);
	ck_assert_uint_ge(s.cap * 3, s.n * 4);
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "%08x-0000-5000-8000-%012d", i, i);
		ck_assert_int_eq(nsc_id_key(id, k), NSC_OK);
		ck_assert(nsc_id_set_has(&s, k));
		snprintf(id, sizeof(id), "%08x-0000-5000-8000-%012d", i, i + 1);
		ck_assert_int_eq(nsc_id_key(id, k), NSC_OK);
		ck_assert_msg(!nsc_id_set_has(&s, k), "%s", id);
	}
	snprintf(id, sizeof(id), "not-held");
	ck_assert_int_eq(nsc_id_key(id, k), NSC_OK);
	ck_assert(!nsc_id_set_has(&s, k));
	struct nsc_id_set copy;
	nsc_id_set_init(&copy);
	ck_assert_int_eq(nsc_id_set_add_all(&copy, &s), NSC_OK);
	ck_assert_uint_eq(copy.n, s.n);
	nsc_id_set_free(&copy);
	nsc_id_set_free(&s);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_driver_table)
{
	ck_assert_ptr_eq(nsc_output_driver_for(NSC_OUTPUT_FILESYSTEM), &nsc_output_filesystem);
	ck_assert_ptr_null(nsc_output_driver_for(NSC_OUTPUT_AUTO));
	ck_assert_str_eq(nsc_output_filesystem.name, "filesystem");
	/* Every configured kind maps to the driver of that name. */
	ck_assert_str_eq(nsc_output_driver_for(NSC_OUTPUT_REST)->name, "rest");
	ck_assert_str_eq(nsc_output_driver_for(NSC_OUTPUT_REST3)->name, "rest3");
#ifdef HAVE_MONGOC
	ck_assert_str_eq(nsc_output_driver_for(NSC_OUTPUT_MONGO)->name, "mongo");
#else
	ck_assert_ptr_null(nsc_output_driver_for(NSC_OUTPUT_MONGO));
#endif
}
END_TEST

static Suite *filesystem_suite(void)
{
	Suite *s = suite_create("filesystem");
	TCase *tc = tcase_create("output");
	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_add_test(tc, test_write_then_reopen_last_known);
	tcase_add_test(tc, test_same_batch_twice_stores_nothing);
	tcase_add_test(tc, test_torn_last_line_repaired);
	tcase_add_test(tc, test_invalid_line_skipped);
	tcase_add_test(tc, test_unusable_directory_named);
	tcase_add_test(tc, test_collection_file_must_be_regular);
	tcase_add_test(tc, test_io_failure_retried_cleanly);
	tcase_add_test(tc, test_second_writer_refused);
	tcase_add_test(tc, test_driver_table);
	tcase_add_test(tc, test_one_file_held_open);
	tcase_add_test(tc, test_id_set);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(filesystem_suite)
