/* test_mcp: the MCP endpoint /mcp through nginx: transport, auth, every protocol revision, batches, every tool. */
#include "e2e.h"
#include "../fakes/fake_server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct tenant A, B, NOSCOPE;
static char limited_key[64], limited_id[64];
static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};
static const char *stack_dir;
static char fake[64];

#define MODERN "2026-07-28"
#define ENVELOPE "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" MODERN "\"," \
		 "\"io.modelcontextprotocol/clientCapabilities\":{},"                    \
		 "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"e2e\",\"version\":\"1\"}}"

/* POST /mcp with KEY, BODY and the extra header lines (NULL-terminated varargs). */
static long mcp(struct resp *out, const char *key, const char *body, ...)
{
	const char *headers[12];
	int n = 0;
	va_list ap;
	va_start(ap, body);
	for (const char *h; n < 11 && (h = va_arg(ap, const char *)) != NULL;)
		headers[n++] = h;
	va_end(ap);
	headers[n] = NULL;
	struct req q = {.method = "POST", .path = "/mcp", .key = key, .body = body, .headers = headers};
	http_send(&q, out);
	return out->status;
}

/* A 2026-07-28 request: the envelope is added to PARAMS (an object's members without braces, may be ""). */
static long modern(struct resp *out, const char *id, const char *method, const char *params, const char *name)
{
	char body[4096], mh[128], nh[128];
	snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"%s\",\"params\":{%s%s" ENVELOPE "}}", id,
		 method, params, *params ? "," : "");
	snprintf(mh, sizeof mh, "Mcp-Method: %s", method);
	snprintf(nh, sizeof nh, "Mcp-Name: %s", name ? name : "");
	return mcp(out, A.key, body, "MCP-Protocol-Version: " MODERN, mh, name ? nh : NULL, NULL);
}

/* A reply holds exactly jsonrpc, id and one of result/error. */
static int exact_reply(const json_t *v, const char *file, int line)
{
	int ok = json_is_object(v) && json_object_size(v) == 3 && json_is_string(json_object_get(v, "jsonrpc")) &&
		 strcmp(json_string_value(json_object_get(v, "jsonrpc")), "2.0") == 0 && json_object_get(v, "id") &&
		 (json_object_get(v, "result") != NULL) != (json_object_get(v, "error") != NULL);
	char *dump = v ? json_dumps(v, JSON_COMPACT) : NULL;
	e2e_check(ok, file, line, "JSON-RPC reply: %.300s", dump ? dump : "(none)");
	free(dump);
	return ok;
}
#define EXACT(v) exact_reply((v), __FILE__, __LINE__)

/* The error code of reply R (0 when it has none). */
static long rpc_code(const struct resp *r)
{
	return (long)json_integer_value(jget(r->json, "error.code"));
}

/* tools/call NAME with ARGS (JSON text) on the headerless (2025-03-26) revision as KEY. */
static long call_tool(struct resp *out, const char *key, const char *name, const char *args)
{
	char body[4096];
	snprintf(body, sizeof body,
		 "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":%s}}",
		 name, args);
	return mcp(out, key, body, NULL);
}

/* The tool result of OUT when it succeeded (structuredContent), else NULL after a failed check. */
static json_t *tool_ok(const struct resp *out, const char *file, int line)
{
	json_t *res = jget(out->json, "result");
	int ok = out->status == 200 && json_is_false(json_object_get(res, "isError")) &&
		 json_is_object(json_object_get(res, "structuredContent"));
	e2e_check(ok, file, line, "tool result %ld: %.400s", out->status, out->body);
	if (!ok)
		return NULL;
	/* The text block is the structured content serialized. */
	const json_t *c = json_array_get(json_object_get(res, "content"), 0);
	const char *t = json_string_value(json_object_get(c, "text"));
	json_t *text = t ? json_loads(t, 0, NULL) : NULL;
	e2e_check(text && json_equal(text, json_object_get(res, "structuredContent")), file, line,
		  "text content is the structured content");
	json_decref(text);
	return json_object_get(res, "structuredContent");
}
#define TOOL_OK(r) tool_ok(&(r), __FILE__, __LINE__)

/* The text of a failed tool result, or NULL after a failed check. */
static const char *tool_error(const struct resp *out, const char *file, int line)
{
	json_t *res = jget(out->json, "result");
	const json_t *c = json_array_get(json_object_get(res, "content"), 0);
	int ok = out->status == 200 && json_is_true(json_object_get(res, "isError")) &&
		 !json_object_get(res, "structuredContent") && json_is_string(json_object_get(c, "text"));
	e2e_check(ok, file, line, "tool error %ld: %.400s", out->status, out->body);
	return ok ? json_string_value(json_object_get(c, "text")) : NULL;
}
#define TOOL_ERROR(r) tool_error(&(r), __FILE__, __LINE__)

static int make_agent(const char *key, char *id, const char *body)
{
	struct resp r = {0};
	http_call(&r, "POST", key, body, "/api/v1/agents");
	int ok = CHECK_STATUS(r, 201) && jstr(r.json, "data.id");
	if (ok)
		snprintf(id, 64, "%s", jstr(r.json, "data.id"));
	resp_free(&r);
	return ok;
}

/* ------------------------------------------------------------------------------------------------ */

/* The API workers' settings for this suite: the weather service is the fake (FORECAST: another forecast path of
 * it, NULL: /v1/forecast), TIMEOUT (0: the default) bounds a tool's outbound calls; the stack restarts the parts
 * whose config changed. */
static int configure(const char *forecast, int timeout)
{
	char limit[64] = "";
	if (timeout > 0)
		snprintf(limit, sizeof limit, "mcp_tool_timeout_seconds = %d\n", timeout);
	return e2e_stack_settings("# Written by the e2e suite \"mcp\": the weather service is its fake server.\n"
				  "weather_geocoding_url = %s/v1/search\nweather_forecast_url = %s%s\n"
				  "mcp_allowed_origins = http://localhost:6274, https://app.example.com\n%s",
				  fake, fake, forecast ? forecast : "/v1/forecast", limit);
}

static int init(void)
{
	stack_dir = getenv("AP_TEST_STACK_DIR");
	if (!stack_dir || !*stack_dir) {
		fprintf(stderr, "mcp: AP_TEST_STACK_DIR is not set (tests/run exports it)\n");
		return -1;
	}
	static const char *const LIMITED[] = {"--rate-limit", "3", "--expires", "never", NULL};
	if (e2e_tenant(&A, "mcp-a", "all", GENEROUS) != 0 || e2e_tenant(&B, "mcp-b", "all", GENEROUS) != 0 ||
	    e2e_tenant(&NOSCOPE, "mcp-noscope", "agents:read runs:read", GENEROUS) != 0 ||
	    e2e_key(&A, "mcp:tools", LIMITED, limited_key, limited_id) != 0)
		return -1;
	int port = fake_server_start();
	if (port < 0)
		return -1;
	snprintf(fake, sizeof fake, "http://127.0.0.1:%d", port);
	return configure(NULL, 0);
}

static int cleanup(void)
{
	fake_server_stop();
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */

static void test_transport(void)
{
	struct resp r = {0};
	/* GET and DELETE: no event stream, no sessions. */
	http_get(&r, A.key, "/mcp");
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
	CHECK_HEADER(r, "Allow", "POST");
	http_call(&r, "DELETE", A.key, NULL, "/mcp");
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
	CHECK_HEADER(r, "Allow", "POST");
	/* exactly /mcp: the slashed form is no endpoint and no redirect */
	http_call(&r, "POST", A.key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", "/mcp/");
	CHECK_ERROR(r, 404, "route_not_found", NULL);

	/* media types */
	struct req q = {.method = "POST", .path = "/mcp", .key = A.key, .body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
			.content_type = "text/plain"};
	http_send(&q, &r);
	CHECK_STATUS(r, 415);
	CHECK(rpc_code(&r) == -32000 && EXACT(r.json) && json_is_null(jget(r.json, "id")));
	q.content_type = "application/json; charset=utf-8";
	const char *html[] = {"Accept: text/html", NULL};
	q.headers = html;
	http_send(&q, &r);
	CHECK_STATUS(r, 406);
	CHECK(rpc_code(&r) == -32000);
	const char *both[] = {"Accept: application/json, text/event-stream", NULL};
	q.headers = both;
	http_send(&q, &r);
	CHECK_STATUS(r, 200);
	CHECK(json_is_object(jget(r.json, "result")) && json_object_size(jget(r.json, "result")) == 0);
	const char *sse[] = {"Accept: text/event-stream", NULL};
	q.headers = sse;
	http_send(&q, &r);
	CHECK_STATUS(r, 200);
	CHECK_STR(resp_header(&r, "Content-Type"), "application/json");
	CHECK(resp_header(&r, "Mcp-Session-Id") == NULL);
	CHECK(resp_header(&r, "X-RateLimit-Limit") != NULL);

	/* unparseable JSON: 400 with -32700 and a null id */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",", NULL);
	CHECK_STATUS(r, 400);
	CHECK(EXACT(r.json) && rpc_code(&r) == -32700 && json_is_null(jget(r.json, "id")));
	/* not JSON-RPC */
	mcp(&r, A.key, "{\"id\":5,\"method\":\"ping\"}", NULL);
	CHECK_STATUS(r, 400);
	CHECK(EXACT(r.json) && rpc_code(&r) == -32600);
	mcp(&r, A.key, "\"ping\"", NULL);
	CHECK_STATUS(r, 400);
	CHECK(rpc_code(&r) == -32600);
	/* notifications and posted responses: 202, no body */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", NULL);
	CHECK_STATUS(r, 202);
	CHECK(r.body_len == 0);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":3}}",
	    "MCP-Protocol-Version: 2025-11-25", NULL);
	CHECK_STATUS(r, 202);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}", NULL);
	CHECK_STATUS(r, 202);
	CHECK(r.body_len == 0);

	/* Origin: only the configured ones (DNS rebinding) */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", "Origin: http://evil.example", NULL);
	CHECK_STATUS(r, 403);
	CHECK(EXACT(r.json) && rpc_code(&r) == -32000);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", "Origin: http://localhost:6274", NULL);
	CHECK_STATUS(r, 200);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", "Origin: https://APP.example.com", NULL);
	CHECK_STATUS(r, 200);
	/* a query string is still checked like any route's */
	http_call(&r, "POST", A.key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", "/mcp?x=1");
	CHECK_ERROR(r, 400, "parameter_unknown", "x");
	resp_free(&r);
}

static void test_auth(void)
{
	struct resp r = {0};
	const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
	/* a missing key is invalid_token too: MCP clients start authorization on it */
	mcp(&r, NULL, ping, NULL);
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", "Bearer realm=\"agentplatform\", error=\"invalid_token\"");
	mcp(&r, "ap_live_notavalidkeyatallnotavalidkey00000", ping, NULL);
	CHECK_STATUS(r, 401);
	CHECK_HEADER(r, "WWW-Authenticate", "Bearer realm=\"agentplatform\", error=\"invalid_token\"");
	/* auth comes before anything else: even a malformed body gets the 401 */
	mcp(&r, NULL, "{", NULL);
	CHECK_STATUS(r, 401);
	mcp(&r, NOSCOPE.key, ping, NULL);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_HEADER(r, "WWW-Authenticate",
		     "Bearer realm=\"agentplatform\", error=\"insufficient_scope\", scope=\"mcp:tools\"");
	/* the key's rate limit (3 a minute), with the same headers and 429 */
	long st[4];
	for (int i = 0; i < 4; i++) {
		mcp(&r, limited_key, ping, NULL);
		st[i] = r.status;
		if (i < 3)
			CHECK_HEADER(r, "X-RateLimit-Limit", "3");
	}
	CHECK(st[0] == 200 && st[1] == 200 && st[2] == 200 && st[3] == 429);
	CHECK_ERROR(r, 429, "rate_limited", NULL);
	CHECK(resp_header(&r, "Retry-After") != NULL);
	CHECK_HEADER(r, "X-RateLimit-Remaining", "0");
	resp_free(&r);
}

static void test_initialize_revisions(void)
{
	struct resp r = {0};
	static const struct {
		const char *offered, *answered;
	} V[] = {
		{"2025-11-25", "2025-11-25"},
		{"2025-06-18", "2025-06-18"},
		{"2025-03-26", "2025-03-26"},
		{"2024-11-05", "2025-11-25"},
		{MODERN, "2025-11-25"},
	};
	for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
		char body[512];
		snprintf(body, sizeof body,
			 "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
			 "\"capabilities\":{},\"clientInfo\":{\"name\":\"e2e\",\"version\":\"1\"}}}",
			 V[i].offered);
		mcp(&r, A.key, body, NULL);
		CHECK_STATUS(r, 200);
		CHECK(EXACT(r.json));
		CHECK(json_is_integer(jget(r.json, "id")) && json_integer_value(jget(r.json, "id")) == 0);
		CHECK_STR(jstr(r.json, "result.protocolVersion"), V[i].answered);
		CHECK(json_is_object(jget(r.json, "result.capabilities.tools")));
		CHECK_STR(jstr(r.json, "result.serverInfo.name"), "agentplatform");
		CHECK(resp_header(&r, "Mcp-Session-Id") == NULL);
	}
	/* each revision's header on a follow-up request */
	const char *headers[] = {"MCP-Protocol-Version: 2025-11-25", "MCP-Protocol-Version: 2025-06-18",
				 "MCP-Protocol-Version: 2025-03-26"};
	for (int i = 0; i < 3; i++) {
		mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"method\":\"ping\"}", headers[i], NULL);
		CHECK_STATUS(r, 200);
		CHECK(EXACT(r.json));
		CHECK_STR(jstr(r.json, "id"), "s-1");
		CHECK(json_is_object(jget(r.json, "result")) && json_object_size(jget(r.json, "result")) == 0);
	}
	/* ids echo with their type */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":9007199254740991,\"method\":\"ping\"}", NULL);
	CHECK(json_is_integer(jget(r.json, "id")) && json_integer_value(jget(r.json, "id")) == 9007199254740991LL);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":\"0\",\"method\":\"ping\"}", NULL);
	CHECK_STR(jstr(r.json, "id"), "0");
	/* a fractional or null id is no request id */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", NULL);
	CHECK_STATUS(r, 400);
	CHECK(rpc_code(&r) == -32600 && json_is_null(jget(r.json, "id")));

	/* an unsupported header: 400, with the supported revisions */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}", "MCP-Protocol-Version: 1999-01-01", NULL);
	CHECK_STATUS(r, 400);
	CHECK(EXACT(r.json) && rpc_code(&r) == -32022);
	CHECK(json_integer_value(jget(r.json, "id")) == 3);
	CHECK(json_array_size(jget(r.json, "error.data.supported")) == 4);
	/* unknown method, malformed params: errors inside a 200 */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/list\"}", "MCP-Protocol-Version: 2025-06-18",
	    NULL);
	CHECK_STATUS(r, 200);
	CHECK(EXACT(r.json) && rpc_code(&r) == -32601);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"server/discover\"}", NULL);
	CHECK(r.status == 200 && rpc_code(&r) == -32601);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"initialize\",\"params\":{}}", NULL);
	CHECK(r.status == 200 && rpc_code(&r) == -32602);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"no_such_tool\"}}", NULL);
	CHECK(r.status == 200 && EXACT(r.json) && rpc_code(&r) == -32602);
	mcp(&r, A.key,
	    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"get_agent\",\"arguments\":[1]}}",
	    NULL);
	CHECK(r.status == 200 && rpc_code(&r) == -32602);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{}}", NULL);
	CHECK(r.status == 200 && rpc_code(&r) == -32602);
	/* params that are not an object: malformed params, -32602 inside a 200, for every method */
	static const char *const bad_params[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":5}",
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/list\",\"params\":[\"x\"]}",
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\",\"params\":\"x\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"initialize\",\"params\":null}",
	};
	for (size_t i = 0; i < sizeof bad_params / sizeof bad_params[0]; i++) {
		mcp(&r, A.key, bad_params[i], i % 2 ? "MCP-Protocol-Version: 2025-11-25" : NULL, NULL);
		CHECK_STATUS(r, 200);
		CHECK(EXACT(r.json) && rpc_code(&r) == -32602 && json_integer_value(jget(r.json, "id")) == 6);
	}
	/* a notification's params are not looked at */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\",\"params\":[]}", NULL);
	CHECK_STATUS(r, 202);
	resp_free(&r);
}

/* tools/list pages through every tool once; each has an object inputSchema, and an outputSchema. */
static void test_tools_list(void)
{
	struct resp r = {0};
	char cursor[128] = "";
	int tools = 0, pages = 0;
	for (; pages < 10; pages++) {
		char body[512];
		if (cursor[0])
			snprintf(body, sizeof body,
				 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/list\",\"params\":{\"cursor\":\"%s\"}}",
				 pages, cursor);
		else
			snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/list\"}", pages);
		mcp(&r, A.key, body, "MCP-Protocol-Version: 2025-11-25", NULL);
		if (!CHECK_STATUS(r, 200) || !EXACT(r.json))
			break;
		size_t i;
		json_t *t;
		json_array_foreach(jget(r.json, "result.tools"), i, t)
		{
			tools++;
			CHECK_STR(jstr(t, "inputSchema.type"), "object");
			CHECK(json_is_object(json_object_get(t, "outputSchema")));
			CHECK(jstr(t, "description") != NULL);
		}
		CHECK(jget(r.json, "result.ttlMs") == NULL);
		const char *next = jstr(r.json, "result.nextCursor");
		if (!next)
			break;
		snprintf(cursor, sizeof cursor, "%s", next);
	}
	CHECK(pages >= 1); /* more than one page */
	CHECK(tools >= 5);
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"cursor\":\"bogus\"}}", NULL);
	CHECK(r.status == 200 && rpc_code(&r) == -32602);
	resp_free(&r);
}

static void test_batches(void)
{
	struct resp r = {0};
	const char *batch = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
			    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
			    "{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"method\":\"nope\"},"
			    "{\"foo\":1},"
			    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"list_agents\"}},"
			    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-03-26\"}}]";
	/* 2025-03-26: without a header, and with it */
	for (int h = 0; h < 2; h++) {
		mcp(&r, A.key, batch, h ? "MCP-Protocol-Version: 2025-03-26" : NULL, NULL);
		CHECK_STATUS(r, 200);
		json_t *a = r.json;
		if (!CHECK(json_is_array(a) && json_array_size(a) == 5))
			continue;
		for (size_t i = 0; i < 5; i++)
			EXACT(json_array_get(a, i));
		CHECK(json_integer_value(jget(json_array_get(a, 0), "id")) == 1 && jget(json_array_get(a, 0), "result"));
		CHECK_STR(jstr(json_array_get(a, 1), "id"), "two");
		CHECK(json_integer_value(jget(json_array_get(a, 1), "error.code")) == -32601);
		CHECK(json_is_null(jget(json_array_get(a, 2), "id")) &&
		      json_integer_value(jget(json_array_get(a, 2), "error.code")) == -32600);
		CHECK(json_is_false(jget(json_array_get(a, 3), "result.isError")));
		CHECK(json_integer_value(jget(json_array_get(a, 4), "error.code")) == -32600);
	}
	/* only notifications: 202 */
	mcp(&r, A.key, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},{\"jsonrpc\":\"2.0\",\"method\":\"x\"}]",
	    NULL);
	CHECK_STATUS(r, 202);
	CHECK(r.body_len == 0);
	mcp(&r, A.key, "[]", NULL);
	CHECK(r.status == 400 && rpc_code(&r) == -32600);
	/* later revisions have no batches */
	mcp(&r, A.key, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", "MCP-Protocol-Version: 2025-06-18", NULL);
	CHECK(r.status == 400 && EXACT(r.json) && rpc_code(&r) == -32600);
	mcp(&r, A.key, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", "MCP-Protocol-Version: 2025-11-25", NULL);
	CHECK(r.status == 400 && rpc_code(&r) == -32600);
	mcp(&r, A.key, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", "MCP-Protocol-Version: " MODERN, NULL);
	CHECK(r.status == 400 && rpc_code(&r) == -32600);
	resp_free(&r);
}

/* A batch of N messages: N - CALLS pings then CALLS tools/call list_agents. */
static char *batch_of(int n, int calls)
{
	size_t cap = (size_t)n * 128 + 8, len = 0;
	char *b = malloc(cap);
	if (!b)
		abort();
	b[len++] = '[';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len, "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"%s}",
					i ? "," : "", i, i < n - calls ? "ping" : "tools/call",
					i < n - calls ? "" : ",\"params\":{\"name\":\"list_agents\"}");
	snprintf(b + len, cap - len, "]");
	return b;
}

/* The mcp_tool_calls of KEY's account today. */
static long tool_calls_today(const char *key)
{
	struct resp u = {0};
	http_get(&u, key, "/api/v1/usage");
	long n = CHECK_STATUS(u, 200) ? (long)json_integer_value(jget(u.json, "data.totals.mcp_tool_calls")) : -1;
	resp_free(&u);
	return n;
}

/* A batch holds at most 20 messages; each tools/call after the first counts once more against the key's rate
 * limit, all before anything runs. */
static void test_batch_limits(void)
{
	struct resp r = {0};
	char *b = batch_of(21, 0);
	mcp(&r, A.key, b, NULL);
	free(b);
	CHECK(r.status == 400 && EXACT(r.json) && rpc_code(&r) == -32600 && json_is_null(jget(r.json, "id")));
	CHECK_STR(jstr(r.json, "error.message"), "a batch holds at most 20 messages; this one has 21");
	b = batch_of(20, 2);
	mcp(&r, A.key, b, NULL);
	free(b);
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(r.json) == 20);
	CHECK(json_is_false(jget(json_array_get(r.json, 19), "result.isError")));

	struct tenant T;
	char key[64], key_id[64];
	static const char *const SIX[] = {"--rate-limit", "6", "--expires", "never", NULL};
	if (e2e_tenant(&T, "mcp-batch", "all", GENEROUS) != 0 || e2e_key(&T, "mcp:tools", SIX, key, key_id) != 0)
		return;
	/* more tool calls than the key's limit never fit: 400 (the request itself counted: 5 left) */
	b = batch_of(7, 7);
	mcp(&r, key, b, NULL);
	free(b);
	CHECK(r.status == 400 && EXACT(r.json) && rpc_code(&r) == -32600);
	CHECK(tool_calls_today(T.key) == 0);
	/* 3 tool calls (and a ping): 3 of the 5 */
	b = batch_of(4, 3);
	mcp(&r, key, b, NULL);
	free(b);
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(r.json) == 4);
	CHECK_HEADER(r, "X-RateLimit-Limit", "6");
	CHECK_HEADER(r, "X-RateLimit-Remaining", "2");
	CHECK(tool_calls_today(T.key) == 3);
	/* 3 more do not fit in the 2 left: 429 for the whole batch (Retry-After: when all fit), nothing run */
	b = batch_of(3, 3);
	mcp(&r, key, b, NULL);
	free(b);
	CHECK_ERROR(r, 429, "rate_limited", NULL);
	CHECK(resp_header(&r, "Retry-After") != NULL && atoi(resp_header(&r, "Retry-After")) >= 9);
	CHECK_HEADER(r, "X-RateLimit-Limit", "6");
	CHECK(tool_calls_today(T.key) == 3);
	/* the one left still serves a single call */
	call_tool(&r, key, "list_agents", "{}");
	CHECK(TOOL_OK(r) != NULL);
	resp_free(&r);
}

static void test_modern(void)
{
	struct resp r = {0};
	/* the 2.x client's probe: a string id */
	modern(&r, "\"discover-1\"", "server/discover", "", NULL);
	CHECK_STATUS(r, 200);
	CHECK(EXACT(r.json));
	CHECK_STR(jstr(r.json, "id"), "discover-1");
	CHECK_STR(jstr(r.json, "result.resultType"), "complete");
	CHECK(json_is_object(jget(r.json, "result.capabilities.tools")));
	int has_modern = 0;
	size_t i;
	json_t *v;
	json_array_foreach(jget(r.json, "result.supportedVersions"), i, v)
		has_modern |= strcmp(json_string_value(v), MODERN) == 0;
	CHECK(has_modern);
	CHECK(resp_header(&r, "Mcp-Session-Id") == NULL);

	modern(&r, "0", "tools/list", "", NULL);
	CHECK_STATUS(r, 200);
	CHECK(EXACT(r.json) && json_integer_value(jget(r.json, "id")) == 0);
	CHECK_STR(jstr(r.json, "result.resultType"), "complete");
	CHECK(json_is_integer(jget(r.json, "result.ttlMs")));
	CHECK_STR(jstr(r.json, "result.cacheScope"), "private");
	CHECK(json_array_size(jget(r.json, "result.tools")) >= 1);

	modern(&r, "11", "tools/call", "\"name\":\"list_agents\",\"arguments\":{\"limit\":1}", "list_agents");
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "result.resultType"), "complete");
	CHECK(json_is_false(jget(r.json, "result.isError")));
	/* unknown tool: in-band -32602 */
	modern(&r, "12", "tools/call", "\"name\":\"nope\"", "nope");
	CHECK(r.status == 200 && rpc_code(&r) == -32602);
	/* unknown methods, ping and initialize included: 404 -32601 */
	modern(&r, "13", "ping", "", NULL);
	CHECK(r.status == 404 && EXACT(r.json) && rpc_code(&r) == -32601);
	modern(&r, "14", "initialize", "\"protocolVersion\":\"" MODERN "\"", NULL);
	CHECK(r.status == 404 && rpc_code(&r) == -32601);
	modern(&r, "15", "resources/list", "", NULL);
	CHECK(r.status == 404 && rpc_code(&r) == -32601);

	const char *disc = "{\"jsonrpc\":\"2.0\",\"id\":\"d\",\"method\":\"server/discover\",\"params\":{" ENVELOPE "}}";
	/* the version header: missing, or disagreeing with _meta: -32020 */
	mcp(&r, A.key, disc, "Mcp-Method: server/discover", NULL);
	CHECK(r.status == 400 && EXACT(r.json) && rpc_code(&r) == -32020);
	CHECK_STR(jstr(r.json, "id"), "d");
	mcp(&r, A.key, disc, "MCP-Protocol-Version: 2025-11-25", "Mcp-Method: server/discover", NULL);
	CHECK(r.status == 400 && rpc_code(&r) == -32020);
	/* Mcp-Method missing or wrong, Mcp-Name wrong: -32020 */
	mcp(&r, A.key, disc, "MCP-Protocol-Version: " MODERN, NULL);
	CHECK(r.status == 400 && rpc_code(&r) == -32020);
	mcp(&r, A.key, disc, "MCP-Protocol-Version: " MODERN, "Mcp-Method: tools/list", NULL);
	CHECK(r.status == 400 && rpc_code(&r) == -32020);
	modern(&r, "16", "tools/call", "\"name\":\"list_agents\"", "get_weather");
	CHECK(r.status == 400 && rpc_code(&r) == -32020);
	/* an unsupported modern version: -32022 with data.supported */
	mcp(&r, A.key,
	    "{\"jsonrpc\":\"2.0\",\"id\":\"u\",\"method\":\"server/discover\",\"params\":{\"_meta\":{"
	    "\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
	    "MCP-Protocol-Version: 2099-01-01", "Mcp-Method: server/discover", NULL);
	CHECK(r.status == 400 && EXACT(r.json) && rpc_code(&r) == -32022);
	CHECK(json_array_size(jget(r.json, "error.data.supported")) == 4);
	CHECK_STR(json_string_value(json_array_get(jget(r.json, "error.data.supported"), 0)), MODERN);
	/* a modern request without its _meta envelope: 400 */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"tools/list\"}", "MCP-Protocol-Version: " MODERN,
	    "Mcp-Method: tools/list", NULL);
	CHECK(r.status == 400 && EXACT(r.json) && rpc_code(&r) == -32602);
	mcp(&r, A.key,
	    "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
	    "\"io.modelcontextprotocol/protocolVersion\":\"" MODERN "\"}}}",
	    "MCP-Protocol-Version: " MODERN, "Mcp-Method: tools/list", NULL);
	CHECK(r.status == 400 && rpc_code(&r) == -32602);
	/* params that are not an object: no envelope, 400 -32602 */
	mcp(&r, A.key, "{\"jsonrpc\":\"2.0\",\"id\":19,\"method\":\"tools/list\",\"params\":[]}",
	    "MCP-Protocol-Version: " MODERN, "Mcp-Method: tools/list", NULL);
	CHECK(r.status == 400 && EXACT(r.json) && rpc_code(&r) == -32602);
	/* notifications: 202; the standard headers are required on requests only (the official client sends no
	 * Mcp-Method on a notification), but one that is sent must agree with the body */
	const char *note = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1," ENVELOPE "}}";
	mcp(&r, A.key, note, "MCP-Protocol-Version: " MODERN, NULL);
	CHECK_STATUS(r, 202);
	mcp(&r, A.key, note, "MCP-Protocol-Version: " MODERN, "Mcp-Method: notifications/cancelled", NULL);
	CHECK_STATUS(r, 202);
	mcp(&r, A.key, note, NULL);
	CHECK_STATUS(r, 202);
	mcp(&r, A.key, note, "MCP-Protocol-Version: " MODERN, "Mcp-Method: tools/list", NULL);
	CHECK(r.status == 400 && EXACT(r.json) && rpc_code(&r) == -32020);
	mcp(&r, A.key, note, "MCP-Protocol-Version: 2025-11-25", NULL);
	CHECK(r.status == 400 && rpc_code(&r) == -32020);
	resp_free(&r);
}

static void test_get_weather(void)
{
	struct resp r = {0};
	const json_t *s;
	call_tool(&r, A.key, "get_weather", "{\"location\":\"New York\"}");
	if ((s = TOOL_OK(r))) {
		CHECK_STR(jstr(s, "location.name"), "New York");
		CHECK_STR(jstr(s, "location.country"), "Testland");
		CHECK(json_real_value(jget(s, "current.temperature")) == 7.2);
		CHECK_STR(jstr(s, "current.conditions"), "overcast");
		CHECK_STR(jstr(s, "units"), "metric");
		CHECK_STR(jstr(s, "summary"), "New York: 7 °C, overcast, high 9 °C / low 3 °C, 20% rain");
	}
	CHECK(fake_server_seen("/v1/search?name=New%20York&count=1", NULL, 0) >= 1);
	call_tool(&r, A.key, "get_weather", "{\"latitude\":52.52,\"longitude\":13.405,\"units\":\"imperial\"}");
	if ((s = TOOL_OK(r))) {
		CHECK_STR(jstr(s, "units"), "imperial");
		CHECK(json_number_value(jget(s, "current.temperature")) == 45);
		CHECK_STR(jstr(s, "location.name"), "52.5200, 13.4050");
	}
	/* bad arguments and upstream failures: isError with a clear text */
	static const struct {
		const char *args, *text;
	} BAD[] = {
		{"{}", "give location, or both latitude and longitude"},
		{"{\"location\":\"X\",\"latitude\":1}", "give either location or latitude and longitude, not both"},
		{"{\"latitude\":91,\"longitude\":0}", "latitude must be a number from -90 to 90"},
		{"{\"location\":\"X\",\"units\":\"kelvin\"}", "units must be metric or imperial"},
		{"{\"location\":\"X\",\"city\":\"Y\"}", "unknown argument 'city'"},
		{"{\"location\":\"Nowhere\"}", "the weather service knows no place named \"Nowhere\""},
		{"{\"location\":\"Broken\"}", "the weather service answered with HTTP status 500"},
		{"{\"location\":\"Garbage\"}", "the weather service returned an unexpected answer"},
	};
	for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		call_tool(&r, A.key, "get_weather", BAD[i].args);
		CHECK_STR(TOOL_ERROR(r), BAD[i].text);
	}
	resp_free(&r);
}

static void test_agent_tools(void)
{
	struct resp r = {0};
	char a1[64], a2[64], a3[64], other[64], paused[64];
	if (!make_agent(A.key, a1, "{\"name\":\"MCP one\",\"type\":\"echo\",\"config\":{\"message\":\"one\"}}") ||
	    !make_agent(A.key, a2, "{\"name\":\"MCP two\",\"type\":\"echo\",\"config\":{\"message\":\"two\"}}") ||
	    !make_agent(A.key, a3, "{\"name\":\"MCP three\",\"type\":\"echo\",\"config\":{\"message\":\"three\"}}") ||
	    !make_agent(B.key, other, "{\"name\":\"Not yours\",\"type\":\"echo\"}") ||
	    !make_agent(A.key, paused, "{\"name\":\"Paused\",\"type\":\"echo\"}"))
		return;
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", paused);
	CHECK_STATUS(r, 200);

	/* list_agents pages like the API */
	const json_t *s;
	call_tool(&r, A.key, "list_agents", "{\"limit\":2}");
	char cursor[128] = "";
	if ((s = TOOL_OK(r))) {
		CHECK(json_array_size(jget(s, "agents")) == 2);
		CHECK_STR(jstr(json_array_get(jget(s, "agents"), 0), "id"), paused);
		CHECK(jstr(s, "next_cursor") != NULL);
		snprintf(cursor, sizeof cursor, "%s", jstr(s, "next_cursor") ? jstr(s, "next_cursor") : "");
	}
	char args[256];
	snprintf(args, sizeof args, "{\"limit\":2,\"cursor\":\"%s\"}", cursor);
	call_tool(&r, A.key, "list_agents", args);
	if ((s = TOOL_OK(r))) {
		CHECK(json_array_size(jget(s, "agents")) == 2);
		CHECK_STR(jstr(json_array_get(jget(s, "agents"), 0), "id"), a2);
	}
	call_tool(&r, A.key, "list_agents", "{\"limit\":0}");
	CHECK_STR(TOOL_ERROR(r), "limit must be an integer from 1 to 100");
	call_tool(&r, A.key, "list_agents", "{\"cursor\":\"nonsense\"}");
	CHECK(TOOL_ERROR(r) != NULL);

	/* get_agent: the API's agent; another account's id is "not found" */
	snprintf(args, sizeof args, "{\"agent_id\":\"%s\"}", a1);
	call_tool(&r, A.key, "get_agent", args);
	if ((s = TOOL_OK(r))) {
		CHECK_STR(jstr(s, "id"), a1);
		CHECK_STR(jstr(s, "name"), "MCP one");
		CHECK_STR(jstr(s, "config.message"), "one");
		CHECK_STR(jstr(s, "status"), "idle");
	}
	snprintf(args, sizeof args, "{\"agent_id\":\"%s\"}", other);
	call_tool(&r, A.key, "get_agent", args);
	char want[160];
	snprintf(want, sizeof want, "agent not found: %s", other);
	CHECK_STR(TOOL_ERROR(r), want);
	call_tool(&r, A.key, "get_agent", "{\"agent_id\":\"agt_x\"}");
	CHECK_STR(TOOL_ERROR(r), "agent not found: agt_x");
	call_tool(&r, A.key, "get_agent", "{}");
	CHECK_STR(TOOL_ERROR(r), "agent_id is required");

	/* trigger_agent: a run with trigger type mcp, readable with get_run once it finished */
	snprintf(args, sizeof args, "{\"agent_id\":\"%s\",\"type\":\"from_mcp\",\"payload\":{\"n\":1}}", a1);
	call_tool(&r, A.key, "trigger_agent", args);
	char run[64] = "";
	if ((s = TOOL_OK(r))) {
		CHECK(e2e_is_id(jstr(s, "run_id"), "run_"));
		CHECK(e2e_is_id(jstr(s, "signal_id"), "sig_"));
		CHECK_STR(jstr(s, "status"), "queued");
		snprintf(run, sizeof run, "%s", jstr(s, "run_id") ? jstr(s, "run_id") : "");
	}
	struct resp g = {0};
	for (int i = 0; run[0] && i < 100; i++) {
		http_get(&g, A.key, "/api/v1/runs/%s", run);
		const char *st = jstr(g.json, "data.status");
		if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0)
			break;
		usleep(100 * 1000);
	}
	CHECK_STR(jstr(g.json, "data.trigger.type"), "mcp");
	CHECK_STR(jstr(g.json, "data.trigger.signal_type"), "from_mcp");
	CHECK_STR(jstr(g.json, "data.status"), "succeeded");
	resp_free(&g);
	snprintf(args, sizeof args, "{\"run_id\":\"%s\"}", run);
	call_tool(&r, A.key, "get_run", args);
	if ((s = TOOL_OK(r))) {
		CHECK_STR(jstr(s, "id"), run);
		CHECK_STR(jstr(s, "agent_id"), a1);
		CHECK_STR(jstr(s, "trigger.type"), "mcp");
		CHECK(json_array_size(jget(s, "messages")) >= 1);
	}
	/* another account cannot read it */
	call_tool(&r, B.key, "get_run", args);
	snprintf(want, sizeof want, "run not found: %s", run);
	CHECK_STR(TOOL_ERROR(r), want);
	/* default type, a paused agent, a foreign agent, bad arguments */
	snprintf(args, sizeof args, "{\"agent_id\":\"%s\"}", a2);
	call_tool(&r, A.key, "trigger_agent", args);
	CHECK(TOOL_OK(r) != NULL);
	snprintf(args, sizeof args, "{\"agent_id\":\"%s\"}", paused);
	call_tool(&r, A.key, "trigger_agent", args);
	CHECK_STR(TOOL_ERROR(r), "the agent is paused; resume it to send signals");
	CHECK(resp_header(&r, "Retry-After") == NULL);
	snprintf(args, sizeof args, "{\"agent_id\":\"%s\"}", other);
	call_tool(&r, A.key, "trigger_agent", args);
	snprintf(want, sizeof want, "agent not found: %s", other);
	CHECK_STR(TOOL_ERROR(r), want);
	snprintf(args, sizeof args, "{\"agent_id\":\"%s\",\"type\":\"Bad Type\"}", a1);
	call_tool(&r, A.key, "trigger_agent", args);
	CHECK_STR(TOOL_ERROR(r), "type must be 1 to 100 characters of a-z, 0-9, _ . : -");
	snprintf(args, sizeof args, "{\"agent_id\":\"%s\",\"payload\":[1]}", a1);
	call_tool(&r, A.key, "trigger_agent", args);
	CHECK_STR(TOOL_ERROR(r), "payload must be an object");
	call_tool(&r, A.key, "get_run", "{\"run_id\":\"run_nope\"}");
	CHECK_STR(TOOL_ERROR(r), "run not found: run_nope");
	resp_free(&r);
}


/* A credential of KEY's account (BODY: the create request) into ID. */
static int make_credential(const char *key, char *id, const char *body)
{
	struct resp r = {0};
	http_call(&r, "POST", key, body, "/api/v1/credentials");
	int ok = CHECK_STATUS(r, 201) && jstr(r.json, "data.id");
	if (ok)
		snprintf(id, 64, "%s", jstr(r.json, "data.id"));
	resp_free(&r);
	return ok;
}

/* A CalDAV connection of ACCOUNT to the fake's calendar PATH with credential CRED, into ID. */
static int make_connection(const char *account, const char *path, const char *cred, char *id)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", fake, path);
	const char *argv[] = {"connection", "add", "--account", account, "--provider", "caldav", "--url", url,
			      "--credential", cred, NULL};
	struct admin_run run;
	int ok = CHECK(e2e_admin(&run, argv, NULL) == 0);
	snprintf(id, 64, "%.63s", ok ? run.out : "");
	return ok && e2e_is_id(id, "conn_");
}

static void test_calendar_tool(void)
{
	struct resp r = {0};
	char cred[64], conn[64], denied[64], other_cred[64], other[64];
	const char *bearer = "{\"name\":\"cal\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"cal-token-0123456789abcdef\"}}";
	if (!make_credential(A.key, cred, bearer) || !make_connection(A.account, "/caldav/cal/", cred, conn) ||
	    !make_connection(A.account, "/caldav/denied/", cred, denied) || !make_credential(B.key, other_cred, bearer) ||
	    !make_connection(B.account, "/caldav/cal/", other_cred, other))
		return;
	const json_t *s;
	char args[512];
	snprintf(args, sizeof args, "{\"connection_id\":\"%s\",\"from\":\"2030-01-15T00:00:00Z\",\"to\":\"2030-01-16T00:00:00Z\"}",
		 conn);
	call_tool(&r, A.key, "list_calendar_events", args);
	if ((s = TOOL_OK(r))) {
		const json_t *c = json_array_get(jget(s, "calendars"), 0);
		CHECK(json_array_size(jget(s, "calendars")) == 1);
		CHECK_STR(jstr(c, "connection_id"), conn);
		CHECK(json_is_null(jget(c, "error")));
		const json_t *e = json_array_get(jget(c, "events"), 0);
		CHECK(json_array_size(jget(c, "events")) == 1);
		CHECK_STR(jstr(e, "summary"), "Standup");
		CHECK_STR(jstr(e, "location"), "Room 1");
		CHECK_STR(jstr(s, "from"), "2030-01-15T00:00:00.000Z");
	}
	/* every active connection: the readable one has its event, the refused one its error */
	call_tool(&r, A.key, "list_calendar_events", "{\"from\":\"2030-01-15T00:00:00Z\",\"to\":\"2030-01-16T00:00:00Z\"}");
	if ((s = TOOL_OK(r))) {
		size_t i;
		json_t *c;
		int events = 0, errors = 0;
		json_array_foreach(jget(s, "calendars"), i, c)
		{
			events += (int)json_array_size(jget(c, "events"));
			errors += json_is_string(jget(c, "error"));
		}
		CHECK(json_array_size(jget(s, "calendars")) == 2 && events == 1 && errors == 1);
	}
	snprintf(args, sizeof args, "{\"connection_id\":\"%s\"}", denied);
	call_tool(&r, A.key, "list_calendar_events", args);
	CHECK(TOOL_ERROR(r) != NULL);
	/* another account's connection does not exist for A */
	snprintf(args, sizeof args, "{\"connection_id\":\"%s\"}", other);
	call_tool(&r, A.key, "list_calendar_events", args);
	char want[160];
	snprintf(want, sizeof want, "connection not found: %s", other);
	CHECK_STR(TOOL_ERROR(r), want);
	call_tool(&r, A.key, "list_calendar_events", "{\"from\":\"yesterday\"}");
	CHECK_STR(TOOL_ERROR(r), "from must be an RFC 3339 date-time such as 2026-05-01T09:00:00Z");
	call_tool(&r, A.key, "list_calendar_events", "{\"from\":\"2030-01-15T00:00:00Z\",\"to\":\"2030-01-14T00:00:00Z\"}");
	CHECK_STR(TOOL_ERROR(r), "to must be after from");
	call_tool(&r, A.key, "list_calendar_events", "{\"from\":\"2030-01-15T00:00:00Z\",\"to\":\"2031-06-14T00:00:00Z\"}");
	CHECK_STR(TOOL_ERROR(r), "from..to may span at most 366 days");
	resp_free(&r);
}

static void test_email_and_approvals(void)
{
	struct resp r = {0};
	struct tenant M;
	if (e2e_tenant(&M, "mcp-mail", "all", GENEROUS) != 0)
		return;
	/* no smtp credential yet */
	call_tool(&r, M.key, "send_email", "{\"to\":\"bob@example.com\",\"subject\":\"Hi\",\"body\":\"Hello\"}");
	CHECK_STR(TOOL_ERROR(r), "the account has no smtp credential: create one and pass its id as credential_id");
	char smtp[64], bearer[64], other[64];
	const char *smtp_body = "{\"name\":\"Mail\",\"type\":\"smtp\",\"secret\":{\"host\":\"127.0.0.1\",\"port\":9,"
				"\"username\":\"agent\",\"password\":\"smtp-pw-0123456789abcdef\",\"from\":\"agent@example.com\"}}";
	if (!make_credential(M.key, smtp, smtp_body) ||
	    !make_credential(M.key, bearer, "{\"name\":\"b\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"tok-0123456789abcdef\"}}") ||
	    !make_credential(B.key, other, smtp_body))
		return;
	/* never sent: an approval, pending */
	const json_t *s;
	char approval[64] = "";
	call_tool(&r, M.key, "send_email",
		  "{\"to\":[\"bob@example.com\",\"carol@example.com\"],\"subject\":\"Quarterly report\",\"body\":\"Attached.\"}");
	if ((s = TOOL_OK(r))) {
		CHECK(e2e_is_id(jstr(s, "approval_id"), "apr_"));
		CHECK_STR(jstr(s, "status"), "pending");
		CHECK(e2e_is_timestamp(jstr(s, "expires_at")));
		CHECK_STR(jstr(s, "summary"), "Send email \"Quarterly report\" to bob@example.com, carol@example.com");
		snprintf(approval, sizeof approval, "%s", jstr(s, "approval_id") ? jstr(s, "approval_id") : "");
	}
	struct resp g = {0};
	http_get(&g, M.key, "/api/v1/approvals/%s", approval);
	CHECK_STATUS(g, 200);
	CHECK_STR(jstr(g.json, "data.status"), "pending");
	CHECK_STR(jstr(g.json, "data.action"), "send_email");
	CHECK_STR(jstr(g.json, "data.arguments.credential_id"), smtp);
	CHECK_STR(jstr(g.json, "data.arguments.subject"), "Quarterly report");
	resp_free(&g);
	char args[512];
	snprintf(args, sizeof args, "{\"to\":\"bob@example.com\",\"subject\":\"S\",\"body\":\"B\",\"credential_id\":\"%s\"}",
		 smtp);
	call_tool(&r, M.key, "send_email", args);
	char approval2[64] = "";
	if ((s = TOOL_OK(r)))
		snprintf(approval2, sizeof approval2, "%s", jstr(s, "approval_id") ? jstr(s, "approval_id") : "");
	/* the credential must be the account's own, live, of type smtp */
	const char *bad_ids[] = {bearer, other, "cred_nope"};
	for (int i = 0; i < 3; i++) {
		snprintf(args, sizeof args, "{\"to\":\"bob@example.com\",\"subject\":\"S\",\"body\":\"B\",\"credential_id\":\"%s\"}",
			 bad_ids[i]);
		call_tool(&r, M.key, "send_email", args);
		char want[200];
		snprintf(want, sizeof want, "no usable smtp credential %s (absent, revoked or of another type)", bad_ids[i]);
		CHECK_STR(TOOL_ERROR(r), want);
	}
	call_tool(&r, M.key, "send_email", "{\"to\":\"not an address\",\"subject\":\"S\",\"body\":\"B\"}");
	CHECK(TOOL_ERROR(r) != NULL);
	call_tool(&r, M.key, "send_email", "{\"to\":\"bob@example.com\",\"subject\":\"S\"}");
	CHECK(TOOL_ERROR(r) != NULL);

	/* list_pending_approvals: both, newest first, paged; another account sees none of them */
	call_tool(&r, M.key, "list_pending_approvals", "{\"limit\":1}");
	char cursor[128] = "";
	if ((s = TOOL_OK(r))) {
		CHECK(json_array_size(jget(s, "approvals")) == 1);
		CHECK_STR(jstr(json_array_get(jget(s, "approvals"), 0), "status"), "pending");
		snprintf(cursor, sizeof cursor, "%s", jstr(s, "next_cursor") ? jstr(s, "next_cursor") : "");
	}
	snprintf(args, sizeof args, "{\"limit\":1,\"cursor\":\"%s\"}", cursor);
	call_tool(&r, M.key, "list_pending_approvals", args);
	if ((s = TOOL_OK(r))) {
		CHECK_STR(jstr(json_array_get(jget(s, "approvals"), 0), "id"), approval);
		CHECK(json_is_null(jget(s, "next_cursor")));
	}
	/* Approved, the scheduler performs it once with the tool's arguments: here the smtp server (port 9) refuses,
	 * so the action fails with a readable error, and nothing was sent before the approval. */
	http_call(&r, "POST", M.key, NULL, "/api/v1/approvals/%s/approve", approval2);
	CHECK_STATUS(r, 200);
	const char *st = NULL;
	for (int i = 0; i < 150; i++) {
		http_get(&g, M.key, "/api/v1/approvals/%s", approval2);
		st = jstr(g.json, "data.action_result.status");
		if (st && strcmp(st, "pending") != 0 && strcmp(st, "running") != 0)
			break;
		usleep(100 * 1000);
	}
	CHECK_STR(st, "failed");
	CHECK(jstr(g.json, "data.action_result.error") != NULL);
	resp_free(&g);
	call_tool(&r, B.key, "list_pending_approvals", "{}");
	if ((s = TOOL_OK(r))) {
		size_t i;
		json_t *a;
		json_array_foreach(jget(s, "approvals"), i, a)
			CHECK(strcmp(jstr(a, "id") ? jstr(a, "id") : "", approval) != 0);
	}
	resp_free(&r);
}

/* send_email without credential_id finds the account's only live smtp credential however many other
 * credentials are newer, and refuses to guess between two. */
static void test_email_default_credential(void)
{
	struct resp r = {0};
	struct tenant M;
	if (e2e_tenant(&M, "mcp-mail-many", "all", GENEROUS) != 0)
		return;
	char smtp[64], id[64], second[64];
	const char *smtp_body = "{\"name\":\"Mail\",\"type\":\"smtp\",\"secret\":{\"host\":\"127.0.0.1\",\"port\":9,"
				"\"username\":\"agent\",\"password\":\"smtp-pw-0123456789abcdef\",\"from\":\"agent@example.com\"}}";
	if (!make_credential(M.key, smtp, smtp_body))
		return;
	for (int i = 0; i < 101; i++)
		if (!make_credential(M.key, id,
				     "{\"name\":\"b\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"tok-0123456789abcdef\"}}"))
			return;
	const char *email = "{\"to\":\"bob@example.com\",\"subject\":\"Hi\",\"body\":\"Hello\"}";
	call_tool(&r, M.key, "send_email", email);
	if (TOOL_OK(r)) {
		struct resp g = {0};
		http_get(&g, M.key, "/api/v1/approvals/%s", jstr(r.json, "result.structuredContent.approval_id"));
		CHECK_STR(jstr(g.json, "data.arguments.credential_id"), smtp);
		resp_free(&g);
	}
	/* a second live one: ambiguous; revoked again: the first is the only one */
	if (!make_credential(M.key, second, smtp_body))
		return;
	call_tool(&r, M.key, "send_email", email);
	CHECK_STR(TOOL_ERROR(r), "the account has several smtp credentials: pass credential_id");
	http_call(&r, "POST", M.key, NULL, "/api/v1/credentials/%s/revoke", second);
	CHECK_STATUS(r, 200);
	call_tool(&r, M.key, "send_email", email);
	CHECK(TOOL_OK(r) != NULL);
	resp_free(&r);
}


/* GET /api/v1/usage counts tool calls (failed ones too), not other JSON-RPC methods. */
static void test_usage(void)
{
	struct resp r = {0};
	struct tenant U;
	if (e2e_tenant(&U, "mcp-usage", "all", GENEROUS) != 0)
		return;
	call_tool(&r, U.key, "list_agents", "{}");
	call_tool(&r, U.key, "get_agent", "{\"agent_id\":\"agt_nope\"}");
	call_tool(&r, U.key, "get_weather", "{\"location\":\"Oslo\"}");
	mcp(&r, U.key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", NULL);
	mcp(&r, U.key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}", NULL);
	http_get(&r, U.key, "/api/v1/usage");
	CHECK_STATUS(r, 200);
	CHECK(json_integer_value(jget(r.json, "data.totals.mcp_tool_calls")) == 3);
	json_t *days = jget(r.json, "data.days");
	json_t *today = json_array_get(days, json_array_size(days) - 1);
	CHECK(json_integer_value(jget(today, "mcp_tool_calls")) == 3);
	CHECK(json_integer_value(jget(json_array_get(days, 0), "mcp_tool_calls")) == 0);
	resp_free(&r);
}


/* A weather service slower than mcp_tool_timeout_seconds: the tool answers in time, with isError. */
static void test_tool_timeout(void)
{
	struct resp r = {0};
	if (!CHECK(configure("/slow?ms=6000", 1) == 0))
		return;
	time_t t0 = time(NULL);
	call_tool(&r, A.key, "get_weather", "{\"latitude\":10,\"longitude\":20}");
	const char *text = TOOL_ERROR(r);
	CHECK(text && strstr(text, "could not reach the weather service") == text);
	CHECK(time(NULL) - t0 <= 4);
	/* the calls of a batch share the request's one time limit: the second is not run */
	t0 = time(NULL);
	mcp(&r, A.key,
	    "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"get_weather\","
	    "\"arguments\":{\"latitude\":10,\"longitude\":20}}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"get_weather\","
	    "\"arguments\":{\"latitude\":11,\"longitude\":20}}}]",
	    NULL);
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(r.json) == 2);
	CHECK(json_is_true(jget(json_array_get(r.json, 0), "result.isError")));
	CHECK(json_is_true(jget(json_array_get(r.json, 1), "result.isError")));
	const char *second = json_string_value(json_object_get(json_array_get(jget(json_array_get(r.json, 1),
										      "result.content"), 0), "text"));
	CHECK_STR(second, "not run: the request's time limit of 1 seconds ran out (the tool calls of a batch share it)");
	CHECK(time(NULL) - t0 <= 4);
	CHECK(configure(NULL, 0) == 0);
	resp_free(&r);
}

/* Every tool call leaves an audit entry (the key, the tool, never its arguments). */
static void test_audit(void)
{
	struct resp r = {0};
	char key[64], key_id[64];
	if (e2e_key(&A, "mcp:tools audit_logs:read", GENEROUS, key, key_id) != 0)
		return;
	call_tool(&r, key, "get_weather", "{\"location\":\"Secret Place\"}");
	call_tool(&r, key, "get_agent", "{\"agent_id\":\"agt_nope\"}");
	mcp(&r, key, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", NULL); /* not a tool call */
	http_get(&r, key, "/api/v1/audit-logs?actor=%s", key_id);
	CHECK_STATUS(r, 200);
	json_t *d = jget(r.json, "data");
	if (CHECK(json_array_size(d) == 2)) {
		json_t *e0 = json_array_get(d, 0), *e1 = json_array_get(d, 1);
		CHECK_STR(jstr(e0, "action"), "mcp_tool.called");
		CHECK_STR(jstr(e0, "target_type"), "api_key");
		CHECK_STR(jstr(e0, "target_id"), key_id);
		CHECK_STR(jstr(e0, "changes.tool"), "get_agent");
		CHECK(json_is_true(jget(e0, "changes.is_error")));
		CHECK_STR(jstr(e1, "changes.tool"), "get_weather");
		CHECK(json_is_false(jget(e1, "changes.is_error")));
		CHECK(strstr(r.body, "Secret Place") == NULL);
	}
	resp_free(&r);
}

int suite_mcp_register(void)
{
	CU_pSuite s = CU_add_suite("mcp", init, cleanup);
	if (!s || !CU_add_test(s, "transport: methods, media types, JSON-RPC shape, Origin", test_transport) ||
	    !CU_add_test(s, "auth: 401 invalid_token, 403 mcp:tools, 429", test_auth) ||
	    !CU_add_test(s, "initialize-based revisions, ids, errors", test_initialize_revisions) ||
	    !CU_add_test(s, "tools/list paging", test_tools_list) ||
	    !CU_add_test(s, "batches (2025-03-26 only)", test_batches) ||
	    !CU_add_test(s, "batches: at most 20 messages, tool calls count against the rate limit", test_batch_limits) ||
	    !CU_add_test(s, "2026-07-28: discover, headers, envelope, errors", test_modern) ||
	    !CU_add_test(s, "get_weather against the fake Open-Meteo", test_get_weather) ||
	    !CU_add_test(s, "list_agents, get_agent, trigger_agent, get_run", test_agent_tools) ||
	    !CU_add_test(s, "list_calendar_events against the fake CalDAV calendar", test_calendar_tool) ||
	    !CU_add_test(s, "send_email asks for approval; list_pending_approvals", test_email_and_approvals) ||
	    !CU_add_test(s, "send_email finds the only smtp credential among many", test_email_default_credential) ||
	    !CU_add_test(s, "every tool call is audited", test_audit) ||
	    !CU_add_test(s, "usage counts tool calls", test_usage) ||
	    !CU_add_test(s, "a slow weather service: the tool's time limit", test_tool_timeout))
		return -1;
	return 0;
}
