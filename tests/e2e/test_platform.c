/* test_platform: health and readiness, Redis outage and recovery, request ids, routing edges, nginx's pages. */
#include "e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READY_WAIT_TRIES 100 /* x 200 ms: at most 20 s for /readyz to come back */

static struct tenant T; /* an all-scopes key for the suite */

static int init(void)
{
	return e2e_tenant(&T, "platform", "all", (const char *[]){"--expires", "never", "--rate-limit", "100000", NULL});
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int has_ratelimit_headers(const struct resp *r)
{
	return resp_header(r, "X-RateLimit-Limit") && resp_header(r, "X-RateLimit-Remaining") &&
	       resp_header(r, "X-RateLimit-Reset");
}

static int has_any_ratelimit_header(const struct resp *r)
{
	return resp_header(r, "X-RateLimit-Limit") || resp_header(r, "X-RateLimit-Remaining") ||
	       resp_header(r, "X-RateLimit-Reset") || resp_header(r, "Retry-After");
}

static void test_healthz(void)
{
	struct resp r = {0};
	http_get(&r, NULL, "/healthz");
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_is_object(r.json) && json_object_size(r.json) == 1);
		CHECK_STR(jstr(r.json, "status"), "ok");
		CHECK(resp_header(&r, "Content-Type") && strncmp(resp_header(&r, "Content-Type"), "application/json", 16) == 0);
	}
	CHECK(resp_header(&r, "X-Request-Id") != NULL);
	/* Public: a key is neither needed nor checked, and no rate limit applies. */
	struct req q = {.path = "/healthz", .authorization = "Bearer nonsense"};
	http_send(&q, &r);
	CHECK_STATUS(r, 200);
	CHECK(!has_any_ratelimit_header(&r));
	/* Known path, other method. */
	http_call(&r, "POST", NULL, "{}", "/healthz");
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
	CHECK_HEADER(r, "Allow", "GET");
	resp_free(&r);
}

static void test_readyz(void)
{
	struct resp r = {0};
	http_get(&r, NULL, "/readyz");
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_is_object(r.json) && json_object_size(r.json) == 2);
		CHECK_STR(jstr(r.json, "status"), "ready");
		CHECK(json_object_size(jget(r.json, "checks")) == 2);
		CHECK_STR(jstr(r.json, "checks.mariadb"), "ok");
		CHECK_STR(jstr(r.json, "checks.redis"), "ok");
	}
	CHECK(resp_header(&r, "X-Request-Id") != NULL);
	resp_free(&r);
}

/* Every response carries X-Request-Id; an error body's request_id is the same value. */
static void test_request_ids(void)
{
	static const char big_prefix[] = "{\"name\":\"";
	size_t big_len = 1024 * 1024 + 16;
	char *big = malloc(big_len + 1);
	if (!big)
		abort();
	memset(big, 'a', big_len);
	memcpy(big, big_prefix, sizeof big_prefix - 1);
	memcpy(big + big_len - 2, "\"}", 2);
	big[big_len] = '\0';

	struct req reqs[] = {
		{.path = "/healthz"},
		{.path = "/readyz"},
		{.path = "/api/v1/agents", .key = T.key},
		{.path = "/api/v1/agents"},                                   /* 401 from the API */
		{.path = "/api/v1/nope", .key = T.key},                       /* 404 from the API */
		{.method = "PUT", .path = "/api/v1/agents", .key = T.key},    /* 405 from the API */
		{.path = "/nope"},                                            /* 404 from nginx */
		{.method = "POST", .path = "/api/v1/agents", .key = T.key, .body = big}, /* 413 from nginx */
	};
	enum { N = sizeof reqs / sizeof reqs[0] };
	static const long want[N] = {200, 200, 200, 401, 404, 405, 404, 413};
	char seen[N][80];
	struct resp r = {0};
	for (int i = 0; i < N; i++) {
		http_send(&reqs[i], &r);
		const char *id = resp_header(&r, "X-Request-Id");
		e2e_check(r.status == want[i], __FILE__, __LINE__, "%s %s: status %ld, want %ld",
			  reqs[i].method ? reqs[i].method : "GET", reqs[i].path, r.status, want[i]);
		e2e_check(id && strlen(id) >= 16, __FILE__, __LINE__, "%s %s: X-Request-Id is %s",
			  reqs[i].method ? reqs[i].method : "GET", reqs[i].path, id ? id : "missing");
		snprintf(seen[i], sizeof seen[i], "%s", id ? id : "");
		if (r.status >= 400) {
			const char *rid = jstr(r.json, "error.request_id");
			e2e_check(rid && id && strcmp(rid, id) == 0, __FILE__, __LINE__,
				  "%s: error.request_id %s differs from X-Request-Id %s", reqs[i].path, rid ? rid : "(none)",
				  id ? id : "(none)");
		}
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			e2e_check(!seen[i][0] || strcmp(seen[i], seen[j]) != 0, __FILE__, __LINE__,
				  "requests %d and %d share the request id %s", i, j, seen[i]);

	/* The id is the server's, never one the client sends. */
	struct req spoof = {.path = "/api/v1/agents",
			    .key = T.key,
			    .headers = (const char *[]){"X-Request-Id: client-chosen-id-0001", NULL}};
	http_send(&spoof, &r);
	CHECK_STATUS(r, 200);
	CHECK(resp_header(&r, "X-Request-Id") && strcmp(resp_header(&r, "X-Request-Id"), "client-chosen-id-0001") != 0);
	resp_free(&r);
	free(big);
}

/* Route matching is exact and comes first: before authentication, before id shapes. */
static void test_routing_edges(void)
{
	struct resp r = {0};
	static const char *const not_routes[] = {
		"/api/v1/agents/",      "/api/v1//agents",     "/api/v1/agents%2Fagt_0000000000000000000000000",
		"/api/v1/Agents",       "/api/v1/agents/x/y",  "/api/v1/agents/agt_0000000000000000000000000/pause/",
		"/api/v1/",             "/api/v1",             "/api/v2/agents",
		"/api/v1/agents/./x",   "/nope",              "/hooks",
	};
	for (size_t i = 0; i < sizeof not_routes / sizeof not_routes[0]; i++) {
		/* With a valid key and without one: an unknown path is a 404 either way. */
		for (int with_key = 0; with_key < 2; with_key++) {
			struct req q = {.path = not_routes[i], .key = with_key ? T.key : NULL};
			http_send(&q, &r);
			if (e2e_check(r.status == 404, __FILE__, __LINE__, "GET %s (%s key): %ld, want 404 route_not_found",
				      not_routes[i], with_key ? "valid" : "no", r.status))
				CHECK_ERROR(r, 404, "route_not_found", NULL);
		}
	}

	/* An over-long path segment is no route. */
	char path[400];
	int n = snprintf(path, sizeof path, "/api/v1/agents/agt_");
	memset(path + n, 'a', 300);
	path[n + 300] = '\0';
	http_get(&r, T.key, "%s", path);
	CHECK_ERROR(r, 404, "route_not_found", NULL);

	/* Known path, other method: 405 with Allow, before authentication. */
	static const struct {
		const char *method, *path, *allow;
	} wrong[] = {
		{"PUT", "/api/v1/agents", "GET, POST"},
		{"DELETE", "/api/v1/agents", "GET, POST"},
		{"POST", "/api/v1/agents/agt_0000000000000000000000000", "GET, PATCH, DELETE"},
		{"PUT", "/api/v1/agents/agt_0000000000000000000000000", "GET, PATCH, DELETE"},
		{"GET", "/api/v1/agents/agt_0000000000000000000000000/pause", "POST"},
		{"DELETE", "/api/v1/agents/agt_0000000000000000000000000/resume", "POST"},
		{"POST", "/readyz", "GET"},
	};
	for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		for (int with_key = 0; with_key < 2; with_key++) {
			struct req q = {.method = wrong[i].method, .path = wrong[i].path, .key = with_key ? T.key : NULL};
			http_send(&q, &r);
			if (e2e_check(r.status == 405, __FILE__, __LINE__, "%s %s (%s key): status %ld, want 405",
				      wrong[i].method, wrong[i].path, with_key ? "valid" : "no", r.status)) {
				CHECK_ERROR(r, 405, "method_not_allowed", NULL);
				CHECK_HEADER(r, "Allow", wrong[i].allow);
			}
		}
	}

	/* An id of the wrong shape: 404 not_found after authentication (401 without a key). */
	static const char *const bad_ids[] = {"abc123", "agt_short", "key_0000000000000000000000000",
					      "agt_000000000000000000000000!", "agt_00000000000000000000000000",
					      "%2e%2e"};
	for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
		http_get(&r, T.key, "/api/v1/agents/%s", bad_ids[i]);
		CHECK_ERROR(r, 404, "not_found", NULL);
		http_call(&r, "POST", T.key, NULL, "/api/v1/agents/%s/pause", bad_ids[i]);
		CHECK_ERROR(r, 404, "not_found", NULL);
		http_get(&r, NULL, "/api/v1/agents/%s", bad_ids[i]);
		CHECK_ERROR(r, 401, "api_key_missing", NULL);
	}
	resp_free(&r);
}

/* nginx stops bodies over 1 MiB on /api/v1 with a JSON 413, whoever sends them. */
static void test_nginx_body_limit(void)
{
	size_t len = 1024 * 1024 + 1;
	char *body = malloc(len + 1);
	if (!body)
		abort();
	memset(body, ' ', len);
	body[0] = '{';
	body[len - 1] = '}';
	body[len] = '\0';
	struct resp r = {0};
	const char *keys[] = {T.key, NULL};
	for (int i = 0; i < 2; i++) {
		struct req q = {.method = "POST", .path = "/api/v1/agents", .key = keys[i], .body = body, .body_len = len};
		http_send(&q, &r);
		CHECK_ERROR(r, 413, "body_too_large", NULL);
		q.method = "PATCH";
		q.path = "/api/v1/agents/agt_0000000000000000000000000";
		http_send(&q, &r);
		CHECK_ERROR(r, 413, "body_too_large", NULL);
	}
	/* Just under the limit reaches the API (which parses it: spaces around an empty object). */
	struct req ok = {.method = "POST", .path = "/api/v1/agents", .key = T.key, .body = body, .body_len = len - 2};
	body[len - 3] = '}';
	http_send(&ok, &r);
	CHECK_ERROR(r, 422, "parameter_missing", "name");
	resp_free(&r);
	free(body);
}

/* nginx's own answers (outside the API's paths, malformed requests, limits) have the API's error shape. */
static void test_nginx_error_pages(void)
{
	struct resp r = {0};
	static const char *const outside[] = {"/nope", "/api", "/api/", "/healthz/", "/readyz/", "/index.html",
					      "/api/v1/docs/nope"};
	for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
		http_get(&r, NULL, "%s", outside[i]);
		if (e2e_check(r.status == 404, __FILE__, __LINE__, "GET %s: %ld, want 404", outside[i], r.status))
			CHECK_ERROR(r, 404, "route_not_found", NULL);
	}
	static const char *const malformed[] = {"/%", "/api/v1/agents%", "/api/v1/agents/%zz"};
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		http_get(&r, T.key, "%s", malformed[i]);
		if (e2e_check(r.status == 400, __FILE__, __LINE__, "GET %s: %ld, want 400", malformed[i], r.status))
			CHECK_ERROR(r, 400, "parameter_invalid", NULL);
	}
	/* A request line too long (414) and header lines too large (400). */
	size_t n = 70000;
	char *path = malloc(n + 32);
	if (!path)
		abort();
	int k = snprintf(path, n + 32, "/api/v1/agents?cursor=");
	memset(path + k, 'a', n);
	path[k + (int)n] = '\0';
	struct req q = {.path = path, .key = T.key};
	http_send(&q, &r);
	CHECK_ERROR(r, 414, "parameter_invalid", NULL);
	char *header = malloc(n + 32);
	if (!header)
		abort();
	k = snprintf(header, n + 32, "X-Padding: ");
	memset(header + k, 'a', n);
	header[k + (int)n] = '\0';
	struct req big = {.path = "/api/v1/agents", .key = T.key, .headers = (const char *[]){header, NULL}};
	http_send(&big, &r);
	CHECK_ERROR(r, 400, "parameter_invalid", NULL);
	free(path);
	free(header);
	resp_free(&r);
}

/* Polls /readyz until it answers 200, for at most READY_WAIT_TRIES x 200 ms. */
static int wait_ready(void)
{
	struct resp r = {0};
	int ok = 0;
	for (int i = 0; i < READY_WAIT_TRIES && !ok; i++) {
		if (http_get(&r, NULL, "/readyz") == 200)
			ok = 1;
		else
			sleep_ms(200);
	}
	resp_free(&r);
	return ok;
}

/* Redis down (rate_limit_redis_down = open): /readyz 503, requests served without rate-limit headers;
 * Redis back: ready again, the script reloaded (NOSCRIPT), the headers back on every worker. */
static void test_redis_outage(void)
{
	struct resp r = {0};
	/* Every worker holds a Redis connection... */
	for (int i = 0; i < 9; i++) {
		http_get(&r, T.key, "/api/v1/agents");
		CHECK_STATUS(r, 200);
		CHECK(has_ratelimit_headers(&r));
	}
	/* ...which a quick Redis restart closes: the next request on each worker reconnects and is still
	 * rate-limited (not waved through, as if Redis were down). */
	int restarted = e2e_stack("redis-stop") == 0;
	restarted = e2e_stack("redis-start") == 0 && restarted;
	e2e_check(restarted, __FILE__, __LINE__, "AP_TEST_STACK redis-stop + redis-start failed");
	if (restarted) {
		for (int i = 0; i < 9; i++) {
			http_get(&r, T.key, "/api/v1/agents");
			CHECK_STATUS(r, 200);
			e2e_check(has_ratelimit_headers(&r), __FILE__, __LINE__,
				  "request %d right after a Redis restart lacks the rate-limit headers", i);
		}
	} else if (!wait_ready()) {
		e2e_check(0, __FILE__, __LINE__, "/readyz is not 200 after the restart");
	}

	int stopped = e2e_stack("redis-stop");
	e2e_check(stopped == 0, __FILE__, __LINE__, "AP_TEST_STACK redis-stop exited %d", stopped);
	if (stopped == 0) {
		http_get(&r, NULL, "/readyz");
		CHECK_ERROR(r, 503, "dependency_unavailable", NULL);
		http_get(&r, NULL, "/healthz");
		CHECK_STATUS(r, 200);
		/* Several requests, so that every worker (each with its own Redis connection) serves some. */
		for (int i = 0; i < 9; i++) {
			http_get(&r, T.key, "/api/v1/agents");
			CHECK_STATUS(r, 200);
			e2e_check(!has_any_ratelimit_header(&r), __FILE__, __LINE__,
				  "request %d during the outage has rate-limit headers", i);
			CHECK(resp_header(&r, "X-Request-Id") != NULL);
		}
		http_get(&r, NULL, "/api/v1/agents");
		CHECK_ERROR(r, 401, "api_key_missing", NULL);
		http_get(&r, NULL, "/readyz");
		CHECK_ERROR(r, 503, "dependency_unavailable", NULL);
	}

	/* Always restart Redis, whatever failed above: the other tests need it. */
	int started = e2e_stack("redis-start");
	e2e_check(started == 0, __FILE__, __LINE__, "AP_TEST_STACK redis-start exited %d", started);
	int ready = wait_ready();
	e2e_check(ready, __FILE__, __LINE__, "/readyz did not answer 200 within 20 s of redis-start");
	if (ready) {
		for (int i = 0; i < 9; i++) {
			http_get(&r, T.key, "/api/v1/agents");
			CHECK_STATUS(r, 200);
			e2e_check(has_ratelimit_headers(&r), __FILE__, __LINE__,
				  "request %d after Redis came back lacks the rate-limit headers", i);
		}
		http_get(&r, NULL, "/readyz");
		CHECK_STATUS(r, 200);
		CHECK_STR(jstr(r.json, "checks.redis"), "ok");
	}
	resp_free(&r);
}

int suite_platform_register(void)
{
	CU_pSuite s = CU_add_suite("platform", init, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "healthz", test_healthz) || !CU_add_test(s, "readyz", test_readyz) ||
	    !CU_add_test(s, "X-Request-Id on every response", test_request_ids) ||
	    !CU_add_test(s, "routing edges: 404 route_not_found, 405 + Allow, id shapes", test_routing_edges) ||
	    !CU_add_test(s, "nginx 413 for bodies over 1 MiB", test_nginx_body_limit) ||
	    !CU_add_test(s, "nginx's own error pages: JSON, request id", test_nginx_error_pages) ||
	    !CU_add_test(s, "Redis outage and recovery", test_redis_outage))
		return -1;
	return 0;
}
