/* SPDX-License-Identifier: MIT */
/*
 * The pieces of `serve`: tenant names and the folder listing, the closer
 * that closes outputs off the loop, and the tenant set's scan (added,
 * changed, removed and refused files; folders of their own; one folder
 * refused for a second tenant) with the built-in simulator source.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "engine/loop.h"
#include "health/board.h"
#include "log_capture.h"
#include "nsc_check.h"
#include "tenants/closer.h"
#include "tenants/tenant_dir.h"
#include "tenants/tenant_set.h"

static char dir[64];

static void setup_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/nsc-tenants.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_names)
{
	static const char *const good[] = { "alice", "bob-2", "x", "a.b_c@d", "0" };
	static const char *const bad[] = { "", ".hidden", "with space", "quote\"", "new\nline", "slash/x",
					   "a234567890123456789012345678901234567890123456789012345678901234" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(nsc_tenant_name_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!nsc_tenant_name_valid(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(test_listing)
{
	struct log_capture cap = { 0 };
	struct nsc_log *log = nsc_log_new(NSC_LOG_INFO);
	ck_assert_ptr_nonnull(log);
	nsc_log_set_sink(log, log_capture_sink, &cap);
	write_file("zed.env", "CONNECT_SOURCE=simulator\n");
	write_file("amy.env", "CONNECT_SOURCE=simulator\n");
	write_file("notes.txt", "x\n");
	write_file(".secret.env", "x\n");
	write_file("bad name.env", "x\n");
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/folder.env", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);

	struct nsc_tenant_file *f = NULL;
	size_t n = 0;
	struct nsc_error err;
	ck_assert_int_eq(nsc_tenant_dir_list(dir, log, &f, &n, &err), NSC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(f[0].name, "amy");
	ck_assert_str_eq(f[1].name, "zed");
	ck_assert_ptr_nonnull(strstr(f[0].path, "/amy.env"));
	ck_assert_int_eq(log_capture_count(&cap, "event=tenant_skipped", "bad name.env"), 1);

	/* A rewrite changes the stamp. */
	struct nsc_file_stamp before = f[0].stamp;
	usleep(20000);
	write_file("amy.env", "CONNECT_SOURCE=simulator\nCONNECT_SIMULATOR_SEED=2\n");
	nsc_tenant_files_free(f, n);
	ck_assert_int_eq(nsc_tenant_dir_list(dir, log, &f, &n, &err), NSC_OK);
	ck_assert(!nsc_file_stamp_equal(&before, &f[0].stamp));
	nsc_tenant_files_free(f, n);

	ck_assert_int_eq(nsc_tenant_dir_list("/nonexistent/tenants", log, &f, &n, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_TENANTS_DIR"));
	nsc_log_free(log);
	log_capture_free(&cap);
}
END_TEST

/* ---- the closer, with outputs whose close waits until the test lets it go ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static atomic_int closing_now, closing_most, closed;

static void gated_close(void *ctx)
{
	(void)ctx;
	int now = atomic_fetch_add(&closing_now, 1) + 1;
	int most = atomic_load(&closing_most);
	while (now > most && !atomic_compare_exchange_weak(&closing_most, &most, now))
		;
	pthread_mutex_lock(&gate_mu);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	atomic_fetch_sub(&closing_now, 1);
	atomic_fetch_add(&closed, 1);
}

static const struct nsc_output_driver gated_output = { .name = "gated", .close = gated_close };

static struct nsc_config *config_with_spool(const char *spool)
{
	struct nsc_config *cfg = calloc(1, sizeof(*cfg));
	ck_assert_ptr_nonnull(cfg);
	nsc_config_init(cfg);
	cfg->spool_dir = strdup(spool);
	ck_assert_ptr_nonnull(cfg->spool_dir);
	return cfg;
}

START_TEST(test_closer_off_the_caller)
{
	struct nsc_closer *c = NULL;
	struct nsc_log *root = nsc_log_new(NSC_LOG_ERROR);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(nsc_closer_new(4, &c), NSC_OK);
	gate_open = false;
	atomic_store(&closed, 0);
	atomic_store(&closing_most, 0);
	char spool[32];
	for (int i = 0; i < 6; i++) {
		snprintf(spool, sizeof(spool), "/spool/t%d", i);
		struct nsc_bridge_output out = { .driver = &gated_output, .ctx = NULL };
		/* Returns while the close still waits: the loop goes on. */
		nsc_closer_add(c, out, config_with_spool(spool), nsc_log_new_child(root, NSC_LOG_INFO, "tenant=x"));
	}
	ck_assert(nsc_closer_busy_with(c, "/spool/t0"));
	ck_assert(nsc_closer_busy_with(c, "/spool/t5"));
	ck_assert(!nsc_closer_busy_with(c, "/spool/other"));
	ck_assert_uint_eq(nsc_closer_wait(c, 50), 6);
	ck_assert_int_eq(atomic_load(&closed), 0);

	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	ck_assert_uint_eq(nsc_closer_wait(c, 10000), 0);
	ck_assert_int_eq(atomic_load(&closed), 6);
	/* Several at once, never more than the bound. */
	ck_assert_int_gt(atomic_load(&closing_most), 1);
	ck_assert_int_le(atomic_load(&closing_most), 4);
	ck_assert(!nsc_closer_busy_with(c, "/spool/t0"));
	nsc_closer_free(c);
	nsc_log_free(root);
}
END_TEST

/* ---- the tenant set ---- */

struct set_fixture {
	struct nsc_fake_clock fc;
	struct nsc_clock clock;
	struct nsc_loop *loop;
	struct nsc_log *log;
	struct log_capture cap;
	struct nsc_health_board *board;
	struct nsc_config_kv defaults;
	struct nsc_tenant_set *ts;
	char out_base[128];
};

static struct set_fixture F;

static void set_setup(void)
{
	setup_dir();
	memset(&F, 0, sizeof(F));
	nsc_fake_clock_init(&F.fc, 1764000000000LL, &F.clock);
	ck_assert_int_eq(nsc_loop_new(&F.clock, &F.loop), NSC_OK);
	F.log = nsc_log_new(NSC_LOG_INFO);
	ck_assert_ptr_nonnull(F.log);
	nsc_log_set_sink(F.log, log_capture_sink, &F.cap);
	ck_assert_int_eq(nsc_health_board_new(&F.clock, &F.board), NSC_OK);
	snprintf(F.out_base, sizeof(F.out_base), "%s/out", dir);
	nsc_config_kv_init(&F.defaults, NULL, NULL);
	ck_assert_int_eq(nsc_config_kv_set(&F.defaults, "CONNECT_OUTPUT", "filesystem"), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&F.defaults, "CONNECT_OUTPUT_DIR", F.out_base), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&F.defaults, "CONNECT_LOOKBACK_HOURS", "1"), NSC_OK);
	char tenants[128];
	snprintf(tenants, sizeof(tenants), "%s/t", dir);
	ck_assert_int_eq(mkdir(tenants, 0700), 0);
	struct nsc_tenant_set_options o = {
		.dir = tenants, .defaults = nsc_config_kv_lookup, .defaults_ctx = &F.defaults,
		.log = F.log, .board = F.board, .rng_seed = 42,
	};
	struct nsc_error err;
	ck_assert_int_eq(nsc_tenant_set_new(F.loop, &o, &F.ts, &err), NSC_OK);
}

static void set_teardown(void)
{
	ck_assert(nsc_tenant_set_shutdown(F.ts, 1000));
	nsc_tenant_set_free(F.ts);
	nsc_health_board_free(F.board);
	nsc_loop_free(F.loop);
	nsc_config_kv_free(&F.defaults);
	nsc_log_free(F.log);
	log_capture_free(&F.cap);
	teardown_dir();
}

static void tenant_file(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "t/%s.env", name);
	write_file(path, text);
	/* A rewrite within the same clock tick must still look new: move its time on. */
	char full[256];
	snprintf(full, sizeof(full), "%s/%s", dir, path);
	static long bump;
	struct timespec ts[2] = { { .tv_sec = 1700000000 + ++bump }, { .tv_sec = 1700000000 + bump } };
	ck_assert_int_eq(utimensat(AT_FDCWD, full, ts, 0), 0);
}

static struct nsc_tenant_scan scan(bool sighup)
{
	struct nsc_tenant_scan r;
	struct nsc_error err;
	ck_assert_int_eq(nsc_tenant_set_scan(F.ts, sighup, &r, &err), NSC_OK);
	return r;
}

static enum nsc_health_state state_of(const char *name)
{
	struct nsc_health_tenant h;
	ck_assert_msg(nsc_health_board_get(F.board, name, &h), "%s is not on the board", name);
	return h.state;
}

#define SIM "CONNECT_SOURCE=simulator\n"

START_TEST(test_scan_start_change_remove)
{
	tenant_file("a", SIM);
	tenant_file("b", SIM "CONNECT_SIMULATOR_SEED=5\n");
	tenant_file("broken", "CONNECT_SOURCE=nowhere\n");
	struct nsc_tenant_scan r = scan(false);
	ck_assert_uint_eq(r.started, 2);
	ck_assert_uint_eq(r.invalid, 1);
	ck_assert_uint_eq(nsc_tenant_set_count(F.ts), 3);
	ck_assert_uint_eq(nsc_tenant_set_running(F.ts), 2);
	ck_assert_int_eq(state_of("broken"), NSC_HEALTH_INVALID);
	ck_assert_int_eq(log_capture_count(&F.cap, "tenant=broken event=tenant_invalid", "CONNECT_SOURCE"), 1);
	/* Each got a folder of its own under the process's CONNECT_OUTPUT_DIR. */
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/a", F.out_base);
	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/b", F.out_base);
	ck_assert_int_eq(stat(path, &st), 0);

	/* Nothing changed: nothing restarts. */
	r = scan(false);
	ck_assert_uint_eq(r.unchanged, 3);
	ck_assert_uint_eq(r.started + r.restarted + r.stopped, 0);

	/* Touched but the same bytes: not a change. */
	tenant_file("a", SIM);
	r = scan(false);
	ck_assert_uint_eq(r.restarted, 0);

	/* b changes, a goes, c comes, broken is fixed. */
	tenant_file("b", SIM "CONNECT_SIMULATOR_SEED=6\n");
	snprintf(path, sizeof(path), "%s/t/a.env", dir);
	ck_assert_int_eq(unlink(path), 0);
	tenant_file("c", SIM);
	tenant_file("broken", SIM);
	r = scan(false);
	ck_assert_uint_eq(r.stopped, 1);
	ck_assert_uint_eq(r.started, 1);
	ck_assert_uint_eq(r.restarted, 2);
	ck_assert_uint_eq(r.invalid, 0);
	ck_assert_uint_eq(nsc_tenant_set_count(F.ts), 3);
	struct nsc_health_tenant h;
	ck_assert(!nsc_health_board_get(F.board, "a", &h));
	/* b waits for its old output to close, then starts on the tick. */
	for (int i = 0; i < 200 && nsc_tenant_set_running(F.ts) < 3; i++) {
		usleep(10000);
		nsc_tenant_set_tick(F.ts);
	}
	ck_assert_uint_eq(nsc_tenant_set_running(F.ts), 3);
	ck_assert_int_eq(state_of("broken"), NSC_HEALTH_STARTING);
}
END_TEST

START_TEST(test_one_folder_one_tenant)
{
	char text[256];
	snprintf(text, sizeof(text), SIM "CONNECT_OUTPUT_DIR=%s/shared\n", dir);
	tenant_file("first", text);
	tenant_file("second", text);
	struct nsc_tenant_scan r = scan(false);
	ck_assert_uint_eq(r.started, 1);
	ck_assert_uint_eq(r.invalid, 1);
	ck_assert_int_eq(state_of("second"), NSC_HEALTH_INVALID);
	ck_assert_int_eq(log_capture_count(&F.cap, "tenant=second event=tenant_invalid", "is tenant first's already"), 1);
}
END_TEST

START_TEST(test_sighup_retries_refused)
{
	/* A secret file that is missing at start and fixed later: same tenant file, SIGHUP. */
	char secret[128], text[256];
	snprintf(secret, sizeof(secret), "%s/pw", dir);
	snprintf(text, sizeof(text),
		 SIM "CONNECT_SIMULATOR_USERNAME=u\nCONNECT_SIMULATOR_PASSWORD_FILE=%s\n", secret);
	tenant_file("s", text);
	struct nsc_tenant_scan r = scan(false);
	ck_assert_uint_eq(r.invalid, 1);
	write_file("pw", "right-password\n");
	r = scan(false);
	ck_assert_uint_eq(r.unchanged, 1); /* a periodic look leaves it */
	r = scan(true);
	ck_assert_uint_eq(r.restarted, 1);
	ck_assert_uint_eq(nsc_tenant_set_running(F.ts), 1);
}
END_TEST

static Suite *tenants_suite(void)
{
	Suite *s = suite_create("tenants");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_listing);
	suite_add_tcase(s, tc);
	tc = tcase_create("closer");
	tcase_add_test(tc, test_closer_off_the_caller);
	suite_add_tcase(s, tc);
	tc = tcase_create("set");
	tcase_add_checked_fixture(tc, set_setup, set_teardown);
	tcase_add_test(tc, test_scan_start_change_remove);
	tcase_add_test(tc, test_one_folder_one_tenant);
	tcase_add_test(tc, test_sighup_retries_refused);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(tenants_suite)
