/* SPDX-License-Identifier: MIT */
/*
 * The spool's on-disk format (layout in spool_files.h): naming and scanning
 * spool files, writing a batch file atomically, reading one back into a
 * batch, moving one to rejected/.
 *
 * Ownership & concurrency: no state of its own; callers pass the directory
 * descriptors and serialise use of their queue.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fileio.h"
#include "outputs/spool_files.h"

#define SP_SUFFIX ".batch"
#define SP_TMP_PREFIX ".tmp-"
#define SP_SEQ_DIGITS 20
#define SP_READ_CHUNK 65536
#define SP_JSON_DEPTH 64 /* documents nest; the wrapper adds two levels */
#define SP_JSON_FLAGS JSON_C_TO_STRING_PLAIN

/* ---- names ------------------------------------------------------------ */

void nsc_spool_name(uint64_t seq, char buf[NSC_SPOOL_NAME_MAX])
{
	snprintf(buf, NSC_SPOOL_NAME_MAX, "%0*" PRIu64 SP_SUFFIX, SP_SEQ_DIGITS, seq);
}

static void sp_tmp_name(uint64_t seq, char buf[NSC_SPOOL_NAME_MAX])
{
	snprintf(buf, NSC_SPOOL_NAME_MAX, SP_TMP_PREFIX "%0*" PRIu64, SP_SEQ_DIGITS, seq);
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

void nsc_spool_batch_newest(const struct nsc_batch *b, int64_t newest[NSC_COLL_COUNT])
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
nsc_rc nsc_spool_load(int dfd, const char *name, struct nsc_batch *b, struct nsc_error *err)
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
nsc_rc nsc_spool_serialize(const struct nsc_batch *b, struct json_object **holder, const char **text,
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
nsc_rc nsc_spool_write_file(int dfd, const char *dir, uint64_t seq, const char *text, size_t len,
			    struct nsc_error *err)
{
	char tmp[NSC_SPOOL_NAME_MAX], name[NSC_SPOOL_NAME_MAX];
	const char *step = "create";
	bool renamed = false;

	sp_tmp_name(seq, tmp);
	nsc_spool_name(seq, name);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
	if (renameat(dfd, tmp, dfd, name) != 0)
		goto fail;
	renamed = true;
	step = "sync the directory of";
	if (nsc_fsync(dfd) != 0)
		goto fail;
	return NSC_OK;

fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	/* Not acknowledged, so not kept: the engine fetches this data again. */
	unlinkat(dfd, renamed ? name : tmp, 0);
	return nsc_error_set(err, NSC_ERR_IO, "cannot %s spool file %s/%s: %s", step, dir,
			     renamed ? name : tmp, strerror(e));
}

/* ---- queue ------------------------------------------------------------ */

int nsc_spool_queue_push(struct nsc_spool_queue *q, const struct nsc_spool_file *f)
{
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*q->v))
			return -1;
		struct nsc_spool_file *nq = realloc(q->v, cap * sizeof(*nq));
		if (nq == NULL)
			return -1;
		q->v = nq;
		q->cap = cap;
	}
	q->v[q->len++] = *f;
	return 0;
}

/* ---- the directory ---------------------------------------------------- */

nsc_rc nsc_spool_open_dir(const char *dir, int *dfd, int *rfd, struct nsc_error *err)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		return nsc_error_set(err, nsc_path_errno_rc(e),
				     "CONNECT_SPOOL_DIR: cannot create directory %s: %s (its parent directory must exist)",
				     dir, strerror(e));
	}
	*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dfd < 0) {
		int e = errno;
		return nsc_error_set(err, nsc_path_errno_rc(e), "CONNECT_SPOOL_DIR: cannot open directory %s: %s",
				     dir, strerror(e));
	}
	/* One process per spool: two writers would replay each other's batches. */
	if (flock(*dfd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		return nsc_error_set(err, e == EWOULDBLOCK ? NSC_ERR_CONFIG : NSC_ERR_IO,
				     "CONNECT_SPOOL_DIR: cannot lock %s: %s", dir,
				     e == EWOULDBLOCK ? "another bridge is using this spool directory; give each its own"
						      : strerror(e));
	}
	if (mkdirat(*dfd, NSC_SPOOL_REJECTED_DIR, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		return nsc_error_set(err, nsc_path_errno_rc(e), "CONNECT_SPOOL_DIR: cannot create %s/%s: %s",
				     dir, NSC_SPOOL_REJECTED_DIR, strerror(e));
	}
	*rfd = openat(*dfd, NSC_SPOOL_REJECTED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*rfd < 0) {
		int e = errno;
		return nsc_error_set(err, nsc_path_errno_rc(e), "CONNECT_SPOOL_DIR: cannot open %s/%s: %s", dir,
				     NSC_SPOOL_REJECTED_DIR, strerror(e));
	}
	return NSC_OK;
}

static int sp_cmp_file(const void *a, const void *b)
{
	uint64_t x = ((const struct nsc_spool_file *)a)->seq, y = ((const struct nsc_spool_file *)b)->seq;
	return x < y ? -1 : x > y;
}

/* A directory stream over dfd (which stays open), or NULL with errno set. */
static DIR *sp_opendir(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

/*
 * The highest sequence among the batches in rejected/, so a new batch never
 * takes (and a later rejection never overwrites) the name of a rejected one.
 */
static nsc_rc sp_rejected_max_seq(int rfd, const char *dir, uint64_t *max_seq, struct nsc_error *err)
{
	DIR *d = sp_opendir(rfd);
	if (d == NULL) {
		int e = errno;
		return nsc_error_set(err, NSC_ERR_IO, "cannot read directory %s/%s: %s", dir,
				     NSC_SPOOL_REJECTED_DIR, strerror(e));
	}
	for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
		uint64_t seq;
		if (sp_parse_name(de->d_name, &seq) && seq > *max_seq)
			*max_seq = seq;
	}
	closedir(d);
	return NSC_OK;
}

nsc_rc nsc_spool_scan(int dfd, int rfd, const char *dir, struct nsc_log *log, struct nsc_spool_queue *q,
		      uint64_t *bytes, uint64_t *next_seq, struct nsc_error *err)
{
	DIR *d = sp_opendir(dfd);
	if (d == NULL) {
		int e = errno;
		return nsc_error_set(err, NSC_ERR_IO, "cannot read directory %s: %s", dir, strerror(e));
	}
	nsc_rc rc = NSC_OK;
	uint64_t max_seq = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				int e = errno;
				rc = nsc_error_set(err, NSC_ERR_IO, "cannot read directory %s: %s", dir,
						   strerror(e));
			}
			break;
		}
		struct nsc_spool_file f;
		memset(&f, 0, sizeof(f));
		if (strncmp(de->d_name, SP_TMP_PREFIX, strlen(SP_TMP_PREFIX)) == 0) {
			if (unlinkat(dfd, de->d_name, 0) != 0 && errno != ENOENT)
				nsc_warn(log, NSC_SPOOL_COMP, "event=stale_tmp file=\"%s/%s\" msg=\"cannot remove: %s\"",
					 dir, de->d_name, strerror(errno));
			else
				nsc_warn(log, NSC_SPOOL_COMP,
					 "event=stale_tmp_removed file=\"%s/%s\" msg=\"a write interrupted before it completed; that batch was never acknowledged and is fetched again\"",
					 dir, de->d_name);
			continue;
		}
		if (!sp_parse_name(de->d_name, &f.seq))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		f.bytes = (uint64_t)st.st_size;
		if (nsc_spool_queue_push(q, &f) != 0) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading the spool %s", dir);
			break;
		}
		if (f.seq > max_seq)
			max_seq = f.seq;
	}
	closedir(d);
	if (rc == NSC_OK)
		rc = sp_rejected_max_seq(rfd, dir, &max_seq, err);
	if (rc != NSC_OK)
		return rc;
	if (q->len > 1)
		qsort(q->v, q->len, sizeof(q->v[0]), sp_cmp_file);

	/* What each file holds counts for last_known until it is replayed. */
	for (size_t i = 0; i < q->len; i++) {
		struct nsc_spool_file *f = &q->v[i];
		struct nsc_batch b;
		struct nsc_error lerr = { 0 };
		char name[NSC_SPOOL_NAME_MAX];

		nsc_batch_init(&b);
		nsc_spool_name(f->seq, name);
		nsc_rc lrc = nsc_spool_load(dfd, name, &b, &lerr);
		if (lrc == NSC_ERR_NOMEM)
			return nsc_error_set(err, lrc, "out of memory reading the spool %s", dir);
		if (lrc == NSC_OK)
			nsc_spool_batch_newest(&b, f->newest);
		else
			nsc_dbg(log, NSC_SPOOL_COMP, "event=unreadable_at_open file=\"%s/%s\" msg=\"%s\"", dir, name,
				lerr.msg);
		nsc_batch_clear(&b);
		*bytes += f->bytes;
	}
	*next_seq = max_seq + 1;
	return NSC_OK;
}

/* ---- rejected/ -------------------------------------------------------- */

int nsc_spool_move_rejected(int dfd, int rfd, const char *name, int *sync_errno)
{
	*sync_errno = 0;
	if (renameat(dfd, name, rfd, name) != 0)
		return errno;
	if (nsc_fsync(rfd) != 0 || nsc_fsync(dfd) != 0)
		*sync_errno = errno;
	return 0;
}

/* ---- a look from outside (doctor) ------------------------------------- */

/* The batches in the folder open as fd; the oldest one's time into *oldest_ms when asked. */
static nsc_rc sp_count_batches(int fd, const char *dir, size_t *count, uint64_t *bytes, int64_t *oldest_ms,
			       struct nsc_error *err)
{
	DIR *d = sp_opendir(fd);
	if (d == NULL) {
		int e = errno;
		return nsc_error_set(err, NSC_ERR_IO, "cannot read directory %s: %s", dir, strerror(e));
	}
	uint64_t oldest_seq = UINT64_MAX;
	for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
		uint64_t seq;
		struct stat st;
		if (!sp_parse_name(de->d_name, &seq))
			continue;
		/* Gone since readdir: the bridge delivered it meanwhile. */
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		(*count)++;
		if (bytes)
			*bytes += (uint64_t)st.st_size;
		if (oldest_ms && seq < oldest_seq) {
			oldest_seq = seq;
			*oldest_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		}
	}
	closedir(d);
	return NSC_OK;
}

nsc_rc nsc_spool_peek(const char *dir, struct nsc_spool_contents *out, struct nsc_error *err)
{
	memset(out, 0, sizeof(*out));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		int e = errno;
		if (e == ENOENT)
			return NSC_OK;
		return nsc_error_set(err, NSC_ERR_IO, "cannot open directory %s: %s", dir, strerror(e));
	}
	out->exists = true;
	nsc_rc rc = sp_count_batches(dfd, dir, &out->pending, &out->pending_bytes, &out->oldest_ms, err);
	if (rc == NSC_OK) {
		int rfd = openat(dfd, NSC_SPOOL_REJECTED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rfd >= 0) {
			rc = sp_count_batches(rfd, dir, &out->rejected, NULL, NULL, err);
			close(rfd);
		} else if (errno != ENOENT) {
			int e = errno;
			rc = nsc_error_set(err, NSC_ERR_IO, "cannot open directory %s/%s: %s", dir,
					   NSC_SPOOL_REJECTED_DIR, strerror(e));
		}
	}
	close(dfd);
	return rc;
}
