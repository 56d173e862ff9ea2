/* handlers: every handler the route table names, one file per resource. */
#ifndef AP_HANDLERS_H
#define AP_HANDLERS_H

#include "request.h"

/* health.c */
int health_live(request *r);
int health_ready(request *r);

/* openapi.c */
int openapi_get(request *r);

/* v1_agents.c */
int v1_agents_list(request *r);
int v1_agents_create(request *r);
int v1_agents_get(request *r);
int v1_agents_update(request *r);
int v1_agents_delete(request *r);
int v1_agents_pause(request *r);
int v1_agents_resume(request *r);
int v1_agents_rotate_hook(request *r);
struct agent_row;
/* Agent G as GET /api/v1/agents/{id} shows it, as a new JSON object (the MCP tools list_agents and get_agent). */
json_t *v1_agents_json(request *r, const struct agent_row *g);

/* v1_audit_logs.c */
int v1_audit_logs_list(request *r);

/* v1_signals.c */
int v1_signals_create(request *r);

/* v1_runs.c */
int v1_runs_list(request *r);
int v1_runs_get(request *r);
int v1_messages_list_agent(request *r);
int v1_messages_list_run(request *r);

/* v1_approvals.c */
int v1_approvals_list(request *r);
int v1_approvals_get(request *r);
int v1_approvals_approve(request *r);
int v1_approvals_reject(request *r);

/* v1_connections.c */
int v1_connections_list(request *r);

/* v1_notifications.c */
int v1_notifications_list(request *r);
int v1_notifications_get(request *r);
int v1_notifications_read(request *r);
int v1_notifications_read_all(request *r);

/* v1_usage.c */
int v1_usage_get(request *r);

/* v1_webhooks.c */
int v1_webhooks_list(request *r);
int v1_webhooks_create(request *r);
int v1_webhooks_get(request *r);
int v1_webhooks_update(request *r);
int v1_webhooks_delete(request *r);
int v1_webhooks_rotate_secret(request *r);
int v1_webhooks_deliveries_list(request *r);
int v1_webhooks_redeliver(request *r);

/* v1_mcp_servers.c */
int v1_mcp_servers_list(request *r);
int v1_mcp_servers_create(request *r);
int v1_mcp_servers_get(request *r);
int v1_mcp_servers_update(request *r);
int v1_mcp_servers_delete(request *r);
int v1_mcp_servers_refresh(request *r);

/* v1_credentials.c */
int v1_credentials_list(request *r);
int v1_credentials_create(request *r);
int v1_credentials_get(request *r);
int v1_credentials_revoke(request *r);

/* mcp.c */
int mcp_handle(request *r);

/* hooks.c */
int hooks_receive(request *r);

#endif
