/* v1_connections: /api/v1/connections — the account's calendar connections (made by agentplatform-admin). */
#include "handlers.h"
#include "store_connection.h"

/* One connection, every documented member present (null when unset). The URL and the credential stay
 * server-side: the URL may carry a user's path and the credential is listed under /credentials. */
static json_t *connection_json(const connection_row *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(c->id));
	json_object_set_new(o, "provider", json_string(c->provider));
	json_object_set_new(o, "display_name", json_string(c->display_name));
	json_object_set_new(o, "account", c->account_label ? json_string(c->account_label) : json_null());
	json_object_set_new(o, "status", json_string(c->status));
	json_object_set_new(o, "last_error", c->last_error ? json_string(c->last_error) : json_null());
	json_object_set_new(o, "last_synced_at", c->last_synced_at ? json_string(c->last_synced_at) : json_null());
	json_object_set_new(o, "created_at", json_string(c->created_at));
	return o;
}

int v1_connections_list(request *r)
{
	connection_row *rows;
	int n;
	enum store_result res = store_connection_list(r->app->db, r->a, r->account_id,
						      r->cursor_id[0] ? r->cursor_id : NULL, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int more = n > r->limit;
	if (more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, connection_json(&rows[i]));
	return req_respond_list(r, data, more ? rows[n - 1].id : NULL);
}
