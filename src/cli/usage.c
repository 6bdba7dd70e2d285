/* SPDX-License-Identifier: MIT */
/* Help texts of the nightscout-connect command (see usage.h). */
#include "config.h"

#include <stdbool.h>

#include "cli/usage.h"
#include "nsc_config.h"
#include "sources/registry.h"

static const char exit_codes[] =
	"Exit status:\n"
	"  0  success (capture: new data was stored)\n"
	"  1  internal error, or the bridge stopped on a fatal error\n"
	"  2  bad command line or configuration (the message names the setting)\n"
	"  3  capture: the cycle worked but no new data arrived\n"
	"  4  capture: source or output unreachable, after retries; backfill: not\n"
	"     finished (stopped, or the source stayed unreachable): run it again to resume\n"
	"  5  capture: the vendor refused the login; fix the credentials or accept the terms\n"
	"  6  capture: the vendor's answer could not be used\n";

void nsc_usage_main(FILE *out)
{
	fprintf(out,
		"Usage: nightscout-connect [--SETTING=VALUE ...] COMMAND [OPTIONS]\n"
		"\n"
		"Moves CGM readings and treatments from a vendor cloud (or the built-in\n"
		"simulator) into Nightscout.\n"
		"\n"
		"Commands:\n"
		"  forever            run until SIGINT or SIGTERM, polling on the sensor's cadence\n"
		"  capture [--once]   run one cycle and exit with a status that says whether data arrived\n"
		"  backfill --since WHEN [--until WHEN]\n"
		"                     copy a past range (after a move, an outage or a first start)\n"
		"  settings           list every setting with its flag, default and meaning\n"
		"  carelink-login [--region eu|us]\n"
		"                     sign in to Medtronic CareLink once, in a browser\n"
		"  serve --tenants DIR\n"
		"                     run one bridge per DIR/NAME.env file, all in this process\n"
		"  doctor [--tenants DIR]\n"
		"                     check the settings, servers, login, data and output; store nothing\n"
		"\n"
		"Options:\n"
		"  -h, --help         show help (also: COMMAND --help)\n"
		"  -V, --version      show the version\n"
		"  --SETTING=VALUE    any setting as a flag: CONNECT_SHARE_PASSWORD is --share-password,\n"
		"                     MONGODB_URI is --mongodb-uri; flags override the environment.\n"
		"                     Every secret NAME can also be read from a file named by NAME_FILE.\n"
		"\n"
		"Example:\n"
		"  CONNECT_SOURCE=simulator nightscout-connect capture\n"
		"\n%s",
		exit_codes);
}

void nsc_usage_forever(FILE *out)
{
	fprintf(out,
		"Usage: nightscout-connect [--SETTING=VALUE ...] forever\n"
		"\n"
		"Runs the bridge until SIGINT or SIGTERM. Each cycle logs in when needed,\n"
		"fetches what is missing since the newest document the output holds, and\n"
		"stores it; the next cycle is timed to the sensor's next reading. On a\n"
		"signal it finishes cleanly: the output is flushed and closed.\n"
		"\n"
		"With CONNECT_HTTP_LISTEN (e.g. 127.0.0.1:9117) it answers /healthz, /readyz,\n"
		"/status (JSON) and /metrics (Prometheus) on that address.\n"
		"\n"
		"Exit status: 0 after a signal, 1 when the bridge stopped on a fatal error,\n"
		"2 on a configuration error.\n");
}

void nsc_usage_serve(FILE *out)
{
	fprintf(out,
		"Usage: nightscout-connect [--SETTING=VALUE ...] serve --tenants DIR\n"
		"\n"
		"Runs one bridge per file DIR/NAME.env (also CONNECT_TENANTS_DIR), all on one\n"
		"event loop, sharing kept-alive connections to each vendor. A file holds the\n"
		"settings of one bridge as NAME=value lines (the variables a single bridge\n"
		"takes); the process's own settings are defaults every file can override.\n"
		"NAME is the tenant: its log lines carry tenant=NAME. A tenant that does not\n"
		"set CONNECT_SPOOL_DIR or CONNECT_OUTPUT_DIR gets the default with /NAME.\n"
		"\n"
		"A file with bad settings is reported and skipped; the others run. SIGHUP, or\n"
		"a changed file (noticed within a minute), reloads: new files start, removed\n"
		"ones stop (their spool kept), changed ones restart that tenant only.\n"
		"SIGINT or SIGTERM stop every tenant within 20 seconds.\n"
		"\n"
		"With CONNECT_HTTP_LISTEN (e.g. 127.0.0.1:9117) it answers /healthz, /readyz,\n"
		"/status (JSON, per tenant) and /metrics (Prometheus) on that address.\n"
		"\n"
		"Exit status: 0 after a signal, 2 when the folder or a process setting is\n"
		"refused.\n");
}

void nsc_usage_doctor(FILE *out)
{
	fprintf(out,
		"Usage: nightscout-connect [--SETTING=VALUE ...] doctor [--tenants DIR]\n"
		"\n"
		"Checks what a bridge needs, one line each (ok, warning or problem, and for a\n"
		"problem the fix, naming the setting): the settings; DNS, TCP and TLS to each\n"
		"server of the source; one login (none while an earlier rejected login still\n"
		"holds: it says when the next attempt is allowed); the patient or connection\n"
		"the account lets it read; one read of data (how many readings, the newest and\n"
		"its age); the output (MongoDB answers, takes writes, has its indexes; a\n"
		"Nightscout site accepts the secret or token and its roles allow writing; the\n"
		"folder is writable) and the spool folder. Nothing is stored: the data read is\n"
		"only counted (MongoDB's write check writes one document into a scratch\n"
		"collection and drops it).\n"
		"\n"
		"With --tenants DIR (or CONNECT_TENANTS_DIR) it checks every NAME.env file of\n"
		"the folder as serve would run it, each line starting with the tenant.\n"
		"\n"
		"Exit status: 0 when everything needed works (warnings allowed), 1 when a check\n"
		"found a problem, 2 for a bad command line.\n");
}

void nsc_usage_capture(FILE *out)
{
	fprintf(out,
		"Usage: nightscout-connect [--SETTING=VALUE ...] capture [--once]\n"
		"\n"
		"Runs one cycle (log in, fetch the gap, store) and exits. It prints how\n"
		"many documents were stored and the newest reading.\n"
		"\n"
		"  --once   make a single attempt: no retries inside the cycle (for cron\n"
		"           jobs with a strict time budget)\n"
		"\n%s",
		exit_codes);
}

void nsc_usage_backfill(FILE *out)
{
	fprintf(out,
		"Usage: nightscout-connect [--SETTING=VALUE ...] backfill --since WHEN [--until WHEN]\n"
		"\n"
		"Copies a past range from the source into the output, page by page, oldest\n"
		"first; each page is stored before the next is fetched, so memory stays small\n"
		"whatever the range. Documents the output holds already are not stored twice.\n"
		"\n"
		"  --since WHEN   where the range starts (required)\n"
		"  --until WHEN   where it ends (default: now)\n"
		"\n"
		"WHEN is a span back from now (90d, 36h, 2w), a date (2026-09-01: midnight\n"
		"on this machine's clock), a local time (2026-09-01T08:30) or an ISO time with\n"
		"its zone (2026-09-01T06:30:00Z, 2026-09-01T08:30+02:00).\n"
		"\n"
		"Pages follow what the vendor keeps: another Nightscout is read a week a\n"
		"page, as far back as asked; Dexcom Share serves only its last 24 hours and\n"
		"LibreLinkUp its last 12, each in one answer, so older times cannot be\n"
		"fetched from them. A rejected login stops at once (no second attempt); an\n"
		"unreachable source is retried with the usual waits, then the run stops.\n"
		"\n"
		"Progress is shown on stderr (a bar on a terminal, a line per page\n"
		"otherwise) and kept in CONNECT_SPOOL_DIR/backfill-SOURCE.json: stopped by\n"
		"Ctrl-C or a failure, the same command run again goes on where it stopped.\n"
		"It ends with capture's summary, the pages read and the peak memory.\n"
		"\n%s",
		exit_codes);
}

void nsc_usage_settings(FILE *out)
{
	fprintf(out,
		"Usage: nightscout-connect settings\n"
		"\n"
		"Lists every setting: environment variable, flag, default and meaning.\n");
}

void nsc_usage_carelink_login(FILE *out)
{
	fprintf(out,
		"Usage: nightscout-connect [--SETTING=VALUE ...] carelink-login [--region eu|us]\n"
		"\n"
		"Signs in to Medtronic CareLink once and writes the file of sign-in tokens\n"
		"that the bridge then keeps fresh by itself. CareLink's sign-in page has a\n"
		"CAPTCHA, so you sign in yourself, in a web browser:\n"
		"\n"
		"  1. The command prints an address. Open it in a browser and sign in.\n"
		"  2. The browser then tries to open an address that starts with\n"
		"     com.medtronic.carelink://callback?code=... and fails. Copy that\n"
		"     address, from the address bar or from the developer tools' Network tab.\n"
		"  3. Paste it into the command and press Enter (the code alone works too).\n"
		"     A code works once and for a few minutes: if it is refused, run the\n"
		"     command again.\n"
		"  4. The tokens are written to CONNECT_CARELINK_TOKEN_FILE (default\n"
		"     ./carelink-logindata.json), readable by you only. Then run the bridge\n"
		"     with CONNECT_SOURCE=minimedcarelink and that file.\n"
		"\n"
		"  --region eu|us   the CareLink region (default CONNECT_CARELINK_REGION, else\n"
		"                   eu; eu is the rest of the world)\n"
		"\n"
		"CONNECT_SOURCE and an output are not needed for this step.\n"
		"CONNECT_CARELINK_USERNAME and CONNECT_CARELINK_PASSWORD are accepted for\n"
		"compatibility but not needed: the password is typed into the browser only.\n"
		"CONNECT_CARELINK_SERVER sends every CareLink request (clcloud, carelink,\n"
		"carelink-login) to that server instead (for tests). The pasted line can come\n"
		"from a pipe.\n"
		"\n"
		"Exit status: 0 when the file was written; 2 for a bad setting or a file that\n"
		"cannot be written; 4 when CareLink cannot be reached; 5 when the sign-in or\n"
		"its code was refused or nothing usable was pasted; 6 when CareLink's answer\n"
		"could not be used; 1 on an internal error.\n");
}

/* The heading a row is listed under: its source's, or its group's. */
static void heading(FILE *out, const struct nsc_setting *s, bool first)
{
	const struct nsc_source_entry *src = nsc_setting_source(s);

	if (src)
		fprintf(out, "%s%s source (%s):\n", first ? "" : "\n", src->title, src->name);
	else
		fprintf(out, "%s%s:\n", first ? "" : "\n", nsc_setting_group_title(s->group));
}

void nsc_usage_print_settings(FILE *out)
{
	const struct nsc_setting *s, *prev = NULL;
	char help[1024], flag[NSC_SETTING_FLAG_MAX];

	for (size_t i = 0; (s = nsc_setting_at(i)) != NULL; prev = s, i++) {
		if (!prev || prev->group != s->group ||
		    nsc_setting_source(prev) != nsc_setting_source(s))
			heading(out, s, prev == NULL);
		nsc_setting_describe(s, help, sizeof(help));
		nsc_setting_flag(s, flag, sizeof(flag));
		if (s->kind == NSC_SETTING_SECRET)
			fprintf(out, "  %s (--%s) [secret; also %s_FILE]\n      %s\n", s->name, flag,
				s->name, help);
		else
			fprintf(out, "  %s (--%s)\n      %s\n", s->name, flag, help);
	}
}
