/* SPDX-License-Identifier: MIT */
/*
 * The health board as text: the JSON status page and the Prometheus
 * metrics page. Pure functions of the board (and, for metrics, this
 * process's /proc numbers); each holds the board's lock while it reads.
 *
 * Each returns a malloc'd NUL-terminated text and sets *len to its length
 * without the NUL; NULL when memory ran out.
 */
#ifndef NSC_HEALTH_RENDER_H
#define NSC_HEALTH_RENDER_H

#include <stddef.h>

#include "health/board.h"

/*
 * {"version":"…","uptime_s":N,"alive":bool,"ready":bool,"tenants":[…]},
 * tenants by name; times are UTC ISO-8601 strings or null when unknown,
 * ages (`newest_reading_age_s`) and waits (`next_poll_in_s`) are whole
 * seconds from the board clock's wall time, or null.
 */
char *nsc_health_render_status(struct nsc_health_board *b, size_t *len);

/*
 * Prometheus text exposition format 0.0.4: nsconnect_* families per
 * tenant and for the process, the reading-delay histogram, and the
 * standard process_* families. Labels hold tenant names, collections,
 * verdicts, states and the version only, never a setting's value.
 */
char *nsc_health_render_metrics(struct nsc_health_board *b, size_t *len);

#endif
