/* SPDX-License-Identifier: MIT */
/*
 * This process's own numbers for the metrics page: resident memory, CPU
 * time, start time and open file descriptors, read from /proc (Linux)
 * and getrusage(). Each is flagged when it could not be read.
 */
#ifndef NSC_HEALTH_PROC_H
#define NSC_HEALTH_PROC_H

#include <stdbool.h>
#include <stdint.h>

struct nsc_health_proc {
	bool has_rss, has_cpu, has_start, has_fds;
	uint64_t rss_bytes;
	int64_t cpu_ms;   /* user + system */
	int64_t start_ms; /* wall ms when the process started */
	uint64_t open_fds;
};

void nsc_health_proc_read(struct nsc_health_proc *out);

#endif
