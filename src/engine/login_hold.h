/* SPDX-License-Identifier: MIT */
/*
 * The lockout guard, kept on disk: after a rejected login the bridge
 * writes when it was rejected, what the vendor said and when the next
 * login is allowed, in CONNECT_SPOOL_DIR/login-hold-<source>.json. A
 * restarted bridge (systemd restarts it, the user reruns it) and
 * `doctor` honour it, so neither hits a vendor that is locking the
 * account again. The next accepted login removes it.
 *
 * The hold belongs to the settings it was rejected with: the file keeps a
 * salted SHA-256 of the source's settings (never the settings), and a
 * hold whose digest differs from the current settings does not apply,
 * so fixing the password takes effect at once.
 */
#ifndef NSC_ENGINE_LOGIN_HOLD_H
#define NSC_ENGINE_LOGIN_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "nsc_config.h"

#define NSC_LOGIN_HOLD_DIGEST_HEX 65 /* 64 hex digits and the NUL */
#define NSC_LOGIN_HOLD_SALT_HEX 33   /* 32 hex digits and the NUL */

struct nsc_login_hold {
	int64_t rejected_at_ms; /* wall time of the last rejected login */
	int64_t until_ms;       /* no login before this wall time */
	unsigned rejections;    /* rejected logins in a row */
	char message[NSC_ERROR_MSG_MAX]; /* the plain words the user was given */
	char salt[NSC_LOGIN_HOLD_SALT_HEX];
	char digest[NSC_LOGIN_HOLD_DIGEST_HEX];
};

/* CONNECT_SPOOL_DIR/login-hold-<source>.json (new string), or NULL: no spool folder, or out of memory. */
char *nsc_login_hold_path(const struct nsc_config *cfg, const char *source_name);

/*
 * Reads the hold at path. NSC_OK; NSC_ERR_NOT_FOUND when there is none;
 * NSC_ERR_PARSE (err says why) for a file that is not a hold.
 */
nsc_rc nsc_login_hold_load(const char *path, struct nsc_login_hold *h, struct nsc_error *err);

/*
 * Fills h's salt (when empty) and digest for cfg's source settings, then
 * writes h atomically (creating the folder when missing).
 */
nsc_rc nsc_login_hold_save(const char *path, struct nsc_login_hold *h, const struct nsc_config *cfg,
			   struct nsc_error *err);

/* Removes the hold; NSC_OK also when there was none. */
nsc_rc nsc_login_hold_clear(const char *path, struct nsc_error *err);

/* Whether h was written for cfg's current source settings. */
bool nsc_login_hold_matches(const struct nsc_login_hold *h, const struct nsc_config *cfg);

#endif
