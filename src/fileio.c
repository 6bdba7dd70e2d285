/* SPDX-License-Identifier: MIT */
/* Durable file writes (see fileio.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int nsc_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int nsc_fsync(int fd)
{
	while (fsync(fd) != 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

int nsc_fdatasync(int fd)
{
	while (fdatasync(fd) != 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

nsc_rc nsc_path_errno_rc(int e)
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

int nsc_read_small_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int e = buf ? 0 : ENOMEM;
	while (e == 0) {
		if (n + 1 >= cap) {
			char *bigger = cap > max ? NULL : realloc(buf, cap * 2);
			if (!bigger) {
				e = cap > max ? EFBIG : ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			e = errno;
		else if (r == 0)
			break;
		else
			n += (size_t)r;
		if (n > max)
			e = EFBIG;
	}
	close(fd);
	if (e != 0) {
		free(buf);
		errno = e;
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int nsc_make_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return 0;
	char *dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL) {
		errno = ENOMEM;
		return -1;
	}
	int rc = mkdir(dir, 0700);
	int e = errno;
	free(dir);
	if (rc != 0 && e != EEXIST) {
		errno = e;
		return -1;
	}
	return 0;
}
