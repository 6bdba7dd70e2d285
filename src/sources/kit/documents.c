/* SPDX-License-Identifier: MIT */
/* Nightscout documents from vendor readings, the same for every driver (documents.h). */
#include "config.h"

#include "jsonutil.h"
#include "sources/kit/documents.h"
#include "timeutil.h"

nsc_rc nsc_sgv_entry_new(const struct nsc_sgv_reading *r, struct json_object **out)
{
	char iso[NSC_ISO_BUF];

	*out = NULL;
	if (nsc_time_format_iso(r->date_ms, iso, sizeof(iso)) != NSC_OK)
		return NSC_ERR_PARSE;
	struct json_object *doc = json_object_new_object();
	if (doc == NULL)
		return NSC_ERR_NOMEM;
	bool bad = nsc_json_add_string(doc, "type", "sgv") != 0 || nsc_json_add_int64(doc, "sgv", r->sgv) != 0 ||
		   nsc_json_add_int64(doc, "date", r->date_ms) != 0 ||
		   nsc_json_add_string(doc, "dateString", iso) != 0;
	if (!bad && r->has_trend)
		bad = nsc_json_add_string(doc, "direction", nsc_trend_direction(r->trend)) != 0 ||
		      nsc_json_add_int64(doc, "trend", (int64_t)r->trend) != 0;
	if (!bad)
		bad = nsc_json_add_string(doc, "device", r->device) != 0;
	if (bad) {
		json_object_put(doc);
		return NSC_ERR_NOMEM;
	}
	*out = doc;
	return NSC_OK;
}

nsc_rc nsc_kit_batch_add(struct nsc_batch *out, enum nsc_collection c, struct json_object *doc,
			 size_t *skipped, struct nsc_log *log, const char *comp, const char *vendor,
			 struct nsc_error *err)
{
	struct nsc_error add_err;
	nsc_error_clear(&add_err);
	nsc_rc rc = nsc_batch_add(out, c, doc, &add_err);
	if (rc == NSC_OK)
		return NSC_OK;
	if (nsc_rc_verdict(rc) == NSC_VERDICT_DROP) {
		(*skipped)++;
		if (log != NULL)
			nsc_warn(log, comp, "event=record_skipped msg=\"%s\"", add_err.msg);
		return NSC_OK;
	}
	return nsc_error_set(err, rc, "%s: %s", vendor, add_err.msg);
}
