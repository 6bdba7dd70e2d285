/* SPDX-License-Identifier: MIT */
/*
 * The CareLink token file (CONNECT_CARELINK_TOKEN_FILE): the JSON object
 * carelink-python-client writes after a browser login (logindata.json),
 * {access_token, refresh_token, client_id, token_url, audience, scope,
 * ...}. CareLink's login cannot be scripted, so the user logs in once with
 * that tool and we keep the tokens alive: load at start, save each time
 * the refresh token rotates (or the next start cannot log in).
 *
 * Load requires access_token, refresh_token, client_id and token_url as
 * non-empty strings; audience and scope are read when they are strings.
 * The tokens go straight into the caller's bearer (one secret slot each:
 * the redactor keeps one entry per text, so a second copy held elsewhere
 * would be unmasked when either is forgotten). Every other member is kept
 * as it was and written back in its place on save, so the file stays
 * usable by the tool that made it.
 *
 * Save is atomic: a temporary file beside the target (mkostemp, O_CLOEXEC,
 * mode 0600), everything written, fsync, rename over the target, fsync of
 * the directory. The temporary file is removed on any failure before the
 * rename; a failure after it (the directory's fsync) leaves the new file
 * in place and is still reported. A symbolic link at the path is replaced
 * by the file, not followed.
 *
 * Every error names CONNECT_CARELINK_TOKEN_FILE and the path, never a
 * token. Load failures are NSC_ERR_CONFIG (the user must fix the file);
 * save failures are NSC_ERR_CONFIG when the path is at fault (missing or
 * read-only directory, no permission), else NSC_ERR_IO.
 *
 * Ownership & concurrency: the token file owns its copy of the path and
 * of the document and belongs to the thread of the driver that embeds
 * it; the bearer is the caller's.
 */
#ifndef NSC_SRC_SOURCES_KIT_TOKEN_FILE_H
#define NSC_SRC_SOURCES_KIT_TOKEN_FILE_H

#include <json-c/json.h>

#include "error.h"
#include "sources/kit/bearer.h"

#define NSC_TOKEN_FILE_SETTING "CONNECT_CARELINK_TOKEN_FILE"
#define NSC_TOKEN_FILE_MAX (64 * 1024) /* bytes a token file may have */

struct nsc_token_file {
	char *path;              /* NULL until loaded */
	struct json_object *doc; /* the file's object, its two tokens taken out (JSON null) */
	/* Into doc, valid while it is loaded; NULL when absent. */
	const char *client_id;
	const char *token_url;
	const char *audience;
	const char *scope;
};

void nsc_token_file_init(struct nsc_token_file *tf);
/* Frees the document (its strings wiped) and the path; the token file can be loaded again. */
void nsc_token_file_fini(struct nsc_token_file *tf);

/*
 * Reads path into tf and its tokens into *tokens (expiry from the access
 * token's JWT exp). On NSC_ERR_CONFIG, with err naming what is wrong, tf
 * and tokens are as they were; on NSC_ERR_NOMEM tf is, tokens may hold
 * the new refresh token.
 */
nsc_rc nsc_token_file_load(struct nsc_token_file *tf, const char *path, struct nsc_bearer *tokens,
			   struct nsc_error *err);

/*
 * Writes the document back to tf->path with the tokens *tokens holds now.
 * NSC_ERR_STATE when nothing was loaded or tokens lacks one of the two.
 */
nsc_rc nsc_token_file_save(const struct nsc_token_file *tf, const struct nsc_bearer *tokens,
			   struct nsc_error *err);

#endif
