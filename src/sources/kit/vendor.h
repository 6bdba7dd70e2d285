/* SPDX-License-Identifier: MIT */
/*
 * The skeleton every HTTP source driver stands on, so a driver holds only
 * its protocol: the base context (configuration, log, loop, the request
 * in flight), one step at a time with exactly one `done` (source.h), the
 * send that checks the transport before the driver sees an answer, the
 * body kept as the fetch's payload, the hold-off a vendor asked for, and
 * the standard ops a driver puts straight into its ops table:
 *
 *   .cancel = nsc_vendor_std_cancel, .hold_off_ms = nsc_vendor_std_hold_off_ms,
 *
 * A driver's context starts with a `struct nsc_vendor_base` (the standard
 * ops cast the context to it). A step is:
 *
 *   nsc_vendor_begin(&c->base, STEP_X, done, arg, out);
 *   ... build the request ...
 *   nsc_vendor_send(&c->base, &rq, x_answered);   // or nsc_vendor_finish on a problem
 *
 * and x_answered() ends it with nsc_vendor_finish(), nsc_vendor_finish_verdict()
 * or nsc_vendor_finish_with_body(), or sends the next request of the same
 * step (several HTTP calls per step, pages until the last).
 *
 * Ownership & concurrency: the base belongs to the loop thread, like its
 * driver. cfg, log and loop are borrowed from the engine (source env).
 */
#ifndef NSC_SRC_SOURCES_KIT_VENDOR_H
#define NSC_SRC_SOURCES_KIT_VENDOR_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "timeutil.h"
#include "http/vendor_client.h"
#include "source.h"
#include "sources/kit/verdict.h"

/*
 * The timing of a 5-minute CGM: each poll `buffer_ms` (plus up to
 * `jitter_ms`) after a reading is due, sessions renewed and dropped as
 * given, two retries 30 s apart at first.
 */
#define NSC_VENDOR_TIMING(refresh_ms, expire_ms, buffer_ms, jitter_ms) \
	{                                                              \
		.expected_interval_ms = 5 * NSC_MS_PER_MINUTE,         \
		.align_buffer_ms = (buffer_ms),                        \
		.align_jitter_ms = (jitter_ms),                        \
		.session_refresh_ms = (refresh_ms),                    \
		.session_expire_ms = (expire_ms),                      \
		.max_retries = 2,                                      \
		.retry_base_ms = 30 * NSC_MS_PER_SECOND,               \
	}
/* A CGM that posts a reading as it is taken: polls 18 s (+ up to 18 s) after it is due. */
#define NSC_VENDOR_CGM_TIMING(refresh_ms, expire_ms) \
	NSC_VENDOR_TIMING(refresh_ms, expire_ms, 18 * NSC_MS_PER_SECOND, 18 * NSC_MS_PER_SECOND)

/* What a driver tells the skeleton about itself (static, one per driver). */
struct nsc_vendor_profile {
	const char *comp;               /* log component, e.g. "dexcomshare" */
	const struct nsc_vendor_words *words; /* its name in messages and its status rules */
	const char *const *step_names;  /* by step number, NULL-terminated; [0] is the idle step */
};

/*
 * A driver's profile and its step names in one line; the names follow the
 * driver's step numbers from 1 (step 0 is "none"):
 *   NSC_VENDOR_PROFILE(profile, "dexcomshare", &nsc_dexcom_words, "authenticate", "fetch");
 */
#define NSC_VENDOR_PROFILE(name_, comp_, words_, ...)                                     \
	static const char *const name_##_step_names[] = { "none", __VA_ARGS__, NULL };  \
	static const struct nsc_vendor_profile name_ = {                                 \
		.comp = (comp_), .words = (words_), .step_names = name_##_step_names,    \
	}

struct nsc_vendor_base;
/* The answer to the request in flight, the transport already checked. */
typedef void (*nsc_vendor_answer_fn)(struct nsc_vendor_base *b, struct nsc_http_response *resp);

struct nsc_vendor_base {
	const struct nsc_vendor_profile *profile;
	const struct nsc_config *cfg;
	struct nsc_log *log;
	struct nsc_loop *loop;
	struct nsc_vendor_call *call;
	int step;                        /* the step in flight, 0 when idle */
	nsc_step_done_fn done;
	void *done_arg;
	struct nsc_payload *out;         /* a fetch's destination */
	nsc_vendor_answer_fn answered;
	int64_t hold_off_ms;             /* read (and cleared) by nsc_vendor_std_hold_off_ms */
};

nsc_rc nsc_vendor_base_init(struct nsc_vendor_base *b, const struct nsc_vendor_profile *profile,
			    const struct nsc_source_env *env, struct nsc_error *err);
/* Cancels what runs and frees the call. */
void nsc_vendor_base_fini(struct nsc_vendor_base *b);

/* Starts a step: anything still pending is abandoned first (one step at a time). */
void nsc_vendor_begin(struct nsc_vendor_base *b, int step, nsc_step_done_fn done, void *arg,
		      struct nsc_payload *out);
/* Ends the step: done runs once, with nothing of ours left pending; message ignored for NSC_OK. */
void nsc_vendor_finish(struct nsc_vendor_base *b, nsc_rc rc, const char *message);
/* Ends the step with a classified answer, keeping the longest hold-off asked for. */
void nsc_vendor_finish_verdict(struct nsc_vendor_base *b, const struct nsc_vendor_verdict *v);
/* Ends a fetch: the body becomes the payload (NSC_OK), or NSC_ERR_NOMEM. */
void nsc_vendor_finish_with_body(struct nsc_vendor_base *b, const struct nsc_http_response *resp);

/*
 * Sends rq for the step in flight (timeout: CONNECT_HTTP_TIMEOUT unless rq
 * sets one); `answered` gets the answer once it arrived whole. A request
 * that cannot start, or an answer that did not arrive, ends the step.
 */
void nsc_vendor_send(struct nsc_vendor_base *b, struct nsc_vendor_request *rq,
		     nsc_vendor_answer_fn answered);

/* The loop's wall clock (virtual in tests), epoch ms. */
int64_t nsc_vendor_wall_ms(const struct nsc_vendor_base *b);

/* The step's name for log lines. */
const char *nsc_vendor_step_name(const struct nsc_vendor_base *b);

/* Logs what a transform made of a payload (debug). */
void nsc_vendor_log_transform(const struct nsc_vendor_base *b, const struct nsc_batch *out,
			      size_t skipped);

/* A malloc'd printf (NULL when out of memory), for URLs and header lines. */
char *nsc_vendor_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Standard ops: ctx is a driver context that starts with struct nsc_vendor_base. */
void nsc_vendor_std_cancel(void *ctx);
int64_t nsc_vendor_std_hold_off_ms(void *ctx);

#endif
