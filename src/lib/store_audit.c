/* store_audit: statements on audit_logs. */
#include "store_audit.h"
#include "ids.h"
#include "store.h"

static const char SQL_INSERT[] =
	"INSERT INTO audit_logs (id, account_id, action, actor, target_type, target_id, ip, request_id, changes, created_at) "
	"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";

enum store_result store_audit_insert(db *d, arena *a, const audit_entry *e)
{
	char id[IDS_MAX_LEN];
	store_params p = {0};
	ids_new("aud_", id);
	store_param_str(&p, id);
	store_param_str(&p, e->account_id);
	store_param_str(&p, e->action);
	store_param_str(&p, e->actor);
	store_param_str(&p, e->target_type);
	store_param_str(&p, e->target_id);
	store_param_str(&p, e->ip);
	store_param_str(&p, e->request_id);
	store_param_str(&p, e->changes);
	return store_exec(d, SQL_INSERT, &p, a, NULL);
}
