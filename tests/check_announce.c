/* SPDX-License-Identifier: MIT */
/*
 * Announcements (engine/announce.h): the pure machine frame by frame, its
 * state file, the treatment it writes, and a bridge on a virtual clock
 * with a scripted source writing into an output that keeps every document.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/announce.h"
#include "engine/bridge.h"
#include "fake_source.h"
#include "harness.h"
#include "identity.h"
#include "jsonutil.h"
#include "keep_output.h"
#include "nsc_check.h"
#include "timeutil.h"

#define MIN 60000LL
#define HOUR (60 * MIN)
#define T0 HARNESS_START_MS
#define PASSWORD_MSG "Fake vendor rejected the login: check FAKE_PASSWORD"

/* ---- the machine --------------------------------------------------------- */

static struct nsc_announce_input frame(enum nsc_verdict v, int64_t newest, size_t readings, int64_t now)
{
	struct nsc_announce_input in = {
		.verdict = v, .message = v == NSC_VERDICT_REJECTED ? PASSWORD_MSG : "",
		.newest_entry_ms = newest, .readings = readings, .now_ms = now,
	};
	return in;
}

/* Feeds one frame; writes what is due (as a working output would). 1 when something was due. */
static int feed(struct nsc_announce *a, struct nsc_announce_input in, enum nsc_announce_state *state)
{
	struct nsc_announcement an;
	if (!nsc_announce_feed(a, &in, &an))
		return 0;
	if (state)
		*state = an.state;
	nsc_announce_written(a, &an, in.now_ms);
	return 1;
}

START_TEST(fresh_readings_announce_nothing)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	int due = 0;
	for (int64_t t = T0; t < T0 + 24 * HOUR; t += 5 * MIN)
		due += feed(&a, frame(NSC_VERDICT_OK, t - MIN, 1, t), NULL);
	ck_assert_int_eq(due, 0);
	ck_assert_int_eq(a.announced, NSC_ANNOUNCE_OK);
}
END_TEST

START_TEST(stale_writes_one_and_no_repeats)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	enum nsc_announce_state st = NSC_ANNOUNCE_OK;
	int due = 0;
	/* The last reading at T0; the vendor keeps answering with nothing new. */
	for (int64_t t = T0; t < T0 + 30 * MIN; t += 5 * MIN)
		due += feed(&a, frame(NSC_VERDICT_OK, T0, t == T0, t), NULL);
	ck_assert_int_eq(due, 0);
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, T0, 0, T0 + 30 * MIN), &st), 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_STALE);
	for (int64_t t = T0 + 35 * MIN; t < T0 + 12 * HOUR; t += 5 * MIN)
		due += feed(&a, frame(NSC_VERDICT_OK, T0, 0, t), NULL);
	ck_assert_int_eq(due, 0);
	ck_assert_int_eq(a.announced, NSC_ANNOUNCE_STALE);
	ck_assert_int_eq(a.announced_ms, T0 + 30 * MIN);
}
END_TEST

START_TEST(recovery_writes_one)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	enum nsc_announce_state st = NSC_ANNOUNCE_STALE;
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, T0, 1, T0 + HOUR), &st), 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_STALE);
	/* A fresh reading arrives: one "working again", then nothing. */
	int64_t now = T0 + 2 * HOUR;
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, now - MIN, 1, now), &st), 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_OK);
	int due = 0;
	for (int64_t t = now + 5 * MIN; t < now + 6 * HOUR; t += 5 * MIN)
		due += feed(&a, frame(NSC_VERDICT_OK, t - MIN, 1, t), NULL);
	ck_assert_int_eq(due, 0);
	ck_assert_int_eq(a.announced, NSC_ANNOUNCE_OK);
}
END_TEST

START_TEST(fresh_without_readings_is_no_recovery_yet)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_REJECTED, 0, 0, T0), NULL), 1);
	/* The output holds a fresh reading (another uploader), but this bridge delivered none. */
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, T0 + 59 * MIN, 0, T0 + HOUR), NULL), 0);
	ck_assert_int_eq(a.announced, NSC_ANNOUNCE_NEEDS_USER);
	enum nsc_announce_state st = NSC_ANNOUNCE_NEEDS_USER;
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, T0 + 64 * MIN, 1, T0 + 65 * MIN), &st), 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_OK);
}
END_TEST

START_TEST(rejection_writes_one_and_repeats_none)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	enum nsc_announce_state st = NSC_ANNOUNCE_OK;
	int due = 0;
	for (int i = 0; i < 20; i++)
		due += feed(&a, frame(NSC_VERDICT_REJECTED, T0 - HOUR, 0, T0 + i * HOUR), &st);
	ck_assert_int_eq(due, 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_NEEDS_USER);
	ck_assert_str_eq(a.announced_message, PASSWORD_MSG);
	ck_assert_int_eq(a.announced_ms, T0);
	/* Password fixed, now terms to accept: that asks for something else. */
	struct nsc_announce_input terms = frame(NSC_VERDICT_REJECTED, T0 - HOUR, 0, T0 + 21 * HOUR);
	terms.message = "Fake has new terms: accept them in the app";
	struct nsc_announcement an;
	ck_assert(nsc_announce_feed(&a, &terms, &an));
	ck_assert_int_eq(an.state, NSC_ANNOUNCE_NEEDS_USER);
	ck_assert_str_eq(an.message, terms.message);
	nsc_announce_written(&a, &an, terms.now_ms);
	terms.now_ms += HOUR;
	ck_assert(!nsc_announce_feed(&a, &terms, &an));
	/* Accepted: readings flow: one recovery. */
	int64_t now = T0 + 23 * HOUR;
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, now - MIN, 12, now), &st), 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_OK);
	ck_assert_str_eq(a.announced_message, "");
}
END_TEST

START_TEST(unreachable_vendor_is_not_stale)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	int due = 0;
	feed(&a, frame(NSC_VERDICT_OK, T0, 1, T0), NULL);
	/* Vendor down for 6 hours: timeouts, 5xx, unauthorized data calls, a dropped payload. */
	for (int64_t t = T0 + 5 * MIN; t < T0 + 6 * HOUR; t += 5 * MIN) {
		due += feed(&a, frame(NSC_VERDICT_RETRY, 0, 0, t), NULL);
		due += feed(&a, frame(NSC_VERDICT_AUTH, T0, 0, t + MIN), NULL);
		due += feed(&a, frame(NSC_VERDICT_DROP, T0, 0, t + 2 * MIN), NULL);
	}
	ck_assert_int_eq(due, 0);
	/* It answers again, with nothing new: now that is stale. */
	enum nsc_announce_state st = NSC_ANNOUNCE_OK;
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, T0, 0, T0 + 6 * HOUR), &st), 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_STALE);
	/* Down again while stale is announced: still nothing, neither problem nor recovery. */
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_RETRY, 0, 0, T0 + 7 * HOUR), NULL), 0);
	ck_assert_int_eq(a.announced, NSC_ANNOUNCE_STALE);
}
END_TEST

START_TEST(rejected_then_stale_announces_stale)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	enum nsc_announce_state st = NSC_ANNOUNCE_OK;
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_REJECTED, T0, 0, T0 + HOUR), &st), 1);
	/* The login works again, but the newest reading is still the old one. */
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, T0, 1, T0 + 2 * HOUR), &st), 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_STALE);
}
END_TEST

START_TEST(never_a_reading_counts_from_the_first_frame)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	struct nsc_announcement an;
	struct nsc_announce_input in = frame(NSC_VERDICT_OK, 0, 0, T0);
	ck_assert(!nsc_announce_feed(&a, &in, &an));
	in.now_ms = T0 + 29 * MIN;
	ck_assert(!nsc_announce_feed(&a, &in, &an));
	in.now_ms = T0 + 30 * MIN;
	ck_assert(nsc_announce_feed(&a, &in, &an));
	ck_assert_int_eq(an.state, NSC_ANNOUNCE_STALE);
	ck_assert(an.never_read);
	ck_assert_int_eq(an.quiet_ms, 30 * MIN);
}
END_TEST

START_TEST(unwritten_is_due_again_and_unannounced_never_recovers)
{
	struct nsc_announce a;
	nsc_announce_init(&a, 30 * MIN);
	struct nsc_announcement an;
	struct nsc_announce_input in = frame(NSC_VERDICT_OK, T0, 0, T0 + HOUR);
	ck_assert(nsc_announce_feed(&a, &in, &an)); /* the write fails: not written */
	in.now_ms += 5 * MIN;
	ck_assert(nsc_announce_feed(&a, &in, &an));
	ck_assert_int_eq(an.state, NSC_ANNOUNCE_STALE);
	/* Readings come back before it was ever written: nothing to take back. */
	in = frame(NSC_VERDICT_OK, T0 + 70 * MIN, 1, T0 + 71 * MIN);
	ck_assert(!nsc_announce_feed(&a, &in, &an));
	ck_assert_int_eq(a.announced, NSC_ANNOUNCE_OK);
}
END_TEST

/* ---- the state file -------------------------------------------------------- */

static char *temp_dir(void)
{
	char tmpl[] = "/tmp/nsc-announce.XXXXXX";
	char *d = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(d);
	return strdup(d);
}

static void remove_tree(char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(dir);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(restart_from_saved_state_does_not_repeat)
{
	char *dir = temp_dir(), path[512];
	snprintf(path, sizeof(path), "%s/spool/announce-fake.json", dir); /* the folder is made */
	struct nsc_announce a;
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_announce_init(&a, 30 * MIN);
	ck_assert(!nsc_announce_load(&a, path, "fake", &err));
	ck_assert_int_eq(err.code, NSC_OK); /* none yet is no problem */
	ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_REJECTED, 0, 0, T0), NULL), 1);
	ck_assert_int_eq(nsc_announce_save(&a, path, "fake", &err), NSC_OK);

	/* The bridge restarts: the login is still rejected: nothing new to say. */
	struct nsc_announce b;
	nsc_announce_init(&b, 30 * MIN);
	ck_assert(nsc_announce_load(&b, path, "fake", &err));
	ck_assert_int_eq(b.announced, NSC_ANNOUNCE_NEEDS_USER);
	ck_assert_str_eq(b.announced_message, PASSWORD_MSG);
	ck_assert_int_eq(b.announced_ms, T0);
	ck_assert_int_eq(feed(&b, frame(NSC_VERDICT_REJECTED, 0, 0, T0 + HOUR), NULL), 0);
	/* Fixed: the recovery is not forgotten. */
	enum nsc_announce_state st = NSC_ANNOUNCE_NEEDS_USER;
	ck_assert_int_eq(feed(&b, frame(NSC_VERDICT_OK, T0 + 2 * HOUR, 5, T0 + 2 * HOUR), &st), 1);
	ck_assert_int_eq(st, NSC_ANNOUNCE_OK);
	ck_assert_int_eq(nsc_announce_save(&b, path, "fake", &err), NSC_OK);
	struct nsc_announce c;
	nsc_announce_init(&c, 30 * MIN);
	ck_assert(nsc_announce_load(&c, path, "fake", &err));
	ck_assert_int_eq(c.announced, NSC_ANNOUNCE_OK);
	ck_assert_int_eq(access(path, R_OK), 0);
	remove_tree(dir);
}
END_TEST

START_TEST(corrupt_state_file_is_nothing_announced)
{
	static const char *const bad[] = {
		"{\"source\":\"fake\",\"state\":\"stale\"", /* cut short */
		"not json at all",
		"[1,2,3]",
		"{\"source\":\"other\",\"state\":\"stale\",\"message\":\"\",\"announced_ms\":1}",
		"{\"source\":\"fake\",\"state\":\"sleepy\",\"message\":\"\",\"announced_ms\":1}",
		"{\"source\":\"fake\",\"state\":\"needs_user\",\"message\":\"\",\"announced_ms\":1}",
		"{\"source\":\"fake\",\"state\":\"stale\",\"message\":\"\"}",
		"{\"source\":\"fake\",\"state\":\"stale\",\"message\":\"\",\"announced_ms\":-5}",
	};
	char *dir = temp_dir(), path[512];
	snprintf(path, sizeof(path), "%s/announce-fake.json", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i]);
		struct nsc_announce a;
		struct nsc_error err;
		nsc_error_clear(&err);
		nsc_announce_init(&a, 30 * MIN);
		ck_assert_msg(!nsc_announce_load(&a, path, "fake", &err), "accepted %s", bad[i]);
		ck_assert_int_eq(err.code, NSC_ERR_PARSE);
		ck_assert_ptr_nonnull(strstr(err.msg, path));
		ck_assert_int_eq(a.announced, NSC_ANNOUNCE_OK);
		/* So a standing stale is announced once more, rather than never. */
		ck_assert_int_eq(feed(&a, frame(NSC_VERDICT_OK, T0, 0, T0 + HOUR), NULL), 1);
	}
	/* Too big to be ours. */
	char *big = malloc(8192);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', 8191);
	big[8191] = '\0';
	write_text(path, big);
	free(big);
	struct nsc_announce a;
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_announce_init(&a, 30 * MIN);
	ck_assert(!nsc_announce_load(&a, path, "fake", &err));
	ck_assert_int_eq(err.code, NSC_ERR_IO);
	remove_tree(dir);
}
END_TEST

/* ---- the document ----------------------------------------------------------- */

START_TEST(notes_say_what_happened_and_what_to_do)
{
	char buf[1024];
	struct nsc_announcement an = { .state = NSC_ANNOUNCE_NEEDS_USER };
	snprintf(an.message, sizeof(an.message), "%s", "LibreLinkUp has new terms of use: open the app and accept them.");
	nsc_announce_notes(&an, "LibreLinkUp", buf, sizeof(buf));
	ck_assert_str_eq(buf, "Readings from LibreLinkUp stopped: LibreLinkUp has new terms of use: open the app "
			      "and accept them. Nothing reaches Nightscout until this is fixed; "
			      "nightscout-connect tries again by itself.");
	an = (struct nsc_announcement){ .state = NSC_ANNOUNCE_STALE, .quiet_ms = 47 * MIN };
	nsc_announce_notes(&an, "Dexcom Share", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "No new reading from Dexcom Share for 47 minutes, although Dexcom Share answers."));
	ck_assert_ptr_nonnull(strstr(buf, "Check that the sensor works"));
	an.never_read = true;
	nsc_announce_notes(&an, "Dexcom Share", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "No reading from Dexcom Share in the 47 minutes since"));
	an = (struct nsc_announcement){ .state = NSC_ANNOUNCE_OK };
	nsc_announce_notes(&an, "Dexcom Share", buf, sizeof(buf));
	ck_assert_str_eq(buf, "Readings from Dexcom Share reach Nightscout again; nothing more to do.");
	/* Cut to fit, never past the buffer. */
	char small[16];
	nsc_announce_notes(&an, "Dexcom Share", small, sizeof(small));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

START_TEST(announcement_is_a_treatment_like_any_other)
{
	struct nsc_batch b;
	struct nsc_error err;
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_announce_to_batch("hello", T0 + 1234, &b, &err), NSC_OK);
	ck_assert_uint_eq(nsc_batch_total(&b), 1);
	struct json_object *d = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0);
	bool flag = false;
	int64_t date = 0;
	ck_assert_str_eq(nsc_json_get_string(d, "eventType"), "Announcement");
	ck_assert(nsc_json_get_bool(d, "isAnnouncement", &flag) && flag);
	ck_assert_str_eq(nsc_json_get_string(d, "notes"), "hello");
	ck_assert_str_eq(nsc_json_get_string(d, "enteredBy"), "nightscout-connect");
	ck_assert_str_eq(nsc_json_get_string(d, "created_at"), "2024-01-01T10:00:01.234Z");
	ck_assert(nsc_json_get_int64(d, "date", &date));
	ck_assert_int_eq(date, T0 + 1234);
	char want[NSC_UUID_BUF];
	ck_assert_int_eq(nsc_identifier_compute(NULL, T0 + 1234, "Announcement", want), NSC_OK);
	ck_assert_str_eq(nsc_json_get_string(d, "identifier"), want);
	nsc_batch_clear(&b);
}
END_TEST

/* ---- a bridge ------------------------------------------------------------------ */

struct br {
	struct harness h;
	struct nsc_config cfg;
	struct nsc_bridge *b;
	char *dir;
};

static void br_start(struct br *t, const struct nsc_output_driver *out)
{
	struct nsc_bridge_options o = { .rng_seed = 17 };
	struct nsc_error err;
	ck_assert_int_eq(nsc_bridge_new_with(t->h.loop, &t->cfg, t->h.log, &o, &fake_source_driver, out, &t->b,
					     &err),
			 NSC_OK);
	ck_assert_int_eq(nsc_bridge_start(t->b), NSC_OK);
}

static void br_init(struct br *t, bool announce, const struct nsc_output_driver *out)
{
	memset(t, 0, sizeof(*t));
	harness_setup(&t->h, NSC_LOG_INFO);
	nsc_config_init(&t->cfg);
	t->cfg.lookback_ms = 3 * HOUR;
	ck_assert_int_eq(t->cfg.stale_ms, 30 * MIN); /* the row's default */
	t->dir = temp_dir();
	t->cfg.spool_dir = strdup(t->dir);
	t->cfg.announce = strdup(announce ? "true" : "false");
	ck_assert(t->cfg.spool_dir && t->cfg.announce);
	br_start(t, out);
}

static void br_fini(struct br *t)
{
	nsc_bridge_free(t->b);
	nsc_config_free(&t->cfg);
	harness_teardown(&t->h);
	remove_tree(t->dir);
}

/* The notes of the i-th treatment the output kept. */
static const char *kept_notes(size_t i)
{
	struct json_object *d = json_object_array_get_idx(kept->docs[NSC_COLL_TREATMENTS], i);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(nsc_json_get_string(d, "eventType"), "Announcement");
	return nsc_json_get_string(d, "notes");
}

START_TEST(bridge_stale_then_recovery)
{
	struct br t;
	br_init(&t, true, &keep_output_driver);
	harness_run_for(&t.h, HOUR);
	ck_assert_uint_gt(kept_count(NSC_COLL_ENTRIES), 10);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 0);
	/* The sensor stops; the vendor keeps answering. */
	fake_source_last->no_readings = true;
	harness_run_for(&t.h, 3 * HOUR);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	ck_assert_ptr_nonnull(strstr(kept_notes(0), "No new reading from Fake for 3"));
	ck_assert_int_eq(harness_count_lines(&t.h, "event=announcement_written state=stale source=fake"), 1);
	/* Back: one recovery, then quiet. */
	fake_source_last->no_readings = false;
	harness_run_for(&t.h, 3 * HOUR);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 2);
	ck_assert_ptr_nonnull(strstr(kept_notes(1), "Readings from Fake reach Nightscout again"));
	ck_assert_int_eq(harness_count_lines(&t.h, "event=announcement_written"), 2);
	br_fini(&t);
}
END_TEST

START_TEST(bridge_rejection_once_then_recovery)
{
	struct br t;
	br_init(&t, true, &keep_output_driver);
	for (int i = 0; i < 5; i++)
		fake_script_push(&fake_source_last->auth, NSC_ERR_REJECTED);
	harness_run_for(&t.h, 8 * HOUR); /* 0, 30 min, 1.5 h, 3.5 h, 7.5 h: five rejections */
	ck_assert_uint_ge(fake_source_last->auth_calls, 4);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	ck_assert_ptr_nonnull(strstr(kept_notes(0), "Readings from Fake stopped: " PASSWORD_MSG ". Nothing reaches"));
	harness_run_for(&t.h, 16 * HOUR);
	ck_assert_uint_gt(kept_count(NSC_COLL_ENTRIES), 0);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 2);
	ck_assert_ptr_nonnull(strstr(kept_notes(1), "again"));
	br_fini(&t);
}
END_TEST

START_TEST(bridge_without_announce_writes_none)
{
	struct br t;
	br_init(&t, false, &keep_output_driver);
	fake_script_push(&fake_source_last->auth, NSC_ERR_REJECTED);
	harness_run_for(&t.h, 2 * HOUR);
	fake_source_last->no_readings = true;
	harness_run_for(&t.h, 3 * HOUR);
	fake_source_last->no_readings = false;
	harness_run_for(&t.h, HOUR);
	ck_assert_uint_gt(kept_count(NSC_COLL_ENTRIES), 0);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 0);
	ck_assert_int_eq(harness_count_lines(&t.h, "announce"), 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/announce-fake.json", t.dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	br_fini(&t);
}
END_TEST

START_TEST(bridge_vendor_down_is_not_stale)
{
	struct br t;
	br_init(&t, true, &keep_output_driver);
	harness_run_for(&t.h, 30 * MIN);
	fake_source_last->fetch.always = NSC_ERR_RETRY;
	harness_run_for(&t.h, 4 * HOUR);
	ck_assert_uint_gt(nsc_bridge_stats(t.b)->frames_failed, 3);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 0);
	br_fini(&t);
}
END_TEST

START_TEST(bridge_restart_keeps_what_was_announced)
{
	struct br t;
	br_init(&t, true, &keep_output_driver);
	fake_source_last->no_readings = true;
	harness_run_for(&t.h, HOUR);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	/* Restarted (a new output, as a fresh process sees it): the same stale stands. */
	nsc_bridge_free(t.b);
	br_start(&t, &keep_output_driver);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=announcement_standing state=stale source=fake"), 1);
	fake_source_last->no_readings = true;
	harness_run_for(&t.h, 2 * HOUR);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 0);
	fake_source_last->no_readings = false;
	harness_run_for(&t.h, HOUR);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	ck_assert_ptr_nonnull(strstr(kept_notes(0), "again"));
	br_fini(&t);
}
END_TEST

START_TEST(bridge_corrupt_state_file_is_logged)
{
	struct br t;
	memset(&t, 0, sizeof(t));
	harness_setup(&t.h, NSC_LOG_INFO);
	nsc_config_init(&t.cfg);
	t.cfg.lookback_ms = 3 * HOUR;
	t.dir = temp_dir();
	char path[512];
	snprintf(path, sizeof(path), "%s/announce-fake.json", t.dir);
	write_text(path, "{\"source\":");
	t.cfg.spool_dir = strdup(t.dir);
	t.cfg.announce = strdup("true");
	br_start(&t, &keep_output_driver);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=announce_state_unreadable source=fake"), 1);
	fake_source_last->no_readings = true;
	harness_run_for(&t.h, 2 * HOUR);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	br_fini(&t);
}
END_TEST

START_TEST(bridge_failed_write_is_retried)
{
	struct br t;
	br_init(&t, true, &fake_output_driver);
	for (int i = 0; i < 3; i++)
		fake_script_push(&fake_source_last->auth, NSC_ERR_REJECTED);
	/* The first write is the announcement of the first rejection: the output is down. */
	fake_script_push(&fake_output_last->write, NSC_ERR_RETRY);
	harness_run_for(&t.h, 45 * MIN); /* rejections at 0 and 30 min */
	ck_assert_uint_eq(fake_source_last->auth_calls, 2);
	ck_assert_uint_eq(fake_output_last->write_calls, 2);
	ck_assert_uint_eq(fake_output_last->held, 1);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=announcement_not_written state=needs_user"), 1);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=announcement_written state=needs_user"), 1);
	harness_run_for(&t.h, 6 * HOUR); /* a third rejection, then readings */
	ck_assert_int_eq(harness_count_lines(&t.h, "event=announcement_written state=needs_user"), 1);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=announcement_written state=ok"), 1);
	br_fini(&t);
}
END_TEST

static Suite *announce_suite(void)
{
	Suite *s = suite_create("announce");
	TCase *m = tcase_create("machine");
	tcase_add_test(m, fresh_readings_announce_nothing);
	tcase_add_test(m, stale_writes_one_and_no_repeats);
	tcase_add_test(m, recovery_writes_one);
	tcase_add_test(m, fresh_without_readings_is_no_recovery_yet);
	tcase_add_test(m, rejection_writes_one_and_repeats_none);
	tcase_add_test(m, unreachable_vendor_is_not_stale);
	tcase_add_test(m, rejected_then_stale_announces_stale);
	tcase_add_test(m, never_a_reading_counts_from_the_first_frame);
	tcase_add_test(m, unwritten_is_due_again_and_unannounced_never_recovers);
	tcase_add_test(m, restart_from_saved_state_does_not_repeat);
	tcase_add_test(m, corrupt_state_file_is_nothing_announced);
	tcase_add_test(m, notes_say_what_happened_and_what_to_do);
	tcase_add_test(m, announcement_is_a_treatment_like_any_other);
	suite_add_tcase(s, m);
	TCase *b = tcase_create("bridge");
	tcase_add_test(b, bridge_stale_then_recovery);
	tcase_add_test(b, bridge_rejection_once_then_recovery);
	tcase_add_test(b, bridge_without_announce_writes_none);
	tcase_add_test(b, bridge_vendor_down_is_not_stale);
	tcase_add_test(b, bridge_restart_keeps_what_was_announced);
	tcase_add_test(b, bridge_corrupt_state_file_is_logged);
	tcase_add_test(b, bridge_failed_write_is_retried);
	suite_add_tcase(s, b);
	return s;
}

NSC_CHECK_MAIN(announce_suite)
