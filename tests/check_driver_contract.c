/* SPDX-License-Identifier: MIT */
/*
 * The driver contract: every registered source with a driver, run through
 * the real engine against its simulator, must behave the same way where it
 * meets the engine:
 *
 *   - a good login stores data, with one login;
 *   - a wrong password is REJECTED, not retried inside the lockout guard's
 *     half hour, and its message reaches the log once however long it lasts;
 *   - a session the vendor kills early costs one re-login, not a failure;
 *   - 5xx answers are RETRY, attempts spaced by a growing backoff, and the
 *     bridge recovers when the vendor does;
 *   - a vendor that never answers times out and is retried;
 *   - a body that is not what the vendor sends is DROP, and the bridge goes on;
 *   - cancelling in the middle of every HTTP step leaves nothing running
 *     (run under ASan this also proves nothing is touched after the free);
 *   - no password or vendor-issued secret reaches the log at trace level.
 *
 * A new driver is covered by one line in `lines[]` (and the few adapters
 * that read its simulator's counters); `every_driver_has_a_line` fails
 * until it has one. The in-process simulator source has no HTTP, so the
 * wire cases (5xx, timeouts, malformed bodies, kill, cancel per step) run
 * for the HTTP vendors only.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/bridge.h"
#include "fake_source.h"
#include "harness.h"
#include "nsc_check.h"
#include "server/dexcom.h"
#include "server/carelink.h"
#include "server/glooko.h"
#include "server/librelinkup.h"
#include "server/nightscout.h"
#include "server/server.h"
#include "sources/registry.h"
#include "timeutil.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define WRONG_PASSWORD "wrong-password" /* every simulator refuses it */
#define DEXCOM_USER "alice@example.com"
#define DEXCOM_PASS "correct-pass"
#define SIM_PASS "sim-contract-pass"
#define MAX_STEPS 12
#define MAX_SECRETS 8

struct contract;

/* Secrets a simulator handed out (copied), to look for in the log. */
struct issued {
	char text[MAX_SECRETS][1024];
	size_t n;
};

struct step_path {
	const char *method, *path; /* path prefix as the test server matches it */
};

/* One line per driver: how to configure it and how to read its simulator. */
struct vendor_line {
	const char *source;       /* CONNECT_SOURCE */
	const char *password_var; /* the setting the wrong password goes into */
	const char *password;     /* the right one, never to be logged */
	/* Every setting but CONNECT_SOURCE, with this password; url is the simulator's. */
	void (*settings)(struct nsc_config_kv *kv, const char *url, const char *password);
	/* NULL: an in-process source with no vendor on the wire. */
	void *(*attach)(struct contract *c);
	void (*release)(void *sim);
	unsigned (*logins)(void *sim); /* login requests of any step */
	void (*kill_sessions)(void *sim);
	void (*issued)(void *sim, struct issued *out);
	void (*tick)(void *sim, int64_t now_ms); /* NULL: the vendor's data moves by itself */
	struct step_path data;               /* the request that returns readings */
	struct step_path steps[MAX_STEPS];   /* every request of a first frame, in order */
};

struct contract {
	const struct vendor_line *line;
	struct harness h;
	struct tsrv *srv;
	void *sim;
	struct nsc_config cfg;
	struct nsc_bridge *b;
};

static void kv_set(struct nsc_config_kv *kv, const char *name, const char *value)
{
	ck_assert_int_eq(nsc_config_kv_set(kv, name, value), NSC_OK);
}

static void issued_add(struct issued *out, const char *s)
{
	if (s != NULL && s[0] != '\0' && out->n < MAX_SECRETS)
		snprintf(out->text[out->n++], sizeof(out->text[0]), "%s", s);
}

/* ---- Dexcom Share ---------------------------------------------------------- */

static int64_t wall_of_fake_clock(void *ctx)
{
	/* Read from the server's threads; the loop does not advance it while a request runs. */
	return ((struct contract *)ctx)->h.fc.wall;
}

static void dexcom_settings(struct nsc_config_kv *kv, const char *url, const char *password)
{
	kv_set(kv, "CONNECT_SHARE_PASSWORD", password);
	kv_set(kv, "CONNECT_SHARE_ACCOUNT_NAME", DEXCOM_USER);
	kv_set(kv, "CONNECT_SHARE_REGION", "us");
	kv_set(kv, "CONNECT_SHARE_SERVER", url);
}

static void *dexcom_attach(struct contract *c)
{
	static const struct tsdx_account acc = { DEXCOM_USER, DEXCOM_PASS };
	struct tsdx_config sc = {
		.accounts = &acc, .naccounts = 1, .seed = 42,
		.now_ms = wall_of_fake_clock, .now_ctx = c,
	};
	return tsdx_attach(c->srv, &sc);
}

static void dexcom_release(void *sim)
{
	tsdx_free(sim);
}

static unsigned dexcom_logins(void *sim)
{
	struct tsdx_counters k = tsdx_counters(sim);
	return k.auth_calls + k.login_calls;
}

static void dexcom_kill(void *sim)
{
	tsdx_kill_sessions(sim);
}

static void dexcom_issued(void *sim, struct issued *out)
{
	char id[TSDX_ID_BUF];
	tsdx_account_id(sim, DEXCOM_USER, id);
	issued_add(out, id);
	tsdx_last_session(sim, id);
	issued_add(out, id);
}

/* ---- LibreLinkUp ----------------------------------------------------------- */

static int64_t wall_of_loop(void *ctx)
{
	return nsc_loop_wall_ms(((struct contract *)ctx)->h.loop);
}

static void linkup_settings(struct nsc_config_kv *kv, const char *url, const char *password)
{
	kv_set(kv, "CONNECT_LINK_UP_PASSWORD", password);
	kv_set(kv, "CONNECT_LINK_UP_USERNAME", TLLU_DEFAULT_USER);
	kv_set(kv, "CONNECT_LINK_UP_REGION", "EU");
	kv_set(kv, "CONNECT_LINK_UP_SERVER", url);
}

static void *linkup_attach(struct contract *c)
{
	struct tllu_config sc = { .seed = 42, .owner_offset_min = 60, .now_ms = wall_of_loop, .now_ctx = c };
	return tllu_attach(c->srv, &sc);
}

static void linkup_release(void *sim)
{
	tllu_free(sim);
}

static unsigned linkup_logins(void *sim)
{
	struct tllu_counters k;
	tllu_counters(sim, &k);
	return k.logins;
}

static void linkup_kill(void *sim)
{
	tllu_kill_sessions(sim);
}

static void linkup_issued(void *sim, struct issued *out)
{
	char token[1000];
	tllu_last_token(sim, token, sizeof(token));
	issued_add(out, token);
}

/* ---- Nightscout as a source --------------------------------------------------- */

#define NS_TOKEN "contract-0123456789abcdef"

/* The test Nightscout and the time up to which it holds readings. */
struct ns_sim {
	struct tsns *ns;
	int64_t next_ms; /* the next reading's time */
};

static void ns_iso(int64_t ms, char out[NSC_ISO_BUF])
{
	ck_assert_int_eq(nsc_time_format_iso(ms, out, NSC_ISO_BUF), NSC_OK);
}

static void ns_add_entry(struct ns_sim *x, int64_t t)
{
	char iso[NSC_ISO_BUF];
	ns_iso(t, iso);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "type", json_object_new_string("sgv"));
	json_object_object_add(d, "sgv", json_object_new_int((int)(90 + (t / (5 * MIN)) % 60)));
	json_object_object_add(d, "date", json_object_new_int64(t));
	json_object_object_add(d, "dateString", json_object_new_string(iso));
	json_object_object_add(d, "direction", json_object_new_string("Flat"));
	json_object_object_add(d, "device", json_object_new_string("xDrip-DexcomG7"));
	tsns_insert(x->ns, "entries", d);
}

static void ns_add_timed(struct ns_sim *x, const char *col, int64_t t, const char *key, const char *value)
{
	char iso[NSC_ISO_BUF];
	ns_iso(t, iso);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "created_at", json_object_new_string(iso));
	json_object_object_add(d, key, json_object_new_string(value));
	tsns_insert(x->ns, col, d);
}

static void nightscout_settings(struct nsc_config_kv *kv, const char *url, const char *password)
{
	char endpoint[256];
	snprintf(endpoint, sizeof(endpoint), "%s/?token=%s", url, password);
	kv_set(kv, "CONNECT_SOURCE_ENDPOINT", endpoint);
}

static void nightscout_tick(void *sim, int64_t now_ms)
{
	struct ns_sim *x = sim;
	for (; x->next_ms <= now_ms; x->next_ms += 5 * MIN)
		ns_add_entry(x, x->next_ms);
}

static void *nightscout_attach(struct contract *c)
{
	struct tsns_config nc = { .access_token = NS_TOKEN, .subject = "contract-reader" };
	struct ns_sim *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	x->ns = tsns_attach(c->srv, &nc);
	ck_assert_ptr_nonnull(x->ns);
	/* Two days of readings, a few treatments, pump status, one profile. */
	int64_t now = HARNESS_START_MS;
	x->next_ms = now - 48 * HOUR + 13 * SEC;
	nightscout_tick(x, now);
	for (int i = 1; i <= 6; i++) {
		ns_add_timed(x, "treatments", now - i * 4 * HOUR, "eventType", "Correction Bolus");
		ns_add_timed(x, "devicestatus", now - i * 5 * MIN, "device", "loop://iPhone");
	}
	ns_add_timed(x, "profile", now - 24 * HOUR, "defaultProfile", "Default");
	return x;
}

static void nightscout_release(void *sim)
{
	struct ns_sim *x = sim;
	tsns_free(x->ns);
	free(x);
}

static unsigned nightscout_logins(void *sim)
{
	return (unsigned)tsns_jwts_issued(((struct ns_sim *)sim)->ns);
}

static void nightscout_kill(void *sim)
{
	tsns_revoke_jwts(((struct ns_sim *)sim)->ns);
}

static void nightscout_issued(void *sim, struct issued *out)
{
	char jwt[1000];
	tsns_last_jwt(((struct ns_sim *)sim)->ns, jwt, sizeof(jwt));
	issued_add(out, jwt);
}

/* ---- Glooko ------------------------------------------------------------------- */

static void glooko_settings(struct nsc_config_kv *kv, const char *url, const char *password)
{
	kv_set(kv, "CONNECT_GLOOKO_EMAIL", TGLK_DEFAULT_USER);
	kv_set(kv, "CONNECT_GLOOKO_PASSWORD", password);
	kv_set(kv, "CONNECT_GLOOKO_SERVER", url);
	kv_set(kv, "CONNECT_GLOOKO_TIMEZONE", "Europe/Berlin");
}

/* The simulator and the server its cookies went through. */
struct glk_sim {
	struct tglk *g;
	struct tsrv *srv;
};

static void *glooko_attach(struct contract *c)
{
	/* A day of history: one page of readings, so a data request is one request. */
	struct tglk_config sc = { .seed = 5, .sync_delay_ms = MIN, .now_ms = wall_of_loop, .now_ctx = c,
				  .history_start_ms = HARNESS_START_MS - 20 * HOUR,
				  .zone_count = 1, .zone = { { 0, 3600 } } };
	struct glk_sim *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	x->g = tglk_attach(c->srv, &sc);
	x->srv = c->srv;
	ck_assert_ptr_nonnull(x->g);
	return x;
}

static void glooko_release(void *sim)
{
	tglk_free(((struct glk_sim *)sim)->g);
	free(sim);
}

static unsigned glooko_logins(void *sim)
{
	return (unsigned)tglk_sign_ins(((struct glk_sim *)sim)->g);
}

static void glooko_kill(void *sim)
{
	tglk_expire_sessions(((struct glk_sim *)sim)->g);
}

/* The session cookie of the newest data request. */
static void glooko_issued(void *sim, struct issued *out)
{
	struct glk_sim *x = sim;
	size_t n = tsrv_count(x->srv, "GET", "/api/v2/");
	const char *cookie = n ? tsrv_header(tsrv_find(x->srv, "GET", "/api/v2/", n - 1), "Cookie") : NULL;
	if (cookie != NULL && strchr(cookie, '=') != NULL)
		issued_add(out, strchr(cookie, '=') + 1);
}

/* ---- Medtronic CareLink --------------------------------------------------------- */

/* The line's simulator while a contract runs (settings() has no other way to reach it). */
static struct tcl *carelink_sim;
static char carelink_file[256];

/* A JWT whose exp lies in 1970: the first frame renews it, so every run starts with one login. */
#define CARELINK_EXPIRED_JWT "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2ln"

static void carelink_settings(struct nsc_config_kv *kv, const char *url, const char *password)
{
	char json[8192];
	ck_assert_int_gt(tcl_token_file_json(carelink_sim, json, sizeof(json)), 0);
	struct json_object *o = json_tokener_parse(json);
	ck_assert_ptr_nonnull(o);
	json_object_object_add(o, "access_token", json_object_new_string(CARELINK_EXPIRED_JWT));
	if (strcmp(password, WRONG_PASSWORD) == 0)
		json_object_object_add(o, "refresh_token", json_object_new_string(WRONG_PASSWORD));
	snprintf(carelink_file, sizeof(carelink_file), "%s/nsc-contract-carelink-%d.json",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	ck_assert_int_eq(json_object_to_file(carelink_file, o), 0);
	json_object_put(o);
	kv_set(kv, "CONNECT_CARELINK_TOKEN_FILE", carelink_file);
	kv_set(kv, "CONNECT_CARELINK_SERVER", url);
}

static void *carelink_attach(struct contract *c)
{
	struct tcl_config sc = { .seed = 9, .access_lifetime_s = 4 * 3600, .now_ms = wall_of_loop, .now_ctx = c };
	carelink_sim = tcl_attach(c->srv, &sc);
	ck_assert_ptr_nonnull(carelink_sim);
	return carelink_sim;
}

static void carelink_release(void *sim)
{
	tcl_free(sim);
	carelink_sim = NULL;
	unlink(carelink_file);
}

/* The token is the login: each renewal is one. */
static unsigned carelink_logins(void *sim)
{
	return (unsigned)tcl_refreshes(sim);
}

static void carelink_kill(void *sim)
{
	tcl_invalidate_access(sim);
}

static void carelink_issued(void *sim, struct issued *out)
{
	char token[1000];
	tcl_last_access_token(sim, token, sizeof(token));
	issued_add(out, token);
	tcl_last_refresh_token(sim, token, sizeof(token));
	issued_add(out, token);
}

/* ---- the in-process simulator ------------------------------------------------ */

static void simulator_settings(struct nsc_config_kv *kv, const char *url, const char *password)
{
	(void)url;
	kv_set(kv, "CONNECT_SIMULATOR_PASSWORD", password);
	kv_set(kv, "CONNECT_SIMULATOR_USERNAME", "contract");
}

/* ---- the lines --------------------------------------------------------------- */

static const struct vendor_line lines[] = {
	{
		.source = "dexcomshare", .password_var = "CONNECT_SHARE_PASSWORD", .password = DEXCOM_PASS,
		.settings = dexcom_settings, .attach = dexcom_attach, .release = dexcom_release,
		.logins = dexcom_logins, .kill_sessions = dexcom_kill, .issued = dexcom_issued,
		.data = { "POST", TSDX_PATH_DATA },
		.steps = { { "POST", TSDX_PATH_AUTH }, { "POST", TSDX_PATH_LOGIN }, { "POST", TSDX_PATH_DATA } },
	},
	{
		.source = "linkup", .password_var = "CONNECT_LINK_UP_PASSWORD", .password = TLLU_DEFAULT_PASSWORD,
		.settings = linkup_settings, .attach = linkup_attach, .release = linkup_release,
		.logins = linkup_logins, .kill_sessions = linkup_kill, .issued = linkup_issued,
		.data = { "GET", "/llu/connections/" },
		.steps = { { "POST", "/llu/auth/login" }, { "GET", "/llu/connections" },
			   { "GET", "/llu/connections/" } },
	},
	{
		.source = "nightscout", .password_var = "CONNECT_SOURCE_ENDPOINT", .password = NS_TOKEN,
		.settings = nightscout_settings, .attach = nightscout_attach, .release = nightscout_release,
		.logins = nightscout_logins, .kill_sessions = nightscout_kill, .issued = nightscout_issued,
		.tick = nightscout_tick,
		.data = { "GET", "/api/v1/entries" },
		.steps = { { "GET", "/api/v2/authorization/request/" }, { "GET", "/api/v1/entries" },
			   { "GET", "/api/v1/treatments" }, { "GET", "/api/v1/devicestatus" },
			   { "GET", "/api/v1/profile" } },
	},
	{
		/* The session is a cookie: the suite reads it from the wire. */
		.source = "glooko", .password_var = "CONNECT_GLOOKO_PASSWORD", .password = TGLK_DEFAULT_PASSWORD,
		.settings = glooko_settings, .attach = glooko_attach, .release = glooko_release,
		.logins = glooko_logins, .kill_sessions = glooko_kill, .issued = glooko_issued,
		.data = { "GET", "/api/v2/cgm/readings" },
		.steps = { { "POST", "/api/v2/users/sign_in" }, { "GET", "/api/v2/cgm/readings" },
			   { "GET", "/api/v2/readings" }, { "GET", "/api/v2/pumps/normal_boluses" },
			   { "GET", "/api/v2/pumps/extended_boluses" }, { "GET", "/api/v2/pumps/scheduled_basals" },
			   { "GET", "/api/v2/pumps/temporary_basals" }, { "GET", "/api/v2/pumps/suspend_basals" },
			   { "GET", "/api/v2/foods" }, { "GET", "/api/v2/pumps/events" },
			   { "GET", "/api/v2/pumps/alarms" } },
	},
	{
		/* The "password" is the token file's refresh token; the settings write the file. */
		.source = "minimedcarelink", .password_var = "CONNECT_CARELINK_TOKEN_FILE", .password = "carelink-right",
		.settings = carelink_settings, .attach = carelink_attach, .release = carelink_release,
		.logins = carelink_logins, .kill_sessions = carelink_kill, .issued = carelink_issued,
		.data = { "POST", TCL_DISPLAY_PATH },
		.steps = { { "POST", TCL_TOKEN_PATH }, { "GET", "/patient/users/me" },
			   { "GET", "/patient/m2m/links/patients" }, { "GET", "/patient/monitor/data" },
			   { "GET", "/patient/countries/settings" }, { "POST", TCL_DISPLAY_PATH } },
	},
	{
		.source = "simulator", .password_var = "CONNECT_SIMULATOR_PASSWORD", .password = SIM_PASS,
		.settings = simulator_settings,
	},
};
#define NLINES (sizeof(lines) / sizeof(lines[0]))

/* ---- fixture ------------------------------------------------------------------ */

struct run_opts {
	enum nsc_log_level level; /* 0: info */
	const char *password;     /* NULL: the right one */
	const char *timeout_s;    /* CONNECT_HTTP_TIMEOUT; NULL: 5 */
};

static void bridge_up(struct contract *c, const struct run_opts *o)
{
	struct nsc_config_kv kv;
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_config_kv_init(&kv, NULL, NULL);
	kv_set(&kv, "CONNECT_SOURCE", c->line->source);
	kv_set(&kv, "CONNECT_HTTP_TIMEOUT", o->timeout_s ? o->timeout_s : "5");
	c->line->settings(&kv, c->srv ? tsrv_url(c->srv) : NULL, o->password ? o->password : c->line->password);
	nsc_config_init(&c->cfg);
	nsc_rc rc = nsc_config_load(&c->cfg, nsc_config_kv_lookup, &kv, &err);
	nsc_config_kv_free(&kv);
	ck_assert_msg(rc == NSC_OK, "%s: config: %s", c->line->source, err.msg);
	ck_assert_int_eq(nsc_config_register_secrets(&c->cfg, c->h.log), NSC_OK);

	const struct nsc_source_driver *d = nsc_source_driver_for(c->cfg.source);
	ck_assert_ptr_nonnull(d);
	struct nsc_bridge_options bo = { .once = false, .rng_seed = 7 };
	rc = nsc_bridge_new_with(c->h.loop, &c->cfg, c->h.log, &bo, d, &fake_output_driver, &c->b, &err);
	ck_assert_msg(rc == NSC_OK, "%s: bridge: %s", c->line->source, err.msg);
	ck_assert_int_eq(nsc_bridge_start(c->b), NSC_OK);
}

static void bridge_down(struct contract *c)
{
	nsc_bridge_free(c->b);
	c->b = NULL;
	nsc_config_free(&c->cfg);
}

/* The simulator only; faults must be in place before bridge_up(). */
static void contract_setup(struct contract *c, int line, enum nsc_log_level level)
{
	memset(c, 0, sizeof(*c));
	c->line = &lines[line];
	harness_setup(&c->h, level ? level : NSC_LOG_INFO);
	if (c->line->attach != NULL) {
		c->srv = tsrv_start(0);
		ck_assert_ptr_nonnull(c->srv);
		c->sim = c->line->attach(c);
		ck_assert_ptr_nonnull(c->sim);
	}
}

static void contract_teardown(struct contract *c)
{
	if (c->b != NULL)
		bridge_down(c);
	if (c->srv != NULL)
		tsrv_stop(c->srv);
	if (c->sim != NULL)
		c->line->release(c->sim);
	harness_teardown(&c->h);
}

/* Simulator and bridge; with a fault, the data request misbehaves from the start. */
static void contract_up_faulty(struct contract *c, int line, const struct run_opts *o,
			       const struct tsrv_fault *f)
{
	contract_setup(c, line, o->level);
	if (f != NULL)
		ck_assert_int_eq(tsrv_fault_add(c->srv, c->line->data.method, c->line->data.path, f), 0);
	bridge_up(c, o);
}

static void contract_up(struct contract *c, int line, const struct run_opts *o)
{
	contract_up_faulty(c, line, o, NULL);
}

static const struct nsc_bridge_stats *stats(struct contract *c)
{
	return nsc_bridge_stats(c->b);
}

static uint64_t frames_done(struct contract *c)
{
	const struct nsc_bridge_stats *s = stats(c);
	return s->frames_ok + s->frames_failed + s->frames_rejected + s->payloads_dropped;
}

static uint64_t stored_total(struct contract *c)
{
	uint64_t n = 0;
	for (int i = 0; i < NSC_COLL_COUNT; i++)
		n += stats(c)->stored[i];
	return n;
}

/* Lets virtual time pass, a minute at most at a time, the vendor's data moving along. */
static void run_for(struct contract *c, int64_t ms)
{
	while (ms > 0) {
		int64_t step = ms < MIN ? ms : MIN;
		if (c->line->tick != NULL && c->sim != NULL)
			c->line->tick(c->sim, c->h.fc.wall);
		harness_run_for(&c->h, step);
		ms -= step;
	}
}

/* Lets virtual time pass in 1 s steps until n frames have ended (at most limit_ms). */
static void run_frames(struct contract *c, uint64_t n, int64_t limit_ms)
{
	for (int64_t ran = 0; ran < limit_ms && frames_done(c) < n; ran += SEC)
		run_for(c, SEC);
	ck_assert_msg(frames_done(c) >= n, "%s: %llu frames, wanted %llu", c->line->source,
		      (unsigned long long)frames_done(c), (unsigned long long)n);
}

static unsigned logins(struct contract *c)
{
	return c->line->logins ? c->line->logins(c->sim) : 0;
}

static size_t data_requests(struct contract *c)
{
	return tsrv_count(c->srv, c->line->data.method, c->line->data.path);
}

/*
 * The part of a message that shows up verbatim in a log line: up to the
 * first character the logger would escape inside a quoted value.
 */
static void message_head(const char *msg, char *out, size_t size)
{
	size_t n = strcspn(msg, "\"\\=");
	if (n >= size)
		n = size - 1;
	memcpy(out, msg, n);
	out[n] = '\0';
}

/* ---- the contract ------------------------------------------------------------- */

START_TEST(good_login_stores_data)
{
	struct contract c;
	contract_up(&c, _i, &(struct run_opts){ 0 });
	run_frames(&c, 1, MIN);
	unsigned first = logins(&c);
	run_for(&c, HOUR);

	const struct nsc_bridge_stats *st = stats(&c);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_ge(st->frames_ok, 10); /* a frame every ~5 minutes */
	ck_assert_uint_eq(st->frames_failed + st->frames_rejected + st->payloads_dropped, 0);
	ck_assert_uint_gt(st->stored[NSC_COLL_ENTRIES], 0);
	ck_assert_uint_gt(st->newest_entry_ms, 0);
	ck_assert_uint_eq(fake_output_last->held, stored_total(&c));
	if (c.line->logins != NULL) {
		ck_assert_uint_gt(first, 0);
		ck_assert_uint_eq(logins(&c), first); /* the session lasts the hour */
	}
	contract_teardown(&c);
}
END_TEST

START_TEST(wrong_password_rejected_once)
{
	struct contract c;
	contract_up(&c, _i, &(struct run_opts){ .password = WRONG_PASSWORD });
	run_frames(&c, 1, MIN);
	const struct nsc_bridge_stats *st = stats(&c);
	ck_assert_int_eq(st->last_rc, NSC_ERR_REJECTED);
	ck_assert_uint_eq(st->frames_rejected, 1);
	ck_assert_ptr_nonnull(strstr(st->last_error, c.line->password_var));
	unsigned first = logins(&c);

	/* The lockout guard: nothing more reaches the vendor for half an hour. */
	run_for(&c, 29 * MIN);
	ck_assert_uint_eq(frames_done(&c), 1);
	ck_assert_uint_eq(logins(&c), first);
	if (c.srv != NULL)
		ck_assert_uint_eq(data_requests(&c), 0);

	/* Hours of the same refusal: tried again now and then, told once. */
	run_for(&c, 4 * HOUR);
	ck_assert_uint_ge(st->frames_rejected, 2);
	ck_assert_uint_le(st->frames_rejected, 8);
	ck_assert_int_eq(st->last_rc, NSC_ERR_REJECTED);
	char head[96];
	message_head(st->last_error, head, sizeof(head));
	ck_assert_uint_gt(strlen(head), 10);
	ck_assert_msg(harness_count_lines(&c.h, head) == 1, "%s: \"%s\" logged %d times", c.line->source,
		      head, harness_count_lines(&c.h, head));
	ck_assert_uint_eq(st->stored[NSC_COLL_ENTRIES], 0);
	ck_assert_int_eq(harness_count_lines(&c.h, WRONG_PASSWORD), 0);
	contract_teardown(&c);
}
END_TEST

START_TEST(killed_session_costs_one_relogin)
{
	struct contract c;
	contract_up(&c, _i, &(struct run_opts){ 0 });
	run_frames(&c, 1, MIN);
	uint64_t before = stats(&c)->stored[NSC_COLL_ENTRIES];
	unsigned first = logins(&c);
	c.line->kill_sessions(c.sim);
	run_frames(&c, 2, 10 * MIN);

	const struct nsc_bridge_stats *st = stats(&c);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_eq(st->frames_ok, 2);
	ck_assert_uint_eq(st->frames_failed + st->frames_rejected + st->payloads_dropped, 0);
	ck_assert_uint_eq(logins(&c), first + 1);
	ck_assert_uint_gt(st->stored[NSC_COLL_ENTRIES], before);
	contract_teardown(&c);
}
END_TEST

START_TEST(server_errors_retry_with_backoff)
{
	struct contract c;
	struct tsrv_fault f = { .status = 503, .body = "<html>503 Service Unavailable</html>" };
	contract_up_faulty(&c, _i, &(struct run_opts){ 0 }, &f);

	/* Watch when each attempt arrives, second by virtual second. */
	int64_t at[16];
	size_t seen = 0;
	for (int64_t ran = 0; ran < 10 * MIN && frames_done(&c) < 1; ran += SEC) {
		run_for(&c, SEC);
		for (size_t n = data_requests(&c); seen < n && seen < 16; seen++)
			at[seen] = ran;
	}
	const struct nsc_bridge_stats *st = stats(&c);
	ck_assert_uint_eq(frames_done(&c), 1);
	ck_assert_int_eq(st->last_rc, NSC_ERR_RETRY);
	ck_assert_uint_eq(st->frames_failed, 1);
	ck_assert_ptr_nonnull(strstr(st->last_error, "503"));
	ck_assert_uint_ge(seen, 2);
	ck_assert_uint_le(seen, 6);
	/* Spaced, and each wait at least as long as the one before. */
	for (size_t i = 1; i < seen; i++) {
		ck_assert_int_ge(at[i] - at[i - 1], 1 * SEC);
		if (i >= 2)
			ck_assert_int_ge(at[i] - at[i - 1], at[i - 1] - at[i - 2]);
	}
	/* After the failed frame the next one waits too. */
	size_t after_frame = data_requests(&c);
	run_for(&c, 20 * SEC);
	ck_assert_uint_eq(data_requests(&c), after_frame);
	ck_assert_int_gt(st->next_frame_in_ms, 20 * SEC);

	/* The vendor is back: the bridge recovers without help. */
	tsrv_fault_clear(c.srv);
	run_frames(&c, 2, 30 * MIN);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_gt(st->stored[NSC_COLL_ENTRIES], 0);
	contract_teardown(&c);
}
END_TEST

START_TEST(timeout_is_retried)
{
	struct contract c;
	struct tsrv_fault f = { .hang = true, .times = 1 };
	contract_up_faulty(&c, _i, &(struct run_opts){ .timeout_s = "1" }, &f);
	run_frames(&c, 1, 5 * MIN);
	const struct nsc_bridge_stats *st = stats(&c);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_eq(data_requests(&c), 2);
	ck_assert_uint_gt(st->stored[NSC_COLL_ENTRIES], 0);
	ck_assert_int_ge(harness_count_lines(&c.h, "did not answer in time"), 1);
	contract_teardown(&c);
}
END_TEST

START_TEST(malformed_body_dropped_and_bridge_goes_on)
{
	struct contract c;
	struct tsrv_fault f = { .malformed = true, .times = 1 };
	contract_up_faulty(&c, _i, &(struct run_opts){ 0 }, &f);
	run_frames(&c, 1, MIN);
	const struct nsc_bridge_stats *st = stats(&c);
	ck_assert_int_eq(st->last_rc, NSC_ERR_DROP);
	ck_assert_uint_eq(st->payloads_dropped, 1);
	ck_assert_uint_eq(stored_total(&c), 0);
	ck_assert_int_eq(harness_count_lines(&c.h, "event=payload_dropped"), 1);
	unsigned first = logins(&c);

	run_for(&c, 10 * MIN);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_ge(st->frames_ok, 1);
	ck_assert_uint_gt(st->stored[NSC_COLL_ENTRIES], 0);
	ck_assert_uint_eq(logins(&c), first); /* a bad body is no reason to log in again */
	contract_teardown(&c);
}
END_TEST

static void *stop_soon(void *loop)
{
	usleep(300 * 1000);
	nsc_loop_stop(loop);
	return NULL;
}

START_TEST(cancel_in_every_step_leaves_nothing_running)
{
	const struct vendor_line *line = &lines[_i];
	for (size_t s = 0; s < MAX_STEPS && line->steps[s].path != NULL; s++) {
		struct contract c;
		struct run_opts o = { .timeout_s = "30" };
		contract_setup(&c, _i, 0);
		const struct step_path *step = &line->steps[s];
		struct tsrv_fault f = { .hang = true };
		ck_assert_int_eq(tsrv_fault_add(c.srv, step->method, step->path, &f), 0);
		bridge_up(&c, &o);
		pthread_t th;
		ck_assert_int_eq(pthread_create(&th, NULL, stop_soon, c.h.loop), 0);
		/* The step hangs; virtual time stands still until the other thread stops the loop. */
		ck_assert_int_eq(nsc_loop_run(c.h.loop), NSC_OK);
		pthread_join(th, NULL);
		ck_assert_msg(tsrv_count(c.srv, step->method, step->path) == 1, "%s step %s: %zu requests",
			      line->source, step->path, tsrv_count(c.srv, step->method, step->path));
		ck_assert_uint_eq(frames_done(&c), 0);
		size_t requests = tsrv_request_count(c.srv);

		/* Freeing the bridge cancels the transfer: nothing completes or starts afterwards. */
		bridge_down(&c);
		run_for(&c, 10 * MIN);
		ck_assert_uint_eq(tsrv_request_count(c.srv), requests);
		contract_teardown(&c);
	}
}
END_TEST

START_TEST(cancel_before_the_first_frame)
{
	struct contract c;
	contract_up(&c, _i, &(struct run_opts){ 0 });
	ck_assert_uint_eq(frames_done(&c), 0);
	bridge_down(&c);
	run_for(&c, 10 * MIN);
	if (c.srv != NULL)
		ck_assert_uint_eq(tsrv_request_count(c.srv), 0);
	contract_teardown(&c);
}
END_TEST

/* What went on the wire as a credential: bearer tokens and cookie values. */
static void issued_from_wire(struct contract *c, struct issued *out)
{
	const struct tsrv_request *r;
	for (size_t i = 0; (r = tsrv_request_at(c->srv, i)) != NULL; i++) {
		const char *auth = tsrv_header(r, "Authorization");
		const char *cookie = tsrv_header(r, "Cookie");
		if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0)
			issued_add(out, auth + 7);
		if (cookie != NULL && strchr(cookie, '=') != NULL)
			issued_add(out, strchr(cookie, '=') + 1);
	}
}

static void assert_absent(struct contract *c, const struct issued *secrets)
{
	for (size_t i = 0; i < secrets->n; i++)
		ck_assert_msg(strstr(c->h.captured, secrets->text[i]) == NULL, "%s: issued secret %zu logged",
			      c->line->source, i);
}

START_TEST(secrets_never_logged_at_trace)
{
	struct contract c;
	struct issued secrets = { .n = 0 };
	contract_up(&c, _i, &(struct run_opts){ .level = NSC_LOG_TRACE });
	run_for(&c, 12 * MIN);
	if (c.line->issued != NULL)
		c.line->issued(c.sim, &secrets);
	if (c.line->kill_sessions != NULL) {
		c.line->kill_sessions(c.sim);
		run_for(&c, 10 * MIN);
		c.line->issued(c.sim, &secrets);
		issued_from_wire(&c, &secrets);
	}
	ck_assert_int_eq(stats(&c)->last_rc, NSC_OK);
	ck_assert_ptr_nonnull(c.h.captured);
	ck_assert_int_ge(harness_count_lines(&c.h, "level=trace"), 1);
	ck_assert_ptr_null(strstr(c.h.captured, c.line->password));
	if (c.srv != NULL)
		ck_assert_uint_ge(secrets.n, 2); /* the vendor did hand something out */
	assert_absent(&c, &secrets);
	contract_teardown(&c);
}
END_TEST

/* A driver in the registry without a line here is not covered: fail until it has one. */
START_TEST(every_driver_has_a_line)
{
	size_t n = 0;
	const struct nsc_source_entry *e = nsc_source_entries(&n);
	size_t drivers = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i].driver == NULL)
			continue;
		drivers++;
		bool found = false;
		for (size_t j = 0; j < NLINES; j++)
			found = found || strcmp(lines[j].source, e[i].name) == 0;
		ck_assert_msg(found, "source %s has a driver but no line in the contract suite", e[i].name);
	}
	ck_assert_uint_eq(drivers, NLINES);
	for (size_t j = 0; j < NLINES; j++) {
		const struct nsc_source_entry *s = nsc_source_by_name(lines[j].source);
		ck_assert_ptr_nonnull(s);
		ck_assert_ptr_nonnull(nsc_source_driver_for(s));
		bool http = lines[j].attach != NULL;
		ck_assert(!http || (lines[j].release && lines[j].logins && lines[j].kill_sessions &&
				    lines[j].issued && lines[j].data.path && lines[j].steps[0].path));
	}
}
END_TEST

static Suite *contract_suite(void)
{
	Suite *s = suite_create("driver_contract");
	TCase *reg = tcase_create("registry");
	tcase_add_test(reg, every_driver_has_a_line);
	suite_add_tcase(s, reg);
	for (int i = 0; i < (int)NLINES; i++) {
		TCase *tc = tcase_create(lines[i].source);
		tcase_set_timeout(tc, 120);
		tcase_add_loop_test(tc, good_login_stores_data, i, i + 1);
		tcase_add_loop_test(tc, wrong_password_rejected_once, i, i + 1);
		tcase_add_loop_test(tc, cancel_before_the_first_frame, i, i + 1);
		tcase_add_loop_test(tc, secrets_never_logged_at_trace, i, i + 1);
		if (lines[i].attach != NULL) {
			tcase_add_loop_test(tc, killed_session_costs_one_relogin, i, i + 1);
			tcase_add_loop_test(tc, server_errors_retry_with_backoff, i, i + 1);
			tcase_add_loop_test(tc, timeout_is_retried, i, i + 1);
			tcase_add_loop_test(tc, malformed_body_dropped_and_bridge_goes_on, i, i + 1);
			tcase_add_loop_test(tc, cancel_in_every_step_leaves_nothing_running, i, i + 1);
		}
		suite_add_tcase(s, tc);
	}
	return s;
}

NSC_CHECK_MAIN(contract_suite)
