/* SPDX-License-Identifier: MIT */
/*
 * What `doctor` prints: one line per check, "ok", "warning" or "problem",
 * the check's name and what was found, and for a problem (or a warning
 * worth acting on) an indented "fix:" line in plain words naming the
 * setting to change. Sources and outputs add their own checks through it
 * (output.h's diagnose), so each knows its own store.
 *
 * Nothing here may carry a secret: callers pass the same secret-free
 * words they would log.
 */
#ifndef NSC_SRC_DIAG_H
#define NSC_SRC_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum nsc_diag_level { NSC_DIAG_OK, NSC_DIAG_WARNING, NSC_DIAG_PROBLEM };

struct nsc_diag {
	FILE *out;
	const char *tenant; /* printed before each check when not NULL (serve's tenants) */
	unsigned count[NSC_DIAG_PROBLEM + 1];
};

/* One finding; fix may be NULL. */
void nsc_diag_say(struct nsc_diag *d, enum nsc_diag_level level, const char *check, const char *fix,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Checks that dir (the value of `setting`) is a folder nsconnect can
 * write in: creates and removes one temporary file there, or, when it
 * does not exist yet, checks that it can be created (it is not).
 */
void nsc_diag_folder(struct nsc_diag *d, const char *check, const char *setting, const char *dir);

/* A duration for people: "12 min", "3 h 5 min" (minutes, rounded down). */
void nsc_diag_minutes(int64_t ms, char *buf, size_t size);

#endif
