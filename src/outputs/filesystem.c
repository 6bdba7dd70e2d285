/* SPDX-License-Identifier: MIT */
/*
 * The filesystem output: <output_dir>/<collection>.jsonl, one Nightscout
 * document per line. At open it reads what the files hold (identifiers for
 * dedup, newest time per collection for last-known) and cuts off a last
 * line torn by a crash. A write appends each collection's new documents
 * with one write loop and an fdatasync; identifiers count as held only
 * once they are on disk.
 */
#include "config.h"

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

#include "identity.h"
#include "fileio.h"
#include "outputs/filesystem.h"
#include "outputs/id_set.h"
#include "strbuf.h"

#define FS_COMP "filesystem"
#define FS_SUFFIX ".jsonl"
#define FS_READ_CHUNK 65536
#define FS_MAX_LINE (16u * 1024u * 1024u) /* longer lines are skipped, not loaded */
/* The file whose lock, held while open, keeps a second writer out of the folder. */
#define FS_LOCK_COLL NSC_COLL_ENTRIES
#define FS_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct fs_coll {
	char *path;
	/*
	 * O_RDWR|O_APPEND. The entries file stays open from open() to close(),
	 * holding the lock that keeps a second writer out of the folder; the
	 * others are opened for each append (-1 between), so a bridge holds
	 * one file open, not four.
	 */
	int fd;
	struct nsc_id_set ids;   /* identifiers on disk */
	int64_t newest;          /* newest document time on disk, 0 = none */
};

struct fs_ctx {
	struct nsc_log *log;
	char *dir;
	struct fs_coll coll[NSC_COLL_COUNT];
};


static char *fs_path_join(const char *dir, const char *name, const char *suffix)
{
	size_t dl = strlen(dir), nl = strlen(name), sl = strlen(suffix);
	bool slash = dl > 0 && dir[dl - 1] != '/';
	char *p = malloc(dl + (slash ? 1 : 0) + nl + sl + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, dir, dl);
	size_t off = dl;
	if (slash)
		p[off++] = '/';
	memcpy(p + off, name, nl);
	memcpy(p + off + nl, suffix, sl + 1);
	return p;
}

/*
 * The document's `identifier`, or the v3 identifier computed from its
 * device, time and eventType when it has none. NSC_ERR_NOT_FOUND when the
 * document has no usable time.
 */
static nsc_rc fs_doc_identifier(struct json_object *doc, char buf[NSC_UUID_BUF], const char **out)
{
	struct json_object *v;
	const char *device = NULL, *event_type = NULL;
	int64_t t;

	if (json_object_object_get_ex(doc, "identifier", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		*out = json_object_get_string(v);
		return NSC_OK;
	}
	nsc_rc rc = nsc_doc_time_ms(doc, &t);
	if (rc != NSC_OK)
		return rc;
	if (json_object_object_get_ex(doc, "device", &v) && json_object_is_type(v, json_type_string))
		device = json_object_get_string(v);
	if (json_object_object_get_ex(doc, "eventType", &v) && json_object_is_type(v, json_type_string))
		event_type = json_object_get_string(v);
	rc = nsc_identifier_compute(device, t, event_type, buf);
	if (rc == NSC_OK)
		*out = buf;
	return rc;
}


/* ---- open: load what the files hold ---------------------------------- */

/* Registers one complete line (without its newline) of collection c. */
static nsc_rc fs_load_line(struct fs_ctx *ctx, struct fs_coll *fc, struct json_tokener *tok,
			   const char *line, size_t len, size_t lineno, size_t *invalid,
			   struct nsc_error *err)
{
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return NSC_OK;

	json_tokener_reset(tok);
	struct json_object *doc = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (doc == NULL || jerr != json_tokener_success || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(doc, json_type_object)) {
		(*invalid)++;
		nsc_warn(ctx->log, FS_COMP,
			 "event=invalid_line file=\"%s\" line=%zu msg=\"not a JSON document; line skipped\"",
			 fc->path, lineno);
		json_object_put(doc);
		return NSC_OK;
	}

	char buf[NSC_UUID_BUF];
	const char *id = NULL;
	int64_t t = 0;
	nsc_rc rc = fs_doc_identifier(doc, buf, &id);
	if (rc == NSC_ERR_NOMEM) {
		json_object_put(doc);
		return nsc_error_set(err, rc, "out of memory reading %s", fc->path);
	}
	if (rc != NSC_OK) {
		(*invalid)++;
		nsc_warn(ctx->log, FS_COMP,
			 "event=invalid_line file=\"%s\" line=%zu msg=\"document has no time; line skipped\"",
			 fc->path, lineno);
		json_object_put(doc);
		return NSC_OK;
	}
	unsigned char key[NSC_ID_KEY_LEN];
	if (nsc_id_key(id, key) != NSC_OK || nsc_id_set_add(&fc->ids, key) != NSC_OK) {
		json_object_put(doc);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading %s", fc->path);
	}
	if (nsc_doc_time_ms(doc, &t) == NSC_OK && t > fc->newest)
		fc->newest = t;
	json_object_put(doc);
	return NSC_OK;
}

/*
 * Cuts the file back to its last complete line when the last byte is not a
 * newline (a write torn by a crash or a failed append). *dropped = bytes cut.
 */
static int fs_repair_tail(struct fs_coll *fc, off_t *dropped)
{
	struct stat st;
	char chunk[4096];

	*dropped = 0;
	if (fstat(fc->fd, &st) != 0)
		return -1;
	off_t end = st.st_size, pos = st.st_size;
	while (pos > 0) {
		size_t n = pos > (off_t)sizeof(chunk) ? sizeof(chunk) : (size_t)pos;
		ssize_t r = pread(fc->fd, chunk, n, pos - (off_t)n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if ((size_t)r != n) {
			errno = EIO;
			return -1;
		}
		for (size_t i = n; i > 0; i--) {
			if (chunk[i - 1] == '\n') {
				off_t keep = pos - (off_t)n + (off_t)i;
				if (keep == end)
					return 0;
				if (ftruncate(fc->fd, keep) != 0)
					return -1;
				*dropped = end - keep;
				return 0;
			}
		}
		pos -= (off_t)n;
	}
	if (end > 0 && ftruncate(fc->fd, 0) != 0)
		return -1;
	*dropped = end;
	return 0;
}

/* nsc_path_errno_rc, plus EISDIR: a collection file that is a directory is the user's to fix. */
static nsc_rc fs_errno_rc(int e)
{
	return e == EISDIR ? NSC_ERR_CONFIG : nsc_path_errno_rc(e);
}

/* Streams the file line by line into fc's identifier set and newest time. */
static nsc_rc fs_load_file(struct fs_ctx *ctx, struct fs_coll *fc, struct nsc_error *err)
{
	struct json_tokener *tok = json_tokener_new();
	char *chunk = malloc(FS_READ_CHUNK);
	struct nsc_strbuf line = { 0 };
	size_t lineno = 0, lines = 0, invalid = 0;
	bool overlong = false;
	off_t off = 0;
	nsc_rc rc = NSC_OK;

	if (tok == NULL || chunk == NULL) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading %s", fc->path);
		goto out;
	}
	for (;;) {
		ssize_t r = pread(fc->fd, chunk, FS_READ_CHUNK, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			rc = nsc_error_set(err, NSC_ERR_IO, "cannot read %s: %s", fc->path, strerror(e));
			goto out;
		}
		if (r == 0)
			break;
		off += r;
		const char *p = chunk, *end = chunk + r;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t seg = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (!overlong) {
				if (line.len + seg > FS_MAX_LINE) {
					overlong = true;
					line.len = 0;
				} else if (nsc_strbuf_append(&line, p, seg) != NSC_OK) {
					rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory reading %s",
							   fc->path);
					goto out;
				}
			}
			if (nl == NULL)
				break;
			lineno++;
			if (overlong || line.len > 0)
				lines++;
			if (overlong) {
				invalid++;
				nsc_warn(ctx->log, FS_COMP,
					 "event=invalid_line file=\"%s\" line=%zu msg=\"line longer than %u bytes; skipped\"",
					 fc->path, lineno, FS_MAX_LINE);
				overlong = false;
			} else {
				rc = fs_load_line(ctx, fc, tok, line.p ? line.p : "", line.len, lineno,
						  &invalid, err);
				if (rc != NSC_OK)
					goto out;
			}
			line.len = 0;
			p = nl + 1;
		}
	}

	/* Bytes after the last newline are a torn write: cut them off. */
	off_t dropped = 0;
	if (fs_repair_tail(fc, &dropped) != 0) {
		int e = errno;
		rc = nsc_error_set(err, NSC_ERR_IO, "cannot repair the torn last line of %s: %s",
				   fc->path, strerror(e));
		goto out;
	}
	if (dropped > 0)
		nsc_warn(ctx->log, FS_COMP,
			 "event=torn_line_repaired file=\"%s\" bytes_dropped=%jd msg=\"last line was incomplete (interrupted write); it was removed\"",
			 fc->path, (intmax_t)dropped);
	nsc_dbg(ctx->log, FS_COMP, "event=loaded file=\"%s\" documents=%zu invalid=%zu newest=%" PRId64,
		fc->path, lines - invalid, invalid, fc->newest);
out:
	nsc_strbuf_free(&line);
	free(chunk);
	if (tok != NULL)
		json_tokener_free(tok);
	return rc;
}

static void fs_close(void *vctx)
{
	struct fs_ctx *ctx = vctx;
	if (ctx == NULL)
		return;
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		struct fs_coll *fc = &ctx->coll[c];
		if (fc->fd >= 0)
			close(fc->fd);
		nsc_id_set_free(&fc->ids);
		free(fc->path);
	}
	free(ctx->dir);
	free(ctx);
}

static nsc_rc fs_make_dir(const char *dir, struct nsc_error *err)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return NSC_OK;
	int e = errno;
	if (e == EEXIST) {
		if (stat(dir, &st) != 0) {
			e = errno;
			return nsc_error_set(err, fs_errno_rc(e),
					     "CONNECT_OUTPUT_DIR: cannot use directory %s: %s", dir,
					     strerror(e));
		}
		if (S_ISDIR(st.st_mode))
			return NSC_OK;
		e = ENOTDIR;
	}
	return nsc_error_set(err, fs_errno_rc(e),
			     "CONNECT_OUTPUT_DIR: cannot create directory %s: %s (its parent directory must exist)",
			     dir, strerror(e));
}

/* Makes the directory entries of newly created files durable. */
static void fs_sync_dir(struct fs_ctx *ctx)
{
	int dfd = open(ctx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	if (fsync(dfd) != 0)
		nsc_dbg(ctx->log, FS_COMP, "event=dir_sync_failed dir=\"%s\" msg=\"%s\"", ctx->dir,
			strerror(errno));
	close(dfd);
}

static nsc_rc fs_open(const struct nsc_config *cfg, struct nsc_log *log, void **out,
		      struct nsc_error *err)
{
	if (cfg == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "filesystem output opened without configuration");
	if (cfg->output_dir == NULL || cfg->output_dir[0] == '\0')
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_OUTPUT_DIR is not set; it is required when CONNECT_OUTPUT=filesystem");

	struct fs_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the filesystem output");
	ctx->log = log;
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		ctx->coll[c].fd = -1;

	nsc_rc rc;
	ctx->dir = strdup(cfg->output_dir);
	if (ctx->dir == NULL) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the filesystem output");
		goto fail;
	}
	rc = fs_make_dir(ctx->dir, err);
	if (rc != NSC_OK)
		goto fail;

	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		struct fs_coll *fc = &ctx->coll[c];
		fc->path = fs_path_join(ctx->dir, nsc_collection_name((enum nsc_collection)c), FS_SUFFIX);
		nsc_id_set_init(&fc->ids);
		if (fc->path == NULL) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the filesystem output");
			goto fail;
		}
		fc->fd = open(fc->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fc->fd < 0) {
			int e = errno;
			rc = nsc_error_set(err, fs_errno_rc(e), "CONNECT_OUTPUT_DIR: cannot open %s: %s",
					   fc->path, strerror(e));
			goto fail;
		}
		struct stat st;
		if (fstat(fc->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			rc = nsc_error_set(err, NSC_ERR_CONFIG,
					   "CONNECT_OUTPUT_DIR: %s is not a regular file", fc->path);
			goto fail;
		}
		/* One writer per file: a second bridge on the same directory would corrupt it. */
		if (flock(fc->fd, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			rc = nsc_error_set(err, e == EWOULDBLOCK ? NSC_ERR_CONFIG : NSC_ERR_IO,
					   "CONNECT_OUTPUT_DIR: cannot lock %s: %s", fc->path,
					   e == EWOULDBLOCK ? "another process is writing to it"
							    : strerror(e));
			goto fail;
		}
		rc = fs_load_file(ctx, fc, err);
		if (rc != NSC_OK)
			goto fail;
		if (c != FS_LOCK_COLL) {
			close(fc->fd);
			fc->fd = -1;
		}
	}
	fs_sync_dir(ctx);

	nsc_info(ctx->log, FS_COMP, "event=open dir=\"%s\" entries=%zu treatments=%zu devicestatus=%zu profile=%zu",
		 ctx->dir, ctx->coll[NSC_COLL_ENTRIES].ids.n, ctx->coll[NSC_COLL_TREATMENTS].ids.n,
		 ctx->coll[NSC_COLL_DEVICESTATUS].ids.n, ctx->coll[NSC_COLL_PROFILE].ids.n);
	*out = ctx;
	return NSC_OK;

fail:
	fs_close(ctx);
	return rc;
}

static nsc_rc fs_last_known(void *vctx, struct nsc_last_known *out, struct nsc_error *err)
{
	struct fs_ctx *ctx = vctx;
	if (ctx == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "filesystem output is not open");
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		out->ms[c] = ctx->coll[c].newest;
	return NSC_OK;
}

/* ---- write ----------------------------------------------------------- */

static nsc_rc fs_append_open(struct fs_ctx *ctx, struct fs_coll *fc, const struct nsc_strbuf *buf,
			     struct nsc_error *err);

/* Appends buf to fc durably, opening the file for it when it is not kept open. */
static nsc_rc fs_append(struct fs_ctx *ctx, struct fs_coll *fc, const struct nsc_strbuf *buf,
			struct nsc_error *err)
{
	if (fc->fd >= 0)
		return fs_append_open(ctx, fc, buf, err);
	fc->fd = open(fc->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fc->fd < 0) {
		int e = errno;
		return nsc_error_set(err, NSC_ERR_IO, "cannot append to %s: %s", fc->path, strerror(e));
	}
	nsc_rc rc = fs_append_open(ctx, fc, buf, err);
	close(fc->fd);
	fc->fd = -1;
	return rc;
}

/* Appends buf to fc's open file durably; on failure the file is cut back to its old size. */
static nsc_rc fs_append_open(struct fs_ctx *ctx, struct fs_coll *fc, const struct nsc_strbuf *buf,
			     struct nsc_error *err)
{
	struct stat st;
	off_t dropped = 0;
	int e;

	/* A previous failed append may have left a partial line behind. */
	if (fs_repair_tail(fc, &dropped) != 0 || fstat(fc->fd, &st) != 0) {
		e = errno;
		return nsc_error_set(err, NSC_ERR_IO, "cannot append to %s: %s", fc->path, strerror(e));
	}
	if (dropped > 0)
		nsc_warn(ctx->log, FS_COMP, "event=torn_line_repaired file=\"%s\" bytes_dropped=%jd",
			 fc->path, (intmax_t)dropped);

	if (nsc_write_all(fc->fd, buf->p, buf->len) == 0 && nsc_fdatasync(fc->fd) == 0)
		return NSC_OK;
	e = errno;
	if (ftruncate(fc->fd, st.st_size) != 0)
		nsc_warn(ctx->log, FS_COMP,
			 "event=rollback_failed file=\"%s\" msg=\"%s; the partial line is removed before the next write\"",
			 fc->path, strerror(errno));
	return nsc_error_set(err, NSC_ERR_IO, "cannot append to %s: %s", fc->path, strerror(e));
}

static nsc_rc fs_write_collection(struct fs_ctx *ctx, const struct nsc_batch *b, enum nsc_collection c,
				  struct nsc_write_result *res, struct nsc_error *err)
{
	struct fs_coll *fc = &ctx->coll[c];
	size_t n = nsc_batch_count(b, c);
	struct nsc_id_set fresh; /* identifiers of this batch's new documents */
	struct nsc_strbuf buf = { 0 };
	size_t stored = 0, duplicates = 0;
	int64_t newest = fc->newest;
	nsc_rc rc = NSC_OK;

	if (n == 0)
		return NSC_OK;
	nsc_id_set_init(&fresh);

	for (size_t i = 0; i < n; i++) {
		struct json_object *doc = nsc_batch_get(b, c, i);
		char idbuf[NSC_UUID_BUF];
		const char *id = NULL;
		int64_t t;

		if (doc == NULL)
			continue;
		nsc_rc irc = fs_doc_identifier(doc, idbuf, &id);
		if (irc == NSC_ERR_NOMEM) {
			rc = nsc_error_set(err, irc, "out of memory writing %s", fc->path);
			goto out;
		}
		if (irc != NSC_OK) {
			nsc_warn(ctx->log, FS_COMP,
				 "event=document_skipped file=\"%s\" index=%zu msg=\"document has no identifier and no time\"",
				 fc->path, i);
			continue;
		}
		unsigned char key[NSC_ID_KEY_LEN];
		if (nsc_id_key(id, key) != NSC_OK) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory writing %s", fc->path);
			goto out;
		}
		if (nsc_id_set_has(&fc->ids, key) || nsc_id_set_has(&fresh, key)) {
			duplicates++;
			continue;
		}
		size_t len = 0;
		const char *text = json_object_to_json_string_length(doc, FS_JSON_FLAGS, &len);
		if (text == NULL || nsc_id_set_add(&fresh, key) != NSC_OK ||
		    nsc_strbuf_append(&buf, text, len) != NSC_OK || nsc_strbuf_append(&buf, "\n", 1) != NSC_OK) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory writing %s", fc->path);
			goto out;
		}
		stored++;
		if (nsc_doc_time_ms(doc, &t) == NSC_OK && t > newest)
			newest = t;
	}

	if (buf.len > 0) {
		rc = fs_append(ctx, fc, &buf, err);
		if (rc != NSC_OK)
			goto out;
		/* On disk now: only from here on do these identifiers count as held. */
		if (nsc_id_set_add_all(&fc->ids, &fresh) != NSC_OK) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory writing %s", fc->path);
			goto out;
		}
		fc->newest = newest;
	}
	if (res != NULL) {
		res->stored[c] += stored;
		res->duplicates[c] += duplicates;
	}
	nsc_dbg(ctx->log, FS_COMP, "event=write file=\"%s\" stored=%zu duplicates=%zu bytes=%zu", fc->path,
		stored, duplicates, buf.len);
out:
	nsc_strbuf_free(&buf);
	nsc_id_set_free(&fresh);
	return rc;
}

static nsc_rc fs_write(void *vctx, const struct nsc_batch *b, struct nsc_write_result *res,
		       struct nsc_error *err)
{
	struct fs_ctx *ctx = vctx;
	if (ctx == NULL || b == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "filesystem output is not open");
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		nsc_rc rc = fs_write_collection(ctx, b, (enum nsc_collection)c, res, err);
		if (rc != NSC_OK)
			return rc;
	}
	return NSC_OK;
}

static void fs_diagnose(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d)
{
	(void)log;
	nsc_diag_folder(d, "output folder", "CONNECT_OUTPUT_DIR", cfg->output_dir);
}

const struct nsc_output_driver nsc_output_filesystem = {
	.name = "filesystem",
	.open = fs_open,
	.close = fs_close,
	.last_known = fs_last_known,
	.write = fs_write,
	.diagnose = fs_diagnose,
};
