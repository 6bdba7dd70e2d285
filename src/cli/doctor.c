/* SPDX-License-Identifier: MIT */
/* `nightscout-connect doctor` (see doctor.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli/doctor.h"
#include "cli/usage.h"
#include "doctor/doctor.h"
#include "tenants/tenant_config.h"
#include "tenants/tenant_dir.h"

static const char *const fix_settings = "see `nightscout-connect settings` for each setting's form";

/* Says every problem of a refused configuration. */
static void say_refused(struct nsc_diag *d, struct nsc_log *log, const struct nsc_config_report *rep,
			const struct nsc_error *err)
{
	for (size_t i = 0; i < rep->count; i++) {
		char *safe = nsc_log_redact(log, rep->problems[i].message);
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "settings", fix_settings, "%s", safe ? safe : "refused");
		free(safe);
	}
	if (rep->count == 0) {
		char *safe = nsc_log_redact(log, err->msg);
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "settings", fix_settings, "%s", safe && *safe ? safe : "refused");
		free(safe);
	}
}

/* Loads and checks one bridge's settings (path: a tenant's env file, or NULL for the process's). */
static void doctor_one(const char *tenant, const char *path, nsc_config_lookup_fn lookup, void *ctx,
		       struct nsc_log *log, struct nsc_diag *d)
{
	struct nsc_config cfg;
	struct nsc_config_report rep;
	struct nsc_error err;
	nsc_config_init(&cfg);
	nsc_config_report_init(&rep);
	nsc_error_clear(&err);
	nsc_rc rc = path ? nsc_tenant_config_load(tenant, path, lookup, ctx, false, &cfg, &rep, NULL, &err)
			 : nsc_config_load_report(&cfg, lookup, ctx, &rep, &err);
	if (rc == NSC_OK)
		rc = nsc_config_register_secrets(&cfg, log);
	if (rc != NSC_OK)
		say_refused(d, log, &rep, &err);
	else
		nsc_doctor_run(&cfg, log, d);
	nsc_config_report_free(&rep);
	nsc_config_free(&cfg);
}

int nsc_cli_doctor(const struct nsc_cli_doctor_args *a, nsc_config_lookup_fn lookup, void *ctx,
		   struct nsc_log *log, FILE *out)
{
	struct nsc_diag d = { .out = out };
	const char *dir = a->tenants_dir ? a->tenants_dir : lookup(ctx, "CONNECT_TENANTS_DIR");
	if (dir == NULL || dir[0] == '\0') {
		doctor_one(NULL, NULL, lookup, ctx, log, &d);
	} else {
		struct nsc_tenant_file *files = NULL;
		size_t n = 0;
		struct nsc_error err;
		nsc_error_clear(&err);
		if (nsc_tenant_dir_list(dir, log, &files, &n, &err) != NSC_OK) {
			nsc_diag_say(&d, NSC_DIAG_PROBLEM, "tenants", "give --tenants (or CONNECT_TENANTS_DIR) a folder of NAME.env files",
				     "%s", err.msg);
			return NSC_EXIT_USAGE;
		}
		if (n == 0)
			nsc_diag_say(&d, NSC_DIAG_PROBLEM, "tenants", "put one NAME.env file per bridge in the folder",
				     "%s holds no NAME.env file", dir);
		for (size_t i = 0; i < n; i++) {
			d.tenant = files[i].name;
			doctor_one(files[i].name, files[i].path, lookup, ctx, log, &d);
		}
		d.tenant = NULL;
		nsc_tenant_files_free(files, n);
	}
	fprintf(out, "%u ok, %u warning%s, %u problem%s\n", d.count[NSC_DIAG_OK], d.count[NSC_DIAG_WARNING],
		d.count[NSC_DIAG_WARNING] == 1 ? "" : "s", d.count[NSC_DIAG_PROBLEM],
		d.count[NSC_DIAG_PROBLEM] == 1 ? "" : "s");
	return d.count[NSC_DIAG_PROBLEM] ? 1 : 0;
}
