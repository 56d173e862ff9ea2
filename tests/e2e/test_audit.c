/* test_audit: GET /api/v1/audit-logs — every audited write is found there, filters, pagination, time
 * bounds, isolation between accounts, scope and query errors. */
#include "e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct tenant A, B, NOSCOPE;
static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static int init(void)
{
	if (e2e_tenant(&A, "audit-a", "mcp:tools agents:read agents:write audit_logs:read notifications:write webhooks:write credentials:write mcp:write", GENEROUS) != 0 ||
	    e2e_tenant(&B, "audit-b", "all", GENEROUS) != 0 ||
	    e2e_tenant(&NOSCOPE, "audit-noscope", "agents:read agents:write", GENEROUS) != 0)
		return -1;
	return 0;
}

/* One entry: exactly the documented members, each of its type. */
static int check_entry(const json_t *e, const char *file, int line)
{
	const json_t *ch = jget(e, "changes");
	int ok = json_is_object(e) && json_object_size(e) == 9 && e2e_is_id(jstr(e, "id"), "aud_") && jstr(e, "action") &&
		 jstr(e, "actor") && jstr(e, "target_type") && jstr(e, "target_id") && jget(e, "ip") &&
		 jget(e, "request_id") && ch && (json_is_object(ch) || json_is_null(ch)) &&
		 e2e_is_timestamp(jstr(e, "created_at"));
	char *dump = e ? json_dumps(e, JSON_COMPACT) : NULL;
	e2e_check(ok, file, line, "audit entry: %.400s", dump ? dump : "(null)");
	free(dump);
	return ok;
}

/* The entries of GET /api/v1/audit-logs?QUERY as KEY, all pages of LIMIT (caller decrefs; NULL on error). */
static json_t *list_all(const char *key, const char *query, int limit)
{
	struct resp r = {0};
	json_t *all = json_array();
	char cursor[128] = "";
	for (int page = 0; page < 100; page++) {
		if (cursor[0])
			http_get(&r, key, "/api/v1/audit-logs?%s&limit=%d&cursor=%s", query, limit, cursor);
		else
			http_get(&r, key, "/api/v1/audit-logs?%s&limit=%d", query, limit);
		if (!CHECK_STATUS(r, 200)) {
			json_decref(all);
			resp_free(&r);
			return NULL;
		}
		size_t i;
		json_t *e;
		CHECK(json_array_size(jget(r.json, "data")) <= (size_t)limit);
		json_array_foreach(jget(r.json, "data"), i, e)
		{
			check_entry(e, __FILE__, __LINE__);
			json_array_append(all, e);
		}
		if (!json_is_true(jget(r.json, "has_more"))) {
			CHECK(json_is_null(jget(r.json, "next_cursor")));
			break;
		}
		CHECK(json_array_size(jget(r.json, "data")) == (size_t)limit);
		snprintf(cursor, sizeof cursor, "%s", jstr(r.json, "next_cursor") ? jstr(r.json, "next_cursor") : "");
	}
	resp_free(&r);
	/* Newest first, no repeats. */
	for (size_t i = 1; i < json_array_size(all); i++)
		CHECK(strcmp(jstr(json_array_get(all, i - 1), "id"), jstr(json_array_get(all, i), "id")) > 0);
	return all;
}

/* Creates an agent as T; its id into ID (64 bytes). */
static int make_agent(const struct tenant *t, const char *name, char *id)
{
	struct resp r = {0};
	char body[256];
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"type\":\"echo\"}", name);
	http_call(&r, "POST", t->key, body, "/api/v1/agents");
	int ok = CHECK_STATUS(r, 201) && jstr(r.json, "data.id");
	snprintf(id, 64, "%s", ok ? jstr(r.json, "data.id") : "");
	resp_free(&r);
	return ok ? 0 : -1;
}

/* What a case's {id} names and its entry targets: the fresh agent, a notification of the account (made by
 * SQL: notifications come from the scheduler), the account itself, or the fresh webhook endpoint (whose
 * {delivery_id} is a delivery made by SQL: deliveries come from the scheduler). */
enum target { T_AGENT, T_NOTIFICATION, T_ACCOUNT, T_WEBHOOK, T_CREDENTIAL, T_MCP_SERVER, T_KEY, T_APPROVAL, T_APPROVAL_REJECT };

/* Every audited operation of the spec (x-audited), with how to perform it on a fresh agent (or notification)
 * and the action it records. The spec is read from the stack, so a new audited route without a case here
 * fails. */
static const struct {
	const char *operation, *method, *path, *body, *action;
	long status;
	enum target target;
} CASES[] = {
	{"createAgent", "POST", "/api/v1/agents", "{\"name\":\"audit create\",\"type\":\"echo\"}", "agent.created", 201, T_AGENT},
	{"updateAgent", "PATCH", "/api/v1/agents/{id}", "{\"name\":\"audit renamed\"}", "agent.updated", 200, T_AGENT},
	{"pauseAgent", "POST", "/api/v1/agents/{id}/pause", NULL, "agent.paused", 200, T_AGENT},
	{"resumeAgent", "POST", "/api/v1/agents/{id}/resume", NULL, "agent.resumed", 200, T_AGENT},
	{"rotateAgentInboundWebhook", "POST", "/api/v1/agents/{id}/inbound-webhook/rotate", NULL,
	 "agent.inbound_webhook_rotated", 200, T_AGENT},
	{"deleteAgent", "DELETE", "/api/v1/agents/{id}", NULL, "agent.deleted", 204, T_AGENT},
	{"markNotificationRead", "POST", "/api/v1/notifications/{id}/read", NULL, "notification.read", 200,
	 T_NOTIFICATION},
	{"markAllNotificationsRead", "POST", "/api/v1/notifications/read-all", NULL, "notification.all_read", 200,
	 T_ACCOUNT},
	{"createWebhook", "POST", "/api/v1/webhooks", "{\"url\":\"http://127.0.0.1:9/audit\",\"events\":[\"run.failed\"]}",
	 "webhook.created", 201, T_WEBHOOK},
	{"updateWebhook", "PATCH", "/api/v1/webhooks/{id}", "{\"description\":\"audit\"}", "webhook.updated", 200,
	 T_WEBHOOK},
	{"rotateWebhookSecret", "POST", "/api/v1/webhooks/{id}/rotate-secret", NULL, "webhook.secret_rotated", 200,
	 T_WEBHOOK},
	{"redeliverWebhookDelivery", "POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", NULL,
	 "webhook.delivery_redelivered", 200, T_WEBHOOK},
	{"deleteWebhook", "DELETE", "/api/v1/webhooks/{id}", NULL, "webhook.deleted", 204, T_WEBHOOK},
	{"createCredential", "POST", "/api/v1/credentials",
	 "{\"name\":\"audit\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"audit-token-0123456789\"}}",
	 "credential.created", 201, T_CREDENTIAL},
	{"revokeCredential", "POST", "/api/v1/credentials/{id}/revoke", NULL, "credential.revoked", 200, T_CREDENTIAL},
	{"approveApproval", "POST", "/api/v1/approvals/{id}/approve", "{\"comment\":\"fine\"}", "approval.approved", 200,
	 T_APPROVAL},
	{"createMcpServer", "POST", "/api/v1/mcp-servers", "{\"name\":\"audit\",\"url\":\"http://127.0.0.1:9/audit\"}",
	 "mcp_server.created", 201, T_MCP_SERVER},
	{"updateMcpServer", "PATCH", "/api/v1/mcp-servers/{id}", "{\"name\":\"audit 2\"}", "mcp_server.updated", 200,
	 T_MCP_SERVER},
	{"refreshMcpServer", "POST", "/api/v1/mcp-servers/{id}/refresh", NULL, "mcp_server.refreshed", 202, T_MCP_SERVER},
	{"deleteMcpServer", "DELETE", "/api/v1/mcp-servers/{id}", NULL, "mcp_server.deleted", 204, T_MCP_SERVER},
	{"rejectApproval", "POST", "/api/v1/approvals/{id}/reject", NULL, "approval.rejected", 200, T_APPROVAL_REJECT},
	{"callMcp", "POST", "/mcp",
	 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"list_agents\"}}",
	 "mcp_tool.called", 200, T_KEY},
};
#define NAGENT_CASES 6
#define NCASES (sizeof CASES / sizeof CASES[0])

static void test_every_audited_route(void)
{
	struct resp r = {0};
	/* Each x-audited operation of the served spec has its case. */
	http_get(&r, NULL, "/api/v1/openapi.json");
	CHECK_STATUS(r, 200);
	const char *path;
	json_t *item;
	int audited = 0;
	json_object_foreach(jget(r.json, "paths"), path, item)
	{
		const char *m;
		json_t *op;
		json_object_foreach(item, m, op)
		{
			if (!json_is_true(json_object_get(op, "x-audited")))
				continue;
			audited++;
			const char *opid = json_string_value(json_object_get(op, "operationId"));
			int found = 0;
			for (size_t i = 0; i < NCASES; i++)
				found |= opid && strcmp(CASES[i].operation, opid) == 0;
			e2e_check(found, __FILE__, __LINE__, "audited operation %s has no case in test_audit.c",
				  opid ? opid : "?");
		}
	}
	CHECK(audited == (int)NCASES);

	/* Two unread notifications of A: one for markNotificationRead, one left for markAllNotificationsRead. */
	char notification[64], spare[64], dedupe[2][100];
	long long salt = (long long)time(NULL);
	snprintf(notification, sizeof notification, "ntf_000000001%016lld", salt);
	snprintf(spare, sizeof spare, "ntf_000000002%016lld", salt);
	const char *made[] = {notification, spare};
	for (int k = 0; k < 2; k++) {
		snprintf(dedupe[k], sizeof dedupe[k], "test:%s", made[k]);
		const char *params[] = {made[k], A.account, dedupe[k], NULL};
		CHECK(e2e_sql(NULL,
			      "INSERT INTO notifications (id, account_id, type, title, body, dedupe_key, created_at) "
			      "VALUES (?, ?, 'run.failed', 'Audit', 'For the audit suite', ?, UTC_TIMESTAMP(3))",
			      params) == 1);
	}

	char agent[64] = "", webhook[64] = "", credential[64] = "", mcp_server[64] = "", event[64], delivery[64];
	/* Two pending agentless approvals of A (approvals come from runs and the MCP endpoint): one to approve,
	 * one to reject. */
	char approval[2][64];
	for (int k = 0; k < 2; k++) {
		snprintf(approval[k], sizeof approval[k], "apr_00000000%d%016lld", 4 + k, salt);
		const char *params[] = {approval[k], A.account, NULL};
		CHECK(e2e_sql(NULL,
			      "INSERT INTO approvals (id, account_id, source, action, summary, arguments, expires_at, "
			      "created_at) VALUES (?, ?, 'mcp', 'audit_test', 'For the audit suite', '{}', "
			      "UTC_TIMESTAMP(3) + INTERVAL 1 HOUR, UTC_TIMESTAMP(3))",
			      params) == 1);
	}
	snprintf(event, sizeof event, "evt_000000003%016lld", salt);
	snprintf(delivery, sizeof delivery, "dlv_000000003%016lld", salt);
	for (size_t i = 0; i < NCASES; i++) {
		char p[256];
		const char *hole = strstr(CASES[i].path, "{id}");
		const char *target = CASES[i].target == T_NOTIFICATION ? notification
				     : CASES[i].target == T_ACCOUNT ? A.account
				     : CASES[i].target == T_WEBHOOK ? webhook
				     : CASES[i].target == T_CREDENTIAL ? credential
				     : CASES[i].target == T_MCP_SERVER ? mcp_server
				     : CASES[i].target == T_KEY ? A.key_id
				     : CASES[i].target == T_APPROVAL ? approval[0]
				     : CASES[i].target == T_APPROVAL_REJECT ? approval[1]
								     : agent;
		if (hole)
			snprintf(p, sizeof p, "%.*s%s%s", (int)(hole - CASES[i].path), CASES[i].path, target, hole + 4);
		else
			snprintf(p, sizeof p, "%s", CASES[i].path);
		const char *dhole = strstr(p, "{delivery_id}");
		if (dhole) {
			/* A failed delivery of the endpoint to redeliver. */
			const char *ev[] = {event, A.account, NULL};
			CHECK(e2e_sql(NULL,
				      "INSERT INTO webhook_events (id, account_id, type, payload, created_at, dispatched_at) "
				      "VALUES (?, ?, 'run.failed', '{}', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
				      ev) == 1);
			const char *dv[] = {delivery, A.account, webhook, event, NULL};
			CHECK(e2e_sql(NULL,
				      "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_id, status, attempts, "
				      "last_error, created_at, updated_at) VALUES (?, ?, ?, ?, 'failed', 4, 'audit', "
				      "UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
				      dv) == 1);
			char tail[200];
			snprintf(tail, sizeof tail, "%s", dhole + strlen("{delivery_id}"));
			snprintf(p + (dhole - p), sizeof p - (size_t)(dhole - p), "%s%s", delivery, tail);
		}
		struct req q = {.method = CASES[i].method, .path = p, .key = A.key, .body = CASES[i].body};
		http_send(&q, &r);
		if (!e2e_check(r.status == CASES[i].status, __FILE__, __LINE__, "%s: status %ld", CASES[i].operation,
			       r.status))
			continue;
		if (i == 0)
			snprintf(agent, sizeof agent, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
		if (strcmp(CASES[i].operation, "createWebhook") == 0)
			snprintf(webhook, sizeof webhook, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
		if (strcmp(CASES[i].operation, "createMcpServer") == 0)
			snprintf(mcp_server, sizeof mcp_server, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
		if (strcmp(CASES[i].operation, "createCredential") == 0)
			snprintf(credential, sizeof credential, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
		char rid[80];
		snprintf(rid, sizeof rid, "%s", resp_header(&r, "X-Request-Id") ? resp_header(&r, "X-Request-Id") : "");
		char query[256];
		snprintf(query, sizeof query, "target_id=%s&action=%s", target, CASES[i].action);
		json_t *all = list_all(A.key, query, 100);
		e2e_check(json_array_size(all) == 1, __FILE__, __LINE__, "%s: %zu entries for %s", CASES[i].operation,
			  json_array_size(all), query);
		json_t *e = json_array_get(all, 0);
		if (e) {
			CHECK_STR(jstr(e, "action"), CASES[i].action);
			CHECK_STR(jstr(e, "actor"), A.key_id);
			CHECK_STR(jstr(e, "target_type"), CASES[i].target == T_NOTIFICATION ? "notification"
							  : CASES[i].target == T_ACCOUNT  ? "account"
							  : CASES[i].target == T_WEBHOOK  ? "webhook"
							  : CASES[i].target == T_CREDENTIAL ? "credential"
							  : CASES[i].target == T_MCP_SERVER ? "mcp_server"
							  : CASES[i].target == T_KEY ? "api_key"
							  : CASES[i].target >= T_APPROVAL ? "approval"
											  : "agent");
			CHECK_STR(jstr(e, "target_id"), target);
			CHECK_STR(jstr(e, "ip"), "127.0.0.1");
			CHECK_STR(jstr(e, "request_id"), rid);
		}
		json_decref(all);
	}
	/* All six of the agent, newest first, for that one agent. */
	char query[128];
	snprintf(query, sizeof query, "target_id=%s", agent);
	json_t *all = list_all(A.key, query, 2);
	CHECK(json_array_size(all) == NAGENT_CASES);
	if (json_array_size(all) == NAGENT_CASES) {
		CHECK_STR(jstr(json_array_get(all, 0), "action"), "agent.deleted");
		CHECK_STR(jstr(json_array_get(all, NAGENT_CASES - 1), "action"), "agent.created");
	}
	json_decref(all);
	resp_free(&r);
}

/* Filters combine; pagination crosses pages without loss; other accounts never see these entries. */
static void test_filters_pagination_isolation(void)
{
	struct tenant t;
	struct resp r = {0};
	if (e2e_tenant(&t, "audit-pages", "agents:read agents:write audit_logs:read", GENEROUS) != 0) {
		CU_FAIL("tenant");
		return;
	}
	char key2[64], key2_id[64], ids[7][64];
	CHECK(e2e_key(&t, "agents:write", GENEROUS, key2, key2_id) == 0);
	for (int i = 0; i < 7; i++)
		CHECK(make_agent(&t, "paged", ids[i]) == 0);
	http_call(&r, "POST", key2, NULL, "/api/v1/agents/%s/pause", ids[0]);
	CHECK_STATUS(r, 200);

	json_t *all = list_all(t.key, "target_type=agent", 3); /* 8 entries over 3 pages */
	CHECK(json_array_size(all) == 8);
	json_decref(all);
	all = list_all(t.key, "action=agent.created", 2);
	CHECK(json_array_size(all) == 7);
	if (json_array_size(all) == 7) {
		CHECK_STR(jstr(json_array_get(all, 0), "target_id"), ids[6]);
		CHECK_STR(jstr(json_array_get(all, 6), "target_id"), ids[0]);
	}
	json_decref(all);
	char q[256];
	snprintf(q, sizeof q, "actor=%s", key2_id);
	all = list_all(t.key, q, 1);
	CHECK(json_array_size(all) == 1);
	CHECK_STR(jstr(json_array_get(all, 0), "action"), "agent.paused");
	json_decref(all);
	snprintf(q, sizeof q, "actor=%s&action=agent.created", key2_id);
	all = list_all(t.key, q, 5);
	CHECK(json_array_size(all) == 0);
	json_decref(all);
	snprintf(q, sizeof q, "actor=%s&action=agent.created&target_type=agent&target_id=%s", t.key_id, ids[3]);
	all = list_all(t.key, q, 5);
	CHECK(json_array_size(all) == 1);
	json_decref(all);
	/* The admin CLI made both keys: its entries have actor cli and no ip or request id. */
	all = list_all(t.key, "target_type=api_key&actor=cli", 1);
	CHECK(json_array_size(all) == 2);
	for (size_t i = 0; i < json_array_size(all); i++) {
		CHECK(json_is_null(jget(json_array_get(all, i), "ip")));
		CHECK(json_is_null(jget(json_array_get(all, i), "request_id")));
	}
	if (json_array_size(all) == 2)
		CHECK_STR(jstr(json_array_get(all, 0), "target_id"), key2_id);
	json_decref(all);

	/* Another account sees none of them, with or without filters, and its cursor cannot reach them. */
	all = list_all(B.key, "action=agent.created", 100);
	for (size_t i = 0; i < json_array_size(all); i++)
		for (int k = 0; k < 7; k++)
			CHECK(strcmp(jstr(json_array_get(all, i), "target_id"), ids[k]) != 0);
	json_decref(all);
	snprintf(q, sizeof q, "target_id=%s", ids[0]);
	all = list_all(B.key, q, 100);
	CHECK(json_array_size(all) == 0);
	json_decref(all);
	http_get(&r, t.key, "/api/v1/audit-logs?limit=1");
	if (CHECK_STATUS(r, 200) && jstr(r.json, "next_cursor")) {
		char cur[128];
		snprintf(cur, sizeof cur, "%s", jstr(r.json, "next_cursor"));
		http_get(&r, B.key, "/api/v1/audit-logs?cursor=%s&action=agent.created", cur);
		CHECK_STATUS(r, 200);
		size_t i;
		json_t *e;
		json_array_foreach(jget(r.json, "data"), i, e)
			for (int k = 0; k < 7; k++)
				CHECK(strcmp(jstr(e, "target_id"), ids[k]) != 0);
	}
	resp_free(&r);
}

/* since (inclusive) and until (exclusive), in any offset, as bounds on created_at. */
static void test_since_until(void)
{
	struct tenant t;
	struct resp r = {0};
	if (e2e_tenant(&t, "audit-time", "agents:read agents:write audit_logs:read", GENEROUS) != 0) {
		CU_FAIL("tenant");
		return;
	}
	char id[64];
	CHECK(make_agent(&t, "timed", id) == 0);
	http_get(&r, t.key, "/api/v1/audit-logs?target_type=agent");
	CHECK_STATUS(r, 200);
	const char *created = jstr(json_array_get(jget(r.json, "data"), 0), "created_at");
	if (!CHECK(created != NULL)) {
		resp_free(&r);
		return;
	}
	char at[40];
	snprintf(at, sizeof at, "%s", created);
	/* since = its own instant keeps it; until = its own instant excludes it. */
	http_get(&r, t.key, "/api/v1/audit-logs?target_type=agent&since=%s", at);
	CHECK(json_array_size(jget(r.json, "data")) == 1);
	http_get(&r, t.key, "/api/v1/audit-logs?target_type=agent&until=%s", at);
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	http_get(&r, t.key, "/api/v1/audit-logs?target_type=agent&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00.5%%2B01:00");
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(jget(r.json, "data")) == 1);
	http_get(&r, t.key, "/api/v1/audit-logs?target_type=agent&since=2999-01-01T00:00:00Z");
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	http_get(&r, t.key, "/api/v1/audit-logs?target_type=agent&until=2000-01-01T00:00:00-05:00");
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	resp_free(&r);
}

static void test_errors(void)
{
	struct resp r = {0};
	http_get(&r, NOSCOPE.key, "/api/v1/audit-logs");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_HEADER(r, "WWW-Authenticate",
		     "Bearer realm=\"agentplatform\", error=\"insufficient_scope\", scope=\"audit_logs:read\"");
	http_get(&r, NULL, "/api/v1/audit-logs");
	CHECK_STATUS(r, 401);
	static const struct {
		const char *query, *param, *code;
	} BAD[] = {
		{"since=yesterday", "since", "parameter_invalid"},
		{"since=2024-02-30T00:00:00Z", "since", "parameter_invalid"},
		{"since=2024-01-01T00:00:00", "since", "parameter_invalid"},
		{"since=2024-01-01", "since", "parameter_invalid"},
		{"since=1700000000", "since", "parameter_invalid"},
		{"until=2024-01-01T25:00:00Z", "until", "parameter_invalid"},
		{"until=", "until", "parameter_invalid"},
		{"limit=0", "limit", "parameter_invalid"},
		{"limit=101", "limit", "parameter_invalid"},
		{"limit=ten", "limit", "parameter_invalid"},
		{"cursor=garbage", "cursor", "cursor_invalid"},
		{"actor=someone", "actor", "parameter_invalid"},
		{"target_id=nope", "target_id", "parameter_invalid"},
		{"action=Agent%20Created", "action", "parameter_invalid"},
		{"target_type=AGENT", "target_type", "parameter_invalid"},
		{"status=queued", "status", "parameter_unknown"},
		{"since=2024-01-01T00:00:00Z&since=2024-01-02T00:00:00Z", "since", "parameter_invalid"},
	};
	for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		http_get(&r, A.key, "/api/v1/audit-logs?%s", BAD[i].query);
		if (!CHECK_ERROR(r, 400, BAD[i].code, BAD[i].param))
			fprintf(stderr, "\n  query %s\n", BAD[i].query);
	}
	/* A cursor of another list (agents) is not an audit cursor. */
	http_get(&r, A.key, "/api/v1/agents?limit=1");
	if (r.status == 200 && jstr(r.json, "next_cursor")) {
		char cur[128];
		snprintf(cur, sizeof cur, "%s", jstr(r.json, "next_cursor"));
		http_get(&r, A.key, "/api/v1/audit-logs?cursor=%s", cur);
		CHECK_ERROR(r, 400, "cursor_invalid", "cursor");
	}
	resp_free(&r);
}

int suite_audit_register(void)
{
	CU_pSuite s = CU_add_suite("audit", init, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "every audited write is listed with actor, ip and request id", test_every_audited_route) ||
	    !CU_add_test(s, "filters, pagination, isolation", test_filters_pagination_isolation) ||
	    !CU_add_test(s, "since and until", test_since_until) ||
	    !CU_add_test(s, "403 without the scope, 400 for bad queries", test_errors))
		return -1;
	return 0;
}
