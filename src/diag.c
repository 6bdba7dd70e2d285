/* SPDX-License-Identifier: MIT */
/* doctor's findings (see diag.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

static const char *const level_words[] = { "ok", "warning", "problem" };

void nsc_diag_say(struct nsc_diag *d, enum nsc_diag_level level, const char *check, const char *fix,
		  const char *fmt, ...)
{
	if ((unsigned)level > NSC_DIAG_PROBLEM)
		level = NSC_DIAG_PROBLEM;
	d->count[level]++;
	char text[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (d->tenant)
		fprintf(d->out, "%-8s %s: %s: %s\n", level_words[level], d->tenant, check, text);
	else
		fprintf(d->out, "%-8s %s: %s\n", level_words[level], check, text);
	if (fix && level != NSC_DIAG_OK)
		fprintf(d->out, "         fix: %s\n", fix);
	fflush(d->out);
}

/* Creates and removes a temporary file in dir; 0, or -1 with errno. */
static int try_file_in(const char *dir)
{
	size_t n = strlen(dir) + sizeof("/.nsconnect-doctor-XXXXXX");
	char *path = malloc(n);
	if (path == NULL) {
		errno = ENOMEM;
		return -1;
	}
	snprintf(path, n, "%s/.nsconnect-doctor-XXXXXX", dir);
	int fd = mkstemp(path);
	int e = errno;
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	free(path);
	errno = e;
	return fd >= 0 ? 0 : -1;
}

void nsc_diag_folder(struct nsc_diag *d, const char *check, const char *setting, const char *dir)
{
	char fix[256];
	snprintf(fix, sizeof(fix), "set %s to a folder the user running nsconnect may write in, or make it so",
		 setting);
	struct stat st;
	if (dir == NULL || dir[0] == '\0') {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, check, fix, "%s is empty", setting);
		return;
	}
	if (stat(dir, &st) != 0) {
		int e = errno;
		char *parent = strdup(dir);
		char *slash = parent ? strrchr(parent, '/') : NULL;
		if (slash == parent)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		const char *p = parent == NULL ? NULL : slash ? parent : ".";
		if (e == ENOENT && p && stat(p, &st) == 0 && S_ISDIR(st.st_mode) && access(p, W_OK | X_OK) == 0)
			nsc_diag_say(d, NSC_DIAG_OK, check, NULL, "%s (%s) does not exist yet; it will be created", dir,
				     setting);
		else
			nsc_diag_say(d, NSC_DIAG_PROBLEM, check, fix, "%s (%s) cannot be created: %s", dir, setting,
				     strerror(e == ENOENT && p ? (stat(p, &st) == 0 ? EACCES : errno) : e));
		free(parent);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, check, fix, "%s (%s) is not a folder", dir, setting);
		return;
	}
	if (try_file_in(dir) != 0) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, check, fix, "cannot write in %s (%s): %s", dir, setting, strerror(errno));
		return;
	}
	nsc_diag_say(d, NSC_DIAG_OK, check, NULL, "%s (%s) is writable", dir, setting);
}

void nsc_diag_minutes(int64_t ms, char *buf, size_t size)
{
	int64_t min = ms / 60000;
	if (min < 120)
		snprintf(buf, size, "%lld min", (long long)min);
	else
		snprintf(buf, size, "%lld h %lld min", (long long)(min / 60), (long long)(min % 60));
}
