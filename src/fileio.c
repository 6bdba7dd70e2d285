/* SPDX-License-Identifier: MIT */
/* Durable file writes (see fileio.h). */
#include "config.h"

#include <errno.h>
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
