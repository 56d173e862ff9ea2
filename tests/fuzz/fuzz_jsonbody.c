/* fuzz_jsonbody: jsonbody_parse and jsonbody_parse_any on arbitrary request bodies. */
#include "jsonbody.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	json_t *v = jsonbody_parse((const char *)data, size, err, sizeof err);
	if (v) {
		if (!json_is_object(v) || jsonbody_depth(v, JSONBODY_MAX_DEPTH) > JSONBODY_MAX_DEPTH)
			abort();
		json_decref(v);
	}
	v = jsonbody_parse_any((const char *)data, size, err, sizeof err);
	if (v) {
		if (jsonbody_depth(v, JSONBODY_MAX_DEPTH) > JSONBODY_MAX_DEPTH)
			abort();
		json_decref(v);
	}
	return 0;
}
