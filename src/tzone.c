/* SPDX-License-Identifier: MIT */
/*
 * Time zones from TZif files (RFC 8536) and POSIX TZ rules, written from
 * the format's specification. All instants here are seconds since the epoch
 * (int64); the public functions take and give milliseconds.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timeutil.h"
#include "tzone.h"

#define S_PER_HOUR 3600
#define S_PER_DAY INT64_C(86400)
/* Offsets RFC 8536 recommends readers accept: -24:59:59 .. +25:59:59. */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599
/* Every instant with a given wall-clock time lies within this of it. */
#define LOCAL_WINDOW_S (2 * S_PER_DAY)
/* Transitions visited for one wall-clock time; real zones need 2 or 3. */
#define LOCAL_MAX_SEGMENTS 64
#define TZ_NAME_MAX 255

/* When a POSIX rule changes: day form 'J' (1..365, no Feb 29), 'n' (0..365), 'M' (m.w.d). */
struct tz_when {
	char form;
	int n;          /* J and n forms */
	int m, w, d;    /* M form: month 1..12, week 1..5 (5 = last), weekday 0 = Sunday */
	int32_t time_s; /* local time of day of the change, -167 h .. 167 h */
};

struct tz_rule {
	int32_t std_off; /* east of UTC, s */
	int32_t dst_off;
	bool has_dst;
	struct tz_when start, end; /* start in standard time, end in summer time */
};

struct tz_type {
	int32_t utoff;
	bool isdst;
};

struct nsc_tz {
	char *name;
	size_t ntimes;        /* transitions, strictly ascending */
	int64_t *times;
	unsigned char *idx;   /* type index per transition */
	size_t ntypes;        /* >= 1 */
	struct tz_type *types;
	bool has_rule;        /* rule governs after the last transition (all times without one) */
	struct tz_rule rule;
};

/* ---- POSIX TZ rules ---------------------------------------------------- */

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since the epoch of a rule's change day in year y. */
static int64_t when_day(const struct tz_when *w, int64_t y)
{
	int64_t rem;

	if (w->form == 'J')
		return nsc_days_from_civil(y, 1, 1) + w->n - 1 + (is_leap(y) && w->n >= 60 ? 1 : 0);
	if (w->form == 'n')
		return nsc_days_from_civil(y, 1, 1) + w->n;
	int64_t first = nsc_days_from_civil(y, (unsigned)w->m, 1);
	int64_t next_month = w->m == 12 ? nsc_days_from_civil(y + 1, 1, 1)
					: nsc_days_from_civil(y, (unsigned)w->m + 1, 1);
	(void)nsc_floor_div(first + 4, 7, &rem); /* 1970-01-01 was a Thursday (4) */
	int64_t day = first + (w->d - rem + 7) % 7 + 7 * (w->w - 1);
	while (day >= next_month) /* week 5 means the last such weekday */
		day -= 7;
	return day;
}

/* The UTC instant of a change in year y; its local time is in the offset in force before it. */
static int64_t when_utc(const struct tz_when *w, int64_t y, int32_t off_before)
{
	return when_day(w, y) * S_PER_DAY + w->time_s - off_before;
}

static int64_t year_of(int64_t t)
{
	int64_t rem, y;
	unsigned m, d;

	nsc_civil_from_days(nsc_floor_div(t, S_PER_DAY, &rem), &y, &m, &d);
	return y;
}

/*
 * The rule's changes around t: whether the latest at or before t starts
 * summer time (*dst_now), and when the first after t happens (*next). Years y-1 .. y+2 cover
 * change times up to a week outside their own year.
 */
static void rule_changes(const struct tz_rule *r, int64_t t, bool *dst_now, int64_t *next)
{
	int64_t y0 = year_of(t);
	int64_t best = INT64_MIN;
	bool best_dst = false;

	*next = INT64_MAX;
	for (int64_t y = y0 - 1; y <= y0 + 2; y++) {
		int64_t s = when_utc(&r->start, y, r->std_off);
		int64_t e = when_utc(&r->end, y, r->dst_off);
		/* A tie (summer time all year, "0/0,J365/25") counts as summer time. */
		if (e <= t && (e > best))
			best = e, best_dst = false;
		if (s <= t && (s >= best))
			best = s, best_dst = true;
		if (s > t && s < *next)
			*next = s;
		if (e > t && e < *next)
			*next = e;
	}
	*dst_now = best_dst;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t t, int64_t *next)
{
	bool dst;
	int64_t n;

	if (!r->has_dst) {
		*next = INT64_MAX;
		return r->std_off;
	}
	rule_changes(r, t, &dst, &n);
	*next = n;
	return dst ? r->dst_off : r->std_off;
}

/* Reads one to three digits as a number in [0, max]; false if none, more, or too big. */
static bool parse_num(const char **p, int max, int *out)
{
	int v = 0, n = 0;

	while (**p >= '0' && **p <= '9' && n < 3) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (n == 0 || v > max || (**p >= '0' && **p <= '9'))
		return false;
	*out = v;
	return true;
}

/* [+-]hh[:mm[:ss]] with hh in [0, max_h]; seconds, sign applied. */
static bool parse_hms(const char **p, int max_h, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;

	if (**p == '+' || **p == '-')
		sign = *(*p)++ == '-' ? -1 : 1;
	if (!parse_num(p, max_h, &h))
		return false;
	if (**p == ':') {
		(*p)++;
		if (!parse_num(p, 59, &m))
			return false;
		if (**p == ':') {
			(*p)++;
			if (!parse_num(p, 59, &s))
				return false;
		}
	}
	*out = sign * (h * S_PER_HOUR + m * 60 + s);
	return true;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'. */
static bool parse_abbr(const char **p)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '<') {
		for (s++; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			  (*s >= '0' && *s <= '9') || *s == '+' || *s == '-';
		     s++)
			n++;
		if (*s != '>' || n < 3)
			return false;
		*p = s + 1;
		return true;
	}
	while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
		s++, n++;
	*p = s;
	return n >= 3;
}

/* ",date[/time]": Jn, n or Mm.w.d; the time defaults to 02:00. */
static bool parse_when(const char **p, struct tz_when *w)
{
	w->time_s = 2 * S_PER_HOUR;
	w->form = **p;
	if (**p == 'J') {
		(*p)++;
		if (!parse_num(p, 365, &w->n) || w->n < 1)
			return false;
	} else if (**p == 'M') {
		(*p)++;
		if (!parse_num(p, 12, &w->m) || w->m < 1 || *(*p)++ != '.' || !parse_num(p, 5, &w->w) ||
		    w->w < 1 || *(*p)++ != '.' || !parse_num(p, 6, &w->d))
			return false;
	} else {
		w->form = 'n';
		if (!parse_num(p, 365, &w->n))
			return false;
	}
	if (**p == '/') {
		(*p)++;
		return parse_hms(p, 167, &w->time_s);
	}
	return true;
}

/* Parses a whole POSIX TZ rule; POSIX offsets are west of UTC, ours east. */
static bool parse_rule(const char *s, struct tz_rule *r)
{
	int32_t west;

	memset(r, 0, sizeof(*r));
	if (!parse_abbr(&s) || !parse_hms(&s, 24, &west))
		return false;
	r->std_off = -west;
	if (*s == '\0')
		return true;
	if (!parse_abbr(&s))
		return false;
	r->has_dst = true;
	r->dst_off = r->std_off + S_PER_HOUR;
	if (*s != ',' && *s != '\0') {
		if (!parse_hms(&s, 24, &west))
			return false;
		r->dst_off = -west;
	}
	/* No rule for when summer time starts: POSIX leaves it to the implementation; refuse. */
	if (*s++ != ',' || !parse_when(&s, &r->start) || *s++ != ',' || !parse_when(&s, &r->end))
		return false;
	return *s == '\0';
}

/* ---- building zones ---------------------------------------------------- */

void nsc_tz_free(struct nsc_tz *tz)
{
	if (!tz)
		return;
	free(tz->name);
	free(tz->times);
	free(tz->idx);
	free(tz->types);
	free(tz);
}

/* An empty zone with its name and ntypes types; NULL when out of memory. */
static struct nsc_tz *tz_new(const char *name, size_t ntypes)
{
	struct nsc_tz *tz = calloc(1, sizeof(*tz));

	if (!tz)
		return NULL;
	tz->name = strdup(name);
	tz->types = calloc(ntypes, sizeof(*tz->types));
	tz->ntypes = ntypes;
	if (!tz->name || !tz->types) {
		nsc_tz_free(tz);
		return NULL;
	}
	return tz;
}

static nsc_rc tz_fixed_named(int32_t offset_s, const char *name, struct nsc_tz **out)
{
	struct nsc_tz *tz = tz_new(name, 1);

	if (!tz)
		return NSC_ERR_NOMEM;
	tz->types[0].utoff = offset_s;
	*out = tz;
	return NSC_OK;
}

nsc_rc nsc_tz_fixed(int32_t offset_s, struct nsc_tz **out)
{
	char name[32];
	int32_t a = offset_s < 0 ? -offset_s : offset_s;

	*out = NULL;
	if (offset_s < -24 * S_PER_HOUR || offset_s > 24 * S_PER_HOUR)
		return NSC_ERR_RANGE;
	if (offset_s == 0)
		snprintf(name, sizeof(name), "UTC");
	else if (a % 60 == 0)
		snprintf(name, sizeof(name), "UTC%c%02d:%02d", offset_s < 0 ? '-' : '+',
			 (int)(a / S_PER_HOUR), (int)(a % S_PER_HOUR / 60));
	else
		snprintf(name, sizeof(name), "UTC%c%02d:%02d:%02d", offset_s < 0 ? '-' : '+',
			 (int)(a / S_PER_HOUR), (int)(a % S_PER_HOUR / 60), (int)(a % 60));
	return tz_fixed_named(offset_s, name, out);
}

nsc_rc nsc_tz_from_posix(const char *rule, struct nsc_tz **out, struct nsc_error *err)
{
	struct tz_rule r;

	*out = NULL;
	if (!rule || !parse_rule(rule, &r))
		return nsc_error_set(err, NSC_ERR_CONFIG, "time zone rule '%s' is not a POSIX TZ rule",
				     rule ? rule : "");
	struct nsc_tz *tz = tz_new(rule, 1);
	if (!tz)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory loading time zone rule");
	tz->types[0].utoff = r.std_off;
	tz->has_rule = true;
	tz->rule = r;
	*out = tz;
	return NSC_OK;
}

/* ---- TZif -------------------------------------------------------------- */

/* A bounds-checked reader over the file's bytes. */
struct rd {
	const unsigned char *p;
	size_t left;
};

static bool rd_take(struct rd *r, size_t n, const unsigned char **at)
{
	if (n > r->left)
		return false;
	*at = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
	/* Two's complement without implementation-defined conversion. */
	return v <= INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

static int32_t be32s(const unsigned char *p)
{
	uint32_t v = be32(p);
	return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

struct tzif_hdr {
	char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static bool read_header(struct rd *r, struct tzif_hdr *h)
{
	const unsigned char *p;

	if (!rd_take(r, 44, &p) || memcmp(p, "TZif", 4) != 0)
		return false;
	h->version = (char)p[4];
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	/* RFC 8536 3.1: at least one type; the UT and standard indicators are per type or absent. */
	if (h->typecnt == 0 || h->typecnt > 256 || (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return false;
	/* Each count is below the file size, so the sizes below cannot overflow. */
	return h->timecnt <= NSC_TZ_FILE_MAX && h->leapcnt <= NSC_TZ_FILE_MAX &&
	       h->charcnt <= NSC_TZ_FILE_MAX;
}

/* Size of a data block after its header; tsize is 4 (v1 block) or 8. */
static size_t block_size(const struct tzif_hdr *h, size_t tsize)
{
	return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
	       (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Copies one data block's transitions and types into tz; leap seconds are skipped. */
static bool read_block(struct rd *r, const struct tzif_hdr *h, size_t tsize, struct nsc_tz *tz)
{
	const unsigned char *times, *idx, *types, *rest;

	/* Designations, leap-second records and the indicators are not needed, only skipped. */
	size_t rest_len = h->charcnt + (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;

	if (!rd_take(r, (size_t)h->timecnt * tsize, &times) || !rd_take(r, h->timecnt, &idx) ||
	    !rd_take(r, (size_t)h->typecnt * 6, &types) || !rd_take(r, rest_len, &rest))
		return false;
	for (size_t i = 0; i < h->typecnt; i++) {
		int32_t off = be32s(types + 6 * i);
		if (off < UTOFF_MIN || off > UTOFF_MAX || types[6 * i + 4] > 1 ||
		    types[6 * i + 5] >= h->charcnt)
			return false;
		tz->types[i].utoff = off;
		tz->types[i].isdst = types[6 * i + 4] == 1;
	}
	for (size_t i = 0; i < h->timecnt; i++) {
		tz->times[i] = tsize == 8 ? be64(times + 8 * i) : be32s(times + 4 * i);
		tz->idx[i] = idx[i];
		if (idx[i] >= h->typecnt || (i > 0 && tz->times[i] <= tz->times[i - 1]))
			return false;
	}
	return true;
}

/* The footer of a v2+ file: "\n" rule "\n", the rule possibly empty. */
static bool read_footer(struct rd *r, struct nsc_tz *tz)
{
	const unsigned char *nl, *p;
	char rule[256];

	if (!rd_take(r, 1, &p) || *p != '\n')
		return false;
	nl = memchr(r->p, '\n', r->left);
	if (!nl || (size_t)(nl - r->p) >= sizeof(rule))
		return false;
	size_t n = (size_t)(nl - r->p);
	memcpy(rule, r->p, n);
	rule[n] = '\0';
	if (n == 0 || memchr(rule, '\0', n))
		return n == 0;
	if (!parse_rule(rule, &tz->rule))
		return false;
	tz->has_rule = true;
	return true;
}

/* Parses a whole TZif file into tz (allocating its arrays); NSC_ERR_CONFIG when malformed. */
static nsc_rc parse_tzif(const unsigned char *buf, size_t len, const char *name, struct nsc_tz **out)
{
	struct rd r = {buf, len};
	struct tzif_hdr h;
	const unsigned char *skip;
	size_t tsize = 4;

	if (!read_header(&r, &h))
		return NSC_ERR_CONFIG;
	if (h.version >= '2') {
		/* Skip the 32-bit block; the 64-bit one after it is what counts. */
		if (!rd_take(&r, block_size(&h, 4), &skip) || !read_header(&r, &h))
			return NSC_ERR_CONFIG;
		tsize = 8;
	} else if (h.version != '\0') {
		return NSC_ERR_CONFIG;
	}
	struct nsc_tz *tz = tz_new(name, h.typecnt);
	if (!tz)
		return NSC_ERR_NOMEM;
	tz->ntimes = h.timecnt;
	tz->times = malloc((h.timecnt ? h.timecnt : 1) * sizeof(*tz->times));
	tz->idx = malloc(h.timecnt ? h.timecnt : 1);
	if (!tz->times || !tz->idx) {
		nsc_tz_free(tz);
		return NSC_ERR_NOMEM;
	}
	if (!read_block(&r, &h, tsize, tz) || (tsize == 8 && !read_footer(&r, tz))) {
		nsc_tz_free(tz);
		return NSC_ERR_CONFIG;
	}
	*out = tz;
	return NSC_OK;
}

/* Reads a regular file of at most NSC_TZ_FILE_MAX bytes; NSC_ERR_CONFIG if absent or too big. */
static nsc_rc read_small_file(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*buf = NULL;
	if (fd < 0)
		return NSC_ERR_CONFIG;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > NSC_TZ_FILE_MAX) {
		close(fd);
		return NSC_ERR_CONFIG;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	unsigned char *b = malloc(cap);
	if (!b) {
		close(fd);
		return NSC_ERR_NOMEM;
	}
	/* Read to the end even if the file changed size, never past cap. */
	bool failed = false;
	for (;;) {
		ssize_t k = read(fd, b + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		failed = k < 0;
		if (k <= 0 || (n += (size_t)k) == cap)
			break;
	}
	close(fd);
	if (failed || n == cap) { /* a read error, or it grew beyond what fstat said */
		free(b);
		return NSC_ERR_CONFIG;
	}
	*buf = b;
	*len = n;
	return NSC_OK;
}

/* Loads a TZif file at path under the given zone name. */
static nsc_rc load_path(const char *path, const char *name, struct nsc_tz **out, struct nsc_error *err)
{
	unsigned char *buf;
	size_t len = 0;
	nsc_rc rc = read_small_file(path, &buf, &len);

	if (rc == NSC_OK) {
		rc = parse_tzif(buf, len, name, out);
		free(buf);
	}
	if (rc == NSC_ERR_NOMEM)
		return nsc_error_set(err, rc, "out of memory loading time zone '%s'", name);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "unknown time zone '%s'", name);
	return NSC_OK;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '+' || *p == '-' || *p == '/'))
			return false;
	return true;
}

nsc_rc nsc_tz_load(const char *name, struct nsc_tz **out, struct nsc_error *err)
{
	char path[4096];
	const char *dir = getenv("TZDIR");

	*out = NULL;
	if (!name || !name_ok(name))
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "unknown time zone '%s' (a name like Europe/Berlin)", name ? name : "");
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return nsc_error_set(err, NSC_ERR_CONFIG, "unknown time zone '%s'", name);
	return load_path(path, name, out, err);
}

/* The zone name in a symlink target ".../zoneinfo/Europe/Berlin", else NULL. */
static const char *name_from_link(const char *target)
{
	const char *best = NULL;

	for (const char *p = strstr(target, "zoneinfo/"); p; p = strstr(p + 1, "zoneinfo/"))
		best = p + strlen("zoneinfo/");
	return best && name_ok(best) ? best : NULL;
}

nsc_rc nsc_tz_load_local_from(const char *tz_env, const char *localtime_path, struct nsc_tz **out,
			      struct nsc_error *err)
{
	char target[4096];
	struct stat st;

	*out = NULL;
	if (tz_env && *tz_env) {
		const char *name = tz_env[0] == ':' ? tz_env + 1 : tz_env;
		nsc_rc rc = name_ok(name) ? nsc_tz_load(name, out, err) : NSC_ERR_CONFIG;
		if (rc == NSC_OK || rc == NSC_ERR_NOMEM)
			return rc;
		rc = nsc_tz_from_posix(name, out, err);
		if (rc == NSC_OK || rc == NSC_ERR_NOMEM)
			return rc;
		nsc_error_clear(err); /* $TZ names nothing we know: the machine's file decides */
	}
	if (stat(localtime_path, &st) != 0) {
		if (tz_fixed_named(0, "UTC", out) != NSC_OK)
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory loading time zone UTC");
		return NSC_OK;
	}
	ssize_t n = readlink(localtime_path, target, sizeof(target) - 1);
	const char *name = NULL;
	if (n > 0) {
		target[n] = '\0';
		name = name_from_link(target);
	}
	return load_path(localtime_path, name ? name : "localtime", out, err);
}

nsc_rc nsc_tz_load_local(struct nsc_tz **out, struct nsc_error *err)
{
	return nsc_tz_load_local_from(getenv("TZ"), "/etc/localtime", out, err);
}

/* ---- lookups ----------------------------------------------------------- */

const char *nsc_tz_name(const struct nsc_tz *tz)
{
	return tz->name;
}

/* Offset in force at t (seconds) and the next instant it may change (INT64_MAX: never). */
static int32_t offset_s_at(const struct nsc_tz *tz, int64_t t, int64_t *next)
{
	if (tz->ntimes == 0 || t < tz->times[0]) {
		if (tz->ntimes == 0 && tz->has_rule)
			return rule_offset(&tz->rule, t, next);
		*next = tz->ntimes ? tz->times[0] : INT64_MAX;
		return tz->types[0].utoff; /* RFC 8536 3.2: type 0 before the first transition */
	}
	size_t lo = 0, hi = tz->ntimes; /* last transition <= t is in [lo, hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	if (lo + 1 < tz->ntimes) {
		*next = tz->times[lo + 1];
		return tz->types[tz->idx[lo]].utoff;
	}
	if (tz->has_rule)
		return rule_offset(&tz->rule, t, next);
	*next = INT64_MAX;
	return tz->types[tz->idx[lo]].utoff;
}

int32_t nsc_tz_offset_at(const struct nsc_tz *tz, int64_t utc_ms)
{
	int64_t rem, next;

	return offset_s_at(tz, nsc_floor_div(utc_ms, NSC_MS_PER_SECOND, &rem), &next);
}

/*
 * Walks the stretches of constant offset that start within two days before
 * the wall-clock time until two days after it: each stretch with offset o
 * that contains local - o is one instant with that wall-clock time. None
 * means a gap, which lies at a change where local falls between the wall
 * clock just before and just after it.
 */
enum nsc_tz_kind nsc_tz_local_to_utc(const struct nsc_tz *tz, int64_t local_ms, enum nsc_tz_fold fold,
				     int64_t *utc_ms, int32_t *offset_s)
{
	int64_t rem, next;
	int found = 0;
	int32_t first_off = 0, last_off = 0, gap_off = 0;
	bool gap = false;

	if (local_ms > NSC_TZ_LOCAL_MS_MAX)
		local_ms = NSC_TZ_LOCAL_MS_MAX;
	if (local_ms < -NSC_TZ_LOCAL_MS_MAX)
		local_ms = -NSC_TZ_LOCAL_MS_MAX;
	int64_t ls = nsc_floor_div(local_ms, NSC_MS_PER_SECOND, &rem);
	int64_t t = ls - LOCAL_WINDOW_S;
	int32_t off = offset_s_at(tz, t, &next);

	for (int i = 0; i < LOCAL_MAX_SEGMENTS && t <= ls + LOCAL_WINDOW_S; i++) {
		int64_t u = ls - off;
		if (u >= t && u < next) {
			if (found++ == 0)
				first_off = off;
			last_off = off;
		}
		if (next == INT64_MAX)
			break;
		if (next > ls + LOCAL_WINDOW_S) /* also keeps next + off below from overflowing */
			break;
		int64_t after_next;
		int32_t off_next = offset_s_at(tz, next, &after_next);
		if (!gap && next + off <= ls && ls < next + off_next) {
			gap = true;
			gap_off = off;
		}
		t = next;
		off = off_next;
		next = after_next;
	}
	if (found == 0) {
		/* Without a gap found (cannot happen for a sane zone) use the offset at local as UTC. */
		int32_t o = gap ? gap_off : nsc_tz_offset_at(tz, local_ms);
		*utc_ms = local_ms - o * NSC_MS_PER_SECOND;
		*offset_s = nsc_tz_offset_at(tz, *utc_ms);
		return NSC_TZ_GAP;
	}
	int32_t o = found > 1 && fold == NSC_TZ_LATER ? last_off : first_off;
	*utc_ms = local_ms - o * NSC_MS_PER_SECOND;
	*offset_s = o;
	return found > 1 ? NSC_TZ_AMBIGUOUS : NSC_TZ_UNIQUE;
}
