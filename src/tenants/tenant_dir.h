/* SPDX-License-Identifier: MIT */
/*
 * The tenants folder of `serve`: every NAME.env file in it is one bridge,
 * named NAME. Listing it gives each file's name, path and stamp (device,
 * inode, size, modification time), so a rescan tells a changed file from
 * an unchanged one without reading it.
 */
#ifndef NSC_TENANTS_TENANT_DIR_H
#define NSC_TENANTS_TENANT_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "log.h"

#define NSC_TENANT_NAME_MAX 64

struct nsc_file_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

struct nsc_tenant_file {
	char name[NSC_TENANT_NAME_MAX];
	char *path;
	struct nsc_file_stamp stamp;
};

/*
 * A tenant's name: 1 to 63 letters, digits, '.', '_', '-' or '@', not
 * starting with '.' (it appears in logs and metric labels as is).
 */
bool nsc_tenant_name_valid(const char *name);

bool nsc_file_stamp_equal(const struct nsc_file_stamp *a, const struct nsc_file_stamp *b);

/*
 * The NAME.env regular files (symbolic links followed) in dir, sorted by
 * name. A file whose NAME is not a valid tenant name is reported on log
 * (once per listing) and left out. NSC_ERR_CONFIG when dir cannot be read.
 */
nsc_rc nsc_tenant_dir_list(const char *dir, struct nsc_log *log, struct nsc_tenant_file **files, size_t *n,
			   struct nsc_error *err);
void nsc_tenant_files_free(struct nsc_tenant_file *files, size_t n);

#endif
