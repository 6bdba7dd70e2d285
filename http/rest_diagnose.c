/* SPDX-License-Identifier: MIT */
/*
 * doctor's checks of a Nightscout site as the output: it answers, the
 * credentials are accepted, and what they grant allows writing (and, as
 * every v1 route first checks it, reading) each collection. An access
 * token's grants come from exchanging it (/api/v2/authorization/request,
 * reference/nightscout.md §5.2), matched Shiro-style as Nightscout does;
 * the API secret grants everything once accepted. Nothing is written.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/rest.h"
#include "http/rest_output.h"
#include "jsonutil.h"

static const char *const collections[NSC_COLL_COUNT] = { "entries", "treatments", "devicestatus", "profile" };

/* Whether one granted permission implies the wanted one ("api:*:*", "api:entries,treatments:read", "api"). */
static bool implies(const char *granted, const char *wanted)
{
	const char *g = granted, *w = wanted;
	while (*w) {
		if (*g == '\0')
			return true; /* a shorter grant covers everything below it */
		size_t gl = strcspn(g, ":"), wl = strcspn(w, ":");
		bool match = gl == 1 && g[0] == '*';
		for (const char *p = g; !match && p < g + gl;) {
			size_t pl = strcspn(p, ",:");
			if (pl > gl - (size_t)(p - g))
				pl = gl - (size_t)(p - g);
			match = pl == wl && strncmp(p, w, wl) == 0;
			p += pl + (p[pl] == ',');
		}
		if (!match)
			return false;
		g += gl + (g[gl] == ':');
		w += wl + (w[wl] == ':');
	}
	return true;
}

static bool granted(struct json_object *groups, const char *wanted)
{
	for (size_t i = 0; i < json_object_array_length(groups); i++) {
		struct json_object *group = json_object_array_get_idx(groups, i);
		if (!json_object_is_type(group, json_type_array))
			continue;
		for (size_t k = 0; k < json_object_array_length(group); k++) {
			const char *p = json_object_get_string(json_object_array_get_idx(group, k));
			if (p && implies(p, wanted))
				return true;
		}
	}
	return false;
}

static void check_grants(struct json_object *groups, bool v3, struct nsc_diag *d)
{
	static const char *const ops_v1[] = { "read", "create", NULL };
	static const char *const ops_v3[] = { "read", "create", "update", NULL };
	char missing[512] = "";
	size_t used = 0;
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		for (const char *const *op = v3 ? ops_v3 : ops_v1; *op; op++) {
			char perm[64];
			snprintf(perm, sizeof(perm), "api:%s:%s", collections[c], *op);
			if (granted(groups, perm))
				continue;
			int n = snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? ", " : "", perm);
			if (n > 0 && (size_t)n < sizeof(missing) - used)
				used += (size_t)n;
		}
	if (used)
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout permissions",
			     "in Nightscout's admin tools give the subject of CONNECT_NIGHTSCOUT_TOKEN a role with "
			     "these permissions (the built-in role admin has them all), or make a new token",
			     "the token's roles lack %s", missing);
	else
		nsc_diag_say(d, NSC_DIAG_OK, "nightscout permissions", NULL,
			     "the token's roles allow writing entries, treatments, devicestatus and profile");
}

/* The token's permission groups (new object), or NULL after saying why. */
static struct json_object *exchange(struct nsc_rest *r, const char *token, struct nsc_diag *d)
{
	char *esc = nsc_http_escape(NULL, token);
	size_t n = esc ? strlen(esc) + sizeof("/api/v2/authorization/request/") : 0;
	char *path = esc ? malloc(n) : NULL;
	if (path == NULL) {
		free(esc);
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout token", NULL, "out of memory");
		return NULL;
	}
	snprintf(path, n, "/api/v2/authorization/request/%s", esc);
	free(esc);
	struct nsc_http_response resp = { 0 };
	struct nsc_error err = { 0 };
	nsc_rc rc = nsc_rest_call(r, "GET /api/v2/authorization/request/<token>", "GET", path, NULL, NULL, NULL, 0,
				  &resp, &err);
	memset(path, 0, n);
	free(path);
	struct json_object *answer = NULL, *groups = NULL;
	if (rc != NSC_OK) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout token", NULL, "%s", err.msg);
	} else if (resp.transport != 0) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout", "check CONNECT_NIGHTSCOUT_ENDPOINT",
			     "cannot reach the site: %s", resp.transport_msg);
	} else if (resp.status == 401 || resp.status == 403) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout token",
			     "set CONNECT_NIGHTSCOUT_TOKEN to an access token from Nightscout's admin tools "
			     "(like name-0123456789abcdef), not the API secret",
			     "the site does not know this access token (HTTP %ld)", resp.status);
	} else if (resp.status != 200 || (answer = nsc_json_parse(resp.body, resp.body_len)) == NULL ||
		   !json_object_object_get_ex(answer, "permissionGroups", &groups) ||
		   !json_object_is_type(groups, json_type_array)) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout token", "check CONNECT_NIGHTSCOUT_ENDPOINT: is it a Nightscout site?",
			     "exchanging the token gave HTTP %ld without the token's permissions", resp.status);
		groups = NULL;
	} else {
		nsc_diag_say(d, NSC_DIAG_OK, "nightscout token", NULL, "the site accepts the access token");
		groups = json_object_get(groups);
	}
	json_object_put(answer);
	nsc_http_response_free(&resp);
	return groups;
}

/* v1 with the API secret: any read with it is refused (401) when it is wrong. */
static void check_secret(struct nsc_rest *r, struct nsc_diag *d)
{
	struct nsc_http_response resp = { 0 };
	struct nsc_error err = { 0 };
	nsc_rc rc = nsc_rest_call(r, "GET /api/v1/entries.json", "GET", "/api/v1/entries.json", "count=1", NULL, NULL,
				  0, &resp, &err);
	if (rc != NSC_OK)
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout", NULL, "%s", err.msg);
	else if (resp.transport != 0)
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout", "check CONNECT_NIGHTSCOUT_ENDPOINT",
			     "cannot reach the site: %s", resp.transport_msg);
	else if (resp.status == 401 || resp.status == 403)
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout secret",
			     "set CONNECT_API_SECRET to the site's API_SECRET, exactly as Nightscout has it",
			     "the site refuses the API secret (HTTP %ld)", resp.status);
	else if (resp.status != 200)
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout", "check CONNECT_NIGHTSCOUT_ENDPOINT: is it a Nightscout site?",
			     "reading entries gave HTTP %ld", resp.status);
	else
		nsc_diag_say(d, NSC_DIAG_OK, "nightscout secret", NULL,
			     "the site accepts the API secret (it allows writing every collection)");
	nsc_http_response_free(&resp);
}

static void diagnose(enum nsc_rest_api api, const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d)
{
	struct nsc_rest r;
	struct nsc_error err = { 0 };
	if (nsc_rest_init(&r, api, cfg, log, &err) != NSC_OK) {
		nsc_diag_say(d, NSC_DIAG_PROBLEM, "nightscout", NULL, "%s", err.msg);
		return;
	}
	bool token = cfg->nightscout_token && cfg->nightscout_token[0];
	if (api == NSC_REST_V1 && cfg->api_secret && cfg->api_secret[0]) {
		check_secret(&r, d);
	} else if (token) {
		struct json_object *groups = exchange(&r, cfg->nightscout_token, d);
		if (groups)
			check_grants(groups, api == NSC_REST_V3, d);
		json_object_put(groups);
	}
	nsc_rest_cleanup(&r);
}

void nsc_rest_v1_diagnose(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d)
{
	diagnose(NSC_REST_V1, cfg, log, d);
}

void nsc_rest_v3_diagnose(const struct nsc_config *cfg, struct nsc_log *log, struct nsc_diag *d)
{
	diagnose(NSC_REST_V3, cfg, log, d);
}
