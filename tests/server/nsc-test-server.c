/* SPDX-License-Identifier: MIT */
/*
 * nsc-test-server: the test HTTP server with its Nightscout API, and on
 * request the vendor simulators, as a standalone process for integration
 * scripts. Prints the port it listens on (one line on stdout) once it is
 * ready, serves until SIGINT or SIGTERM.
 *
 *   nsc-test-server [--port N] [--api-secret S] [--token T] [--prefix /p]
 *                   [--latency-ms MS] [--dexcom] [--linkup] [--glooko] [--carelink]
 *                   [--cadence-ms MS] [--seed N] [--accounts N] [--log-requests]
 *
 * --deny PERM (repeatable) takes a permission such as api:entries:create
 * from the access token's subject.
 *
 * --log-requests prints "METHOD PATH" on stderr for each answered request
 * (what a script counts logins by).
 *
 * --latency-ms makes every Nightscout answer wait that long (each request
 * on its own), like a site far away.
 *
 * --accounts N (with --dexcom) adds N Dexcom Share accounts for the
 * many-tenant benchmark, bench-<i>@example.com / bench-pass-<i> for
 * i = 1..N, each with its own readings, after the default account; the
 * server then polls its connections on a few threads (thousands of
 * kept-alive clients are no thousands of threads), so --latency-ms is
 * refused with it.
 *
 * A standalone server has nobody to read its record of requests, so it
 * keeps none (memory stays flat however long it runs).
 *
 * The secrets can also come from NSC_TEST_API_SECRET / NSC_TEST_TOKEN, so
 * they need not appear on a command line. The vendor account is
 * NSC_TEST_VENDOR_USER / NSC_TEST_VENDOR_PASSWORD (default
 * alice@example.com / correct-pass, the fixtures' account).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carelink.h"
#include "dexcom.h"
#include "glooko.h"
#include "librelinkup.h"
#include "nightscout.h"
#include "server.h"

#define MAX_ACCOUNTS 100000
#define BENCH_TEXT 48 /* "bench-100000@example.com", "bench-pass-100000" */
#define POOL_THREADS 2

/* The default account then accounts bench-<i>@example.com / bench-pass-<i>, i = 1..n; NULL when out of memory. */
static struct tsdx_account *bench_accounts(const struct tsdx_account *first, unsigned long n, char **text)
{
	struct tsdx_account *list = calloc(n + 1, sizeof(*list));
	char *buf = calloc(n, 2 * BENCH_TEXT);

	if (!list || !buf) {
		free(list);
		free(buf);
		return NULL;
	}
	list[0] = *first;
	for (unsigned long i = 1; i <= n; i++) {
		char *user = buf + (i - 1) * 2 * BENCH_TEXT, *password = user + BENCH_TEXT;

		snprintf(user, BENCH_TEXT, "bench-%lu@example.com", i);
		snprintf(password, BENCH_TEXT, "bench-pass-%lu", i);
		list[i].user = user;
		list[i].password = password;
	}
	*text = buf;
	return list;
}

static void usage(FILE *to)
{
	fputs("usage: nsc-test-server [--port N] [--api-secret S] [--token T] [--prefix /path]\n"
	      "                       [--latency-ms MS] [--dexcom] [--linkup] [--glooko] [--carelink]\n"
	      "                       [--cadence-ms MS] [--seed N] [--accounts N]\n"
	      "Serves a test Nightscout (API v1, v2 JWT exchange, v3) on 127.0.0.1 and prints\n"
	      "its port; --port 0 (the default) picks a free port. --latency-ms delays every\n"
	      "Nightscout answer, like a remote site (default 0). The secret and token may\n"
	      "also come from NSC_TEST_API_SECRET and NSC_TEST_TOKEN. --dexcom, --linkup and\n"
	      "--glooko add the Dexcom Share, LibreLinkUp and Glooko simulators (account\n"
	      "NSC_TEST_VENDOR_USER / NSC_TEST_VENDOR_PASSWORD), with a reading every\n"
	      "--cadence-ms (default 300000). Glooko serves 14 days of history in UTC, no\n"
	      "sync delay, patient code " TGLK_DEFAULT_CODE ". --carelink adds the CareLink\n"
	      "cloud (care partner " TCL_CARER " following " TCL_PATIENT ", Auth0 client " TCL_CLIENT_ID ").\n"
	      "--accounts N (1..100000, with --dexcom) adds, besides the default account, N\n"
	      "Dexcom accounts bench-<i>@example.com / bench-pass-<i> (i = 1..N), each with\n"
	      "its own readings, and serves many clients on a few threads (no --latency-ms).\n",
	      to);
}

int main(int argc, char **argv)
{
	struct tsns_config cfg = { 0 };
	unsigned long port = 0;
	struct tsrv *srv;
	struct tsns *ns;
	struct tsdx *dx = NULL;
	struct tllu *llu = NULL;
	struct tglk *glk = NULL;
	struct tcl *cl = NULL;
	bool dexcom = false, linkup = false, glooko = false, carelink = false, log_requests = false;
	long long cadence_ms = 0;
	long latency_ms = 0;
	unsigned long accounts = 0;
	const char *deny[16];
	size_t ndeny = 0;
	unsigned long long seed = 1;
	sigset_t set;
	int sig;

	cfg.api_secret = getenv("NSC_TEST_API_SECRET");
	cfg.access_token = getenv("NSC_TEST_TOKEN");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return EXIT_SUCCESS;
		}
		if (strcmp(a, "--dexcom") == 0 || strcmp(a, "--linkup") == 0 || strcmp(a, "--glooko") == 0) {
			*(a[2] == 'd' ? &dexcom : a[2] == 'l' ? &linkup : &glooko) = true;
			continue;
		}
		if (strcmp(a, "--carelink") == 0) {
			carelink = true;
			continue;
		}
		if (strcmp(a, "--log-requests") == 0) {
			log_requests = true;
			continue;
		}
		if (!v) {
			usage(stderr);
			return EXIT_FAILURE;
		}
		if (strcmp(a, "--port") == 0) {
			char *end;

			port = strtoul(v, &end, 10);
			if (*v == '\0' || *end != '\0' || port > 65535) {
				fprintf(stderr, "nsc-test-server: --port wants 0..65535, got \"%s\"\n", v);
				return EXIT_FAILURE;
			}
		} else if (strcmp(a, "--api-secret") == 0) {
			cfg.api_secret = v;
		} else if (strcmp(a, "--token") == 0) {
			cfg.access_token = v;
		} else if (strcmp(a, "--deny") == 0) {
			if (ndeny == sizeof(deny) / sizeof(deny[0])) {
				fprintf(stderr, "nsc-test-server: at most 16 --deny\n");
				return EXIT_FAILURE;
			}
			deny[ndeny++] = v;
		} else if (strcmp(a, "--prefix") == 0) {
			cfg.prefix = v;
		} else if (strcmp(a, "--latency-ms") == 0) {
			char *end;

			latency_ms = strtol(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' || latency_ms > 60000) {
				fprintf(stderr,
					"nsc-test-server: --latency-ms wants 0..60000, got \"%s\"\n", v);
				return EXIT_FAILURE;
			}
		} else if (strcmp(a, "--accounts") == 0) {
			char *end;

			errno = 0;
			accounts = strtoul(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' || errno || accounts < 1 ||
			    accounts > MAX_ACCOUNTS) {
				fprintf(stderr, "nsc-test-server: --accounts wants 1..%d, got \"%s\"\n",
					MAX_ACCOUNTS, v);
				return EXIT_FAILURE;
			}
		} else if (strcmp(a, "--cadence-ms") == 0 || strcmp(a, "--seed") == 0) {
			char *end;
			unsigned long long n = strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' || n > (1ull << 40) ||
			    (a[2] == 'c' && n < 100)) {
				fprintf(stderr, "nsc-test-server: %s wants a whole number%s, got \"%s\"\n", a,
					a[2] == 'c' ? " of at least 100" : "", v);
				return EXIT_FAILURE;
			}
			if (a[2] == 'c')
				cadence_ms = (long long)n;
			else
				seed = n;
		} else {
			usage(stderr);
			return EXIT_FAILURE;
		}
		i++;
	}
	if (accounts > 0 && !dexcom) {
		fprintf(stderr, "nsc-test-server: --accounts is for the Dexcom simulator: add --dexcom\n");
		return EXIT_FAILURE;
	}
	if (accounts > 0 && latency_ms > 0) {
		fprintf(stderr, "nsc-test-server: --latency-ms cannot be combined with --accounts\n");
		return EXIT_FAILURE;
	}

	/* Block the stop signals before any server thread starts, then wait for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		fprintf(stderr, "nsc-test-server: cannot block signals\n");
		return EXIT_FAILURE;
	}
	struct tsrv_options so = { .no_record = true, .log_requests = log_requests ? stderr : NULL };
	if (accounts > 0) {
		so.threads = POOL_THREADS;
		so.connection_limit = (unsigned)(2 * accounts + 64); /* a login and a data connection each */
	}
	srv = tsrv_start_with((unsigned short)port, &so);
	if (!srv)
		return EXIT_FAILURE;
	ns = tsns_attach(srv, &cfg);
	if (!ns) {
		tsrv_stop(srv);
		fprintf(stderr, "nsc-test-server: out of memory\n");
		return EXIT_FAILURE;
	}
	tsns_set_latency_ms(ns, (int)latency_ms);
	for (size_t i = 0; i < ndeny; i++)
		tsns_deny(ns, deny[i]);
	const char *user = getenv("NSC_TEST_VENDOR_USER");
	const char *password = getenv("NSC_TEST_VENDOR_PASSWORD");
	struct tsdx_account account = {
		.user = user ? user : TLLU_DEFAULT_USER,
		.password = password ? password : TLLU_DEFAULT_PASSWORD,
	};
	if (dexcom) {
		struct tsdx_config dc = {
			.accounts = &account, .naccounts = 1, .seed = seed, .cadence_ms = cadence_ms,
		};
		struct tsdx_account *list = NULL;
		char *text = NULL;

		if (accounts > 0) {
			list = bench_accounts(&account, accounts, &text);
			dc.accounts = list;
			dc.naccounts = accounts + 1;
		}
		if (accounts == 0 || list)
			dx = tsdx_attach(srv, &dc); /* copies the names and passwords */
		free(list);
		free(text);
	}
	if (linkup) {
		struct tllu_config lc = {
			.user = account.user, .password = account.password, .seed = seed,
			.cadence_ms = cadence_ms,
		};
		llu = tllu_attach(srv, &lc);
	}
	if (glooko) {
		struct tglk_config gc = {
			.user = account.user, .password = account.password, .seed = seed,
			.cadence_ms = cadence_ms, .cgm_sync_delay_ms = -1,
		};
		glk = tglk_attach(srv, &gc);
	}
	if (carelink) {
		struct tcl_config cc = { .seed = seed, .cadence_ms = cadence_ms };
		cl = tcl_attach(srv, &cc);
	}
	if ((dexcom && !dx) || (linkup && !llu) || (glooko && !glk) || (carelink && !cl)) {
		tsrv_stop(srv);
		tcl_free(cl);
		tsns_free(ns);
		tsdx_free(dx);
		tllu_free(llu);
		tglk_free(glk);
		fprintf(stderr, "nsc-test-server: cannot set up the vendor simulators\n");
		return EXIT_FAILURE;
	}
	printf("%u\n", tsrv_port(srv));
	fflush(stdout);
	/* Who stopped it, for a script that finds its server gone (a stray kill of a reused pid). */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	sig = sigwaitinfo(&set, &si);
	fprintf(stderr, "nsc-test-server: stopping on signal %d from pid %ld\n", sig, (long)si.si_pid);
	tsrv_stop(srv);
	tsns_free(ns);
	tsdx_free(dx);
	tllu_free(llu);
	tglk_free(glk);
	tcl_free(cl);
	return EXIT_SUCCESS;
}
