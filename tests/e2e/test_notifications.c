/* test_notifications: notifications made by the scheduler (failed runs, agents into error, weather alerts,
 * expiring API keys), listing with filters and pagination, read and read-all, isolation and scopes. */
#include "../fakes/fake_server.h"
#include "e2e.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Bounded waits, in seconds: generous for a loaded 2-core machine under ASan; never a timing assertion. */
#define WAIT_SECS 60

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T, OTHER, NOSCOPE;
static char fake[64];

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int init(void)
{
	const char *dir = getenv("AP_TEST_STACK_DIR");
	if (!dir || !*dir) {
		fprintf(stderr, "notifications: AP_TEST_STACK_DIR is not set (tests/run exports it)\n");
		return -1;
	}
	if (e2e_tenant(&T, "notifications", "all", GENEROUS) != 0 ||
	    e2e_tenant(&OTHER, "notifications-other", "all", GENEROUS) != 0 ||
	    e2e_tenant(&NOSCOPE, "notifications-noscope", "agents:read agents:write runs:read", GENEROUS) != 0)
		return -1;
	int port = fake_server_start();
	if (port < 0)
		return -1;
	snprintf(fake, sizeof fake, "http://127.0.0.1:%d", port);
	/* The weather service is this suite's fake server (the stack restarts what the changed config concerns). */
	return e2e_stack_settings("# Written by the e2e suite \"notifications\": the weather service is its fake server.\n"
				  "weather_geocoding_url = %s/v1/search\nweather_forecast_url = %s/v1/forecast\n",
				  fake, fake);
}

static int cleanup(void)
{
	fake_server_stop();
	return 0;
}

/* Creates an agent from BODY and sends it one signal; the agent and run ids into AGENT and RUN (64 bytes). */
static int agent_and_run(const char *body, char *agent, char *run)
{
	struct resp r = {0};
	agent[0] = run[0] = '\0';
	if (http_call(&r, "POST", T.key, body, "/api/v1/agents") == 201 && jstr(r.json, "data.id"))
		snprintf(agent, 64, "%s", jstr(r.json, "data.id"));
	if (agent[0] && http_call(&r, "POST", T.key, "{\"type\":\"go\",\"payload\":{}}", "/api/v1/agents/%s/signals",
				  agent) == 202 && jstr(r.json, "data.run_id"))
		snprintf(run, 64, "%s", jstr(r.json, "data.run_id"));
	int ok = CHECK(agent[0] && run[0]);
	resp_free(&r);
	return ok;
}

/* Signals AGENT again; the run id into RUN. */
static int another_run(const char *agent, char *run)
{
	struct resp r = {0};
	run[0] = '\0';
	if (http_call(&r, "POST", T.key, "{\"type\":\"go\",\"payload\":{}}", "/api/v1/agents/%s/signals", agent) == 202 &&
	    jstr(r.json, "data.run_id"))
		snprintf(run, 64, "%s", jstr(r.json, "data.run_id"));
	resp_free(&r);
	return CHECK(run[0]);
}

/* Waits for RUN to finish as WANT; R holds the run. */
static int finished_as(const char *run, const char *want, struct resp *r)
{
	for (int i = 0; i < WAIT_SECS * 10; i++) {
		if (http_get(r, T.key, "/api/v1/runs/%s", run) == 200) {
			const char *st = jstr(r->json, "data.status");
			if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0)
				return CHECK_STR(st, want);
		}
		nap(100);
	}
	return CHECK(!"the run finished in time");
}

/* KEY's notifications of TYPE (NULL: any) about RUN (NULL: any), every page (caller decrefs). */
static json_t *notifications_of(const char *key, const char *type, const char *run)
{
	struct resp r = {0};
	json_t *all = json_array();
	char cursor[128] = "";
	for (int page = 0; page < 100; page++) {
		char q[512];
		snprintf(q, sizeof q, "/api/v1/notifications?limit=100%s%s%s%s", type ? "&type=" : "", type ? type : "",
			 cursor[0] ? "&cursor=" : "", cursor);
		if (http_get(&r, key, "%s", q) != 200)
			break;
		size_t i;
		json_t *e;
		json_array_foreach(jget(r.json, "data"), i, e)
		{
			if (!run || (jstr(e, "run_id") && strcmp(jstr(e, "run_id"), run) == 0))
				json_array_append(all, e);
		}
		if (!json_is_true(jget(r.json, "has_more")) || !jstr(r.json, "next_cursor"))
			break;
		snprintf(cursor, sizeof cursor, "%s", jstr(r.json, "next_cursor"));
	}
	resp_free(&r);
	return all;
}

/* Waits until KEY has at least N notifications of TYPE about RUN; returns them (caller decrefs). */
static json_t *wait_notifications(const char *key, const char *type, const char *run, size_t n)
{
	json_t *all = NULL;
	for (int i = 0; i < WAIT_SECS * 5; i++) {
		json_decref(all);
		all = notifications_of(key, type, run);
		if (json_array_size(all) >= n)
			break;
		nap(200);
	}
	return all;
}

/* Exactly the documented members, each of its type. */
static int check_shape(const json_t *n)
{
	const json_t *agent = jget(n, "agent_id"), *run = jget(n, "run_id"), *read = jget(n, "read_at");
	return CHECK(json_object_size(n) == 8 && e2e_is_id(jstr(n, "id"), "ntf_") && jstr(n, "type") && jstr(n, "title") &&
		     jstr(n, "body") && (json_is_null(agent) || e2e_is_id(jstr(n, "agent_id"), "agt_")) &&
		     (json_is_null(run) || e2e_is_id(jstr(n, "run_id"), "run_")) &&
		     (json_is_null(read) || e2e_is_timestamp(jstr(n, "read_at"))) && e2e_is_timestamp(jstr(n, "created_at")));
}

static void test_run_failed(void)
{
	char agent[64], run[64], run2[64];
	struct resp r = {0};
	/* Port 1 of loopback: nothing listens there. */
	if (!agent_and_run("{\"name\":\"Unreachable\",\"type\":\"http_request\",\"config\":{\"url\":"
			   "\"http://127.0.0.1:1/\",\"timeout_seconds\":5}}",
			   agent, run) ||
	    !finished_as(run, "failed", &r))
		goto out;
	char error[1000];
	snprintf(error, sizeof error, "%s", jstr(r.json, "data.error_message") ? jstr(r.json, "data.error_message") : "");
	json_t *failed = wait_notifications(T.key, "run.failed", run, 1);
	json_t *into_error = wait_notifications(T.key, "agent.error", run, 1);
	if (CHECK(json_array_size(failed) == 1)) {
		const json_t *n = json_array_get(failed, 0);
		check_shape(n);
		CHECK_STR(jstr(n, "type"), "run.failed");
		CHECK_STR(jstr(n, "title"), "Run failed: Unreachable");
		CHECK_STR(jstr(n, "body"), error);
		CHECK_STR(jstr(n, "agent_id"), agent);
		CHECK_STR(jstr(n, "run_id"), run);
		CHECK(json_is_null(jget(n, "read_at")));
		/* The same through GET /notifications/{id}. */
		if (CHECK(http_get(&r, T.key, "/api/v1/notifications/%s", jstr(n, "id")) == 200))
			CHECK(json_equal(jget(r.json, "data"), (json_t *)n));
	}
	if (CHECK(json_array_size(into_error) == 1)) {
		const json_t *n = json_array_get(into_error, 0);
		check_shape(n);
		CHECK_STR(jstr(n, "title"), "Agent in error: Unreachable");
		CHECK_STR(jstr(n, "agent_id"), agent);
	}
	json_decref(failed);
	json_decref(into_error);

	/* A second failure: its own run.failed, but the agent was already in error. */
	if (another_run(agent, run2) && finished_as(run2, "failed", &r)) {
		failed = wait_notifications(T.key, "run.failed", run2, 1);
		CHECK(json_array_size(failed) == 1);
		json_decref(failed);
		json_t *errors = notifications_of(T.key, "agent.error", NULL);
		size_t mine = 0, i;
		json_t *e;
		json_array_foreach(errors, i, e) mine += jstr(e, "agent_id") && strcmp(jstr(e, "agent_id"), agent) == 0;
		CHECK(mine == 1);
		json_decref(errors);
	}
	/* Exactly one each, whatever the scheduler does later (a sweep, a retry). */
	nap(2000);
	failed = notifications_of(T.key, "run.failed", run);
	CHECK(json_array_size(failed) == 1);
	json_decref(failed);
out:
	resp_free(&r);
}

static void test_weather_alert(void)
{
	char agent[64], run[64], quiet[64], quiet_run[64];
	struct resp r = {0};
	if (!agent_and_run("{\"name\":\"Rain watch\",\"type\":\"weather_check\",\"config\":{\"location\":\"Rainville\","
			   "\"alert\":{\"rain_probability_above\":10}}}",
			   agent, run) ||
	    !agent_and_run("{\"name\":\"Dry watch\",\"type\":\"weather_check\",\"config\":{\"location\":\"Dryville\","
			   "\"alert\":{\"rain_probability_above\":50}}}",
			   quiet, quiet_run) ||
	    !finished_as(run, "succeeded", &r) || !finished_as(quiet_run, "succeeded", &r))
		goto out;
	json_t *alerts = wait_notifications(T.key, "weather.alert", run, 1);
	if (CHECK(json_array_size(alerts) == 1)) {
		const json_t *n = json_array_get(alerts, 0);
		check_shape(n);
		CHECK_STR(jstr(n, "title"), "Weather alert: Rain watch");
		CHECK_STR(jstr(n, "body"), "Weather alert for Rainville: 20% chance of rain (above 10%)");
		CHECK_STR(jstr(n, "agent_id"), agent);
		CHECK_STR(jstr(n, "run_id"), run);
	}
	json_decref(alerts);
	/* No alert raised, no notification; a succeeded run makes no run.failed either. */
	json_t *none = notifications_of(T.key, NULL, quiet_run);
	CHECK(json_array_size(none) == 0);
	json_decref(none);
out:
	resp_free(&r);
}

static void test_key_expiring(void)
{
	static const char *const EXPIRES[] = {"--expires", "30d", NULL};
	char key[64], key_id[64], later[64], later_id[64];
	if (!CHECK(e2e_key(&T, "agents:read", EXPIRES, key, key_id) == 0) ||
	    !CHECK(e2e_key(&T, "agents:read", EXPIRES, later, later_id) == 0))
		return;
	const char *p[] = {key_id, NULL};
	CHECK(e2e_sql(NULL, "UPDATE api_keys SET expires_at = UTC_TIMESTAMP(3) + INTERVAL 3 DAY WHERE id = ?", p) == 1);
	json_t *all = wait_notifications(T.key, "api_key.expiring", NULL, 1);
	if (CHECK(json_array_size(all) == 1)) {
		const json_t *n = json_array_get(all, 0);
		check_shape(n);
		CHECK_STR(jstr(n, "title"), "API key expiring: e2e key");
		const char *body = jstr(n, "body");
		char prefix[32];
		snprintf(prefix, sizeof prefix, "%.12s", key);
		CHECK(body && strstr(body, "The API key ap_live_") == body && strstr(body, " expires at "));
		CHECK(json_is_null(jget(n, "agent_id")) && json_is_null(jget(n, "run_id")));
	}
	json_decref(all);
	/* The check runs every second: still one after several more, and none for the key expiring in 30 days. */
	nap(3000);
	all = notifications_of(T.key, "api_key.expiring", NULL);
	CHECK(json_array_size(all) == 1);
	json_decref(all);
	const char *q[] = {T.account, NULL};
	struct rows rows;
	CHECK(e2e_sql(&rows, "SELECT COUNT(*) FROM notifications WHERE account_id = ? AND type = 'api_key.expiring'", q) == 1 &&
	      rows.n == 1 && strcmp(rows.cell[0][0], "1") == 0);
	rows_free(&rows);
}

/* Inserts N notifications for ACCOUNT with increasing ids (written to IDS[i], 64 bytes each): type cycles
 * through weather.alert, run.failed, api_key.expiring; every third is read. */
static int insert_fixed(const char *account, int n, char (*ids)[64])
{
	static const char *const TYPES[] = {"weather.alert", "run.failed", "api_key.expiring"};
	long long salt = (long long)time(NULL) * 1000 + getpid() % 1000;
	for (int i = 0; i < n; i++) {
		char dedupe[100];
		snprintf(ids[i], 64, "ntf_%09d%016lld", i + 1, salt);
		snprintf(dedupe, sizeof dedupe, "test:%s", ids[i]);
		const char *p[] = {ids[i], account, TYPES[i % 3], dedupe, i % 3 == 2 ? "1" : "0", NULL};
		if (e2e_sql(NULL,
			    "INSERT INTO notifications (id, account_id, type, title, body, dedupe_key, read_at, created_at) "
			    "VALUES (?, ?, ?, 'Fixed', 'A fixed notification', ?, IF(? = '1', UTC_TIMESTAMP(3), NULL), "
			    "UTC_TIMESTAMP(3))",
			    p) != 1)
			return -1;
	}
	return 0;
}

/* The ids of every page of GET /api/v1/notifications?QUERY&limit=LIMIT ("": no filter) as KEY, in order (caller decrefs). */
static json_t *page_ids(const char *key, const char *query, int limit)
{
	struct resp r = {0};
	json_t *ids = json_array();
	char cursor[128] = "";
	for (int page = 0; page < 100; page++) {
		http_get(&r, key, "/api/v1/notifications?%s%slimit=%d%s%s", query, query[0] ? "&" : "", limit,
			 cursor[0] ? "&cursor=" : "", cursor);
		if (!CHECK_STATUS(r, 200))
			break;
		CHECK(json_array_size(jget(r.json, "data")) <= (size_t)limit);
		size_t i;
		json_t *e;
		json_array_foreach(jget(r.json, "data"), i, e) json_array_append_new(ids, json_string(jstr(e, "id")));
		if (!json_is_true(jget(r.json, "has_more"))) {
			CHECK(json_is_null(jget(r.json, "next_cursor")));
			break;
		}
		snprintf(cursor, sizeof cursor, "%s", jstr(r.json, "next_cursor") ? jstr(r.json, "next_cursor") : "");
	}
	resp_free(&r);
	return ids;
}

/* A fresh account with 25 fixed notifications: filters, pagination, read, read-all, isolation. */
static void test_list_read(void)
{
	enum { N = 25 };
	struct tenant t;
	char ids[N][64];
	struct resp r = {0};
	if (!CHECK(e2e_tenant(&t, "notifications-list", "all", GENEROUS) == 0) || !CHECK(insert_fixed(t.account, N, ids) == 0))
		return;
	/* Each filter combination against the fixed rows, newest first, across pages (query NULL: no filter). */
	const struct {
		const char *query;
		int want;       /* how many of the fixed rows match */
		int type, read; /* type index (i % 3) and read state (-1: any) */
	} cases[] = {
		{NULL, N, -1, -1},
		{"unread=true", N - N / 3, -1, 0},
		{"unread=false", N / 3, -1, 1},
		{"type=run.failed", (N + 1) / 3, 1, -1},
		{"type=weather.alert&unread=true", (N + 2) / 3, 0, 0},
		{"type=api_key.expiring&unread=false", N / 3, 2, 1},
		{"type=api_key.expiring&unread=true", 0, 2, 0},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		json_t *got = cases[c].query ? page_ids(t.key, cases[c].query, 4) : page_ids(t.key, "", 7);
		json_t *want = json_array();
		for (int i = N - 1; i >= 0; i--)
			if ((cases[c].type < 0 || i % 3 == cases[c].type) && (cases[c].read < 0 || (i % 3 == 2) == cases[c].read))
				json_array_append_new(want, json_string(ids[i]));
		char *g = json_dumps(got, JSON_COMPACT), *w = json_dumps(want, JSON_COMPACT);
		e2e_check(json_equal(got, want) && (int)json_array_size(want) == cases[c].want, __FILE__, __LINE__,
			  "%s: got %s want %s", cases[c].query ? cases[c].query : "(all)", g, w);
		free(g);
		free(w);
		json_decref(got);
		json_decref(want);
	}

	/* Read: 200 with read_at; again: the same read_at, one audit entry. */
	const char *first = ids[0];
	char read_at[64] = "";
	if (CHECK(http_call(&r, "POST", t.key, NULL, "/api/v1/notifications/%s/read", first) == 200)) {
		check_shape(jget(r.json, "data"));
		CHECK_STR(jstr(r.json, "data.id"), first);
		CHECK(e2e_is_timestamp(jstr(r.json, "data.read_at")));
		snprintf(read_at, sizeof read_at, "%s", jstr(r.json, "data.read_at") ? jstr(r.json, "data.read_at") : "");
	}
	nap(5);
	if (CHECK(http_call(&r, "POST", t.key, "{}", "/api/v1/notifications/%s/read", first) == 200))
		CHECK_STR(jstr(r.json, "data.read_at"), read_at);
	if (CHECK(http_get(&r, t.key, "/api/v1/audit-logs?target_id=%s", first) == 200)) {
		CHECK(json_array_size(jget(r.json, "data")) == 1);
		CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "action"), "notification.read");
	}
	/* A field in the body: 422. */
	http_call(&r, "POST", t.key, "{\"read\":true}", "/api/v1/notifications/%s/read", first);
	CHECK_ERROR(r, 422, "parameter_unknown", "read");

	/* Read-all: how many were unread (all but the fixed read ones and the first); then 0. */
	int unread = N - N / 3 - 1;
	if (CHECK(http_call(&r, "POST", t.key, NULL, "/api/v1/notifications/read-all") == 200)) {
		CHECK(json_integer_value(jget(r.json, "data.updated")) == unread);
		CHECK(json_object_size(jget(r.json, "data")) == 1);
	}
	if (CHECK(http_call(&r, "POST", t.key, "{}", "/api/v1/notifications/read-all") == 200))
		CHECK(json_integer_value(jget(r.json, "data.updated")) == 0);
	json_t *left = page_ids(t.key, "unread=true", 100);
	CHECK(json_array_size(left) == 0);
	json_decref(left);
	if (CHECK(http_get(&r, t.key, "/api/v1/audit-logs?action=notification.all_read") == 200)) {
		const json_t *e = json_array_get(jget(r.json, "data"), 0);
		CHECK(json_array_size(jget(r.json, "data")) == 1);
		CHECK_STR(jstr(e, "target_type"), "account");
		CHECK_STR(jstr(e, "target_id"), t.account);
		CHECK(json_integer_value(jget(e, "changes.updated")) == unread);
	}

	/* Another account's notification is a 404, like an unknown or malformed id; its read-all touches none. */
	http_get(&r, OTHER.key, "/api/v1/notifications/%s", ids[1]);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", OTHER.key, NULL, "/api/v1/notifications/%s/read", ids[1]);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, t.key, "/api/v1/notifications/ntf_0000000000000000000000000");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, t.key, "/api/v1/notifications/ntf_short");
	CHECK_ERROR(r, 404, "not_found", NULL);
	json_t *other = page_ids(OTHER.key, "unread=false", 100);
	for (size_t i = 0; i < json_array_size(other); i++)
		for (int k = 0; k < N; k++)
			CHECK(strcmp(json_string_value(json_array_get(other, i)), ids[k]) != 0);
	json_decref(other);
	resp_free(&r);
}

static void test_errors_and_scopes(void)
{
	static const struct {
		const char *query, *param, *code;
	} BAD[] = {
		{"unread=yes", "unread", "parameter_invalid"},
		{"unread=", "unread", "parameter_invalid"},
		{"type=run.started", "type", "parameter_invalid"},
		{"type=", "type", "parameter_invalid"},
		{"status=failed", "status", "parameter_unknown"},
		{"limit=0", "limit", "parameter_invalid"},
		{"limit=101", "limit", "parameter_invalid"},
		{"cursor=garbage", "cursor", "cursor_invalid"},
	};
	struct resp r = {0};
	for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		http_get(&r, T.key, "/api/v1/notifications?%s", BAD[i].query);
		CHECK_ERROR(r, 400, BAD[i].code, BAD[i].param);
	}
	/* Scopes: notifications:read to look, notifications:write to mark. */
	http_get(&r, NOSCOPE.key, "/api/v1/notifications");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_get(&r, NOSCOPE.key, "/api/v1/notifications/ntf_0000000000000000000000000");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	char key[64], key_id[64];
	if (CHECK(e2e_key(&NOSCOPE, "notifications:read", GENEROUS, key, key_id) == 0)) {
		CHECK(http_get(&r, key, "/api/v1/notifications") == 200);
		http_call(&r, "POST", key, NULL, "/api/v1/notifications/read-all");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
		CHECK_STR(resp_header(&r, "WWW-Authenticate"),
			  "Bearer realm=\"agentplatform\", error=\"insufficient_scope\", scope=\"notifications:write\"");
		http_call(&r, "POST", key, NULL, "/api/v1/notifications/ntf_0000000000000000000000000/read");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
	}
	/* Without a key: 401. Another method: 405. */
	http_get(&r, NULL, "/api/v1/notifications");
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/notifications/read-all");
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
	resp_free(&r);
}

int suite_notifications_register(void)
{
	CU_pSuite s = CU_add_suite("notifications", init, cleanup);
	if (!s)
		return -1;
	if (!CU_add_test(s, "a failed run: run.failed once, agent.error on the way into error", test_run_failed) ||
	    !CU_add_test(s, "a weather alert: weather.alert", test_weather_alert) ||
	    !CU_add_test(s, "a key expiring in 3 days: api_key.expiring once", test_key_expiring) ||
	    !CU_add_test(s, "filters, pagination, read and read-all, isolation", test_list_read) ||
	    !CU_add_test(s, "query errors, scopes, 401 and 405", test_errors_and_scopes))
		return -1;
	return 0;
}
