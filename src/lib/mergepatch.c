/* mergepatch: RFC 7396 section 2, the MergePatch(Target, Patch) function. */
#include "mergepatch.h"

#include <stdlib.h>

json_t *mergepatch_apply(const json_t *target, const json_t *patch)
{
	if (!json_is_object(patch))
		return json_deep_copy(patch);
	json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (!out)
		abort();
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)patch, key, value)
	{
		if (json_is_null(value)) {
			json_object_del(out, key);
			continue;
		}
		json_t *merged = mergepatch_apply(json_object_get(out, key), value);
		json_object_set_new(out, key, merged);
	}
	return out;
}
