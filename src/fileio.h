/* SPDX-License-Identifier: MIT */
/*
 * Durable file writes shared by the outputs that keep data on disk (the
 * filesystem output and the spool): write everything despite short writes
 * and signals, and sync despite EINTR. All return 0, or -1 with errno set.
 */
#ifndef NSC_SRC_FILEIO_H
#define NSC_SRC_FILEIO_H

#include <stddef.h>

int nsc_write_all(int fd, const char *p, size_t n);
int nsc_fsync(int fd);
int nsc_fdatasync(int fd);

#endif
