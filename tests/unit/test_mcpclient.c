/* test_mcpclient: mcpclient_parse_response on JSON and SSE answers (no network), and the client's refusals. */
#include "mcpclient.h"
#include "suites.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses BODY as CONTENT_TYPE for id ID; checks the return code WANT_RC and, when given, the compact JSON of the
 * result (WANT_RESULT) or the error text (WANT_ERR). */
static void tmc_expect(const char *content_type, const char *body, long long id, int want_rc, const char *want_result,
		       const char *want_err)
{
	json_t *result = (json_t *)1;
	char err[256] = "";
	int rc = mcpclient_parse_response(content_type, body, strlen(body), id, &result, err, sizeof err);
	char *dump = result ? json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	int ok = rc == want_rc && (want_rc == 1) == (result != NULL) && (!want_result || (dump && strcmp(dump, want_result) == 0)) &&
		 (!want_err || strcmp(err, want_err) == 0);
	if (!ok)
		fprintf(stderr, "\nparse %s [%s] id %lld: rc %d result %s err \"%s\"\n", content_type, body, id, rc,
			dump ? dump : "NULL", err);
	CU_ASSERT_TRUE(ok);
	free(dump);
	json_decref(result);
}

static void tmc_json(void)
{
	tmc_expect("application/json", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1}}", 1, 1, "{\"a\":1}", NULL);
	tmc_expect("Application/JSON; charset=utf-8", "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}", 3, 1, "{}", NULL);
	/* A batch: the response with our id, whatever its place. */
	tmc_expect("application/json",
		   "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":[2]}]", 2,
		   1, "[2]", NULL);
	tmc_expect("application/json", "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}", 1, 0, NULL,
		   "the server's answer is not the response to the request");
	/* A request from the server with our id is not our response. */
	tmc_expect("application/json", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 1, 0, NULL, NULL);
	tmc_expect("application/json", "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":{}}", 1, 0, NULL, NULL);
	tmc_expect("application/json",
		   "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,\"message\":\"unknown tool:\\nnope\"}}", 1, 0,
		   NULL, "the server answered with error -32602: unknown tool: nope");
	tmc_expect("application/json", "{\"jsonrpc\":\"2.0\",\"id\":1}", 1, -1, NULL,
		   "the server sent a response without result or error");
	tmc_expect("application/json", "{\"jsonrpc\":", 1, -1, NULL, "the server sent a message that is not JSON");
	tmc_expect("text/html", "<html></html>", 1, -1, NULL,
		   "the server answered with a content type other than JSON or an event stream");
	tmc_expect(NULL, "{}", 1, -1, NULL, NULL);
	tmc_expect("application/jsonx", "{}", 1, -1, NULL, NULL);
}

static void tmc_sse(void)
{
	tmc_expect("text/event-stream", "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"ok\":true}}\n\n", 1,
		   1, "{\"ok\":true}", NULL);
	/* Comments, other events, other messages and CRLF / CR line ends; data lines joined with LF. */
	tmc_expect("text/event-stream; charset=utf-8",
		   ": hello\r\nevent: ping\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"no\"}\r\n\r\n"
		   "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n\r\n"
		   "id: 4\rdata: {\"jsonrpc\":\"2.0\",\rdata:\"id\":1,\"result\":\"yes\"}\r\r",
		   1, 1, "\"yes\"", NULL);
	/* "data" with no colon is an empty data line; unknown fields are ignored. */
	tmc_expect("text/event-stream", "retry: 10\ndata\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}\n\n", 1, 1, "1",
		   NULL);
	/* An event left unterminated at the end is discarded. */
	tmc_expect("text/event-stream", "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n", 1, 0, NULL,
		   "the server's event stream ended without the response");
	tmc_expect("text/event-stream", "", 1, 0, NULL, "the server's event stream ended without the response");
	tmc_expect("text/event-stream",
		   "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"boom\"}}\n\n", 1, 0, NULL,
		   "the server answered with error -32000: boom");
	tmc_expect("text/event-stream", "data: not json\n\n", 1, -1, NULL, "the server sent a message that is not JSON");
	/* The first matching response wins; what follows is not read. */
	tmc_expect("text/event-stream",
		   "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"first\"}\n\ndata: garbage\n\n", 1, 1, "\"first\"", NULL);
}

/* Feeds BODY to an incremental reader STEP bytes more each time (a stream arriving in small chunks) and checks
 * it decides as one whole parse does (same rc, same result), having looked at each byte at most twice. */
static void tmc_feed_like_whole(const char *body, size_t len, long long id, size_t step)
{
	mcpclient_sse whole, inc;
	mcpclient_sse_init(&whole, id);
	int want = mcpclient_sse_feed(&whole, body, len);
	mcpclient_sse_init(&inc, id);
	int rc = 2;
	for (size_t n = 0; rc == 2 && n < len + step; n += step)
		rc = mcpclient_sse_feed(&inc, body, n < len ? n : len);
	int same = rc == want && (!whole.result) == (!inc.result) &&
		   (!whole.result || json_equal(whole.result, inc.result)) && strcmp(whole.err, inc.err) == 0;
	if (!same)
		fprintf(stderr, "\nincremental (step %zu) rc %d err \"%s\", whole rc %d err \"%s\" for [%.200s]\n", step, rc,
			inc.err, want, whole.err, body);
	CU_ASSERT_TRUE(same);
	CU_ASSERT_TRUE(inc.examined <= 2 * len);
	mcpclient_sse_free(&whole);
	mcpclient_sse_free(&inc);
}

static void tmc_sse_incremental(void)
{
	static const char *const BODIES[] = {
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"ok\":true}}\n\n",
		": hello\r\nevent: ping\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"no\"}\r\n\r\n"
		"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n\r\n"
		"id: 4\rdata: {\"jsonrpc\":\"2.0\",\rdata:\"id\":1,\"result\":\"yes\"}\r\r",
		/* A CRLF cut between its CR and its LF is one line end, not a line end and a blank line (which would
		 * dispatch half an event). */
		"data: {\"jsonrpc\":\"2.0\",\r\ndata: \"id\":1,\"result\":2}\r\n\r\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n",
		"data: not json\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"boom\"}}\n\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"first\"}\n\ndata: garbage\n\n",
		"",
		"\r",
		"\r\n\r\n\n\r",
	};
	for (size_t i = 0; i < sizeof BODIES / sizeof *BODIES; i++)
		for (size_t step = 1; step <= 4; step++)
			tmc_feed_like_whole(BODIES[i], strlen(BODIES[i]), 1, step);

	/* Byte by byte, the CRLF case still finds the joined data. */
	mcpclient_sse s;
	const char *b = BODIES[2];
	mcpclient_sse_init(&s, 1);
	int rc = 2;
	size_t decided = 0;
	for (size_t n = 0; n <= strlen(b); n++)
		if ((rc = mcpclient_sse_feed(&s, b, n)) != 2 && !decided)
			decided = n;
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_EQUAL(decided, strlen(b) - 1); /* at the CR of the blank line */
	CU_ASSERT_TRUE(json_integer_value(s.result) == 2);
	mcpclient_sse_free(&s);

	/* A large stream in tiny chunks: a 300 KB data line and 2,000 notifications before the response. Fed one byte
	 * more each time, the reader's work stays linear (a re-parse per chunk would look at ~10^10 bytes). */
	size_t cap = 600000, len = 0;
	char *big = malloc(cap);
	CU_ASSERT_FATAL(big != NULL);
	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(big + len, cap - len,
					"event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
					"\"params\":{\"progress\":%d}}\r\n\r\n",
					i);
	len += (size_t)snprintf(big + len, cap - len, "data: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":\"");
	memset(big + len, 'x', 300000);
	len += 300000;
	len += (size_t)snprintf(big + len, cap - len, "\"}\n\n");
	mcpclient_sse_init(&s, 9);
	rc = 2;
	for (size_t n = 1; n <= len && rc == 2; n++)
		rc = mcpclient_sse_feed(&s, big, n);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_EQUAL(json_string_length(s.result), 300000);
	CU_ASSERT_TRUE(s.examined <= 2 * len);
	mcpclient_sse_free(&s);
	tmc_feed_like_whole(big, len, 9, 4093);
	free(big);
}

static void tmc_client_refusals(void)
{
	arena *a = arena_new();
	char err[256];
	json_t *tools = NULL;
	/* The URL guard and the webhook URL policy hold before any traffic. */
	mcpclient_options o = {.url = "http://169.254.169.254/mcp", .allow_private = 1, .timeout_ms = 2000};
	mcpclient *c = mcpclient_new(a, &o);
	CU_ASSERT_EQUAL(mcpclient_list_tools(c, &tools, err, sizeof err), -1);
	CU_ASSERT_PTR_NULL(tools);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "initialize: "));
	mcpclient_options o2 = {.url = "ftp://127.0.0.1/mcp", .allow_private = 1, .timeout_ms = 2000};
	c = mcpclient_new(a, &o2);
	json_t *result = NULL;
	CU_ASSERT_EQUAL(mcpclient_call_tool(c, "echo", NULL, &result, err, sizeof err), -1);
	CU_ASSERT_PTR_NULL(result);
	CU_ASSERT_STRING_EQUAL(err, "initialize: URL scheme is not allowed");
	/* A bearer token with a line break never becomes a header. */
	mcpclient_options o3 = {.url = "http://127.0.0.1:9/mcp", .bearer_token = "a\r\nX-Evil: 1", .allow_private = 1,
				.timeout_ms = 2000};
	c = mcpclient_new(a, &o3);
	CU_ASSERT_EQUAL(mcpclient_initialize(c, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "initialize: header contains CR, LF or NUL");
	mcpclient_close(c);
	arena_free(a);
}

int test_mcpclient_suite(void)
{
	CU_pSuite s = CU_add_suite("mcpclient", NULL, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "JSON answers: single, batch, errors, other ids", tmc_json) ||
	    !CU_add_test(s, "SSE answers: comments, other events, multi-line data, line ends, unterminated", tmc_sse) ||
	    !CU_add_test(s, "SSE read incrementally: same answers fed in chunks, CRLF cut in two, linear work",
			 tmc_sse_incremental) ||
	    !CU_add_test(s, "refusals before any traffic: guard, scheme, header injection", tmc_client_refusals))
		return -1;
	return 0;
}
