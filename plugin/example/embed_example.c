/* SPDX-License-Identifier: MIT */
/*
 * An example host for the nsconnect embedding API: runs a bridge for a
 * while and reports what it stored. Build it against an installed
 * nsconnect with
 *
 *     cc -o embed_example embed_example.c $(pkg-config --cflags --libs nsconnect)
 *
 * and run it with settings as NAME=VALUE arguments, for example
 *
 *     ./embed_example 10 CONNECT_SOURCE=simulator CONNECT_OUTPUT=filesystem \
 *         CONNECT_OUTPUT_DIR=/tmp/nsc-example
 *
 * It uses only <nsconnect.h>.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nsconnect.h>

static void on_batch(void *arg, const struct nsc_embed_batch *b)
{
	(void)arg;
	/* Runs on the engine's thread: keep it short. */
	printf("batch: entries=%llu treatments=%llu devicestatus=%llu profile=%llu\n",
	       (unsigned long long)b->stored_entries, (unsigned long long)b->stored_treatments,
	       (unsigned long long)b->stored_devicestatus, (unsigned long long)b->stored_profile);
	fflush(stdout);
}

static void on_problem(void *arg, nsc_rc rc, const char *message)
{
	(void)arg;
	fprintf(stderr, "problem: %s (%s)\n", message, nsc_rc_name(rc));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s SECONDS [NAME=VALUE ...]\n", argv[0]);
		return 2;
	}
	int seconds = atoi(argv[1]);
	nsc_embed *e;
	if (nsc_embed_new(&e) != NSC_OK) {
		fprintf(stderr, "cannot create the bridge\n");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq) {
			fprintf(stderr, "not NAME=VALUE: %s\n", argv[i]);
			nsc_embed_free(e);
			return 2;
		}
		*eq = '\0';
		nsc_rc rc = nsc_embed_set(e, argv[i], eq + 1);
		if (rc != NSC_OK) {
			fprintf(stderr, "%s: %s\n", argv[i], nsc_strerror(rc));
			nsc_embed_free(e);
			return 2;
		}
	}
	nsc_embed_on_batch(e, on_batch, NULL);
	nsc_embed_on_problem(e, on_problem, NULL);

	struct nsc_error err;
	if (nsc_embed_start(e, &err) != NSC_OK) {
		fprintf(stderr, "nsconnect did not start: %s\n", err.msg);
		nsc_embed_free(e);
		return 2;
	}
	for (int s = 0; s < seconds; s++) {
		struct timespec one = { 1, 0 };
		nanosleep(&one, NULL);
	}
	/* Stopped first, the status is final: no batch can land after it was read. */
	nsc_embed_stop(e);
	struct nsc_embed_status st;
	nsc_embed_status(e, &st);
	printf("polls_ok=%llu stored_entries=%llu last_error=\"%s\"\n", (unsigned long long)st.polls_ok,
	       (unsigned long long)st.stored_entries, st.last_error);
	nsc_embed_free(e);
	return st.polls_ok > 0 ? 0 : 1;
}
