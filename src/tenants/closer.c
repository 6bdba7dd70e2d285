/* SPDX-License-Identifier: MIT */
/* A few threads that close outputs off the loop (see closer.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tenants/closer.h"

struct close_job {
	struct close_job *next;
	struct nsc_bridge_output out;
	struct nsc_config *cfg;
	struct nsc_log *log;
	/* Copies of cfg's folders: busy_with reads them while the worker frees cfg. */
	char *spool_dir, *output_dir;
	bool running;
};

struct nsc_closer {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct close_job *queue;   /* waiting and running jobs, newest first */
	size_t jobs;               /* in the list */
	unsigned threads, idle, max_threads;
	bool stopping;
};

static void finish_job(struct close_job *j)
{
	if (j->out.driver)
		j->out.driver->close(j->out.ctx);
	nsc_config_free(j->cfg);
	free(j->cfg);
	nsc_log_free(j->log);
}

static struct close_job *next_waiting(struct nsc_closer *c)
{
	struct close_job *found = NULL;
	for (struct close_job *j = c->queue; j; j = j->next)
		if (!j->running)
			found = j; /* the oldest waiting one */
	return found;
}

static void unlink_job(struct nsc_closer *c, struct close_job *job)
{
	for (struct close_job **p = &c->queue; *p; p = &(*p)->next) {
		if (*p == job) {
			*p = job->next;
			c->jobs--;
			return;
		}
	}
}

static void *worker_main(void *arg)
{
	struct nsc_closer *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct close_job *j = next_waiting(c);
		if (!j) {
			if (c->stopping)
				break;
			c->idle++;
			pthread_cond_wait(&c->work, &c->mu);
			c->idle--;
			continue;
		}
		j->running = true;
		pthread_mutex_unlock(&c->mu);
		finish_job(j);
		pthread_mutex_lock(&c->mu);
		unlink_job(c, j);
		free(j->spool_dir);
		free(j->output_dir);
		free(j);
		pthread_cond_broadcast(&c->done);
	}
	c->threads--;
	pthread_cond_broadcast(&c->done);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

nsc_rc nsc_closer_new(unsigned max_threads, struct nsc_closer **out)
{
	struct nsc_closer *c = calloc(1, sizeof(*c));
	if (!c)
		return NSC_ERR_NOMEM;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return NSC_ERR_NOMEM;
	}
	if (pthread_cond_init(&c->work, NULL) != 0) {
		pthread_mutex_destroy(&c->mu);
		free(c);
		return NSC_ERR_NOMEM;
	}
	if (pthread_cond_init(&c->done, NULL) != 0) {
		pthread_cond_destroy(&c->work);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return NSC_ERR_NOMEM;
	}
	c->max_threads = max_threads ? max_threads : 1;
	*out = c;
	return NSC_OK;
}

/* A worker for a new job: an idle one, else a new thread while under the bound (mu held). */
static bool have_worker(struct nsc_closer *c)
{
	size_t waiting = 0;
	for (struct close_job *j = c->queue; j; j = j->next)
		waiting += !j->running;
	if (c->idle >= waiting || c->threads >= c->max_threads)
		return c->threads > 0;
	pthread_attr_t attr;
	pthread_t t;
	if (pthread_attr_init(&attr) != 0)
		return c->threads > 0;
	bool ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
		  pthread_create(&t, &attr, worker_main, c) == 0;
	pthread_attr_destroy(&attr);
	if (ok)
		c->threads++;
	return c->threads > 0;
}

void nsc_closer_add(struct nsc_closer *c, struct nsc_bridge_output out, struct nsc_config *cfg,
		    struct nsc_log *log)
{
	struct close_job *j = calloc(1, sizeof(*j));
	if (!j) {
		struct close_job here = { .out = out, .cfg = cfg, .log = log };
		finish_job(&here);
		return;
	}
	*j = (struct close_job){ .out = out, .cfg = cfg, .log = log };
	if ((cfg->spool_dir && !(j->spool_dir = strdup(cfg->spool_dir))) ||
	    (cfg->output_dir && !(j->output_dir = strdup(cfg->output_dir)))) {
		free(j->spool_dir);
		free(j);
		struct close_job here = { .out = out, .cfg = cfg, .log = log };
		finish_job(&here);
		return;
	}
	pthread_mutex_lock(&c->mu);
	j->next = c->queue;
	c->queue = j;
	c->jobs++;
	if (!have_worker(c)) {
		unlink_job(c, j);
		pthread_mutex_unlock(&c->mu);
		finish_job(j);
		free(j->spool_dir);
		free(j->output_dir);
		free(j);
		return;
	}
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->mu);
}

static bool uses_dir(const struct close_job *j, const char *dir)
{
	return (j->spool_dir && strcmp(j->spool_dir, dir) == 0) ||
	       (j->output_dir && strcmp(j->output_dir, dir) == 0);
}

bool nsc_closer_busy_with(struct nsc_closer *c, const char *dir)
{
	bool busy = false;
	if (!dir)
		return false;
	pthread_mutex_lock(&c->mu);
	for (struct close_job *j = c->queue; j && !busy; j = j->next)
		busy = uses_dir(j, dir);
	pthread_mutex_unlock(&c->mu);
	return busy;
}

size_t nsc_closer_wait(struct nsc_closer *c, int64_t timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(timeout_ms / 1000);
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (c->jobs > 0)
		if (pthread_cond_timedwait(&c->done, &c->mu, &until) == ETIMEDOUT)
			break;
	size_t left = c->jobs;
	pthread_mutex_unlock(&c->mu);
	return left;
}

void nsc_closer_free(struct nsc_closer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_broadcast(&c->work);
	if (c->jobs > 0) {
		/* Workers still closing: they and this object live on until the process ends. */
		pthread_mutex_unlock(&c->mu);
		return;
	}
	while (c->threads > 0)
		pthread_cond_wait(&c->done, &c->mu);
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
