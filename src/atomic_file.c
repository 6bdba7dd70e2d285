/* SPDX-License-Identifier: MIT */
/* Replacing a small file all at once (see atomic_file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "atomic_file.h"

#define TMP_SUFFIX ".XXXXXX"

/* "dir/.name.XXXXXX" beside path (NULL when out of memory). */
static char *temp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	size_t n = strlen(path) + 1 + strlen(TMP_SUFFIX) + 1;
	char *t = malloc(n);
	if (t == NULL)
		return NULL;
	snprintf(t, n, "%.*s.%s" TMP_SUFFIX, (int)dir_len, path, path + dir_len);
	return t;
}

/* The directory path lives in, opened for fsync; -1 with errno. */
static int open_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	char *dir = strndup(path, n);
	if (dir == NULL) {
		errno = ENOMEM;
		return -1;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e = errno;
	free(dir);
	errno = e;
	return fd;
}

int nsc_atomic_file_write(const char *path, const char *text, size_t len, const char **step)
{
	const char *what = "make room for the temporary name of";
	bool created = false, renamed = false;
	int fd = -1, e;
	char *tmp = temp_template(path);
	if (tmp == NULL) {
		e = ENOMEM;
		goto fail;
	}
	what = "create a temporary file beside";
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail_errno;
	created = true;
	what = "set the mode of the temporary file beside";
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0)
		goto fail_errno;
	what = "write the temporary file beside";
	if (nsc_write_all(fd, text, len) != 0)
		goto fail_errno;
	what = "sync the temporary file beside";
	if (nsc_fsync(fd) != 0)
		goto fail_errno;
	what = "close the temporary file beside";
	int crc = close(fd);
	fd = -1;
	if (crc != 0)
		goto fail_errno;
	what = "rename the temporary file over";
	if (rename(tmp, path) != 0)
		goto fail_errno;
	renamed = true;
	what = "sync the directory of";
	int dfd = open_dir(path);
	if (dfd < 0)
		goto fail_errno;
	int src = nsc_fsync(dfd);
	e = errno;
	(void)close(dfd); /* read-only descriptor: nothing to lose */
	if (src != 0)
		goto fail;
	free(tmp);
	return 0;

fail_errno:
	e = errno;
fail:
	if (fd >= 0)
		(void)close(fd); /* already failing: errno of the first failure is the one to tell */
	if (created && !renamed)
		(void)unlink(tmp);
	free(tmp);
	if (step != NULL)
		*step = what;
	errno = e;
	return -1;
}
