/* jsonbody: strict JSON body parsing. */
#include "jsonbody.h"

#include <stdio.h>

int jsonbody_depth(const json_t *v, int limit)
{
	if (limit < 0)
		return 1;
	int deepest = 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *child;
		json_object_foreach((json_t *)v, k, child)
		{
			int d = jsonbody_depth(child, limit - 1);
			if (d > deepest)
				deepest = d;
			if (deepest > limit)
				break;
		}
		return deepest + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child)
		{
			int d = jsonbody_depth(child, limit - 1);
			if (d > deepest)
				deepest = d;
			if (deepest > limit)
				break;
		}
		return deepest + 1;
	}
	return 0;
}

static json_t *parse(const char *data, size_t len, int object_only, char *err, size_t errlen);

json_t *jsonbody_parse(const char *data, size_t len, char *err, size_t errlen)
{
	return parse(data, len, 1, err, errlen);
}

json_t *jsonbody_parse_any(const char *data, size_t len, char *err, size_t errlen)
{
	return parse(data, len, 0, err, errlen);
}

static json_t *parse(const char *data, size_t len, int object_only, char *err, size_t errlen)
{
	json_error_t e;
	if (len == 0) {
		snprintf(err, errlen, "the request body is empty; a JSON object is required");
		return NULL;
	}
	json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (!v) {
		snprintf(err, errlen, "the body is not valid JSON: %s (line %d, column %d)", e.text, e.line, e.column);
		return NULL;
	}
	if (object_only && !json_is_object(v)) {
		snprintf(err, errlen, "the body must be a JSON object");
		json_decref(v);
		return NULL;
	}
	if (jsonbody_depth(v, JSONBODY_MAX_DEPTH) > JSONBODY_MAX_DEPTH) {
		snprintf(err, errlen, "the body is nested deeper than %d levels", JSONBODY_MAX_DEPTH);
		json_decref(v);
		return NULL;
	}
	return v;
}
