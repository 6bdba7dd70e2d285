/* SPDX-License-Identifier: MIT */
/* One tenant's settings (see tenant_config.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tenants/tenant_config.h"

static bool kv_has_own(const struct nsc_config_kv *kv, const char *name)
{
	for (size_t i = 0; i < kv->count; i++)
		if (strcmp(kv->keys[i], name) == 0)
			return true;
	return false;
}

/* A folder setting the file leaves to the defaults becomes the default's /NAME. */
static nsc_rc own_folder(const char *name, nsc_config_lookup_fn defaults, void *ctx, bool make_parent,
			 struct nsc_config_kv *kv, const char *setting)
{
	if (kv_has_own(kv, setting))
		return NSC_OK;
	const struct nsc_setting *s = nsc_setting_by_name(setting);
	const char *base = defaults ? defaults(ctx, setting) : NULL;
	if (!base || !base[0])
		base = s && s->default_text ? s->default_text : ".";
	size_t len = strlen(base) + 1 + strlen(name) + 1;
	char *dir = malloc(len);
	if (!dir)
		return NSC_ERR_NOMEM;
	snprintf(dir, len, "%s/%s", base, name);
	/* The tenants' common parent is ours to make; each output makes its own folder in it. */
	if (make_parent)
		(void)mkdir(base, 0700);
	nsc_rc rc = nsc_config_kv_set(kv, setting, dir);
	free(dir);
	return rc;
}

nsc_rc nsc_tenant_config_load(const char *name, const char *path, nsc_config_lookup_fn defaults,
			      void *defaults_ctx, bool make_parent, struct nsc_config *cfg,
			      struct nsc_config_report *rep, uint64_t *fingerprint, struct nsc_error *err)
{
	struct nsc_config_kv kv;
	nsc_config_kv_init(&kv, defaults, defaults_ctx);
	nsc_rc rc = nsc_config_envfile_read(path, &kv, fingerprint, err);
	if (rc == NSC_OK)
		rc = own_folder(name, defaults, defaults_ctx, make_parent, &kv, "CONNECT_SPOOL_DIR");
	if (rc == NSC_OK)
		rc = own_folder(name, defaults, defaults_ctx, make_parent, &kv, "CONNECT_OUTPUT_DIR");
	if (rc == NSC_OK)
		rc = nsc_config_load_report(cfg, nsc_config_kv_lookup, &kv, rep, err);
	nsc_config_kv_free(&kv);
	return rc;
}
