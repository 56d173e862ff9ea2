/* test_agents: every /api/v1/agents endpoint, its errors, pagination, merge patch, isolation and audit rows. */
#include "e2e.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABSENT_ID "agt_0000000000000000000000000"

static struct tenant A, B; /* two accounts: B must never see A's agents */

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static int init(void)
{
	if (e2e_tenant(&A, "agents-a", "agents:read agents:write", GENEROUS) != 0 ||
	    e2e_tenant(&B, "agents-b", "all", GENEROUS) != 0)
		return -1;
	return 0;
}

/* The agent object: exactly the documented fields, each of its type. Returns 1 when it holds. */
static int check_agent(const json_t *g, const char *file, int line)
{
	static const char *const types[] = {"weather_check", "http_request", "echo", NULL};
	static const char *const statuses[] = {"idle", "running", "paused", "error", NULL};
	char why[256] = "";
	const char *type = jstr(g, "type"), *status = jstr(g, "status");
	int type_ok = 0, status_ok = 0;
	for (const char *const *t = types; type && *t; t++)
		type_ok |= strcmp(*t, type) == 0;
	for (const char *const *s = statuses; status && *s; s++)
		status_ok |= strcmp(*s, status) == 0;
	const json_t *sched = jget(g, "schedule"), *next = jget(g, "next_run_at"), *last = jget(g, "last_run_at");
	if (!json_is_object(g))
		snprintf(why, sizeof why, "not an object");
	else if (json_object_size(g) - (jget(g, "inbound_webhook_url") != NULL) - (jget(g, "inbound_webhook_secret") != NULL) != 14)
		snprintf(why, sizeof why, "%zu members, want 14 (+ the one-time inbound_webhook_url/secret)", json_object_size(g));
	else if (!json_is_object(jget(g, "inbound_webhook")) || json_object_size(jget(g, "inbound_webhook")) != 3 ||
		 !json_is_boolean(jget(g, "inbound_webhook.enabled")) || !json_is_boolean(jget(g, "inbound_webhook.signed")) ||
		 !(json_is_null(jget(g, "inbound_webhook.hint")) || json_is_string(jget(g, "inbound_webhook.hint"))))
		snprintf(why, sizeof why, "inbound_webhook is not {enabled, hint, signed}");
	else if (!e2e_is_id(jstr(g, "id"), "agt_"))
		snprintf(why, sizeof why, "id %s", jstr(g, "id") ? jstr(g, "id") : "(none)");
	else if (!jstr(g, "name"))
		snprintf(why, sizeof why, "no name");
	else if (!type_ok)
		snprintf(why, sizeof why, "type %s", type ? type : "(none)");
	else if (!status_ok)
		snprintf(why, sizeof why, "status %s", status ? status : "(none)");
	else if (!sched || !(json_is_null(sched) || json_is_string(sched)))
		snprintf(why, sizeof why, "schedule is neither a string nor null");
	else if (!jstr(g, "timezone"))
		snprintf(why, sizeof why, "no timezone");
	else if (!json_is_object(jget(g, "config")))
		snprintf(why, sizeof why, "config is not an object");
	else if (!e2e_is_timestamp(jstr(g, "created_at")) || !e2e_is_timestamp(jstr(g, "updated_at")))
		snprintf(why, sizeof why, "created_at/updated_at not YYYY-MM-DDThh:mm:ss.sssZ");
	else if (!last || !(json_is_null(last) || e2e_is_timestamp(json_string_value(last))))
		snprintf(why, sizeof why, "last_run_at is neither a timestamp nor null");
	else if (!next || !(json_is_null(next) || e2e_is_timestamp(json_string_value(next))))
		snprintf(why, sizeof why, "next_run_at is neither a timestamp nor null");
	else if (json_is_null(sched) != json_is_null(next))
		snprintf(why, sizeof why, "next_run_at must be set exactly when schedule is");
	else if (strcmp(jstr(g, "updated_at"), jstr(g, "created_at")) < 0)
		snprintf(why, sizeof why, "updated_at before created_at");
	char *dump = g ? json_dumps(g, JSON_COMPACT) : NULL;
	e2e_check(!why[0], file, line, "agent: %s: %.300s", why, dump ? dump : "(null)");
	free(dump);
	return !why[0];
}
#define CHECK_AGENT(g) check_agent((g), __FILE__, __LINE__)

/* POST /api/v1/agents with BODY as KEY; on 201 copies the id into ID (64 bytes, may be NULL). */
static long create(struct resp *r, const char *key, const char *body, char *id)
{
	http_call(r, "POST", key, body, "/api/v1/agents");
	if (id) {
		id[0] = '\0';
		if (r->status == 201 && jstr(r->json, "data.id"))
			snprintf(id, 64, "%s", jstr(r->json, "data.id"));
	}
	return r->status;
}

/* Rows of audit_logs whose request_id is RID. */
static long audit_count_for_request(const char *rid)
{
	return e2e_sql(NULL, "SELECT id FROM audit_logs WHERE request_id = ?", (const char *[]){rid ? rid : "", NULL});
}

/* A string of N copies of the UTF-8 sequence UNIT (caller frees). */
static char *repeat(const char *unit, int n)
{
	size_t u = strlen(unit);
	char *s = malloc(u * (size_t)n + 1);
	if (!s)
		abort();
	for (int i = 0; i < n; i++)
		memcpy(s + u * (size_t)i, unit, u);
	s[u * (size_t)n] = '\0';
	return s;
}

/* {"name":"NAME","type":"echo"} for a long NAME (caller frees). */
static char *named_echo(const char *name)
{
	json_t *o = json_pack("{s:s, s:s}", "name", name, "type", "echo");
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

/* An object nested DEPTH levels deep as the value of "a": {"a":{"a":...{}}} (caller frees). */
static char *nested(int depth)
{
	size_t n = (size_t)depth * 6 + 8;
	char *s = malloc(n);
	if (!s)
		abort();
	size_t k = 0;
	for (int i = 0; i < depth - 1; i++) {
		memcpy(s + k, "{\"a\":", 5);
		k += 5;
	}
	s[k++] = '{';
	for (int i = 0; i < depth; i++)
		s[k++] = '}';
	s[k] = '\0';
	return s;
}

static void test_create(void)
{
	struct resp r = {0}, g = {0};
	char id[64];

	create(&r, A.key, "{\"name\":\"Weather Berlin\",\"type\":\"weather_check\",\"config\":{\"location\":\"Berlin\"}}", id);
	if (CHECK_STATUS(r, 201)) {
		const json_t *d = jget(r.json, "data");
		CHECK(json_object_size(r.json) == 1);
		CHECK_AGENT(d);
		CHECK_STR(jstr(d, "name"), "Weather Berlin");
		CHECK_STR(jstr(d, "type"), "weather_check");
		CHECK_STR(jstr(d, "status"), "idle");
		CHECK(json_is_null(jget(d, "schedule")));
		CHECK_STR(jstr(d, "timezone"), "UTC");
		CHECK(json_object_size(jget(d, "config")) == 1);
		CHECK_STR(jstr(d, "config.location"), "Berlin");
		CHECK(json_is_null(jget(d, "last_run_at")));
		CHECK(json_is_null(jget(d, "next_run_at")));
		char loc[256];
		snprintf(loc, sizeof loc, "%s/api/v1/agents/%s", E2E.url, id);
		CHECK_HEADER(r, "Location", loc);
		CHECK(resp_header(&r, "X-RateLimit-Limit") != NULL);
		/* The inbound webhook URL is in the create answer only. */
		const char *hook = jstr(d, "inbound_webhook_url");
		char prefix[256];
		snprintf(prefix, sizeof prefix, "%s/hooks/", E2E.url);
		CHECK(hook && strncmp(hook, prefix, strlen(prefix)) == 0 && strlen(hook) == strlen(prefix) + 43);
		CHECK(json_is_true(jget(d, "inbound_webhook.enabled")) && json_is_false(jget(d, "inbound_webhook.signed")));
		CHECK(hook && strcmp(jstr(d, "inbound_webhook.hint"), hook + strlen(hook) - 4) == 0);
		/* The object the Location names is the one created, without the one-time URL. */
		http_get(&g, A.key, "/api/v1/agents/%s", id);
		CHECK_STATUS(g, 200);
		CHECK(json_object_size(g.json) == 1);
		json_t *created = json_deep_copy(d);
		json_object_del(created, "inbound_webhook_url");
		CHECK(json_equal(jget(g.json, "data"), created));
		CHECK(jget(g.json, "data.inbound_webhook_url") == NULL);
		json_decref(created);
	}

	/* Scheduled, in a time zone: next_run_at is computed, in UTC with Z, after now. */
	create(&r, A.key,
	       "{\"name\":\"Every five\",\"type\":\"echo\",\"schedule\":\"*/5 * * * *\",\"timezone\":\"Europe/Berlin\","
	       "\"config\":{\"message\":\"hi\"}}",
	       id);
	if (CHECK_STATUS(r, 201)) {
		const json_t *d = jget(r.json, "data");
		CHECK_AGENT(d);
		CHECK_STR(jstr(d, "schedule"), "*/5 * * * *");
		CHECK_STR(jstr(d, "timezone"), "Europe/Berlin");
		CHECK_STR(jstr(d, "config.message"), "hi");
		const char *next = jstr(d, "next_run_at");
		CHECK(e2e_is_timestamp(next));
		CHECK(next && strcmp(next, jstr(d, "created_at")) > 0);
		/* On a five-minute boundary, to the second. */
		if (e2e_is_timestamp(next)) {
			CHECK((next[15] - '0') % 5 == 0);
			CHECK(strcmp(next + 16, ":00.000Z") == 0);
		}
	}

	create(&r, A.key,
	       "{\"name\":\"Ping\",\"type\":\"http_request\",\"config\":{\"url\":\"https://example.com/health\","
	       "\"method\":\"GET\",\"timeout_seconds\":5}}",
	       id);
	if (CHECK_STATUS(r, 201)) {
		CHECK_AGENT(jget(r.json, "data"));
		CHECK_STR(jstr(r.json, "data.config.url"), "https://example.com/health");
	}

	/* Optional fields absent or null: config {}, schedule null, timezone UTC. */
	static const char *const minimal[] = {
		"{\"name\":\"e\",\"type\":\"echo\"}",
		"{\"name\":\"e\",\"type\":\"echo\",\"config\":null,\"schedule\":null,\"timezone\":null}",
		"{\"type\":\"echo\",\"config\":{},\"name\":\"e\"}",
	};
	for (size_t i = 0; i < sizeof minimal / sizeof minimal[0]; i++) {
		create(&r, A.key, minimal[i], id);
		if (CHECK_STATUS(r, 201)) {
			const json_t *d = jget(r.json, "data");
			CHECK_AGENT(d);
			CHECK(json_is_object(jget(d, "config")) && json_object_size(jget(d, "config")) == 0);
			CHECK(json_is_null(jget(d, "schedule")));
			CHECK_STR(jstr(d, "timezone"), "UTC");
		}
	}

	/* Names are 1 to 200 code points, not bytes. */
	const char *units[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		char *name = repeat(units[i], 200), *body = named_echo(name);
		create(&r, A.key, body, id);
		if (CHECK_STATUS(r, 201))
			CHECK_STR(jstr(r.json, "data.name"), name);
		free(name);
		free(body);
	}

	/* Content-Type parameters are allowed. */
	struct req q = {.method = "POST",
			.path = "/api/v1/agents",
			.key = A.key,
			.body = "{\"name\":\"charset\",\"type\":\"echo\"}",
			.content_type = "application/json; charset=utf-8"};
	http_send(&q, &r);
	CHECK_STATUS(r, 201);
	resp_free(&r);
	resp_free(&g);
}

/* Every field error: 422 with its code and the field as param; nothing is created or audited. */
static void test_create_validation(void)
{
	struct tenant t;
	if (!CHECK(e2e_tenant(&t, "agents-validate", "agents:read agents:write", GENEROUS) == 0))
		return;
	char *a201 = repeat("a", 201), *e201 = repeat("\xc3\xa9", 201);
	char *long_a = named_echo(a201), *long_e = named_echo(e201);
	const struct {
		const char *body, *code, *param;
	} cases[] = {
		{"{}", "parameter_missing", "name"},
		{"{\"type\":\"echo\"}", "parameter_missing", "name"},
		{"{\"name\":\"\",\"type\":\"echo\"}", "parameter_invalid", "name"},
		{long_a, "parameter_invalid", "name"},
		{long_e, "parameter_invalid", "name"},
		{"{\"name\":42,\"type\":\"echo\"}", "parameter_invalid", "name"},
		{"{\"name\":null,\"type\":\"echo\"}", "parameter_invalid", "name"},
		{"{\"name\":\"x\"}", "parameter_missing", "type"},
		{"{\"name\":\"x\",\"type\":\"nope\"}", "parameter_invalid", "type"},
		{"{\"name\":\"x\",\"type\":7}", "parameter_invalid", "type"},
		{"{\"name\":\"x\",\"type\":\"weather_check\"}", "parameter_missing", "config.location"},
		{"{\"name\":\"x\",\"type\":\"weather_check\",\"config\":{}}", "parameter_missing", "config.location"},
		{"{\"name\":\"x\",\"type\":\"weather_check\",\"config\":{\"location\":\"B\",\"bogus\":1}}", "parameter_unknown",
		 "config.bogus"},
		{"{\"name\":\"x\",\"type\":\"weather_check\",\"config\":{\"location\":\"B\",\"units\":\"kelvin\"}}",
		 "parameter_invalid", "config.units"},
		{"{\"name\":\"x\",\"type\":\"http_request\",\"config\":{}}", "parameter_missing", "config.url"},
		{"{\"name\":\"x\",\"type\":\"http_request\",\"config\":{\"url\":\"ftp://example.com/\"}}", "parameter_invalid",
		 "config.url"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"config\":{\"location\":\"B\"}}", "parameter_unknown", "config.location"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"config\":[]}", "parameter_invalid", "config"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"config\":\"{}\"}", "parameter_invalid", "config"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"schedule\":\"61 * * * *\"}", "parameter_invalid", "schedule"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"schedule\":\"* * *\"}", "parameter_invalid", "schedule"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"schedule\":\"* * * * * *\"}", "parameter_invalid", "schedule"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"schedule\":\"\"}", "parameter_invalid", "schedule"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"schedule\":5}", "parameter_invalid", "schedule"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"timezone\":\"Mars/Olympus\"}", "parameter_invalid", "timezone"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"timezone\":\"\"}", "parameter_invalid", "timezone"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"timezone\":\"../../etc/passwd\"}", "parameter_invalid", "timezone"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"id\":\"agt_0000000000000000000000000\"}", "parameter_read_only", "id"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"status\":\"paused\"}", "parameter_read_only", "status"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"created_at\":\"2020-01-01T00:00:00.000Z\"}", "parameter_read_only",
		 "created_at"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"updated_at\":null}", "parameter_read_only", "updated_at"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"last_run_at\":null}", "parameter_read_only", "last_run_at"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"next_run_at\":null}", "parameter_read_only", "next_run_at"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"color\":\"red\"}", "parameter_unknown", "color"},
		{"{\"name\":\"x\",\"type\":\"echo\",\"Name\":\"y\"}", "parameter_unknown", "Name"},
	};
	struct resp r = {0};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		create(&r, t.key, cases[i].body, NULL);
		if (e2e_check(r.status == 422, __FILE__, __LINE__, "case %zu %.80s: %ld %.200s, want 422 %s %s", i,
			      cases[i].body, r.status, r.body, cases[i].code, cases[i].param))
			CHECK_ERROR(r, 422, cases[i].code, cases[i].param);
		e2e_check(audit_count_for_request(resp_header(&r, "X-Request-Id")) == 0, __FILE__, __LINE__,
			  "case %zu: a failed create wrote an audit row", i);
	}
	/* Nothing was created, nothing audited. */
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE account_id = ? AND target_type = 'agent'",
		      (const char *[]){t.account, NULL}) == 0);
	CHECK(e2e_sql(NULL, "SELECT id FROM agents WHERE account_id = ?", (const char *[]){t.account, NULL}) == 0);
	resp_free(&r);
	free(a201);
	free(e201);
	free(long_a);
	free(long_e);
}

/* Content-Type, JSON syntax, duplicate keys, non-objects and depth: before any field is looked at. */
static void test_body_errors(void)
{
	struct resp r = {0};
	char id[64];
	if (!CHECK(create(&r, A.key, "{\"name\":\"body\",\"type\":\"echo\"}", id) == 201)) {
		resp_free(&r);
		return;
	}
	char item[96], pause[128];
	snprintf(item, sizeof item, "/api/v1/agents/%s", id);
	snprintf(pause, sizeof pause, "%s/pause", item);

	const char *valid = "{\"name\":\"nope\",\"type\":\"echo\"}";
	const struct {
		const char *method, *path, *ct;
	} unsupported[] = {
		{"POST", "/api/v1/agents", "text/plain"},
		{"POST", "/api/v1/agents", ""},
		{"POST", "/api/v1/agents", "application/x-www-form-urlencoded"},
		{"POST", "/api/v1/agents", "application/jsonx"},
		{"POST", "/api/v1/agents", "application/merge-patch+json"},
		{"PATCH", item, "text/json"},
		{"PATCH", item, ""},
		{"POST", pause, "text/plain"},
	};
	for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
		struct req q = {.method = unsupported[i].method, .path = unsupported[i].path, .key = A.key, .body = valid,
				.content_type = unsupported[i].ct};
		http_send(&q, &r);
		if (e2e_check(r.status == 415, __FILE__, __LINE__, "%s %s with Content-Type \"%s\": %ld, want 415",
			      unsupported[i].method, unsupported[i].path, unsupported[i].ct, r.status))
			CHECK_ERROR(r, 415, "unsupported_media_type", NULL);
	}
	/* The media type is case-insensitive: this one reaches validation. */
	struct req upper = {.method = "POST", .path = "/api/v1/agents", .key = A.key, .body = "{}",
			    .content_type = "Application/JSON"};
	http_send(&upper, &r);
	CHECK_ERROR(r, 422, "parameter_missing", "name");

	static const char WITH_NUL[] = "{\"name\":\"x\0\",\"type\":\"echo\"}";
	char *deep_ok = nested(32), *deep_bad = nested(33);
	const struct {
		const char *body;
		size_t len;
	} malformed[] = {
		{"{", 0},
		{"{\"name\":", 0},
		{"{\"name\":\"x\",}", 0},
		{"{'name':'x'}", 0},
		{"nul", 0},
		{"{\"name\":\"x\",\"type\":\"echo\"} {}", 0},
		{"{\"name\":\"a\",\"name\":\"b\",\"type\":\"echo\"}", 0},
		{"{\"name\":\"x\",\"type\":\"echo\",\"config\":{\"message\":\"a\",\"message\":\"b\"}}", 0},
		{"[]", 0},
		{"[{\"name\":\"x\",\"type\":\"echo\"}]", 0},
		{"\"x\"", 0},
		{"42", 0},
		{"null", 0},
		{"{\"name\":\"\xff\xfe\",\"type\":\"echo\"}", 0},
		{"{\"name\":\"a\\u0000b\",\"type\":\"echo\"}", 0},
		{WITH_NUL, sizeof WITH_NUL - 1},
		{deep_bad, 0},
	};
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		struct req q = {.method = "POST", .path = "/api/v1/agents", .key = A.key, .body = malformed[i].body,
				.body_len = malformed[i].len};
		http_send(&q, &r);
		if (e2e_check(r.status == 400, __FILE__, __LINE__, "body %zu %.60s: %ld %.200s, want 400 body_malformed", i,
			      malformed[i].body, r.status, r.body))
			CHECK_ERROR(r, 400, "body_malformed", NULL);
		q.method = "PATCH";
		q.path = item;
		http_send(&q, &r);
		CHECK_ERROR(r, 400, "body_malformed", NULL);
	}
	/* An empty body where one is required. */
	struct req empty = {.method = "POST", .path = "/api/v1/agents", .key = A.key, .body = "", .body_len = 0};
	http_send(&empty, &r);
	CHECK_ERROR(r, 400, "body_malformed", NULL);
	/* 32 levels are allowed (the body then fails on its unknown field), 33 are not. */
	create(&r, A.key, deep_ok, NULL);
	CHECK_ERROR(r, 422, "parameter_unknown", "a");

	/* Action routes take an empty body with no Content-Type, or a JSON object. */
	http_call(&r, "POST", A.key, NULL, "%s", pause);
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", A.key, "{}", "%s", pause);
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", A.key, "{", "%s", pause);
	CHECK_ERROR(r, 400, "body_malformed", NULL);
	/* A route that takes no body refuses one. */
	http_call(&r, "DELETE", A.key, "{}", "%s", item);
	CHECK_ERROR(r, 400, "body_malformed", NULL);
	http_get(&r, A.key, "%s", item);
	CHECK_STATUS(r, 200);
	free(deep_ok);
	free(deep_bad);
	resp_free(&r);
}

static void test_list_pagination(void)
{
	enum { N = 5 };
	struct tenant t;
	if (!CHECK(e2e_tenant(&t, "agents-list", "agents:read agents:write", GENEROUS) == 0))
		return;
	struct resp r = {0};
	http_get(&r, t.key, "/api/v1/agents");
	CHECK_STATUS(r, 200);
	CHECK(json_object_size(r.json) == 3 && json_array_size(jget(r.json, "data")) == 0);
	CHECK(json_is_false(jget(r.json, "has_more")));
	CHECK(json_is_null(jget(r.json, "next_cursor")));

	char ids[N][64];
	for (int i = 0; i < N; i++) {
		char body[64];
		snprintf(body, sizeof body, "{\"name\":\"page %d\",\"type\":\"echo\"}", i);
		if (!CHECK(create(&r, t.key, body, ids[i]) == 201)) {
			resp_free(&r);
			return;
		}
	}

	/* limit=2: three pages, newest first, every agent once. */
	char seen[N][64], cursor[256] = "";
	int nseen = 0, pages = 0;
	for (;;) {
		if (cursor[0])
			http_get(&r, t.key, "/api/v1/agents?limit=2&cursor=%s", cursor);
		else
			http_get(&r, t.key, "/api/v1/agents?limit=2");
		if (!CHECK_STATUS(r, 200))
			break;
		pages++;
		const json_t *data = jget(r.json, "data"), *more = jget(r.json, "has_more"), *next = jget(r.json, "next_cursor");
		CHECK(json_object_size(r.json) == 3);
		size_t i;
		json_t *g;
		json_array_foreach(data, i, g)
		{
			CHECK_AGENT(g);
			if (nseen < N)
				snprintf(seen[nseen], sizeof seen[0], "%s", jstr(g, "id") ? jstr(g, "id") : "");
			nseen++;
		}
		if (pages < 3) {
			CHECK(json_array_size(data) == 2);
			CHECK(json_is_true(more));
			CHECK(json_is_string(next) && json_string_length(next) > 0);
		} else {
			CHECK(json_array_size(data) == 1);
			CHECK(json_is_false(more));
			CHECK(json_is_null(next));
		}
		if (!json_is_true(more) || !json_is_string(next) || pages >= 5)
			break;
		snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
	}
	CHECK(pages == 3);
	CHECK(nseen == N);
	/* Newest first: ids are time-sortable, so the list is in descending id order, and holds each agent once. */
	for (int i = 0; i < nseen && i < N; i++) {
		int found = 0;
		for (int j = 0; j < N; j++)
			found += strcmp(seen[i], ids[j]) == 0;
		e2e_check(found == 1, __FILE__, __LINE__, "listed %s matches %d created agents", seen[i], found);
		if (i > 0)
			e2e_check(strcmp(seen[i - 1], seen[i]) > 0, __FILE__, __LINE__, "%s listed before %s", seen[i - 1],
				  seen[i]);
	}
	/* The newest is first, the oldest last. */
	if (nseen == N) {
		CHECK_STR(seen[0], ids[N - 1]);
		CHECK_STR(seen[N - 1], ids[0]);
	}

	/* Default limit 20: all on one page. has_more is exact at the boundary. */
	const struct {
		const char *query;
		size_t count;
		int more;
	} lists[] = {{"", N, 0}, {"?limit=5", 5, 0}, {"?limit=4", 4, 1}, {"?limit=1", 1, 1}, {"?limit=100", N, 0}};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		http_get(&r, t.key, "/api/v1/agents%s", lists[i].query);
		CHECK_STATUS(r, 200);
		e2e_check(json_array_size(jget(r.json, "data")) == lists[i].count, __FILE__, __LINE__,
			  "GET /api/v1/agents%s: %zu agents, want %zu", lists[i].query, json_array_size(jget(r.json, "data")),
			  lists[i].count);
		CHECK(json_is_boolean(jget(r.json, "has_more")) && json_is_true(jget(r.json, "has_more")) == lists[i].more);
		CHECK(lists[i].more ? json_is_string(jget(r.json, "next_cursor")) : json_is_null(jget(r.json, "next_cursor")));
		if (i == 0)
			CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), ids[N - 1]);
	}

	/* The query is checked: limit, unknown parameters, the cursor. */
	const struct {
		const char *query, *code, *param;
	} bad[] = {
		{"limit=0", "parameter_invalid", "limit"},
		{"limit=101", "parameter_invalid", "limit"},
		{"limit=abc", "parameter_invalid", "limit"},
		{"limit=-1", "parameter_invalid", "limit"},
		{"limit=1.5", "parameter_invalid", "limit"},
		{"limit=", "parameter_invalid", "limit"},
		{"limit=2&limit=3", "parameter_invalid", "limit"},
		{"foo=1", "parameter_unknown", "foo"},
		{"limit=2&status=idle", "parameter_unknown", "status"},
		{"cursor=garbage", "cursor_invalid", "cursor"},
		{"cursor=", "cursor_invalid", "cursor"},
		{"cursor=YWdlbnQ", "cursor_invalid", "cursor"},
		{"cursor=%00", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		http_get(&r, t.key, "/api/v1/agents?%s", bad[i].query);
		if (!e2e_check(r.status == 400, __FILE__, __LINE__, "?%s: %ld %.200s, want 400", bad[i].query, r.status,
			       r.body))
			continue;
		if (bad[i].code)
			CHECK_ERROR(r, 400, bad[i].code, bad[i].param);
		else
			CHECK(jstr(r.json, "error.code") != NULL);
	}
	/* A cursor is not interchangeable with an id, and item routes take no list parameters. */
	http_get(&r, t.key, "/api/v1/agents?cursor=%s", ids[0]);
	CHECK_ERROR(r, 400, "cursor_invalid", "cursor");
	http_get(&r, t.key, "/api/v1/agents/%s?limit=2", ids[0]);
	CHECK_ERROR(r, 400, "parameter_unknown", "limit");
	resp_free(&r);
}

/* GET, PATCH (RFC 7396 merge patch, then the whole agent re-validated), DELETE. */
static void test_get_patch_delete(void)
{
	struct resp r = {0};
	char id[64];
	if (!CHECK(create(&r, A.key, "{\"name\":\"Weather\",\"type\":\"weather_check\",\"config\":{\"location\":\"Berlin\"}}",
			  id) == 201)) {
		resp_free(&r);
		return;
	}
	json_t *last = json_incref(jget(r.json, "data")); /* the agent as last successfully written */
	char created_at[40];
	snprintf(created_at, sizeof created_at, "%s", jstr(last, "created_at") ? jstr(last, "created_at") : "");

	http_call(&r, "PATCH", A.key, "{\"name\":\"Renamed\"}", "/api/v1/agents/%s", id);
	if (CHECK_STATUS(r, 200)) {
		const json_t *d = jget(r.json, "data");
		CHECK_AGENT(d);
		CHECK_STR(jstr(d, "id"), id);
		CHECK_STR(jstr(d, "name"), "Renamed");
		CHECK_STR(jstr(d, "created_at"), created_at);
		CHECK(strcmp(jstr(d, "updated_at"), jstr(last, "updated_at")) >= 0);
		CHECK(json_equal(jget(d, "config"), jget(last, "config")));
		CHECK_STR(jstr(d, "type"), "weather_check");
		json_decref(last);
		last = json_incref((json_t *)d);
	}
	/* Nested objects merge; null removes a member. */
	http_call(&r, "PATCH", A.key, "{\"config\":{\"units\":\"metric\"}}", "/api/v1/agents/%s", id);
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_object_size(jget(r.json, "data.config")) == 2);
		CHECK_STR(jstr(r.json, "data.config.location"), "Berlin");
		CHECK_STR(jstr(r.json, "data.config.units"), "metric");
		CHECK_STR(jstr(r.json, "data.name"), "Renamed");
	}
	struct req mp = {.method = "PATCH", .key = A.key, .body = "{\"config\":{\"units\":null}}",
			 .content_type = "application/merge-patch+json"};
	char path[128];
	snprintf(path, sizeof path, "/api/v1/agents/%s", id);
	mp.path = path;
	http_send(&mp, &r);
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_object_size(jget(r.json, "data.config")) == 1);
		CHECK_STR(jstr(r.json, "data.config.location"), "Berlin");
	}
	/* A schedule computes next_run_at; null clears both; a null timezone is the default again. */
	http_call(&r, "PATCH", A.key, "{\"schedule\":\"0 9 * * 1-5\",\"timezone\":\"America/New_York\"}",
		  "/api/v1/agents/%s", id);
	if (CHECK_STATUS(r, 200)) {
		CHECK_AGENT(jget(r.json, "data"));
		CHECK_STR(jstr(r.json, "data.schedule"), "0 9 * * 1-5");
		CHECK_STR(jstr(r.json, "data.timezone"), "America/New_York");
		/* 09:00 in New York is 13:00 or 14:00 UTC (daylight saving or not), on a weekday there. */
		const char *next = jstr(r.json, "data.next_run_at");
		CHECK(e2e_is_timestamp(next));
		if (e2e_is_timestamp(next))
			e2e_check(strcmp(next + 10, "T13:00:00.000Z") == 0 || strcmp(next + 10, "T14:00:00.000Z") == 0, __FILE__,
				  __LINE__, "next_run_at %s for 0 9 * * 1-5 in America/New_York", next);
	}
	http_call(&r, "PATCH", A.key, "{\"schedule\":null}", "/api/v1/agents/%s", id);
	if (CHECK_STATUS(r, 200)) {
		CHECK_AGENT(jget(r.json, "data"));
		CHECK(json_is_null(jget(r.json, "data.schedule")));
		CHECK(json_is_null(jget(r.json, "data.next_run_at")));
		CHECK_STR(jstr(r.json, "data.timezone"), "America/New_York");
	}
	http_call(&r, "PATCH", A.key, "{\"timezone\":null}", "/api/v1/agents/%s", id);
	if (CHECK_STATUS(r, 200))
		CHECK_STR(jstr(r.json, "data.timezone"), "UTC");
	/* An empty patch changes nothing. */
	http_call(&r, "PATCH", A.key, "{}", "/api/v1/agents/%s", id);
	if (CHECK_STATUS(r, 200)) {
		CHECK_STR(jstr(r.json, "data.name"), "Renamed");
		json_decref(last);
		last = json_incref(jget(r.json, "data"));
	}

	/* Failed patches: 422 naming the field, and the agent is left as it was. */
	const struct {
		const char *body, *code, *param;
	} bad[] = {
		{"{\"name\":null}", "parameter_missing", "name"},
		{"{\"name\":\"\"}", "parameter_invalid", "name"},
		{"{\"type\":null}", "parameter_missing", "type"},
		{"{\"type\":\"nope\"}", "parameter_invalid", "type"},
		{"{\"type\":\"http_request\"}", "parameter_unknown", "config.location"},
		{"{\"type\":\"http_request\",\"config\":{\"location\":null}}", "parameter_missing", "config.url"},
		{"{\"config\":{\"location\":null}}", "parameter_missing", "config.location"},
		{"{\"config\":{\"bogus\":true}}", "parameter_unknown", "config.bogus"},
		{"{\"config\":[1]}", "parameter_invalid", "config"},
		{"{\"schedule\":\"61 * * * *\"}", "parameter_invalid", "schedule"},
		{"{\"schedule\":\"* * *\"}", "parameter_invalid", "schedule"},
		{"{\"timezone\":\"Mars/Olympus\"}", "parameter_invalid", "timezone"},
		{"{\"id\":\"agt_0000000000000000000000000\"}", "parameter_read_only", "id"},
		{"{\"status\":\"paused\"}", "parameter_read_only", "status"},
		{"{\"created_at\":null}", "parameter_read_only", "created_at"},
		{"{\"updated_at\":\"2020-01-01T00:00:00.000Z\"}", "parameter_read_only", "updated_at"},
		{"{\"last_run_at\":null}", "parameter_read_only", "last_run_at"},
		{"{\"next_run_at\":null}", "parameter_read_only", "next_run_at"},
		{"{\"color\":\"red\"}", "parameter_unknown", "color"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		http_call(&r, "PATCH", A.key, bad[i].body, "/api/v1/agents/%s", id);
		if (e2e_check(r.status == 422, __FILE__, __LINE__, "PATCH %s: %ld %.200s, want 422 %s %s", bad[i].body,
			      r.status, r.body, bad[i].code, bad[i].param))
			CHECK_ERROR(r, 422, bad[i].code, bad[i].param);
	}
	http_get(&r, A.key, "/api/v1/agents/%s", id);
	CHECK_STATUS(r, 200);
	CHECK(json_equal(jget(r.json, "data"), last));

	/* Changing the type re-validates the merged config. */
	http_call(&r, "PATCH", A.key,
		  "{\"type\":\"http_request\",\"config\":{\"location\":null,\"url\":\"https://example.com/x\"}}",
		  "/api/v1/agents/%s", id);
	if (CHECK_STATUS(r, 200)) {
		CHECK_STR(jstr(r.json, "data.type"), "http_request");
		CHECK(json_object_size(jget(r.json, "data.config")) == 1);
		CHECK_STR(jstr(r.json, "data.config.url"), "https://example.com/x");
	}
	char echo_id[64];
	if (CHECK(create(&r, A.key, "{\"name\":\"plain\",\"type\":\"echo\"}", echo_id) == 201)) {
		http_call(&r, "PATCH", A.key, "{\"type\":\"http_request\"}", "/api/v1/agents/%s", echo_id);
		CHECK_ERROR(r, 422, "parameter_missing", "config.url");
		http_get(&r, A.key, "/api/v1/agents/%s", echo_id);
		CHECK_STR(jstr(r.json, "data.type"), "echo");
	}

	/* DELETE: 204 without a body, then gone everywhere. */
	http_call(&r, "DELETE", A.key, NULL, "/api/v1/agents/%s", id);
	CHECK_STATUS(r, 204);
	CHECK(r.body_len == 0);
	CHECK(resp_header(&r, "X-Request-Id") != NULL);
	http_get(&r, A.key, "/api/v1/agents/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, A.key, "/api/v1/agents?limit=100");
	CHECK_STATUS(r, 200);
	size_t i;
	json_t *g;
	json_array_foreach(jget(r.json, "data"), i, g) CHECK(strcmp(jstr(g, "id"), id) != 0);
	http_call(&r, "DELETE", A.key, NULL, "/api/v1/agents/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "PATCH", A.key, "{\"name\":\"again\"}", "/api/v1/agents/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/resume", id);
	CHECK_ERROR(r, 404, "not_found", NULL);

	/* A well-formed id nobody has. */
	http_get(&r, A.key, "/api/v1/agents/" ABSENT_ID);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "PATCH", A.key, "{\"name\":\"x\"}", "/api/v1/agents/" ABSENT_ID);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "DELETE", A.key, NULL, "/api/v1/agents/" ABSENT_ID);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/" ABSENT_ID "/pause");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/" ABSENT_ID "/resume");
	CHECK_ERROR(r, 404, "not_found", NULL);
	json_decref(last);
	resp_free(&r);
}

static void test_pause_resume(void)
{
	struct resp r = {0};
	char id[64];
	if (!CHECK(create(&r, A.key, "{\"name\":\"pausable\",\"type\":\"echo\",\"schedule\":\"0 * * * *\"}", id) == 201)) {
		resp_free(&r);
		return;
	}
	CHECK_STR(jstr(r.json, "data.status"), "idle");
	for (int i = 0; i < 2; i++) { /* pausing twice is fine */
		http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", id);
		if (CHECK_STATUS(r, 200)) {
			CHECK(json_object_size(r.json) == 1);
			CHECK_AGENT(jget(r.json, "data"));
			CHECK_STR(jstr(r.json, "data.id"), id);
			CHECK_STR(jstr(r.json, "data.status"), "paused");
		}
	}
	http_get(&r, A.key, "/api/v1/agents/%s", id);
	CHECK_STR(jstr(r.json, "data.status"), "paused");
	/* An update keeps it paused. */
	http_call(&r, "PATCH", A.key, "{\"name\":\"still paused\"}", "/api/v1/agents/%s", id);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.status"), "paused");
	for (int i = 0; i < 2; i++) { /* resuming a non-paused agent is fine */
		http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/resume", id);
		if (CHECK_STATUS(r, 200)) {
			CHECK_AGENT(jget(r.json, "data"));
			CHECK_STR(jstr(r.json, "data.status"), "idle");
			CHECK_STR(jstr(r.json, "data.name"), "still paused");
		}
	}
	/* One audit row per real change. */
	CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE target_id = ? AND action = 'agent.paused'",
		      (const char *[]){id, NULL}) == 1);
	CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE target_id = ? AND action = 'agent.resumed'",
		      (const char *[]){id, NULL}) == 1);
	resp_free(&r);
}

/* Another account's agent is a 404 on every route and in no list; nothing happens to it. */
static void test_cross_account(void)
{
	struct resp r = {0};
	char mine[64], theirs[64];
	if (!CHECK(create(&r, A.key, "{\"name\":\"A's\",\"type\":\"echo\"}", mine) == 201) ||
	    !CHECK(create(&r, B.key, "{\"name\":\"B's\",\"type\":\"echo\"}", theirs) == 201)) {
		resp_free(&r);
		return;
	}
	const struct {
		const char *method, *suffix, *body;
	} routes[] = {
		{"GET", "", NULL},
		{"PATCH", "", "{\"name\":\"hijacked\"}"},
		{"DELETE", "", NULL},
		{"POST", "/pause", NULL},
		{"POST", "/resume", NULL},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		http_call(&r, routes[i].method, B.key, routes[i].body, "/api/v1/agents/%s%s", mine, routes[i].suffix);
		if (e2e_check(r.status == 404, __FILE__, __LINE__, "B: %s A's agent%s: %ld, want 404", routes[i].method,
			      routes[i].suffix, r.status))
			CHECK_ERROR(r, 404, "not_found", NULL);
		http_call(&r, routes[i].method, A.key, routes[i].body, "/api/v1/agents/%s%s", theirs, routes[i].suffix);
		CHECK_ERROR(r, 404, "not_found", NULL);
	}
	/* Lists: each account sees its own only. */
	const struct {
		const char *key, *own, *other;
	} lists[] = {{A.key, mine, theirs}, {B.key, theirs, mine}};
	for (int l = 0; l < 2; l++) {
		char cursor[256] = "";
		int own = 0, other = 0;
		for (int page = 0; page < 50; page++) {
			if (cursor[0])
				http_get(&r, lists[l].key, "/api/v1/agents?limit=100&cursor=%s", cursor);
			else
				http_get(&r, lists[l].key, "/api/v1/agents?limit=100");
			if (!CHECK_STATUS(r, 200))
				break;
			size_t i;
			json_t *g;
			json_array_foreach(jget(r.json, "data"), i, g)
			{
				own += strcmp(jstr(g, "id"), lists[l].own) == 0;
				other += strcmp(jstr(g, "id"), lists[l].other) == 0;
			}
			if (!json_is_string(jget(r.json, "next_cursor")))
				break;
			snprintf(cursor, sizeof cursor, "%s", jstr(r.json, "next_cursor"));
		}
		CHECK(own == 1);
		CHECK(other == 0);
	}
	/* Untouched. */
	http_get(&r, A.key, "/api/v1/agents/%s", mine);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.name"), "A's");
	CHECK_STR(jstr(r.json, "data.status"), "idle");
	http_get(&r, B.key, "/api/v1/agents/%s", theirs);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.name"), "B's");
	CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE target_id = ? AND actor = ?",
		      (const char *[]){mine, B.key_id, NULL}) == 0);
	resp_free(&r);
}

/* One audit row per write, in the write's transaction: matched by the response's X-Request-Id. */
static void check_audit_row(const char *rid, const char *action, const char *agent_id, json_t **changes, const char *file,
			    int line)
{
	struct rows a;
	long n = e2e_sql(&a, "SELECT action, account_id, actor, target_type, target_id, ip, changes, created_at "
			     "FROM audit_logs WHERE request_id = ?",
			 (const char *[]){rid ? rid : "", NULL});
	e2e_check(n == 1, file, line, "%s: %ld audit rows for request %s, want 1", action, n, rid ? rid : "(none)");
	if (n == 1) {
		char **c = a.cell[0];
		e2e_check_str(c[0], action, "action", file, line);
		e2e_check_str(c[1], A.account, "account_id", file, line);
		e2e_check_str(c[2], A.key_id, "actor", file, line);
		e2e_check_str(c[3], "agent", "target_type", file, line);
		e2e_check_str(c[4], agent_id, "target_id", file, line);
		e2e_check_str(c[5], "127.0.0.1", "ip", file, line);
		json_t *ch = c[6] ? json_loads(c[6], 0, NULL) : NULL;
		e2e_check(json_is_object(ch), file, line, "%s: changes %s is not a JSON object", action, c[6] ? c[6] : "NULL");
		e2e_check(c[7] != NULL, file, line, "%s: no created_at", action);
		if (changes)
			*changes = ch;
		else
			json_decref(ch);
	}
	rows_free(&a);
}
#define CHECK_AUDIT(rid, action, id, changes) check_audit_row((rid), (action), (id), (changes), __FILE__, __LINE__)

static void test_audit_trail(void)
{
	struct resp r = {0};
	char id[64], rid[6][80];
	json_t *changes = NULL;
	if (!CHECK(create(&r, A.key, "{\"name\":\"audited\",\"type\":\"weather_check\",\"config\":{\"location\":\"Oslo\"}}",
			  id) == 201)) {
		resp_free(&r);
		return;
	}
	snprintf(rid[0], sizeof rid[0], "%s", resp_header(&r, "X-Request-Id"));
	CHECK_AUDIT(rid[0], "agent.created", id, &changes);
	CHECK_STR(jstr(changes, "name"), "audited");
	json_decref(changes);
	changes = NULL;

	http_call(&r, "PATCH", A.key, "{\"name\":\"audited twice\",\"config\":{\"units\":\"imperial\"}}", "/api/v1/agents/%s",
		  id);
	CHECK_STATUS(r, 200);
	snprintf(rid[1], sizeof rid[1], "%s", resp_header(&r, "X-Request-Id"));
	CHECK_AUDIT(rid[1], "agent.updated", id, &changes);
	CHECK_STR(jstr(changes, "name.from"), "audited");
	CHECK_STR(jstr(changes, "name.to"), "audited twice");
	CHECK(jget(changes, "config") != NULL);
	CHECK(jget(changes, "type") == NULL); /* only what changed */
	json_decref(changes);

	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", id);
	CHECK_STATUS(r, 200);
	snprintf(rid[2], sizeof rid[2], "%s", resp_header(&r, "X-Request-Id"));
	CHECK_AUDIT(rid[2], "agent.paused", id, NULL);
	/* A pause of a paused agent changes nothing and writes nothing. */
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", id);
	CHECK_STATUS(r, 200);
	CHECK(audit_count_for_request(resp_header(&r, "X-Request-Id")) == 0);
	/* Neither does a failed write. */
	http_call(&r, "PATCH", A.key, "{\"schedule\":\"61 * * * *\"}", "/api/v1/agents/%s", id);
	CHECK_STATUS(r, 422);
	CHECK(audit_count_for_request(resp_header(&r, "X-Request-Id")) == 0);

	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/resume", id);
	CHECK_STATUS(r, 200);
	snprintf(rid[3], sizeof rid[3], "%s", resp_header(&r, "X-Request-Id"));
	CHECK_AUDIT(rid[3], "agent.resumed", id, NULL);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/resume", id);
	CHECK(audit_count_for_request(resp_header(&r, "X-Request-Id")) == 0);
	/* Reads write nothing. */
	http_get(&r, A.key, "/api/v1/agents/%s", id);
	CHECK(audit_count_for_request(resp_header(&r, "X-Request-Id")) == 0);

	http_call(&r, "DELETE", A.key, NULL, "/api/v1/agents/%s", id);
	CHECK_STATUS(r, 204);
	snprintf(rid[4], sizeof rid[4], "%s", resp_header(&r, "X-Request-Id") ? resp_header(&r, "X-Request-Id") : "");
	CHECK_AUDIT(rid[4], "agent.deleted", id, NULL);
	/* A delete of a deleted agent is a 404 and writes nothing. */
	http_call(&r, "DELETE", A.key, NULL, "/api/v1/agents/%s", id);
	CHECK_STATUS(r, 404);
	CHECK(audit_count_for_request(resp_header(&r, "X-Request-Id")) == 0);

	/* Five rows in all for this agent. */
	CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE target_type = 'agent' AND target_id = ?",
		      (const char *[]){id, NULL}) == 5);
	resp_free(&r);
}

/* The per-account agent quota (agents_max_per_account, 1000 by default): the rows are made by SQL so the
 * test stays fast; the API must refuse the 1001st with 422 limit_exceeded, write nothing, and accept again
 * once one is deleted. */
static void test_quota(void)
{
	struct tenant q;
	struct resp r = {0};
	char id[64];
	if (e2e_tenant(&q, "agents-quota", "agents:read agents:write", GENEROUS) != 0) {
		CU_FAIL("tenant");
		return;
	}
	long made = e2e_sql(NULL,
			    "INSERT INTO agents (id, account_id, name, type, config, created_at, updated_at) "
			    "WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 999) "
			    "SELECT CONCAT('agt_000000000', RIGHT(?, 12), LPAD(n, 4, '0')), ?, CONCAT('quota ', n), 'echo', "
			    "'{}', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM seq",
			    (const char *[]){q.account, q.account, NULL});
	CHECK(made == 999);
	CHECK(create(&r, q.key, "{\"name\":\"number 1000\",\"type\":\"echo\"}", id) == 201);
	CHECK(create(&r, q.key, "{\"name\":\"number 1001\",\"type\":\"echo\"}", NULL) == 422);
	CHECK_ERROR(r, 422, "limit_exceeded", NULL);
	CHECK(e2e_sql(NULL, "SELECT id FROM agents WHERE account_id = ? AND name = 'number 1001'",
		      (const char *[]){q.account, NULL}) == 0);
	CHECK(http_call(&r, "DELETE", q.key, NULL, "/api/v1/agents/%s", id) == 204);
	CHECK(create(&r, q.key, "{\"name\":\"number 1000 again\",\"type\":\"echo\"}", NULL) == 201);
	resp_free(&r);
}

/* 1 when the API log holds LINE_PART for request REQUEST_ID. */
static int api_log_has(const char *request_id, const char *line_part)
{
	const char *dir = getenv("AP_TEST_STACK_DIR");
	if (!dir || !request_id)
		return 0;
	char path[600], line[1024], want[200];
	snprintf(path, sizeof path, "%s/log/api.log", dir);
	snprintf(want, sizeof want, "request %s: ", request_id);
	FILE *f = fopen(path, "r");
	int found = 0;
	while (f && !found && fgets(line, sizeof line, f))
		found = strstr(line, want) && strstr(line, line_part);
	if (f)
		fclose(f);
	return found;
}

/* A PATCH that waits on a row lock past the stack's db_lock_wait_seconds (1 s in tests/e2e/stack.conf) fails
 * with InnoDB's lock wait timeout before committing anything: the pipeline runs it again and the client gets
 * the answer of the retry (200) instead of a 500. Another session holds the agent's row for 1.5 s. */
static void test_lock_conflict_retried(void)
{
	char id[64];
	struct resp r = {0};
	if (!CHECK(create(&r, A.key, "{\"name\":\"locked\",\"type\":\"echo\"}", id) == 201))
		return;
	char sql[300], pw[300];
	snprintf(sql, sizeof sql,
		 "START TRANSACTION; SELECT id FROM agents WHERE id = '%s' FOR UPDATE; SELECT GET_LOCK('e2e-held-%s', 5); "
		 "SELECT SLEEP(1.5); COMMIT;",
		 id, id);
	snprintf(pw, sizeof pw, "-p%s", E2E.db_password);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execlp("mariadb", "mariadb", "--no-defaults", "-S", E2E.db_socket, "-u", E2E.db_user, pw, E2E.db_name,
		       "-e", sql, (char *)NULL);
		_exit(127);
	}
	if (!CHECK(pid > 0))
		return;
	/* Wait until that session holds the row (it takes a named lock right after; at most 10 s). */
	char lock_name[100];
	snprintf(lock_name, sizeof lock_name, "e2e-held-%s", id);
	int held = 0;
	for (int i = 0; i < 200 && !held; i++) {
		struct rows q = {0};
		held = e2e_sql(&q, "SELECT IS_USED_LOCK(?)", (const char *[]){lock_name, NULL}) > 0 && q.n == 1 &&
		       q.cell[0][0] != NULL;
		rows_free(&q);
		if (!held)
			usleep(50 * 1000);
	}
	CHECK(held);
	http_call(&r, "PATCH", A.key, "{\"name\":\"patched through a lock\"}", "/api/v1/agents/%s", id);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.name"), "patched through a lock");
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The retry happened (the lock outlasted one wait): its warning names this request. */
	e2e_check(api_log_has(resp_header(&r, "X-Request-Id"), "hit a lock conflict"), __FILE__, __LINE__,
		  "no lock-conflict retry logged for request %s", resp_header(&r, "X-Request-Id"));
	resp_free(&r);
}

int suite_agents_register(void)
{
	CU_pSuite s = CU_add_suite("agents", init, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "POST /agents: 201, Location, every field", test_create) ||
	    !CU_add_test(s, "POST /agents: each 422", test_create_validation) ||
	    !CU_add_test(s, "bodies: 415, 400 body_malformed, depth, action routes", test_body_errors) ||
	    !CU_add_test(s, "GET /agents: pagination and query errors", test_list_pagination) ||
	    !CU_add_test(s, "GET, PATCH (merge patch), DELETE /agents/{id}", test_get_patch_delete) ||
	    !CU_add_test(s, "pause and resume", test_pause_resume) ||
	    !CU_add_test(s, "another account's agent is 404", test_cross_account) ||
	    !CU_add_test(s, "audit rows for every write", test_audit_trail) ||
	    !CU_add_test(s, "agent quota: 422 limit_exceeded", test_quota) ||
	    !CU_add_test(s, "a request that meets a row lock timeout is run again", test_lock_conflict_retried))
		return -1;
	return 0;
}
