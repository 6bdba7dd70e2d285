/* SPDX-License-Identifier: MIT */
/* Listing the tenants folder (see tenant_dir.h). */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tenants/tenant_dir.h"

#define ENV_SUFFIX ".env"

bool nsc_tenant_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= NSC_TENANT_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-' && c != '@')
			return false;
	}
	return true;
}

bool nsc_file_stamp_equal(const struct nsc_file_stamp *a, const struct nsc_file_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct nsc_tenant_file *)a)->name, ((const struct nsc_tenant_file *)b)->name);
}

void nsc_tenant_files_free(struct nsc_tenant_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++)
		free(files[i].path);
	free(files);
}

/* One directory entry: 1 when it is a tenant file (added), 0 when not, -1 when memory ran out. */
static int add_entry(const char *dir, const char *entry, struct nsc_log *log, struct nsc_tenant_file **files,
		     size_t *n, size_t *cap)
{
	size_t len = strlen(entry), sl = strlen(ENV_SUFFIX);
	if (len <= sl || strcmp(entry + len - sl, ENV_SUFFIX) != 0 || entry[0] == '.')
		return 0;
	char name[NSC_TENANT_NAME_MAX];
	if (len - sl >= sizeof(name)) {
		nsc_err(log, "serve", "event=tenant_skipped file=\"%s/%s\" msg=\"a tenant's file name may be at most %d characters before .env\"",
			dir, entry, NSC_TENANT_NAME_MAX - 1);
		return 0;
	}
	memcpy(name, entry, len - sl);
	name[len - sl] = '\0';
	if (!nsc_tenant_name_valid(name)) {
		nsc_err(log, "serve", "event=tenant_skipped file=\"%s/%s\" msg=\"a tenant's name (the file name before .env) may hold only letters, digits, '.', '_', '-' and '@'; rename the file\"",
			dir, entry);
		return 0;
	}
	size_t plen = strlen(dir) + 1 + len + 1;
	char *path = malloc(plen);
	if (!path)
		return -1;
	snprintf(path, plen, "%s/%s", dir, entry);
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		free(path); /* gone meanwhile, a dangling link or not a file: not a tenant */
		return 0;
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct nsc_tenant_file *bigger = realloc(*files, ncap * sizeof(**files));
		if (!bigger) {
			free(path);
			return -1;
		}
		*files = bigger;
		*cap = ncap;
	}
	struct nsc_tenant_file *f = &(*files)[(*n)++];
	memcpy(f->name, name, len - sl + 1);
	f->path = path;
	f->stamp = (struct nsc_file_stamp){
		.dev = (uint64_t)st.st_dev,
		.ino = (uint64_t)st.st_ino,
		.size = (uint64_t)st.st_size,
		.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
	};
	return 1;
}

nsc_rc nsc_tenant_dir_list(const char *dir, struct nsc_log *log, struct nsc_tenant_file **files, size_t *n,
			   struct nsc_error *err)
{
	*files = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return nsc_error_set(err, errno == ENOMEM ? NSC_ERR_NOMEM : NSC_ERR_CONFIG,
				     "CONNECT_TENANTS_DIR: cannot read the tenants folder %s: %s", dir, strerror(errno));
	size_t cap = 0;
	struct dirent *e;
	nsc_rc rc = NSC_OK;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (add_entry(dir, e->d_name, log, files, n, &cap) < 0) {
			rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory listing %s", dir);
			break;
		}
		errno = 0;
	}
	if (rc == NSC_OK && errno != 0)
		rc = nsc_error_set(err, NSC_ERR_IO, "cannot read the tenants folder %s: %s", dir, strerror(errno));
	closedir(d);
	if (rc != NSC_OK) {
		nsc_tenant_files_free(*files, *n);
		*files = NULL;
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(*files, *n, sizeof(**files), by_name);
	return NSC_OK;
}
