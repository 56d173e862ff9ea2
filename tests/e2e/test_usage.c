/* test_usage: GET /usage: API request counts (per key, 4xx counted, 401s not) equal what the suite did, also
 * once the scheduler has flushed them to MariaDB; runs, run time, signals; from/to validation; 403; accounts
 * never see each other's usage. */
#include "e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct tenant A, B;
static char poll_key[64], poll_key_id[64];   /* A's key with usage:read only: reads the report */
static char noscope_key[64], noscope_id[64]; /* A's key without usage:read */
static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static int init(void)
{
	if (e2e_tenant(&A, "usage-a", "all", GENEROUS) != 0 || e2e_tenant(&B, "usage-b", "all", GENEROUS) != 0 ||
	    e2e_key(&A, "usage:read", GENEROUS, poll_key, poll_key_id) != 0 ||
	    e2e_key(&A, "agents:read", GENEROUS, noscope_key, noscope_id) != 0)
		return -1;
	return 0;
}

static void today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	if (strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		out[0] = '\0';
}

/* Requests of KEY_ID in FIGURES' api_requests_by_key (0 when absent). */
static long long by_key(const json_t *figures, const char *key_id)
{
	json_t *arr = jget(figures, "api_requests_by_key"), *e;
	size_t i;
	json_array_foreach(arr, i, e)
		if (jstr(e, "api_key_id") && strcmp(jstr(e, "api_key_id"), key_id) == 0)
			return json_integer_value(jget(e, "requests"));
	return 0;
}

static long long num(const json_t *v, const char *path)
{
	return json_integer_value(jget(v, path));
}

static long long sql_ll(const char *sql, const char *param)
{
	const char *params[] = {param, NULL};
	struct rows rows;
	long long v = -1;
	if (e2e_sql(&rows, sql, params) >= 0 && rows.n == 1 && rows.cell[0][0])
		v = strtoll(rows.cell[0][0], NULL, 10);
	if (rows.cell)
		rows_free(&rows);
	return v;
}

static void test_counts(void)
{
	struct resp r = {0};
	long long n_main = 0, n_poll = 0;
	char agent[64] = "";

	/* A's main key: one agent, three signals, three 4xx; plus 401s that count for nobody. */
	if (!CHECK(http_call(&r, "POST", A.key, "{\"name\":\"Usage\",\"type\":\"echo\",\"config\":{\"message\":\"u\"}}",
			     "/api/v1/agents") == 201))
		goto out;
	n_main++;
	snprintf(agent, sizeof agent, "%s", jstr(r.json, "data.id"));
	for (int i = 0; i < 3; i++) {
		CHECK(http_call(&r, "POST", A.key, "{\"type\":\"usage_test\",\"payload\":{}}", "/api/v1/agents/%s/signals",
				agent) == 202);
		n_main++;
	}
	CHECK(http_get(&r, A.key, "/api/v1/agents/agt_0000000000000000000000000") == 404);
	CHECK(http_get(&r, A.key, "/api/v1/agents?limit=0") == 400);
	CHECK(http_call(&r, "POST", A.key, "{\"name\":1}", "/api/v1/agents") == 422);
	n_main += 3;
	CHECK(http_get(&r, NULL, "/api/v1/agents") == 401);
	CHECK(http_get(&r, "ap_live_000000000000000000000000000000AAAAAA", "/api/v1/agents") == 401);
	/* 403 without the scope: counted for that key. */
	http_get(&r, noscope_key, "/api/v1/usage");
	CHECK_ERROR(r, 403, "missing_scope", NULL);

	/* The runs finish (checked in SQL: no API request). */
	const char *done = "SELECT COUNT(*) FROM runs WHERE agent_id = ? AND status = 'succeeded'";
	for (int i = 0; i < 150 && sql_ll(done, agent) < 3; i++)
		usleep(100 * 1000);
	CHECK(sql_ll(done, agent) == 3);
	long long run_ms = sql_ll("SELECT COALESCE(CAST(SUM(TIMESTAMPDIFF(MICROSECOND, started_at, finished_at) DIV 1000) "
				  "AS SIGNED), 0) FROM runs WHERE agent_id = ?", agent);

	char day[11];
	today(day);
	int ok = 0, settled = 0;
	/* Exact right away, and still exact after the scheduler flushed (usage_flush_seconds = 1 in the tests). */
	for (int i = 0; i < 100 && settled < 3; i++) {
		long st = http_get(&r, poll_key, "/api/v1/usage?from=%s&to=%s", day, day);
		n_poll++;
		json_t *t = jget(r.json, "data.totals");
		ok = st == 200 && by_key(t, A.key_id) == n_main && by_key(t, poll_key_id) == n_poll &&
		     by_key(t, noscope_id) == 1 && num(t, "api_requests") == n_main + n_poll + 1 &&
		     json_array_size(jget(t, "api_requests_by_key")) == 3 && num(t, "signals") == 3 &&
		     num(t, "runs.succeeded") == 3 && num(t, "runs.queued") == 0 && num(t, "run_time_ms") == run_ms;
		if (ok) {
			json_t *d0 = json_array_get(jget(r.json, "data.days"), 0);
			CHECK(json_array_size(jget(r.json, "data.days")) == 1);
			CHECK_STR(jstr(d0, "date"), day);
			CHECK(num(d0, "api_requests") == num(t, "api_requests"));
			CHECK(by_key(d0, A.key_id) == n_main);
			settled++;
			sleep(1);
		} else {
			settled = 0;
			usleep(200 * 1000);
		}
	}
	CHECK(ok && settled == 3);
	/* Flushed meanwhile: MariaDB holds exactly what was counted for the main key (once). */
	for (int i = 0; i < 50 && sql_ll("SELECT COALESCE(SUM(requests), 0) FROM usage_daily WHERE api_key_id = ?",
					 A.key_id) != n_main; i++)
		usleep(100 * 1000);
	CHECK(sql_ll("SELECT COALESCE(SUM(requests), 0) FROM usage_daily WHERE api_key_id = ?", A.key_id) == n_main);

	/* The other account sees only its own requests. */
	CHECK(http_get(&r, B.key, "/api/v1/usage") == 200);
	json_t *bt = jget(r.json, "data.totals");
	CHECK(by_key(bt, A.key_id) == 0 && by_key(bt, poll_key_id) == 0);
	CHECK(num(bt, "signals") == 0 && num(bt, "runs.succeeded") == 0);
	CHECK(num(bt, "webhook_deliveries.succeeded") == 0 && num(bt, "webhook_deliveries.failed") == 0);
	CHECK(num(bt, "api_requests") == by_key(bt, B.key_id));
	CHECK(json_array_size(jget(r.json, "data.days")) == 30);
	CHECK_STR(jstr(r.json, "data.to"), day);
out:
	resp_free(&r);
}

static void test_params(void)
{
	struct resp r = {0};
	http_get(&r, B.key, "/api/v1/usage?from=2024-13-01");
	CHECK_ERROR(r, 400, "parameter_invalid", "from");
	http_get(&r, B.key, "/api/v1/usage?from=2023-02-29&to=2023-03-01");
	CHECK_ERROR(r, 400, "parameter_invalid",
		    "from");
	http_get(&r, B.key, "/api/v1/usage?to=yesterday");
	CHECK_ERROR(r, 400, "parameter_invalid", "to");
	http_get(&r, B.key, "/api/v1/usage?from=2024-03-02&to=2024-03-01");
	CHECK_ERROR(r, 400, "parameter_invalid",
		    "from");
	http_get(&r, B.key, "/api/v1/usage?from=2024-01-01&to=2025-01-01");
	CHECK_ERROR(r, 400, "parameter_invalid",
		    "from");
	http_get(&r, B.key, "/api/v1/usage?since=2024-01-01");
	CHECK_ERROR(r, 400, "parameter_unknown", "since");
	/* 366 days (2024 is a leap year) is the most. */
	CHECK(http_get(&r, B.key, "/api/v1/usage?from=2024-01-01&to=2024-12-31") == 200);
	CHECK(json_array_size(jget(r.json, "data.days")) == 366);
	CHECK_STR(jstr(json_array_get(jget(r.json, "data.days"), 59), "date"), "2024-02-29");
	CHECK(num(r.json, "data.totals.api_requests") == 0);
	CHECK(http_get(&r, B.key, "/api/v1/usage?to=2024-03-01") == 200);
	CHECK_STR(jstr(r.json, "data.from"), "2024-02-01");
	resp_free(&r);
}

/* Runs redis-cli against the stack's Redis with ARGS (test-controlled text only); 0 when it exited 0. */
static int redis_cli(const char *args)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "redis-cli -p %s %s >/dev/null 2>&1", getenv("AP_TEST_REDIS_PORT"), args);
	FILE *p = popen(cmd, "r");
	return p && pclose(p) == 0 ? 0 : -1;
}

/* An interrupted flush: a flush key left in Redis (the scheduler died after the rename) is applied by the next
 * flush, exactly once; the same key appearing again after it was applied (died after COMMIT, before DEL) adds
 * nothing, in MariaDB and in GET /usage. */
static void test_interrupted_flush(void)
{
	struct tenant c;
	char spare[64], spare_id[64], day[11], key[160], args[400];
	struct resp r = {0};
	if (!CHECK(e2e_tenant(&c, "usage-flush", "all", GENEROUS) == 0 &&
		   e2e_key(&c, "agents:read", GENEROUS, spare, spare_id) == 0))
		return;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	/* ufl_ + 25 base62: the flush id, unique per run through the account id. */
	snprintf(key, sizeof key, "usage:flush:{%s}:%s:ufl_0000000000000%.12s", c.account, day, c.account + 13);
	snprintf(args, sizeof args, "HSET '%s' %s 7", key, spare_id);
	CHECK(redis_cli(args) == 0);
	snprintf(args, sizeof args, "SADD usage:flushing '%s'", key);
	CHECK(redis_cli(args) == 0);
	const char *params[] = {c.account, spare_id, NULL};
	const char *sql = "SELECT requests FROM usage_daily WHERE account_id = ? AND api_key_id = ? AND day = UTC_DATE()";
	long long applied = -1;
	for (int i = 0; i < 40 && applied != 7; i++) {
		struct rows x = {0};
		if (e2e_sql(&x, sql, params) == 1)
			applied = strtoll(x.cell[0][0], NULL, 10);
		rows_free(&x);
		struct timespec t = {0, 250 * 1000 * 1000};
		nanosleep(&t, NULL);
	}
	CHECK(applied == 7);
	/* The same flush key again, as if its DEL never happened. */
	CHECK(redis_cli(args) == 0);
	snprintf(args, sizeof args, "HSET '%s' %s 7", key, spare_id);
	CHECK(redis_cli(args) == 0);
	struct timespec wait = {3, 0}; /* several flush cycles (usage_flush_seconds = 1 in tests) */
	nanosleep(&wait, NULL);
	struct rows x = {0};
	CHECK(e2e_sql(&x, sql, params) == 1 && strtoll(x.cell[0][0], NULL, 10) == 7);
	rows_free(&x);
	CHECK(http_get(&r, c.key, "/api/v1/usage") == 200);
	CHECK(by_key(jget(r.json, "data.totals"), spare_id) == 7);
	resp_free(&r);
}

int suite_usage_register(void)
{
	CU_pSuite s = CU_add_suite("usage", init, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "request counts, runs, signals: exact, before and after the flush", test_counts) ||
	    !CU_add_test(s, "from/to validation and ranges", test_params) ||
	    !CU_add_test(s, "an interrupted flush is applied exactly once", test_interrupted_flush))
		return -1;
	return 0;
}
