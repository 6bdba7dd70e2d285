/* SPDX-License-Identifier: MIT */
/*
 * A CareLink data answer -> Nightscout documents (nsc_carelink_transform,
 * carelink.h), for the 2025 {metadata, patientData} shape and the older
 * flat one.
 *
 * Times: SG and marker times are the pump's local clock, without a zone
 * (2025 `timestamp`) or stamped Z (some older `datetime`s); an explicit
 * offset (older `datetime`s) is taken as it is. The pump's offset is the
 * difference between its clock's last upload time and the server's time
 * of that upload (lastConduitDateTime against
 * lastConduitUpdateServerDateTime, or sMedicalDeviceTime against
 * lastMedicalDeviceDataUpdateServerTime), rounded to 15 minutes so +05:30
 * and +05:45 zones come out right; without those, clientTimeZoneName's
 * offset at the upload; else UTC.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity.h"
#include "jsonutil.h"
#include "sources/carelink/carelink.h"
#include "sources/kit/documents.h"
#include "timeutil.h"
#include "trend.h"
#include "tzone.h"

#define COMP "carelink"
#define QUARTER_MS (15 * 60 * 1000LL)
#define MGDL_PER_MMOL 18.0182

/* 16 bytes: the namespace of CareLink identifiers. */
static const unsigned char carelink_ns[16] = { 'n', 's', 'c', 'o', 'n', 'n', 'e', 'c',
					       't', '-', 'c', 'a', 'r', 'e', 'l', 'k' };

struct tx {
	struct json_object *pd; /* patientData, or the flat document */
	struct nsc_batch *out;
	size_t *skipped;
	struct nsc_error *err;
	int64_t offset_ms; /* local = utc + offset */
	bool mmol;
	char device[NSC_CARELINK_NAME_MAX + 32];
};

/* "Apr 19, 2025 17:58:20" (sMedicalDeviceTime) as if UTC; false when not that form. */
static bool parse_device_time(const char *s, int64_t *ms)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char mon[4];
	int d, y, h, mi, sec;
	if (s == NULL || sscanf(s, "%3s %d, %d %d:%d:%d", mon, &d, &y, &h, &mi, &sec) != 6)
		return false;
	for (int m = 0; m < 12; m++) {
		if (strcmp(mon, months[m]) == 0) {
			*ms = (nsc_days_from_civil(y, (unsigned)m + 1, (unsigned)d) * 86400LL + h * 3600LL + mi * 60LL + sec) *
			      1000LL;
			return true;
		}
	}
	return false;
}

/* A pump-local text: its instant when it states an offset (*real), else its wall clock as if UTC. */
static bool parse_local(const char *s, int64_t *ms, bool *real)
{
	int off = 0;
	*real = false;
	if (s == NULL || nsc_time_parse_iso(s, ms, &off) != NSC_OK)
		return false;
	/* `Z` on a pump clock is not UTC (vendors.md §6.6); a signed offset is real. */
	*real = strpbrk(s + 10, "+-") != NULL;
	return true;
}

static void find_offset(struct tx *t)
{
	int64_t local, server;
	bool real;
	const char *conduit = nsc_json_get_string(t->pd, "lastConduitDateTime");
	if (parse_local(conduit, &local, &real) && !real && nsc_json_get_int64(t->pd, "lastConduitUpdateServerDateTime", &server)) {
		t->offset_ms = llround((double)(local - server) / (double)QUARTER_MS) * QUARTER_MS;
		return;
	}
	if (parse_device_time(nsc_json_get_string(t->pd, "sMedicalDeviceTime"), &local) &&
	    nsc_json_get_int64(t->pd, "lastMedicalDeviceDataUpdateServerTime", &server)) {
		t->offset_ms = llround((double)(local - server) / (double)QUARTER_MS) * QUARTER_MS;
		return;
	}
	const char *zone = nsc_json_get_string(t->pd, "clientTimeZoneName");
	struct nsc_tz *tz = NULL;
	struct nsc_error ignored;
	if (zone && nsc_tz_load(zone, &tz, &ignored) == NSC_OK) {
		int64_t at = 0;
		(void)nsc_json_get_int64(t->pd, "lastMedicalDeviceDataUpdateServerTime", &at);
		t->offset_ms = (int64_t)nsc_tz_offset_at(tz, at) * 1000;
		nsc_tz_free(tz);
	}
}

/* A record's instant from its time field(s). */
static bool instant_of(const struct tx *t, struct json_object *rec, int64_t *ms)
{
	static const char *const keys[] = { "timestamp", "datetime", "dateTime", NULL };
	for (size_t i = 0; keys[i]; i++) {
		bool real;
		if (parse_local(nsc_json_get_string(rec, keys[i]), ms, &real)) {
			if (!real)
				*ms -= t->offset_ms;
			return *ms > 0;
		}
	}
	return false;
}

static nsc_rc skip(struct tx *t)
{
	(*t->skipped)++;
	return NSC_OK;
}

static nsc_rc add(struct tx *t, enum nsc_collection c, struct json_object *doc)
{
	if (doc == NULL)
		return nsc_error_set(t->err, NSC_ERR_NOMEM, "CareLink: out of memory building a document");
	return nsc_kit_batch_add(t->out, c, doc, t->skipped, NULL, COMP, "CareLink", t->err);
}

/* A number that may come as a JSON number or, in 2025 markers, as a string. */
static bool number(struct json_object *rec, const char *key, double *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(rec, key, &v))
		return false;
	if (json_object_is_type(v, json_type_string)) {
		char *end;
		const char *s = json_object_get_string(v);
		*out = strtod(s, &end);
		return end != s && *end == '\0' && isfinite(*out);
	}
	return nsc_json_get_number(rec, key, out) && isfinite(*out);
}

static enum nsc_trend trend_of(const char *s, bool *has)
{
	static const struct {
		const char *word;
		enum nsc_trend trend;
	} map[] = {
		{ "NONE", NSC_TREND_NONE },          { "UP", NSC_TREND_SINGLE_UP },
		{ "UP_DOUBLE", NSC_TREND_DOUBLE_UP }, { "UP_TRIPLE", NSC_TREND_DOUBLE_UP },
		{ "DOWN", NSC_TREND_SINGLE_DOWN },    { "DOWN_DOUBLE", NSC_TREND_DOUBLE_DOWN },
		{ "DOWN_TRIPLE", NSC_TREND_DOUBLE_DOWN },
	};
	*has = false;
	for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].word, s) == 0) {
			*has = true;
			return map[i].trend;
		}
	}
	return NSC_TREND_NONE;
}

static int64_t to_mgdl(const struct tx *t, double v)
{
	return (int64_t)llround(t->mmol ? v * MGDL_PER_MMOL : v);
}

/* Entries: SGs of kind SG with sg > 0; the newest carries the trend unless the data is stale. */
static nsc_rc entries(struct tx *t, bool stale)
{
	struct json_object *sgs;
	if (!json_object_object_get_ex(t->pd, "sgs", &sgs) || !json_object_is_type(sgs, json_type_array))
		return NSC_OK;
	size_t n = json_object_array_length(sgs), newest = n;
	int64_t newest_ms = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(sgs, i);
		int64_t ms;
		double sg;
		const char *kind = nsc_json_get_string(r, "kind");
		if (kind && strcmp(kind, "SG") == 0 && number(r, "sg", &sg) && sg > 0 && instant_of(t, r, &ms) &&
		    ms > newest_ms) {
			newest_ms = ms;
			newest = i;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(sgs, i), *doc = NULL;
		int64_t ms;
		double sg;
		const char *kind = nsc_json_get_string(r, "kind");
		if (!json_object_is_type(r, json_type_object)) {
			skip(t);
			continue;
		}
		if ((kind && strcmp(kind, "SG") != 0) || !number(r, "sg", &sg) || sg <= 0)
			continue; /* warm-up points, other kinds: no reading */
		if (!instant_of(t, r, &ms)) {
			skip(t);
			continue;
		}
		struct nsc_sgv_reading rd = { .sgv = to_mgdl(t, sg), .date_ms = ms, .device = t->device };
		if (i == newest && !stale)
			rd.trend = trend_of(nsc_json_get_string(t->pd, "lastSGTrend"), &rd.has_trend);
		nsc_rc rc = nsc_sgv_entry_new(&rd, &doc);
		if (rc == NSC_ERR_PARSE) {
			skip(t);
			continue;
		}
		if (rc != NSC_OK)
			return nsc_error_set(t->err, rc, "CareLink: out of memory building an entry");
		rc = add(t, NSC_COLL_ENTRIES, doc);
		if (rc != NSC_OK)
			return rc;
	}
	return NSC_OK;
}

/* A marker's values: 2025 ones in data.dataValues, older ones flat. */
static struct json_object *values_of(struct json_object *m)
{
	struct json_object *d, *v;
	if (json_object_object_get_ex(m, "data", &d) && json_object_object_get_ex(d, "dataValues", &v) &&
	    json_object_is_type(v, json_type_object))
		return v;
	return m;
}

static nsc_rc treatment(struct tx *t, const char *type, const char *key, int64_t ms, struct json_object **out)
{
	char iso[NSC_ISO_BUF], id[NSC_UUID_BUF], name[160];
	int n = snprintf(name, sizeof(name), "carelink:%s:%s:%lld", type, key, (long long)ms);
	*out = NULL;
	if (nsc_time_format_iso(ms, iso, sizeof(iso)) != NSC_OK || n < 0 || (size_t)n >= sizeof(name) ||
	    nsc_uuid_v5(carelink_ns, name, (size_t)n, id) != NSC_OK)
		return skip(t);
	struct json_object *d = json_object_new_object();
	if (d == NULL || nsc_json_add_string(d, "eventType", type) != 0 || nsc_json_add_string(d, "created_at", iso) != 0 ||
	    nsc_json_add_string(d, "enteredBy", "nsconnect-carelink") != 0 || nsc_json_add_string(d, "identifier", id) != 0 ||
	    nsc_json_add_int64(d, "utcOffset", t->offset_ms / 60000) != 0) {
		json_object_put(d);
		return nsc_error_set(t->err, NSC_ERR_NOMEM, "CareLink: out of memory building a treatment");
	}
	*out = d;
	return NSC_OK;
}

/* Insulin a bolus delivered: the fast part and the extended one (not what was programmed). */
static double delivered(struct json_object *v)
{
	double fast = 0, ext = 0;
	if (!number(v, "deliveredFastAmount", &fast) && !number(v, "bolusAmount", &fast))
		fast = 0;
	if (!number(v, "deliveredExtendedAmount", &ext))
		ext = 0;
	return fast + ext;
}

/* The MEAL marker sharing this index, NULL when none. */
static struct json_object *meal_at(struct json_object *markers, const char *index)
{
	for (size_t i = 0; i < json_object_array_length(markers); i++) {
		struct json_object *m = json_object_array_get_idx(markers, i), *ix;
		const char *type = nsc_json_get_string(m, "type");
		if (type && strcmp(type, "MEAL") == 0 && json_object_object_get_ex(m, "index", &ix) &&
		    strcmp(json_object_get_string(ix), index) == 0)
			return m;
	}
	return NULL;
}

static nsc_rc marker(struct tx *t, struct json_object *markers, struct json_object *m)
{
	const char *type = nsc_json_get_string(m, "type");
	struct json_object *v = values_of(m), *ix, *d = NULL;
	int64_t ms;
	if (type == NULL || !instant_of(t, m, &ms))
		return skip(t);
	const char *index = json_object_object_get_ex(m, "index", &ix) ? json_object_get_string(ix) : "";
	double amount, glucose, rate;
	nsc_rc rc = NSC_OK;
	if (strcmp(type, "INSULIN") == 0) {
		double insulin = delivered(v);
		struct json_object *meal = *index ? meal_at(markers, index) : NULL;
		double carbs = 0;
		if (meal && !number(values_of(meal), "amount", &carbs))
			carbs = 0;
		if (insulin <= 0 && carbs <= 0)
			return NSC_OK; /* never a zero-insulin bolus */
		rc = treatment(t, carbs > 0 ? "Meal Bolus" : "Correction Bolus", index, ms, &d);
		if (d && ((insulin > 0 && nsc_json_add_double(d, "insulin", insulin) != 0) ||
			  (carbs > 0 && nsc_json_add_double(d, "carbs", carbs) != 0))) {
			json_object_put(d);
			return nsc_error_set(t->err, NSC_ERR_NOMEM, "CareLink: out of memory");
		}
	} else if (strcmp(type, "MEAL") == 0) {
		/* With its bolus when one shares the index (above); alone, carbs. */
		for (size_t i = 0; i < json_object_array_length(markers); i++) {
			struct json_object *o = json_object_array_get_idx(markers, i), *oi;
			const char *ot = nsc_json_get_string(o, "type");
			if (ot && strcmp(ot, "INSULIN") == 0 && json_object_object_get_ex(o, "index", &oi) && *index &&
			    strcmp(json_object_get_string(oi), index) == 0 && delivered(values_of(o)) > 0)
				return NSC_OK;
		}
		if (!number(v, "amount", &amount) || amount <= 0)
			return NSC_OK;
		rc = treatment(t, "Carb Correction", index, ms, &d);
		if (d && nsc_json_add_double(d, "carbs", amount) != 0) {
			json_object_put(d);
			return nsc_error_set(t->err, NSC_ERR_NOMEM, "CareLink: out of memory");
		}
	} else if (strcmp(type, "BG_READING") == 0 || strcmp(type, "BG") == 0 || strcmp(type, "CALIBRATION") == 0) {
		if (!number(v, "value", &glucose) || glucose <= 0)
			return skip(t);
		rc = treatment(t, "BG Check", index, ms, &d);
		if (d && (nsc_json_add_int64(d, "glucose", to_mgdl(t, glucose)) != 0 ||
			  nsc_json_add_string(d, "glucoseType", "Finger") != 0 || nsc_json_add_string(d, "units", "mg/dl") != 0)) {
			json_object_put(d);
			return nsc_error_set(t->err, NSC_ERR_NOMEM, "CareLink: out of memory");
		}
	} else if (strcmp(type, "AUTO_BASAL_DELIVERY") == 0) {
		/* A micro-bolus amount is no rate: a Temp Basal only where a rate is given. */
		if (!number(v, "rate", &rate) && !number(v, "basalRate", &rate))
			return NSC_OK;
		rc = treatment(t, "Temp Basal", index, ms, &d);
		if (d && (nsc_json_add_double(d, "rate", rate) != 0 || nsc_json_add_double(d, "absolute", rate) != 0 ||
			  nsc_json_add_double(d, "duration", 5) != 0)) {
			json_object_put(d);
			return nsc_error_set(t->err, NSC_ERR_NOMEM, "CareLink: out of memory");
		}
	} else {
		return NSC_OK; /* AUTO_MODE_STATUS, TIME_CHANGE, ...: not treatments */
	}
	if (rc != NSC_OK || d == NULL)
		return rc;
	return add(t, NSC_COLL_TREATMENTS, d);
}

static nsc_rc treatments(struct tx *t)
{
	struct json_object *markers;
	if (!json_object_object_get_ex(t->pd, "markers", &markers) || !json_object_is_type(markers, json_type_array))
		return NSC_OK;
	for (size_t i = 0; i < json_object_array_length(markers); i++) {
		struct json_object *m = json_object_array_get_idx(markers, i);
		nsc_rc rc = json_object_is_type(m, json_type_object) ? marker(t, markers, m) : skip(t);
		if (rc != NSC_OK)
			return rc;
	}
	return NSC_OK;
}

/* Copies pd[key] into o under the same name when present. */
static int copy_field(struct json_object *o, struct json_object *pd, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(pd, key, &v) || v == NULL)
		return 0;
	return json_object_object_add(o, key, json_object_get(v));
}

/* The pump's and uploader's state at the data's own time (never now). */
static nsc_rc devicestatus(struct tx *t, const struct nsc_carelink_view *view, bool guardian)
{
	char iso[NSC_ISO_BUF], id[NSC_UUID_BUF], name[64];
	if (view->upload_ms <= 0 || nsc_time_format_iso(view->upload_ms, iso, sizeof(iso)) != NSC_OK)
		return NSC_OK;
	int n = snprintf(name, sizeof(name), "carelink:status:%lld", (long long)view->upload_ms);
	if (nsc_uuid_v5(carelink_ns, name, (size_t)n, id) != NSC_OK)
		return skip(t);
	struct json_object *d = json_object_new_object(), *connect = json_object_new_object(), *pump = NULL;
	bool ok = d && connect && nsc_json_add_string(d, "device", t->device) == 0 &&
		  nsc_json_add_string(d, "created_at", iso) == 0 && nsc_json_add_string(d, "identifier", id) == 0;
	double v;
	if (ok && number(t->pd, "conduitBatteryLevel", &v)) {
		struct json_object *up = json_object_new_object();
		ok = up && nsc_json_add_double(up, "battery", v) == 0 && nsc_json_add_child(d, "uploader", up) == 0;
	}
	if (ok && !guardian) {
		pump = json_object_new_object();
		struct json_object *battery = json_object_new_object(), *iob = json_object_new_object(), *ai;
		ok = pump && battery && iob;
		if (ok && (number(t->pd, "pumpBatteryLevelPercent", &v) || number(t->pd, "medicalDeviceBatteryLevelPercent", &v)))
			ok = nsc_json_add_double(battery, "percent", v) == 0;
		if (ok && (number(t->pd, "reservoirRemainingUnits", &v) || number(t->pd, "reservoirAmount", &v)))
			ok = nsc_json_add_double(pump, "reservoir", v) == 0;
		if (ok && json_object_object_get_ex(t->pd, "activeInsulin", &ai) && number(ai, "amount", &v) && v >= 0)
			ok = nsc_json_add_double(iob, "bolusiob", v) == 0 && nsc_json_add_string(iob, "timestamp", iso) == 0;
		char clock[NSC_ISO_BUF];
		if (ok && nsc_time_format_iso(view->upload_ms, clock, sizeof(clock)) == NSC_OK)
			ok = nsc_json_add_string(pump, "clock", clock) == 0;
		ok = ok && nsc_json_add_child(pump, "battery", battery) == 0;
		battery = NULL;
		ok = ok && nsc_json_add_child(pump, "iob", iob) == 0;
		iob = NULL;
		json_object_put(battery);
		json_object_put(iob);
		ok = ok && nsc_json_add_child(d, "pump", pump) == 0;
		pump = NULL;
	}
	static const char *const fields[] = { "sensorState", "calibStatus", "timeToNextCalibHours", "sensorDurationHours",
					      "conduitInRange", "conduitMedicalDeviceInRange", "conduitSensorInRange",
					      "medicalDeviceFamily", "lastAlarm", NULL };
	for (size_t i = 0; ok && fields[i]; i++)
		ok = copy_field(connect, t->pd, fields[i]) == 0;
	ok = ok && nsc_json_add_bool(connect, "stale", view->stale) == 0;
	ok = ok && nsc_json_add_child(d, "connect", connect) == 0;
	connect = NULL;
	json_object_put(connect);
	json_object_put(pump);
	if (!ok) {
		json_object_put(d);
		return nsc_error_set(t->err, NSC_ERR_NOMEM, "CareLink: out of memory building the device status");
	}
	return add(t, NSC_COLL_DEVICESTATUS, d);
}

nsc_rc nsc_carelink_transform(const char *body, size_t len, const char *family, struct nsc_batch *out,
			      size_t *skipped, struct nsc_carelink_view *view, struct nsc_error *err)
{
	struct tx t;
	memset(&t, 0, sizeof(t));
	memset(view, 0, sizeof(*view));
	*skipped = 0;
	struct json_object *root = body ? nsc_json_parse(body, len) : NULL, *pd = NULL;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP, "CareLink sent data that is not a JSON object");
	}
	if (!json_object_object_get_ex(root, "patientData", &pd))
		pd = root;
	int64_t now_ms = 0;
	if (!json_object_is_type(pd, json_type_object) || !nsc_json_get_int64(pd, "currentServerTime", &now_ms)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP, "CareLink sent data without its server time (an empty or stub answer)");
	}
	t.pd = pd;
	t.out = out;
	t.skipped = skipped;
	t.err = err;
	const char *units = nsc_json_get_string(pd, "bgUnits");
	if (units == NULL)
		units = nsc_json_get_string(pd, "bgunits");
	t.mmol = units && strncasecmp(units, "MMOL", 4) == 0;
	const char *fam = nsc_json_get_string(pd, "medicalDeviceFamily");
	if (fam == NULL)
		fam = family && *family ? family : "unknown";
	snprintf(t.device, sizeof(t.device), "nsconnect-carelink-");
	for (size_t i = 0, at = strlen(t.device); fam[i] && at + 1 < sizeof(t.device); i++, at++) {
		t.device[at] = (char)tolower((unsigned char)fam[i]);
		t.device[at + 1] = '\0';
	}
	find_offset(&t);
	view->offset_min = (int)(t.offset_ms / 60000);
	(void)nsc_json_get_int64(pd, "lastMedicalDeviceDataUpdateServerTime", &view->upload_ms);
	view->stale = view->upload_ms > 0 && now_ms - view->upload_ms > NSC_CARELINK_STALE_MS;
	bool guardian = strcasestr(fam, "GUARDIAN") != NULL;
	nsc_rc rc = entries(&t, view->stale);
	if (rc == NSC_OK)
		rc = treatments(&t);
	if (rc == NSC_OK)
		rc = devicestatus(&t, view, guardian);
	json_object_put(root);
	return rc;
}
