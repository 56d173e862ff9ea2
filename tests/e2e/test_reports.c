/* test_reports: `agentplatform-admin report` on traffic made by the suite in a fresh account (usage per key and
 * account, agent health with success rate and p95, unused keys) in json, csv and table; argument errors; and
 * `reporting-user create`: a MariaDB user that can read the report views and nothing else. */
#include "e2e.h"

#include <errno.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_SECONDS 60

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T;
static long long requests; /* every request made with T.key: all authenticated, so all counted */
static char unused_key[64], unused_id[64], idle_key[64], idle_id[64], revoked_key[64], revoked_id[64];
static char echo_agent[64], fail_agent[64], quiet_agent[64];
static char report_user[40];

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long call(struct resp *r, const char *method, const char *body, const char *path)
{
	requests++;
	return http_call(r, method, T.key, body, "%s", path);
}

static int make_agent(char *id, const char *body)
{
	struct resp r = {0};
	int ok = CHECK(call(&r, "POST", body, "/api/v1/agents") == 201) && jstr(r.json, "data.id");
	id[0] = '\0';
	if (ok)
		snprintf(id, 64, "%s", jstr(r.json, "data.id"));
	resp_free(&r);
	return ok;
}

/* Signals AGENT and waits for its run to finish; the run id into RUN. 1 when it ended as WANT. */
static int run_to_end(const char *agent, const char *want, char *run)
{
	struct resp r = {0};
	char path[200];
	snprintf(path, sizeof path, "/api/v1/agents/%s/signals", agent);
	run[0] = '\0';
	if (!CHECK(call(&r, "POST", "{\"type\":\"report\",\"payload\":{}}", path) == 202) || !jstr(r.json, "data.run_id")) {
		resp_free(&r);
		return 0;
	}
	snprintf(run, 64, "%s", jstr(r.json, "data.run_id"));
	snprintf(path, sizeof path, "/api/v1/runs/%s", run);
	const char *st = NULL;
	for (int i = 0; i < WAIT_SECONDS * 10; i++) {
		if (call(&r, "GET", NULL, path) == 200) {
			st = jstr(r.json, "data.status");
			if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0)
				break;
		}
		st = NULL;
		nap(100);
	}
	int ok = CHECK(st != NULL) && CHECK_STR(st, want);
	resp_free(&r);
	return ok;
}

/* Sets RUN's start to an hour ago (DAYS_AGO days more) and its finish MS milliseconds later. */
static int set_duration(const char *run, const char *ms, const char *days_ago)
{
	const char *params[] = {days_ago, ms, run, NULL};
	return e2e_sql(NULL,
		       "UPDATE runs SET started_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR - INTERVAL ? DAY, "
		       "finished_at = started_at + INTERVAL ? * 1000 MICROSECOND WHERE id = ?",
		       params) == 1;
}

/* Runs `report ARGS... --account T` with FORMAT; the parsed JSON when FORMAT is json. */
static json_t *report_json(struct admin_run *run, const char *name, const char *from, const char *to)
{
	const char *argv[16] = {"report", name, "--account", T.account, "--format", "json"};
	int n = 6;
	if (from) {
		argv[n++] = "--from";
		argv[n++] = from;
	}
	if (to) {
		argv[n++] = "--to";
		argv[n++] = to;
	}
	argv[n] = NULL;
	if (!CHECK(e2e_admin(run, argv, NULL) == 0)) {
		fprintf(stderr, "report %s: %s\n", name, run->err);
		return NULL;
	}
	json_t *v = json_loads(run->out, 0, NULL);
	CHECK(json_is_array(v));
	return v;
}

/* The element of ARR whose KEY is VALUE, or NULL. */
static json_t *row_with(json_t *arr, const char *key, const char *value)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (jstr(e, key) && strcmp(jstr(e, key), value) == 0)
			return e;
	return NULL;
}

static long long sum_requests(json_t *arr, const char *key_id)
{
	long long sum = 0;
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (!key_id || (jstr(e, "api_key_id") && strcmp(jstr(e, "api_key_id"), key_id) == 0))
			sum += json_integer_value(jget(e, "requests"));
	return sum;
}

static void day_offset(int days, char out[11])
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	if (strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		out[0] = '\0';
}

static int init(void)
{
	if (e2e_tenant(&T, "reports", "all", GENEROUS) != 0 || e2e_key(&T, "agents:read", GENEROUS, unused_key, unused_id) != 0 ||
	    e2e_key(&T, "agents:read", GENEROUS, idle_key, idle_id) != 0 ||
	    e2e_key(&T, "agents:read", GENEROUS, revoked_key, revoked_id) != 0)
		return -1;
	struct admin_run run;
	if (e2e_admin(&run, (const char *[]){"key", "revoke", revoked_id, NULL}, NULL) != 0)
		return -1;
	snprintf(report_user, sizeof report_user, "e2e_rep_%ld_%ld", (long)getpid(), (long)(time(NULL) % 100000));
	return 0;
}

static int cleanup(void)
{
	char sql[128];
	snprintf(sql, sizeof sql, "DROP USER IF EXISTS '%s'@'%%'", report_user);
	e2e_sql(NULL, sql, NULL);
	return 0;
}

static void test_traffic(void)
{
	struct resp r = {0};
	char runs[5][64];
	/* An echo agent that succeeds (three runs in the window, one 40 days old), one whose http_request fails
	 * (port 1 of loopback: nothing listens), one that never runs. */
	if (!make_agent(echo_agent, "{\"name\":\"Report echo\",\"type\":\"echo\",\"config\":{\"message\":\"r\"}}") ||
	    !make_agent(fail_agent, "{\"name\":\"Report fail\",\"type\":\"http_request\",\"config\":"
				    "{\"url\":\"http://127.0.0.1:1/\",\"timeout_seconds\":5}}") ||
	    !make_agent(quiet_agent, "{\"name\":\"Report quiet\",\"type\":\"echo\",\"config\":{\"message\":\"q\"}}"))
		return;
	for (int i = 0; i < 4; i++)
		if (!run_to_end(echo_agent, "succeeded", runs[i]))
			return;
	if (!run_to_end(fail_agent, "failed", runs[4]))
		return;
	/* Known durations: 100, 200 and 300 ms in the window (p95, continuous: 200 + 0.9 * 100 = 290), 10 s 40 days
	 * ago (outside), and 50 ms for the failure. */
	CHECK(set_duration(runs[0], "100", "0") && set_duration(runs[1], "200", "0") &&
	      set_duration(runs[2], "300", "0") && set_duration(runs[3], "10000", "40") &&
	      set_duration(runs[4], "50", "0"));
	/* One key used once, then as if 40 days ago. */
	CHECK(http_get(&r, idle_key, "/api/v1/agents") == 200);
	const char *p[] = {idle_id, NULL};
	CHECK(e2e_sql(NULL, "UPDATE api_keys SET last_used_at = UTC_TIMESTAMP(3) - INTERVAL 40 DAY - INTERVAL 1 HOUR "
			    "WHERE id = ? AND last_used_at IS NOT NULL",
		      p) == 1);
	resp_free(&r);
}

static void test_agent_health(void)
{
	struct admin_run run;
	json_t *v = report_json(&run, "agent_health", NULL, NULL);
	if (!v)
		return;
	CHECK(json_array_size(v) == 3);
	json_t *e = row_with(v, "agent_id", echo_agent), *f = row_with(v, "agent_id", fail_agent),
	       *q = row_with(v, "agent_id", quiet_agent);
	if (CHECK(e != NULL)) {
		CHECK_STR(jstr(e, "account_id"), T.account);
		CHECK_STR(jstr(e, "agent_name"), "Report echo");
		CHECK_STR(jstr(e, "agent_type"), "echo");
		CHECK_STR(jstr(e, "status"), "idle");
		CHECK(json_integer_value(jget(e, "runs_30d")) == 3);
		CHECK(json_integer_value(jget(e, "succeeded")) == 3);
		CHECK(json_integer_value(jget(e, "failed")) == 0);
		CHECK(json_is_real(jget(e, "success_rate")) && json_real_value(jget(e, "success_rate")) == 1.0);
		CHECK(json_integer_value(jget(e, "p95_duration_ms")) == 290);
		CHECK(e2e_is_timestamp(jstr(e, "last_finished_at")));
	}
	if (CHECK(f != NULL)) {
		CHECK_STR(jstr(f, "status"), "error");
		CHECK(json_integer_value(jget(f, "runs_30d")) == 1);
		CHECK(json_integer_value(jget(f, "failed")) == 1);
		CHECK(json_real_value(jget(f, "success_rate")) == 0.0);
		CHECK(json_integer_value(jget(f, "p95_duration_ms")) == 50);
	}
	if (CHECK(q != NULL)) {
		CHECK(json_integer_value(jget(q, "runs_30d")) == 0);
		CHECK(json_is_null(jget(q, "success_rate")));
		CHECK(json_is_null(jget(q, "p95_duration_ms")));
		CHECK(json_is_null(jget(q, "last_finished_at")));
	}
	json_decref(v);
}

static void test_usage(void)
{
	struct admin_run run;
	/* The scheduler flushes the counts every second (usage_flush_seconds = 1 in the tests). */
	json_t *v = NULL;
	for (int i = 0; i < WAIT_SECONDS * 2; i++) {
		json_decref(v);
		v = report_json(&run, "usage_daily_key", NULL, NULL);
		if (!v || (sum_requests(v, T.key_id) >= requests && sum_requests(v, idle_id) >= 1))
			break;
		nap(500);
	}
	if (!v)
		return;
	CHECK(sum_requests(v, T.key_id) == requests);
	CHECK(sum_requests(v, idle_id) == 1);
	CHECK(sum_requests(v, unused_id) == 0);
	json_t *row = row_with(v, "api_key_id", T.key_id);
	if (CHECK(row != NULL)) {
		CHECK_STR(jstr(row, "account_id"), T.account);
		CHECK_STR(jstr(row, "key_name"), "e2e key");
		CHECK(jstr(row, "key_prefix") && strncmp(jstr(row, "key_prefix"), "ap_live_", 8) == 0);
		CHECK(jstr(row, "day") && strlen(jstr(row, "day")) == 10);
	}
	json_decref(v);

	/* Per account: the same total, two keys that made requests. From yesterday to tomorrow holds it all
	 * (today only would race midnight). */
	char yesterday[11], tomorrow[11], later[11];
	day_offset(-1, yesterday);
	day_offset(1, tomorrow);
	day_offset(2, later);
	v = report_json(&run, "usage_daily_account", yesterday, tomorrow);
	if (v) {
		CHECK(sum_requests(v, NULL) == requests + 1);
		json_t *a = json_array_get(v, json_array_size(v) - 1);
		CHECK_STR(jstr(a, "account_id"), T.account);
		CHECK(json_integer_value(jget(a, "api_keys")) >= 1);
		json_decref(v);
	}
	v = report_json(&run, "usage_daily_account", tomorrow, later);
	CHECK(v && json_array_size(v) == 0);
	json_decref(v);
}

static void test_keys_unused(void)
{
	struct admin_run run;
	json_t *v = report_json(&run, "keys_unused", NULL, NULL);
	if (!v)
		return;
	/* The suite's main key is in use; the revoked one is not usable: neither is listed. */
	CHECK(json_array_size(v) == 2);
	CHECK(row_with(v, "api_key_id", T.key_id) == NULL);
	CHECK(row_with(v, "api_key_id", revoked_id) == NULL);
	json_t *u = row_with(v, "api_key_id", unused_id), *i = row_with(v, "api_key_id", idle_id);
	if (CHECK(u != NULL)) {
		CHECK_STR(jstr(u, "state"), "never_used");
		CHECK(json_is_null(jget(u, "last_used_at")));
		CHECK(e2e_is_timestamp(jstr(u, "created_at")));
		CHECK(json_is_null(jget(u, "expires_at")));
		CHECK(json_integer_value(jget(u, "idle_days")) <= 1);
	}
	if (CHECK(i != NULL)) {
		CHECK_STR(jstr(i, "state"), "idle_30d");
		CHECK(e2e_is_timestamp(jstr(i, "last_used_at")));
		CHECK(json_integer_value(jget(i, "idle_days")) >= 40 && json_integer_value(jget(i, "idle_days")) <= 41);
	}
	json_decref(v);
}

/* webhook_failures: an endpoint with one succeeded, one failed and one pending delivery (rows made by SQL: the
 * delivery engine has its own suite). The URL's path and query (a receiver's token) never show. */
static void test_webhook_failures(void)
{
	const char *acct[] = {T.account, T.account, NULL};
	const char *endpoint_sql =
		"INSERT INTO webhook_endpoints (id, account_id, url, events, secret_enc, secret_key_version, created_at, "
		"updated_at) VALUES (CONCAT('whk_0000000000', RIGHT(?, 15)), ?, "
		"'https://hooks.example.test/in?token=s3cret', '[\"*\"]', x'00', 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
	const char *events_sql =
		"INSERT INTO webhook_events (id, account_id, type, payload, created_at, dispatched_at) "
		"SELECT CONCAT('evt_000000000', RIGHT(?, 12), LPAD(n, 4, '0')), ?, 'run.failed', '{}', UTC_TIMESTAMP(3), "
		"UTC_TIMESTAMP(3) FROM (SELECT 1 AS n UNION SELECT 2 UNION SELECT 3) s";
	const char *deliveries_sql =
		"INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_id, status, attempts, created_at, "
		"updated_at, delivered_at) SELECT CONCAT('dlv_000000000', RIGHT(?, 12), LPAD(n, 4, '0')), ?, "
		"CONCAT('whk_0000000000', RIGHT(?, 15)), CONCAT('evt_000000000', RIGHT(?, 12), LPAD(n, 4, '0')), "
		"ELT(n, 'succeeded', 'failed', 'pending'), 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), "
		"IF(n = 1, UTC_TIMESTAMP(3), NULL) FROM (SELECT 1 AS n UNION SELECT 2 UNION SELECT 3) s";
	CHECK(e2e_sql(NULL, endpoint_sql, acct) == 1);
	CHECK(e2e_sql(NULL, events_sql, acct) == 3);
	CHECK(e2e_sql(NULL, deliveries_sql, (const char *[]){T.account, T.account, T.account, T.account, NULL}) == 3);
	struct admin_run run;
	json_t *v = report_json(&run, "webhook_failures", NULL, NULL);
	if (!v)
		return;
	CHECK(json_array_size(v) == 1);
	json_t *row = json_array_get(v, 0);
	CHECK_STR(jstr(row, "url_host"), "hooks.example.test");
	CHECK(json_integer_value(jget(row, "deliveries_30d")) == 2);
	CHECK(json_integer_value(jget(row, "succeeded")) == 1);
	CHECK(json_integer_value(jget(row, "failed")) == 1);
	CHECK(json_integer_value(jget(row, "pending")) == 1);
	CHECK(json_number_value(jget(row, "failure_rate")) > 0.49 && json_number_value(jget(row, "failure_rate")) < 0.51);
	char *text = json_dumps(v, JSON_COMPACT);
	CHECK(text && !strstr(text, "s3cret"));
	free(text);
	json_decref(v);
}

/* approvals_waiting: two pending approvals (made by SQL: approvals come from runs and the MCP endpoint), the
 * older first; a decided one is not listed. */
static void test_approvals_waiting(void)
{
	char older[64], newer[64], decided[64];
	long long salt = (long long)time(NULL);
	snprintf(older, sizeof older, "apr_000000001%016lld", salt);
	snprintf(newer, sizeof newer, "apr_000000002%016lld", salt);
	snprintf(decided, sizeof decided, "apr_000000003%016lld", salt);
	const char *sql = "INSERT INTO approvals (id, account_id, source, action, summary, arguments, status, expires_at, "
			  "created_at) VALUES (?, ?, 'mcp', 'send_email', ?, '{}', ?, UTC_TIMESTAMP(3) + INTERVAL ? MINUTE, "
			  "UTC_TIMESTAMP(3) - INTERVAL ? MINUTE)";
	CHECK(e2e_sql(NULL, sql, (const char *[]){older, T.account, "Older", "pending", "60", "90", NULL}) == 1);
	CHECK(e2e_sql(NULL, sql, (const char *[]){newer, T.account, "Newer", "pending", "600", "5", NULL}) == 1);
	CHECK(e2e_sql(NULL, sql, (const char *[]){decided, T.account, "Decided", "approved", "60", "120", NULL}) == 1);
	struct admin_run run;
	json_t *v = report_json(&run, "approvals_waiting", NULL, NULL);
	if (!v)
		return;
	CHECK(json_array_size(v) == 2);
	json_t *first = json_array_get(v, 0), *second = json_array_get(v, 1);
	CHECK_STR(jstr(first, "approval_id"), older);
	CHECK_STR(jstr(second, "approval_id"), newer);
	CHECK_STR(jstr(first, "summary"), "Older");
	CHECK_STR(jstr(first, "source"), "mcp");
	CHECK(json_is_null(jget(first, "agent_id")) && json_is_null(jget(first, "agent_name")));
	CHECK(json_integer_value(jget(first, "waiting_minutes")) >= 89 && json_integer_value(jget(first, "waiting_minutes")) <= 91);
	CHECK(json_integer_value(jget(first, "expires_in_minutes")) >= 58 &&
	      json_integer_value(jget(first, "expires_in_minutes")) <= 60);
	CHECK(e2e_is_timestamp(jstr(first, "created_at")) && e2e_is_timestamp(jstr(first, "expires_at")));
	json_decref(v);
}

static void test_formats(void)
{
	struct admin_run run;
	/* CSV: a header row, CRLF line ends, fields quoted when needed (the agent names have none). */
	if (CHECK(e2e_admin(&run, (const char *[]){"report", "keys_unused", "--account", T.account, "--format", "csv",
						   NULL},
			    NULL) == 0)) {
		CHECK(strncmp(run.out,
			      "account_id,api_key_id,key_name,key_prefix,created_at,expires_at,last_used_at,state,idle_days\r\n",
			      94) == 0);
		int lines = 0;
		for (const char *s = run.out; (s = strstr(s, "\r\n")); s += 2)
			lines++;
		CHECK(lines == 2); /* the header and the first row; the last CRLF is trimmed by e2e_admin */
		CHECK(strstr(run.out, unused_id) != NULL && strstr(run.out, ",never_used,") != NULL);
	}
	/* A name with a comma and a quote is quoted as RFC 4180 says. */
	const char *p[] = {quiet_agent, NULL};
	CHECK(e2e_sql(NULL, "UPDATE agents SET name = 'Quiet, \"really\"' WHERE id = ?", p) == 1);
	if (CHECK(e2e_admin(&run, (const char *[]){"report", "agent_health", "--account", T.account, "--format", "csv",
						   NULL},
			    NULL) == 0))
		CHECK(strstr(run.out, ",\"Quiet, \"\"really\"\"\",echo,idle,0,0,0,,,\r\n") != NULL ||
		      strstr(run.out, ",\"Quiet, \"\"really\"\"\",echo,idle,0,0,0,,,") != NULL);
	/* Table: the header names the columns, each row aligned under it. */
	if (CHECK(e2e_admin(&run, (const char *[]){"report", "agent_health", "--account", T.account, NULL}, NULL) == 0)) {
		CHECK(strncmp(run.out, "account_id", 10) == 0);
		const char *hdr_rate = strstr(run.out, "success_rate");
		const char *row = strstr(run.out, echo_agent);
		const char *line = row;
		while (line && line > run.out && line[-1] != '\n')
			line--;
		CHECK(hdr_rate && row && line);
		if (hdr_rate && line) {
			/* success_rate is right-aligned: its column ends where the header's ends. */
			const char *end = strstr(line, "1.0000");
			CHECK(end && (end + 6 - line) == (hdr_rate + 12 - run.out));
		}
		CHECK(strstr(run.out, "Quiet, \"really\"") != NULL);
	}
}

static void test_errors(void)
{
	struct admin_run run;
	CHECK(e2e_admin(&run, (const char *[]){"report", "nope", NULL}, NULL) == 2);
	CHECK(strstr(run.err, "unknown report 'nope'") && strstr(run.err, "agent_health") &&
	      strstr(run.err, "usage_daily_key") && strstr(run.err, "keys_unused") && strstr(run.err, "usage_daily_account"));
	CHECK(e2e_admin(&run, (const char *[]){"report", NULL}, NULL) == 2);
	CHECK(e2e_admin(&run, (const char *[]){"report", "--help", NULL}, NULL) == 0);
	CHECK(strstr(run.out, "usage_daily_account") != NULL);
	CHECK(e2e_admin(&run, (const char *[]){"report", "agent_health", "--from", "2024-01-01", NULL}, NULL) == 2);
	CHECK(e2e_admin(&run, (const char *[]){"report", "usage_daily_key", "--from", "2024-02-30", NULL}, NULL) == 2);
	CHECK(e2e_admin(&run, (const char *[]){"report", "usage_daily_key", "--from", "2024-03-02", "--to", "2024-03-01",
					       NULL},
			NULL) == 2);
	CHECK(e2e_admin(&run, (const char *[]){"report", "usage_daily_key", "--format", "xml", NULL}, NULL) == 2);
	CHECK(e2e_admin(&run, (const char *[]){"report", "usage_daily_key", "--account", "acct_0000000000000000000000000",
					       NULL},
			NULL) == 2);
	CHECK(e2e_admin(&run, (const char *[]){"report", "usage_daily_key", "--account", "x' OR 1=1 --", NULL}, NULL) == 2);
	CHECK(e2e_admin(&run, (const char *[]){"report", "usage_daily_key", "--bogus", "1", NULL}, NULL) == 2);
}

/* Runs `reporting-user ARGV...` with INPUT on its stdin. */
static int reporting_user(struct admin_run *run, const char *const *argv, const char *input)
{
	int fds[2], saved = dup(0);
	if (saved < 0 || pipe(fds) != 0)
		return -1;
	/* Small enough for the pipe's buffer: written whole before the child starts. */
	if (write(fds[1], input, strlen(input)) != (ssize_t)strlen(input))
		return -1;
	close(fds[1]);
	dup2(fds[0], 0);
	close(fds[0]);
	int st = e2e_admin(run, argv, NULL);
	dup2(saved, 0);
	close(saved);
	return st;
}

static void test_reporting_user(void)
{
	struct admin_run run;
	const char *create[] = {"reporting-user", "create", report_user, NULL};
	CHECK(reporting_user(&run, (const char *[]){"reporting-user", "create", "Bad-Name", NULL}, "long enough\n") == 2);
	CHECK(reporting_user(&run, (const char *[]){"reporting-user", "create", "x';drop", NULL}, "long enough\n") == 2);
	CHECK(reporting_user(&run, (const char *[]){"reporting-user", "create", "ok_name", "--host", "a'b", NULL},
			     "long enough\n") == 2);
	CHECK(reporting_user(&run, create, "\n") == 2);
	CHECK(reporting_user(&run, create, "short\n") == 2);
	if (!CHECK(reporting_user(&run, create, "it's a \"reporting\" secret\\\n") == 0)) {
		fprintf(stderr, "reporting-user create: %s\n", run.err);
		return;
	}
	CHECK(strstr(run.err, report_user) != NULL);
	CHECK(strstr(run.err, "secret") == NULL);
	/* A second create is refused and leaves the user alone. */
	CHECK(reporting_user(&run, create, "another password\n") == 1);

	MYSQL *m = mysql_init(NULL);
	if (!m)
		return;
	if (CHECK(mysql_real_connect(m, NULL, report_user, "it's a \"reporting\" secret\\", E2E.db_name, 0, E2E.db_socket,
				     0) != NULL)) {
		static const char *const views[] = {"report_usage_daily_account", "report_usage_daily_key",
						    "report_agent_health", "report_keys_unused", "report_webhook_failures",
						    "report_approvals_waiting"};
		for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
			char sql[128];
			snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", views[i]);
			int ok = mysql_query(m, sql) == 0;
			CHECK(ok);
			if (!ok)
				fprintf(stderr, "%s: %s\n", sql, mysql_error(m));
			MYSQL_RES *res = mysql_store_result(m);
			if (res)
				mysql_free_result(res);
		}
		CHECK(mysql_query(m, "SELECT * FROM api_keys") != 0 && mysql_errno(m) == 1142);
		CHECK(mysql_query(m, "SELECT * FROM runs") != 0 && mysql_errno(m) == 1142);
		CHECK(mysql_query(m, "DELETE FROM report_keys_unused") != 0 && mysql_errno(m) == 1142);
	} else {
		fprintf(stderr, "connect as %s: %s\n", report_user, mysql_error(m));
	}
	mysql_close(m);
	/* The old password is the one that stayed. */
	m = mysql_init(NULL);
	if (m) {
		CHECK(mysql_real_connect(m, NULL, report_user, "another password", E2E.db_name, 0, E2E.db_socket, 0) == NULL);
		mysql_close(m);
	}
}

int suite_reports_register(void)
{
	CU_pSuite s = CU_add_suite("reports", init, cleanup);
	if (!s)
		return -1;
	if (!CU_add_test(s, "traffic in a fresh account", test_traffic) ||
	    !CU_add_test(s, "agent_health: runs, success rate, p95 in the last 30 days", test_agent_health) ||
	    !CU_add_test(s, "usage_daily_key and usage_daily_account equal the requests made", test_usage) ||
	    !CU_add_test(s, "keys_unused: never used and idle for 30 days, not revoked", test_keys_unused) ||
	    !CU_add_test(s, "webhook_failures: rates per endpoint, host only", test_webhook_failures) ||
	    !CU_add_test(s, "approvals_waiting: pending approvals, the longest waiting first", test_approvals_waiting) ||
	    !CU_add_test(s, "csv (RFC 4180) and table formats", test_formats) ||
	    !CU_add_test(s, "unknown report, bad options: exit 2", test_errors) ||
	    !CU_add_test(s, "reporting-user create: SELECT on the views only", test_reporting_user))
		return -1;
	return 0;
}
