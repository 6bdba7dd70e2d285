/* SPDX-License-Identifier: MIT */
/*
 * Durable file writes shared by the outputs that keep data on disk (the
 * filesystem output and the spool): write everything despite short writes
 * and signals, and sync despite EINTR. All return 0, or -1 with errno set.
 */
#ifndef NSC_SRC_FILEIO_H
#define NSC_SRC_FILEIO_H

#include <stddef.h>

#include "error.h"

int nsc_write_all(int fd, const char *p, size_t n);
int nsc_fsync(int fd);
int nsc_fdatasync(int fd);

/*
 * What an errno from creating or opening a configured directory (or a file
 * in it) means: NSC_ERR_CONFIG when the user must fix the path (missing,
 * not a directory, no permission, read-only, loops, too long, exists),
 * NSC_ERR_IO for everything else (disk full, I/O error, ...).
 */
nsc_rc nsc_path_errno_rc(int e);

/*
 * Reads a whole small file into a new NUL-terminated buffer (*out, caller
 * frees; *len without the NUL). 0, or -1 with errno (EFBIG beyond max).
 */
int nsc_read_small_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Creates the directory path's file lives in (one level, mode 0700) when
 * it is missing, for small state files in a configured folder. 0, or -1
 * with errno.
 */
int nsc_make_parent_dir(const char *path);

#endif
