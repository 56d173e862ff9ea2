/* mergepatch: JSON Merge Patch (RFC 7396). */
#ifndef AP_MERGEPATCH_H
#define AP_MERGEPATCH_H

#include <jansson.h>

/* Returns a new reference: TARGET with PATCH applied (objects merge recursively, null removes a member,
 * anything else replaces). Neither argument is modified. */
json_t *mergepatch_apply(const json_t *target, const json_t *patch);

#endif
