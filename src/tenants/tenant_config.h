/* SPDX-License-Identifier: MIT */
/*
 * One tenant's settings, as `serve` and `doctor --tenants` read them: its
 * NAME.env file over the process's settings (the defaults), and the data
 * folders it leaves to the defaults made its own (the default folder +
 * /NAME), so two tenants never share a spool or output folder by accident.
 */
#ifndef NSC_TENANTS_TENANT_CONFIG_H
#define NSC_TENANTS_TENANT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "nsc_config.h"

/*
 * Loads cfg (initialised by the caller) for tenant `name` from the env file
 * at path over `defaults`. NSC_ERR_CONFIG with rep listing every problem
 * (or err for a file that cannot be read); *fingerprint (may be NULL) as
 * nsc_config_envfile_read gives it. make_parent: create the common parent
 * of the tenants' default folders (serve does; doctor stores nothing).
 */
nsc_rc nsc_tenant_config_load(const char *name, const char *path, nsc_config_lookup_fn defaults,
			      void *defaults_ctx, bool make_parent, struct nsc_config *cfg,
			      struct nsc_config_report *rep, uint64_t *fingerprint, struct nsc_error *err);

#endif
