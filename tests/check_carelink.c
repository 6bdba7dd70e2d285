/* SPDX-License-Identifier: MIT */
/*
 * Medtronic CareLink: the pure parts on the fixtures of reference/vendors.md
 * §8.5 (hosts and which URLs the token may reach, the session answers, the
 * data answer in the 2025 and the older shape, a half-hour zone, stale
 * uploads).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/bridge.h"
#include "harness.h"
#include "jsonutil.h"
#include "keep_output.h"
#include "nsc_check.h"
#include "server/carelink.h"
#include "server/server.h"
#include "sources/carelink/carelink.h"
#include "sources/registry.h"
#include "timeutil.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

static int64_t iso_ms(const char *iso)
{
	int64_t ms;
	ck_assert_int_eq(nsc_time_parse_iso(iso, &ms, NULL), NSC_OK);
	return ms;
}

static double num(struct json_object *d, const char *k)
{
	double v;
	ck_assert_msg(nsc_json_get_number(d, k, &v), "%s missing", k);
	return v;
}

static struct json_object *child(struct json_object *d, const char *k)
{
	struct json_object *c;
	ck_assert_msg(json_object_object_get_ex(d, k, &c), "%s missing", k);
	return c;
}

START_TEST(hosts_and_the_urls_a_token_may_reach)
{
	struct nsc_carelink_hosts h;
	struct nsc_error err;
	char *url = NULL;
	ck_assert_int_eq(nsc_carelink_hosts_for(NULL, NULL, &h, &err), NSC_OK);
	ck_assert_str_eq(h.carelink, "https://carelink.minimed.eu");
	ck_assert_str_eq(h.cloud, "https://clcloud.minimed.eu");
	ck_assert_int_eq(nsc_carelink_vendor_url(&h, "https://clcloud.minimed.eu/connect/carepartner/v11/display/message",
						 &url, &err),
			 NSC_OK);
	ck_assert_str_eq(url, "https://clcloud.minimed.eu/connect/carepartner/v11/display/message");
	free(url);
	/* Another region's host, a look-alike, plain http: the token does not go there. */
	ck_assert_int_eq(nsc_carelink_vendor_url(&h, "https://clcloud.minimed.com/x", &url, &err), NSC_ERR_DROP);
	ck_assert_int_eq(nsc_carelink_vendor_url(&h, "https://clcloud.minimed.eu.evil.example/x", &url, &err), NSC_ERR_DROP);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a CareLink host"));
	ck_assert_int_eq(nsc_carelink_vendor_url(&h, "http://clcloud.minimed.eu/x", &url, &err), NSC_ERR_DROP);
	ck_assert_int_eq(nsc_carelink_hosts_for("us", NULL, &h, &err), NSC_OK);
	ck_assert_str_eq(h.carelink, "https://carelink.minimed.com");
	ck_assert_int_eq(nsc_carelink_hosts_for("mars", NULL, &h, &err), NSC_ERR_CONFIG);
	/* A server stands in for both hosts: CareLink's URLs are rewritten to it, its own pass. */
	ck_assert_int_eq(nsc_carelink_hosts_for("eu", "http://127.0.0.1:9/", &h, &err), NSC_OK);
	ck_assert_int_eq(nsc_carelink_vendor_url(&h, "https://clcloud.minimed.eu/connect/carepartner/v11/display/message",
						 &url, &err),
			 NSC_OK);
	ck_assert_str_eq(url, "http://127.0.0.1:9/connect/carepartner/v11/display/message");
	free(url);
	ck_assert_int_eq(nsc_carelink_vendor_url(&h, "http://127.0.0.1:9/a?b=c", &url, &err), NSC_OK);
	ck_assert_str_eq(url, "http://127.0.0.1:9/a?b=c");
	free(url);
	ck_assert_int_eq(nsc_carelink_vendor_url(&h, "https://elsewhere.example/a", &url, &err), NSC_ERR_DROP);
	url = nsc_carelink_login_url(&h, "https://carelink-login.minimed.eu/oauth/token");
	ck_assert_str_eq(url, "http://127.0.0.1:9/oauth/token");
	free(url);
	url = nsc_carelink_login_url(&h, "https://tenant.auth0.example/oauth/token");
	ck_assert_str_eq(url, "https://tenant.auth0.example/oauth/token");
	free(url);
}
END_TEST

static struct nsc_http_response answer(long status, const char *body)
{
	struct nsc_http_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.body = (char *)body;
	r.body_len = strlen(body);
	r.retry_after_ms = -1;
	return r;
}

START_TEST(answers_are_classified)
{
	struct nsc_vendor_verdict v;
	struct nsc_http_response r = answer(403, "{\"error\":\"invalid_grant\",\"error_description\":\"Unknown or invalid refresh token.\"}");
	nsc_carelink_refresh_verdict(&r, &v);
	ck_assert_int_eq(v.rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(v.msg, "nightscout-connect carelink-login"));
	ck_assert_ptr_null(strstr(v.msg, "invalid refresh token")); /* the user's words, not the vendor's */
	r = answer(503, "");
	nsc_carelink_refresh_verdict(&r, &v);
	ck_assert_int_eq(v.rc, NSC_ERR_RETRY);
	r = answer(200, "{}");
	nsc_carelink_refresh_verdict(&r, &v);
	ck_assert_int_eq(v.rc, NSC_OK);
	static const struct {
		long status;
		nsc_rc rc;
	} calls[] = { { 200, NSC_OK },       { 401, NSC_ERR_AUTH }, { 403, NSC_ERR_AUTH },  { 404, NSC_ERR_DROP },
		      { 410, NSC_ERR_DROP }, { 429, NSC_ERR_RETRY }, { 500, NSC_ERR_RETRY } };
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		r = answer(calls[i].status, "{}");
		if (calls[i].status == 429)
			r.retry_after_ms = 25000;
		nsc_carelink_call_verdict(&r, &v);
		ck_assert_msg(v.rc == calls[i].rc, "HTTP %ld", calls[i].status);
	}
	ck_assert_int_eq(v.rc, NSC_ERR_RETRY);
}
END_TEST

START_TEST(session_answers)
{
	struct nsc_error err;
	struct nsc_carelink_me me;
	const char *carer = "{\"id\":\"u-1\",\"username\":\"carer1\",\"firstName\":\"Ann\",\"lastName\":\"Doe\","
			    "\"country\":\"GB\",\"language\":\"en\",\"role\":\"CARE_PARTNER_OUS\",\"mfaRequired\":false}";
	ck_assert_int_eq(nsc_carelink_me_read(carer, strlen(carer), &me, &err), NSC_OK);
	ck_assert_str_eq(me.username, "carer1");
	ck_assert_str_eq(me.country, "gb");
	ck_assert(me.care_partner);
	const char *patient = "{\"username\":\"p\",\"role\":\"PATIENT_OUS\"}";
	ck_assert_int_eq(nsc_carelink_me_read(patient, strlen(patient), &me, &err), NSC_OK);
	ck_assert(!me.care_partner);
	ck_assert_int_eq(nsc_carelink_me_read("[]", 2, &me, &err), NSC_ERR_DROP);

	char who[NSC_CARELINK_NAME_MAX];
	const char *one = "[{\"username\":\"patient1\",\"firstName\":\"Bob\",\"lastName\":\"Doe\"}]";
	ck_assert_int_eq(nsc_carelink_pick_patient(one, strlen(one), NULL, who, &err), NSC_OK);
	ck_assert_str_eq(who, "patient1");
	const char *two = "[{\"username\":\"kid1\"},{\"username\":\"kid2\"}]";
	ck_assert_int_eq(nsc_carelink_pick_patient(two, strlen(two), NULL, who, &err), NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(err.msg, "kid1, kid2"));
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_CARELINK_PATIENT_USERNAME"));
	ck_assert_int_eq(nsc_carelink_pick_patient(two, strlen(two), "kid2", who, &err), NSC_OK);
	ck_assert_str_eq(who, "kid2");
	ck_assert_int_eq(nsc_carelink_pick_patient(two, strlen(two), "kid3", who, &err), NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(err.msg, "'kid3' is not linked"));
	ck_assert_int_eq(nsc_carelink_pick_patient("[]", 2, NULL, who, &err), NSC_ERR_REJECTED);

	char *url = NULL;
	const char *cs = "{\"blePereodicDataEndpoint\":\"https://clcloud.minimed.eu/connect/carepartner/v6/display/message\"}";
	ck_assert_int_eq(nsc_carelink_ble_endpoint(cs, strlen(cs), &url, &err), NSC_OK);
	ck_assert_str_eq(url, "https://clcloud.minimed.eu/connect/carepartner/v6/display/message");
	free(url);
	ck_assert_int_eq(nsc_carelink_ble_endpoint("{}", 2, &url, &err), NSC_ERR_DROP);

	char family[NSC_CARELINK_NAME_MAX];
	bool ble;
	ck_assert_int_eq(nsc_carelink_family("{\"deviceFamily\":\"NGP_BLE\"}", 26, family, &ble, &err), NSC_OK);
	ck_assert(ble);
	const char *g = "{\"deviceFamily\":\"GUARDIAN\"}";
	ck_assert_int_eq(nsc_carelink_family(g, strlen(g), family, &ble, &err), NSC_OK);
	ck_assert(!ble);
	const char *s = "{\"deviceFamily\":\"SIMPLERA\"}";
	ck_assert_int_eq(nsc_carelink_family(s, strlen(s), family, &ble, &err), NSC_OK);
	ck_assert(ble);

	char *body = nsc_carelink_ble_body("carer1", true, "patient1");
	ck_assert_str_eq(body, "{\"username\":\"carer1\",\"role\":\"carepartner\",\"patientId\":\"patient1\"}");
	free(body);
}
END_TEST

#define DISPLAY_2025                                                                                             \
	"{\"metadata\":{},\"patientData\":{\"medicalDeviceFamily\":\"NGP\",\"clientTimeZoneName\":\"Europe/London\","  \
	"\"currentServerTime\":1745082000000,\"lastMedicalDeviceDataUpdateServerTime\":1745081900000,"              \
	"\"lastConduitDateTime\":\"2025-04-19T17:58:20\",\"lastConduitUpdateServerDateTime\":1745081900000,"         \
	"\"pumpBatteryLevelPercent\":75,\"conduitBatteryLevel\":80,\"reservoirRemainingUnits\":60.5,"                \
	"\"sensorState\":\"NO_ERROR_MESSAGE\",\"calibStatus\":\"LESS_THAN_TWELVE_HRS\",\"lastSGTrend\":\"UP\","      \
	"\"activeInsulin\":{\"amount\":2.35,\"datetime\":\"2025-04-19T17:58:00\"},\"lastSG\":{\"sg\":131,"          \
	"\"timestamp\":\"2025-04-19T17:55:00\",\"kind\":\"SG\"},\"sgs\":[{\"sg\":0,\"timestamp\":"                  \
	"\"2025-04-19T17:45:00\",\"sensorState\":\"WARM_UP\",\"kind\":\"SG\"},{\"sg\":128,\"timestamp\":"           \
	"\"2025-04-19T17:50:00\",\"sensorState\":\"NO_ERROR_MESSAGE\",\"kind\":\"SG\"},{\"sg\":131,\"timestamp\":"   \
	"\"2025-04-19T17:55:00\",\"sensorState\":\"NO_ERROR_MESSAGE\",\"kind\":\"SG\"}],\"markers\":[{\"type\":"    \
	"\"INSULIN\",\"timestamp\":\"2025-04-19T17:30:00\",\"data\":{\"dataValues\":{\"deliveredFastAmount\":"       \
	"\"3.0\",\"programmedFastAmount\":\"3.0\",\"bolusType\":\"FAST\",\"activationType\":\"RECOMMENDED\","        \
	"\"completed\":true}}}]}}"

static void transform(const char *body, struct nsc_batch *b, struct nsc_carelink_view *view)
{
	size_t skipped = 9;
	struct nsc_error err;
	nsc_batch_init(b);
	ck_assert_msg(nsc_carelink_transform(body, strlen(body), "NGP_BLE", b, &skipped, view, &err) == NSC_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(skipped, 0);
}

START_TEST(display_message_2025_becomes_the_expected_documents)
{
	struct nsc_batch b;
	struct nsc_carelink_view view;
	transform(DISPLAY_2025, &b, &view);
	ck_assert_int_eq(view.offset_min, 60);
	ck_assert(!view.stale);
	/* The warm-up point (sg 0) is no reading. */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 2);
	struct json_object *e0 = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), *e1 = nsc_batch_get(&b, NSC_COLL_ENTRIES, 1);
	ck_assert_int_eq((int64_t)num(e0, "date"), iso_ms("2025-04-19T16:50:00.000Z"));
	ck_assert_int_eq((int64_t)num(e0, "sgv"), 128);
	ck_assert(!json_object_object_get_ex(e0, "direction", NULL));
	ck_assert_int_eq((int64_t)num(e1, "date"), iso_ms("2025-04-19T16:55:00.000Z"));
	ck_assert_int_eq((int64_t)num(e1, "sgv"), 131);
	ck_assert_str_eq(nsc_json_get_string(e1, "direction"), "SingleUp");
	ck_assert_int_eq((int64_t)num(e1, "trend"), 2);
	ck_assert_str_eq(nsc_json_get_string(e1, "device"), "nsconnect-carelink-ngp");
	/* One Correction Bolus of the delivered 3.0 U at 16:30Z. */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_TREATMENTS), 1);
	struct json_object *t = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0);
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Correction Bolus");
	ck_assert(num(t, "insulin") == 3.0);
	ck_assert_str_eq(nsc_json_get_string(t, "created_at"), "2025-04-19T16:30:00.000Z");
	/* The status at the data's own time, never now. */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_DEVICESTATUS), 1);
	struct json_object *ds = nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0), *pump = child(ds, "pump");
	ck_assert_str_eq(nsc_json_get_string(ds, "created_at"), "2025-04-19T16:58:20.000Z");
	ck_assert(num(child(pump, "battery"), "percent") == 75);
	ck_assert(num(pump, "reservoir") == 60.5);
	ck_assert(num(child(pump, "iob"), "bolusiob") == 2.35);
	ck_assert(num(child(ds, "uploader"), "battery") == 80);
	ck_assert_str_eq(nsc_json_get_string(child(ds, "connect"), "calibStatus"), "LESS_THAN_TWELVE_HRS");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(legacy_shape_with_offsets)
{
	const char *legacy =
		"{\"medicalDeviceFamily\":\"GUARDIAN\",\"currentServerTime\":1745082000000,"
		"\"lastMedicalDeviceDataUpdateServerTime\":1745081900000,\"sMedicalDeviceTime\":\"Apr 19, 2025 17:58:20\","
		"\"medicalDeviceBatteryLevelPercent\":90,\"lastSGTrend\":\"NONE\",\"lastSG\":{\"sg\":131,\"datetime\":"
		"\"2025-04-19T17:55:00.000+01:00\",\"kind\":\"SG\"},\"sgs\":[{\"sg\":128,\"datetime\":"
		"\"2025-04-19T17:50:00.000+01:00\",\"kind\":\"SG\",\"version\":1,\"timeChange\":false},{\"sg\":131,"
		"\"datetime\":\"2025-04-19T17:55:00.000+01:00\",\"kind\":\"SG\",\"version\":1,\"timeChange\":false}],"
		"\"markers\":[{\"type\":\"MEAL\",\"index\":120,\"dateTime\":\"2025-04-19T12:00:00.000+01:00\",\"amount\":45},"
		"{\"type\":\"INSULIN\",\"index\":120,\"dateTime\":\"2025-04-19T12:00:00.000+01:00\",\"bolusType\":\"DUAL\","
		"\"programmedFastAmount\":4.5,\"deliveredFastAmount\":4.0,\"deliveredExtendedAmount\":1.5,\"completed\":true},"
		"{\"type\":\"INSULIN\",\"index\":130,\"dateTime\":\"2025-04-19T12:50:00.000+01:00\",\"deliveredFastAmount\":0},"
		"{\"type\":\"BG_READING\",\"index\":140,\"dateTime\":\"2025-04-19T13:40:00.000+01:00\",\"value\":104},"
		"{\"type\":\"AUTO_BASAL_DELIVERY\",\"index\":150,\"dateTime\":\"2025-04-19T14:30:00.000+01:00\","
		"\"bolusAmount\":0.05}]}";
	struct nsc_batch b;
	struct nsc_carelink_view view;
	transform(legacy, &b, &view);
	ck_assert_int_eq(view.offset_min, 60);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 2);
	ck_assert_int_eq((int64_t)num(nsc_batch_get(&b, NSC_COLL_ENTRIES, 1), "date"), iso_ms("2025-04-19T16:55:00.000Z"));
	ck_assert_str_eq(nsc_json_get_string(nsc_batch_get(&b, NSC_COLL_ENTRIES, 1), "direction"), "NONE");
	/* Meal + bolus of one index: carbs and the insulin delivered, both parts; no zero bolus; BG Check; no basal rate. */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_TREATMENTS), 2);
	struct json_object *meal = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0), *bg = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 1);
	ck_assert_str_eq(nsc_json_get_string(meal, "eventType"), "Meal Bolus");
	ck_assert(num(meal, "carbs") == 45 && num(meal, "insulin") == 5.5);
	ck_assert_str_eq(nsc_json_get_string(meal, "created_at"), "2025-04-19T11:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(bg, "eventType"), "BG Check");
	ck_assert(num(bg, "glucose") == 104);
	ck_assert_str_eq(nsc_json_get_string(bg, "glucoseType"), "Finger");
	/* Guardian: no pump block. */
	ck_assert(!json_object_object_get_ex(nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0), "pump", NULL));
	/* The same answer again: the same identifiers. */
	struct nsc_batch again;
	transform(legacy, &again, &view);
	for (size_t i = 0; i < nsc_batch_count(&b, NSC_COLL_TREATMENTS); i++)
		ck_assert_str_eq(nsc_json_get_string(nsc_batch_get(&b, NSC_COLL_TREATMENTS, i), "identifier"),
				 nsc_json_get_string(nsc_batch_get(&again, NSC_COLL_TREATMENTS, i), "identifier"));
	nsc_batch_clear(&b);
	nsc_batch_clear(&again);
}
END_TEST

START_TEST(half_hour_zone_and_stale_uploads)
{
	/* India: +05:30. The pump's clock 22:28:20 when the server saw 16:58:20Z. */
	const char *india =
		"{\"patientData\":{\"medicalDeviceFamily\":\"NGP\",\"currentServerTime\":1745082000000,"
		"\"lastMedicalDeviceDataUpdateServerTime\":1745081900000,\"lastConduitDateTime\":\"2025-04-19T22:28:20\","
		"\"lastConduitUpdateServerDateTime\":1745081900000,\"lastSGTrend\":\"DOWN\",\"sgs\":[{\"sg\":90,"
		"\"timestamp\":\"2025-04-19T22:25:00\",\"kind\":\"SG\"}],\"markers\":[]}}";
	struct nsc_batch b;
	struct nsc_carelink_view view;
	transform(india, &b, &view);
	ck_assert_int_eq(view.offset_min, 330);
	ck_assert_int_eq((int64_t)num(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "date"), iso_ms("2025-04-19T16:55:00.000Z"));
	ck_assert_str_eq(nsc_json_get_string(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "direction"), "SingleDown");
	nsc_batch_clear(&b);
	/* 50 minutes since the last upload: stale; readings kept with their times, none presented as current. */
	const char *stale =
		"{\"patientData\":{\"medicalDeviceFamily\":\"NGP\",\"currentServerTime\":1745082000000,"
		"\"lastMedicalDeviceDataUpdateServerTime\":1745079000000,\"lastConduitDateTime\":\"2025-04-19T17:10:00\","
		"\"lastConduitUpdateServerDateTime\":1745079000000,\"lastSGTrend\":\"UP\",\"sgs\":[{\"sg\":150,"
		"\"timestamp\":\"2025-04-19T17:05:00\",\"kind\":\"SG\"}]}}";
	transform(stale, &b, &view);
	ck_assert(view.stale);
	ck_assert(!json_object_object_get_ex(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "direction", NULL));
	struct json_object *connect = child(nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0), "connect"), *v;
	ck_assert(json_object_object_get_ex(connect, "stale", &v) && json_object_get_boolean(v));
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(unusable_answers_are_dropped)
{
	static const char *const bad[] = { "", "[]", "{}", "{\"metadata\":{},\"patientData\":{}}", "<html>" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nsc_batch b;
		size_t skipped;
		struct nsc_carelink_view view;
		struct nsc_error err;
		nsc_batch_init(&b);
		ck_assert_int_eq(nsc_carelink_transform(bad[i], strlen(bad[i]), "NGP", &b, &skipped, &view, &err), NSC_ERR_DROP);
		nsc_batch_clear(&b);
	}
}
END_TEST


/* ---- the driver against the CareLink simulator --------------------------------- */

struct env {
	struct harness h;
	struct tsrv *srv;
	struct tcl *sim;
	struct nsc_config cfg;
	struct nsc_bridge *b;
	char token_file[256];
};

static int64_t env_now(void *ctx)
{
	return nsc_loop_wall_ms(((struct env *)ctx)->h.loop);
}

/* A simulator, its token file written as carelink-login would have, and a config naming both. */
static void env_setup(struct env *e, struct tcl_config *sc)
{
	memset(e, 0, sizeof(*e));
	harness_setup(&e->h, NSC_LOG_INFO);
	e->srv = tsrv_start(0);
	ck_assert_ptr_nonnull(e->srv);
	sc->seed = sc->seed ? sc->seed : 3;
	sc->now_ms = env_now;
	sc->now_ctx = e;
	e->sim = tcl_attach(e->srv, sc);
	ck_assert_ptr_nonnull(e->sim);
	char json[8192];
	int n = tcl_token_file_json(e->sim, json, sizeof(json));
	ck_assert_int_gt(n, 0);
	snprintf(e->token_file, sizeof(e->token_file), "%s/nsc-carelink-%d.json", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid());
	FILE *f = fopen(e->token_file, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(json, 1, (size_t)n, f), (size_t)n);
	ck_assert_int_eq(fclose(f), 0);
	nsc_config_init(&e->cfg);
	e->cfg.source = nsc_source_by_name("minimedcarelink");
	e->cfg.lookback_ms = 30 * HOUR;
	e->cfg.http_timeout_ms = 2 * SEC;
	e->cfg.carelink_server = strdup(tsrv_url(e->srv));
	e->cfg.carelink_region = strdup("eu");
	e->cfg.carelink_token_file = strdup(e->token_file);
}

static nsc_rc env_start(struct env *e, struct nsc_error *err)
{
	struct nsc_bridge_options o = { .rng_seed = 13 };
	ck_assert_int_eq(nsc_config_register_secrets(&e->cfg, e->h.log), NSC_OK);
	nsc_rc rc = nsc_bridge_new_with(e->h.loop, &e->cfg, e->h.log, &o, &nsc_source_carelink, &keep_output_driver,
					&e->b, err);
	if (rc == NSC_OK)
		ck_assert_int_eq(nsc_bridge_start(e->b), NSC_OK);
	return rc;
}

static void env_teardown(struct env *e)
{
	nsc_bridge_free(e->b);
	tsrv_stop(e->srv);
	tcl_free(e->sim);
	nsc_config_free(&e->cfg);
	harness_teardown(&e->h);
	unlink(e->token_file);
}

static const struct nsc_bridge_stats *st(struct env *e)
{
	return nsc_bridge_stats(e->b);
}

/* What the simulator's next data answer holds: taken when the first poll is made. */
static struct json_object *served(struct env *e)
{
	struct json_object *sgs = NULL;
	(void)tcl_sgs(e->sim, &sgs);
	return sgs;
}

/* Every SG > 0 of kind SG the simulator served (sgs, taken by served()) is an entry at its true instant. */
static void assert_sgs_stored(struct json_object *sgs)
{
	size_t n = json_object_array_length(sgs), want = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(sgs, i);
		const char *kind = nsc_json_get_string(r, "kind");
		int64_t truth, sg;
		ck_assert(nsc_json_get_int64(r, "trueUtcMs", &truth) && nsc_json_get_int64(r, "sg", &sg));
		bool found = false;
		for (size_t j = 0; j < kept_count(NSC_COLL_ENTRIES) && !found; j++) {
			struct json_object *d = json_object_array_get_idx(kept->docs[NSC_COLL_ENTRIES], j);
			found = (int64_t)num(d, "date") == truth && (int64_t)num(d, "sgv") == sg;
		}
		if (kind && strcmp(kind, "SG") == 0 && sg > 0) {
			want++;
			ck_assert_msg(found, "SG %lld at %lld not stored", (long long)sg, (long long)truth);
		} else {
			ck_assert_msg(!found, "a non-reading stored");
		}
	}
	ck_assert_uint_gt(want, 200);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), want);
	json_object_put(sgs);
}

START_TEST(care_partner_over_ble_stores_exact_values)
{
	struct env e;
	struct tcl_config sc = { 0 };
	struct nsc_error err;
	env_setup(&e, &sc);
	struct json_object *sgs = served(&e);
	ck_assert_int_eq(env_start(&e, &err), NSC_OK);
	harness_run_for(&e.h, MIN);
	ck_assert_msg(st(&e)->last_rc == NSC_OK, "%s", st(&e)->last_error);
	assert_sgs_stored(sgs);
	ck_assert_uint_ge(kept_count(NSC_COLL_TREATMENTS), 1);
	ck_assert_uint_eq(kept_count(NSC_COLL_DEVICESTATUS), 1);
	const struct tsrv_request *r = tsrv_find(e.srv, "POST", "/connect/carepartner/v11/display/message", 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(tsrv_header(r, "Authorization"), "Bearer "));
	/* doctor's words for what the account reads: the care partner's one linked patient, over BLE. */
	char what[400];
	nsc_source_carelink.describe_selection(nsc_bridge_session(e.b)->source, what, sizeof(what));
	ck_assert_msg(strstr(what, "care-partner account") && strstr(what, "reading linked patient") &&
			      strstr(what, "BLE data"),
		      "%s", what);
	/* A second poll stores nothing twice. */
	harness_run_for(&e.h, 10 * MIN);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->frames_rejected + st(&e)->payloads_dropped, 0);
	ck_assert_uint_gt(st(&e)->duplicates[NSC_COLL_ENTRIES], 0);
	env_teardown(&e);
}
END_TEST

START_TEST(guardian_patient_reads_the_legacy_path)
{
	struct env e;
	struct tcl_config sc = { .patient_account = true, .device_family = "GUARDIAN" };
	struct nsc_error err;
	env_setup(&e, &sc);
	struct json_object *sgs = served(&e);
	ck_assert_int_eq(env_start(&e, &err), NSC_OK);
	harness_run_for(&e.h, MIN);
	ck_assert_msg(st(&e)->last_rc == NSC_OK, "%s", st(&e)->last_error);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/patient/connect/data"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/patient/m2m/links/patients"), 0);
	char what[400];
	nsc_source_carelink.describe_selection(nsc_bridge_session(e.b)->source, what, sizeof(what));
	ck_assert_msg(strstr(what, "patient account") && strstr(what, "its own data (GUARDIAN pump, legacy data)"), "%s",
		      what);
	assert_sgs_stored(sgs);
	env_teardown(&e);
}
END_TEST

START_TEST(an_expired_token_is_renewed_and_the_rotated_one_saved)
{
	struct env e;
	struct tcl_config sc = { .access_lifetime_s = 1800 };
	struct nsc_error err;
	env_setup(&e, &sc);
	ck_assert_int_eq(env_start(&e, &err), NSC_OK);
	harness_run_for(&e.h, MIN);
	ck_assert_uint_eq(tcl_refreshes(e.sim), 0);
	/* 20 minutes before exp, less the margin: renewed once, and the file holds the new refresh token. */
	harness_run_for(&e.h, 25 * MIN);
	ck_assert_uint_eq(tcl_refreshes(e.sim), 1);
	char rt[512], file[8192];
	tcl_last_refresh_token(e.sim, rt, sizeof(rt));
	FILE *f = fopen(e.token_file, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(file, 1, sizeof(file) - 1, f);
	fclose(f);
	file[n] = '\0';
	ck_assert_ptr_nonnull(strstr(file, rt));
	struct stat sb;
	ck_assert_int_eq(stat(e.token_file, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	/* The phone app logged in elsewhere: a 401, one renewal, data again. */
	tcl_invalidate_access(e.sim);
	harness_run_for(&e.h, 6 * MIN);
	ck_assert_uint_eq(tcl_refreshes(e.sim), 2);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_int_eq(harness_count_lines(&e.h, rt), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(a_revoked_login_asks_for_carelink_login_once)
{
	struct env e;
	struct tcl_config sc = { .access_lifetime_s = 60 };
	struct nsc_error err;
	env_setup(&e, &sc);
	tcl_revoke_refresh(e.sim);
	ck_assert_int_eq(env_start(&e, &err), NSC_OK);
	harness_run_for(&e.h, 2 * HOUR);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "carelink-login"));
	/* The lockout guard: no tight loop of refused renewals. */
	ck_assert_uint_le(tsrv_count(e.srv, "POST", "/oauth/token"), 3);
	env_teardown(&e);
}
END_TEST

START_TEST(several_patients_and_none_chosen_lists_them)
{
	struct env e;
	struct tcl_config sc = { .patients = { "kid1", "kid2" } };
	struct nsc_error err;
	env_setup(&e, &sc);
	ck_assert_int_eq(env_start(&e, &err), NSC_OK);
	harness_run_for(&e.h, MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "kid1, kid2"));
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 0);
	env_teardown(&e);
	/* Chosen: that one is read. */
	env_setup(&e, &sc);
	e.cfg.carelink_patient_username = strdup("kid2");
	ck_assert_int_eq(env_start(&e, &err), NSC_OK);
	harness_run_for(&e.h, MIN);
	ck_assert_msg(st(&e)->last_rc == NSC_OK, "%s", st(&e)->last_error);
	const struct tsrv_request *r = tsrv_find(e.srv, "POST", "/connect/carepartner/v11/display/message", 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r->body, "\"patientId\":\"kid2\""));
	env_teardown(&e);
}
END_TEST

START_TEST(legacy_shape_and_a_half_hour_zone)
{
	struct env e;
	struct tcl_config sc = { .legacy_shape = true, .offset_min = 330 };
	struct nsc_error err;
	env_setup(&e, &sc);
	struct json_object *sgs = served(&e);
	ck_assert_int_eq(env_start(&e, &err), NSC_OK);
	harness_run_for(&e.h, MIN);
	ck_assert_msg(st(&e)->last_rc == NSC_OK, "%s", st(&e)->last_error);
	assert_sgs_stored(sgs);
	env_teardown(&e);
	struct tcl_config india = { .offset_min = 330, .tz_name = "Asia/Kolkata" };
	env_setup(&e, &india);
	sgs = served(&e);
	ck_assert_int_eq(env_start(&e, &err), NSC_OK);
	harness_run_for(&e.h, MIN);
	assert_sgs_stored(sgs);
	env_teardown(&e);
}
END_TEST

START_TEST(a_missing_token_file_is_refused_at_start)
{
	struct env e;
	struct tcl_config sc = { 0 };
	struct nsc_error err;
	env_setup(&e, &sc);
	unlink(e.token_file);
	ck_assert_int_eq(env_start(&e, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_CARELINK_TOKEN_FILE"));
	env_teardown(&e);
}
END_TEST

static Suite *carelink_suite(void)
{
	Suite *s = suite_create("carelink");
	TCase *pure = tcase_create("pure");
	tcase_add_test(pure, hosts_and_the_urls_a_token_may_reach);
	tcase_add_test(pure, answers_are_classified);
	tcase_add_test(pure, session_answers);
	tcase_add_test(pure, display_message_2025_becomes_the_expected_documents);
	tcase_add_test(pure, legacy_shape_with_offsets);
	tcase_add_test(pure, half_hour_zone_and_stale_uploads);
	tcase_add_test(pure, unusable_answers_are_dropped);
	suite_add_tcase(s, pure);
	TCase *simulator = tcase_create("simulator");
	tcase_set_timeout(simulator, 60);
	tcase_add_test(simulator, care_partner_over_ble_stores_exact_values);
	tcase_add_test(simulator, guardian_patient_reads_the_legacy_path);
	tcase_add_test(simulator, an_expired_token_is_renewed_and_the_rotated_one_saved);
	tcase_add_test(simulator, a_revoked_login_asks_for_carelink_login_once);
	tcase_add_test(simulator, several_patients_and_none_chosen_lists_them);
	tcase_add_test(simulator, legacy_shape_and_a_half_hour_zone);
	tcase_add_test(simulator, a_missing_token_file_is_refused_at_start);
	suite_add_tcase(s, simulator);
	return s;
}

NSC_CHECK_MAIN(carelink_suite)
