/* SPDX-License-Identifier: MIT */
/* Wiping json-c strings that held secrets (see json_secret.h). */
#include "config.h"

#include <stddef.h>

#include "jsonutil.h"
#include "secret.h"
#include "sources/kit/json_secret.h"

void nsc_json_secret_wipe(struct json_object *s)
{
	if (s == NULL || !json_object_is_type(s, json_type_string))
		return;
	/* The string's own storage: json-c hands it out const, but it is ordinary heap memory. */
	nsc_secret_wipe((char *)json_object_get_string(s), (size_t)json_object_get_string_len(s));
}

static void wipe_tree(struct json_object *o, int depth)
{
	if (o == NULL || depth > NSC_JSON_MAX_DEPTH)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string:
		nsc_json_secret_wipe(o);
		break;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			wipe_tree(json_object_array_get_idx(o, i), depth + 1);
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			wipe_tree(val, depth + 1);
		}
		break;
	}
	default:
		break;
	}
}

void nsc_json_secret_put(struct json_object *obj)
{
	wipe_tree(obj, 0);
	json_object_put(obj);
}
