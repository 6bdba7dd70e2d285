/* SPDX-License-Identifier: MIT */
/*
 * What a libmongoc failure means for the batch being written (error API
 * version 2: server errors carry the server's code):
 *
 * - TRANSIENT: the server is unreachable, timed out, is electing, or
 *   refused the whole command (quota, not primary, ...): the spool keeps
 *   the batch and retries (NSC_ERR_RETRY).
 * - AUTH: the credentials in MONGODB_URI were refused, or the user may not
 *   write: also kept and retried, because the operator can fix it without
 *   losing data, but logged as an error.
 * - DOCUMENT: the server (or the driver) refused a document itself
 *   (validation, size, invalid field names): retrying cannot help, the
 *   batch is set aside (NSC_ERR_DROP) with the server's message.
 */
#ifndef NSC_MONGO_ERRORS_H
#define NSC_MONGO_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

#include "mongo/mongoc_compat.h"

enum nsc_mongo_failure {
	NSC_MONGO_FAIL_TRANSIENT,
	NSC_MONGO_FAIL_AUTH,
	NSC_MONGO_FAIL_DOCUMENT,
};

/* `reply` may be NULL or empty (no server reply). */
enum nsc_mongo_failure nsc_mongo_classify(const bson_error_t *error, const bson_t *reply);

/*
 * True when a server answered and refused the command for a reason retrying
 * cannot fix (not a transient or credentials error): used for index
 * creation, which must never block writes for good.
 */
bool nsc_mongo_server_refused(const bson_error_t *error);

/*
 * A driver or server message made fit for one log line and for msg="...":
 * line breaks and tabs become spaces, double quotes become single quotes.
 */
void nsc_mongo_plain_message(const char *in, char *out, size_t size);

#endif
