/* test_auth: API keys (each 401, scheme case, revocation, expiry, last_used_at), scopes, rate limits, admin CLI. */
#include "e2e.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WWW_MISSING "Bearer realm=\"agentplatform\""
#define WWW_INVALID "Bearer realm=\"agentplatform\", error=\"invalid_token\""
#define WWW_SCOPE(s) "Bearer realm=\"agentplatform\", error=\"insufficient_scope\", scope=\"" s "\""
#define ABSENT_ID "agt_0000000000000000000000000"

static int has_ratelimit_headers(const struct resp *r)
{
	return resp_header(r, "X-RateLimit-Limit") && resp_header(r, "X-RateLimit-Remaining") &&
	       resp_header(r, "X-RateLimit-Reset");
}

static int no_ratelimit_headers(const struct resp *r)
{
	return !resp_header(r, "X-RateLimit-Limit") && !resp_header(r, "X-RateLimit-Remaining") &&
	       !resp_header(r, "X-RateLimit-Reset");
}

/* Creates an echo agent with KEY into ID (64 bytes); 0 on 201. */
static int make_agent(const char *key, char *id)
{
	struct resp r = {0};
	http_call(&r, "POST", key, "{\"name\":\"auth test\",\"type\":\"echo\"}", "/api/v1/agents");
	int ok = r.status == 201 && jstr(r.json, "data.id");
	if (ok)
		snprintf(id, 64, "%s", jstr(r.json, "data.id"));
	else
		fprintf(stderr, "e2e: creating an agent failed: %ld %s\n", r.status, r.body);
	resp_free(&r);
	return ok ? 0 : -1;
}

/* The one-cell result of SQL with PARAMS into OUT (NULL cell: ""); 1 found, 0 NULL, -1 no row. */
static int sql_value(char *out, size_t n, const char *sql, const char *const *params)
{
	struct rows r;
	long got = e2e_sql(&r, sql, params);
	int res = -1;
	out[0] = '\0';
	if (got == 1) {
		res = r.cell[0][0] ? 1 : 0;
		snprintf(out, n, "%s", r.cell[0][0] ? r.cell[0][0] : "");
	}
	rows_free(&r);
	return res;
}

static void test_missing_key(void)
{
	struct resp r = {0};
	http_get(&r, NULL, "/api/v1/agents");
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", WWW_MISSING);
	CHECK(no_ratelimit_headers(&r));
	struct req empty = {.path = "/api/v1/agents", .authorization = ""};
	http_send(&empty, &r);
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", WWW_MISSING);
	/* Every agents route asks for the key first. */
	http_call(&r, "POST", NULL, "{\"name\":\"x\",\"type\":\"echo\"}", "/api/v1/agents");
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	http_call(&r, "PATCH", NULL, "{}", "/api/v1/agents/" ABSENT_ID);
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	http_call(&r, "DELETE", NULL, NULL, "/api/v1/agents/" ABSENT_ID);
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	http_call(&r, "POST", NULL, NULL, "/api/v1/agents/" ABSENT_ID "/resume");
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	/* Even a malformed body or query is not looked at before the key. */
	struct req junk = {.method = "POST", .path = "/api/v1/agents?bogus=1", .body = "{", .content_type = "text/plain"};
	http_send(&junk, &r);
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	resp_free(&r);
}

static void test_invalid_keys(void)
{
	struct tenant t;
	char key2[64], id2[64];
	if (!CHECK(e2e_tenant(&t, "auth-invalid", "all", NULL) == 0) || !CHECK(e2e_key(&t, "all", NULL, key2, id2) == 0))
		return;
	/* A well-formed key nobody has: a real one whose row is gone. */
	CHECK(e2e_sql(NULL, "DELETE FROM api_keys WHERE id = ?", (const char *[]){id2, NULL}) == 1);

	size_t n = strlen(t.key);
	char bad_sum[64], bad_body[64], longer[128], shorter[64], other_prefix[64], lower[64];
	snprintf(bad_sum, sizeof bad_sum, "%s", t.key);
	bad_sum[n - 1] = bad_sum[n - 1] == 'A' ? 'B' : 'A';
	snprintf(bad_body, sizeof bad_body, "%s", t.key);
	bad_body[10] = bad_body[10] == 'z' ? 'y' : 'z';
	snprintf(longer, sizeof longer, "%sA", t.key);
	snprintf(shorter, sizeof shorter, "%.*s", (int)n - 1, t.key);
	snprintf(other_prefix, sizeof other_prefix, "ap_test_%.50s", t.key + 8);
	snprintf(lower, sizeof lower, "AP_LIVE_%.50s", t.key + 8);

	char v[20][160];
	int nv = 0;
	snprintf(v[nv++], sizeof v[0], "Bearer %s", bad_sum);
	snprintf(v[nv++], sizeof v[0], "Bearer %s", bad_body);
	snprintf(v[nv++], sizeof v[0], "Bearer %s", longer);
	snprintf(v[nv++], sizeof v[0], "Bearer %s", shorter);
	snprintf(v[nv++], sizeof v[0], "Bearer %s", other_prefix);
	snprintf(v[nv++], sizeof v[0], "Bearer %s", lower);
	snprintf(v[nv++], sizeof v[0], "Bearer %s", key2); /* unknown */
	snprintf(v[nv++], sizeof v[0], "Bearer not-a-key");
	snprintf(v[nv++], sizeof v[0], "Bearer");
	snprintf(v[nv++], sizeof v[0], "Bearer%s", t.key);
	snprintf(v[nv++], sizeof v[0], "Basic %s", t.key);
	snprintf(v[nv++], sizeof v[0], "Token %s", t.key);
	snprintf(v[nv++], sizeof v[0], "%s", t.key);
	snprintf(v[nv++], sizeof v[0], "Bearer %s %s", t.key, t.key);

	struct resp r = {0};
	for (int i = 0; i < nv; i++) {
		struct req q = {.path = "/api/v1/agents", .authorization = v[i]};
		http_send(&q, &r);
		e2e_check(r.status == 401 && jstr(r.json, "error.code") &&
				  strcmp(jstr(r.json, "error.code"), "api_key_invalid") == 0,
			  __FILE__, __LINE__, "Authorization \"%s\": %ld %.200s, want 401 api_key_invalid", v[i], r.status,
			  r.body);
		if (r.status == 401)
			CHECK_ERROR(r, 401, "api_key_invalid", NULL);
		CHECK_HEADER(r, "WWW-Authenticate", WWW_INVALID);
		CHECK(no_ratelimit_headers(&r));
	}
	/* The real key still works. */
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	resp_free(&r);
}

static void test_scheme_case(void)
{
	struct tenant t;
	if (!CHECK(e2e_tenant(&t, "auth-scheme", "agents:read", NULL) == 0))
		return;
	static const char *const schemes[] = {"Bearer", "bearer", "BEARER", "bEaReR"};
	struct resp r = {0};
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		char h[160];
		snprintf(h, sizeof h, "%s %s", schemes[i], t.key);
		struct req q = {.path = "/api/v1/agents", .authorization = h};
		http_send(&q, &r);
		e2e_check(r.status == 200, __FILE__, __LINE__, "scheme %s: status %ld, want 200", schemes[i], r.status);
		CHECK(json_is_array(jget(r.json, "data")));
	}
	resp_free(&r);
}

/* Tells the API workers that key ID was changed behind the platform's back (the tests below edit api_keys in SQL):
 * gives it a new generation in Redis, as `agentplatform-admin key revoke` does (src/api/keycache.h). Without
 * this, a worker that read the key lately keeps its copy for up to api_key_cache_seconds. */
static int set_generation(const char *id, long gen)
{
	const char *port = getenv("AP_TEST_REDIS_PORT");
	char hex[80], key[100], value[24];
	if (!port || sql_value(hex, sizeof hex, "SELECT LOWER(HEX(key_hash)) FROM api_keys WHERE id = ?",
			       (const char *[]){id, NULL}) != 1)
		return -1;
	snprintf(key, sizeof key, "apikey:%s", hex);
	snprintf(value, sizeof value, "%ld", gen);
	return e2e_run_program((const char *[]){"redis-cli", "-h", "127.0.0.1", "-p", port, "SET", key, value, NULL});
}

static int key_changed(const char *id)
{
	static long n;
	return set_generation(id, (long)time(NULL) % 1000000 * 1000 + ++n);
}

/* Enough requests that each API worker has most likely served (and kept) KEY at least once. */
#define EVERY_WORKER 12

static void test_revoked_key(void)
{
	struct tenant t;
	char key2[64], id2[64];
	if (!CHECK(e2e_tenant(&t, "auth-revoke", "all", NULL) == 0) || !CHECK(e2e_key(&t, "all", NULL, key2, id2) == 0))
		return;
	struct resp r = {0};
	for (int i = 0; i < EVERY_WORKER; i++) {
		http_get(&r, key2, "/api/v1/agents");
		CHECK_STATUS(r, 200);
	}

	struct admin_run run;
	e2e_admin(&run, (const char *[]){"key", "revoke", id2, NULL}, NULL);
	e2e_check(run.status == 0, __FILE__, __LINE__, "key revoke exited %d: %s", run.status, run.err);
	/* The very next request, on whichever worker, although every worker kept the key. */
	for (int i = 0; i < EVERY_WORKER; i++) {
		http_get(&r, key2, "/api/v1/agents");
		CHECK_ERROR(r, 401, "api_key_revoked", NULL);
		CHECK_HEADER(r, "WWW-Authenticate", WWW_INVALID);
		CHECK(no_ratelimit_headers(&r));
	}
	http_call(&r, "POST", key2, "{\"name\":\"x\",\"type\":\"echo\"}", "/api/v1/agents");
	CHECK_ERROR(r, 401, "api_key_revoked", NULL);
	/* The account's other key is untouched. */
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	/* Revoking twice is harmless; the key stays revoked. */
	e2e_admin(&run, (const char *[]){"key", "revoke", id2, NULL}, NULL);
	e2e_check(run.status == 0, __FILE__, __LINE__, "second key revoke exited %d: %s", run.status, run.err);
	http_get(&r, key2, "/api/v1/agents");
	CHECK_ERROR(r, 401, "api_key_revoked", NULL);

	/* One audit row for the revocation, by the CLI. */
	struct rows a;
	long got = e2e_sql(&a, "SELECT account_id, actor, target_type, changes FROM audit_logs WHERE target_id = ? "
			       "AND action = 'api_key.revoked'",
			   (const char *[]){id2, NULL});
	CHECK(got == 1);
	if (got == 1) {
		CHECK_STR(a.cell[0][0], t.account);
		CHECK_STR(a.cell[0][1], "cli");
		CHECK_STR(a.cell[0][2], "api_key");
	}
	rows_free(&a);
	resp_free(&r);
}

/* Runs N requests with KEY; the number answered 200. */
static int count_ok(const char *key, int n)
{
	struct resp r = {0};
	int ok = 0;
	for (int i = 0; i < n; i++) {
		http_get(&r, key, "/api/v1/agents");
		ok += r.status == 200;
	}
	resp_free(&r);
	return ok;
}

/* N requests with KEY, each answered 401 CODE. */
static void expect_401(const char *key, int n, const char *code)
{
	struct resp r = {0};
	for (int i = 0; i < n; i++) {
		http_get(&r, key, "/api/v1/agents");
		CHECK_ERROR(r, 401, code, NULL);
		CHECK(no_ratelimit_headers(&r));
	}
	resp_free(&r);
}

/* The workers' key cache (src/api/keycache.h), with keys kept for 300 s so that nothing below depends on timing:
 * - it is used: an edit of api_keys in SQL, behind the platform's back, is not seen by a worker that kept the
 *   key, until the key's generation changes (then by every worker at once);
 * - revoked while Redis is down, the CLI says the workers could not be told, yet no worker accepts the key: not
 *   while Redis is down (nothing kept can be verified, so each request reads MariaDB), and not after it is back
 *   even holding the generation the workers kept (as a Redis restored from a snapshot would): a new connection
 *   trusts nothing kept before. Running the revocation again then succeeds. */
static void test_key_cache(void)
{
	enum { WARM = 30 }; /* sequential requests reach the 3 workers in turn: each keeps the key */
	if (!CHECK(e2e_stack_settings("# Written by the e2e suite \"auth\": API keys kept for 300 s.\n"
				      "api_key_cache_seconds = 300\n") == 0))
		return;
	struct tenant t;
	char a[64], a_id[64], b[64], b_id[64];
	struct resp r = {0};
	if (!CHECK(e2e_tenant(&t, "auth-cache", "all", NULL) == 0) ||
	    !CHECK(e2e_key(&t, "agents:read", NULL, a, a_id) == 0) || !CHECK(e2e_key(&t, "agents:read", NULL, b, b_id) == 0))
		goto out;

	CHECK(count_ok(a, WARM) == WARM);
	CHECK(e2e_sql(NULL, "UPDATE api_keys SET scopes = 'agents:write' WHERE id = ?", (const char *[]){a_id, NULL}) == 1);
	e2e_check(count_ok(a, EVERY_WORKER) > 0, __FILE__, __LINE__, "no worker served the key it kept");
	CHECK(key_changed(a_id) == 0);
	for (int i = 0; i < EVERY_WORKER; i++) {
		http_get(&r, a, "/api/v1/agents");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
	}

	CHECK(set_generation(b_id, 4242) == 0);
	CHECK(count_ok(b, WARM) == WARM);
	if (!CHECK(e2e_stack("redis-stop") == 0))
		goto out;
	struct admin_run run;
	for (int i = 0; i < 2; i++) {
		e2e_admin(&run, (const char *[]){"key", "revoke", i ? b_id : a_id, NULL}, NULL);
		e2e_check(run.status == 1, __FILE__, __LINE__, "key revoke with Redis down exited %d, want 1", run.status);
		CHECK(strstr(run.err, "Redis could not be told") != NULL);
	}
	expect_401(a, EVERY_WORKER, "api_key_revoked");
	CHECK(e2e_stack("redis-start") == 0);
	CHECK(set_generation(b_id, 4242) == 0);
	expect_401(b, EVERY_WORKER, "api_key_revoked");
	e2e_admin(&run, (const char *[]){"key", "revoke", b_id, NULL}, NULL);
	e2e_check(run.status == 0, __FILE__, __LINE__, "key revoke again exited %d: %s", run.status, run.err);
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
out:
	e2e_stack("redis-start"); /* a no-op unless a check above failed with Redis stopped */
	resp_free(&r);
	CHECK(e2e_stack_settings("# Written by the e2e suite \"auth\": the default key cache again.\n") == 0);
}

static void test_expired_key(void)
{
	struct tenant t;
	if (!CHECK(e2e_tenant(&t, "auth-expire", "agents:read", (const char *[]){"--expires", "30d", NULL}) == 0))
		return;
	struct resp r = {0};
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	/* Expiring in 6 s: every worker reads and keeps the key (for 10 s), then the time passes with no change to
	 * tell. */
	CHECK(e2e_sql(NULL, "UPDATE api_keys SET expires_at = UTC_TIMESTAMP(3) + INTERVAL 6 SECOND WHERE id = ?",
		      (const char *[]){t.key_id, NULL}) == 1);
	CHECK(key_changed(t.key_id) == 0);
	for (int i = 0; i < EVERY_WORKER; i++) {
		http_get(&r, t.key, "/api/v1/agents");
		CHECK_STATUS(r, 200);
	}
	char left[32];
	CHECK(sql_value(left, sizeof left, "SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), expires_at) FROM api_keys "
			"WHERE id = ?", (const char *[]){t.key_id, NULL}) == 1);
	long long us = strtoll(left, NULL, 10);
	if (us > 0)
		nanosleep(&(struct timespec){.tv_sec = us / 1000000 + 1, .tv_nsec = us % 1000000 * 1000}, NULL);
	for (int i = 0; i < EVERY_WORKER; i++) {
		http_get(&r, t.key, "/api/v1/agents");
		CHECK_ERROR(r, 401, "api_key_expired", NULL);
		CHECK_HEADER(r, "WWW-Authenticate", WWW_INVALID);
		CHECK(no_ratelimit_headers(&r));
	}
	/* Moved back into the future, it works again: an expired key is always read again. */
	CHECK(e2e_sql(NULL, "UPDATE api_keys SET expires_at = UTC_TIMESTAMP(3) + INTERVAL 1 DAY WHERE id = ?",
		      (const char *[]){t.key_id, NULL}) == 1);
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	resp_free(&r);
}

/* With api_key_cache_seconds = 0 no worker keeps a key: even an edit of api_keys in SQL applies at once. */
static void test_uncached(void)
{
	if (!CHECK(e2e_stack_settings("# Written by the e2e suite \"auth\": no API key cache.\n"
				      "api_key_cache_seconds = 0\n") == 0))
		return;
	struct tenant t;
	struct resp r = {0};
	if (CHECK(e2e_tenant(&t, "auth-uncached", "agents:read", NULL) == 0)) {
		const char *id[] = {t.key_id, NULL};
		for (int i = 0; i < EVERY_WORKER; i++) {
			http_get(&r, t.key, "/api/v1/agents");
			CHECK_STATUS(r, 200);
			CHECK(resp_header(&r, "X-RateLimit-Remaining") != NULL);
		}
		CHECK(e2e_sql(NULL, "UPDATE api_keys SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE id = ?", id) == 1);
		for (int i = 0; i < EVERY_WORKER; i++) {
			http_get(&r, t.key, "/api/v1/agents");
			CHECK_ERROR(r, 401, "api_key_expired", NULL);
		}
		CHECK(e2e_sql(NULL, "UPDATE api_keys SET expires_at = NULL WHERE id = ?", id) == 1);
		http_get(&r, t.key, "/api/v1/agents");
		CHECK_STATUS(r, 200);
		CHECK(e2e_sql(NULL, "UPDATE api_keys SET revoked_at = UTC_TIMESTAMP(3) WHERE id = ?", id) == 1);
		for (int i = 0; i < EVERY_WORKER; i++) {
			http_get(&r, t.key, "/api/v1/agents");
			CHECK_ERROR(r, 401, "api_key_revoked", NULL);
		}
	}
	resp_free(&r);
	CHECK(e2e_stack_settings("# Written by the e2e suite \"auth\": the default key cache again.\n") == 0);
}

/* A key lacking a route's scope gets 403 naming it, before the body, the query or the id is looked at;
 * nothing changes. */
static void test_missing_scope(void)
{
	struct tenant t;
	char ro[64], ro_id[64], wo[64], wo_id[64], other[64], other_id[64], agent[64];
	if (!CHECK(e2e_tenant(&t, "auth-scope", "all", NULL) == 0) ||
	    !CHECK(e2e_key(&t, "agents:read", NULL, ro, ro_id) == 0) ||
	    !CHECK(e2e_key(&t, "agents:write", NULL, wo, wo_id) == 0) ||
	    !CHECK(e2e_key(&t, "runs:read,webhooks:write", NULL, other, other_id) == 0) || !CHECK(make_agent(t.key, agent) == 0))
		return;
	char item[96], pause[128], resume[128];
	snprintf(item, sizeof item, "/api/v1/agents/%s", agent);
	snprintf(pause, sizeof pause, "%s/pause", item);
	snprintf(resume, sizeof resume, "%s/resume", item);

	const struct {
		const char *method, *path, *body, *content_type, *scope;
	} routes[] = {
		{"GET", "/api/v1/agents?limit=0&bogus=1", NULL, NULL, "agents:read"},
		{"POST", "/api/v1/agents", "{not json", "text/plain", "agents:write"},
		{"GET", item, NULL, NULL, "agents:read"},
		{"PATCH", item, "{\"id\":\"x\"}", "text/plain", "agents:write"},
		{"DELETE", item, NULL, NULL, "agents:write"},
		{"POST", pause, NULL, NULL, "agents:write"},
		{"POST", resume, "[1,2]", NULL, "agents:write"},
	};
	struct resp r = {0};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		int is_read = strcmp(routes[i].scope, "agents:read") == 0;
		const char *lacking[] = {is_read ? wo : ro, other};
		for (int k = 0; k < 2; k++) {
			struct req q = {.method = routes[i].method,
					.path = routes[i].path,
					.key = lacking[k],
					.body = routes[i].body,
					.content_type = routes[i].content_type};
			http_send(&q, &r);
			if (!e2e_check(r.status == 403, __FILE__, __LINE__, "%s %s with a key lacking %s: %ld %.200s, want 403",
				       routes[i].method, routes[i].path, routes[i].scope, r.status, r.body))
				continue;
			CHECK_ERROR(r, 403, "missing_scope", NULL);
			char want[160];
			snprintf(want, sizeof want, "Bearer realm=\"agentplatform\", error=\"insufficient_scope\", scope=\"%s\"",
				 routes[i].scope);
			CHECK_HEADER(r, "WWW-Authenticate", want);
			/* The key was valid: the response is an authenticated one and counts against its budget. */
			CHECK(has_ratelimit_headers(&r));
		}
	}
	/* The scope check comes before the id's shape. */
	http_get(&r, wo, "/api/v1/agents/abc123");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", WWW_SCOPE("agents:read"));
	http_call(&r, "DELETE", ro, NULL, "/api/v1/agents/abc123");
	CHECK_ERROR(r, 403, "missing_scope", NULL);

	/* Nothing happened to the agent. */
	http_get(&r, t.key, "%s", item);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.status"), "idle");
	CHECK_STR(jstr(r.json, "data.name"), "auth test");
	/* The read key reads, the write key writes. */
	http_get(&r, ro, "%s", item);
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", wo, NULL, "%s", pause);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.status"), "paused");
	resp_free(&r);
}

static void test_last_used_at(void)
{
	struct tenant t;
	if (!CHECK(e2e_tenant(&t, "auth-lastused", "agents:read", NULL) == 0))
		return;
	const char *id[] = {t.key_id, NULL};
	char first[64], again[64];
	CHECK(sql_value(first, sizeof first, "SELECT last_used_at FROM api_keys WHERE id = ?", id) == 0);
	struct resp r = {0};
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	CHECK(sql_value(first, sizeof first, "SELECT last_used_at FROM api_keys WHERE id = ?", id) == 1);
	/* Within the minute it is not rewritten. */
	for (int i = 0; i < 3; i++) {
		http_get(&r, t.key, "/api/v1/agents");
		CHECK_STATUS(r, 200);
	}
	CHECK(sql_value(again, sizeof again, "SELECT last_used_at FROM api_keys WHERE id = ?", id) == 1);
	CHECK_STR(again, first);
	/* Once it is older than a minute, the next request records it again. */
	CHECK(e2e_sql(NULL, "UPDATE api_keys SET last_used_at = UTC_TIMESTAMP(3) - INTERVAL 2 MINUTE WHERE id = ?", id) == 1);
	CHECK(key_changed(t.key_id) == 0);
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	CHECK(e2e_sql(NULL, "SELECT id FROM api_keys WHERE id = ? AND last_used_at > UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE",
		      id) == 1);
	resp_free(&r);
}

/* 15 requests at once through every worker against a budget of 10: exactly 10 pass. */
static void test_rate_limit_concurrent(void)
{
	enum { N = 15, LIMIT = 10 };
	struct tenant t;
	if (!CHECK(e2e_tenant(&t, "auth-ratelimit", "agents:read", (const char *[]){"--rate-limit", "10", NULL}) == 0))
		return;
	struct req q[N];
	struct resp r[N];
	memset(r, 0, sizeof r);
	for (int i = 0; i < N; i++)
		q[i] = (struct req){.method = "GET", .path = "/api/v1/agents", .key = t.key};
	CHECK(http_multi(q, N, r) == 0);

	int ok = 0, limited = 0, remaining_seen[LIMIT] = {0};
	long long now = (long long)time(NULL);
	for (int i = 0; i < N; i++) {
		long long limit = -1, remaining = -1, reset = -1, retry = -1;
		CHECK(e2e_parse_long(resp_header(&r[i], "X-RateLimit-Limit"), &limit) == 0);
		CHECK(e2e_parse_long(resp_header(&r[i], "X-RateLimit-Remaining"), &remaining) == 0);
		CHECK(e2e_parse_long(resp_header(&r[i], "X-RateLimit-Reset"), &reset) == 0);
		CHECK(limit == LIMIT);
		/* Epoch seconds at most one period ahead (not a duration, not milliseconds). */
		e2e_check(reset >= now - 5 && reset <= now + 65, __FILE__, __LINE__, "X-RateLimit-Reset %lld, now %lld",
			  reset, now);
		if (r[i].status == 200) {
			ok++;
			if (remaining >= 0 && remaining < LIMIT)
				remaining_seen[remaining]++;
			else
				e2e_check(0, __FILE__, __LINE__, "X-RateLimit-Remaining %lld on a 200", remaining);
			CHECK(resp_header(&r[i], "Retry-After") == NULL);
		} else if (r[i].status == 429) {
			limited++;
			CHECK_ERROR(r[i], 429, "rate_limited", NULL);
			CHECK(remaining == 0);
			CHECK(e2e_parse_long(resp_header(&r[i], "Retry-After"), &retry) == 0);
			e2e_check(retry >= 1 && retry <= 60, __FILE__, __LINE__, "Retry-After %lld", retry);
		} else {
			e2e_check(0, __FILE__, __LINE__, "request %d: status %ld %.200s", i, r[i].status, r[i].body);
		}
	}
	e2e_check(ok == LIMIT && limited == N - LIMIT, __FILE__, __LINE__, "%d x 200 and %d x 429, want %d and %d", ok,
		  limited, LIMIT, N - LIMIT);
	for (int v = 0; v < LIMIT; v++)
		e2e_check(remaining_seen[v] == 1, __FILE__, __LINE__, "X-RateLimit-Remaining %d seen %d times on the 200s", v,
			  remaining_seen[v]);
	/* The budget is spent for the next request too. */
	http_get(&r[0], t.key, "/api/v1/agents");
	CHECK_ERROR(r[0], 429, "rate_limited", NULL);
	CHECK(resp_header(&r[0], "Retry-After") != NULL);
	for (int i = 0; i < N; i++)
		resp_free(&r[i]);
}

/* Every authenticated response carries the three headers, errors included; unauthenticated ones none. */
static void test_rate_limit_headers(void)
{
	struct tenant t;
	if (!CHECK(e2e_tenant(&t, "auth-rlheaders", "agents:read", (const char *[]){"--rate-limit", "50", NULL}) == 0))
		return;
	struct resp r = {0};
	const char *paths[] = {"/api/v1/agents", "/api/v1/agents/" ABSENT_ID, "/api/v1/agents?limit=0",
			       "/api/v1/agents?cursor=zzz", "/api/v1/agents/abc123"};
	const long want[] = {200, 404, 400, 400, 404};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		http_get(&r, t.key, "%s", paths[i]);
		e2e_check(r.status == want[i], __FILE__, __LINE__, "GET %s: %ld, want %ld", paths[i], r.status, want[i]);
		e2e_check(has_ratelimit_headers(&r), __FILE__, __LINE__, "GET %s (%ld) lacks the rate-limit headers",
			  paths[i], r.status);
		CHECK_HEADER(r, "X-RateLimit-Limit", "50");
	}
	http_call(&r, "POST", t.key, "{}", "/api/v1/agents");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK(has_ratelimit_headers(&r));
	http_get(&r, NULL, "/api/v1/agents");
	CHECK(no_ratelimit_headers(&r));
	resp_free(&r);
}

static void check_exit(const char *const *argv, const char *const *env, int want, const char *file, int line)
{
	struct admin_run run;
	e2e_admin(&run, argv, env);
	char cmd[256] = "";
	size_t used = 0;
	for (const char *const *a = argv; *a && used < sizeof cmd; a++) {
		int n = snprintf(cmd + used, sizeof cmd - used, "%s%s", used ? " " : "", *a);
		used += n > 0 ? (size_t)n : 0;
	}
	e2e_check(run.status == want, file, line, "agentplatform-admin %s%s: exit %d, want %d; stderr: %.200s",
		  env ? "(DB down) " : "", cmd, run.status, want, run.err);
	/* Failures explain themselves on stderr and print nothing a script could take for a result. */
	if (want != 0) {
		e2e_check(run.err[0] != '\0', file, line, "agentplatform-admin %s: no message on stderr", cmd);
		e2e_check(run.out[0] == '\0', file, line, "agentplatform-admin %s: stdout \"%.100s\" on failure", cmd, run.out);
	}
}
#define CHECK_EXIT(want, env, ...) check_exit((const char *[]){__VA_ARGS__, NULL}, (env), (want), __FILE__, __LINE__)

static void test_admin_cli(void)
{
	struct admin_run run;
	e2e_admin(&run, (const char *[]){"account", "create", "e2e cli account", NULL}, NULL);
	CHECK(run.status == 0);
	char acct[64];
	snprintf(acct, sizeof acct, "%.63s", run.out);
	e2e_check(e2e_is_id(acct, "acct_"), __FILE__, __LINE__, "account create printed \"%s\"", acct);
	if (!e2e_is_id(acct, "acct_"))
		return;

	/* A key: alone on stdout, ap_live_ + 30 base62 + 6 checksum. */
	e2e_admin(&run,
		  (const char *[]){"key", "create", "--account", acct, "--name", "cli", "--scopes", "agents:read,agents:write",
				   "--expires", "never", "--rate-limit", "77", NULL},
		  NULL);
	CHECK(run.status == 0);
	int shape = strlen(run.out) == 44 && strncmp(run.out, "ap_live_", 8) == 0;
	for (const char *c = run.out + 8; shape && *c; c++)
		shape = isalnum((unsigned char)*c);
	e2e_check(shape, __FILE__, __LINE__, "key create printed \"%s\"", run.out);
	char key[64];
	snprintf(key, sizeof key, "%s", run.out);
	CHECK(strstr(run.err, key) == NULL); /* the key only on stdout */
	struct resp r = {0};
	http_get(&r, key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	CHECK_HEADER(r, "X-RateLimit-Limit", "77");
	resp_free(&r);

	struct rows k;
	long got = e2e_sql(&k, "SELECT id, expires_at, scopes, rate_limit FROM api_keys WHERE account_id = ?",
			   (const char *[]){acct, NULL});
	CHECK(got == 1);
	char key_id[64] = "";
	if (got == 1) {
		snprintf(key_id, sizeof key_id, "%s", k.cell[0][0]);
		CHECK(k.cell[0][1] == NULL);
		CHECK_STR(k.cell[0][2], "agents:read,agents:write");
		CHECK_STR(k.cell[0][3], "77");
	}
	rows_free(&k);

	/* key list shows it; the table never shows the key itself. */
	e2e_admin(&run, (const char *[]){"key", "list", "--account", acct, NULL}, NULL);
	CHECK(run.status == 0);
	CHECK(key_id[0] && strstr(run.out, key_id) != NULL);
	CHECK(strstr(run.out, key) == NULL);

	/* Expiry: the default is 90 days, 30d and 1y as named. */
	struct {
		const char *arg;
		const char *days;
	} exp[] = {{NULL, "90"}, {"30d", "30"}, {"60d", "60"}, {"1y", "365"}};
	for (size_t i = 0; i < sizeof exp / sizeof exp[0]; i++) {
		const char *argv[] = {"key", "create", "--account", acct, "--name", "exp", "--scopes", "all",
				      exp[i].arg ? "--expires" : NULL, exp[i].arg, NULL};
		e2e_admin(&run, argv, NULL);
		CHECK(run.status == 0);
		struct rows d;
		got = e2e_sql(&d, "SELECT DATEDIFF(expires_at, created_at) FROM api_keys WHERE account_id = ? AND ? LIKE CONCAT(prefix, '%')",
			      (const char *[]){acct, run.out, NULL});
		CHECK(got == 1);
		if (got == 1)
			CHECK_STR(d.cell[0][0], exp[i].days);
		rows_free(&d);
	}

	/* Audit: key creation and revocation by the CLI. */
	e2e_admin(&run, (const char *[]){"key", "revoke", key_id, NULL}, NULL);
	CHECK(run.status == 0);
	struct rows a;
	got = e2e_sql(&a, "SELECT action, actor, target_type, account_id, changes FROM audit_logs WHERE target_id = ? "
			  "ORDER BY action",
		      (const char *[]){key_id, NULL});
	CHECK(got == 2);
	if (got == 2) {
		CHECK_STR(a.cell[0][0], "api_key.created");
		CHECK_STR(a.cell[1][0], "api_key.revoked");
		for (int i = 0; i < 2; i++) {
			CHECK_STR(a.cell[i][1], "cli");
			CHECK_STR(a.cell[i][2], "api_key");
			CHECK_STR(a.cell[i][3], acct);
			json_t *ch = a.cell[i][4] ? json_loads(a.cell[i][4], 0, NULL) : NULL;
			CHECK(json_is_object(ch));
			json_decref(ch);
			CHECK(!a.cell[i][4] || strstr(a.cell[i][4], key + 8) == NULL); /* no key material */
		}
	}
	rows_free(&a);

	/* Exit 2: unknown scope, duration, account or key; bad arguments. */
	CHECK_EXIT(2, NULL, "key", "create", "--account", acct, "--name", "x", "--scopes", "agents:read bogus:scope");
	CHECK_EXIT(2, NULL, "key", "create", "--account", acct, "--name", "x", "--scopes", "agents:read", "--expires", "7d");
	CHECK_EXIT(2, NULL, "key", "create", "--account", acct, "--name", "x", "--scopes", "agents:read", "--expires", "");
	CHECK_EXIT(2, NULL, "key", "create", "--account", "acct_0000000000000000000000000", "--name", "x", "--scopes",
		   "agents:read");
	CHECK_EXIT(2, NULL, "key", "create", "--account", "nope", "--name", "x", "--scopes", "agents:read");
	CHECK_EXIT(2, NULL, "key", "create", "--account", acct, "--name", "x", "--scopes", "agents:read", "--rate-limit", "0");
	CHECK_EXIT(2, NULL, "key", "create", "--account", acct, "--name", "x", "--scopes", "agents:read", "--rate-limit", "1x");
	CHECK_EXIT(2, NULL, "key", "create", "--account", acct, "--name", "x");
	CHECK_EXIT(2, NULL, "key", "revoke", "key_0000000000000000000000000");
	CHECK_EXIT(2, NULL, "key", "revoke", "not-a-key-id");
	CHECK_EXIT(2, NULL, "key", "list", "--account", "acct_0000000000000000000000000");
	CHECK_EXIT(2, NULL, "key", "frobnicate");
	/* --help on every subcommand. */
	CHECK_EXIT(0, NULL, "key", "--help");
	CHECK_EXIT(0, NULL, "key", "create", "--help");
	CHECK_EXIT(0, NULL, "account", "--help");

	/* Exit 3: the database is unreachable. */
	const char *const down[] = {"AGENTPLATFORM_DB_SOCKET=/nonexistent/agentplatform-e2e/mysqld.sock", NULL};
	CHECK_EXIT(3, down, "account", "create", "e2e unreachable");
	CHECK_EXIT(3, down, "key", "create", "--account", acct, "--name", "x", "--scopes", "agents:read");
	CHECK_EXIT(3, down, "key", "list");
	CHECK_EXIT(3, down, "key", "revoke", "key_0000000000000000000000000");
}

int suite_auth_register(void)
{
	CU_pSuite s = CU_add_suite("auth", NULL, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "401 api_key_missing", test_missing_key) ||
	    !CU_add_test(s, "401 api_key_invalid: malformed, bad checksum, unknown, other schemes", test_invalid_keys) ||
	    !CU_add_test(s, "Bearer scheme is case-insensitive", test_scheme_case) ||
	    !CU_add_test(s, "401 api_key_revoked on the next request", test_revoked_key) ||
	    !CU_add_test(s, "key cache: used; revoked with Redis down, and after it is back", test_key_cache) ||
	    !CU_add_test(s, "401 api_key_expired once the time passes", test_expired_key) ||
	    !CU_add_test(s, "api_key_cache_seconds = 0: SQL edits of a key apply at once", test_uncached) ||
	    !CU_add_test(s, "403 missing_scope on each agents route", test_missing_scope) ||
	    !CU_add_test(s, "last_used_at written at most once a minute", test_last_used_at) ||
	    !CU_add_test(s, "rate limit: 15 concurrent requests, limit 10", test_rate_limit_concurrent) ||
	    !CU_add_test(s, "rate-limit headers on every authenticated response", test_rate_limit_headers) ||
	    !CU_add_test(s, "admin CLI: output, expiry, audit, exit codes 2 and 3", test_admin_cli))
		return -1;
	return 0;
}
