/* SPDX-License-Identifier: MIT */
/*
 * Replacing a small file all at once, so a crash or a full disk never
 * leaves it half written (a token file cut short would lock the user
 * out): a temporary file in the same directory (mkostemp, O_CLOEXEC, mode
 * exactly 0600 whatever the umask), write everything, fsync, rename over
 * the target, fsync the directory so the rename itself survives a crash.
 *
 * A failure before the rename removes the temporary file and leaves the
 * target as it was; a failure of the directory's fsync leaves the new
 * file in place (it is complete) and is still reported.
 *
 * Ownership & concurrency: pure file system work; two writers of the same
 * path race for the last rename, each file whole.
 */
#ifndef NSC_SRC_ATOMIC_FILE_H
#define NSC_SRC_ATOMIC_FILE_H

#include <stddef.h>

/*
 * Writes text[0, len) as path. 0 on success; -1 with errno set and *step
 * (if not NULL) the words for what failed ("create a temporary file
 * beside", "write", ...), to go before the path in a message.
 */
int nsc_atomic_file_write(const char *path, const char *text, size_t len, const char **step);

#endif
