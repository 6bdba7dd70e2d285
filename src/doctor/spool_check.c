/* SPDX-License-Identifier: MIT */
/* doctor's look at the spool's contents (see spool_check.h). */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "doctor/spool_check.h"
#include "outputs/spool_files.h"

static void size_text(uint64_t bytes, char *buf, size_t size)
{
	if (bytes < 10 * 1024)
		snprintf(buf, size, "%" PRIu64 " bytes", bytes);
	else if (bytes < 10ull * 1024 * 1024)
		snprintf(buf, size, "%" PRIu64 " KiB", bytes / 1024);
	else
		snprintf(buf, size, "%" PRIu64 " MiB", bytes / (1024 * 1024));
}

void nsc_doctor_check_spool(struct nsc_diag *d, const char *dir, int64_t now_ms)
{
	struct nsc_spool_contents c;
	struct nsc_error err = { 0 };
	if (nsc_spool_peek(dir, &c, &err) != NSC_OK) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "spool", "let the user nsconnect runs as read CONNECT_SPOOL_DIR",
			     "%s", err.msg);
		return;
	}
	if (c.pending == 0) {
		nsc_diag_say(d, NSC_DIAG_OK, "spool", NULL, "nothing waiting for the output");
	} else {
		char age[32], size[32];
		int64_t waited = now_ms > c.oldest_ms ? now_ms - c.oldest_ms : 0;
		nsc_diag_minutes(waited, age, sizeof(age));
		size_text(c.pending_bytes, size, sizeof(size));
		bool long_wait = waited >= NSC_DOCTOR_SPOOL_WAIT_MS;
		nsc_diag_say(d, long_wait ? NSC_DIAG_WARNING : NSC_DIAG_OK, "spool",
			     long_wait ? "the output has not taken them: mend what the output checks above name; "
					 "the bridge then delivers them in order (nothing is lost), or at its next start"
				       : NULL,
			     "%zu batch%s (%s) waiting for the output, the oldest for %s", c.pending,
			     c.pending == 1 ? "" : "es", size, age);
	}
	if (c.rejected > 0)
		nsc_diag_say(d, NSC_DIAG_WARNING, "spool",
			     "the output refused them (the bridge's log says why at the time); they are not sent "
			     "again: read them, then delete them from that folder",
			     "%zu batch%s kept in %s/%s", c.rejected, c.rejected == 1 ? "" : "es", dir,
			     NSC_SPOOL_REJECTED_DIR);
}
