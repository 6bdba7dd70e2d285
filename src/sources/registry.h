/* SPDX-License-Identifier: MIT */
/*
 * The driver registry: one entry per CONNECT_SOURCE value, looked up by
 * name. An entry carries what the rest of the program needs to know about
 * a source: its name, its display name, a line of help, its driver (NULL
 * while it is not built yet; the bridge refuses to start it) and its rows
 * of the settings table. CONNECT_SOURCE's accepted values, its help and
 * its error message are derived from this table; the engine reaches the
 * drivers only through it.
 *
 * Adding a vendor: its folder under src/sources/ with its driver and its
 * <vendor>_settings.c rows (listed in src/local.mk), one NSC_SOURCE_ROWS()
 * line in sources/source_rows.h, one line in registry.c, its README
 * section. No edit of config.c, nsc_config.h's enums, settings.c or the
 * CLI; only the struct nsc_config fields its rows fill, for now.
 *
 * Ownership & concurrency: everything here is constant and shared.
 */
#ifndef NSC_SRC_SOURCES_REGISTRY_H
#define NSC_SRC_SOURCES_REGISTRY_H

#include <stddef.h>

#include "nsc_config.h"

struct nsc_source_driver;

struct nsc_source_entry {
	const char *name;  /* the CONNECT_SOURCE value, e.g. "dexcomshare" */
	const char *title; /* display name, e.g. "Dexcom Share" */
	const char *help;  /* one line: where the readings come from */
	const struct nsc_source_driver *driver; /* NULL: not built yet */
	const struct nsc_setting *rows;         /* its settings, in documentation order */
	const size_t *n_rows;                   /* how many (defined next to the rows) */
};

/* Every source, in documentation order. */
const struct nsc_source_entry *nsc_source_entries(size_t *count);

/* The entry CONNECT_SOURCE=name selects (any case), or NULL. */
const struct nsc_source_entry *nsc_source_by_name(const char *name);

/* The driver of a configured source, NULL when none or not built yet. */
const struct nsc_source_driver *nsc_source_driver_for(const struct nsc_source_entry *source);

/* "simulator, dexcomshare, ..." into buf (cut to fit); returns buf. */
char *nsc_source_names(char *buf, size_t size);

#endif
