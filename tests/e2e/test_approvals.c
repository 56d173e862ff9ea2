/* test_approvals: a person in the loop — agents with require_approval stop at waiting_approval with an
 * approval, its notification and approval.requested; approve resumes the run (the action happens once),
 * reject ends it rejected, expiry ends it expired; concurrent decisions, isolation, scopes, agentless
 * (MCP) approvals performed once. The gated action is an http_request to this suite's fake server, so
 * "the action happened" is a request the server counted. */
#include "../fakes/fake_server.h"
#include "e2e.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bounded waits, in seconds: generous for a loaded 2-core machine under ASan; never a timing assertion. */
#define WAIT_SECS 60

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T, OTHER;
/* Keys of T's account: one that may only read agents, one without agents:read. */
static char reader_key[64], reader_id[64], noscope_key[64], noscope_id[64];
static int fake_port;
static int serial;
/* The tenant make_gated and wait_run act as (T unless a test needs an account of its own). */
static const struct tenant *U = &T;

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct tenant W;

static int init(void)
{
	if (e2e_tenant(&T, "approvals", "all", GENEROUS) != 0 || e2e_tenant(&W, "approvals-webhooks", "all", GENEROUS) != 0 ||
	    e2e_tenant(&OTHER, "approvals-other", "all", GENEROUS) != 0 ||
	    e2e_key(&T, "agents:read runs:read", GENEROUS, reader_key, reader_id) != 0 ||
	    e2e_key(&T, "runs:read notifications:read", GENEROUS, noscope_key, noscope_id) != 0)
		return -1;
	fake_port = fake_server_start();
	return fake_port < 0 ? -1 : 0;
}

static int cleanup(void)
{
	fake_server_stop();
	return 0;
}

/* A gated agent and its waiting run. */
struct gated {
	char agent[64], run[64], approval[64], mark[96]; /* mark: the query that tells this agent's requests apart */
};

/* Requests the fake server received for G's action so far. */
static int performed(const struct gated *g)
{
	char prefix[160];
	snprintf(prefix, sizeof prefix, "/status/200?%s", g->mark);
	return fake_server_seen(prefix, NULL, 0);
}

/* Polls GET /runs/RUN (as KEY T) until its status is WANT, up to WAIT_SECS; R holds the last answer. */
static int wait_run(const char *run, const char *want, struct resp *r)
{
	for (int i = 0; i < WAIT_SECS * 10; i++) {
		if (http_get(r, U->key, "/api/v1/runs/%s", run) == 200 && jstr(r->json, "data.status") &&
		    strcmp(jstr(r->json, "data.status"), want) == 0)
			return 1;
		nap(100);
	}
	return 0;
}

/* Creates an http_request agent with require_approval (EXTRA: more members, "" or ",\"...\":..") that GETs the
 * fake server, signals it, waits for its run to wait for approval and finds the approval. 1 when all held. */
static int make_gated(struct gated *g, const char *extra)
{
	struct resp r = {0};
	char body[600];
	memset(g, 0, sizeof *g);
	snprintf(g->mark, sizeof g->mark, "apr=%ld-%d", (long)time(NULL), ++serial);
	snprintf(body, sizeof body,
		 "{\"name\":\"gated %d\",\"type\":\"http_request\",\"require_approval\":true,"
		 "\"config\":{\"url\":\"http://127.0.0.1:%d/status/200?%s\"}%s}",
		 serial, fake_port, g->mark, extra);
	if (http_call(&r, "POST", U->key, body, "/api/v1/agents") == 201 && jstr(r.json, "data.id"))
		snprintf(g->agent, sizeof g->agent, "%s", jstr(r.json, "data.id"));
	CHECK(json_is_true(jget(r.json, "data.require_approval")));
	if (g->agent[0] && http_call(&r, "POST", U->key, "{\"type\":\"go\",\"payload\":{\"n\":1}}",
				     "/api/v1/agents/%s/signals", g->agent) == 202 && jstr(r.json, "data.run_id"))
		snprintf(g->run, sizeof g->run, "%s", jstr(r.json, "data.run_id"));
	int ok = CHECK(g->agent[0] && g->run[0]) && CHECK(wait_run(g->run, "waiting_approval", &r));
	if (ok && CHECK(http_get(&r, U->key, "/api/v1/approvals?agent_id=%s", g->agent) == 200) &&
	    CHECK(json_array_size(jget(r.json, "data")) == 1)) {
		json_t *a = json_array_get(jget(r.json, "data"), 0);
		snprintf(g->approval, sizeof g->approval, "%s", jstr(a, "id") ? jstr(a, "id") : "");
	}
	resp_free(&r);
	return ok && g->approval[0];
}

/* The approval object: exactly the documented members, each of its type. */
static int check_approval(const json_t *a, const char *file, int line)
{
	static const char *const members[] = {"id",     "agent_id",   "run_id",     "source",     "action",
					      "summary", "arguments", "status",     "expires_at", "created_at",
					      "decided_at", "decided_by", "comment", "action_result", NULL};
	int ok = json_is_object(a) && json_object_size(a) == 14;
	for (const char *const *m = members; ok && *m; m++)
		ok = jget(a, *m) != NULL;
	ok = ok && e2e_is_id(jstr(a, "id"), "apr_") && jstr(a, "source") && jstr(a, "action") && jstr(a, "summary") &&
	     json_is_object(jget(a, "arguments")) && jstr(a, "status") && e2e_is_timestamp(jstr(a, "expires_at")) &&
	     e2e_is_timestamp(jstr(a, "created_at"));
	char *dump = json_dumps(a, JSON_COMPACT);
	e2e_check(ok, file, line, "approval: %.500s", dump ? dump : "(null)");
	free(dump);
	return ok;
}
#define CHECK_APPROVAL(a) check_approval((a), __FILE__, __LINE__)

/* Webhook events of TYPE in T's outbox whose data is approval ID. */
static long events(const char *type, const char *id)
{
	const char *p[] = {T.account, type, id, NULL};
	return e2e_sql(NULL,
		       "SELECT id FROM webhook_events WHERE account_id = ? AND type = ? "
		       "AND JSON_VALUE(payload, '$.data.id') = ?",
		       p);
}

/* Notifications of TYPE for approval ID. */
static long notifications(const char *type, const char *id)
{
	char key[100];
	snprintf(key, sizeof key, "%s:%s", type, id);
	const char *p[] = {T.account, type, key, NULL};
	return e2e_sql(NULL, "SELECT id FROM notifications WHERE account_id = ? AND type = ? AND dedupe_key = ?", p);
}

static void test_waiting_then_approved(void)
{
	struct resp r = {0};
	struct gated g;
	if (!make_gated(&g, ""))
		return;
	/* The approval as listed and as fetched. */
	http_get(&r, T.key, "/api/v1/approvals/%s", g.approval);
	CHECK_STATUS(r, 200);
	json_t *a = jget(r.json, "data");
	CHECK_APPROVAL(a);
	CHECK_STR(jstr(a, "status"), "pending");
	CHECK_STR(jstr(a, "source"), "agent");
	CHECK_STR(jstr(a, "action"), "http_request");
	CHECK_STR(jstr(a, "agent_id"), g.agent);
	CHECK_STR(jstr(a, "run_id"), g.run);
	CHECK(jstr(a, "summary") && strncmp(jstr(a, "summary"), "Run gated ", 10) == 0);
	CHECK(json_integer_value(jget(a, "arguments.payload.n")) == 1);
	CHECK(json_is_null(jget(a, "decided_at")) && json_is_null(jget(a, "decided_by")) &&
	      json_is_null(jget(a, "action_result")));
	/* The default timeout: 24 hours. */
	const char *p0[] = {g.approval, NULL};
	CHECK(e2e_sql(NULL, "SELECT id FROM approvals WHERE id = ? AND expires_at = created_at + INTERVAL 86400 SECOND",
		      p0) == 1);
	/* Its notification and approval.requested event; nothing was done yet. */
	CHECK(notifications("approval.requested", g.approval) == 1);
	CHECK(events("approval.requested", g.approval) == 1);
	http_get(&r, T.key, "/api/v1/notifications?type=approval.requested");
	CHECK_STATUS(r, 200);
	int seen = 0;
	for (size_t i = 0; i < json_array_size(jget(r.json, "data")); i++)
		seen |= jstr(json_array_get(jget(r.json, "data"), i), "run_id") &&
			strcmp(jstr(json_array_get(jget(r.json, "data"), i), "run_id"), g.run) == 0;
	CHECK(seen);
	CHECK(performed(&g) == 0);
	/* Pending by default. */
	http_get(&r, T.key, "/api/v1/approvals?limit=100");
	CHECK_STATUS(r, 200);
	seen = 0;
	for (size_t i = 0; i < json_array_size(jget(r.json, "data")); i++)
		seen |= strcmp(jstr(json_array_get(jget(r.json, "data"), i), "id"), g.approval) == 0;
	CHECK(seen);

	/* Approve: the run resumes and performs its request once. */
	http_call(&r, "POST", T.key, "{\"comment\":\"go ahead\"}", "/api/v1/approvals/%s/approve", g.approval);
	CHECK_STATUS(r, 200);
	a = jget(r.json, "data");
	CHECK_APPROVAL(a);
	CHECK_STR(jstr(a, "status"), "approved");
	CHECK_STR(jstr(a, "comment"), "go ahead");
	CHECK_STR(jstr(a, "decided_by"), T.key_id);
	CHECK(e2e_is_timestamp(jstr(a, "decided_at")));
	CHECK(wait_run(g.run, "succeeded", &r));
	CHECK(json_integer_value(jget(r.json, "data.output.status")) == 200);
	CHECK(performed(&g) == 1);
	CHECK(events("approval.resolved", g.approval) == 1);

	/* Deciding again: 409 already_decided, either way; nothing more happens. */
	http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", g.approval);
	CHECK_ERROR(r, 409, "already_decided", NULL);
	http_call(&r, "POST", T.key, "{\"reason\":\"too late\"}", "/api/v1/approvals/%s/reject", g.approval);
	CHECK_ERROR(r, 409, "already_decided", NULL);
	http_get(&r, T.key, "/api/v1/approvals?status=approved&agent_id=%s", g.agent);
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(jget(r.json, "data")) == 1);
	http_get(&r, T.key, "/api/v1/approvals?agent_id=%s", g.agent);
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	nap(500);
	CHECK(performed(&g) == 1);

	/* Audited with the key. */
	const char *p1[] = {g.approval, T.key_id, NULL};
	CHECK(e2e_sql(NULL,
		      "SELECT id FROM audit_logs WHERE target_id = ? AND actor = ? AND action = 'approval.approved'",
		      p1) == 1);
	resp_free(&r);
}

static void test_rejected(void)
{
	struct resp r = {0};
	struct gated g;
	if (!make_gated(&g, ""))
		return;
	http_call(&r, "POST", T.key, "{\"reason\":\"not today\"}", "/api/v1/approvals/%s/reject", g.approval);
	CHECK_STATUS(r, 200);
	CHECK_APPROVAL(jget(r.json, "data"));
	CHECK_STR(jstr(r.json, "data.status"), "rejected");
	CHECK_STR(jstr(r.json, "data.comment"), "not today");
	CHECK(wait_run(g.run, "rejected", &r));
	CHECK(jstr(r.json, "data.error_message") && strstr(jstr(r.json, "data.error_message"), "not today"));
	CHECK(events("approval.resolved", g.approval) == 1);
	http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", g.approval);
	CHECK_ERROR(r, 409, "already_decided", NULL);
	nap(1500);
	CHECK(performed(&g) == 0);
	http_get(&r, T.key, "/api/v1/runs/%s", g.run);
	CHECK_STR(jstr(r.json, "data.status"), "rejected");
	const char *p[] = {g.approval, T.key_id, NULL};
	CHECK(e2e_sql(NULL,
		      "SELECT id FROM audit_logs WHERE target_id = ? AND actor = ? AND action = 'approval.rejected'",
		      p) == 1);
	resp_free(&r);
}

static void test_expired(void)
{
	struct resp r = {0};
	struct gated g;
	if (!make_gated(&g, ",\"approval_timeout_seconds\":3600"))
		return;
	const char *p[] = {g.approval, NULL};
	CHECK(e2e_sql(NULL, "SELECT id FROM approvals WHERE id = ? AND expires_at = created_at + INTERVAL 3600 SECOND",
		      p) == 1);
	/* Its time passes: a decision now is refused, whether or not the scheduler has marked it yet. */
	CHECK(e2e_sql(NULL, "UPDATE approvals SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE id = ?", p) == 1);
	http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", g.approval);
	CHECK_ERROR(r, 409, "approval_expired", NULL);
	/* The scheduler ends the run expired, with a notification and approval.resolved. */
	CHECK(wait_run(g.run, "expired", &r));
	http_get(&r, T.key, "/api/v1/approvals/%s", g.approval);
	CHECK_STR(jstr(r.json, "data.status"), "expired");
	CHECK(e2e_is_timestamp(jstr(r.json, "data.decided_at")));
	CHECK(json_is_null(jget(r.json, "data.decided_by")));
	CHECK(notifications("approval.expired", g.approval) == 1);
	CHECK(events("approval.resolved", g.approval) == 1);
	http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/reject", g.approval);
	CHECK_ERROR(r, 409, "approval_expired", NULL);
	CHECK(performed(&g) == 0);
	resp_free(&r);
}

static void test_concurrent_approvals(void)
{
	struct resp out[2] = {{0}, {0}}, r = {0};
	struct gated g;
	if (!make_gated(&g, ""))
		return;
	char path[160];
	snprintf(path, sizeof path, "/api/v1/approvals/%s/approve", g.approval);
	struct req q[2] = {{.method = "POST", .path = path, .key = T.key}, {.method = "POST", .path = path, .key = T.key}};
	CHECK(http_multi(q, 2, out) == 0);
	int ok = (out[0].status == 200) + (out[1].status == 200);
	int conflict = (out[0].status == 409) + (out[1].status == 409);
	e2e_check(ok == 1 && conflict == 1, __FILE__, __LINE__, "statuses %ld and %ld", out[0].status, out[1].status);
	for (int i = 0; i < 2; i++)
		if (out[i].status == 409)
			CHECK_STR(jstr(out[i].json, "error.code"), "already_decided");
	CHECK(wait_run(g.run, "succeeded", &r));
	nap(500);
	CHECK(performed(&g) == 1);
	const char *p[] = {g.approval, NULL};
	CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE target_id = ? AND action = 'approval.approved'", p) == 1);
	resp_free(&out[0]);
	resp_free(&out[1]);
	resp_free(&r);
}

static void test_idempotent_approve(void)
{
	struct resp r = {0};
	struct gated g;
	if (!make_gated(&g, ""))
		return;
	char path[160], idem[100];
	snprintf(path, sizeof path, "/api/v1/approvals/%s/approve", g.approval);
	snprintf(idem, sizeof idem, "Idempotency-Key: approve-%s", g.approval);
	const char *headers[] = {idem, NULL};
	struct req q = {.method = "POST", .path = path, .key = T.key, .headers = headers};
	http_send(&q, &r);
	CHECK_STATUS(r, 200);
	CHECK(resp_header(&r, "Idempotent-Replayed") == NULL);
	http_send(&q, &r);
	CHECK_STATUS(r, 200);
	CHECK_HEADER(r, "Idempotent-Replayed", "true");
	CHECK_STR(jstr(r.json, "data.status"), "approved");
	CHECK(wait_run(g.run, "succeeded", &r));
	nap(500);
	CHECK(performed(&g) == 1);
	resp_free(&r);
}

static void test_agent_deleted(void)
{
	struct resp r = {0};
	struct gated g;
	if (!make_gated(&g, ""))
		return;
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/agents/%s", g.agent);
	CHECK_STATUS(r, 204);
	http_get(&r, T.key, "/api/v1/approvals/%s", g.approval);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.status"), "cancelled");
	CHECK(events("approval.resolved", g.approval) == 1);
	http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", g.approval);
	CHECK_ERROR(r, 409, "already_decided", NULL);
	http_get(&r, T.key, "/api/v1/runs/%s", g.run);
	CHECK_STR(jstr(r.json, "data.status"), "cancelled");
	nap(500);
	CHECK(performed(&g) == 0);
	resp_free(&r);
}

/* An agentless approval (source mcp, as the MCP endpoint makes them) is performed by the scheduler once it is
 * approved: an action no performer is registered for fails, recorded on the approval. */
static void test_agentless(void)
{
	struct resp r = {0};
	char id[64];
	snprintf(id, sizeof id, "apr_000000007%016lld", (long long)time(NULL));
	const char *p[] = {id, T.account, T.key_id, NULL};
	CHECK(e2e_sql(NULL,
		      "INSERT INTO approvals (id, account_id, source, action, summary, arguments, requested_by, "
		      "expires_at, created_at) VALUES (?, ?, 'mcp', 'no_such_action', 'Do nothing', '{\"x\":1}', ?, "
		      "UTC_TIMESTAMP(3) + INTERVAL 1 HOUR, UTC_TIMESTAMP(3))",
		      p) == 1);
	http_get(&r, T.key, "/api/v1/approvals/%s", id);
	CHECK_STATUS(r, 200);
	CHECK_APPROVAL(jget(r.json, "data"));
	CHECK(json_is_null(jget(r.json, "data.agent_id")) && json_is_null(jget(r.json, "data.run_id")));
	CHECK_STR(jstr(r.json, "data.source"), "mcp");
	http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", id);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.action_result.status"), "pending");
	int done = 0;
	for (int i = 0; i < WAIT_SECS * 10 && !done; i++) {
		http_get(&r, T.key, "/api/v1/approvals/%s", id);
		const char *st = jstr(r.json, "data.action_result.status");
		done = st && strcmp(st, "failed") == 0;
		if (!done)
			nap(100);
	}
	CHECK(done);
	CHECK(jstr(r.json, "data.action_result.error") &&
	      strstr(jstr(r.json, "data.action_result.error"), "not supported"));
	CHECK(e2e_is_timestamp(jstr(r.json, "data.action_result.at")));
	CHECK(events("approval.resolved", id) == 1);
	resp_free(&r);
}

static void test_agent_fields(void)
{
	struct resp r = {0};
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"type\":\"echo\",\"require_approval\":\"yes\"}", "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_invalid", "require_approval");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"type\":\"echo\",\"approval_timeout_seconds\":59}", "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_invalid", "approval_timeout_seconds");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"type\":\"echo\",\"approval_timeout_seconds\":2592001}",
		  "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_invalid", "approval_timeout_seconds");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"type\":\"echo\",\"approval_timeout_seconds\":1.5}", "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_invalid", "approval_timeout_seconds");
	http_call(&r, "POST", T.key, "{\"name\":\"plain\",\"type\":\"echo\"}", "/api/v1/agents");
	CHECK_STATUS(r, 201);
	CHECK(json_is_false(jget(r.json, "data.require_approval")));
	CHECK(json_is_null(jget(r.json, "data.approval_timeout_seconds")));
	char agent[64];
	snprintf(agent, sizeof agent, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
	http_call(&r, "PATCH", T.key, "{\"require_approval\":true,\"approval_timeout_seconds\":600}", "/api/v1/agents/%s",
		  agent);
	CHECK_STATUS(r, 200);
	CHECK(json_is_true(jget(r.json, "data.require_approval")));
	CHECK(json_integer_value(jget(r.json, "data.approval_timeout_seconds")) == 600);
	/* An echo agent without approval runs straight through. */
	http_call(&r, "PATCH", T.key, "{\"require_approval\":null,\"approval_timeout_seconds\":null}",
		  "/api/v1/agents/%s", agent);
	CHECK_STATUS(r, 200);
	CHECK(json_is_false(jget(r.json, "data.require_approval")));
	CHECK(json_is_null(jget(r.json, "data.approval_timeout_seconds")));
	char run[64] = "";
	if (http_call(&r, "POST", T.key, "{\"type\":\"go\"}", "/api/v1/agents/%s/signals", agent) == 202 &&
	    jstr(r.json, "data.run_id"))
		snprintf(run, sizeof run, "%s", jstr(r.json, "data.run_id"));
	CHECK(run[0] && wait_run(run, "succeeded", &r));
	http_get(&r, T.key, "/api/v1/approvals?agent_id=%s&status=pending", agent);
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	resp_free(&r);
}

static void test_errors_isolation_scopes(void)
{
	struct resp r = {0};
	struct gated g;
	if (!make_gated(&g, ""))
		return;
	/* Unknown, malformed, another account's: 404. */
	http_get(&r, T.key, "/api/v1/approvals/apr_0000000000000000000000000");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, T.key, "/api/v1/approvals/nonsense");
	CHECK_STATUS(r, 404);
	http_get(&r, OTHER.key, "/api/v1/approvals/%s", g.approval);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", OTHER.key, NULL, "/api/v1/approvals/%s/approve", g.approval);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", OTHER.key, NULL, "/api/v1/approvals/%s/reject", g.approval);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, OTHER.key, "/api/v1/approvals?agent_id=%s", g.agent);
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	/* Scopes: reading needs agents:read, deciding agents:write. */
	http_get(&r, noscope_key, "/api/v1/approvals");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_get(&r, noscope_key, "/api/v1/approvals/%s", g.approval);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_get(&r, reader_key, "/api/v1/approvals/%s", g.approval);
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", reader_key, NULL, "/api/v1/approvals/%s/approve", g.approval);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_call(&r, "POST", reader_key, NULL, "/api/v1/approvals/%s/reject", g.approval);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_get(&r, NULL, "/api/v1/approvals");
	CHECK_STATUS(r, 401);
	/* Query and body errors. */
	http_get(&r, T.key, "/api/v1/approvals?status=bogus");
	CHECK_ERROR(r, 400, "parameter_invalid", "status");
	http_get(&r, T.key, "/api/v1/approvals?agent_id=bogus");
	CHECK_ERROR(r, 400, "parameter_invalid", "agent_id");
	http_get(&r, T.key, "/api/v1/approvals?color=red");
	CHECK_STATUS(r, 400);
	http_call(&r, "POST", T.key, "{\"reason\":\"x\"}", "/api/v1/approvals/%s/approve", g.approval);
	CHECK_ERROR(r, 422, "parameter_unknown", "reason");
	http_call(&r, "POST", T.key, "{\"comment\":\"x\"}", "/api/v1/approvals/%s/reject", g.approval);
	CHECK_ERROR(r, 422, "parameter_unknown", "comment");
	http_call(&r, "POST", T.key, "{\"comment\":5}", "/api/v1/approvals/%s/approve", g.approval);
	CHECK_ERROR(r, 422, "parameter_invalid", "comment");
	char big[1100];
	memset(big, 'a', 1001);
	big[1001] = '\0';
	char body[1200];
	snprintf(body, sizeof body, "{\"reason\":\"%s\"}", big);
	http_call(&r, "POST", T.key, body, "/api/v1/approvals/%s/reject", g.approval);
	CHECK_ERROR(r, 422, "parameter_invalid", "reason");
	/* Still pending after all that. */
	http_get(&r, T.key, "/api/v1/approvals/%s", g.approval);
	CHECK_STR(jstr(r.json, "data.status"), "pending");
	/* Pagination: two pending approvals of this account, one per page. */
	struct gated h;
	if (make_gated(&h, "")) {
		http_get(&r, T.key, "/api/v1/approvals?limit=1");
		CHECK_STATUS(r, 200);
		CHECK(json_array_size(jget(r.json, "data")) == 1);
		CHECK(json_is_true(jget(r.json, "has_more")));
		char first[64], cursor[200];
		snprintf(first, sizeof first, "%s", jstr(json_array_get(jget(r.json, "data"), 0), "id"));
		snprintf(cursor, sizeof cursor, "%s", jstr(r.json, "next_cursor") ? jstr(r.json, "next_cursor") : "");
		CHECK_STR(first, h.approval);
		http_get(&r, T.key, "/api/v1/approvals?limit=1&cursor=%s", cursor);
		CHECK_STATUS(r, 200);
		CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), g.approval);
		http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/reject", h.approval);
		CHECK_STATUS(r, 200);
	}
	http_call(&r, "POST", T.key, "{}", "/api/v1/approvals/%s/reject", g.approval);
	CHECK_STATUS(r, 200);
	CHECK(json_is_null(jget(r.json, "data.comment")));
	resp_free(&r);
}

/* approval.requested and approval.resolved reach a subscribed receiver (the fake server counts the POSTs). */
static void test_webhook_deliveries(void)
{
	struct resp r = {0};
	char mark[64], body[300];
	snprintf(mark, sizeof mark, "wh=%ld", (long)time(NULL));
	static const char *const types[] = {"approval.requested", "approval.resolved"};
	for (int i = 0; i < 2; i++) {
		snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:%d/echo?%s&t=%d\",\"events\":[\"%s\"]}", fake_port,
			 mark, i, types[i]);
		http_call(&r, "POST", W.key, body, "/api/v1/webhooks");
		CHECK_STATUS(r, 201);
	}
	U = &W;
	struct gated g;
	int made = make_gated(&g, "");
	if (made) {
		http_call(&r, "POST", W.key, NULL, "/api/v1/approvals/%s/approve", g.approval);
		CHECK_STATUS(r, 200);
		CHECK(wait_run(g.run, "succeeded", &r));
	}
	U = &T;
	if (!made)
		return;
	char requested[100], resolved[100];
	snprintf(requested, sizeof requested, "/echo?%s&t=0", mark);
	snprintf(resolved, sizeof resolved, "/echo?%s&t=1", mark);
	int got = 0;
	for (int i = 0; i < WAIT_SECS * 10 && !got; i++) {
		got = fake_server_seen(requested, NULL, 0) >= 1 && fake_server_seen(resolved, NULL, 0) >= 1;
		if (!got)
			nap(100);
	}
	CHECK(got);
	CHECK(fake_server_seen(requested, NULL, 0) == 1);
	CHECK(fake_server_seen(resolved, NULL, 0) == 1);
	const char *p[] = {W.account, g.approval, NULL};
	CHECK(e2e_sql(NULL,
		      "SELECT d.id FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
		      "WHERE d.account_id = ? AND d.status = 'succeeded' AND JSON_VALUE(e.payload, '$.data.id') = ?",
		      p) == 2);
	resp_free(&r);
}

int suite_approvals_register(void)
{
	CU_pSuite s = CU_add_suite("approvals", init, cleanup);
	if (!s)
		return -1;
	if (!CU_add_test(s, "require_approval: waiting_approval, approval, notification, event; approve runs it once",
			 test_waiting_then_approved) ||
	    !CU_add_test(s, "reject: the run ends rejected, nothing is done", test_rejected) ||
	    !CU_add_test(s, "expired: 409 approval_expired; the scheduler ends the run expired", test_expired) ||
	    !CU_add_test(s, "two concurrent approves: one 200, one 409, the action once", test_concurrent_approvals) ||
	    !CU_add_test(s, "Idempotency-Key on approve replays the decision", test_idempotent_approve) ||
	    !CU_add_test(s, "deleting the agent cancels its pending approval", test_agent_deleted) ||
	    !CU_add_test(s, "agentless approvals: performed once by the scheduler", test_agentless) ||
	    !CU_add_test(s, "agent fields require_approval and approval_timeout_seconds", test_agent_fields) ||
	    !CU_add_test(s, "errors, isolation, scopes, pagination", test_errors_isolation_scopes) ||
	    !CU_add_test(s, "approval.requested and approval.resolved delivered to a receiver", test_webhook_deliveries))
		return -1;
	return 0;
}
