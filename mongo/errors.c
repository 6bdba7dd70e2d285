/* SPDX-License-Identifier: MIT */
/* Classification of libmongoc errors and server replies (see errors.h). */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "mongo/errors.h"

/* Server codes that mean "not now" (MongoDB's retryable and shutdown errors). */
static bool transient_code(uint32_t code)
{
	static const uint32_t codes[] = {
		6,     /* HostUnreachable */
		7,     /* HostNotFound */
		50,    /* MaxTimeMSExpired */
		89,    /* NetworkTimeout */
		91,    /* ShutdownInProgress */
		112,   /* WriteConflict */
		133,   /* FailedToSatisfyReadPreference */
		189,   /* PrimarySteppedDown */
		262,   /* ExceededTimeLimit */
		9001,  /* SocketException */
		10107, /* NotWritablePrimary */
		11600, /* InterruptedAtShutdown */
		11602, /* InterruptedDueToReplStateChange */
		13435, /* NotPrimaryNoSecondaryOk */
		13436, /* NotPrimaryOrSecondary */
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (codes[i] == code)
			return true;
	}
	return false;
}

static bool auth_code(uint32_t code)
{
	return code == 18 /* AuthenticationFailed */ || code == 13 /* Unauthorized */ ||
	       code == 11 /* UserNotFound */;
}

/* The code of the first writeErrors element of a reply, or false when there is none. */
static bool first_write_error(const bson_t *reply, uint32_t *code)
{
	bson_iter_t it, child;

	if (!reply || !bson_iter_init_find(&it, reply, "writeErrors") ||
	    !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &child) ||
	    !bson_iter_next(&child) || !BSON_ITER_HOLDS_DOCUMENT(&child))
		return false;
	*code = 0;
	bson_iter_t err_doc;
	if (bson_iter_recurse(&child, &err_doc) && bson_iter_find(&err_doc, "code") &&
	    BSON_ITER_HOLDS_NUMBER(&err_doc))
		*code = (uint32_t)bson_iter_as_int64(&err_doc);
	return true;
}

static bool has_field(const bson_t *reply, const char *key)
{
	bson_iter_t it;

	return reply && bson_iter_init_find(&it, reply, key);
}

enum nsc_mongo_failure nsc_mongo_classify(const bson_error_t *error, const bson_t *reply)
{
	uint32_t code;

	if (strstr(error->message, "uthentication failed") != NULL)
		return NSC_MONGO_FAIL_AUTH;
	if (first_write_error(reply, &code)) {
		if (transient_code(code))
			return NSC_MONGO_FAIL_TRANSIENT;
		if (auth_code(code))
			return NSC_MONGO_FAIL_AUTH;
		return NSC_MONGO_FAIL_DOCUMENT;
	}
	if (has_field(reply, "writeConcernError") || has_field(reply, "writeConcernErrors"))
		return NSC_MONGO_FAIL_TRANSIENT;
	if (reply && (mongoc_error_has_label(reply, "RetryableWriteError") ||
		      mongoc_error_has_label(reply, "TransientTransactionError")))
		return NSC_MONGO_FAIL_TRANSIENT;

	switch (error->domain) {
	case MONGOC_ERROR_SASL:
	case MONGOC_ERROR_SCRAM:
		return NSC_MONGO_FAIL_AUTH;
	case MONGOC_ERROR_CLIENT:
		if (error->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)
			return NSC_MONGO_FAIL_AUTH;
		if (error->code == MONGOC_ERROR_CLIENT_TOO_BIG)
			return NSC_MONGO_FAIL_DOCUMENT;
		return NSC_MONGO_FAIL_TRANSIENT;
	case MONGOC_ERROR_BSON:
		return NSC_MONGO_FAIL_DOCUMENT;
	case MONGOC_ERROR_COMMAND:
		if (error->code == MONGOC_ERROR_COMMAND_INVALID_ARG)
			return NSC_MONGO_FAIL_DOCUMENT;
		return auth_code(error->code) ? NSC_MONGO_FAIL_AUTH : NSC_MONGO_FAIL_TRANSIENT;
	case MONGOC_ERROR_SERVER:
	case MONGOC_ERROR_QUERY:
	case MONGOC_ERROR_COLLECTION:
		/*
		 * A refused command, not a refused document: quota exceeded, not
		 * primary, unknown command. Keep the data and retry; the
		 * operator sees the message.
		 */
		return auth_code(error->code) ? NSC_MONGO_FAIL_AUTH : NSC_MONGO_FAIL_TRANSIENT;
	default:
		/* stream, server selection, protocol, write concern, ... */
		return NSC_MONGO_FAIL_TRANSIENT;
	}
}

bool nsc_mongo_server_refused(const bson_error_t *error)
{
	if (error->domain != MONGOC_ERROR_SERVER && error->domain != MONGOC_ERROR_QUERY &&
	    !(error->domain == MONGOC_ERROR_COMMAND && error->code != MONGOC_ERROR_COMMAND_INVALID_ARG))
		return false;
	return !transient_code(error->code) && !auth_code(error->code) &&
	       strstr(error->message, "uthentication failed") == NULL;
}

void nsc_mongo_plain_message(const char *in, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (; *in && o + 1 < size; in++) {
		char c = *in;
		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		else if (c == '"')
			c = '\'';
		out[o++] = c;
	}
	out[o] = '\0';
}
