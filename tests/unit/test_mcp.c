/* test_mcp: the MCP endpoint's tool table and the answers of mcp_handle that need no database. */
#include "handlers.h"
#include "mcp_tools.h"
#include "request.h"
#include "suites.h"

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Every tool: a unique snake_case name, a description, an object inputSchema that forbids other arguments and
 * an object outputSchema; the list the issue names is all there. */
static void test_tool_table(void)
{
	static const char *const WANT[] = {"get_weather", "list_calendar_events", "send_email", "list_agents",
					   "get_agent", "trigger_agent", "get_run", "list_pending_approvals", NULL};
	int n = mcp_tools_count();
	CU_ASSERT_EQUAL(n, 8);
	for (int i = 0; i < n; i++) {
		json_t *d = mcp_tools_describe(mcp_tools_at(i));
		const char *name = json_string_value(json_object_get(d, "name"));
		CU_ASSERT_PTR_NOT_NULL_FATAL(name);
		CU_ASSERT_EQUAL(mcp_tools_index(name), i);
		CU_ASSERT_STRING_EQUAL(mcp_tools_name(mcp_tools_at(i)), name);
		CU_ASSERT_EQUAL(strspn(name, "abcdefghijklmnopqrstuvwxyz_"), strlen(name));
		CU_ASSERT_PTR_NOT_NULL(json_string_value(json_object_get(d, "description")));
		json_t *in = json_object_get(d, "inputSchema"), *out = json_object_get(d, "outputSchema");
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(in, "type")), "object");
		CU_ASSERT_TRUE(json_is_false(json_object_get(in, "additionalProperties")));
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "type")), "object");
		CU_ASSERT_TRUE(json_is_object(json_object_get(d, "annotations")));
		json_decref(d);
	}
	for (const char *const *w = WANT; *w; w++)
		CU_ASSERT_PTR_NOT_NULL(mcp_tools_find(*w));
	CU_ASSERT_PTR_NULL(mcp_tools_find("nope"));
	CU_ASSERT_EQUAL(mcp_tools_index("nope"), -1);
	CU_ASSERT_PTR_NULL(mcp_tools_at(n));
}

/* POST /mcp with BODY and the protocol version header VERSION (NULL: none): the status, *OUT the parsed answer. */
static int post(const char *body, const char *version, const char *accept, json_t **out)
{
	static settings cfg;
	static app ap;
	ap.cfg = &cfg;
	request r;
	memset(&r, 0, sizeof r);
	r.app = &ap;
	r.a = arena_new();
	r.method = "POST";
	r.uri = "/mcp";
	r.request_id = "unit";
	r.content_type = "application/json";
	r.accept = accept;
	r.mcp_protocol_version = version;
	r.body = body;
	r.body_len = strlen(body);
	CU_ASSERT_EQUAL(mcp_handle(&r), 0);
	size_t len;
	const char *text = req_body_text(&r, &len);
	*out = text ? json_loadb(text, len, 0, NULL) : NULL;
	int status = r.status;
	arena_free(r.a);
	return status;
}

static void test_handle(void)
{
	json_t *v;
	CU_ASSERT_EQUAL(post("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}", NULL, NULL, &v), 200);
	CU_ASSERT_EQUAL(json_object_size(v), 3);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "id")), 0);
	CU_ASSERT_TRUE(json_is_object(json_object_get(v, "result")));
	json_decref(v);
	/* initialize echoes a supported revision, else offers 2025-11-25 */
	CU_ASSERT_EQUAL(post("{\"jsonrpc\":\"2.0\",\"id\":\"i\",\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
			     "\"2025-06-18\"}}",
			     NULL, NULL, &v),
			200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(v, "result"), "protocolVersion")),
			       "2025-06-18");
	json_decref(v);
	CU_ASSERT_EQUAL(post("{\"jsonrpc\":\"2.0\",\"id\":\"i\",\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
			     "\"2030-01-01\"}}",
			     NULL, NULL, &v),
			200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(v, "result"), "protocolVersion")),
			       "2025-11-25");
	json_decref(v);
	/* a batch of notifications: 202 without a body; batches only for 2025-03-26 */
	CU_ASSERT_EQUAL(post("[{\"jsonrpc\":\"2.0\",\"method\":\"a\"}]", NULL, NULL, &v), 202);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL(post("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", "2025-06-18", NULL, &v), 400);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(v, "error"), "code")), -32600);
	json_decref(v);
	/* Accept ranges: q=0 allows nothing; JSON or an event stream is enough */
	CU_ASSERT_EQUAL(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", NULL, "application/json;q=0", &v), 406);
	json_decref(v);
	CU_ASSERT_EQUAL(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", NULL, " TEXT/Event-Stream ; q=0.5", &v),
			200);
	json_decref(v);
	/* parse errors and unsupported versions */
	CU_ASSERT_EQUAL(post("{", NULL, NULL, &v), 400);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(v, "error"), "code")), -32700);
	CU_ASSERT_TRUE(json_is_null(json_object_get(v, "id")));
	json_decref(v);
	CU_ASSERT_EQUAL(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", "2024-01-01", NULL, &v), 400);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(v, "error"), "code")), -32022);
	json_decref(v);
}

int test_mcp_suite(void)
{
	CU_pSuite s = CU_add_suite("mcp", NULL, NULL);
	if (!s || !CU_add_test(s, "the tool table", test_tool_table) ||
	    !CU_add_test(s, "answers without the database", test_handle))
		return -1;
	return 0;
}
