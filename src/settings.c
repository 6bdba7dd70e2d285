/* SPDX-License-Identifier: MIT */
/*
 * The settings table as one list: the general rows, each registered
 * source's rows, then the output and spool rows (settings_rows.c,
 * sources/<vendor>/<vendor>_settings.c, reached through the registry),
 * and the help text derived from a row. The CLI's flags and `settings`
 * command, the README check and config.c all read exactly these rows.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nsc_config.h"
#include "settings_rows.h"
#include "sources/registry.h"

/* Row i of the list and, for a source's row, its entry. */
static const struct nsc_setting *row_at(size_t i, const struct nsc_source_entry **owner)
{
	size_t n_src;
	const struct nsc_source_entry *src = nsc_source_entries(&n_src);

	*owner = NULL;
	if (i < nsc_general_settings_count)
		return &nsc_general_settings[i];
	i -= nsc_general_settings_count;
	for (size_t e = 0; e < n_src; e++) {
		if (i < *src[e].n_rows) {
			*owner = &src[e];
			return &src[e].rows[i];
		}
		i -= *src[e].n_rows;
	}
	if (i < nsc_output_settings_count)
		return &nsc_output_settings[i];
	return NULL;
}

size_t nsc_settings_count(void)
{
	size_t n_src, n = nsc_general_settings_count + nsc_output_settings_count;
	const struct nsc_source_entry *src = nsc_source_entries(&n_src);

	for (size_t e = 0; e < n_src; e++)
		n += *src[e].n_rows;
	return n;
}

const struct nsc_setting *nsc_setting_at(size_t i)
{
	const struct nsc_source_entry *owner;

	return row_at(i, &owner);
}

const struct nsc_source_entry *nsc_setting_source(const struct nsc_setting *s)
{
	const struct nsc_source_entry *owner;
	const struct nsc_setting *r;

	for (size_t i = 0; (r = row_at(i, &owner)) != NULL; i++) {
		if (r == s)
			return owner;
	}
	return NULL;
}

const struct nsc_setting *nsc_setting_by_name(const char *env_name)
{
	const struct nsc_setting *r;

	if (!env_name)
		return NULL;
	for (size_t i = 0; (r = nsc_setting_at(i)) != NULL; i++) {
		if (strcmp(r->name, env_name) == 0)
			return r;
	}
	return NULL;
}

char *nsc_setting_flag(const struct nsc_setting *s, char *buf, size_t size)
{
	const char *name = s->name;
	size_t j = 0;

	if (size == 0)
		return buf;
	if (strncmp(name, "CONNECT_", 8) == 0)
		name += 8;
	for (; *name != '\0' && j + 1 < size; name++)
		buf[j++] = *name == '_' ? '-' : (char)tolower((unsigned char)*name);
	buf[j] = '\0';
	return buf;
}

const struct nsc_setting *nsc_setting_by_flag(const char *flag)
{
	const struct nsc_setting *r;
	char mine[NSC_SETTING_FLAG_MAX];

	if (!flag)
		return NULL;
	for (size_t i = 0; (r = nsc_setting_at(i)) != NULL; i++) {
		if (strcmp(nsc_setting_flag(r, mine, sizeof(mine)), flag) == 0)
			return r;
	}
	return NULL;
}

const char *nsc_setting_group_title(enum nsc_setting_group g)
{
	switch (g) {
	case NSC_GROUP_GENERAL:
		return "General";
	case NSC_GROUP_SOURCE:
		return "Source";
	case NSC_GROUP_REST_OUTPUT:
		return "Nightscout REST output (rest, rest3)";
	case NSC_GROUP_MONGO_OUTPUT:
		return "MongoDB output (mongo)";
	case NSC_GROUP_FILESYSTEM_OUTPUT:
		return "Filesystem output (filesystem)";
	case NSC_GROUP_SPOOL:
		return "Spool (MongoDB and REST outputs)";
	}
	return "Other";
}

/* Appends to buf (size, *used) what fits. */
static void put(char *buf, size_t size, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used + 1 >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*used = (size_t)n >= size - *used ? size - 1 : *used + (size_t)n;
}

static void put_form(const struct nsc_setting *s, char *buf, size_t size, size_t *used)
{
	char names[256];

	switch (s->check) {
	case NSC_CHECK_RANGE:
		put(buf, size, used, "; a whole number of %s from %lld to %lld", s->unit, s->min,
		    s->max);
		break;
	case NSC_CHECK_U64:
		put(buf, size, used, "; an unsigned 64-bit decimal number");
		break;
	case NSC_CHECK_ENUM:
		put(buf, size, used, "; one of ");
		for (size_t i = 0; s->choices && s->choices[i]; i++)
			put(buf, size, used, "%s%s", i ? ", " : "", s->choices[i]);
		break;
	case NSC_CHECK_SERVER:
		put(buf, size, used, "; a host name, host:port or http(s)://host[:port][/path]");
		break;
	case NSC_CHECK_ENDPOINT:
		put(buf, size, used, "; a full URL http(s)://host[:port][/path]");
		break;
	case NSC_CHECK_VERSION:
		put(buf, size, used, "; digits and dots like 4.16.0");
		break;
	case NSC_CHECK_COLLECTION:
		put(buf, size, used, "; a collection name");
		break;
	case NSC_CHECK_LISTEN:
		put(buf, size, used, "; IP:PORT, [IPv6]:PORT or a port alone");
		break;
	case NSC_CHECK_OWN:
		if (strcmp(s->name, "CONNECT_SOURCE") == 0)
			put(buf, size, used, "; one of %s", nsc_source_names(names, sizeof(names)));
		break;
	case NSC_CHECK_NONE:
	case NSC_CHECK_COUNTRY:
	case NSC_CHECK_TIMEZONE:
		break;
	}
}

char *nsc_setting_describe(const struct nsc_setting *s, char *buf, size_t size)
{
	const struct nsc_source_entry *src = nsc_setting_source(s);
	size_t used = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	put(buf, size, &used, "%s", s->help);
	put_form(s, buf, size, &used);
	if (s->required && src)
		put(buf, size, &used, "; required for %s", src->name);
	else if (s->required)
		put(buf, size, &used, "; required");
	if (s->default_text)
		put(buf, size, &used, "; default %s", s->default_text);
	else if (s->required)
		put(buf, size, &used, ", no default");
	put(buf, size, &used, ".");
	return buf;
}
