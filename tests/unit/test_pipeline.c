/* test_pipeline: the request pipeline's steps (route, body, query), rendering and the route table, driven
 * without FastCGI or databases. */
#include "suites.h"

#include "apierror.h"
#include "cursor.h"
#include "ids.h"
#include "pipeline.h"
#include "request.h"
#include "routes.h"
#include "scope.h"

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_REQUEST_ID "0123456789abcdef0123456789abcdef"

static void tp_init(request *r, const char *method, const char *uri)
{
	memset(r, 0, sizeof *r);
	r->a = arena_new();
	r->method = method;
	r->uri = uri;
	r->request_id = TP_REQUEST_ID;
}

static void tp_done(request *r)
{
	arena_free(r->a);
	r->a = NULL;
}

/* The value of response header NAME, or NULL. */
static const char *tp_header(const request *r, const char *name)
{
	for (int i = 0; i < r->nhdr; i++)
		if (strcmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

static int tp_status(const request *r)
{
	return APIERRORS[r->err].status;
}

/* Routes METHOD URI; returns pipeline_route's result. The caller frees with tp_done. */
static int tp_route(request *r, const char *method, const char *uri)
{
	tp_init(r, method, uri);
	return pipeline_route(r);
}

/* ---------------------------------------------------------------- routing */

static void tp_expect_route(const char *method, const char *uri, const char *want_method, const char *want_path,
			    const char *param0)
{
	request r;
	int rc = tp_route(&r, method, uri);
	if (rc != 0)
		fprintf(stderr, "\n%s %s: not routed (error %d)\n", method, uri, (int)r.err);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(r.err, ERR_NONE);
	CU_ASSERT_PTR_NOT_NULL(r.route);
	if (r.route) {
		CU_ASSERT_STRING_EQUAL(r.route->method, want_method);
		CU_ASSERT_STRING_EQUAL(r.route->path, want_path);
	}
	CU_ASSERT_EQUAL(r.nparams, param0 ? 1 : 0);
	if (param0 && r.nparams == 1)
		CU_ASSERT_STRING_EQUAL(r.param[0], param0);
	tp_done(&r);
}

static void tp_expect_404(const char *method, const char *uri)
{
	request r;
	int rc = tp_route(&r, method, uri);
	if (r.err != ERR_ROUTE_NOT_FOUND)
		fprintf(stderr, "\n%s %.80s: error %d, want route_not_found\n", method, uri ? uri : "(null)", (int)r.err);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(r.err, ERR_ROUTE_NOT_FOUND);
	CU_ASSERT_EQUAL(tp_status(&r), 404);
	CU_ASSERT_PTR_NULL(tp_header(&r, "Allow"));
	tp_done(&r);
}

static void tp_expect_405(const char *method, const char *uri, const char *allow)
{
	request r;
	int rc = tp_route(&r, method, uri);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(r.err, ERR_METHOD_NOT_ALLOWED);
	CU_ASSERT_EQUAL(tp_status(&r), 405);
	const char *got = tp_header(&r, "Allow");
	CU_ASSERT_PTR_NOT_NULL(got);
	if (got) {
		if (strcmp(got, allow) != 0)
			fprintf(stderr, "\n%s %s: Allow '%s', want '%s'\n", method, uri, got, allow);
		CU_ASSERT_STRING_EQUAL(got, allow);
	}
	tp_done(&r);
}

static void tp_route_exact(void)
{
	tp_expect_route("GET", "/healthz", "GET", "/healthz", NULL);
	tp_expect_route("GET", "/readyz", "GET", "/readyz", NULL);
	tp_expect_route("GET", "/api/v1/agents", "GET", "/api/v1/agents", NULL);
	tp_expect_route("POST", "/api/v1/agents", "POST", "/api/v1/agents", NULL);
	tp_expect_route("GET", "/api/v1/agents/agt_x", "GET", "/api/v1/agents/{id}", "agt_x");
	tp_expect_route("PATCH", "/api/v1/agents/agt_x", "PATCH", "/api/v1/agents/{id}", "agt_x");
	tp_expect_route("DELETE", "/api/v1/agents/agt_x", "DELETE", "/api/v1/agents/{id}", "agt_x");
	tp_expect_route("POST", "/api/v1/agents/agt_abc/pause", "POST", "/api/v1/agents/{id}/pause", "agt_abc");
	tp_expect_route("POST", "/api/v1/agents/agt_abc/resume", "POST", "/api/v1/agents/{id}/resume", "agt_abc");

	/* The query is split off before matching. */
	request r;
	CU_ASSERT_EQUAL(tp_route(&r, "GET", "/api/v1/agents?limit=5&cursor=abc"), 0);
	CU_ASSERT_STRING_EQUAL(r.path, "/api/v1/agents");
	CU_ASSERT_STRING_EQUAL(r.query, "limit=5&cursor=abc");
	tp_done(&r);
	CU_ASSERT_EQUAL(tp_route(&r, "GET", "/api/v1/agents"), 0);
	CU_ASSERT_STRING_EQUAL(r.path, "/api/v1/agents");
	CU_ASSERT_STRING_EQUAL(r.query, "");
	tp_done(&r);
	CU_ASSERT_EQUAL(tp_route(&r, "GET", "/api/v1/agents?"), 0);
	CU_ASSERT_STRING_EQUAL(r.query, "");
	tp_done(&r);
	/* A real id is captured whole. */
	char id[IDS_MAX_LEN], uri[128];
	ids_new("agt_", id);
	snprintf(uri, sizeof uri, "/api/v1/agents/%s/pause?x=1", id);
	CU_ASSERT_EQUAL(tp_route(&r, "POST", uri), 0);
	CU_ASSERT_EQUAL(r.nparams, 1);
	CU_ASSERT_STRING_EQUAL(r.param[0], id);
	CU_ASSERT_STRING_EQUAL(r.query, "x=1");
	tp_done(&r);
}

static void tp_route_not_found(void)
{
	static const char *paths[] = {
		"/api/v1/agents/", "/api/v1/agents//", "//api/v1/agents", "/api//v1/agents", "/api/v1//agents",
		"/api/v1/agents/agt_x//pause", "/api/v1/agents/agt_x/pause/", "/api/v1/agents//pause",
		"/api/v1/agents/agt_x/pause/extra", "/healthz/", "//healthz", "/healthz//", "", "healthz",
		"api/v1/agents", "/API/v1/agents", "/api/v1/Agents", "/api/v1/agent", "/api/v1/agentsx",
		"/api/v1", "/api", "/", "/api/v1/agents%2Fagt_x", "/api%2Fv1%2Fagents", "/api/v1/agents/agt_x/%70ause",
		"/api/v1/agents/agt_x/PAUSE", "/api/v2/agents", "/api/v1/agents/./agt_x",
		"/unknown", "/api/v1/agents\\agt_x/pause/x",
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		tp_expect_404("GET", paths[i]);
		tp_expect_404("POST", paths[i]);
	}
	tp_expect_404("GET", NULL);

	/* An oversized segment, and a path over 1024 bytes. */
	char big[2048];
	int n = snprintf(big, sizeof big, "/api/v1/agents/");
	memset(big + n, 'a', 200);
	big[n + 200] = '\0';
	tp_expect_404("GET", big);
	snprintf(big + n + 200, sizeof big - (size_t)n - 200, "/pause");
	tp_expect_404("POST", big);
	memset(big + n, 'a', 1100);
	big[n + 1100] = '\0';
	tp_expect_404("GET", big);
	/* A path made of many short segments, over 1024 in total. */
	n = 0;
	while (n < 1100)
		n += snprintf(big + n, sizeof big - (size_t)n, "/api");
	tp_expect_404("GET", big);
	/* A plausible segment still matches. */
	n = snprintf(big, sizeof big, "/api/v1/agents/");
	memset(big + n, 'b', 60);
	big[n + 60] = '\0';
	request r;
	CU_ASSERT_EQUAL(tp_route(&r, "GET", big), 0);
	tp_done(&r);
}

static void tp_route_encoded_slash(void)
{
	request r;

	/* %2F is not a separator: this is an agent path (with an id no agent can have), never the pause action. */
	CU_ASSERT_EQUAL(tp_route(&r, "GET", "/api/v1/agents/agt_x%2Fpause"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.route);
	CU_ASSERT_STRING_EQUAL(r.route->path, "/api/v1/agents/{id}");
	CU_ASSERT_STRING_EQUAL(r.param[0], "agt_x%2Fpause");
	CU_ASSERT_EQUAL(ids_valid("agt_", r.param[0]), 0);
	tp_done(&r);
	CU_ASSERT_EQUAL(tp_route(&r, "POST", "/api/v1/agents/agt_x%2Fpause"), -1);
	CU_ASSERT_EQUAL(r.err, ERR_METHOD_NOT_ALLOWED);
	CU_ASSERT(r.route == NULL || strcmp(r.route->path, "/api/v1/agents/{id}/pause") != 0);
	tp_done(&r);
	CU_ASSERT_EQUAL(tp_route(&r, "POST", "/api/v1/agents/agt_x%2fpause"), -1);
	CU_ASSERT_EQUAL(r.err, ERR_METHOD_NOT_ALLOWED);
	tp_done(&r);
}

static void tp_route_method_not_allowed(void)
{
	tp_expect_405("DELETE", "/api/v1/agents", "GET, POST");
	tp_expect_405("PUT", "/api/v1/agents", "GET, POST");
	tp_expect_405("PATCH", "/api/v1/agents?limit=5", "GET, POST");
	tp_expect_405("get", "/api/v1/agents", "GET, POST"); /* methods are case-sensitive */
	tp_expect_405("", "/api/v1/agents", "GET, POST");
	tp_expect_405("POST", "/api/v1/agents/agt_x", "GET, PATCH, DELETE");
	tp_expect_405("PUT", "/api/v1/agents/agt_x", "GET, PATCH, DELETE");
	tp_expect_405("GET", "/api/v1/agents/agt_x/pause", "POST");
	tp_expect_405("DELETE", "/api/v1/agents/agt_x/resume", "POST");
	tp_expect_405("POST", "/healthz", "GET");
	tp_expect_405("HEAD", "/readyz", "GET");

	request r;
	tp_init(&r, NULL, "/api/v1/agents");
	CU_ASSERT_EQUAL(pipeline_route(&r), -1);
	CU_ASSERT_EQUAL(r.err, ERR_METHOD_NOT_ALLOWED);
	tp_done(&r);
}

static void tp_routes_match_direct(void)
{
	arena *a = arena_new();
	const route *rt = NULL;
	const char *params[REQ_MAX_PATH_PARAMS] = {0};
	int np = -1;
	char allow[64];

	CU_ASSERT_EQUAL(routes_match(a, "GET", "/api/v1/agents/agt_q/pause", &rt, params, &np, allow, sizeof allow),
			ROUTE_NO_METHOD);
	CU_ASSERT_STRING_EQUAL(allow, "POST");
	CU_ASSERT_EQUAL(routes_match(a, "POST", "/api/v1/agents/agt_q/pause", &rt, params, &np, allow, sizeof allow),
			ROUTE_FOUND);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_STRING_EQUAL(rt->path, "/api/v1/agents/{id}/pause");
	CU_ASSERT_EQUAL(np, 1);
	CU_ASSERT_STRING_EQUAL(params[0], "agt_q");
	CU_ASSERT_PTR_NOT_NULL(rt->handler);
	np = -1;
	CU_ASSERT_EQUAL(routes_match(a, "GET", "/api/v1/agents", &rt, params, &np, allow, sizeof allow), ROUTE_FOUND);
	CU_ASSERT_EQUAL(np, 0);
	CU_ASSERT_EQUAL(rt->flags & ROUTE_LIST, ROUTE_LIST);
	CU_ASSERT_EQUAL(routes_match(a, "GET", "/nope", &rt, params, &np, allow, sizeof allow), ROUTE_NO_PATH);
	CU_ASSERT_STRING_EQUAL(allow, "");
	CU_ASSERT_EQUAL(routes_match(a, "GET", NULL, &rt, params, &np, allow, sizeof allow), ROUTE_NO_PATH);
	CU_ASSERT_EQUAL(routes_match(a, "GET", "", &rt, params, &np, allow, sizeof allow), ROUTE_NO_PATH);
	/* A small ALLOW buffer is never overrun and stays terminated. */
	char tiny[6];
	memset(tiny, 'x', sizeof tiny);
	CU_ASSERT_EQUAL(routes_match(a, "PUT", "/api/v1/agents/agt_q", &rt, params, &np, tiny, sizeof tiny),
			ROUTE_NO_METHOD);
	CU_ASSERT(memchr(tiny, '\0', sizeof tiny) != NULL);
	arena_free(a);
}

/* ---------------------------------------------------------------- query */

/* Routes and parses the query of GET URI; returns pipeline_query's result (route must succeed). */
static int tp_query(request *r, const char *uri)
{
	if (tp_route(r, "GET", uri) != 0) {
		CU_FAIL("route failed");
		return -2;
	}
	return pipeline_query(r);
}

static void tp_expect_query_error(const char *uri, enum apierror err, const char *param)
{
	request r;
	int rc = tp_query(&r, uri);
	if (r.err != err)
		fprintf(stderr, "\nGET %.100s: error %d, want %d\n", uri, (int)r.err, (int)err);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(r.err, err);
	CU_ASSERT_EQUAL(tp_status(&r), 400);
	if (param) {
		CU_ASSERT_PTR_NOT_NULL(r.err_param);
		if (r.err_param)
			CU_ASSERT_STRING_EQUAL(r.err_param, param);
	} else {
		CU_ASSERT_PTR_NULL(r.err_param);
	}
	tp_done(&r);
}

static void tp_expect_limit(const char *uri, int limit)
{
	request r;
	int rc = tp_query(&r, uri);
	if (rc != 0)
		fprintf(stderr, "\nGET %s: error %d\n", uri, (int)r.err);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(r.err, ERR_NONE);
	CU_ASSERT_EQUAL(r.limit, limit);
	CU_ASSERT_STRING_EQUAL(r.cursor_id, "");
	tp_done(&r);
}

static void tp_query_limit(void)
{
	tp_expect_limit("/api/v1/agents", 20);
	tp_expect_limit("/api/v1/agents?", 20);
	tp_expect_limit("/api/v1/agents?limit=1", 1);
	tp_expect_limit("/api/v1/agents?limit=100", 100);
	tp_expect_limit("/api/v1/agents?limit=20", 20);
	tp_expect_limit("/api/v1/agents?limit=007", 7);
	tp_expect_limit("/api/v1/agents?limit=%31%30", 10);
	tp_expect_limit("/api/v1/agents?li%6Dit=5", 5);
	tp_expect_limit("/api/v1/agents?&&limit=5&", 5);

	static const char *bad[] = {"0", "101", "abc", "-1", "1.5", "", "1e2", "+5", "%205", "5%20", "5+",
				    "0x10", "99999999999999999999", "%35%30%30", "1,2"};
	char uri[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(uri, sizeof uri, "/api/v1/agents?limit=%s", bad[i]);
		tp_expect_query_error(uri, ERR_QUERY_INVALID, "limit");
	}
	tp_expect_query_error("/api/v1/agents?limit", ERR_QUERY_INVALID, "limit");
	/* A parameter may appear once. */
	tp_expect_query_error("/api/v1/agents?limit=5&limit=5", ERR_QUERY_INVALID, "limit");
	tp_expect_query_error("/api/v1/agents?limit=5&limit=6", ERR_QUERY_INVALID, "limit");
	tp_expect_query_error("/api/v1/agents?limit=5&lim%69t=5", ERR_QUERY_INVALID, "limit");
}

static void tp_query_unknown_and_escapes(void)
{
	tp_expect_query_error("/api/v1/agents?foo=1", ERR_QUERY_UNKNOWN, "foo");
	tp_expect_query_error("/api/v1/agents?limit=5&foo", ERR_QUERY_UNKNOWN, "foo");
	tp_expect_query_error("/api/v1/agents?LIMIT=5", ERR_QUERY_UNKNOWN, "LIMIT");
	tp_expect_query_error("/api/v1/agents?limit =5", ERR_QUERY_UNKNOWN, "limit ");
	tp_expect_query_error("/api/v1/agents?=5", ERR_QUERY_UNKNOWN, NULL);
	/* Echoed names must be text: invalid UTF-8 is refused as such (found by fuzz_query). */
	tp_expect_query_error("/api/v1/agents?%ff%fe=1", ERR_QUERY_INVALID, NULL);
	tp_expect_query_error("/api/v1/agents?limit=%c3", ERR_QUERY_INVALID, NULL);
	/* limit and cursor belong to list routes only. */
	tp_expect_query_error("/api/v1/agents/agt_x?limit=5", ERR_QUERY_UNKNOWN, "limit");
	tp_expect_query_error("/healthz?cursor=x", ERR_QUERY_UNKNOWN, "cursor");
	/* Malformed percent-escapes and NUL. */
	static const char *bad[] = {"limit=%zz", "limit=%4", "limit=%", "limit=5%", "limit=%g0", "li%mit=5",
				    "limit=%00", "lim%00it=5", "cursor=%", "%=1"};
	char uri[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(uri, sizeof uri, "/api/v1/agents?%s", bad[i]);
		request r;
		CU_ASSERT_EQUAL(tp_query(&r, uri), -1);
		CU_ASSERT_EQUAL(r.err, ERR_QUERY_INVALID);
		CU_ASSERT_EQUAL(tp_status(&r), 400);
		tp_done(&r);
	}
	/* A long query string is refused, not parsed. */
	char *big = malloc(5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	int n = snprintf(big, 5000, "/api/v1/agents?limit=5&cursor=");
	memset(big + n, 'A', 4000);
	big[n + 4000] = '\0';
	request r;
	CU_ASSERT_EQUAL(tp_query(&r, big), -1);
	CU_ASSERT(r.err == ERR_QUERY_INVALID || r.err == ERR_CURSOR_INVALID);
	tp_done(&r);
	free(big);
}

static void tp_query_cursor(void)
{
	char id[IDS_MAX_LEN], cur[CURSOR_MAX_LEN], uri[256];

	ids_new("agt_", id);
	cursor_encode(id, cur);
	snprintf(uri, sizeof uri, "/api/v1/agents?cursor=%s", cur);
	request r;
	CU_ASSERT_EQUAL(tp_query(&r, uri), 0);
	CU_ASSERT_STRING_EQUAL(r.cursor_id, id);
	CU_ASSERT_EQUAL(r.limit, 20);
	tp_done(&r);
	snprintf(uri, sizeof uri, "/api/v1/agents?limit=3&cursor=%s", cur);
	CU_ASSERT_EQUAL(tp_query(&r, uri), 0);
	CU_ASSERT_STRING_EQUAL(r.cursor_id, id);
	CU_ASSERT_EQUAL(r.limit, 3);
	CU_ASSERT_STRING_EQUAL(req_query(&r, "limit"), "3");
	CU_ASSERT_STRING_EQUAL(req_query(&r, "cursor"), cur);
	CU_ASSERT_PTR_NULL(req_query(&r, "other"));
	tp_done(&r);

	/* Garbled cursors. */
	tp_expect_query_error("/api/v1/agents?cursor=abc", ERR_CURSOR_INVALID, "cursor");
	tp_expect_query_error("/api/v1/agents?cursor=", ERR_CURSOR_INVALID, "cursor");
	tp_expect_query_error("/api/v1/agents?cursor", ERR_CURSOR_INVALID, "cursor");
	snprintf(uri, sizeof uri, "/api/v1/agents?cursor=%s", id);
	tp_expect_query_error(uri, ERR_CURSOR_INVALID, "cursor");
	snprintf(uri, sizeof uri, "/api/v1/agents?cursor=%.*s", (int)strlen(cur) - 1, cur);
	tp_expect_query_error(uri, ERR_CURSOR_INVALID, "cursor");
	snprintf(uri, sizeof uri, "/api/v1/agents?cursor=%s%%3D", cur);
	tp_expect_query_error(uri, ERR_CURSOR_INVALID, "cursor");
	/* A cursor of another type's id. */
	char run[IDS_MAX_LEN];
	ids_new("run_", run);
	cursor_encode(run, cur);
	snprintf(uri, sizeof uri, "/api/v1/agents?cursor=%s", cur);
	tp_expect_query_error(uri, ERR_CURSOR_INVALID, "cursor");
	/* Limit is checked first, then the cursor. */
	tp_expect_query_error("/api/v1/agents?cursor=abc&limit=0", ERR_QUERY_INVALID, "limit");
}

/* ---------------------------------------------------------------- body */

/* Routes METHOD URI and runs the body step on BODY (LEN bytes) with CONTENT_TYPE. */
static int tp_body(request *r, const char *method, const char *uri, const char *content_type, const char *body,
		   size_t len)
{
	if (tp_route(r, method, uri) != 0) {
		CU_FAIL("route failed");
		return -2;
	}
	r->content_type = content_type;
	r->body = body;
	r->body_len = len;
	return pipeline_body(r);
}

static void tp_expect_body(const char *method, const char *uri, const char *ct, const char *body,
			   enum apierror err, int status)
{
	request r;
	int rc = tp_body(&r, method, uri, ct, body, body ? strlen(body) : 0);
	if (r.err != err)
		fprintf(stderr, "\n%s %s [%s] %.60s: error %d, want %d\n", method, uri, ct ? ct : "-", body ? body : "",
			(int)r.err, (int)err);
	CU_ASSERT_EQUAL(rc, err == ERR_NONE ? 0 : -1);
	CU_ASSERT_EQUAL(r.err, err);
	CU_ASSERT_EQUAL(tp_status(&r), status);
	if (err == ERR_NONE && body && *body)
		CU_ASSERT(json_is_object(r.json));
	if (err != ERR_NONE)
		CU_ASSERT_PTR_NULL(r.json);
	tp_done(&r);
}

static void tp_body_content_type(void)
{
	const char *b = "{\"name\":\"x\"}";
	tp_expect_body("POST", "/api/v1/agents", "application/json", b, ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents", "application/json; charset=utf-8", b, ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents", "application/json;charset=UTF-8", b, ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents", "Application/JSON", b, ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents", " application/json ", b, ERR_NONE, 200);
	static const char *bad[] = {"text/plain", "application/jsonp", "application/json-seq", "application/x-json",
				    "text/json", "multipart/form-data; boundary=x", "", "application/",
				    "application/merge-patch+json", "json", "application/json,text/plain"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		tp_expect_body("POST", "/api/v1/agents", bad[i], b, ERR_UNSUPPORTED_MEDIA_TYPE, 415);
	tp_expect_body("POST", "/api/v1/agents", NULL, b, ERR_UNSUPPORTED_MEDIA_TYPE, 415);
	/* Merge patch only where the route takes it. */
	tp_expect_body("PATCH", "/api/v1/agents/agt_x", "application/merge-patch+json", b, ERR_NONE, 200);
	tp_expect_body("PATCH", "/api/v1/agents/agt_x", "application/merge-patch+json; charset=utf-8", b, ERR_NONE,
		       200);
	tp_expect_body("PATCH", "/api/v1/agents/agt_x", "application/json", b, ERR_NONE, 200);
	tp_expect_body("PATCH", "/api/v1/agents/agt_x", "text/plain", b, ERR_UNSUPPORTED_MEDIA_TYPE, 415);
	tp_expect_body("PATCH", "/api/v1/agents/agt_x", NULL, b, ERR_UNSUPPORTED_MEDIA_TYPE, 415);
	tp_expect_body("PATCH", "/api/v1/agents/agt_x", "application/merge-patch+jsonx", b, ERR_UNSUPPORTED_MEDIA_TYPE,
		       415);
	tp_expect_body("POST", "/api/v1/agents/agt_x/pause", "application/merge-patch+json", b,
		       ERR_UNSUPPORTED_MEDIA_TYPE, 415);
}

static void tp_body_malformed(void)
{
	static const char *bad[] = {
		"{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":2}}", "[]", "[{\"a\":1}]", "\"s\"", "1", "null", "{",
		"{} {}", "{\"a\":1}x", "{\"a\":\"\xff\"}", "{\"a\":\"\\u0000\"}", "   ", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tp_expect_body("POST", "/api/v1/agents", "application/json", bad[i], ERR_BODY_MALFORMED, 400);
		tp_expect_body("PATCH", "/api/v1/agents/agt_x", "application/merge-patch+json", bad[i],
			       ERR_BODY_MALFORMED, 400);
	}
	/* Depth 32 is fine, 33 is not. */
	char deep[512];
	for (int depth = 32; depth <= 33; depth++) {
		size_t n = 0;
		for (int i = 0; i < depth; i++)
			n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"a\":");
		n += (size_t)snprintf(deep + n, sizeof deep - n, "1");
		for (int i = 0; i < depth; i++)
			n += (size_t)snprintf(deep + n, sizeof deep - n, "}");
		tp_expect_body("POST", "/api/v1/agents", "application/json", deep,
			       depth == 32 ? ERR_NONE : ERR_BODY_MALFORMED, depth == 32 ? 200 : 400);
	}
	/* The message is client-safe text, recorded for the error body. */
	request r;
	CU_ASSERT_EQUAL(tp_body(&r, "POST", "/api/v1/agents", "application/json", "{\"a\":1,\"a\":2}", 13), -1);
	CU_ASSERT_PTR_NOT_NULL(r.err_message);
	CU_ASSERT_PTR_NULL(r.err_param);
	tp_done(&r);
}

static void tp_body_size(void)
{
	request r;
	char *big = malloc(REQ_BODY_MAX + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);

	/* Truncated by the front end: 413 before the content type is even looked at. */
	CU_ASSERT_EQUAL(tp_body(&r, "POST", "/api/v1/agents", "application/json", "{}", 2), 0);
	tp_done(&r);
	tp_route(&r, "POST", "/api/v1/agents");
	r.content_type = "application/json";
	r.body = "{\"a\":";
	r.body_len = 5;
	r.body_truncated = 1;
	CU_ASSERT_EQUAL(pipeline_body(&r), -1);
	CU_ASSERT_EQUAL(r.err, ERR_BODY_TOO_LARGE);
	CU_ASSERT_EQUAL(tp_status(&r), 413);
	tp_done(&r);

	/* Exactly 1 MiB of valid JSON is accepted; one byte more is refused. */
	int n = snprintf(big, REQ_BODY_MAX, "{\"description\":\"");
	memset(big + n, 'x', REQ_BODY_MAX - (size_t)n - 2);
	memcpy(big + REQ_BODY_MAX - 2, "\"}", 2);
	big[REQ_BODY_MAX] = ' ';
	big[REQ_BODY_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(tp_body(&r, "POST", "/api/v1/agents", "application/json", big, REQ_BODY_MAX), 0);
	CU_ASSERT(json_is_object(r.json));
	tp_done(&r);
	CU_ASSERT_EQUAL(tp_body(&r, "POST", "/api/v1/agents", "application/json", big, REQ_BODY_MAX + 1), -1);
	CU_ASSERT_EQUAL(r.err, ERR_BODY_TOO_LARGE);
	CU_ASSERT_EQUAL(tp_status(&r), 413);
	tp_done(&r);
	CU_ASSERT_EQUAL(tp_body(&r, "PATCH", "/api/v1/agents/agt_x", "application/merge-patch+json", big,
				REQ_BODY_MAX + 1),
			-1);
	CU_ASSERT_EQUAL(r.err, ERR_BODY_TOO_LARGE);
	tp_done(&r);
	CU_ASSERT_EQUAL(tp_body(&r, "POST", "/api/v1/agents/agt_x/pause", "application/json", big, REQ_BODY_MAX + 1),
			-1);
	CU_ASSERT_EQUAL(r.err, ERR_BODY_TOO_LARGE);
	tp_done(&r);
	free(big);
}

static void tp_body_actions_and_bodyless(void)
{
	/* Action routes: an empty body needs no content type; a body needs JSON. */
	tp_expect_body("POST", "/api/v1/agents/agt_x/pause", NULL, NULL, ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents/agt_x/pause", NULL, "", ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents/agt_x/pause", "application/json", "", ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents/agt_x/resume", "text/plain", "", ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents/agt_x/pause", "application/json", "{}", ERR_NONE, 200);
	tp_expect_body("POST", "/api/v1/agents/agt_x/pause", NULL, "{}", ERR_UNSUPPORTED_MEDIA_TYPE, 415);
	tp_expect_body("POST", "/api/v1/agents/agt_x/pause", "application/json", "[]", ERR_BODY_MALFORMED, 400);
	tp_expect_body("POST", "/api/v1/agents/agt_x/pause", "application/json", "{\"a\":1,\"a\":1}",
		       ERR_BODY_MALFORMED, 400);
	request r;
	CU_ASSERT_EQUAL(tp_body(&r, "POST", "/api/v1/agents/agt_x/pause", NULL, NULL, 0), 0);
	CU_ASSERT_PTR_NULL(r.json);
	tp_done(&r);
	/* A create needs a body. */
	tp_expect_body("POST", "/api/v1/agents", "application/json", "", ERR_BODY_MALFORMED, 400);
	tp_expect_body("POST", "/api/v1/agents", NULL, NULL, ERR_UNSUPPORTED_MEDIA_TYPE, 415);

	/* Routes without a body refuse one. */
	tp_expect_body("GET", "/api/v1/agents", "application/json", "{}", ERR_BODY_MALFORMED, 400);
	tp_expect_body("GET", "/api/v1/agents", NULL, "x", ERR_BODY_MALFORMED, 400);
	tp_expect_body("GET", "/api/v1/agents/agt_x", "application/json", "{}", ERR_BODY_MALFORMED, 400);
	tp_expect_body("DELETE", "/api/v1/agents/agt_x", "application/json", "{}", ERR_BODY_MALFORMED, 400);
	tp_expect_body("GET", "/api/v1/agents", NULL, NULL, ERR_NONE, 200);
	tp_expect_body("GET", "/api/v1/agents", "application/json", "", ERR_NONE, 200);
	tp_expect_body("DELETE", "/api/v1/agents/agt_x", NULL, NULL, ERR_NONE, 200);
	tp_route(&r, "GET", "/api/v1/agents");
	r.body_truncated = 1;
	CU_ASSERT_EQUAL(pipeline_body(&r), -1);
	CU_ASSERT_EQUAL(tp_status(&r), 400);
	tp_done(&r);
}

/* ---------------------------------------------------------------- render */

/* Renders R; splits the CGI head and parses the JSON body (NULL when there is none). */
static json_t *tp_render(request *r, char *head, size_t headlen)
{
	const char *out = NULL;
	size_t outlen = 0;
	req_render(r, &out, &outlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(strnlen(out, outlen), outlen); /* no NUL inside */
	const char *sep = NULL;
	for (size_t i = 0; i + 4 <= outlen; i++)
		if (memcmp(out + i, "\r\n\r\n", 4) == 0) {
			sep = out + i;
			break;
		}
	CU_ASSERT_PTR_NOT_NULL_FATAL(sep);
	snprintf(head, headlen, "%.*s", (int)(sep + 2 - out), out);
	size_t blen = outlen - (size_t)(sep + 4 - out);
	if (blen == 0)
		return NULL;
	json_error_t e;
	json_t *body = json_loadb(sep + 4, blen, 0, &e);
	CU_ASSERT_PTR_NOT_NULL(body);
	return body;
}

/* Checks an error body: exactly the five members, with these values (PARAM NULL: JSON null). */
static void tp_check_error(json_t *body, enum apierror err, const char *param)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_EQUAL(json_object_size(body), 1);
	json_t *e = json_object_get(body, "error");
	CU_ASSERT_FATAL(json_is_object(e));
	CU_ASSERT_EQUAL(json_object_size(e), 5);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "type")), APIERRORS[err].type);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "code")), APIERRORS[err].code);
	const char *msg = json_string_value(json_object_get(e, "message"));
	CU_ASSERT(msg && msg[0]);
	if (param) {
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "param")), param);
	} else {
		CU_ASSERT(json_is_null(json_object_get(e, "param")));
	}
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "request_id")), TP_REQUEST_ID);
}

static void tp_render_errors(void)
{
	request r;
	char head[2048];
	json_t *body;

	tp_route(&r, "GET", "/nope");
	body = tp_render(&r, head, sizeof head);
	CU_ASSERT_EQUAL(strncmp(head, "Status: 404 Not Found\r\n", 23), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\r\nContent-Type: application/json\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\r\nX-Request-Id: " TP_REQUEST_ID "\r\n"));
	CU_ASSERT_EQUAL(r.status, 404);
	tp_check_error(body, ERR_ROUTE_NOT_FOUND, NULL);
	json_decref(body);
	tp_done(&r);

	tp_route(&r, "DELETE", "/api/v1/agents");
	body = tp_render(&r, head, sizeof head);
	CU_ASSERT_EQUAL(strncmp(head, "Status: 405 Method Not Allowed\r\n", 32), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\r\nAllow: GET, POST\r\n"));
	tp_check_error(body, ERR_METHOD_NOT_ALLOWED, NULL);
	json_decref(body);
	tp_done(&r);

	tp_query(&r, "/api/v1/agents?limit=0");
	body = tp_render(&r, head, sizeof head);
	CU_ASSERT_EQUAL(strncmp(head, "Status: 400 Bad Request\r\n", 25), 0);
	tp_check_error(body, ERR_QUERY_INVALID, "limit");
	json_decref(body);
	tp_done(&r);

	/* Only the first failure is recorded. */
	tp_init(&r, "GET", "/");
	CU_ASSERT_EQUAL(req_fail(&r, ERR_NOT_FOUND, "agent not found"), -1);
	CU_ASSERT_EQUAL(req_fail_param(&r, ERR_INTERNAL, "x", "later"), -1);
	CU_ASSERT_EQUAL(r.err, ERR_NOT_FOUND);
	body = tp_render(&r, head, sizeof head);
	tp_check_error(body, ERR_NOT_FOUND, NULL);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(body, "error"), "message")),
			       "agent not found");
	json_decref(body);
	tp_done(&r);

	/* Every error of the table renders with its status, a real reason phrase, type and code. */
	char want[64];
	for (int e = ERR_NONE + 1; e < ERR__MAX; e++) {
		CU_ASSERT(APIERRORS[e].status >= 400 && APIERRORS[e].status <= 599);
		CU_ASSERT(APIERRORS[e].type && APIERRORS[e].type[0]);
		CU_ASSERT(APIERRORS[e].code && APIERRORS[e].code[0]);
		tp_init(&r, "GET", "/");
		req_fail_param(&r, (enum apierror)e, e % 2 ? "field.sub" : NULL, "message text");
		body = tp_render(&r, head, sizeof head);
		snprintf(want, sizeof want, "Status: %d ", APIERRORS[e].status);
		CU_ASSERT_EQUAL(strncmp(head, want, strlen(want)), 0);
		const char *eol = strstr(head, "\r\n");
		CU_ASSERT(eol && strncmp(eol - 7, " Status", 7) != 0);
		tp_check_error(body, (enum apierror)e, e % 2 ? "field.sub" : NULL);
		json_decref(body);
		tp_done(&r);
	}
	/* Codes are unique per status. */
	for (int a = 1; a < ERR__MAX; a++)
		for (int b = a + 1; b < ERR__MAX; b++)
			CU_ASSERT(APIERRORS[a].status != APIERRORS[b].status ||
				  strcmp(APIERRORS[a].code, APIERRORS[b].code) != 0);
}

static void tp_render_success(void)
{
	request r;
	char head[2048];
	json_t *body;

	tp_init(&r, "GET", "/api/v1/agents/agt_x");
	CU_ASSERT_EQUAL(req_respond_data(&r, 200, json_pack("{s:s,s:n}", "id", "agt_x", "description")), 0);
	body = tp_render(&r, head, sizeof head);
	CU_ASSERT_EQUAL(strncmp(head, "Status: 200 OK\r\n", 16), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\r\nContent-Type: application/json\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\r\nX-Request-Id: " TP_REQUEST_ID "\r\n"));
	json_t *want = json_pack("{s:{s:s,s:n}}", "data", "id", "agt_x", "description");
	CU_ASSERT(json_equal(body, want));
	json_decref(want);
	json_decref(body);
	tp_done(&r);

	tp_init(&r, "POST", "/api/v1/agents");
	req_header(&r, "Location", "/api/v1/agents/agt_y");
	req_respond_data(&r, 201, json_object());
	body = tp_render(&r, head, sizeof head);
	CU_ASSERT_EQUAL(strncmp(head, "Status: 201 Created\r\n", 21), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\r\nLocation: /api/v1/agents/agt_y\r\n"));
	json_decref(body);
	tp_done(&r);

	/* 204: no body and no Content-Type. */
	tp_init(&r, "DELETE", "/api/v1/agents/agt_x");
	req_respond(&r, 204, NULL);
	body = tp_render(&r, head, sizeof head);
	CU_ASSERT_PTR_NULL(body);
	CU_ASSERT_EQUAL(strncmp(head, "Status: 204 No Content\r\n", 24), 0);
	CU_ASSERT_PTR_NULL(strstr(head, "Content-Type"));
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "X-Request-Id: " TP_REQUEST_ID));
	json_decref(body);
	tp_done(&r);

	/* A handler that set nothing renders as a 500, never an empty 200. */
	tp_init(&r, "GET", "/");
	body = tp_render(&r, head, sizeof head);
	CU_ASSERT_EQUAL(strncmp(head, "Status: 500 ", 12), 0);
	json_decref(body);
	tp_done(&r);
}

/* ---------------------------------------------------------------- pipeline_run without databases */

static void tp_run(request *r, const char *method, const char *uri)
{
	tp_init(r, method, uri);
	pipeline_run(r);
}

static void tp_run_public_and_order(void)
{
	request r;

	tp_run(&r, "GET", "/healthz");
	CU_ASSERT_EQUAL(r.err, ERR_NONE);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.out, "status")), "ok");
	tp_done(&r);
	tp_run(&r, "GET", "/healthz?verbose=1");
	CU_ASSERT_EQUAL(r.err, ERR_QUERY_UNKNOWN);
	tp_done(&r);

	/* Routing comes before authentication: 404 and 405 need no key. */
	tp_run(&r, "GET", "/api/v1/nothing");
	CU_ASSERT_EQUAL(r.err, ERR_ROUTE_NOT_FOUND);
	tp_done(&r);
	tp_run(&r, "DELETE", "/api/v1/agents");
	CU_ASSERT_EQUAL(r.err, ERR_METHOD_NOT_ALLOWED);
	tp_done(&r);

	/* No key: 401 with the bare challenge, before the body or query is looked at. */
	tp_run(&r, "GET", "/api/v1/agents?limit=0");
	CU_ASSERT_EQUAL(r.err, ERR_API_KEY_MISSING);
	CU_ASSERT_EQUAL(tp_status(&r), 401);
	CU_ASSERT_PTR_NOT_NULL(tp_header(&r, "WWW-Authenticate"));
	if (tp_header(&r, "WWW-Authenticate"))
		CU_ASSERT_STRING_EQUAL(tp_header(&r, "WWW-Authenticate"), "Bearer realm=\"agentplatform\"");
	tp_done(&r);

	/* A malformed key is refused before any lookup (there is no database here). */
	static const char *bad[] = {"Bearer abc", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer x",
				    "Bearer ap_live_000000000000000000000000000000000000"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tp_init(&r, "POST", "/api/v1/agents");
		r.authorization = bad[i];
		pipeline_run(&r);
		CU_ASSERT_EQUAL(r.err, ERR_API_KEY_INVALID);
		const char *www = tp_header(&r, "WWW-Authenticate");
		CU_ASSERT_PTR_NOT_NULL(www);
		if (www)
			CU_ASSERT_STRING_EQUAL(www, "Bearer realm=\"agentplatform\", error=\"invalid_token\"");
		tp_done(&r);
	}

	/* The request id from nginx is kept; anything else is replaced by 32 hex digits. */
	tp_run(&r, "GET", "/healthz");
	CU_ASSERT_STRING_EQUAL(r.request_id, TP_REQUEST_ID);
	tp_done(&r);
	static const char *bad_ids[] = {"", "short", "has space 12345", "x\r\nSet-Cookie: a=b",
					"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"};
	for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
		tp_init(&r, "GET", "/healthz");
		r.request_id = bad_ids[i];
		pipeline_run(&r);
		CU_ASSERT_EQUAL(strlen(r.request_id), 32);
		CU_ASSERT_EQUAL(strspn(r.request_id, "0123456789abcdef"), 32);
		tp_done(&r);
	}
	tp_init(&r, "GET", "/healthz");
	r.request_id = NULL;
	pipeline_run(&r);
	CU_ASSERT_PTR_NOT_NULL(r.request_id);
	tp_done(&r);
}

/* ---------------------------------------------------------------- route table */

static int tp_count_params(const char *path)
{
	int n = 0;
	for (const char *p = path; (p = strchr(p, '{')) != NULL; p++)
		n++;
	return n;
}

static void tp_route_table(void)
{
	CU_ASSERT_FATAL(ROUTES_COUNT > 0);
	for (int i = 0; i < ROUTES_COUNT; i++) {
		const route *rt = &ROUTES[i];
		const char *m = rt->method;
		CU_ASSERT_FATAL(m && rt->path);
		int known = !strcmp(m, "GET") || !strcmp(m, "POST") || !strcmp(m, "PATCH") || !strcmp(m, "DELETE");
		if (!known)
			fprintf(stderr, "\nroute %s %s: unknown method\n", m, rt->path);
		CU_ASSERT(known);
		CU_ASSERT_EQUAL(rt->path[0], '/');
		CU_ASSERT_PTR_NULL(strstr(rt->path, "//"));
		CU_ASSERT(strlen(rt->path) == 1 || rt->path[strlen(rt->path) - 1] != '/');
		CU_ASSERT_PTR_NULL(strchr(rt->path, '?'));
		CU_ASSERT_PTR_NOT_NULL(rt->handler);
		CU_ASSERT(rt->operation_id && rt->operation_id[0]);
		/* Scopes: every non-public route has one; public routes none. */
		if (rt->flags & ROUTE_PUBLIC) {
			CU_ASSERT_EQUAL(rt->scope, SCOPE_NONE);
		} else {
			if (!(rt->scope >= 0 && rt->scope < SCOPE__MAX))
				fprintf(stderr, "\nroute %s %s: no scope\n", m, rt->path);
			CU_ASSERT(rt->scope >= 0 && rt->scope < SCOPE__MAX);
		}
		/* Lists: GET, with a cursor prefix of an id type. */
		if (rt->flags & ROUTE_LIST) {
			CU_ASSERT_STRING_EQUAL(m, "GET");
			CU_ASSERT_PTR_NOT_NULL(rt->cursor_prefix);
			if (rt->cursor_prefix) {
				size_t pl = strlen(rt->cursor_prefix);
				CU_ASSERT(pl >= 2 && pl <= IDS_MAX_LEN - IDS_BODY_LEN - 1 &&
					  rt->cursor_prefix[pl - 1] == '_');
			}
		}
		/* Bodies only where a body makes sense. */
		if (rt->flags & (ROUTE_BODY | ROUTE_BODY_OPTIONAL))
			CU_ASSERT(!strcmp(m, "POST") || !strcmp(m, "PATCH"));
		if (rt->flags & ROUTE_MERGE_PATCH)
			CU_ASSERT_STRING_EQUAL(m, "PATCH");
		if (!strcmp(m, "PATCH"))
			CU_ASSERT(rt->flags & ROUTE_BODY);
		/* Every {param} has a slot; slots beyond them are empty; prefixes look like id prefixes. */
		int np = tp_count_params(rt->path);
		CU_ASSERT(np <= REQ_MAX_PATH_PARAMS);
		for (int k = 0; k < REQ_MAX_PATH_PARAMS; k++) {
			const char *pre = rt->id_prefix[k];
			if (k >= np) {
				CU_ASSERT_PTR_NULL(pre);
			} else if (pre) {
				size_t pl = strlen(pre);
				CU_ASSERT(pl >= 2 && pl <= IDS_MAX_LEN - IDS_BODY_LEN - 1 && pre[pl - 1] == '_');
			}
		}
		/* Braces are balanced whole segments. */
		for (const char *p = rt->path; (p = strchr(p, '{')) != NULL; p++) {
			const char *close = strchr(p, '}');
			CU_ASSERT(p[-1] == '/' && close && (close[1] == '\0' || close[1] == '/'));
		}
		/* No two routes share method and path; operation ids are unique. */
		for (int j = i + 1; j < ROUTES_COUNT; j++) {
			int dup = !strcmp(ROUTES[j].method, m) && !strcmp(ROUTES[j].path, rt->path);
			if (dup)
				fprintf(stderr, "\nduplicate route %s %s\n", m, rt->path);
			CU_ASSERT(!dup);
			CU_ASSERT(strcmp(ROUTES[j].operation_id, rt->operation_id) != 0);
		}
	}
}

/* Every route is reachable: a concrete path made from its pattern matches that very route. */
static void tp_route_table_reachable(void)
{
	arena *a = arena_new();
	for (int i = 0; i < ROUTES_COUNT; i++) {
		const route *rt = &ROUTES[i];
		char path[512], id[IDS_MAX_LEN];
		size_t n = 0;
		int k = 0;
		for (const char *p = rt->path; *p && n < sizeof path - 1;) {
			if (*p == '{') {
				const char *pre = k < REQ_MAX_PATH_PARAMS ? rt->id_prefix[k] : NULL;
				if (pre)
					ids_new(pre, id);
				else
					snprintf(id, sizeof id, "value%d", k);
				n += (size_t)snprintf(path + n, sizeof path - n, "%s", id);
				k++;
				p = strchr(p, '}');
				if (!p)
					break;
				p++;
			} else {
				path[n++] = *p++;
			}
		}
		path[n] = '\0';
		const route *got = NULL;
		const char *params[REQ_MAX_PATH_PARAMS] = {0};
		int np = -1;
		char allow[64];
		enum route_match m = routes_match(a, rt->method, path, &got, params, &np, allow, sizeof allow);
		if (m != ROUTE_FOUND || got != rt)
			fprintf(stderr, "\nroute %s %s: %s does not reach it\n", rt->method, rt->path, path);
		CU_ASSERT_EQUAL(m, ROUTE_FOUND);
		CU_ASSERT_PTR_EQUAL(got, rt);
		CU_ASSERT_EQUAL(np, k);
		/* And the ids it produced pass the pipeline's shape check. */
		for (int j = 0; j < np && j < REQ_MAX_PATH_PARAMS; j++)
			if (rt->id_prefix[j])
				CU_ASSERT_EQUAL(ids_valid(rt->id_prefix[j], params[j]), 1);
		/* The same path with a trailing slash is no route. */
		if (n > 1 && n < sizeof path - 1) {
			path[n] = '/';
			path[n + 1] = '\0';
			CU_ASSERT_EQUAL(routes_match(a, rt->method, path, &got, params, &np, allow, sizeof allow),
					ROUTE_NO_PATH);
		}
	}
	arena_free(a);
}

int test_pipeline_suite(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"route exact paths and params", tp_route_exact},
		{"route not found", tp_route_not_found},
		{"route encoded slash", tp_route_encoded_slash},
		{"route 405 with Allow", tp_route_method_not_allowed},
		{"routes_match", tp_routes_match_direct},
		{"query limit", tp_query_limit},
		{"query unknown and escapes", tp_query_unknown_and_escapes},
		{"query cursor", tp_query_cursor},
		{"body content type", tp_body_content_type},
		{"body malformed", tp_body_malformed},
		{"body size", tp_body_size},
		{"body actions and bodyless routes", tp_body_actions_and_bodyless},
		{"render errors", tp_render_errors},
		{"render success", tp_render_success},
		{"run: public route, step order, request id", tp_run_public_and_order},
		{"route table invariants", tp_route_table},
		{"route table reachable", tp_route_table_reachable},
	};
	CU_pSuite suite = CU_add_suite("pipeline", NULL, NULL);

	if (!suite)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
