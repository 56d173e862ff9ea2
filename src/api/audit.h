/* audit: writes the audit_logs row of an API write, inside the caller's transaction. */
#ifndef AP_AUDIT_H
#define AP_AUDIT_H

#include "request.h"

/* Records ACTION on TARGET_TYPE/TARGET_ID by R's key, with R's IP and request id. CHANGES (may be NULL) is
 * a JSON object of what changed; the reference is stolen. Returns 0, or -1 with the failure recorded. */
int audit_record(request *r, const char *action, const char *target_type, const char *target_id, json_t *changes);

/* What an update changed: for each of KEYS (NULL-terminated) whose value differs between BEFORE and AFTER (absent
 * counts as null), {"<key>": {"from": old, "to": new}}. A new object (audit_record takes it over). */
json_t *audit_changes(const json_t *before, const json_t *after, const char *const *keys);

#endif
