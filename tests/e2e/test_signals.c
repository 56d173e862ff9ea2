/* test_signals: signals, Idempotency-Key, inbound webhooks (plain and signed), runs and display messages.
 * Runs are executed by the scheduler, which these tests never wait for: where a run's status could move on,
 * it is checked to be one of queued, running or succeeded; runs whose status must stay put are written
 * with SQL (the scheduler only takes runs it finds on the Redis queue, or queued ones of active agents
 * after a minute). */
#include "e2e.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ABSENT_AGENT "agt_0000000000000000000000000"
#define ABSENT_RUN "run_0000000000000000000000000"
#define HOOK_TOKEN_LEN 43
#define UA_LINE "User-Agent: e2e-hook/1"
#define WWW_SCOPE(s) "Bearer realm=\"agentplatform\", error=\"insufficient_scope\", scope=\"" s "\""

static struct tenant A, B; /* two accounts: B must never see A's signals, runs or messages */

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static int init(void)
{
	if (e2e_tenant(&A, "signals-a", "all", GENEROUS) != 0 || e2e_tenant(&B, "signals-b", "all", GENEROUS) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Helpers */

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* PREFIX + 9 base62 digits of the time in ms + 16 random base62: the server's id shape and order. */
static void new_id(const char *prefix, char out[64])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	unsigned long long ms = (unsigned long long)tv.tv_sec * 1000ULL + (unsigned long long)(tv.tv_usec / 1000);
	size_t p = strlen(prefix);
	memcpy(out, prefix, p);
	for (int i = 8; i >= 0; i--) {
		out[p + (size_t)i] = B62[ms % 62];
		ms /= 62;
	}
	unsigned char rnd[16];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		abort();
	for (int i = 0; i < 16; i++)
		out[p + 9 + (size_t)i] = B62[rnd[i] % 62];
	out[p + 25] = '\0';
}

/* A fresh Idempotency-Key value, unique across runs of the suite. */
static void new_idem_key(char out[64])
{
	char id[64];
	new_id("", id);
	memcpy(out, "e2e-", 4);
	memcpy(out + 4, id, 26); /* 25 characters and the NUL */
}

/* A JSON value from a SQL cell (NULL for NULL or invalid JSON; caller decrefs). */
static json_t *json_cell(const char *s)
{
	return s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
}

/* POST /api/v1/agents with BODY as KEY; on 201 copies the id into ID and the hook's path (/hooks/<token>)
 * into HOOK (64 bytes each; either may be NULL). */
static long create_agent(struct resp *r, const char *key, const char *body, char *id, char *hook)
{
	http_call(r, "POST", key, body, "/api/v1/agents");
	if (id)
		id[0] = '\0';
	if (hook)
		hook[0] = '\0';
	if (r->status != 201)
		return r->status;
	if (id && jstr(r->json, "data.id"))
		snprintf(id, 64, "%s", jstr(r->json, "data.id"));
	const char *url = jstr(r->json, "data.inbound_webhook_url");
	size_t n = strlen(E2E.url);
	if (hook && url && strncmp(url, E2E.url, n) == 0 && strlen(url + n) < 64)
		snprintf(hook, 64, "%s", url + n);
	return r->status;
}

/* An echo agent of account KEY named NAME; 0 when created. */
static int echo_agent(const char *key, const char *name, char *id, char *hook)
{
	struct resp r = {0};
	char body[256];
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"type\":\"echo\"}", name);
	long st = create_agent(&r, key, body, id, hook);
	e2e_check(st == 201, __FILE__, __LINE__, "creating agent %s: %ld %.200s", name, st, r.body);
	resp_free(&r);
	return st == 201 && id[0] ? 0 : -1;
}

/* True when PATH is /hooks/ followed by a 43-character base62 token. */
static int is_hook_path(const char *path)
{
	if (!path || strncmp(path, "/hooks/", 7) != 0 || strlen(path + 7) != HOOK_TOKEN_LEN)
		return 0;
	for (const char *c = path + 7; *c; c++)
		if (!strchr(B62, *c))
			return 0;
	return 1;
}

/* From a response that shows an inbound webhook: its path (/hooks/...) into HOOK ("" when the URL is not the
 * stack's) and, when SECRET is not NULL, its one-time signing secret ("" when there is none). */
static void hook_from(const struct resp *r, char *hook, size_t hn, char *secret, size_t sn)
{
	const char *url = jstr(r->json, "data.inbound_webhook_url");
	size_t n = strlen(E2E.url);
	snprintf(hook, hn, "%s", url && strncmp(url, E2E.url, n) == 0 ? url + n : "");
	if (secret) {
		const char *s = jstr(r->json, "data.inbound_webhook_secret");
		snprintf(secret, sn, "%s", s ? s : "");
	}
}

/* POST BODY to the hook PATH with Content-Type CT (NULL: application/json) and the extra HEADERS. */
static long hook_post(struct resp *r, const char *path, const char *body, const char *ct, const char *const *headers)
{
	struct req q = {.method = "POST", .path = path, .body = body, .content_type = ct, .headers = headers};
	/* nginx limits /hooks/ per client address (20 r/s, burst 50) in front of the API, and every test here
	 * shares 127.0.0.1: a 429 from nginx itself (no X-RateLimit-Limit: the API never saw the call) is waited
	 * out, since that limiter is not what these tests check. Bounded: 10 tries. */
	for (int tries = 0; tries < 10; tries++) {
		http_send(&q, r);
		if (r->status != 429 || resp_header(r, "X-RateLimit-Limit"))
			break;
		struct timespec second = {1, 0};
		nanosleep(&second, NULL);
	}
	return r->status;
}

/* A 202 of a signal or hook: exactly {"data": {"id": "sig_...", "run_id": "run_...", "status": "queued"}}.
 * Copies the ids into SIG and RUN (64 bytes each; may be NULL). Returns 1 when it holds. */
static int check_accepted(const struct resp *r, char *sig, char *run, const char *file, int line)
{
	const json_t *d = jget(r->json, "data");
	int ok = e2e_check_status(r, 202, file, line) &&
		 e2e_check(json_object_size(r->json) == 1 && json_object_size(d) == 3 &&
				   e2e_is_id(jstr(d, "id"), "sig_") && e2e_is_id(jstr(d, "run_id"), "run_") &&
				   jstr(d, "status") && strcmp(jstr(d, "status"), "queued") == 0,
			   file, line, "202 body: %.300s", r->body);
	if (sig)
		snprintf(sig, 64, "%s", ok ? jstr(d, "id") : "");
	if (run)
		snprintf(run, 64, "%s", ok ? jstr(d, "run_id") : "");
	return ok;
}
#define CHECK_ACCEPTED(r, sig, run) check_accepted(&(r), (sig), (run), __FILE__, __LINE__)

static int status_may_move(const char *s)
{
	return s && (strcmp(s, "queued") == 0 || strcmp(s, "running") == 0 || strcmp(s, "succeeded") == 0);
}

/* The signal SIG and its run RUN as MariaDB holds them right after the 202. */
static void check_signal_rows(const char *sig, const char *run, const char *account, const char *agent,
			      const char *type, const json_t *payload, const char *source, const char *trigger,
			      const char *file, int line)
{
	struct rows s, x;
	long n = e2e_sql(&s, "SELECT account_id, agent_id, type, payload, source FROM signals WHERE id = ?",
			 (const char *[]){sig, NULL});
	if (e2e_check(n == 1, file, line, "%ld signal rows for %s", n, sig)) {
		e2e_check_str(s.cell[0][0], account, "signals.account_id", file, line);
		e2e_check_str(s.cell[0][1], agent, "signals.agent_id", file, line);
		e2e_check_str(s.cell[0][2], type, "signals.type", file, line);
		json_t *p = json_cell(s.cell[0][3]);
		e2e_check(json_equal(p, payload), file, line, "signals.payload %.300s", s.cell[0][3] ? s.cell[0][3] : "NULL");
		json_decref(p);
		e2e_check_str(s.cell[0][4], source, "signals.source", file, line);
	}
	rows_free(&s);
	n = e2e_sql(&x,
		    "SELECT account_id, agent_id, status, trigger_type, signal_id, signal_type, input FROM runs WHERE id = ?",
		    (const char *[]){run, NULL});
	if (e2e_check(n == 1, file, line, "%ld run rows for %s", n, run)) {
		char **c = x.cell[0];
		e2e_check_str(c[0], account, "runs.account_id", file, line);
		e2e_check_str(c[1], agent, "runs.agent_id", file, line);
		e2e_check(status_may_move(c[2]), file, line, "runs.status %s", c[2] ? c[2] : "NULL");
		e2e_check_str(c[3], trigger, "runs.trigger_type", file, line);
		e2e_check_str(c[4], sig, "runs.signal_id", file, line);
		e2e_check_str(c[5], type, "runs.signal_type", file, line);
		json_t *in = json_cell(c[6]), *want = json_pack("{s:s, s:O}", "type", type, "payload", payload);
		e2e_check(json_equal(in, want), file, line, "runs.input %.300s", c[6] ? c[6] : "NULL");
		json_decref(in);
		json_decref(want);
	}
	rows_free(&x);
}
#define CHECK_SIGNAL_ROWS(sig, run, acct, agent, type, payload, source, trigger)                                   \
	check_signal_rows((sig), (run), (acct), (agent), (type), (payload), (source), (trigger), __FILE__, __LINE__)

static long signals_of(const char *agent)
{
	return e2e_sql(NULL, "SELECT id FROM signals WHERE agent_id = ?", (const char *[]){agent, NULL});
}

static long runs_of(const char *agent)
{
	return e2e_sql(NULL, "SELECT id FROM runs WHERE agent_id = ?", (const char *[]){agent, NULL});
}

/* A run of AGENT written directly (the scheduler leaves it alone unless it is queued for an active agent).
 * STATUS, TRIGGER; a finished one ran for 1.5 s; ERROR may be NULL. */
static int insert_run(const char *account, const char *agent, const char *status, const char *trigger,
		      const char *error, char *id)
{
	new_id("run_", id);
	long n = e2e_sql(NULL,
			 "INSERT INTO runs (id, account_id, agent_id, status, trigger_type, input, error_message, attempt, "
			 "queued_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, '{\"type\":\"e2e\",\"payload\":{}}', "
			 "NULLIF(?, ''), IF(? IN ('queued'), 0, 1), UTC_TIMESTAMP(3) - INTERVAL 3 SECOND, "
			 "IF(? IN ('queued'), NULL, UTC_TIMESTAMP(3) - INTERVAL 2 SECOND), "
			 "IF(? IN ('succeeded','failed','rejected','expired','cancelled'), "
			 "UTC_TIMESTAMP(3) - INTERVAL 2 SECOND + INTERVAL 1500000 MICROSECOND, NULL))",
			 (const char *[]){id, account, agent, status, trigger, error ? error : "", status, status, status,
					  NULL});
	return n == 1 ? 0 : -1;
}

/* Every page of GET PATH (which has a query already when HAS_QUERY) with LIMIT, into IDS (up to MAX);
 * checks the envelope of every page. Returns the number of ids, or -1. PAGES gets the page count. */
static int collect(const char *key, const char *path, int limit, char ids[][64], int max, int *pages,
		   const char *file, int line)
{
	struct resp r = {0};
	char cursor[256] = "";
	int n = 0;
	*pages = 0;
	for (int page = 0; page < 50; page++) {
		if (cursor[0])
			http_get(&r, key, "%s?limit=%d&cursor=%s", path, limit, cursor);
		else
			http_get(&r, key, "%s?limit=%d", path, limit);
		if (!e2e_check_status(&r, 200, file, line)) {
			resp_free(&r);
			return -1;
		}
		(*pages)++;
		const json_t *data = jget(r.json, "data"), *next = jget(r.json, "next_cursor"),
			     *more = jget(r.json, "has_more");
		e2e_check(json_object_size(r.json) == 3 && json_is_array(data) && json_is_boolean(more) &&
				  (json_is_null(next) || json_is_string(next)) &&
				  json_is_true(more) == json_is_string(next) && json_array_size(data) <= (size_t)limit,
			  file, line, "list envelope: %.300s", r.body);
		size_t i;
		json_t *v;
		json_array_foreach(data, i, v) if (n < max) snprintf(ids[n++], 64, "%s", jstr(v, "id") ? jstr(v, "id") : "");
		if (json_is_true(more))
			e2e_check(json_array_size(data) == (size_t)limit, file, line, "a page before the last is not full");
		if (!json_is_string(next))
			break;
		snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
	}
	resp_free(&r);
	return n;
}

/* The run object: exactly the documented fields, each of its type. Returns 1 when it holds. */
static int check_run(const json_t *x, const char *file, int line)
{
	static const char *const statuses[] = {"queued",   "running", "waiting_approval", "succeeded", "failed",
					       "rejected", "expired", "cancelled",        NULL};
	static const char *const triggers[] = {"signal", "schedule", "webhook", "mcp", NULL};
	char why[256] = "";
	const char *st = jstr(x, "status"), *tt = jstr(x, "trigger.type");
	int st_ok = 0, tt_ok = 0;
	for (const char *const *s = statuses; st && *s; s++)
		st_ok |= strcmp(*s, st) == 0;
	for (const char *const *s = triggers; tt && *s; s++)
		tt_ok |= strcmp(*s, tt) == 0;
	const json_t *trig = jget(x, "trigger"), *sid = jget(x, "trigger.signal_id"),
		     *stype = jget(x, "trigger.signal_type"), *err = jget(x, "error_message"), *att = jget(x, "attempt"),
		     *started = jget(x, "started_at"), *finished = jget(x, "finished_at"), *dur = jget(x, "duration_ms");
	if (!json_is_object(x))
		snprintf(why, sizeof why, "not an object");
	else if (json_object_size(x) != 12)
		snprintf(why, sizeof why, "%zu members, want 12", json_object_size(x));
	else if (!e2e_is_id(jstr(x, "id"), "run_") || !e2e_is_id(jstr(x, "agent_id"), "agt_"))
		snprintf(why, sizeof why, "id or agent_id");
	else if (!st_ok)
		snprintf(why, sizeof why, "status %s", st ? st : "(none)");
	else if (!json_is_object(trig) || json_object_size(trig) != 3 || !tt_ok)
		snprintf(why, sizeof why, "trigger");
	else if (!sid || !(json_is_null(sid) || e2e_is_id(json_string_value(sid), "sig_")))
		snprintf(why, sizeof why, "trigger.signal_id");
	else if (!stype || !(json_is_null(stype) || json_is_string(stype)) || json_is_null(sid) != json_is_null(stype))
		snprintf(why, sizeof why, "trigger.signal_type");
	else if (!jget(x, "input") || !jget(x, "output"))
		snprintf(why, sizeof why, "input or output missing");
	else if (!err || !(json_is_null(err) || (json_is_string(err) && json_string_length(err) > 0)))
		snprintf(why, sizeof why, "error_message");
	else if (!json_is_integer(att) || json_integer_value(att) < 0)
		snprintf(why, sizeof why, "attempt");
	else if (!e2e_is_timestamp(jstr(x, "queued_at")))
		snprintf(why, sizeof why, "queued_at");
	else if (!started || !(json_is_null(started) || e2e_is_timestamp(json_string_value(started))))
		snprintf(why, sizeof why, "started_at");
	else if (!finished || !(json_is_null(finished) || e2e_is_timestamp(json_string_value(finished))))
		snprintf(why, sizeof why, "finished_at");
	else if (!dur || (json_is_null(dur) ? json_is_string(finished) && json_is_string(started)
					     : !json_is_integer(dur) || json_integer_value(dur) < 0 || json_is_null(finished)))
		snprintf(why, sizeof why, "duration_ms (null until finished)");
	else if (strcmp(st, "queued") == 0 && (!json_is_null(started) || !json_is_null(finished)))
		snprintf(why, sizeof why, "a queued run with started_at or finished_at");
	char *dump = x ? json_dumps(x, JSON_COMPACT) : NULL;
	e2e_check(!why[0], file, line, "run: %s: %.400s", why, dump ? dump : "(null)");
	free(dump);
	return !why[0];
}
#define CHECK_RUN(x) check_run((x), __FILE__, __LINE__)

/* ------------------------------------------------------------------------------------------------
 * Standard Webhooks signing, as a sender computes it */

/* "v1," + base64(HMAC-SHA256(base64decode(SECRET without whsec_), ID "." TS "." BODY)) into OUT (128 bytes). */
static int sign(const char *secret, const char *id, const char *ts, const char *body, char *out)
{
	if (!secret || strncmp(secret, "whsec_", 6) != 0)
		return -1;
	const char *b64 = secret + 6;
	size_t bl = strlen(b64);
	unsigned char key[256];
	if (bl == 0 || bl % 4 || bl / 4 * 3 > sizeof key)
		return -1;
	int kl = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)bl);
	if (kl < 0)
		return -1;
	kl -= (b64[bl - 1] == '=') + (bl > 1 && b64[bl - 2] == '=');
	size_t n = strlen(id) + strlen(ts) + strlen(body) + 3;
	char *msg = malloc(n);
	if (!msg)
		abort();
	snprintf(msg, n, "%s.%s.%s", id, ts, body);
	unsigned char mac[32];
	size_t maclen = 0;
	unsigned char *ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, (size_t)kl, (unsigned char *)msg,
				      strlen(msg), mac, sizeof mac, &maclen);
	free(msg);
	if (!ok || maclen != 32)
		return -1;
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, mac, 32);
	return 0;
}

/* POST BODY to the signed hook PATH with webhook-id ID, webhook-timestamp TS and webhook-signature SIG
 * (any of them NULL: header left out) and the User-Agent. */
static long signed_post(struct resp *r, const char *path, const char *id, const char *ts, const char *sig,
			const char *body)
{
	char h[3][300];
	const char *hs[5];
	int n = 0;
	hs[n++] = UA_LINE;
	if (id) {
		snprintf(h[0], sizeof h[0], "webhook-id: %s", id);
		hs[n++] = h[0];
	}
	if (ts) {
		snprintf(h[1], sizeof h[1], "webhook-timestamp: %s", ts);
		hs[n++] = h[1];
	}
	if (sig) {
		snprintf(h[2], sizeof h[2], "webhook-signature: %s", sig);
		hs[n++] = h[2];
	}
	hs[n] = NULL;
	return hook_post(r, path, body, NULL, hs);
}

/* ------------------------------------------------------------------------------------------------
 * Signals */

static void test_signal_create(void)
{
	struct resp r = {0}, g = {0};
	char agent[64], hook[64], sig[64], run[64];
	if (echo_agent(A.key, "signals", agent, hook) != 0)
		return;

	http_call(&r, "POST", A.key, "{\"type\":\"order.created\",\"payload\":{\"order\":42,\"items\":[\"a\",\"b\"]}}",
		  "/api/v1/agents/%s/signals", agent);
	if (CHECK_ACCEPTED(r, sig, run)) {
		CHECK(resp_header(&r, "X-RateLimit-Limit") != NULL);
		CHECK(resp_header(&r, "Idempotent-Replayed") == NULL);
		json_t *p = json_pack("{s:i, s:[s,s]}", "order", 42, "items", "a", "b");
		CHECK_SIGNAL_ROWS(sig, run, A.account, agent, "order.created", p, "api", "signal");
		json_decref(p);
		/* The run is readable through the API at once. */
		http_get(&g, A.key, "/api/v1/runs/%s", run);
		if (CHECK_STATUS(g, 200)) {
			const json_t *x = jget(g.json, "data");
			CHECK(json_object_size(g.json) == 1);
			CHECK_RUN(x);
			CHECK_STR(jstr(x, "id"), run);
			CHECK_STR(jstr(x, "agent_id"), agent);
			CHECK(status_may_move(jstr(x, "status")));
			CHECK_STR(jstr(x, "trigger.type"), "signal");
			CHECK_STR(jstr(x, "trigger.signal_id"), sig);
			CHECK_STR(jstr(x, "trigger.signal_type"), "order.created");
			CHECK_STR(jstr(x, "input.type"), "order.created");
			CHECK(json_integer_value(jget(x, "input.payload.order")) == 42);
		}
	}

	/* payload is optional: {} is stored. Content-Type parameters are allowed. */
	struct req q = {.method = "POST", .key = A.key, .body = "{\"type\":\"ping\"}",
			.content_type = "application/json; charset=utf-8"};
	char path[128];
	snprintf(path, sizeof path, "/api/v1/agents/%s/signals", agent);
	q.path = path;
	http_send(&q, &r);
	if (CHECK_ACCEPTED(r, sig, run)) {
		json_t *empty = json_object();
		CHECK_SIGNAL_ROWS(sig, run, A.account, agent, "ping", empty, "api", "signal");
		json_decref(empty);
	}

	/* Type: 1 and 100 characters, every allowed character. */
	char t100[101];
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz0123456789_.:-";
	for (int i = 0; i < 100; i++)
		t100[i] = allowed[i % (sizeof allowed - 1)];
	t100[100] = '\0';
	const char *types[] = {"x", t100, "a.b:c-d_e", "0"};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		char body[256];
		snprintf(body, sizeof body, "{\"payload\":{\"n\":%zu},\"type\":\"%s\"}", i, types[i]);
		http_call(&r, "POST", A.key, body, "/api/v1/agents/%s/signals", agent);
		if (CHECK_ACCEPTED(r, sig, run)) {
			json_t *p = json_pack("{s:i}", "n", (int)i);
			CHECK_SIGNAL_ROWS(sig, run, A.account, agent, types[i], p, "api", "signal");
			json_decref(p);
		}
	}

	/* Payload: at most 64 KiB as compact JSON ({"a":"..."} is 8 bytes more than the string). */
	size_t fill = 64 * 1024 - 8;
	char *big = malloc(fill + 64);
	if (!big)
		abort();
	for (int extra = 0; extra <= 1; extra++) {
		int k = snprintf(big, 64, "{\"type\":\"big\",\"payload\":{\"a\":\"");
		memset(big + k, 'x', fill + (size_t)extra);
		snprintf(big + k + fill + (size_t)extra, 16, "\"}}");
		long before = signals_of(agent);
		http_call(&r, "POST", A.key, big, "/api/v1/agents/%s/signals", agent);
		if (extra == 0) {
			CHECK_ACCEPTED(r, NULL, NULL);
			CHECK(signals_of(agent) == before + 1);
		} else {
			CHECK_ERROR(r, 422, "parameter_invalid", "payload");
			CHECK(signals_of(agent) == before);
		}
	}
	free(big);
	resp_free(&r);
	resp_free(&g);
}

static void test_signal_validation(void)
{
	struct resp r = {0};
	char agent[64], hook[64];
	if (echo_agent(A.key, "signals-invalid", agent, hook) != 0)
		return;
	char t101[102];
	memset(t101, 'a', 101);
	t101[101] = '\0';
	char long_type[160];
	snprintf(long_type, sizeof long_type, "{\"type\":\"%s\"}", t101);
	const struct {
		const char *body, *code, *param;
	} cases[] = {
		{"{}", "parameter_missing", "type"},
		{"{\"payload\":{}}", "parameter_missing", "type"},
		{"{\"type\":\"\"}", "parameter_invalid", "type"},
		{long_type, "parameter_invalid", "type"},
		{"{\"type\":\"Order\"}", "parameter_invalid", "type"},
		{"{\"type\":\"a b\"}", "parameter_invalid", "type"},
		{"{\"type\":\"a/b\"}", "parameter_invalid", "type"},
		{"{\"type\":\"caf\\u00e9\"}", "parameter_invalid", "type"},
		{"{\"type\":5}", "parameter_invalid", "type"},
		{"{\"type\":[\"a\"]}", "parameter_invalid", "type"},
		{"{\"type\":null}", "parameter_invalid", "type"},
		{"{\"type\":\"t\",\"payload\":[]}", "parameter_invalid", "payload"},
		{"{\"type\":\"t\",\"payload\":\"{}\"}", "parameter_invalid", "payload"},
		{"{\"type\":\"t\",\"payload\":7}", "parameter_invalid", "payload"},
		{"{\"type\":\"t\",\"payload\":true}", "parameter_invalid", "payload"},
		{"{\"type\":\"t\",\"extra\":1}", "parameter_unknown", "extra"},
		{"{\"type\":\"t\",\"Type\":\"t\"}", "parameter_unknown", "Type"},
		{"{\"type\":\"t\",\"id\":\"sig_0000000000000000000000000\"}", "parameter_unknown", "id"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		http_call(&r, "POST", A.key, cases[i].body, "/api/v1/agents/%s/signals", agent);
		if (e2e_check(r.status == 422, __FILE__, __LINE__, "case %zu %.80s: %ld %.200s, want 422 %s %s", i,
			      cases[i].body, r.status, r.body, cases[i].code, cases[i].param))
			CHECK_ERROR(r, 422, cases[i].code, cases[i].param);
	}
	/* Bodies: JSON objects only, as application/json. */
	const struct {
		const char *body, *ct;
		long status;
		const char *code;
	} bodies[] = {
		{"{\"type\":", NULL, 400, "body_malformed"},
		{"[{\"type\":\"t\"}]", NULL, 400, "body_malformed"},
		{"\"t\"", NULL, 400, "body_malformed"},
		{"{\"type\":\"t\",\"type\":\"u\"}", NULL, 400, "body_malformed"},
		{"{\"type\":\"a\\u0000b\"}", NULL, 400, "body_malformed"},
		{"{\"type\":\"t\"}", "text/plain", 415, "unsupported_media_type"},
		{"{\"type\":\"t\"}", "", 415, "unsupported_media_type"},
	};
	char path[128];
	snprintf(path, sizeof path, "/api/v1/agents/%s/signals", agent);
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		struct req q = {.method = "POST", .path = path, .key = A.key, .body = bodies[i].body,
				.content_type = bodies[i].ct};
		http_send(&q, &r);
		if (e2e_check(r.status == bodies[i].status, __FILE__, __LINE__, "body %zu %.60s: %ld, want %ld", i,
			      bodies[i].body, r.status, bodies[i].status))
			CHECK_ERROR(r, bodies[i].status, bodies[i].code, NULL);
	}
	/* Other methods. */
	http_get(&r, A.key, "/api/v1/agents/%s/signals", agent);
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
	/* Nothing was recorded. */
	CHECK(signals_of(agent) == 0);
	CHECK(runs_of(agent) == 0);
	resp_free(&r);
}

/* Paused, deleted, unknown, malformed and foreign agents. */
static void test_signal_agent_states(void)
{
	struct resp r = {0};
	char agent[64], hook[64], theirs[64], theirs_hook[64];
	if (echo_agent(A.key, "signals-states", agent, hook) != 0 || echo_agent(B.key, "signals-b", theirs, theirs_hook) != 0)
		return;
	const char *body = "{\"type\":\"t\"}";

	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", agent);
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", A.key, body, "/api/v1/agents/%s/signals", agent);
	CHECK_ERROR(r, 409, "agent_paused", NULL);
	CHECK(signals_of(agent) == 0 && runs_of(agent) == 0);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/resume", agent);
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", A.key, body, "/api/v1/agents/%s/signals", agent);
	CHECK_ACCEPTED(r, NULL, NULL);
	CHECK(signals_of(agent) == 1 && runs_of(agent) == 1);

	const char *absent[] = {ABSENT_AGENT, "agt_123", "agt_00000000000000000000000000", "run_0000000000000000000000000",
				"x"};
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
		http_call(&r, "POST", A.key, body, "/api/v1/agents/%s/signals", absent[i]);
		CHECK_ERROR(r, 404, "not_found", NULL);
	}
	/* Another account's agent: 404 both ways, nothing recorded. */
	http_call(&r, "POST", A.key, body, "/api/v1/agents/%s/signals", theirs);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", B.key, body, "/api/v1/agents/%s/signals", agent);
	CHECK_ERROR(r, 404, "not_found", NULL);
	CHECK(signals_of(theirs) == 0);
	CHECK(signals_of(agent) == 1);

	/* Deleted. */
	http_call(&r, "DELETE", A.key, NULL, "/api/v1/agents/%s", agent);
	CHECK_STATUS(r, 204);
	http_call(&r, "POST", A.key, body, "/api/v1/agents/%s/signals", agent);
	CHECK_ERROR(r, 404, "not_found", NULL);
	CHECK(signals_of(agent) == 1);
	resp_free(&r);
}

/* At most N queued runs per agent (default 1000): then 429 with Retry-After, and nothing recorded. */
static void test_signal_queue_full(void)
{
	struct resp r = {0};
	char agent[64], hook[64], base[64];
	if (echo_agent(A.key, "signals-full", agent, hook) != 0)
		return;
	new_id("", base);
	base[21] = '\0';
	/* 1000 queued runs, written directly: not on the Redis queue, and queued "in an hour", so the
	 * recovery sweep (which re-queues runs queued for a while) leaves them alone meanwhile. */
	long n = e2e_sql(NULL,
			 "INSERT INTO runs (id, account_id, agent_id, status, trigger_type, input, queued_at) "
			 "SELECT CONCAT('run_', ?, LPAD(seq, 4, '0')), ?, ?, 'queued', 'signal', "
			 "'{\"type\":\"e2e\",\"payload\":{}}', UTC_TIMESTAMP(3) + INTERVAL 1 HOUR FROM seq_1_to_1000",
			 (const char *[]){base, A.account, agent, NULL});
	if (!CHECK(n == 1000))
		goto out;
	http_call(&r, "POST", A.key, "{\"type\":\"one.more\"}", "/api/v1/agents/%s/signals", agent);
	CHECK_ERROR(r, 429, "rate_limited", NULL);
	long long retry = 0;
	CHECK(e2e_parse_long(resp_header(&r, "Retry-After"), &retry) == 0 && retry >= 1);
	CHECK(signals_of(agent) == 0);
	CHECK(runs_of(agent) == 1000);
out:
	e2e_sql(NULL, "DELETE FROM runs WHERE agent_id = ? AND id LIKE CONCAT('run_', ?, '%')",
		(const char *[]){agent, base, NULL});
	http_call(&r, "POST", A.key, "{\"type\":\"one.more\"}", "/api/v1/agents/%s/signals", agent);
	CHECK_ACCEPTED(r, NULL, NULL);
	resp_free(&r);
}

static void test_signal_scopes(void)
{
	struct resp r = {0};
	char agent[64], hook[64], run[64];
	char no_signals[64], no_signals_id[64], only_signals[64], only_signals_id[64], only_runs[64], only_runs_id[64];
	if (echo_agent(A.key, "signals-scopes", agent, hook) != 0 ||
	    !CHECK(e2e_key(&A, "agents:read agents:write runs:read", GENEROUS, no_signals, no_signals_id) == 0) ||
	    !CHECK(e2e_key(&A, "signals:write", GENEROUS, only_signals, only_signals_id) == 0) ||
	    !CHECK(e2e_key(&A, "runs:read", GENEROUS, only_runs, only_runs_id) == 0))
		return;
	const char *body = "{\"type\":\"scoped\"}";
	http_call(&r, "POST", no_signals, body, "/api/v1/agents/%s/signals", agent);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", WWW_SCOPE("signals:write"));
	CHECK(signals_of(agent) == 0);

	http_call(&r, "POST", only_signals, body, "/api/v1/agents/%s/signals", agent);
	CHECK_ACCEPTED(r, NULL, run);
	/* signals:write alone reads nothing and rotates nothing. */
	http_get(&r, only_signals, "/api/v1/agents/%s/runs", agent);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", WWW_SCOPE("runs:read"));
	http_get(&r, only_signals, "/api/v1/runs/%s", run);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_get(&r, only_signals, "/api/v1/agents/%s/messages", agent);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", WWW_SCOPE("agents:read"));
	http_call(&r, "POST", only_signals, NULL, "/api/v1/agents/%s/inbound-webhook/rotate", agent);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", WWW_SCOPE("agents:write"));

	/* runs:read reads runs, not messages (agents:read). */
	http_get(&r, only_runs, "/api/v1/agents/%s/runs", agent);
	CHECK_STATUS(r, 200);
	http_get(&r, only_runs, "/api/v1/runs/%s", run);
	CHECK_STATUS(r, 200);
	http_get(&r, only_runs, "/api/v1/runs/%s/messages", run);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	CHECK_HEADER(r, "WWW-Authenticate", WWW_SCOPE("agents:read"));
	http_call(&r, "POST", only_runs, NULL, "/api/v1/agents/%s/inbound-webhook/rotate", agent);
	CHECK_ERROR(r, 403, "missing_scope", NULL);

	/* agents:read + agents:write + runs:read: messages and rotation yes. */
	http_get(&r, no_signals, "/api/v1/runs/%s/messages", run);
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", no_signals, NULL, "/api/v1/agents/%s/inbound-webhook/rotate", agent);
	CHECK_STATUS(r, 200);
	CHECK(signals_of(agent) == 1);
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------------
 * Idempotency-Key */

/* POST BODY to PATH as KEY with Idempotency-Key IDEM (NULL: none) and the extra header EXTRA (or NULL). */
static long idem_post(struct resp *r, const char *key, const char *idem, const char *path, const char *body)
{
	char line[400];
	const char *hs[2] = {NULL, NULL};
	if (idem) {
		snprintf(line, sizeof line, "Idempotency-Key: %s", idem);
		hs[0] = line;
	}
	struct req q = {.method = "POST", .path = path, .key = key, .body = body, .headers = hs};
	http_send(&q, r);
	return r->status;
}

/* A replay: the stored first answer FIRST (status and exact body), marked Idempotent-Replayed: true. */
static int check_replay(const struct resp *r, const struct resp *first, const char *file, int line)
{
	int ok = e2e_check_status(r, first->status, file, line);
	ok &= e2e_check(first->body && r->body && strcmp(r->body, first->body) == 0, file, line,
			"replayed body %.300s differs from the first %.300s", r->body, first->body);
	ok &= e2e_check_str(resp_header(r, "Idempotent-Replayed"), "true", "Idempotent-Replayed", file, line);
	const char *ct = resp_header(r, "Content-Type");
	ok &= e2e_check(ct && strncmp(ct, "application/json", 16) == 0, file, line, "Content-Type %s", ct ? ct : "(none)");
	return ok;
}
#define CHECK_REPLAY(r, first) check_replay(&(r), &(first), __FILE__, __LINE__)

static void copy_resp(struct resp *dst, const struct resp *src)
{
	resp_free(dst);
	dst->status = src->status;
	dst->body = strdup(src->body ? src->body : "");
	dst->body_len = src->body_len;
	dst->json = src->json ? json_deep_copy(src->json) : NULL;
}

static void test_idempotency_signals(void)
{
	struct resp r = {0}, first = {0};
	char agent[64], hook[64], other[64], other_hook[64], path[128], other_path[128], idem[64];
	char second_key[64], second_key_id[64];
	if (echo_agent(A.key, "idem", agent, hook) != 0 || echo_agent(A.key, "idem-other", other, other_hook) != 0 ||
	    !CHECK(e2e_key(&A, "signals:write", GENEROUS, second_key, second_key_id) == 0))
		return;
	snprintf(path, sizeof path, "/api/v1/agents/%s/signals", agent);
	snprintf(other_path, sizeof other_path, "/api/v1/agents/%s/signals", other);
	const char *body = "{\"type\":\"idem\",\"payload\":{\"n\":1}}";

	/* The same key and body: one signal, one run, the first answer again. */
	new_idem_key(idem);
	idem_post(&r, A.key, idem, path, body);
	if (!CHECK_ACCEPTED(r, NULL, NULL))
		goto out;
	CHECK(resp_header(&r, "Idempotent-Replayed") == NULL);
	copy_resp(&first, &r);
	for (int i = 0; i < 3; i++) {
		idem_post(&r, A.key, idem, path, body);
		CHECK_REPLAY(r, first);
		CHECK(resp_header(&r, "X-RateLimit-Limit") != NULL);
	}
	CHECK(signals_of(agent) == 1);
	CHECK(runs_of(agent) == 1);

	/* A different body, or the same body to another path: 422, nothing new. */
	idem_post(&r, A.key, idem, path, "{\"type\":\"idem\",\"payload\":{\"n\":2}}");
	CHECK_ERROR(r, 422, "idempotency_key_reused", "Idempotency-Key");
	idem_post(&r, A.key, idem, path, "{\"type\":\"idem\", \"payload\":{\"n\":1}}"); /* other bytes, same JSON */
	CHECK_ERROR(r, 422, "idempotency_key_reused", "Idempotency-Key");
	idem_post(&r, A.key, idem, other_path, body);
	CHECK_ERROR(r, 422, "idempotency_key_reused", "Idempotency-Key");
	CHECK(signals_of(agent) == 1);
	CHECK(signals_of(other) == 0);
	/* Still replayable after the refusals. */
	idem_post(&r, A.key, idem, path, body);
	CHECK_REPLAY(r, first);

	/* Keys are per API key: another key of the account, and another account, start fresh. */
	idem_post(&r, second_key, idem, path, body);
	if (CHECK_ACCEPTED(r, NULL, NULL)) {
		CHECK(resp_header(&r, "Idempotent-Replayed") == NULL);
		CHECK(strcmp(jstr(r.json, "data.id"), jstr(first.json, "data.id")) != 0);
	}
	CHECK(signals_of(agent) == 2);
	char b_agent[64], b_hook[64], b_path[128];
	if (echo_agent(B.key, "idem-b", b_agent, b_hook) == 0) {
		snprintf(b_path, sizeof b_path, "/api/v1/agents/%s/signals", b_agent);
		idem_post(&r, B.key, idem, b_path, body);
		CHECK_ACCEPTED(r, NULL, NULL);
		CHECK(resp_header(&r, "Idempotent-Replayed") == NULL);
		CHECK(signals_of(b_agent) == 1);
	}
	/* Without the header every request counts. */
	idem_post(&r, A.key, NULL, path, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	idem_post(&r, A.key, NULL, path, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	CHECK(signals_of(agent) == 4);

	/* Key syntax: 1 to 255 visible ASCII characters. */
	char k255[256], k256[257];
	memset(k255, 'k', 255);
	k255[255] = '\0';
	memcpy(k255, idem, strlen(idem)); /* unique */
	memset(k256, 'k', 256);
	k256[256] = '\0';
	idem_post(&r, A.key, k255, path, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	CHECK(signals_of(agent) == 5);
	const char *bad[] = {k256, "has space", "tab\there", "del\x7f", "caf\xc3\xa9"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		idem_post(&r, A.key, bad[i], path, body);
		if (e2e_check(r.status == 400, __FILE__, __LINE__, "Idempotency-Key %zu (%.20s...): %ld %.200s, want 400", i,
			      bad[i], r.status, r.body))
			CHECK_ERROR(r, 400, "parameter_invalid", "Idempotency-Key");
	}
	CHECK(signals_of(agent) == 5);

	/* 4xx answers are stored too: a 422 is replayed as that 422, even once the body would pass. */
	struct resp e422 = {0};
	new_idem_key(idem);
	idem_post(&r, A.key, idem, path, "{\"type\":\"BAD TYPE\"}");
	CHECK_ERROR(r, 422, "parameter_invalid", "type");
	copy_resp(&e422, &r);
	idem_post(&r, A.key, idem, path, "{\"type\":\"BAD TYPE\"}");
	CHECK_REPLAY(r, e422);
	idem_post(&r, A.key, idem, path, body);
	CHECK_ERROR(r, 422, "idempotency_key_reused", "Idempotency-Key");
	resp_free(&e422);
	/* A 409 of a paused agent too, after the agent is resumed. */
	struct resp e409 = {0};
	new_idem_key(idem);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", other);
	CHECK_STATUS(r, 200);
	idem_post(&r, A.key, idem, other_path, body);
	CHECK_ERROR(r, 409, "agent_paused", NULL);
	copy_resp(&e409, &r);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/resume", other);
	CHECK_STATUS(r, 200);
	idem_post(&r, A.key, idem, other_path, body);
	CHECK_REPLAY(r, e409);
	CHECK(signals_of(other) == 0);
	resp_free(&e409);
	/* A 400 for a malformed body happens before the key is looked at: nothing is stored. */
	new_idem_key(idem);
	idem_post(&r, A.key, idem, path, "{\"type\":");
	CHECK_ERROR(r, 400, "body_malformed", NULL);
	idem_post(&r, A.key, idem, path, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	CHECK(resp_header(&r, "Idempotent-Replayed") == NULL);
	CHECK(signals_of(agent) == 6);

	/* The first request still in flight (its row has no answer yet): 409, nothing recorded. */
	new_idem_key(idem);
	size_t tl = strlen(path) + strlen(body) + 8;
	char *text = malloc(tl);
	if (!text)
		abort();
	snprintf(text, tl, "POST %s\n%s", path, body);
	long ins = e2e_sql(NULL,
			   "INSERT INTO idempotency_keys (api_key_id, idem_key, request_hash, created_at) "
			   "VALUES (?, ?, UNHEX(SHA2(?, 256)), UTC_TIMESTAMP(3))",
			   (const char *[]){A.key_id, idem, text, NULL});
	free(text);
	if (CHECK(ins == 1)) {
		idem_post(&r, A.key, idem, path, body);
		CHECK_ERROR(r, 409, "idempotency_key_in_use", "Idempotency-Key");
		idem_post(&r, A.key, idem, path, "{\"type\":\"different\"}");
		CHECK_ERROR(r, 422, "idempotency_key_reused", "Idempotency-Key");
		CHECK(signals_of(agent) == 6);
		/* A claim left without an answer for minutes (its worker died) is abandoned: the retry runs. */
		CHECK(e2e_sql(NULL,
			      "UPDATE idempotency_keys SET created_at = UTC_TIMESTAMP(3) - INTERVAL 6 MINUTE "
			      "WHERE api_key_id = ? AND idem_key = ? AND status IS NULL",
			      (const char *[]){A.key_id, idem, NULL}) == 1);
		idem_post(&r, A.key, idem, path, body);
		CHECK_ACCEPTED(r, NULL, NULL);
		CHECK(resp_header(&r, "Idempotent-Replayed") == NULL);
		CHECK(signals_of(agent) == 7);
	}

	/* After 24 hours a key is free again: a different body is a new request. */
	new_idem_key(idem);
	idem_post(&r, A.key, idem, path, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	CHECK(e2e_sql(NULL,
		      "UPDATE idempotency_keys SET created_at = UTC_TIMESTAMP(3) - INTERVAL 25 HOUR "
		      "WHERE api_key_id = ? AND idem_key = ?",
		      (const char *[]){A.key_id, idem, NULL}) == 1);
	idem_post(&r, A.key, idem, path, "{\"type\":\"after.a.day\"}");
	CHECK_ACCEPTED(r, NULL, NULL);
	CHECK(resp_header(&r, "Idempotent-Replayed") == NULL);
	CHECK(signals_of(agent) == 9);
	/* ... and it is a fresh 24 hours for the new request. */
	copy_resp(&first, &r);
	idem_post(&r, A.key, idem, path, "{\"type\":\"after.a.day\"}");
	CHECK_REPLAY(r, first);
	CHECK(signals_of(agent) == 9);

	/* Concurrent requests with one key: one signal; the others replay it or are told it is in flight. */
	new_idem_key(idem);
	enum { N = 6 };
	struct req q[N];
	struct resp out[N];
	char line[128];
	snprintf(line, sizeof line, "Idempotency-Key: %s", idem);
	const char *hs[] = {line, NULL};
	memset(out, 0, sizeof out);
	for (int i = 0; i < N; i++)
		q[i] = (struct req){.method = "POST", .path = path, .key = A.key, .body = body, .headers = hs};
	http_multi(q, N, out);
	int accepted = 0, in_use = 0;
	const char *sig = NULL;
	for (int i = 0; i < N; i++) {
		if (out[i].status == 202) {
			accepted++;
			if (!sig)
				sig = jstr(out[i].json, "data.id");
			else
				CHECK_STR(jstr(out[i].json, "data.id"), sig);
		} else if (CHECK_ERROR(out[i], 409, "idempotency_key_in_use", "Idempotency-Key")) {
			in_use++;
		}
	}
	CHECK(accepted >= 1 && accepted + in_use == N);
	CHECK(signals_of(agent) == 10);
	for (int i = 0; i < N; i++)
		resp_free(&out[i]);
out:
	resp_free(&r);
	resp_free(&first);
}

/* The mechanism is general: POST /agents and action routes replay too. */
static void test_idempotency_agents(void)
{
	struct resp r = {0}, first = {0};
	char idem[64], name[80], body[200];
	new_idem_key(idem);
	snprintf(name, sizeof name, "idem agent %s", idem);
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"type\":\"echo\"}", name);
	idem_post(&r, A.key, idem, "/api/v1/agents", body);
	if (!CHECK_STATUS(r, 201)) {
		resp_free(&r);
		return;
	}
	copy_resp(&first, &r);
	char location[256], id[64];
	snprintf(location, sizeof location, "%s", resp_header(&r, "Location") ? resp_header(&r, "Location") : "");
	snprintf(id, sizeof id, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
	CHECK(location[0] && strstr(location, id) != NULL);
	idem_post(&r, A.key, idem, "/api/v1/agents", body);
	CHECK_REPLAY(r, first);
	CHECK_HEADER(r, "Location", location);
	/* A replay writes no audit row and creates nothing. */
	CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE request_id = ?",
		      (const char *[]){resp_header(&r, "X-Request-Id") ? resp_header(&r, "X-Request-Id") : "", NULL}) == 0);
	CHECK(e2e_sql(NULL, "SELECT id FROM agents WHERE account_id = ? AND name = ?", (const char *[]){A.account, name, NULL}) ==
	      1);
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"type\":\"echo\",\"config\":{}}", name);
	idem_post(&r, A.key, idem, "/api/v1/agents", body);
	CHECK_ERROR(r, 422, "idempotency_key_reused", "Idempotency-Key");

	/* An action without a body: rotating twice with one key rotates once; the replayed URL works. */
	char rotate[128], hook[64];
	snprintf(rotate, sizeof rotate, "/api/v1/agents/%s/inbound-webhook/rotate", id);
	new_idem_key(idem);
	idem_post(&r, A.key, idem, rotate, NULL);
	if (CHECK_STATUS(r, 200)) {
		copy_resp(&first, &r);
		idem_post(&r, A.key, idem, rotate, NULL);
		CHECK_REPLAY(r, first);
		hook_from(&r, hook, sizeof hook, NULL, 0);
		CHECK(is_hook_path(hook));
		hook_post(&r, hook, "{\"replayed\":true}", NULL, NULL);
		CHECK_ACCEPTED(r, NULL, NULL);
		CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE target_id = ? AND action = 'agent.inbound_webhook_rotated'",
			      (const char *[]){id, NULL}) == 1);
		/* Stored answers are not a second copy of the hook token: it exists only as its SHA-256. */
		CHECK(e2e_sql(NULL,
			      "SELECT idem_key FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ? "
			      "AND INSTR(COALESCE(response, ''), ?) > 0",
			      (const char *[]){A.key_id, idem, hook + 7, NULL}) == 0);
	}
	/* Signed: the replay hands back the same secret, which is not kept in the clear either. */
	new_idem_key(idem);
	idem_post(&r, A.key, idem, rotate, "{\"signed\":true}");
	if (CHECK_STATUS(r, 200) && CHECK(jstr(r.json, "data.inbound_webhook_secret") != NULL)) {
		copy_resp(&first, &r);
		idem_post(&r, A.key, idem, rotate, "{\"signed\":true}");
		CHECK_REPLAY(r, first);
		const char *secret = jstr(first.json, "data.inbound_webhook_secret");
		CHECK(e2e_sql(NULL,
			      "SELECT idem_key FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ? "
			      "AND response IS NOT NULL AND INSTR(response, ?) = 0 AND INSTR(response, 'inbound_webhook') = 0",
			      (const char *[]){A.key_id, idem, secret + 6, NULL}) == 1);
		CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE target_id = ? AND action = 'agent.inbound_webhook_rotated'",
			      (const char *[]){id, NULL}) == 2);
	}
	resp_free(&r);
	resp_free(&first);
}

/* ------------------------------------------------------------------------------------------------
 * Inbound webhooks */

static void test_hook_basics(void)
{
	struct resp r = {0}, g = {0};
	char agent[64], hook[64], sig[64], run[64];
	if (!CHECK(create_agent(&r, A.key, "{\"name\":\"hooked\",\"type\":\"echo\"}", agent, hook) == 201))
		goto out;
	/* Shown once: the URL in the create answer; afterwards a hint only. */
	const char *url = jstr(r.json, "data.inbound_webhook_url");
	CHECK(url && strncmp(url, E2E.url, strlen(E2E.url)) == 0);
	CHECK(is_hook_path(hook));
	CHECK(json_is_true(jget(r.json, "data.inbound_webhook.enabled")));
	CHECK(json_is_false(jget(r.json, "data.inbound_webhook.signed")));
	CHECK(json_object_size(jget(r.json, "data.inbound_webhook")) == 3);
	CHECK_STR(jstr(r.json, "data.inbound_webhook.hint"), hook + strlen(hook) - 4);
	CHECK(jget(r.json, "data.inbound_webhook_secret") == NULL);
	http_get(&g, A.key, "/api/v1/agents/%s", agent);
	if (CHECK_STATUS(g, 200)) {
		CHECK(jget(g.json, "data.inbound_webhook_url") == NULL);
		CHECK(json_equal(jget(g.json, "data.inbound_webhook"), jget(r.json, "data.inbound_webhook")));
		CHECK(strstr(g.body, hook + 7) == NULL);
	}
	http_get(&g, A.key, "/api/v1/agents?limit=100");
	CHECK(g.body && strstr(g.body, hook + 7) == NULL && strstr(g.body, "inbound_webhook_url") == NULL);
	/* Stored as its SHA-256 only. */
	CHECK(e2e_sql(NULL, "SELECT id FROM agents WHERE id = ? AND hook_token_hash = UNHEX(SHA2(?, 256))",
		      (const char *[]){agent, hook + 7, NULL}) == 1);

	/* A JSON object, no API key: a signal of type webhook whose payload is the body plus selected headers. */
	const char *hs[] = {UA_LINE, NULL};
	const char *body = "{\"event\":\"push\",\"commits\":[{\"id\":1}],\"nested\":{\"x\":null}}";
	hook_post(&r, hook, body, NULL, hs);
	if (CHECK_ACCEPTED(r, sig, run)) {
		CHECK_HEADER(r, "X-RateLimit-Limit", "60");
		CHECK(resp_header(&r, "X-RateLimit-Remaining") != NULL);
		CHECK(resp_header(&r, "X-RateLimit-Reset") != NULL);
		json_t *payload = json_pack("{s:o, s:{s:s, s:s}}", "body", json_loads(body, 0, NULL), "headers",
					    "content-type", "application/json", "user-agent", "e2e-hook/1");
		CHECK_SIGNAL_ROWS(sig, run, A.account, agent, "webhook", payload, "webhook", "webhook");
		json_decref(payload);
		http_get(&g, A.key, "/api/v1/runs/%s", run);
		if (CHECK_STATUS(g, 200)) {
			CHECK_RUN(jget(g.json, "data"));
			CHECK_STR(jstr(g.json, "data.trigger.type"), "webhook");
			CHECK_STR(jstr(g.json, "data.trigger.signal_id"), sig);
			CHECK_STR(jstr(g.json, "data.trigger.signal_type"), "webhook");
			CHECK_STR(jstr(g.json, "data.input.type"), "webhook");
			CHECK_STR(jstr(g.json, "data.input.payload.body.event"), "push");
		}
	}
	/* Any JSON value, and Content-Type parameters. */
	const char *values[] = {"[1,\"two\",{\"three\":3}]", "42", "\"text\"", "null", "true", "{}"};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		hook_post(&r, hook, values[i], i % 2 ? "application/json; charset=utf-8" : NULL, hs);
		if (CHECK_ACCEPTED(r, sig, run)) {
			json_t *payload = json_pack("{s:o, s:{s:s, s:s}}", "body", json_loads(values[i], JSON_DECODE_ANY, NULL),
						    "headers", "content-type",
						    i % 2 ? "application/json; charset=utf-8" : "application/json", "user-agent",
						    "e2e-hook/1");
			CHECK_SIGNAL_ROWS(sig, run, A.account, agent, "webhook", payload, "webhook", "webhook");
			json_decref(payload);
		}
	}
	/* An API key is not needed, and one sent along changes nothing. */
	struct req q = {.method = "POST", .path = hook, .key = A.key, .body = "{\"with\":\"key\"}"};
	http_send(&q, &r);
	CHECK_ACCEPTED(r, NULL, NULL);

	/* Not JSON, not application/json, too large. */
	hook_post(&r, hook, "{\"event\":", NULL, hs);
	CHECK_ERROR(r, 400, "body_malformed", NULL);
	hook_post(&r, hook, "{\"a\":1,\"a\":2}", NULL, hs);
	CHECK_ERROR(r, 400, "body_malformed", NULL);
	struct req empty = {.method = "POST", .path = hook, .body = "", .content_type = "application/json"};
	http_send(&empty, &r);
	CHECK_STATUS(r, 400);
	hook_post(&r, hook, "{}", "text/plain", hs);
	CHECK_ERROR(r, 415, "unsupported_media_type", NULL);
	hook_post(&r, hook, "{}", "", hs);
	CHECK_ERROR(r, 415, "unsupported_media_type", NULL);
	hook_post(&r, hook, "a=1", "application/x-www-form-urlencoded", hs);
	CHECK_ERROR(r, 415, "unsupported_media_type", NULL);
	size_t limit = 256 * 1024;
	char *big = malloc(limit + 2);
	if (!big)
		abort();
	for (int extra = 0; extra <= 1; extra++) {
		size_t len = limit + (size_t)extra; /* a JSON string of exactly LEN bytes */
		big[0] = '"';
		memset(big + 1, 'h', len - 2);
		big[len - 1] = '"';
		big[len] = '\0';
		hook_post(&r, hook, big, NULL, hs);
		if (extra == 0)
			CHECK_ACCEPTED(r, NULL, NULL);
		else
			CHECK_ERROR(r, 413, "body_too_large", NULL);
	}
	free(big);
	/* Only POST. */
	http_get(&r, NULL, "%s", hook);
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
	CHECK_HEADER(r, "Allow", "POST");
	long before = signals_of(agent);

	/* Tokens nobody has: 404, whatever their shape. */
	char unknown[64];
	snprintf(unknown, sizeof unknown, "/hooks/%s", hook + 7);
	unknown[7] = unknown[7] == 'A' ? 'B' : 'A';
	const char *bad[] = {unknown, "/hooks/abc", "/hooks/0000000000000000000000000000000000000000000",
			     "/hooks/000000000000000000000000000000000000000000-",
			     "/hooks/00000000000000000000000000000000000000000000"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		hook_post(&r, bad[i], "{}", NULL, hs);
		if (e2e_check(r.status == 404, __FILE__, __LINE__, "%s: %ld, want 404", bad[i], r.status))
			CHECK_ERROR(r, 404, "not_found", NULL);
	}
	CHECK(signals_of(agent) == before);

	/* Paused: 409; resumed: accepted again. Deleted: 404. */
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", agent);
	CHECK_STATUS(r, 200);
	hook_post(&r, hook, "{}", NULL, hs);
	CHECK_ERROR(r, 409, "agent_paused", NULL);
	CHECK(signals_of(agent) == before);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/resume", agent);
	CHECK_STATUS(r, 200);
	hook_post(&r, hook, "{}", NULL, hs);
	CHECK_ACCEPTED(r, NULL, NULL);
	http_call(&r, "DELETE", A.key, NULL, "/api/v1/agents/%s", agent);
	CHECK_STATUS(r, 204);
	hook_post(&r, hook, "{}", NULL, hs);
	CHECK_ERROR(r, 404, "not_found", NULL);
	CHECK(signals_of(agent) == before + 1);
out:
	resp_free(&r);
	resp_free(&g);
}

/* Rotation: a new URL, the old one dead; signed hooks need valid Standard Webhooks headers. */
static void test_hook_rotate_and_sign(void)
{
	struct resp r = {0}, g = {0};
	char agent[64], hook[64], old[64], rotate[128], secret[128] = "", sig[128], ts[32], id[64], run[64];
	const char *hs[] = {UA_LINE, NULL};
	if (echo_agent(A.key, "rotating", agent, hook) != 0)
		return;
	snprintf(rotate, sizeof rotate, "/api/v1/agents/%s/inbound-webhook/rotate", agent);

	/* Without a body: unsigned, a new token. */
	snprintf(old, sizeof old, "%s", hook);
	http_call(&r, "POST", A.key, NULL, "%s", rotate);
	if (CHECK_STATUS(r, 200)) {
		hook_from(&r, hook, sizeof hook, NULL, 0);
		CHECK(is_hook_path(hook));
		CHECK(strcmp(hook, old) != 0);
		CHECK_STR(jstr(r.json, "data.id"), agent);
		CHECK_STR(jstr(r.json, "data.name"), "rotating");
		CHECK(jget(r.json, "data.inbound_webhook_secret") == NULL);
		CHECK(json_is_false(jget(r.json, "data.inbound_webhook.signed")));
		CHECK_STR(jstr(r.json, "data.inbound_webhook.hint"), hook + strlen(hook) - 4);
		/* Audited, without the token. */
		const char *rid = resp_header(&r, "X-Request-Id");
		struct rows a;
		if (CHECK(e2e_sql(&a, "SELECT action, changes FROM audit_logs WHERE request_id = ?",
				  (const char *[]){rid ? rid : "", NULL}) == 1)) {
			CHECK_STR(a.cell[0][0], "agent.inbound_webhook_rotated");
			CHECK(a.cell[0][1] == NULL || strstr(a.cell[0][1], hook + 7) == NULL);
		}
		rows_free(&a);
	}
	hook_post(&r, old, "{}", NULL, hs);
	CHECK_ERROR(r, 404, "not_found", NULL);
	hook_post(&r, hook, "{}", NULL, hs);
	CHECK_ACCEPTED(r, NULL, NULL);
	http_get(&g, A.key, "/api/v1/agents/%s", agent);
	CHECK_STR(jstr(g.json, "data.inbound_webhook.hint"), hook + strlen(hook) - 4);
	CHECK(jget(g.json, "data.inbound_webhook_url") == NULL);

	/* Bodies it refuses; nothing changes. */
	const struct {
		const char *body;
		long status;
		const char *code, *param;
	} bad[] = {
		{"{\"signed\":\"yes\"}", 422, "parameter_invalid", "signed"},
		{"{\"signed\":1}", 422, "parameter_invalid", "signed"},
		{"{\"bogus\":true}", 422, "parameter_unknown", "bogus"},
		{"{\"signed\":true,\"secret\":\"whsec_x\"}", 422, "parameter_unknown", "secret"},
		{"[true]", 400, "body_malformed", NULL},
		{"{\"signed\":", 400, "body_malformed", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		http_call(&r, "POST", A.key, bad[i].body, "%s", rotate);
		if (e2e_check(r.status == bad[i].status, __FILE__, __LINE__, "rotate %s: %ld %.200s", bad[i].body, r.status,
			      r.body))
			CHECK_ERROR(r, bad[i].status, bad[i].code, bad[i].param);
	}
	struct req plain = {.method = "POST", .path = rotate, .key = A.key, .body = "{}", .content_type = "text/plain"};
	http_send(&plain, &r);
	CHECK_ERROR(r, 415, "unsupported_media_type", NULL);
	hook_post(&r, hook, "{}", NULL, hs);
	CHECK_ACCEPTED(r, NULL, NULL);
	/* Unknown, malformed and foreign agents. */
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/inbound-webhook/rotate", ABSENT_AGENT);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/inbound-webhook/rotate", "agt_nope");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", B.key, NULL, "%s", rotate);
	CHECK_ERROR(r, 404, "not_found", NULL);
	hook_post(&r, hook, "{}", NULL, hs);
	CHECK_ACCEPTED(r, NULL, NULL);

	/* Signed: a whsec_ secret, once. */
	snprintf(old, sizeof old, "%s", hook);
	http_call(&r, "POST", A.key, "{\"signed\":true}", "%s", rotate);
	if (!CHECK_STATUS(r, 200))
		goto out;
	{
		hook_from(&r, hook, sizeof hook, secret, sizeof secret);
		CHECK(is_hook_path(hook) && strcmp(hook, old) != 0);
		CHECK(json_is_true(jget(r.json, "data.inbound_webhook.signed")));
		unsigned char key[128];
		size_t bl = strlen(secret) > 6 ? strlen(secret) - 6 : 0;
		CHECK(strncmp(secret, "whsec_", 6) == 0 && bl % 4 == 0 && bl > 0 && bl / 4 * 3 <= sizeof key &&
		      EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)bl) >= 24);
		const char *rid = resp_header(&r, "X-Request-Id");
		struct rows a;
		if (CHECK(e2e_sql(&a, "SELECT changes FROM audit_logs WHERE request_id = ?",
				  (const char *[]){rid ? rid : "", NULL}) == 1))
			CHECK(a.cell[0][0] == NULL || strstr(a.cell[0][0], secret + 6) == NULL);
		rows_free(&a);
		/* The secret is stored encrypted, never as text. */
		CHECK(e2e_sql(NULL, "SELECT id FROM agents WHERE id = ? AND hook_secret_enc IS NOT NULL "
				    "AND INSTR(hook_secret_enc, ?) = 0 AND INSTR(hook_secret_enc, ?) = 0",
			      (const char *[]){agent, secret, secret + 6, NULL}) == 1);
	}
	http_get(&g, A.key, "/api/v1/agents/%s", agent);
	CHECK(json_is_true(jget(g.json, "data.inbound_webhook.signed")));
	CHECK(jget(g.json, "data.inbound_webhook_secret") == NULL);
	CHECK(g.body && strstr(g.body, secret + 6) == NULL);
	hook_post(&r, old, "{}", NULL, hs);
	CHECK_ERROR(r, 404, "not_found", NULL);
	long before = signals_of(agent);

	/* A valid signature is accepted. */
	const char *body = "{\"event\":\"signed\",\"n\":1}";
	new_id("msg_", id);
	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	CHECK(sign(secret, id, ts, body, sig) == 0);
	signed_post(&r, hook, id, ts, sig, body);
	if (CHECK_ACCEPTED(r, NULL, run)) {
		CHECK(resp_header(&r, "X-RateLimit-Limit") != NULL);
		http_get(&g, A.key, "/api/v1/runs/%s", run);
		CHECK_STR(jstr(g.json, "data.trigger.type"), "webhook");
		json_t *want = json_loads(body, 0, NULL);
		CHECK(json_equal(jget(g.json, "data.input.payload.body"), want));
		json_decref(want);
		CHECK_STR(jstr(g.json, "data.input.payload.headers.content-type"), "application/json");
		CHECK_STR(jstr(g.json, "data.input.payload.headers.user-agent"), "e2e-hook/1");
	}
	CHECK(signals_of(agent) == before + 1);
	/* The same webhook-id again: refused, even correctly signed. */
	signed_post(&r, hook, id, ts, sig, body);
	CHECK_ERROR(r, 401, "signature_invalid", NULL);
	CHECK(signals_of(agent) == before + 1);

	/* Missing or wrong headers. */
	char wrong_secret[128], wrong[128], other_body_sig[128];
	snprintf(wrong_secret, sizeof wrong_secret, "whsec_%s", "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1yaWdodC1vbmU=");
	new_id("msg_", id);
	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	CHECK(sign(secret, id, ts, body, sig) == 0);
	CHECK(sign(wrong_secret, id, ts, body, wrong) == 0);
	CHECK(sign(secret, id, ts, "{\"event\":\"other\"}", other_body_sig) == 0);
	char forged[200], v2[200];
	snprintf(v2, sizeof v2, "v2,%s", sig + 3);
	snprintf(forged, sizeof forged, "v1,%.40sAAAA", sig + 3);
	struct {
		const char *id, *ts, *sig, *body;
	} refused[] = {
		{NULL, NULL, NULL, body},      /* nothing */
		{NULL, ts, sig, body},         /* no webhook-id */
		{id, NULL, sig, body},         /* no webhook-timestamp */
		{id, ts, NULL, body},          /* no webhook-signature */
		{id, ts, wrong, body},         /* another secret */
		{id, ts, other_body_sig, body}, /* signed another body */
		{id, ts, sig, "{\"event\":\"signed\",\"n\":2}"}, /* body changed in transit */
		{id, ts, v2, body},            /* unknown version */
		{id, ts, forged, body},        /* garbage */
		{id, ts, "v1,", body},
		{id, "abc", sig, body},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		signed_post(&r, hook, refused[i].id, refused[i].ts, refused[i].sig, refused[i].body);
		if (e2e_check(r.status == 401, __FILE__, __LINE__, "signed case %zu: %ld %.200s, want 401", i, r.status,
			      r.body))
			CHECK_ERROR(r, 401, "signature_invalid", NULL);
	}
	CHECK(signals_of(agent) == before + 1);
	/* A refused request does not burn its webhook-id: the genuine one still passes. */
	signed_post(&r, hook, id, ts, sig, body);
	CHECK_ACCEPTED(r, NULL, NULL);

	/* The timestamp must be within 5 minutes, either way; the signature covers it. */
	const long long offsets[] = {-400, 400, -3600};
	for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		new_id("msg_", id);
		snprintf(ts, sizeof ts, "%lld", (long long)time(NULL) + offsets[i]);
		CHECK(sign(secret, id, ts, body, sig) == 0);
		signed_post(&r, hook, id, ts, sig, body);
		CHECK_ERROR(r, 401, "signature_invalid", NULL);
	}
	new_id("msg_", id);
	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL) - 200);
	CHECK(sign(secret, id, ts, body, sig) == 0);
	signed_post(&r, hook, id, ts, sig, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	char moved[32];
	new_id("msg_", id);
	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	snprintf(moved, sizeof moved, "%lld", (long long)time(NULL) - 1);
	CHECK(sign(secret, id, ts, body, sig) == 0);
	signed_post(&r, hook, id, moved, sig, body);
	CHECK_ERROR(r, 401, "signature_invalid", NULL);

	/* Several signatures (key rotation on the sender's side): any valid one passes, wherever it is. */
	char list[400];
	new_id("msg_", id);
	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	CHECK(sign(secret, id, ts, body, sig) == 0);
	CHECK(sign(wrong_secret, id, ts, body, wrong) == 0);
	snprintf(list, sizeof list, "%s %s", wrong, sig);
	signed_post(&r, hook, id, ts, list, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	new_id("msg_", id);
	CHECK(sign(secret, id, ts, body, sig) == 0);
	CHECK(sign(wrong_secret, id, ts, body, wrong) == 0);
	snprintf(list, sizeof list, "%s %s", sig, wrong);
	signed_post(&r, hook, id, ts, list, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	new_id("msg_", id);
	CHECK(sign(wrong_secret, id, ts, body, wrong) == 0);
	snprintf(list, sizeof list, "%s %s", wrong, wrong);
	signed_post(&r, hook, id, ts, list, body);
	CHECK_ERROR(r, 401, "signature_invalid", NULL);
	CHECK(signals_of(agent) == before + 5);

	/* A paused signed hook: the signature is checked first (401 without one), then the pause (409). */
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", agent);
	signed_post(&r, hook, NULL, NULL, NULL, body);
	CHECK_ERROR(r, 401, "signature_invalid", NULL);
	new_id("msg_", id);
	CHECK(sign(secret, id, ts, body, sig) == 0);
	signed_post(&r, hook, id, ts, sig, body);
	CHECK_ERROR(r, 409, "agent_paused", NULL);
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/resume", agent);

	/* Back to unsigned: no headers needed, and the old secret is gone. */
	snprintf(old, sizeof old, "%s", hook);
	http_call(&r, "POST", A.key, "{\"signed\":false}", "%s", rotate);
	if (CHECK_STATUS(r, 200)) {
		hook_from(&r, hook, sizeof hook, NULL, 0);
		CHECK(jget(r.json, "data.inbound_webhook_secret") == NULL);
		CHECK(json_is_false(jget(r.json, "data.inbound_webhook.signed")));
		CHECK(e2e_sql(NULL, "SELECT id FROM agents WHERE id = ? AND hook_secret_enc IS NULL",
			      (const char *[]){agent, NULL}) == 1);
	}
	hook_post(&r, hook, "{}", NULL, hs);
	CHECK_ACCEPTED(r, NULL, NULL);
	hook_post(&r, old, "{}", NULL, hs);
	CHECK_ERROR(r, 404, "not_found", NULL);
out:
	resp_free(&r);
	resp_free(&g);
}

/* A signed hook whose sealed secret lost its key version (hook_secret_key_version NULL) fails closed: refused with
 * the API's 500, signed or not, never taken for an unsigned hook; with the version back it works again. */
static void test_hook_missing_key_version(void)
{
	struct resp r = {0}, g = {0};
	char agent[64], hook[64], secret[128] = "", sig[128], ts[32], id[64];
	const char *hs[] = {UA_LINE, NULL};
	struct rows v = {0};
	if (echo_agent(A.key, "hook-no-key-version", agent, hook) != 0)
		return;
	http_call(&r, "POST", A.key, "{\"signed\":true}", "/api/v1/agents/%s/inbound-webhook/rotate", agent);
	if (!CHECK_STATUS(r, 200))
		goto out;
	{
		hook_from(&r, hook, sizeof hook, secret, sizeof secret);
	}
	if (!CHECK(is_hook_path(hook) && secret[0]) ||
	    !CHECK(e2e_sql(&v, "SELECT hook_secret_key_version FROM agents WHERE id = ? AND hook_secret_enc IS NOT NULL",
			   (const char *[]){agent, NULL}) == 1 && v.cell[0][0] != NULL) ||
	    !CHECK(e2e_sql(NULL, "UPDATE agents SET hook_secret_key_version = NULL WHERE id = ?",
			   (const char *[]){agent, NULL}) == 1))
		goto out;
	long before = signals_of(agent);
	const char *body = "{\"event\":\"no-key-version\"}";
	hook_post(&r, hook, body, NULL, hs);
	CHECK_ERROR(r, 500, "internal_error", NULL);
	new_id("msg_", id);
	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	CHECK(sign(secret, id, ts, body, sig) == 0);
	signed_post(&r, hook, id, ts, sig, body);
	CHECK_ERROR(r, 500, "internal_error", NULL);
	CHECK(signals_of(agent) == before);
	http_get(&g, A.key, "/api/v1/agents/%s", agent);
	CHECK(json_is_true(jget(g.json, "data.inbound_webhook.signed")));

	/* The version restored: the same signed delivery is accepted (the refused one did not burn its id). */
	CHECK(e2e_sql(NULL, "UPDATE agents SET hook_secret_key_version = ? WHERE id = ?",
		      (const char *[]){v.cell[0][0], agent, NULL}) == 1);
	signed_post(&r, hook, id, ts, sig, body);
	CHECK_ACCEPTED(r, NULL, NULL);
	CHECK(signals_of(agent) == before + 1);
out:
	rows_free(&v);
	resp_free(&r);
	resp_free(&g);
}

/* 60 calls a minute per agent by default: X-RateLimit-* on every answer, then 429. Paced below nginx's
 * per-address limit on /hooks/ (20 r/s), so every 429 here is the API's. */
static void test_hook_rate_limit(void)
{
	struct resp r = {0};
	char agent[64], hook[64], other[64], other_hook[64];
	if (echo_agent(A.key, "hook-limit", agent, hook) != 0 || echo_agent(A.key, "hook-limit-2", other, other_hook) != 0)
		return;
	const char *hs[] = {UA_LINE, NULL};
	long long prev_remaining = 1000, limited_at = 0;
	int accepted = 0;
	time_t start = time(NULL);
	for (int i = 1; i <= 200; i++) {
		usleep(60 * 1000);
		hook_post(&r, hook, "{\"n\":1}", NULL, hs);
		long long lim = 0, rem = -1, reset = 0;
		int headers = e2e_parse_long(resp_header(&r, "X-RateLimit-Limit"), &lim) == 0 &&
			      e2e_parse_long(resp_header(&r, "X-RateLimit-Remaining"), &rem) == 0 &&
			      e2e_parse_long(resp_header(&r, "X-RateLimit-Reset"), &reset) == 0;
		if (!e2e_check(headers && lim == 60, __FILE__, __LINE__, "call %d: %ld without the API's rate-limit headers",
			       i, r.status))
			break;
		CHECK(reset >= (long long)time(NULL) - 1);
		if (r.status == 202) {
			accepted++;
			/* Remaining only goes down (by one per call, plus what the pacing refills). */
			CHECK(rem < prev_remaining + 2);
			prev_remaining = rem;
			continue;
		}
		if (CHECK_ERROR(r, 429, "rate_limited", NULL)) {
			long long retry = 0;
			CHECK(e2e_parse_long(resp_header(&r, "Retry-After"), &retry) == 0 && retry >= 1 && retry <= 60);
			CHECK(rem == 0);
		}
		limited_at = i;
		break;
	}
	/* The burst is the limit; pacing refills about one call a second on top. */
	long long elapsed = (long long)(time(NULL) - start);
	CHECK(limited_at > 60);
	e2e_check(accepted >= 60 && accepted <= 61 + elapsed, __FILE__, __LINE__, "%d accepted in %lld s, limit 60/min",
		  accepted, elapsed);
	CHECK(signals_of(agent) == accepted);
	/* Per agent: another agent's hook is not affected. */
	hook_post(&r, other_hook, "{}", NULL, hs);
	CHECK_ACCEPTED(r, NULL, NULL);
	CHECK_HEADER(r, "X-RateLimit-Limit", "60");
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------------
 * Runs */

static void test_runs(void)
{
	struct resp r = {0};
	enum { N = 5 };
	char agent[64], hook[64], runs[N + 2][64], sigs[N][64], listed[20][64];
	if (echo_agent(A.key, "runs", agent, hook) != 0)
		return;
	/* Unknown agent, no runs: 404; the agent with no runs yet: an empty list. */
	http_get(&r, A.key, "/api/v1/agents/" ABSENT_AGENT "/runs");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, A.key, "/api/v1/agents/%s/runs", agent);
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_is_array(jget(r.json, "data")) && json_array_size(jget(r.json, "data")) == 0);
		CHECK(json_is_false(jget(r.json, "has_more")));
		CHECK(json_is_null(jget(r.json, "next_cursor")));
	}
	for (int i = 0; i < N; i++) {
		char body[128];
		snprintf(body, sizeof body, "{\"type\":\"run.%d\",\"payload\":{\"i\":%d}}", i, i);
		http_call(&r, "POST", A.key, body, "/api/v1/agents/%s/signals", agent);
		if (!CHECK_ACCEPTED(r, sigs[i], runs[i]))
			goto out;
	}
	/* Each run. */
	for (int i = 0; i < N; i++) {
		http_get(&r, A.key, "/api/v1/runs/%s", runs[i]);
		if (!CHECK_STATUS(r, 200))
			continue;
		const json_t *x = jget(r.json, "data");
		CHECK_RUN(x);
		CHECK_STR(jstr(x, "id"), runs[i]);
		CHECK_STR(jstr(x, "agent_id"), agent);
		CHECK(status_may_move(jstr(x, "status")));
		CHECK_STR(jstr(x, "trigger.type"), "signal");
		CHECK_STR(jstr(x, "trigger.signal_id"), sigs[i]);
		char type[32];
		snprintf(type, sizeof type, "run.%d", i);
		CHECK_STR(jstr(x, "trigger.signal_type"), type);
		json_t *in = json_pack("{s:s, s:{s:i}}", "type", type, "payload", "i", i);
		CHECK(json_equal(jget(x, "input"), in));
		json_decref(in);
		if (strcmp(jstr(x, "status") ? jstr(x, "status") : "", "queued") == 0) {
			CHECK(json_is_null(jget(x, "output")));
			CHECK(json_is_null(jget(x, "error_message")));
			CHECK(json_integer_value(jget(x, "attempt")) == 0);
			CHECK(json_is_null(jget(x, "duration_ms")));
		}
	}
	/* Written directly: a failed run (1.5 s) and a scheduled one that succeeded. */
	if (!CHECK(insert_run(A.account, agent, "failed", "signal", "the upstream service answered 503", runs[N]) == 0) ||
	    !CHECK(insert_run(A.account, agent, "succeeded", "schedule", NULL, runs[N + 1]) == 0))
		goto out;
	http_get(&r, A.key, "/api/v1/runs/%s", runs[N]);
	if (CHECK_STATUS(r, 200)) {
		const json_t *x = jget(r.json, "data");
		CHECK_RUN(x);
		CHECK_STR(jstr(x, "status"), "failed");
		CHECK_STR(jstr(x, "error_message"), "the upstream service answered 503");
		CHECK(json_integer_value(jget(x, "duration_ms")) == 1500);
		CHECK(json_integer_value(jget(x, "attempt")) == 1);
		CHECK(e2e_is_timestamp(jstr(x, "started_at")) && e2e_is_timestamp(jstr(x, "finished_at")));
	}
	http_get(&r, A.key, "/api/v1/runs/%s", runs[N + 1]);
	if (CHECK_STATUS(r, 200)) {
		const json_t *x = jget(r.json, "data");
		CHECK_RUN(x);
		CHECK_STR(jstr(x, "trigger.type"), "schedule");
		CHECK(json_is_null(jget(x, "trigger.signal_id")));
		CHECK(json_is_null(jget(x, "trigger.signal_type")));
		CHECK(json_is_null(jget(x, "error_message")));
	}

	/* The list: newest first (by id), every page full but the last, each run once. */
	int pages = 0;
	char path[128];
	snprintf(path, sizeof path, "/api/v1/agents/%s/runs", agent);
	int n = collect(A.key, path, 2, listed, 20, &pages, __FILE__, __LINE__);
	CHECK(n == N + 2);
	CHECK(pages == 4);
	for (int i = 1; i < n; i++)
		CHECK(strcmp(listed[i - 1], listed[i]) > 0);
	for (int i = 0; i < N + 2; i++) {
		int seen = 0;
		for (int k = 0; k < n; k++)
			seen += strcmp(listed[k], runs[i]) == 0;
		CHECK(seen == 1);
	}
	http_get(&r, A.key, "/api/v1/agents/%s/runs", agent);
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_array_size(jget(r.json, "data")) == N + 2);
		CHECK(json_is_false(jget(r.json, "has_more")));
		CHECK(json_is_null(jget(r.json, "next_cursor")));
		size_t i;
		json_t *x;
		json_array_foreach(jget(r.json, "data"), i, x) CHECK_RUN(x);
	}
	/* The status filter. */
	http_get(&r, A.key, "/api/v1/agents/%s/runs?status=failed", agent);
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_array_size(jget(r.json, "data")) == 1);
		CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), runs[N]);
	}
	http_get(&r, A.key, "/api/v1/agents/%s/runs?status=cancelled", agent);
	CHECK(json_array_size(jget(r.json, "data")) == 0);
	http_get(&r, A.key, "/api/v1/agents/%s/runs?status=queued&limit=100", agent);
	if (CHECK_STATUS(r, 200)) {
		size_t i;
		json_t *x;
		json_array_foreach(jget(r.json, "data"), i, x) CHECK_STR(jstr(x, "status"), "queued");
	}
	snprintf(path, sizeof path, "/api/v1/agents/%s/runs?status=succeeded", agent);
	{
		/* Pages of a filtered list stay filtered. */
		struct resp p = {0};
		http_get(&p, A.key, "%s&limit=1", path);
		if (CHECK_STATUS(p, 200) && json_is_string(jget(p.json, "next_cursor"))) {
			http_get(&r, A.key, "%s&limit=100&cursor=%s", path, jstr(p.json, "next_cursor"));
			size_t i;
			json_t *x;
			json_array_foreach(jget(r.json, "data"), i, x) CHECK_STR(jstr(x, "status"), "succeeded");
		}
		resp_free(&p);
	}
	/* Query errors. */
	const struct {
		const char *query, *code, *param;
	} bad[] = {
		{"status=bogus", "parameter_invalid", "status"},
		{"status=", "parameter_invalid", "status"},
		{"status=QUEUED", "parameter_invalid", "status"},
		{"status=queued&status=failed", "parameter_invalid", "status"},
		{"limit=0", "parameter_invalid", "limit"},
		{"limit=101", "parameter_invalid", "limit"},
		{"cursor=nope", "cursor_invalid", "cursor"},
		{"type=signal", "parameter_unknown", "type"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		http_get(&r, A.key, "/api/v1/agents/%s/runs?%s", agent, bad[i].query);
		if (e2e_check(r.status == 400, __FILE__, __LINE__, "?%s: %ld %.200s, want 400", bad[i].query, r.status,
			      r.body))
			CHECK_ERROR(r, 400, bad[i].code, bad[i].param);
	}
	/* A cursor of another list (agents: it names an agent id) does not fit this one. */
	{
		struct resp p = {0};
		http_get(&p, A.key, "/api/v1/agents?limit=1");
		if (CHECK(json_is_string(jget(p.json, "next_cursor")))) {
			http_get(&r, A.key, "/api/v1/agents/%s/runs?cursor=%s", agent, jstr(p.json, "next_cursor"));
			CHECK_ERROR(r, 400, "cursor_invalid", "cursor");
		}
		resp_free(&p);
	}

	/* Not found: unknown, malformed and foreign ids. */
	const char *no_run[] = {ABSENT_RUN, "run_abc", "sig_0000000000000000000000000", sigs[0]};
	for (size_t i = 0; i < sizeof no_run / sizeof no_run[0]; i++) {
		http_get(&r, A.key, "/api/v1/runs/%s", no_run[i]);
		CHECK_ERROR(r, 404, "not_found", NULL);
	}
	http_get(&r, A.key, "/api/v1/agents/agt_abc/runs");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, B.key, "/api/v1/runs/%s", runs[0]);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, B.key, "/api/v1/runs/%s", runs[N]);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, B.key, "/api/v1/agents/%s/runs", agent);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, B.key, "/api/v1/agents/%s/runs?status=failed", agent);
	CHECK_ERROR(r, 404, "not_found", NULL);
	/* B's own agent lists only its own runs. */
	char theirs[64], theirs_hook[64];
	if (echo_agent(B.key, "runs-b", theirs, theirs_hook) == 0) {
		http_call(&r, "POST", B.key, "{\"type\":\"b\"}", "/api/v1/agents/%s/signals", theirs);
		CHECK_ACCEPTED(r, NULL, NULL);
		http_get(&r, B.key, "/api/v1/agents/%s/runs", theirs);
		CHECK(json_array_size(jget(r.json, "data")) == 1);
		CHECK(r.body && strstr(r.body, agent) == NULL);
	}
	/* Other methods. */
	http_call(&r, "DELETE", A.key, NULL, "/api/v1/runs/%s", runs[0]);
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
out:
	resp_free(&r);
}

/* Deleting an agent cancels its queued and waiting runs; they stay readable by id. */
static void test_delete_cancels_runs(void)
{
	struct resp r = {0};
	char agent[64], hook[64], queued[64], waiting[64], done[64], signalled[64];
	if (echo_agent(A.key, "doomed", agent, hook) != 0)
		return;
	http_call(&r, "POST", A.key, "{\"type\":\"before.delete\"}", "/api/v1/agents/%s/signals", agent);
	CHECK_ACCEPTED(r, NULL, signalled);
	/* Paused, so no worker claims what is written below. */
	http_call(&r, "POST", A.key, NULL, "/api/v1/agents/%s/pause", agent);
	CHECK_STATUS(r, 200);
	if (!CHECK(insert_run(A.account, agent, "queued", "signal", NULL, queued) == 0) ||
	    !CHECK(insert_run(A.account, agent, "waiting_approval", "signal", NULL, waiting) == 0) ||
	    !CHECK(insert_run(A.account, agent, "succeeded", "schedule", NULL, done) == 0))
		goto out;
	http_get(&r, A.key, "/api/v1/runs/%s", queued);
	CHECK_STR(jstr(r.json, "data.status"), "queued");
	http_call(&r, "DELETE", A.key, NULL, "/api/v1/agents/%s", agent);
	CHECK_STATUS(r, 204);

	const char *cancelled[] = {queued, waiting};
	for (size_t i = 0; i < 2; i++) {
		http_get(&r, A.key, "/api/v1/runs/%s", cancelled[i]);
		if (CHECK_STATUS(r, 200)) {
			CHECK_RUN(jget(r.json, "data"));
			CHECK_STR(jstr(r.json, "data.status"), "cancelled");
			CHECK(jstr(r.json, "data.error_message") && *jstr(r.json, "data.error_message"));
			CHECK(e2e_is_timestamp(jstr(r.json, "data.finished_at")));
			CHECK_STR(jstr(r.json, "data.agent_id"), agent);
		}
	}
	http_get(&r, A.key, "/api/v1/runs/%s", done);
	if (CHECK_STATUS(r, 200)) {
		CHECK_STR(jstr(r.json, "data.status"), "succeeded");
		CHECK(json_is_null(jget(r.json, "data.error_message")));
	}
	/* The signalled run was queued, running or already done: now cancelled, or as it finished. */
	http_get(&r, A.key, "/api/v1/runs/%s", signalled);
	if (CHECK_STATUS(r, 200)) {
		const char *st = jstr(r.json, "data.status");
		CHECK(st && (strcmp(st, "cancelled") == 0 || strcmp(st, "running") == 0 || strcmp(st, "succeeded") == 0));
	}
	/* The agent's lists are gone with it; the run's messages stay readable. */
	http_get(&r, A.key, "/api/v1/agents/%s/runs", agent);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, A.key, "/api/v1/agents/%s/messages", agent);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, A.key, "/api/v1/runs/%s/messages", queued);
	CHECK_STATUS(r, 200);
	/* Still invisible to another account. */
	http_get(&r, B.key, "/api/v1/runs/%s", queued);
	CHECK_ERROR(r, 404, "not_found", NULL);
out:
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------------
 * Display messages */

/* The message object: exactly the documented fields. */
static int check_message(const json_t *m, const char *file, int line)
{
	const json_t *data = jget(m, "data");
	const char *role = jstr(m, "role");
	int ok = json_is_object(m) && json_object_size(m) == 7 && e2e_is_id(jstr(m, "id"), "msg_") &&
		 e2e_is_id(jstr(m, "agent_id"), "agt_") && e2e_is_id(jstr(m, "run_id"), "run_") && role &&
		 (strcmp(role, "agent") == 0 || strcmp(role, "system") == 0) && jstr(m, "content") && data &&
		 (json_is_null(data) || json_is_object(data) || json_is_array(data)) &&
		 e2e_is_timestamp(jstr(m, "created_at"));
	char *dump = m ? json_dumps(m, JSON_COMPACT) : NULL;
	e2e_check(ok, file, line, "message: %.400s", dump ? dump : "(null)");
	free(dump);
	return ok;
}
#define CHECK_MESSAGE(m) check_message((m), __FILE__, __LINE__)

static void test_messages(void)
{
	struct resp r = {0};
	enum { N = 5 };
	char agent[64], hook[64], run1[64], run2[64], base[64], ids[N][64], listed[20][64];
	/* No signals to this agent: its runs and messages are only the ones written here. */
	if (echo_agent(A.key, "messages", agent, hook) != 0 ||
	    !CHECK(insert_run(A.account, agent, "succeeded", "signal", NULL, run1) == 0) ||
	    !CHECK(insert_run(A.account, agent, "succeeded", "schedule", NULL, run2) == 0))
		return;
	/* Empty lists first. */
	http_get(&r, A.key, "/api/v1/agents/%s/messages", agent);
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_array_size(jget(r.json, "data")) == 0);
		CHECK(json_is_false(jget(r.json, "has_more")));
		CHECK(json_is_null(jget(r.json, "next_cursor")));
	}
	/* Five messages with ascending ids and times, written in another order; 0, 2, 4 belong to run1. */
	new_id("", base);
	for (int i = 0; i < N; i++)
		snprintf(ids[i], sizeof ids[i], "msg_%.22s%03d", base, i);
	const int order[N] = {3, 0, 4, 1, 2};
	for (int k = 0; k < N; k++) {
		int i = order[k];
		char content[64], secs[8];
		snprintf(content, sizeof content, "message %d: 7 \xc2\xb0" "C, overcast", i);
		snprintf(secs, sizeof secs, "%d", i);
		const char *data = i == 1 ? "{\"temperature\":7,\"tags\":[\"a\"]}" : i == 3 ? "[1,2]" : "";
		long n = e2e_sql(NULL,
				 "INSERT INTO run_messages (id, account_id, agent_id, run_id, role, content, data, created_at) "
				 "VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, ''), UTC_TIMESTAMP(3) - INTERVAL 10 SECOND + INTERVAL ? SECOND)",
				 (const char *[]){ids[i], A.account, agent, i % 2 ? run2 : run1, i == 4 ? "system" : "agent",
						  content, data, secs, NULL});
		if (!CHECK(n == 1))
			goto out;
	}
	/* The agent's messages: oldest first, every field. */
	http_get(&r, A.key, "/api/v1/agents/%s/messages", agent);
	if (CHECK_STATUS(r, 200) && CHECK(json_array_size(jget(r.json, "data")) == N)) {
		CHECK(json_is_false(jget(r.json, "has_more")));
		CHECK(json_is_null(jget(r.json, "next_cursor")));
		char prev_time[32] = "";
		for (int i = 0; i < N; i++) {
			const json_t *m = json_array_get(jget(r.json, "data"), (size_t)i);
			CHECK_MESSAGE(m);
			CHECK_STR(jstr(m, "id"), ids[i]);
			CHECK_STR(jstr(m, "agent_id"), agent);
			CHECK_STR(jstr(m, "run_id"), i % 2 ? run2 : run1);
			CHECK_STR(jstr(m, "role"), i == 4 ? "system" : "agent");
			char content[64];
			snprintf(content, sizeof content, "message %d: 7 \xc2\xb0" "C, overcast", i);
			CHECK_STR(jstr(m, "content"), content);
			if (i == 1) {
				CHECK(json_integer_value(jget(m, "data.temperature")) == 7);
				CHECK(json_array_size(jget(m, "data.tags")) == 1);
			} else if (i == 3) {
				CHECK(json_is_array(jget(m, "data")) && json_array_size(jget(m, "data")) == 2);
			} else {
				CHECK(json_is_null(jget(m, "data")));
			}
			const char *t = jstr(m, "created_at");
			CHECK(t && strcmp(t, prev_time) > 0);
			snprintf(prev_time, sizeof prev_time, "%s", t ? t : "");
		}
	}
	/* Pages of 2: 3 pages, in order. */
	char path[128];
	int pages = 0;
	snprintf(path, sizeof path, "/api/v1/agents/%s/messages", agent);
	int n = collect(A.key, path, 2, listed, 20, &pages, __FILE__, __LINE__);
	CHECK(n == N && pages == 3);
	for (int i = 0; i < n && i < N; i++)
		CHECK_STR(listed[i], ids[i]);
	/* A run's messages: only its own. */
	snprintf(path, sizeof path, "/api/v1/runs/%s/messages", run1);
	n = collect(A.key, path, 2, listed, 20, &pages, __FILE__, __LINE__);
	CHECK(n == 3 && pages == 2);
	if (n == 3) {
		CHECK_STR(listed[0], ids[0]);
		CHECK_STR(listed[1], ids[2]);
		CHECK_STR(listed[2], ids[4]);
	}
	snprintf(path, sizeof path, "/api/v1/runs/%s/messages", run2);
	n = collect(A.key, path, 100, listed, 20, &pages, __FILE__, __LINE__);
	CHECK(n == 2 && pages == 1);
	if (n == 2) {
		CHECK_STR(listed[0], ids[1]);
		CHECK_STR(listed[1], ids[3]);
	}
	http_get(&r, A.key, "/api/v1/runs/%s/messages?limit=100", run2);
	if (CHECK_STATUS(r, 200)) {
		size_t i;
		json_t *m;
		json_array_foreach(jget(r.json, "data"), i, m) CHECK_MESSAGE(m);
	}
	/* Query errors; a cursor from the runs list does not fit. */
	const char *bad[] = {"limit=0", "limit=abc", "cursor=%%%", "status=queued", "cursor=Y3J1bl8wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		http_get(&r, A.key, "/api/v1/agents/%s/messages?%s", agent, bad[i]);
		CHECK_STATUS(r, 400);
	}
	{
		struct resp p = {0};
		http_get(&p, A.key, "/api/v1/agents/%s/runs?limit=1", agent);
		if (CHECK(json_is_string(jget(p.json, "next_cursor")))) {
			http_get(&r, A.key, "/api/v1/agents/%s/messages?cursor=%s", agent, jstr(p.json, "next_cursor"));
			CHECK_ERROR(r, 400, "cursor_invalid", "cursor");
		}
		resp_free(&p);
	}
	/* Not found. */
	http_get(&r, A.key, "/api/v1/agents/" ABSENT_AGENT "/messages");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, A.key, "/api/v1/runs/" ABSENT_RUN "/messages");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, A.key, "/api/v1/runs/%s/messages", agent);
	CHECK_ERROR(r, 404, "not_found", NULL);

	/* Another account never sees them: 404 on A's agent and runs, nothing in its own lists. */
	http_get(&r, B.key, "/api/v1/agents/%s/messages", agent);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, B.key, "/api/v1/runs/%s/messages", run1);
	CHECK_ERROR(r, 404, "not_found", NULL);
	char theirs[64], theirs_hook[64], their_run[64];
	if (echo_agent(B.key, "messages-b", theirs, theirs_hook) == 0 &&
	    CHECK(insert_run(B.account, theirs, "succeeded", "signal", NULL, their_run) == 0)) {
		/* B's own agent and run: empty lists, none of A's messages. */
		http_get(&r, B.key, "/api/v1/agents/%s/messages", theirs);
		CHECK_STATUS(r, 200);
		CHECK(json_array_size(jget(r.json, "data")) == 0);
		http_get(&r, B.key, "/api/v1/runs/%s/messages", their_run);
		CHECK_STATUS(r, 200);
		CHECK(json_array_size(jget(r.json, "data")) == 0);
		/* And A cannot read B's run's messages. */
		http_get(&r, A.key, "/api/v1/runs/%s/messages", their_run);
		CHECK_ERROR(r, 404, "not_found", NULL);
	}
	/* Read-only. */
	http_call(&r, "POST", A.key, "{\"content\":\"x\"}", "/api/v1/agents/%s/messages", agent);
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
out:
	resp_free(&r);
}

int suite_signals_register(void)
{
	CU_pSuite s = CU_add_suite("signals", init, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "POST /agents/{id}/signals: 202, rows in MariaDB", test_signal_create) ||
	    !CU_add_test(s, "POST /agents/{id}/signals: each 422, 400, 415", test_signal_validation) ||
	    !CU_add_test(s, "signals: paused 409, deleted, unknown, foreign 404", test_signal_agent_states) ||
	    !CU_add_test(s, "signals: queued-run quota 429", test_signal_queue_full) ||
	    !CU_add_test(s, "scopes: signals:write, runs:read, agents:read, agents:write", test_signal_scopes) ||
	    !CU_add_test(s, "Idempotency-Key on signals", test_idempotency_signals) ||
	    !CU_add_test(s, "Idempotency-Key on POST /agents and rotate", test_idempotency_agents) ||
	    !CU_add_test(s, "inbound webhook: URL once, any JSON, errors", test_hook_basics) ||
	    !CU_add_test(s, "inbound webhook: rotate, signed (Standard Webhooks)", test_hook_rotate_and_sign) ||
	    !CU_add_test(s, "inbound webhook: a signed hook without its key version fails closed",
			 test_hook_missing_key_version) ||
	    !CU_add_test(s, "inbound webhook: per-agent rate limit", test_hook_rate_limit) ||
	    !CU_add_test(s, "runs: GET one, list, filter, pagination, 404s", test_runs) ||
	    !CU_add_test(s, "deleting an agent cancels its queued runs", test_delete_cancels_runs) ||
	    !CU_add_test(s, "display messages: order, pagination, isolation", test_messages))
		return -1;
	return 0;
}
