/* SPDX-License-Identifier: MIT */
/*
 * IANA time zones read straight from TZif files (RFC 8536, versions 1 to 4)
 * and POSIX TZ rule strings, without setenv("TZ"), tzset, localtime or
 * mktime: those share process-wide state, and one process runs many bridges
 * in different zones on several threads. A loaded zone is immutable, so any
 * number of threads may use it at once.
 *
 * Glooko writes device wall-clock times stamped `Z`; nsc_tz_local_to_utc
 * turns such a time into the true instant, also across DST changes.
 */
#ifndef NSC_SRC_TZONE_H
#define NSC_SRC_TZONE_H

#include <stdint.h>

#include "error.h"

struct nsc_tz; /* immutable once loaded; safe to use from several threads */

/* TZif files larger than this are refused (real ones are a few KiB). */
#define NSC_TZ_FILE_MAX (1024 * 1024)

/*
 * Loads an IANA zone by name ("Europe/Berlin") from $TZDIR, else
 * /usr/share/zoneinfo. Names with "..", a leading '/', or characters outside
 * [A-Za-z0-9_+-/] are refused. NSC_ERR_CONFIG with err saying "unknown time
 * zone '<name>'" when missing or not a valid TZif file; NSC_ERR_NOMEM.
 */
nsc_rc nsc_tz_load(const char *name, struct nsc_tz **out, struct nsc_error *err);

/*
 * The machine's own zone: $TZ when it names a zone (":Europe/Berlin" or
 * "Europe/Berlin") or is a POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3"), else
 * /etc/localtime (named after its symlink target below ".../zoneinfo/", else
 * "localtime"), else UTC named "UTC". A missing file never fails; a present
 * but broken /etc/localtime is NSC_ERR_CONFIG.
 */
nsc_rc nsc_tz_load_local(struct nsc_tz **out, struct nsc_error *err);

/*
 * nsc_tz_load_local with the value of $TZ (NULL when unset) and the
 * localtime path given, so tests need not touch the environment or /etc.
 */
nsc_rc nsc_tz_load_local_from(const char *tz_env, const char *localtime_path, struct nsc_tz **out,
			      struct nsc_error *err);

/*
 * A fixed offset east of UTC in seconds (CONNECT_GLOOKO_TIMEZONE_OFFSET's
 * fixed hours), named like "UTC+02:00" ("UTC" for 0). NSC_ERR_RANGE beyond
 * ±24 h; NSC_ERR_NOMEM.
 */
nsc_rc nsc_tz_fixed(int32_t offset_s, struct nsc_tz **out);

/*
 * A zone from a POSIX TZ rule alone, as in a TZif footer:
 * "CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30", Jn and n day forms, and
 * transition times from -167 to 167 hours (RFC 8536 version 3). Named by the
 * rule. NSC_ERR_CONFIG for a malformed rule; NSC_ERR_NOMEM.
 */
nsc_rc nsc_tz_from_posix(const char *rule, struct nsc_tz **out, struct nsc_error *err);

void nsc_tz_free(struct nsc_tz *tz);
const char *nsc_tz_name(const struct nsc_tz *tz);

/* Offset east of UTC, in seconds, in force at a UTC instant (ms since the epoch). */
int32_t nsc_tz_offset_at(const struct nsc_tz *tz, int64_t utc_ms);

enum nsc_tz_fold { NSC_TZ_EARLIER, NSC_TZ_LATER }; /* which instant of a repeated wall-clock time */
enum nsc_tz_kind { NSC_TZ_UNIQUE, NSC_TZ_AMBIGUOUS, NSC_TZ_GAP };

/*
 * A wall-clock time (local time written as if it were UTC, in ms) -> the UTC
 * instant and the offset (s) in force at that instant.
 * AMBIGUOUS (autumn, the hour that happens twice): fold picks the earlier
 * (summer time) or the later instant.
 * GAP (spring, a time that never happened): mapped with the offset in force
 * just before the gap (02:30 in Berlin on the spring day -> 01:30 UTC, i.e.
 * 03:30 summer time, *offset_s = +2 h).
 * Wall-clock times beyond ±NSC_TZ_LOCAL_MS_MAX are clamped to it.
 */
#define NSC_TZ_LOCAL_MS_MAX (INT64_C(1) << 60)
enum nsc_tz_kind nsc_tz_local_to_utc(const struct nsc_tz *tz, int64_t local_ms, enum nsc_tz_fold fold,
				     int64_t *utc_ms, int32_t *offset_s);

#endif
