/* test_deliveries: outbound webhook deliveries to a local receiver: Standard Webhooks headers that verify with
 * the endpoint's secret, the run.failed body, retries with the same webhook-id, 410 disabling the endpoint,
 * repeated failed deliveries disabling it, the deliveries listing and redelivery. Traffic stays on 127.0.0.1. */
#include "e2e.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bounded waits, in seconds: generous for a loaded machine under ASan; never a timing assertion. */
#define WAIT_SECS 60
#define MAX_SEEN 256

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T;

/* ---- the receiver: POST /ok -> 200, /flaky -> 500 twice then 200, /gone -> 410, /fail -> 500 ---- */

struct seen {
	char path[64], id[128], ts[64], sig[512], ctype[128];
	char *body;
};

static struct {
	int fd, port;
	volatile int stop;
	pthread_t thread;
	pthread_mutex_t mu;
	struct seen seen[MAX_SEEN];
	int n, flaky;
} RX = {.fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

/* The value of header NAME in the header block HEAD (NUL-terminated), into OUT. */
static void header(const char *head, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	out[0] = '\0';
	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		const char *l = p + 2;
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			l += nl + 1;
			while (*l == ' ')
				l++;
			const char *e = strstr(l, "\r\n");
			size_t n = e ? (size_t)(e - l) : strlen(l);
			snprintf(out, outlen, "%.*s", (int)n, l);
			return;
		}
	}
}

static void serve(int c)
{
	char buf[65536];
	size_t got = 0;
	char *end = NULL;
	while (got < sizeof buf - 1 && !(end = strstr(buf, "\r\n\r\n"))) {
		ssize_t k = recv(c, buf + got, sizeof buf - 1 - got, 0);
		if (k <= 0)
			return;
		got += (size_t)k;
		buf[got] = '\0';
	}
	if (!end)
		return;
	*end = '\0';
	char clen[32];
	header(buf, "Content-Length", clen, sizeof clen);
	size_t want = (size_t)strtoul(clen, NULL, 10), have = got - (size_t)(end + 4 - buf);
	while (have < want && got < sizeof buf - 1) {
		ssize_t k = recv(c, buf + got, sizeof buf - 1 - got, 0);
		if (k <= 0)
			return;
		got += (size_t)k;
		have += (size_t)k;
	}
	struct seen s = {0};
	sscanf(buf, "POST %63s", s.path);
	header(buf, "webhook-id", s.id, sizeof s.id);
	header(buf, "webhook-timestamp", s.ts, sizeof s.ts);
	header(buf, "webhook-signature", s.sig, sizeof s.sig);
	header(buf, "Content-Type", s.ctype, sizeof s.ctype);
	s.body = strndup(end + 4, want);
	int status = 200;
	pthread_mutex_lock(&RX.mu);
	if (strcmp(s.path, "/gone") == 0)
		status = 410;
	else if (strcmp(s.path, "/fail") == 0)
		status = 500;
	else if (strcmp(s.path, "/flaky") == 0 && RX.flaky++ < 2)
		status = 500;
	if (RX.n < MAX_SEEN)
		RX.seen[RX.n++] = s;
	else
		free(s.body);
	pthread_mutex_unlock(&RX.mu);
	char out[256];
	int n = snprintf(out, sizeof out, "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status);
	(void)!send(c, out, (size_t)n, MSG_NOSIGNAL);
}

static void *rx_loop(void *arg)
{
	(void)arg;
	while (!RX.stop) {
		struct pollfd p = {RX.fd, POLLIN, 0};
		if (poll(&p, 1, 100) <= 0)
			continue;
		int c = accept(RX.fd, NULL, NULL);
		if (c < 0)
			continue;
		struct timeval tv = {5, 0};
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		serve(c);
		close(c);
	}
	return NULL;
}

static int rx_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	RX.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (RX.fd < 0 || bind(RX.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(RX.fd, 16) != 0 ||
	    getsockname(RX.fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	RX.port = ntohs(a.sin_port);
	return pthread_create(&RX.thread, NULL, rx_loop, NULL) == 0 ? 0 : -1;
}

/* Copies of the requests received on PATH so far into OUT (at most MAX; bodies are the receiver's). */
static int rx_seen(const char *path, struct seen *out, int max)
{
	int k = 0;
	pthread_mutex_lock(&RX.mu);
	for (int i = 0; i < RX.n && k < max; i++)
		if (strcmp(RX.seen[i].path, path) == 0)
			out[k++] = RX.seen[i];
	pthread_mutex_unlock(&RX.mu);
	return k;
}

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits until PATH has received at least N requests; returns how many it has. */
static int rx_wait(const char *path, int n, struct seen *out, int max)
{
	int k = 0;
	for (int i = 0; i < WAIT_SECS * 10 && (k = rx_seen(path, out, max)) < n; i++)
		nap(100);
	return k;
}

/* ---- Standard Webhooks verification, done here with OpenSSL (independent of the server's code) ---- */

static int verify(const char *secret, const struct seen *s)
{
	unsigned char key[64], mac[EVP_MAX_MD_SIZE];
	char b64[128], want[140];
	if (strncmp(secret, "whsec_", 6) != 0)
		return 0;
	const char *k64 = secret + 6;
	int kl = EVP_DecodeBlock(key, (const unsigned char *)k64, (int)strlen(k64));
	if (kl < 0)
		return 0;
	for (const char *p = k64 + strlen(k64); p > k64 && p[-1] == '='; p--)
		kl--;
	size_t n = strlen(s->id) + strlen(s->ts) + strlen(s->body) + 3;
	char *msg = malloc(n);
	snprintf(msg, n, "%s.%s.%s", s->id, s->ts, s->body);
	unsigned int ml = 0;
	HMAC(EVP_sha256(), key, kl, (const unsigned char *)msg, strlen(msg), mac, &ml);
	free(msg);
	EVP_EncodeBlock((unsigned char *)b64, mac, (int)ml);
	snprintf(want, sizeof want, "v1,%s", b64);
	char sigs[512];
	snprintf(sigs, sizeof sigs, "%s", s->sig);
	for (char *save = NULL, *t = strtok_r(sigs, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (strcmp(t, want) == 0)
			return 1;
	return 0;
}

/* ---- helpers on the API ---- */

/* Creates an endpoint for PATH on the receiver subscribed to EVENTS (a JSON array); id and secret into ID and
 * SECRET (64 bytes each). */
static int endpoint(const char *path, const char *events, char *id, char *secret)
{
	struct resp r = {0};
	char body[512];
	snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:%d%s\",\"events\":%s}", RX.port, path, events);
	id[0] = secret[0] = '\0';
	http_call(&r, "POST", T.key, body, "/api/v1/webhooks");
	if (CHECK_STATUS(r, 201) && jstr(r.json, "data.id") &&
	    jstr(r.json, "data.secret")) {
		snprintf(id, 64, "%s", jstr(r.json, "data.id"));
		snprintf(secret, 64, "%s", jstr(r.json, "data.secret"));
	}
	resp_free(&r);
	return CHECK(id[0] && secret[0]);
}

/* A new http_request agent aimed at port 1 of loopback (nothing listens there) and one run of it, which fails;
 * the run id into RUN, its JSON (GET /runs/{id}) into *DATA (caller decrefs). */
static int failed_run(const char *name, char *run, json_t **data)
{
	struct resp r = {0};
	char body[512], agent[64] = "";
	run[0] = '\0';
	*data = NULL;
	snprintf(body, sizeof body,
		 "{\"name\":\"%s\",\"type\":\"http_request\",\"config\":{\"url\":\"http://127.0.0.1:1/\",\"timeout_seconds\":5}}",
		 name);
	if (http_call(&r, "POST", T.key, body, "/api/v1/agents") == 201 && jstr(r.json, "data.id"))
		snprintf(agent, sizeof agent, "%s", jstr(r.json, "data.id"));
	if (agent[0] && http_call(&r, "POST", T.key, "{\"type\":\"go\",\"payload\":{}}", "/api/v1/agents/%s/signals",
				  agent) == 202 && jstr(r.json, "data.run_id"))
		snprintf(run, 64, "%s", jstr(r.json, "data.run_id"));
	for (int i = 0; run[0] && i < WAIT_SECS * 10; i++) {
		if (http_get(&r, T.key, "/api/v1/runs/%s", run) == 200 && jstr(r.json, "data.status") &&
		    strcmp(jstr(r.json, "data.status"), "failed") == 0) {
			*data = json_incref(jget(r.json, "data"));
			break;
		}
		nap(100);
	}
	resp_free(&r);
	return CHECK(*data != NULL);
}

/* The deliveries of endpoint ID once the one of EVENT_ID has reached STATUS; that one into *OUT (decref). */
static int delivery_when(const char *id, const char *event_id, const char *status, json_t **out)
{
	struct resp r = {0};
	*out = NULL;
	for (int i = 0; i < WAIT_SECS * 10 && !*out; i++) {
		if (http_get(&r, T.key, "/api/v1/webhooks/%s/deliveries", id) == 200) {
			size_t k;
			json_t *e;
			json_array_foreach(jget(r.json, "data"), k, e)
			{
				if (jstr(e, "event_id") && strcmp(jstr(e, "event_id"), event_id) == 0 && jstr(e, "status") &&
				    strcmp(jstr(e, "status"), status) == 0)
					*out = json_incref(e);
			}
		}
		if (!*out)
			nap(100);
	}
	resp_free(&r);
	return CHECK(*out != NULL);
}

/* ---- tests ---- */

static int init(void)
{
	if (e2e_tenant(&T, "deliveries", "all", GENEROUS) != 0)
		return -1;
	return rx_start();
}

static int cleanup(void)
{
	RX.stop = 1;
	if (RX.fd >= 0) {
		pthread_join(RX.thread, NULL);
		close(RX.fd);
	}
	for (int i = 0; i < RX.n; i++)
		free(RX.seen[i].body);
	return 0;
}

static void test_run_failed(void)
{
	char id[64], secret[64], run[64];
	json_t *data = NULL, *dlv = NULL;
	struct seen s[8];
	struct resp r = {0};
	if (!endpoint("/ok", "[\"run.failed\"]", id, secret) || !failed_run("Deliveries unreachable", run, &data))
		goto out;
	if (!CHECK(rx_wait("/ok", 1, s, 8) >= 1))
		goto out;
	/* Nothing else it is subscribed to happens: exactly one POST, also a moment later. */
	nap(2500);
	CHECK(rx_seen("/ok", s, 8) == 1);
	CHECK(e2e_is_id(s[0].id, "evt_"));
	CHECK_STR(s[0].ctype, "application/json");
	long long ts = 0;
	CHECK(e2e_parse_long(s[0].ts, &ts) == 0 && llabs(ts - (long long)time(NULL)) <= 300);
	CHECK(verify(secret, &s[0]));
	CHECK(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &s[0]));
	json_t *body = json_loads(s[0].body, 0, NULL);
	CHECK_STR(jstr(body, "type"), "run.failed");
	CHECK(e2e_is_timestamp(jstr(body, "timestamp")));
	CHECK_STR(jstr(body, "data.id"), run);
	CHECK(json_equal(jget(body, "data"), data)); /* the run as GET /runs/{id} shows it */
	json_decref(body);

	/* The listing: succeeded on the first attempt. */
	if (delivery_when(id, s[0].id, "succeeded", &dlv)) {
		CHECK(json_integer_value(jget(dlv, "attempts")) == 1);
		CHECK(json_integer_value(jget(dlv, "last_status_code")) == 200);
		CHECK_STR(jstr(dlv, "event_type"), "run.failed");
		CHECK(e2e_is_timestamp(jstr(dlv, "delivered_at")));
		/* Redelivery: the same webhook-id and body, a fresh signature that verifies. */
		if (CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/%s/deliveries/%s/redeliver", id,
				    jstr(dlv, "id")) == 200) &&
		    CHECK(rx_wait("/ok", 2, s, 8) == 2)) {
			CHECK_STR(s[1].id, s[0].id);
			CHECK_STR(s[1].body, s[0].body);
			CHECK(verify(secret, &s[1]));
		}
	}
out:
	json_decref(data);
	json_decref(dlv);
	resp_free(&r);
}

static void test_retries(void)
{
	char id[64], secret[64], run[64];
	json_t *data = NULL, *dlv = NULL;
	struct seen s[8];
	if (!endpoint("/flaky", "[\"run.failed\"]", id, secret) || !failed_run("Deliveries flaky", run, &data))
		goto out;
	/* 500, 500, then 200: three attempts, one webhook-id, the same bytes, each signature valid. */
	if (!CHECK(rx_wait("/flaky", 3, s, 8) >= 3))
		goto out;
	for (int i = 0; i < 3; i++) {
		CHECK_STR(s[i].id, s[0].id);
		CHECK_STR(s[i].body, s[0].body);
		CHECK(verify(secret, &s[i]));
	}
	if (delivery_when(id, s[0].id, "succeeded", &dlv)) {
		CHECK(json_integer_value(jget(dlv, "attempts")) == 3);
		CHECK(json_integer_value(jget(dlv, "last_status_code")) == 200);
	}
	nap(1500);
	CHECK(rx_seen("/flaky", s, 8) == 3);
out:
	json_decref(data);
	json_decref(dlv);
}

static void test_gone(void)
{
	char id[64], secret[64], run[64];
	json_t *data = NULL, *dlv = NULL;
	struct seen s[8];
	struct resp r = {0};
	if (!endpoint("/gone", "[\"*\"]", id, secret) || !failed_run("Deliveries gone", run, &data))
		goto out;
	if (!CHECK(rx_wait("/gone", 1, s, 8) >= 1))
		goto out;
	if (delivery_when(id, s[0].id, "failed", &dlv)) {
		CHECK(json_integer_value(jget(dlv, "attempts")) == 1);
		CHECK(json_integer_value(jget(dlv, "last_status_code")) == 410);
		CHECK(jstr(dlv, "last_error") != NULL);
	}
	if (CHECK(http_get(&r, T.key, "/api/v1/webhooks/%s", id) == 200)) {
		CHECK(json_is_false(jget(r.json, "data.enabled")));
		CHECK(jstr(r.json, "data.disabled_reason") != NULL);
	}
	/* The account is told, once. */
	int found = 0;
	for (int i = 0; i < WAIT_SECS * 5 && !found; i++) {
		if (http_get(&r, T.key, "/api/v1/notifications?type=webhook.disabled") == 200)
			found = (int)json_array_size(jget(r.json, "data"));
		if (!found)
			nap(200);
	}
	CHECK(found == 1);
	/* Disabled: nothing more arrives (the run's own run.started, notification.created, ... were pending). */
	nap(2000);
	CHECK(rx_seen("/gone", s, 8) == 1);
out:
	json_decref(data);
	json_decref(dlv);
	resp_free(&r);
}

/* The endpoint's reason once it is disabled (NULL: still enabled after the wait), in R. */
static const char *disabled_reason(const char *id, struct resp *r)
{
	for (int i = 0; i < WAIT_SECS * 5; i++) {
		if (http_get(r, T.key, "/api/v1/webhooks/%s", id) == 200 && json_is_false(jget(r->json, "data.enabled")))
			return jstr(r->json, "data.disabled_reason");
		nap(200);
	}
	return NULL;
}

static void test_repeated_failures(void)
{
	char id[64], secret[64], run[64];
	json_t *data = NULL;
	struct seen s[MAX_SEEN];
	struct resp r = {0};
	/* Every event of two failed runs (run.started, run.failed, notification.created twice, ...): more than
	 * webhook_disable_after_failures (5) deliveries, each failing all of its attempts (1 + 3 retries). */
	if (!endpoint("/fail", "[\"*\"]", id, secret) || !failed_run("Deliveries failing 1", run, &data))
		goto out;
	json_decref(data);
	data = NULL;
	if (!failed_run("Deliveries failing 2", run, &data))
		goto out;
	const char *why = disabled_reason(id, &r);
	if (CHECK(why != NULL))
		CHECK(strstr(why, "5 consecutive deliveries failed") != NULL);
	/* Each failed delivery got its 4 attempts; then nothing more arrives. */
	nap(2500);
	int n = rx_seen("/fail", s, MAX_SEEN);
	CHECK(n >= 5 * 4);
	nap(2000);
	CHECK(rx_seen("/fail", s, MAX_SEEN) == n);
	/* The notification names the endpoint's URL. */
	int found = 0;
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/fail", RX.port);
	if (CHECK(http_get(&r, T.key, "/api/v1/notifications?type=webhook.disabled") == 200)) {
		size_t k;
		json_t *e;
		json_array_foreach(jget(r.json, "data"), k, e) found += jstr(e, "body") && strstr(jstr(e, "body"), url);
	}
	CHECK(found == 1);
out:
	json_decref(data);
	resp_free(&r);
}

/* GET /usage counts the account's finished deliveries by status (compared with the table; deliveries may still
 * be retrying, so the two reads are repeated until they agree, bounded). */
static void test_usage_counts(void)
{
	struct resp r = {0};
	int agreed = 0;
	for (int i = 0; i < 20 && !agreed; i++) {
		struct rows x = {0};
		long n = e2e_sql(&x, "SELECT COUNT(IF(status = 'succeeded', 1, NULL)), COUNT(IF(status = 'failed', 1, NULL)) "
				     "FROM webhook_deliveries WHERE account_id = ?",
				 (const char *[]){T.account, NULL});
		if (n == 1 && http_get(&r, T.key, "/api/v1/usage") == 200) {
			long long ok = strtoll(x.cell[0][0], NULL, 10), failed = strtoll(x.cell[0][1], NULL, 10);
			json_t *t = jget(r.json, "data.totals.webhook_deliveries");
			agreed = ok > 0 && failed > 0 && json_integer_value(jget(t, "succeeded")) == ok &&
				 json_integer_value(jget(t, "failed")) == failed;
		}
		rows_free(&x);
		if (!agreed) {
			struct timespec half = {0, 500 * 1000 * 1000};
			nanosleep(&half, NULL);
		}
	}
	CHECK(agreed);
	resp_free(&r);
}

int suite_deliveries_register(void)
{
	CU_pSuite s = CU_add_suite("deliveries", init, cleanup);
	if (!s)
		return -1;
	if (!CU_add_test(s, "run.failed: one signed POST that verifies, listed, redelivered with the same id",
			 test_run_failed) ||
	    !CU_add_test(s, "500 twice then 200: the third attempt, the same webhook-id and body", test_retries) ||
	    !CU_add_test(s, "410: the endpoint is disabled at once, with a notification", test_gone) ||
	    !CU_add_test(s, "5 failed deliveries in a row disable the endpoint, with a notification",
			 test_repeated_failures) ||
	    !CU_add_test(s, "usage counts the finished deliveries", test_usage_counts))
		return -1;
	return 0;
}
