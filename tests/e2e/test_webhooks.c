/* test_webhooks: /api/v1/webhooks — endpoint CRUD, the secret shown once, rotation, quota, validation
 * (including SSRF refusal by address checks alone), isolation, scopes, the deliveries list and redeliver,
 * and the agent.paused / agent.resumed / run.cancelled events the API writes into the outbox. Deliveries
 * themselves are test_deliveries.c's. Every URL here names 127.0.0.1 or is refused before any traffic. */
#include "e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T, OTHER, QUOTA, EV, NOSCOPE;

/* A receiver URL nothing listens on (the discard port): endpoints here never get a dispatched event. */
#define DEAD_URL "http://127.0.0.1:9/hook"

static int init(void)
{
	if (e2e_tenant(&T, "webhooks", "all", GENEROUS) != 0 || e2e_tenant(&OTHER, "webhooks-other", "all", GENEROUS) != 0 ||
	    e2e_tenant(&QUOTA, "webhooks-quota", "webhooks:read webhooks:write", GENEROUS) != 0 ||
	    e2e_tenant(&EV, "webhooks-events", "agents:read agents:write", GENEROUS) != 0 ||
	    e2e_tenant(&NOSCOPE, "webhooks-noscope", "agents:read", GENEROUS) != 0)
		return -1;
	return 0;
}

/* Creates an endpoint as KEY for EVENTS (a JSON array); its id into ID and secret into SECRET (64 bytes
 * each; SECRET may be NULL). Returns 0 or -1. */
static int make_webhook(const char *key, const char *events, char *id, char *secret)
{
	struct resp r = {0};
	char body[512];
	snprintf(body, sizeof body, "{\"url\":\"%s\",\"events\":%s}", DEAD_URL, events);
	http_call(&r, "POST", key, body, "/api/v1/webhooks");
	int ok = CHECK_STATUS(r, 201) && jstr(r.json, "data.id");
	snprintf(id, 64, "%s", ok ? jstr(r.json, "data.id") : "");
	if (secret)
		snprintf(secret, 64, "%s", ok && jstr(r.json, "data.secret") ? jstr(r.json, "data.secret") : "");
	resp_free(&r);
	return ok ? 0 : -1;
}

/* An endpoint as the API shows it: exactly the documented members (plus secret when WITH_SECRET). */
static int check_endpoint(const json_t *w, int with_secret, const char *file, int line)
{
	int ok = json_is_object(w) && json_object_size(w) == (size_t)(8 + with_secret) && e2e_is_id(jstr(w, "id"), "whk_") &&
		 jstr(w, "url") && json_is_array(jget(w, "events")) && jget(w, "description") &&
		 json_is_boolean(jget(w, "enabled")) && jget(w, "disabled_reason") &&
		 e2e_is_timestamp(jstr(w, "created_at")) && e2e_is_timestamp(jstr(w, "updated_at"));
	if (with_secret)
		ok = ok && jstr(w, "secret") && strncmp(jstr(w, "secret"), "whsec_", 6) == 0 && strlen(jstr(w, "secret")) == 50;
	char *dump = w ? json_dumps(w, JSON_COMPACT) : NULL;
	e2e_check(ok, file, line, "webhook endpoint: %.400s", dump ? dump : "(null)");
	free(dump);
	return ok;
}

static void test_crud(void)
{
	struct resp r = {0};
	http_call(&r, "POST", T.key,
		  "{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\",\"agent.paused\"],\"description\":\"Ops\"}",
		  "/api/v1/webhooks");
	CHECK_STATUS(r, 201);
	check_endpoint(jget(r.json, "data"), 1, __FILE__, __LINE__);
	char id[64], secret[64];
	snprintf(id, sizeof id, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
	snprintf(secret, sizeof secret, "%s", jstr(r.json, "data.secret") ? jstr(r.json, "data.secret") : "");
	CHECK_STR(jstr(r.json, "data.url"), DEAD_URL);
	CHECK_STR(jstr(r.json, "data.description"), "Ops");
	CHECK(json_is_true(jget(r.json, "data.enabled")));
	CHECK(json_is_null(jget(r.json, "data.disabled_reason")));
	CHECK(json_array_size(jget(r.json, "data.events")) == 2);
	char loc[256];
	snprintf(loc, sizeof loc, "/api/v1/webhooks/%s", id);
	CHECK(resp_header(&r, "Location") && strstr(resp_header(&r, "Location"), loc));

	/* The secret is shown once, and stored only sealed. */
	http_get(&r, T.key, "/api/v1/webhooks/%s", id);
	CHECK_STATUS(r, 200);
	check_endpoint(jget(r.json, "data"), 0, __FILE__, __LINE__);
	CHECK(!strstr(r.body, "whsec_"));
	struct rows rows = {0};
	const char *p1[] = {id, secret + 6, NULL};
	CHECK(e2e_sql(&rows, "SELECT id FROM webhook_endpoints WHERE id = ? AND INSTR(secret_enc, ?) = 0", p1) == 1);
	rows_free(&rows);

	/* A second one: newest first, pagination. */
	char id2[64];
	CHECK(make_webhook(T.key, "[\"*\"]", id2, NULL) == 0);
	http_get(&r, T.key, "/api/v1/webhooks?limit=1");
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(jget(r.json, "data")) == 1);
	CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), id2);
	CHECK(json_is_true(jget(r.json, "has_more")));
	char cursor[128];
	snprintf(cursor, sizeof cursor, "%s", jstr(r.json, "next_cursor") ? jstr(r.json, "next_cursor") : "");
	http_get(&r, T.key, "/api/v1/webhooks?limit=1&cursor=%s", cursor);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), id);
	check_endpoint(json_array_get(jget(r.json, "data"), 0), 0, __FILE__, __LINE__);
	http_get(&r, T.key, "/api/v1/webhooks?cursor=garbage");
	CHECK_ERROR(r, 400, "cursor_invalid", "cursor");

	/* PATCH: a merge patch; description null clears it; events replaced. */
	http_call(&r, "PATCH", T.key, "{\"description\":null,\"events\":[\"run.succeeded\"]}", "/api/v1/webhooks/%s", id);
	CHECK_STATUS(r, 200);
	check_endpoint(jget(r.json, "data"), 0, __FILE__, __LINE__);
	CHECK(json_is_null(jget(r.json, "data.description")));
	CHECK_STR(json_string_value(json_array_get(jget(r.json, "data.events"), 0)), "run.succeeded");
	CHECK_STR(jstr(r.json, "data.url"), DEAD_URL);

	/* Disabled by the platform, then re-enabled: the failure count and the reason are cleared. */
	const char *p2[] = {id, NULL};
	CHECK(e2e_sql(NULL,
		      "UPDATE webhook_endpoints SET enabled = 0, consecutive_failures = 5, "
		      "disabled_reason = 'too many failures' WHERE id = ?",
		      p2) == 1);
	http_get(&r, T.key, "/api/v1/webhooks/%s", id);
	CHECK(json_is_false(jget(r.json, "data.enabled")));
	CHECK_STR(jstr(r.json, "data.disabled_reason"), "too many failures");
	http_call(&r, "PATCH", T.key, "{\"enabled\":true}", "/api/v1/webhooks/%s", id);
	CHECK_STATUS(r, 200);
	CHECK(json_is_true(jget(r.json, "data.enabled")));
	CHECK(json_is_null(jget(r.json, "data.disabled_reason")));
	CHECK(e2e_sql(&rows, "SELECT consecutive_failures FROM webhook_endpoints WHERE id = ?", p2) == 1);
	if (rows.n == 1)
		CHECK_STR(rows.cell[0][0], "0");
	rows_free(&rows);
	http_call(&r, "PATCH", T.key, "{\"enabled\":false}", "/api/v1/webhooks/%s", id);
	CHECK_STATUS(r, 200);
	CHECK(json_is_false(jget(r.json, "data.enabled")));
	CHECK(json_is_null(jget(r.json, "data.disabled_reason")));

	/* DELETE: 204, then gone everywhere (the row stays, soft-deleted). */
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/webhooks/%s", id);
	CHECK_STATUS(r, 204);
	CHECK(r.body_len == 0);
	http_get(&r, T.key, "/api/v1/webhooks/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/webhooks/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "PATCH", T.key, "{\"enabled\":true}", "/api/v1/webhooks/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, T.key, "/api/v1/webhooks?limit=100");
	size_t i;
	json_t *w;
	json_array_foreach(jget(r.json, "data"), i, w)
		CHECK(strcmp(jstr(w, "id"), id) != 0);
	CHECK(e2e_sql(NULL, "SELECT id FROM webhook_endpoints WHERE id = ? AND deleted_at IS NOT NULL", p2) == 1);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/webhooks/%s", id2);
	CHECK_STATUS(r, 204);
	resp_free(&r);
}

static void test_rotate(void)
{
	struct resp r = {0};
	char id[64], secret[64];
	if (make_webhook(T.key, "[\"run.failed\"]", id, secret) != 0)
		return;
	const char *p[] = {id, NULL};
	struct rows before = {0}, after = {0};
	CHECK(e2e_sql(&before, "SELECT HEX(secret_enc) FROM webhook_endpoints WHERE id = ?", p) == 1);
	http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/%s/rotate-secret", id);
	CHECK_STATUS(r, 200);
	check_endpoint(jget(r.json, "data"), 1, __FILE__, __LINE__);
	CHECK(jstr(r.json, "data.secret") && strcmp(jstr(r.json, "data.secret"), secret) != 0);
	/* The old secret still signs for 24 h. */
	CHECK(e2e_sql(&after,
		      "SELECT HEX(previous_secret_enc), HEX(secret_enc), "
		      "TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(3), previous_secret_until) FROM webhook_endpoints WHERE id = ?",
		      p) == 1);
	if (before.n == 1 && after.n == 1) {
		CHECK_STR(after.cell[0][0], before.cell[0][0]);
		CHECK(strcmp(after.cell[0][1], before.cell[0][0]) != 0);
		long minutes = after.cell[0][2] ? strtol(after.cell[0][2], NULL, 10) : 0;
		CHECK(minutes >= 24 * 60 - 2 && minutes <= 24 * 60);
	}
	rows_free(&before);
	rows_free(&after);
	http_get(&r, T.key, "/api/v1/webhooks/%s", id);
	CHECK(!strstr(r.body, "whsec_"));
	/* A field in the body: 422; unknown endpoint: 404. */
	http_call(&r, "POST", T.key, "{\"secret\":\"whsec_x\"}", "/api/v1/webhooks/%s/rotate-secret", id);
	CHECK_ERROR(r, 422, "parameter_unknown", "secret");
	http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/whk_0000000000000000000000000/rotate-secret");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/webhooks/%s", id);
	CHECK_STATUS(r, 204);
	resp_free(&r);
}

static void test_validation(void)
{
	struct resp r = {0};
	static const struct {
		const char *body, *code, *param;
	} BAD[] = {
		{"{\"events\":[\"run.failed\"]}", "parameter_missing", "url"},
		{"{\"url\":\"" DEAD_URL "\"}", "parameter_missing", "events"},
		{"{\"url\":42,\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"ftp://127.0.0.1/x\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"not a url\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"http://user:pw@127.0.0.1:9/\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		/* SSRF: refused by the address checks alone (numeric hosts: no lookup, no traffic), even though
		 * this stack allows private addresses (webhooks get loopback only). */
		{"{\"url\":\"https://169.254.169.254/latest/meta-data/\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"https://10.0.0.1/\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"http://192.168.1.1/\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"https://[fd00::1]/\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"https://[::ffff:169.254.169.254]/\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"https://0.0.0.0/\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"https://2852039166/\",\"events\":[\"run.failed\"]}", "parameter_invalid", "url"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[]}", "parameter_invalid", "events"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":\"run.failed\"}", "parameter_invalid", "events"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"run.exploded\"]}", "parameter_invalid", "events.0"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\",42]}", "parameter_invalid", "events.1"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\",\"run.failed\"]}", "parameter_invalid", "events.1"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"*\",\"run.failed\"]}", "parameter_invalid", "events.0"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"],\"enabled\":\"yes\"}", "parameter_invalid", "enabled"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"],\"description\":7}", "parameter_invalid", "description"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"],\"colour\":\"red\"}", "parameter_unknown", "colour"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"],\"secret\":\"whsec_x\"}", "parameter_read_only", "secret"},
		{"{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"],\"id\":\"whk_x\"}", "parameter_read_only", "id"},
	};
	for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		http_call(&r, "POST", T.key, BAD[i].body, "/api/v1/webhooks");
		if (!CHECK_ERROR(r, 422, BAD[i].code, BAD[i].param))
			fprintf(stderr, "webhooks: case %zu: %s -> %s\n", i, BAD[i].body, r.body);
	}
	/* Lengths: url over 2048, description over 500. */
	char *body = malloc(4096);
	char *longpath = malloc(2100);
	memset(longpath, 'a', 2048);
	longpath[2048] = '\0';
	snprintf(body, 4096, "{\"url\":\"http://127.0.0.1:9/%s\",\"events\":[\"run.failed\"]}", longpath);
	http_call(&r, "POST", T.key, body, "/api/v1/webhooks");
	CHECK_ERROR(r, 422, "parameter_invalid", "url");
	longpath[501] = '\0';
	snprintf(body, 4096, "{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"],\"description\":\"%s\"}", longpath);
	http_call(&r, "POST", T.key, body, "/api/v1/webhooks");
	CHECK_ERROR(r, 422, "parameter_invalid", "description");
	longpath[500] = '\0';
	snprintf(body, 4096, "{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"],\"description\":\"%s\"}", longpath);
	http_call(&r, "POST", T.key, body, "/api/v1/webhooks");
	CHECK_STATUS(r, 201);
	char id[64];
	snprintf(id, sizeof id, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
	free(body);
	free(longpath);

	/* Loopback in any spelling is this stack's receivers (allow_private_addresses); http is allowed here
	 * (webhooks_allow_http = true in tests/e2e/stack.conf). */
	http_call(&r, "PATCH", T.key, "{\"url\":\"http://127.1:9/x\"}", "/api/v1/webhooks/%s", id);
	CHECK_STATUS(r, 200);
	http_call(&r, "PATCH", T.key, "{\"url\":\"https://10.0.0.1/\"}", "/api/v1/webhooks/%s", id);
	CHECK_ERROR(r, 422, "parameter_invalid", "url");
	http_call(&r, "PATCH", T.key, "{\"url\":null}", "/api/v1/webhooks/%s", id);
	CHECK_ERROR(r, 422, "parameter_missing", "url");
	http_call(&r, "PATCH", T.key, "{\"events\":[]}", "/api/v1/webhooks/%s", id);
	CHECK_ERROR(r, 422, "parameter_invalid", "events");
	http_call(&r, "PATCH", T.key, "{\"created_at\":\"2024-01-01T00:00:00.000Z\"}", "/api/v1/webhooks/%s", id);
	CHECK_ERROR(r, 422, "parameter_read_only", "created_at");
	/* Nothing was changed by the refused patches. */
	http_get(&r, T.key, "/api/v1/webhooks/%s", id);
	CHECK_STR(jstr(r.json, "data.url"), "http://127.1:9/x");
	/* Body errors come from the pipeline. */
	http_call(&r, "POST", T.key, "{\"url\":", "/api/v1/webhooks");
	CHECK_ERROR(r, 400, "body_malformed", NULL);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/webhooks/%s", id);
	CHECK_STATUS(r, 204);
	resp_free(&r);
}

static void test_quota(void)
{
	struct resp r = {0};
	char ids[20][64];
	int made = 0;
	for (int i = 0; i < 20; i++)
		made += make_webhook(QUOTA.key, "[\"run.failed\"]", ids[i], NULL) == 0;
	CHECK(made == 20);
	http_call(&r, "POST", QUOTA.key, "{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"]}", "/api/v1/webhooks");
	CHECK_ERROR(r, 422, "limit_exceeded", NULL);
	/* Deleted endpoints do not count. */
	http_call(&r, "DELETE", QUOTA.key, NULL, "/api/v1/webhooks/%s", ids[0]);
	CHECK_STATUS(r, 204);
	http_call(&r, "POST", QUOTA.key, "{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"]}", "/api/v1/webhooks");
	CHECK_STATUS(r, 201);
	/* Another account is not affected. */
	char other[64];
	CHECK(make_webhook(OTHER.key, "[\"run.failed\"]", other, NULL) == 0);
	http_call(&r, "DELETE", OTHER.key, NULL, "/api/v1/webhooks/%s", other);
	resp_free(&r);
}

/* Inserts event EVT and delivery DLV of endpoint WHK of ACCOUNT (dispatched already: the scheduler leaves it). */
static void make_delivery(const char *account, const char *whk, const char *evt, const char *dlv, const char *status)
{
	const char *ev[] = {evt, account, NULL};
	CHECK(e2e_sql(NULL,
		      "INSERT INTO webhook_events (id, account_id, type, payload, created_at, dispatched_at) VALUES "
		      "(?, ?, 'run.failed', '{\"type\":\"run.failed\",\"timestamp\":\"2024-01-01T00:00:00.000Z\",\"data\":{}}', "
		      "UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
		      ev) == 1);
	const char *dv[] = {dlv, account, whk, evt, status, NULL};
	CHECK(e2e_sql(NULL,
		      "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_id, status, attempts, last_status_code, "
		      "last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 4, 500, 'HTTP 500', UTC_TIMESTAMP(3), "
		      "UTC_TIMESTAMP(3))",
		      dv) == 1);
}

static void test_deliveries(void)
{
	struct resp r = {0};
	char whk[64], whk2[64];
	if (make_webhook(T.key, "[\"run.failed\"]", whk, NULL) != 0 || make_webhook(T.key, "[\"run.failed\"]", whk2, NULL) != 0)
		return;
	http_get(&r, T.key, "/api/v1/webhooks/%s/deliveries", whk);
	CHECK_STATUS(r, 200);
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	CHECK(json_is_false(jget(r.json, "has_more")));

	long long salt = (long long)time(NULL);
	char evt[2][64], dlv[2][64];
	for (int i = 0; i < 2; i++) {
		snprintf(evt[i], sizeof evt[i], "evt_00000000%d%016lld", i + 5, salt);
		snprintf(dlv[i], sizeof dlv[i], "dlv_00000000%d%016lld", i + 5, salt);
		make_delivery(T.account, whk, evt[i], dlv[i], "failed");
	}
	http_get(&r, T.key, "/api/v1/webhooks/%s/deliveries?limit=1", whk);
	CHECK_STATUS(r, 200);
	json_t *d = json_array_get(jget(r.json, "data"), 0);
	CHECK_STR(jstr(d, "id"), dlv[1]);
	CHECK(json_is_true(jget(r.json, "has_more")));
	if (d) {
		CHECK(json_object_size(d) == 12);
		CHECK_STR(jstr(d, "endpoint_id"), whk);
		CHECK_STR(jstr(d, "event_id"), evt[1]);
		CHECK_STR(jstr(d, "event_type"), "run.failed");
		CHECK_STR(jstr(d, "status"), "failed");
		CHECK(json_integer_value(jget(d, "attempts")) == 4);
		CHECK(json_integer_value(jget(d, "last_status_code")) == 500);
		CHECK_STR(jstr(d, "last_error"), "HTTP 500");
		CHECK(json_is_null(jget(d, "delivered_at")));
		CHECK(e2e_is_timestamp(jstr(d, "created_at")));
	}
	char cursor[128];
	snprintf(cursor, sizeof cursor, "%s", jstr(r.json, "next_cursor") ? jstr(r.json, "next_cursor") : "");
	http_get(&r, T.key, "/api/v1/webhooks/%s/deliveries?limit=1&cursor=%s", whk, cursor);
	CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), dlv[0]);
	CHECK(json_is_false(jget(r.json, "has_more")));
	CHECK(json_is_null(jget(r.json, "next_cursor")));
	/* Another endpoint's list is its own. */
	http_get(&r, T.key, "/api/v1/webhooks/%s/deliveries", whk2);
	CHECK(json_array_size(jget(r.json, "data")) == 0);

	/* Redeliver: pending again, due now, attempts kept. Point the endpoint at nothing first: the scheduler
	 * may pick it up at once and fail against the closed port, which is fine. */
	http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/%s/deliveries/%s/redeliver", whk, dlv[0]);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.id"), dlv[0]);
	CHECK_STR(jstr(r.json, "data.status"), "pending");
	CHECK(json_integer_value(jget(r.json, "data.attempts")) == 4);
	CHECK(e2e_is_timestamp(jstr(r.json, "data.next_attempt_at")));
	CHECK_STR(jstr(r.json, "data.event_id"), evt[0]);
	/* 404s: unknown delivery, a delivery of another endpoint, unknown endpoint, malformed ids. */
	http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/%s/deliveries/dlv_0000000000000000000000000/redeliver", whk);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/%s/deliveries/%s/redeliver", whk2, dlv[1]);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/whk_0000000000000000000000000/deliveries/%s/redeliver", dlv[1]);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/%s/deliveries/evt_0000000000000000000000000/redeliver", whk);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, T.key, "/api/v1/webhooks/whk_0000000000000000000000000/deliveries");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, T.key, "/api/v1/webhooks/%s/deliveries?cursor=garbage", whk);
	CHECK_ERROR(r, 400, "cursor_invalid", "cursor");
	http_call(&r, "POST", T.key, "{\"now\":true}", "/api/v1/webhooks/%s/deliveries/%s/redeliver", whk, dlv[1]);
	CHECK_ERROR(r, 422, "parameter_unknown", "now");

	/* Cross-account: every route is a 404 for another account. */
	http_get(&r, OTHER.key, "/api/v1/webhooks/%s", whk);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "PATCH", OTHER.key, "{\"enabled\":false}", "/api/v1/webhooks/%s", whk);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", OTHER.key, NULL, "/api/v1/webhooks/%s/rotate-secret", whk);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, OTHER.key, "/api/v1/webhooks/%s/deliveries", whk);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", OTHER.key, NULL, "/api/v1/webhooks/%s/deliveries/%s/redeliver", whk, dlv[1]);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "DELETE", OTHER.key, NULL, "/api/v1/webhooks/%s", whk);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, OTHER.key, "/api/v1/webhooks?limit=100");
	CHECK(!strstr(r.body, whk));
	http_get(&r, T.key, "/api/v1/webhooks/%s", whk);
	CHECK_STATUS(r, 200);

	/* Deleting the endpoint fails its pending deliveries. */
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/webhooks/%s", whk);
	CHECK_STATUS(r, 204);
	const char *p[] = {whk, NULL};
	CHECK(e2e_sql(NULL, "SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending'", p) == 0);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/webhooks/%s", whk2);
	resp_free(&r);
}

static void test_scopes(void)
{
	struct resp r = {0};
	char key[64], key_id[64];
	http_get(&r, NOSCOPE.key, "/api/v1/webhooks");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_STR(resp_header(&r, "WWW-Authenticate"),
		  "Bearer realm=\"agentplatform\", error=\"insufficient_scope\", scope=\"webhooks:read\"");
	http_get(&r, NOSCOPE.key, "/api/v1/webhooks/whk_0000000000000000000000000/deliveries");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	if (CHECK(e2e_key(&T, "webhooks:read", GENEROUS, key, key_id) == 0)) {
		CHECK(http_get(&r, key, "/api/v1/webhooks") == 200);
		http_call(&r, "POST", key, "{\"url\":\"" DEAD_URL "\",\"events\":[\"run.failed\"]}", "/api/v1/webhooks");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
		CHECK_STR(resp_header(&r, "WWW-Authenticate"),
			  "Bearer realm=\"agentplatform\", error=\"insufficient_scope\", scope=\"webhooks:write\"");
		http_call(&r, "PATCH", key, "{}", "/api/v1/webhooks/whk_0000000000000000000000000");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
		http_call(&r, "DELETE", key, NULL, "/api/v1/webhooks/whk_0000000000000000000000000");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
		http_call(&r, "POST", key, NULL, "/api/v1/webhooks/whk_0000000000000000000000000/rotate-secret");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
		http_call(&r, "POST", key, NULL,
			  "/api/v1/webhooks/whk_0000000000000000000000000/deliveries/dlv_0000000000000000000000000/redeliver");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
	}
	http_get(&r, NULL, "/api/v1/webhooks");
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	http_get(&r, T.key, "/api/v1/webhooks/agt_0000000000000000000000000");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "PUT", T.key, "{}", "/api/v1/webhooks");
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
	resp_free(&r);
}

/* The outbox rows of ACCOUNT of TYPE, oldest first: their payloads parsed into a JSON array (caller decrefs). */
static json_t *outbox(const char *account, const char *type)
{
	struct rows rows = {0};
	json_t *all = json_array();
	const char *p[] = {account, type, NULL};
	if (e2e_sql(&rows, "SELECT payload FROM webhook_events WHERE account_id = ? AND type = ? ORDER BY id", p) < 0)
		return all;
	for (int i = 0; i < rows.n; i++) {
		json_t *v = json_loads(rows.cell[i][0], 0, NULL);
		json_array_append_new(all, v ? v : json_null());
	}
	rows_free(&rows);
	return all;
}

static void test_events(void)
{
	struct resp r = {0};
	http_call(&r, "POST", EV.key, "{\"name\":\"events\",\"type\":\"echo\"}", "/api/v1/agents");
	if (!CHECK_STATUS(r, 201))
		return;
	char agent[64];
	snprintf(agent, sizeof agent, "%s", jstr(r.json, "data.id"));

	/* pause: one agent.paused with the agent as the API shows it; pausing again writes nothing. */
	http_call(&r, "POST", EV.key, NULL, "/api/v1/agents/%s/pause", agent);
	CHECK_STATUS(r, 200);
	json_t *shown = json_deep_copy(jget(r.json, "data"));
	http_call(&r, "POST", EV.key, NULL, "/api/v1/agents/%s/pause", agent);
	CHECK_STATUS(r, 200);
	json_t *ev = outbox(EV.account, "agent.paused");
	CHECK(json_array_size(ev) == 1);
	json_t *e = json_array_get(ev, 0);
	if (e) {
		CHECK(json_object_size(e) == 3);
		CHECK_STR(jstr(e, "type"), "agent.paused");
		CHECK(e2e_is_timestamp(jstr(e, "timestamp")));
		CHECK(json_equal(jget(e, "data"), shown));
		CHECK_STR(jstr(e, "data.status"), "paused");
	}
	json_decref(ev);
	json_decref(shown);

	/* Two runs waiting while paused: deleting the agent cancels them, one run.cancelled each. */
	long long salt = (long long)time(NULL);
	char run[2][64];
	for (int i = 0; i < 2; i++) {
		snprintf(run[i], sizeof run[i], "run_00000000%d%016lld", i + 7, salt);
		const char *p[] = {run[i], EV.account, agent, i ? "waiting_approval" : "queued", NULL};
		CHECK(e2e_sql(NULL,
			      "INSERT INTO runs (id, account_id, agent_id, status, trigger_type, input, queued_at) "
			      "VALUES (?, ?, ?, ?, 'signal', '{\"type\":\"e2e\",\"payload\":{}}', UTC_TIMESTAMP(3))",
			      p) == 1);
	}

	/* resume: agent.resumed (queued runs go back to the queue: pause again at once so they stay). */
	http_call(&r, "POST", EV.key, NULL, "/api/v1/agents/%s/resume", agent);
	CHECK_STATUS(r, 200);
	ev = outbox(EV.account, "agent.resumed");
	CHECK(json_array_size(ev) == 1);
	CHECK_STR(jstr(json_array_get(ev, 0), "data.id"), agent);
	CHECK_STR(jstr(json_array_get(ev, 0), "data.status"), "idle");
	json_decref(ev);
	/* Pause again at once, so no worker claims the queued run (its id may sit in the queue twice), and make sure
	 * both are still cancellable whatever the scheduler did meanwhile. */
	http_call(&r, "POST", EV.key, NULL, "/api/v1/agents/%s/pause", agent);
	CHECK_STATUS(r, 200);
	for (int i = 0; i < 2; i++) {
		const char *p[] = {i ? "waiting_approval" : "queued", run[i], NULL};
		e2e_sql(NULL, "UPDATE runs SET status = ?, started_at = NULL, finished_at = NULL, worker = NULL WHERE id = ?", p);
	}
	http_call(&r, "DELETE", EV.key, NULL, "/api/v1/agents/%s", agent);
	CHECK_STATUS(r, 204);
	ev = outbox(EV.account, "run.cancelled");
	CHECK(json_array_size(ev) == 2);
	for (int i = 0; i < 2 && i < (int)json_array_size(ev); i++) {
		e = json_array_get(ev, (size_t)i);
		CHECK_STR(jstr(e, "type"), "run.cancelled");
		CHECK_STR(jstr(e, "data.id"), run[i]);
		CHECK_STR(jstr(e, "data.agent_id"), agent);
		CHECK_STR(jstr(e, "data.status"), "cancelled");
		CHECK(e2e_is_timestamp(jstr(e, "data.finished_at")));
		/* The same object GET /runs/{id} shows. */
		struct resp g = {0};
		char key[64], key_id[64];
		if (i == 0 && e2e_key(&EV, "runs:read", GENEROUS, key, key_id) == 0) {
			http_get(&g, key, "/api/v1/runs/%s", run[i]);
			CHECK(json_equal(jget(g.json, "data"), jget(e, "data")));
		}
		resp_free(&g);
	}
	json_decref(ev);
	resp_free(&r);
}

int suite_webhooks_register(void)
{
	CU_pSuite s = CU_add_suite("webhooks", init, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "create, get, list, patch, re-enable, delete; the secret shown once", test_crud) ||
	    !CU_add_test(s, "rotate-secret: a new secret once, the old one kept 24 h", test_rotate) ||
	    !CU_add_test(s, "validation: url (https, guard, SSRF by address), events, description", test_validation) ||
	    !CU_add_test(s, "quota per account: webhooks_max_per_account", test_quota) ||
	    !CU_add_test(s, "deliveries list and redeliver; 404s across endpoints and accounts", test_deliveries) ||
	    !CU_add_test(s, "scopes, 401, 404 on malformed ids, 405", test_scopes) ||
	    !CU_add_test(s, "pause, resume and delete write agent.* and run.cancelled into the outbox", test_events))
		return -1;
	return 0;
}
