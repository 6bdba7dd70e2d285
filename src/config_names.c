/* SPDX-License-Identifier: MIT */
/* The names CONNECT_SOURCE, CONNECT_OUTPUT and CONNECT_LOG_LEVEL take. */
#include "config.h"

#include <stdbool.h>
#include <strings.h>

#include "cfg_internal.h"
#include "nsc_config.h"
#include "sources/registry.h"

static const char *const output_names[] = {
	[NSC_OUTPUT_AUTO] = "auto",
	[NSC_OUTPUT_MONGO] = "mongo",
	[NSC_OUTPUT_REST] = "rest",
	[NSC_OUTPUT_REST3] = "rest3",
	[NSC_OUTPUT_FILESYSTEM] = "filesystem",
};

static const char *const log_level_names[] = {
	[NSC_LOG_ERROR] = "error", [NSC_LOG_WARN] = "warn",   [NSC_LOG_INFO] = "info",
	[NSC_LOG_DEBUG] = "debug", [NSC_LOG_TRACE] = "trace",
};

const char *nsc_source_name(const struct nsc_source_entry *source)
{
	return source ? source->name : "none";
}

const char *nsc_output_kind_name(enum nsc_output_kind k)
{
	if ((unsigned)k >= NSC_CFG_COUNT(output_names))
		return "unknown";
	return output_names[k];
}

const char *nsc_cfg_log_level_name(enum nsc_log_level level)
{
	if ((unsigned)level >= NSC_CFG_COUNT(log_level_names))
		return NULL;
	return log_level_names[level];
}

/* The index in names[] that `value` spells (any case), or -1. */
static int name_index(const char *value, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (names[i] && strcasecmp(value, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

bool nsc_cfg_log_level_parse(const char *value, enum nsc_log_level *out)
{
	int i = name_index(value, log_level_names, NSC_CFG_COUNT(log_level_names));

	if (i < 0)
		return false;
	*out = (enum nsc_log_level)i;
	return true;
}

bool nsc_cfg_output_parse(const char *value, enum nsc_output_kind *out)
{
	int i = name_index(value, output_names, NSC_CFG_COUNT(output_names));

	if (i < 0)
		return false;
	*out = (enum nsc_output_kind)i;
	return true;
}
