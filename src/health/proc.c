/* SPDX-License-Identifier: MIT */
/* This process's memory, CPU, start time and descriptors (see proc.h). */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "health/proc.h"

/* Reads a small /proc file whole into buf (NUL-terminated); false when it cannot. */
static bool read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, size - 1, f);
	bool ok = !ferror(f) && n > 0;
	fclose(f);
	buf[n] = '\0';
	return ok;
}

static void read_rss(struct nsc_health_proc *p)
{
	char buf[256];
	unsigned long long size_pages, rss_pages;
	long page = sysconf(_SC_PAGESIZE);

	if (page > 0 && read_small("/proc/self/statm", buf, sizeof(buf)) &&
	    sscanf(buf, "%llu %llu", &size_pages, &rss_pages) == 2) {
		p->rss_bytes = (uint64_t)rss_pages * (uint64_t)page;
		p->has_rss = true;
	}
}

static void read_cpu(struct nsc_health_proc *p)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		p->cpu_ms = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
			    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
		p->has_cpu = true;
	}
}

/* The boot time (btime, epoch seconds) from /proc/stat, whose lines can be long (intr). */
static bool boot_time(long long *out)
{
	FILE *f = fopen("/proc/stat", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) >= 0)
		found = strncmp(line, "btime ", 6) == 0 && sscanf(line + 6, "%lld", out) == 1;
	free(line);
	fclose(f);
	return found;
}

/*
 * Field 22 of /proc/self/stat is the start time in clock ticks after boot.
 * Field 2 (the command name) is in parentheses and may hold spaces and
 * parentheses itself, so the count starts after its last ')'.
 */
static void read_start(struct nsc_health_proc *p)
{
	char buf[1024];
	const char *s;
	unsigned long long ticks;
	long long btime;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0 || !read_small("/proc/self/stat", buf, sizeof(buf)) || !boot_time(&btime))
		return;
	s = strrchr(buf, ')');
	if (!s)
		return;
	s++;
	/* Fields 3 to 21 come before it. */
	for (int field = 3; field <= 21; field++) {
		s += strspn(s, " ");
		s += strcspn(s, " ");
	}
	if (sscanf(s, " %llu", &ticks) != 1)
		return;
	p->start_ms = (int64_t)btime * 1000 + (int64_t)(ticks * 1000 / (unsigned long long)hz);
	p->has_start = true;
}

static void read_fds(struct nsc_health_proc *p)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	/* The directory's own descriptor was open while it was read. */
	p->open_fds = n > 0 ? n - 1 : 0;
	p->has_fds = true;
}

void nsc_health_proc_read(struct nsc_health_proc *out)
{
	memset(out, 0, sizeof(*out));
	read_rss(out);
	read_cpu(out);
	read_start(out);
	read_fds(out);
}
