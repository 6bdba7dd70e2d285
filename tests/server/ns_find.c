/* SPDX-License-Identifier: MIT */
/* The find[] filters of a v1 read in the test Nightscout (see ns_find.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iso_time.h"
#include "ns_find.h"

#define MAX_CONDS 16
#define IMPLICIT_WINDOW_MS (4LL * 24 * 3600 * 1000) /* query.js deltaAgo: 2 x TWO_DAYS */

enum op { OP_EQ, OP_IN, OP_GTE, OP_GT, OP_LTE, OP_LT };

static const struct {
	const char *suffix; /* what follows find[field] */
	enum op op;
} op_forms[] = {
	{ "", OP_EQ },	     { "[$in][]", OP_IN }, { "[$gte]", OP_GTE },
	{ "[$gt]", OP_GT }, { "[$lte]", OP_LTE }, { "[$lt]", OP_LT },
};

struct cond {
	char field[64];
	enum op op;
	char **values;
	size_t nvalues;
};

struct tsns_find {
	struct cond conds[MAX_CONDS];
	size_t n;
};

void tsns_find_free(struct tsns_find *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		for (size_t j = 0; j < f->conds[i].nvalues; j++)
			free(f->conds[i].values[j]);
		free(f->conds[i].values);
	}
	free(f);
}

static bool as_number(const char *s, double *out)
{
	char *end;

	if (!*s)
		return false;
	*out = strtod(s, &end);
	return *end == '\0';
}

static bool has_field(const struct tsns_find *f, const char *field)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->conds[i].field, field) == 0)
			return true;
	return false;
}

/* Adds a value to the condition (field, op); $in conditions on one field gather. */
static bool add(struct tsns_find *f, const char *field, size_t field_len, enum op op,
		const char *value)
{
	struct cond *c = NULL;
	char **values;

	for (size_t i = 0; i < f->n && op == OP_IN; i++)
		if (f->conds[i].op == OP_IN && strlen(f->conds[i].field) == field_len &&
		    strncmp(f->conds[i].field, field, field_len) == 0)
			c = &f->conds[i];
	if (!c) {
		if (f->n == MAX_CONDS || field_len >= sizeof(c->field))
			return false;
		c = &f->conds[f->n++];
		snprintf(c->field, sizeof(c->field), "%.*s", (int)field_len, field);
		c->op = op;
	}
	values = realloc(c->values, (c->nvalues + 1) * sizeof(*values));
	if (!values)
		tsrv_oom("tsns");
	c->values = values;
	c->values[c->nvalues++] = tsrv_xstrdup("tsns", value);
	return true;
}

/* One find[...] argument; false with `problem` set when its form is not modelled. */
static bool parse_arg(struct tsns_find *f, const struct tsrv_kv *arg, const char *date_field,
		      char *problem, size_t size)
{
	const char *field = arg->name + 5, *close = strchr(field, ']');
	const char *value = arg->value;
	char iso[TSNS_ISO_BUF];
	size_t k, len;
	long long ms;
	double num;

	if (!close || close == field) {
		snprintf(problem, size, "find form %s is not modelled", arg->name);
		return false;
	}
	len = (size_t)(close - field);
	for (k = 0; k < sizeof(op_forms) / sizeof(op_forms[0]); k++)
		if (strcmp(close + 1, op_forms[k].suffix) == 0)
			break;
	if (k == sizeof(op_forms) / sizeof(op_forms[0])) {
		snprintf(problem, size, "find form %s is not modelled", arg->name);
		return false;
	}
	/* query.js rewrites non-numeric values of the date field as UTC ISO strings. */
	if (strlen(date_field) == len && strncmp(field, date_field, len) == 0 &&
	    !as_number(value, &num)) {
		if (!tsns_parse_iso(value, &ms, NULL)) {
			snprintf(problem, size, "Cannot parse %s as a valid ISO-8601 date", value);
			return false;
		}
		tsns_format_iso(ms, iso);
		value = iso;
	}
	if (!add(f, field, len, op_forms[k].op, value)) {
		snprintf(problem, size, "too many find conditions for the test server");
		return false;
	}
	return true;
}

struct tsns_find *tsns_find_parse(const struct tsrv_request *req, const char *date_field,
				  bool epoch, long long now_ms, char *problem, size_t size)
{
	struct tsns_find *f = calloc(1, sizeof(*f));
	bool any = false;

	if (!f)
		tsrv_oom("tsns");
	problem[0] = '\0';
	for (size_t i = 0; i < req->nargs; i++) {
		if (strncmp(req->args[i].name, "find[", 5) != 0)
			continue;
		any = true;
		if (!parse_arg(f, &req->args[i], date_field, problem, size)) {
			tsns_find_free(f);
			return NULL;
		}
	}
	if (!any) {
		tsns_find_free(f);
		return NULL;
	}
	if (!has_field(f, date_field) && !has_field(f, "dateString") && !has_field(f, "_id")) {
		char since[TSNS_ISO_BUF];

		if (epoch)
			snprintf(since, sizeof(since), "%lld", now_ms - IMPLICIT_WINDOW_MS);
		else
			tsns_format_iso(now_ms - IMPLICIT_WINDOW_MS, since);
		if (!add(f, date_field, strlen(date_field), OP_GTE, since)) {
			snprintf(problem, size, "too many find conditions for the test server");
			tsns_find_free(f);
			return NULL;
		}
	}
	return f;
}

/* Mongo-like comparison of a stored value with a query value; false when they do not compare. */
static bool compare(struct json_object *v, const char *want, int *cmp)
{
	double x, y;

	if ((json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) &&
	    as_number(want, &y)) {
		x = json_object_get_double(v);
		*cmp = x < y ? -1 : x > y ? 1 : 0;
		return true;
	}
	if (json_object_is_type(v, json_type_string)) {
		*cmp = strcmp(json_object_get_string(v), want);
		return true;
	}
	return false;
}

static bool cond_match(const struct cond *c, struct json_object *doc)
{
	struct json_object *v = NULL;
	int cmp;

	if (!json_object_object_get_ex(doc, c->field, &v) || !v)
		return false;
	for (size_t i = 0; i < c->nvalues; i++) {
		if (!compare(v, c->values[i], &cmp))
			continue;
		switch (c->op) {
		case OP_EQ:
		case OP_IN:
			if (cmp == 0)
				return true;
			break;
		case OP_GTE:
			return cmp >= 0;
		case OP_GT:
			return cmp > 0;
		case OP_LTE:
			return cmp <= 0;
		case OP_LT:
			return cmp < 0;
		}
	}
	return false;
}

bool tsns_find_match(const struct tsns_find *f, struct json_object *doc)
{
	for (size_t i = 0; i < f->n; i++)
		if (!cond_match(&f->conds[i], doc))
			return false;
	return true;
}
