/* audit: the API side of the audit trail. */
#include "audit.h"
#include "store_audit.h"

#include <stdlib.h>

int audit_record(request *r, const char *action, const char *target_type, const char *target_id, json_t *changes)
{
	char *text = changes ? json_dumps(changes, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(changes);
	audit_entry e = {
		.account_id = r->account_id,
		.action = action,
		.actor = r->key_id,
		.target_type = target_type,
		.target_id = target_id,
		.ip = r->remote_addr,
		.request_id = r->request_id,
		.changes = text,
	};
	enum store_result res = store_audit_insert(r->app->db, r->a, &e);
	free(text);
	return res == STORE_OK ? 0 : req_fail_store(r, res, NULL);
}

json_t *audit_changes(const json_t *before, const json_t *after, const char *const *keys)
{
	json_t *changes = json_object();
	for (const char *const *k = keys; *k; k++) {
		json_t *old = json_object_get(before, *k), *new = json_object_get(after, *k);
		if (!old)
			old = json_null();
		if (!new)
			new = json_null();
		if (!json_equal(old, new))
			json_object_set_new(changes, *k, json_pack("{s:O, s:O}", "from", old, "to", new));
	}
	return changes;
}
