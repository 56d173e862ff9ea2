/* refs: checks the objects an agent config refers to (DESIGN.md "Cross-account references"). */
#include "refs.h"
#include "ids.h"
#include "log.h"
#include "store_connection.h"
#include "store_credential.h"
#include "store_mcp_server.h"

#include <string.h>

static int check_credential(request *r, const agenttype_ref *ref, const char *id, const char *param)
{
	const char *type;
	int revoked;
	enum store_result res = ids_valid("cred_", id) ? store_credential_state(r->app->db, r->a, r->account_id, id,
										 &type, &revoked)
						       : STORE_NOT_FOUND;
	if (res == STORE_NOT_FOUND)
		return req_fail_param(r, ERR_NOT_FOUND, param, arena_printf(r->a, "%s: credential not found", param));
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	if (revoked)
		return req_fail_param(r, ERR_PARAMETER_INVALID, param,
				      arena_printf(r->a, "%s names a revoked credential", param));
	if (ref->credential_type && strcmp(ref->credential_type, type) != 0)
		return req_fail_param(r, ERR_PARAMETER_INVALID, param,
				      arena_printf(r->a, "%s must name a credential of type %s, not %s", param,
						   ref->credential_type, type));
	return 0;
}

/* A live calendar connection of the caller's account (one in status error too: a run checks again and says why). */
static int check_connection(request *r, const char *id, const char *param)
{
	connection_row c;
	enum store_result res = ids_valid("conn_", id) ? store_connection_get(r->app->db, r->a, r->account_id, id, &c)
						       : STORE_NOT_FOUND;
	if (res == STORE_NOT_FOUND)
		return req_fail_param(r, ERR_NOT_FOUND, param, arena_printf(r->a, "%s: connection not found", param));
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	return 0;
}

/* An MCP server of the caller's account (disabled ones too: a run checks again and fails clearly). */
static int check_mcp_server(request *r, const char *id, const char *param)
{
	mcp_server_row s;
	enum store_result res = ids_valid("mcp_", id) ? store_mcp_server_get(r->app->db, r->a, r->account_id, id, 0, &s)
						      : STORE_NOT_FOUND;
	if (res == STORE_NOT_FOUND)
		return req_fail_param(r, ERR_NOT_FOUND, param, arena_printf(r->a, "%s: MCP server not found", param));
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	return 0;
}

int refs_check(request *r, const agenttype_ref *ref, const char *id, const char *param)
{
	switch (ref->kind) {
	case AGENTTYPE_REF_CREDENTIAL:
		return check_credential(r, ref, id, param);
	/* The MCP server and connection work replaces these with its checks; no agent type names them before. */
	case AGENTTYPE_REF_MCP_SERVER:
		return check_mcp_server(r, id, param);
	case AGENTTYPE_REF_CONNECTION:
		return check_connection(r, id, param);
	}
	log_error("refs: no check for reference kind %d (%s)", (int)ref->kind, param);
	return req_fail(r, ERR_INTERNAL, "internal error; the request id identifies it in the logs");
}
