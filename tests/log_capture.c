/* SPDX-License-Identifier: MIT */
/* A log sink for tests (see log_capture.h). */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log_capture.h"
#include "logline.h"

/* One lock for every capture: a test has few, and zero-initialised ones just work. */
static pthread_mutex_t capture_mu = PTHREAD_MUTEX_INITIALIZER;

void log_capture_sink(void *ctx, enum nsc_log_level level, const char *line)
{
	struct log_capture *c = ctx;
	size_t n = strlen(line);
	(void)level;
	logline_assert(line);
	pthread_mutex_lock(&capture_mu);
	char *p = realloc(c->text, c->len + n + 2);
	if (p) {
		memcpy(p + c->len, line, n);
		p[c->len + n] = '\n';
		p[c->len + n + 1] = '\0';
		c->text = p;
		c->len += n + 1;
	}
	pthread_mutex_unlock(&capture_mu);
	ck_assert_ptr_nonnull(p);
}

int log_capture_count(struct log_capture *c, const char *needle, const char *needle2)
{
	int n = 0;
	pthread_mutex_lock(&capture_mu);
	for (const char *p = c->text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *a = strstr(p, needle);
		const char *b = needle2 ? strstr(p, needle2) : p;
		if (a && a < p + len && b && b < p + len)
			n++;
		p += len + (nl ? 1 : 0);
	}
	pthread_mutex_unlock(&capture_mu);
	return n;
}

char *log_capture_text(struct log_capture *c)
{
	pthread_mutex_lock(&capture_mu);
	char *copy = strdup(c->text ? c->text : "");
	pthread_mutex_unlock(&capture_mu);
	ck_assert_ptr_nonnull(copy);
	return copy;
}

void log_capture_free(struct log_capture *c)
{
	pthread_mutex_lock(&capture_mu);
	free(c->text);
	c->text = NULL;
	c->len = 0;
	pthread_mutex_unlock(&capture_mu);
}
