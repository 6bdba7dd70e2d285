/* SPDX-License-Identifier: MIT */
/*
 * nsc-test-server: the test HTTP server with its Nightscout API as a
 * standalone process, for integration scripts. Prints the port it listens
 * on (one line on stdout) once it is ready, serves until SIGINT or SIGTERM.
 *
 *   nsc-test-server [--port N] [--api-secret S] [--token T] [--prefix /p]
 *
 * The secrets can also come from NSC_TEST_API_SECRET / NSC_TEST_TOKEN, so
 * they need not appear on a command line.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nightscout.h"
#include "server.h"

static void usage(FILE *to)
{
	fputs("usage: nsc-test-server [--port N] [--api-secret S] [--token T] [--prefix /path]\n"
	      "Serves a test Nightscout (API v1, v2 JWT exchange, v3) on 127.0.0.1 and prints\n"
	      "its port; --port 0 (the default) picks a free port. The secret and token may\n"
	      "also come from NSC_TEST_API_SECRET and NSC_TEST_TOKEN.\n",
	      to);
}

int main(int argc, char **argv)
{
	struct tsns_config cfg = { 0 };
	unsigned long port = 0;
	struct tsrv *srv;
	struct tsns *ns;
	sigset_t set;
	int sig = 0;

	cfg.api_secret = getenv("NSC_TEST_API_SECRET");
	cfg.access_token = getenv("NSC_TEST_TOKEN");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return EXIT_SUCCESS;
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
		} else if (strcmp(a, "--prefix") == 0) {
			cfg.prefix = v;
		} else {
			usage(stderr);
			return EXIT_FAILURE;
		}
		i++;
	}

	/* Block the stop signals before any server thread starts, then wait for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		fprintf(stderr, "nsc-test-server: cannot block signals\n");
		return EXIT_FAILURE;
	}
	srv = tsrv_start((unsigned short)port);
	if (!srv)
		return EXIT_FAILURE;
	ns = tsns_attach(srv, &cfg);
	if (!ns) {
		tsrv_stop(srv);
		fprintf(stderr, "nsc-test-server: out of memory\n");
		return EXIT_FAILURE;
	}
	printf("%u\n", tsrv_port(srv));
	fflush(stdout);
	sigwait(&set, &sig);
	tsrv_stop(srv);
	tsns_free(ns);
	return EXIT_SUCCESS;
}
