/* v1_mcp_servers: /api/v1/mcp-servers — external MCP server configs (list, create, get, update, delete, refresh).
 * Discovery (initialize, tools/list) runs in the scheduler (src/scheduler/mcpdiscovery.c), never here. */
#include "audit.h"
#include "handlers.h"
#include "mergepatch.h"
#include "refs.h"
#include "store_account.h"
#include "store_mcp_server.h"
#include "webhook_url.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 200

static const char *const WRITABLE[] = {"name", "url", "transport", "credential_id", "enabled", NULL};
static const char *const READ_ONLY[] = {"id",    "status",          "last_error", "tools",
					"last_checked_at", "created_at", "updated_at", NULL};

/* The credential an MCP server authenticates with: a live bearer_token credential of the caller's account. */
static const agenttype_ref CREDENTIAL_REF = {"credential_id", AGENTTYPE_REF_CREDENTIAL, "bearer_token"};

static json_t *server_json(const mcp_server_row *s)
{
	json_t *tools = s->tools ? json_loads(s->tools, 0, NULL) : NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b, s:s, s:s?, s:o, s:s?, s:s, s:s}", "id", s->id, "name", s->name,
			 "url", s->url, "transport", s->transport, "credential_id", s->credential_id, "enabled", s->enabled,
			 "status", s->status, "last_error", s->last_error, "tools", json_is_array(tools) ? tools : json_array(),
			 "last_checked_at", s->last_checked_at, "created_at", s->created_at, "updated_at", s->updated_at);
}

/* The desired state DOC as it would be stored (for the audit trail and the change test). */
static json_t *state_json(const mcp_server_fields *f)
{
	return json_pack("{s:s, s:s, s:s, s:s?, s:b}", "name", f->name, "url", f->url, "transport", "streamable_http",
			 "credential_id", f->credential_id, "enabled", f->enabled);
}

/* Validates the whole desired state DOC into F. CHECK_URL / CHECK_CREDENTIAL 0 skip the outbound URL guard and
 * the credential check (unchanged values: discovery and every run check them again). *HOST gets the URL's host
 * for the audit trail when the URL was checked (the URL itself may carry a token). */
static int validate_doc(request *r, const json_t *doc, mcp_server_fields *f, int check_url, int check_credential,
			const char **host)
{
	verr e;
	const json_t *name = json_object_get(doc, "name");
	if (!name || json_is_null(name))
		return req_fail_param(r, ERR_PARAMETER_MISSING, "name", "name is required");
	if (validate_string(name, "name", 1, NAME_MAX_LEN, &e) != 0)
		return req_fail_verr(r, &e);
	f->name = json_string_value(name);

	const json_t *url = json_object_get(doc, "url");
	if (!url || json_is_null(url))
		return req_fail_param(r, ERR_PARAMETER_MISSING, "url", "url is required");
	if (validate_string(url, "url", 1, URLGUARD_MAX_URL, &e) != 0)
		return req_fail_verr(r, &e);
	f->url = json_string_value(url);
	*host = NULL;
	if (check_url) {
		urlguard_target t;
		char err[160];
		if (webhook_url_check(f->url, 1, r->app->cfg->allow_private_addresses, &t, err, sizeof err) != 0)
			return req_fail_param(r, ERR_PARAMETER_INVALID, "url",
					      arena_printf(r->a, "url is not allowed: %s", err));
		*host = arena_strdup(r->a, t.host);
	}

	const json_t *transport = json_object_get(doc, "transport");
	if (transport && !json_is_null(transport) &&
	    !(json_is_string(transport) && strcmp(json_string_value(transport), "streamable_http") == 0))
		return req_fail_param(r, ERR_PARAMETER_INVALID, "transport", "transport must be \"streamable_http\"");

	const json_t *cred = json_object_get(doc, "credential_id");
	f->credential_id = NULL;
	if (cred && !json_is_null(cred)) {
		if (!json_is_string(cred))
			return req_fail_param(r, ERR_PARAMETER_INVALID, "credential_id",
					      "credential_id must be a credential id or null");
		f->credential_id = json_string_value(cred);
		if (check_credential && refs_check(r, &CREDENTIAL_REF, f->credential_id, "credential_id") != 0)
			return -1;
	}

	const json_t *enabled = json_object_get(doc, "enabled");
	f->enabled = 1;
	if (enabled && !json_is_null(enabled)) {
		if (!json_is_boolean(enabled))
			return req_fail_param(r, ERR_PARAMETER_INVALID, "enabled", "enabled must be true or false");
		f->enabled = json_is_true(enabled);
	}
	return 0;
}

static int rollback(request *r)
{
	db_rollback(r->app->db);
	return -1;
}

/* Begins a transaction with server r->param[0] of the caller's account read and locked into S; on failure
 * (recorded) nothing is left open. */
static int begin_locked(request *r, mcp_server_row *s)
{
	enum store_result res = db_begin(r->app->db);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	if ((res = store_mcp_server_get(r->app->db, r->a, r->account_id, r->param[0], 1, s)) != STORE_OK)
		return req_fail_store(r, res, "MCP server not found"), rollback(r);
	return 0;
}

/* Commits, then answers STATUS with server ID as read inside the transaction. */
static int commit_and_respond(request *r, const char *id, int status)
{
	mcp_server_row s;
	enum store_result res = store_mcp_server_get(r->app->db, r->a, r->account_id, id, 0, &s);
	if (res != STORE_OK)
		return req_fail_store(r, res, "MCP server not found"), rollback(r);
	if ((res = db_commit(r->app->db)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond_data(r, status, server_json(&s));
}

int v1_mcp_servers_list(request *r)
{
	mcp_server_row *rows;
	int n;
	enum store_result res = store_mcp_server_list(r->app->db, r->a, r->account_id,
						      r->cursor_id[0] ? r->cursor_id : NULL, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int has_more = n > r->limit;
	if (has_more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, server_json(&rows[i]));
	return req_respond_list(r, data, has_more ? rows[n - 1].id : NULL);
}

int v1_mcp_servers_get(request *r)
{
	mcp_server_row s;
	enum store_result res = store_mcp_server_get(r->app->db, r->a, r->account_id, r->param[0], 0, &s);
	if (res != STORE_OK)
		return req_fail_store(r, res, "MCP server not found");
	return req_respond_data(r, 200, server_json(&s));
}

int v1_mcp_servers_create(request *r)
{
	mcp_server_fields f;
	const char *host;
	if (req_check_members(r, r->json, WRITABLE, READ_ONLY) != 0 || validate_doc(r, r->json, &f, 1, 1, &host) != 0)
		return -1;
	if (req_begin_create(r, store_mcp_server_count, r->app->cfg->mcp_servers_max_per_account, "MCP servers") != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res;
	char id[IDS_MAX_LEN];
	ids_new("mcp_", id);
	if ((res = store_mcp_server_insert(d, r->a, r->account_id, id, &f)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	json_t *changes = json_pack("{s:s, s:s, s:s?, s:b}", "name", f.name, "url_host", host, "credential_id",
				    f.credential_id, "enabled", f.enabled);
	if (audit_record(r, "mcp_server.created", "mcp_server", id, changes) != 0)
		return rollback(r);
	req_header(r, "Location", arena_printf(r->a, "%s/api/v1/mcp-servers/%s", r->app->cfg->public_base_url, id));
	return commit_and_respond(r, id, 201);
}

int v1_mcp_servers_update(request *r)
{
	mcp_server_row s;
	if (req_check_members(r, r->json, WRITABLE, READ_ONLY) != 0 || begin_locked(r, &s) != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res;
	mcp_server_fields old = {s.name, s.url, s.credential_id, s.enabled}, f;
	json_t *before = req_keep(r, state_json(&old));
	json_t *after = req_keep(r, mergepatch_apply(before, r->json));
	const json_t *nu = json_object_get(after, "url"), *nc = json_object_get(after, "credential_id");
	int url_changed = !json_is_string(nu) || strcmp(json_string_value(nu), s.url) != 0;
	int cred_changed = json_is_string(nc) && !(s.credential_id && strcmp(json_string_value(nc), s.credential_id) == 0);
	const char *host;
	if (validate_doc(r, after, &f, url_changed, cred_changed, &host) != 0)
		return rollback(r);
	int recheck = url_changed || f.enabled != s.enabled ||
		      (f.credential_id ? !s.credential_id || strcmp(f.credential_id, s.credential_id) != 0
				       : s.credential_id != NULL);
	if ((res = store_mcp_server_update(d, r->a, r->account_id, s.id, &f, recheck)) != STORE_OK)
		return req_fail_store(r, res, "MCP server not found"), rollback(r);
	json_t *normalized = req_keep(r, state_json(&f)), *changes = json_object();
	for (const char *const *k = WRITABLE; *k; k++) {
		json_t *o = json_object_get(before, *k), *n = json_object_get(normalized, *k);
		if (json_equal(o ? o : json_null(), n ? n : json_null()))
			continue;
		if (strcmp(*k, "url") == 0) /* never the URL itself: it may carry a token */
			json_object_set_new(changes, "url_host", json_pack("{s:s?}", "to", host));
		else
			json_object_set_new(changes, *k,
					    json_pack("{s:O, s:O}", "from", o ? o : json_null(), "to", n ? n : json_null()));
	}
	if (audit_record(r, "mcp_server.updated", "mcp_server", s.id, changes) != 0)
		return rollback(r);
	return commit_and_respond(r, s.id, 200);
}

int v1_mcp_servers_delete(request *r)
{
	mcp_server_row s;
	if (begin_locked(r, &s) != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res = store_mcp_server_delete(d, r->a, r->account_id, s.id);
	if (res != STORE_OK)
		return req_fail_store(r, res, "MCP server not found"), rollback(r);
	if (audit_record(r, "mcp_server.deleted", "mcp_server", s.id, NULL) != 0)
		return rollback(r);
	if ((res = db_commit(d)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond(r, 204, NULL);
}

int v1_mcp_servers_refresh(request *r)
{
	static const char *const NONE[] = {NULL};
	mcp_server_row s;
	/* An action: an empty body or {}. */
	if (req_check_members(r, r->json, NONE, NONE) != 0 || begin_locked(r, &s) != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res;
	if (!s.enabled) {
		req_fail(r, ERR_STATE_CONFLICT, "the MCP server is disabled; enable it to discover its tools");
		return rollback(r);
	}
	mcp_server_fields f = {s.name, s.url, s.credential_id, s.enabled};
	if ((res = store_mcp_server_update(d, r->a, r->account_id, s.id, &f, 1)) != STORE_OK)
		return req_fail_store(r, res, "MCP server not found"), rollback(r);
	if (audit_record(r, "mcp_server.refreshed", "mcp_server", s.id, NULL) != 0)
		return rollback(r);
	return commit_and_respond(r, s.id, 202);
}
