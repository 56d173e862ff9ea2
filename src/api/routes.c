/* routes: the route table and the matcher. Every endpoint exists here first; the spec and tests follow it. */
#include "routes.h"
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#define NOIDS {NULL}

static const char *const RUN_QUERY[] = {"status", NULL};
static const char *const USAGE_QUERY[] = {"from", "to", NULL};
static const char *const NOTIFICATION_QUERY[] = {"unread", "type", NULL};
static const char *const APPROVAL_QUERY[] = {"status", "agent_id", NULL};
static const char *const AUDIT_QUERY[] = {"action", "target_type", "target_id", "actor", "since", "until", NULL};

/* Every write (any method but GET) is ROUTE_AUDITED: it records an audit_logs row in its own transaction,
 * and a unit test (tests/unit/test_audit.c) and an e2e suite (tests/e2e/test_audit.c) hold each one to it.
 * The only exceptions are the data-plane writes, signals (sendSignal) and inbound webhooks
 * (receiveInboundWebhook): they are events, not changes to the account, and each is recorded as a row of
 * the signals table (and the run it starts) instead. */
const route ROUTES[] = {
	{"GET", "/healthz", NOIDS, SCOPE_NONE, ROUTE_PUBLIC, NULL, NULL, health_live, "getHealth"},
	{"GET", "/readyz", NOIDS, SCOPE_NONE, ROUTE_PUBLIC, NULL, NULL, health_ready, "getReadiness"},

	{"GET", "/api/v1/openapi.json", NOIDS, SCOPE_NONE, ROUTE_PUBLIC, NULL, NULL, openapi_get, "getOpenApi"},

	{"GET", "/api/v1/agents", NOIDS, SCOPE_AGENTS_READ, ROUTE_LIST, NULL, "agt_", v1_agents_list, "listAgents"},
	{"POST", "/api/v1/agents", NOIDS, SCOPE_AGENTS_WRITE, ROUTE_BODY | ROUTE_AUDITED, NULL, NULL,
	 v1_agents_create, "createAgent"},
	{"GET", "/api/v1/agents/{id}", {"agt_"}, SCOPE_AGENTS_READ, 0, NULL, NULL, v1_agents_get, "getAgent"},
	{"PATCH", "/api/v1/agents/{id}", {"agt_"}, SCOPE_AGENTS_WRITE, ROUTE_BODY | ROUTE_MERGE_PATCH | ROUTE_AUDITED,
	 NULL, NULL, v1_agents_update, "updateAgent"},
	{"DELETE", "/api/v1/agents/{id}", {"agt_"}, SCOPE_AGENTS_WRITE, ROUTE_AUDITED, NULL, NULL, v1_agents_delete,
	 "deleteAgent"},
	{"POST", "/api/v1/agents/{id}/pause", {"agt_"}, SCOPE_AGENTS_WRITE, ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL,
	 NULL, v1_agents_pause, "pauseAgent"},
	{"POST", "/api/v1/agents/{id}/resume", {"agt_"}, SCOPE_AGENTS_WRITE, ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL,
	 NULL, v1_agents_resume, "resumeAgent"},
	{"POST", "/api/v1/agents/{id}/inbound-webhook/rotate", {"agt_"}, SCOPE_AGENTS_WRITE,
	 ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL, NULL, v1_agents_rotate_hook, "rotateAgentInboundWebhook"},
	{"POST", "/api/v1/agents/{id}/signals", {"agt_"}, SCOPE_SIGNALS_WRITE, ROUTE_BODY, NULL, NULL,
	 v1_signals_create, "sendSignal"},
	{"GET", "/api/v1/agents/{agent_id}/runs", {"agt_"}, SCOPE_RUNS_READ, ROUTE_LIST, RUN_QUERY, "run_",
	 v1_runs_list, "listAgentRuns"},
	{"GET", "/api/v1/runs/{id}", {"run_"}, SCOPE_RUNS_READ, 0, NULL, NULL, v1_runs_get, "getRun"},
	{"GET", "/api/v1/agents/{agent_id}/messages", {"agt_"}, SCOPE_AGENTS_READ, ROUTE_LIST, NULL, "msg_",
	 v1_messages_list_agent, "listAgentMessages"},
	{"GET", "/api/v1/runs/{run_id}/messages", {"run_"}, SCOPE_AGENTS_READ, ROUTE_LIST, NULL, "msg_",
	 v1_messages_list_run, "listRunMessages"},

	{"GET", "/api/v1/audit-logs", NOIDS, SCOPE_AUDIT_LOGS_READ, ROUTE_LIST, AUDIT_QUERY, "aud_", v1_audit_logs_list,
	 "listAuditLogs"},

	{"GET", "/api/v1/approvals", NOIDS, SCOPE_AGENTS_READ, ROUTE_LIST, APPROVAL_QUERY, "apr_", v1_approvals_list,
	 "listApprovals"},
	{"GET", "/api/v1/approvals/{id}", {"apr_"}, SCOPE_AGENTS_READ, 0, NULL, NULL, v1_approvals_get, "getApproval"},
	{"POST", "/api/v1/approvals/{id}/approve", {"apr_"}, SCOPE_AGENTS_WRITE, ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL,
	 NULL, v1_approvals_approve, "approveApproval"},
	{"POST", "/api/v1/approvals/{id}/reject", {"apr_"}, SCOPE_AGENTS_WRITE, ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL,
	 NULL, v1_approvals_reject, "rejectApproval"},

	{"GET", "/api/v1/notifications", NOIDS, SCOPE_NOTIFICATIONS_READ, ROUTE_LIST, NOTIFICATION_QUERY, "ntf_",
	 v1_notifications_list, "listNotifications"},
	{"POST", "/api/v1/notifications/read-all", NOIDS, SCOPE_NOTIFICATIONS_WRITE, ROUTE_BODY_OPTIONAL | ROUTE_AUDITED,
	 NULL, NULL, v1_notifications_read_all, "markAllNotificationsRead"},
	{"GET", "/api/v1/notifications/{id}", {"ntf_"}, SCOPE_NOTIFICATIONS_READ, 0, NULL, NULL, v1_notifications_get,
	 "getNotification"},
	{"POST", "/api/v1/notifications/{id}/read", {"ntf_"}, SCOPE_NOTIFICATIONS_WRITE,
	 ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL, NULL, v1_notifications_read, "markNotificationRead"},

	{"GET", "/api/v1/connections", NOIDS, SCOPE_CONNECTIONS_READ, ROUTE_LIST, NULL, "conn_", v1_connections_list,
	 "listConnections"},

	{"GET", "/api/v1/usage", NOIDS, SCOPE_USAGE_READ, 0, USAGE_QUERY, NULL, v1_usage_get, "getUsage"},

	{"GET", "/api/v1/webhooks", NOIDS, SCOPE_WEBHOOKS_READ, ROUTE_LIST, NULL, "whk_", v1_webhooks_list,
	 "listWebhooks"},
	{"POST", "/api/v1/webhooks", NOIDS, SCOPE_WEBHOOKS_WRITE, ROUTE_BODY | ROUTE_AUDITED, NULL, NULL,
	 v1_webhooks_create, "createWebhook"},
	{"GET", "/api/v1/webhooks/{id}", {"whk_"}, SCOPE_WEBHOOKS_READ, 0, NULL, NULL, v1_webhooks_get, "getWebhook"},
	{"PATCH", "/api/v1/webhooks/{id}", {"whk_"}, SCOPE_WEBHOOKS_WRITE,
	 ROUTE_BODY | ROUTE_MERGE_PATCH | ROUTE_AUDITED, NULL, NULL, v1_webhooks_update, "updateWebhook"},
	{"DELETE", "/api/v1/webhooks/{id}", {"whk_"}, SCOPE_WEBHOOKS_WRITE, ROUTE_AUDITED, NULL, NULL,
	 v1_webhooks_delete, "deleteWebhook"},
	{"POST", "/api/v1/webhooks/{id}/rotate-secret", {"whk_"}, SCOPE_WEBHOOKS_WRITE,
	 ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL, NULL, v1_webhooks_rotate_secret, "rotateWebhookSecret"},
	{"GET", "/api/v1/webhooks/{id}/deliveries", {"whk_"}, SCOPE_WEBHOOKS_READ, ROUTE_LIST, NULL, "dlv_",
	 v1_webhooks_deliveries_list, "listWebhookDeliveries"},
	{"POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", {"whk_", "dlv_"}, SCOPE_WEBHOOKS_WRITE,
	 ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL, NULL, v1_webhooks_redeliver, "redeliverWebhookDelivery"},

	{"GET", "/api/v1/credentials", NOIDS, SCOPE_CREDENTIALS_READ, ROUTE_LIST, NULL, "cred_", v1_credentials_list,
	 "listCredentials"},
	{"POST", "/api/v1/credentials", NOIDS, SCOPE_CREDENTIALS_WRITE, ROUTE_BODY | ROUTE_AUDITED, NULL, NULL,
	 v1_credentials_create, "createCredential"},
	{"GET", "/api/v1/credentials/{id}", {"cred_"}, SCOPE_CREDENTIALS_READ, 0, NULL, NULL, v1_credentials_get,
	 "getCredential"},
	{"POST", "/api/v1/credentials/{id}/revoke", {"cred_"}, SCOPE_CREDENTIALS_WRITE,
	 ROUTE_BODY_OPTIONAL | ROUTE_AUDITED, NULL, NULL, v1_credentials_revoke, "revokeCredential"},

	{"GET", "/api/v1/mcp-servers", NOIDS, SCOPE_MCP_READ, ROUTE_LIST, NULL, "mcp_", v1_mcp_servers_list,
	 "listMcpServers"},
	{"POST", "/api/v1/mcp-servers", NOIDS, SCOPE_MCP_WRITE, ROUTE_BODY | ROUTE_AUDITED, NULL, NULL,
	 v1_mcp_servers_create, "createMcpServer"},
	{"GET", "/api/v1/mcp-servers/{id}", {"mcp_"}, SCOPE_MCP_READ, 0, NULL, NULL, v1_mcp_servers_get,
	 "getMcpServer"},
	{"PATCH", "/api/v1/mcp-servers/{id}", {"mcp_"}, SCOPE_MCP_WRITE, ROUTE_BODY | ROUTE_MERGE_PATCH | ROUTE_AUDITED,
	 NULL, NULL, v1_mcp_servers_update, "updateMcpServer"},
	{"DELETE", "/api/v1/mcp-servers/{id}", {"mcp_"}, SCOPE_MCP_WRITE, ROUTE_AUDITED, NULL, NULL,
	 v1_mcp_servers_delete, "deleteMcpServer"},
	{"POST", "/api/v1/mcp-servers/{id}/refresh", {"mcp_"}, SCOPE_MCP_WRITE, ROUTE_BODY_OPTIONAL | ROUTE_AUDITED,
	 NULL, NULL, v1_mcp_servers_refresh, "refreshMcpServer"},

	{"POST", "/hooks/{token}", {NULL}, SCOPE_NONE, ROUTE_PUBLIC | ROUTE_HOOK_BODY, NULL, NULL, hooks_receive,
	 "receiveInboundWebhook"},

	/* MCP tool calls are audited one by one (mcp_tool.called); the other JSON-RPC methods only read. */
	{"POST", "/mcp", NOIDS, SCOPE_MCP_TOOLS, ROUTE_MCP | ROUTE_AUDITED, NULL, NULL, mcp_handle, "callMcp"},
};
const int ROUTES_COUNT = (int)(sizeof ROUTES / sizeof ROUTES[0]);

#define MAX_PATH 1024
#define MAX_SEGMENT 128

/* Compares PATH to PATTERN segment by segment; {name} segments capture (non-empty, bounded). */
static int path_matches(arena *a, const char *pattern, const char *path, const char **params, int *nparams)
{
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		const char *pend = strchr(p, '/'), *send = strchr(s, '/');
		size_t plen = pend ? (size_t)(pend - p) : strlen(p);
		size_t slen = send ? (size_t)(send - s) : strlen(s);
		if (slen == 0 || slen > MAX_SEGMENT)
			return 0;
		if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (np == REQ_MAX_PATH_PARAMS)
				return 0;
			if (params)
				params[np] = arena_strndup(a, s, slen);
			np++;
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return 0;
		}
		p += plen;
		s += slen;
	}
	if (*p || *s)
		return 0;
	if (nparams)
		*nparams = np;
	return 1;
}

enum route_match routes_match(arena *a, const char *method, const char *path, const route **out,
			      const char **params, int *nparams, char *allow, size_t allowlen)
{
	size_t used = 0;
	int path_seen = 0;
	if (allowlen)
		allow[0] = '\0';
	if (!path || path[0] != '/' || strlen(path) > MAX_PATH)
		return ROUTE_NO_PATH;
	for (int i = 0; i < ROUTES_COUNT; i++) {
		if (!path_matches(a, ROUTES[i].path, path, NULL, NULL))
			continue;
		if (strcmp(ROUTES[i].method, method) == 0) {
			path_matches(a, ROUTES[i].path, path, params, nparams);
			*out = &ROUTES[i];
			return ROUTE_FOUND;
		}
		path_seen = 1;
		if (!strstr(allow, ROUTES[i].method)) {
			int n = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", ROUTES[i].method);
			if (n > 0 && (size_t)n < allowlen - used)
				used += (size_t)n;
		}
	}
	return path_seen ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}
