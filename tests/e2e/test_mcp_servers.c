/* test_mcp_servers: /api/v1/mcp-servers — CRUD, validation, quota, isolation, scopes; discovery by the scheduler
 * against a real MCP server (tests/mcp-fake: the official SDK, started here with node on 127.0.0.1) over SSE and
 * JSON answers, a session forgotten mid-conversation, a bearer credential, an unreachable port, an SSE answer
 * written a few bytes at a time; refresh; the last good tools kept after a failed discovery; and mcp_tool agent
 * runs end to end (text, structured content, images, isError, 2,000 content blocks, revoked credential, gone
 * server). */
#include "e2e.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AP_E2E_SRCDIR
#define AP_E2E_SRCDIR "."
#endif

#define FAKE_TOKEN "mcp-fake-token-0123456789"
#define WAIT_S 20

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T, OTHER, QUOTA, NOSCOPE;
static pid_t fake_pid;
static int fake_port, dead_port;
static char base[128]; /* http://127.0.0.1:PORT */

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A port nothing listens on right now (bound, then released). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int port_open(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Starts node tests/mcp-fake/server.mjs on a free port and waits (up to 20 s) until it accepts connections. */
static int start_fake(void)
{
	const char *dir = getenv("AP_MCP_FAKE_DIR");
	char script[1024], port_s[16];
	snprintf(script, sizeof script, "%s/server.mjs", dir && *dir ? dir : AP_E2E_SRCDIR "/tests/mcp-fake");
	fake_port = free_port();
	dead_port = free_port();
	if (fake_port <= 0 || dead_port <= 0 || access(script, R_OK) != 0) {
		fprintf(stderr, "mcp_servers: no free port or no %s\n", script);
		return -1;
	}
	snprintf(port_s, sizeof port_s, "%d", fake_port);
	fflush(NULL);
	fake_pid = fork();
	if (fake_pid < 0)
		return -1;
	if (fake_pid == 0) {
		execlp("node", "node", script, "--port", port_s, "--token", FAKE_TOKEN, (char *)NULL);
		fprintf(stderr, "mcp_servers: cannot run node: %s\n", strerror(errno));
		_exit(127);
	}
	snprintf(base, sizeof base, "http://127.0.0.1:%d", fake_port);
	for (int i = 0; i < 200; i++) {
		if (port_open(fake_port))
			return 0;
		int st;
		if (waitpid(fake_pid, &st, WNOHANG) == fake_pid) {
			fake_pid = 0;
			fprintf(stderr, "mcp_servers: the MCP server exited (did tests/run install tests/mcp-fake?)\n");
			return -1;
		}
		nap(100);
	}
	fprintf(stderr, "mcp_servers: the MCP server did not listen on port %d\n", fake_port);
	return -1;
}

/* GET /stats of the fake (plain HTTP/1.0 on a socket: not an API call, so not recorded for the spec check). */
#define STATS_REQUEST "GET /stats HTTP/1.0\r\n\r\n"

static json_t *fake_stats(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)fake_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char buf[4096];
	size_t len = 0;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    write(fd, STATS_REQUEST, sizeof STATS_REQUEST - 1) != (ssize_t)(sizeof STATS_REQUEST - 1)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	ssize_t n;
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	const char *body = strstr(buf, "\r\n\r\n");
	return body ? json_loads(body + 4, 0, NULL) : NULL;
}

static int init(void)
{
	if (e2e_tenant(&T, "mcp", "all", GENEROUS) != 0 || e2e_tenant(&OTHER, "mcp-other", "all", GENEROUS) != 0 ||
	    e2e_tenant(&QUOTA, "mcp-quota", "mcp:read mcp:write", GENEROUS) != 0 ||
	    e2e_tenant(&NOSCOPE, "mcp-noscope", "agents:read", GENEROUS) != 0)
		return -1;
	return start_fake();
}

static int cleanup(void)
{
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
		fake_pid = 0;
	}
	return 0;
}

static char *vfmt(const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	char *s = malloc((size_t)n + 1);
	if (!s)
		abort();
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* POSTs the printf-built BODY to PATH as KEY expecting 201; the new id into ID (64 bytes). 1 on success. */
static int create(const char *key, const char *path, char *id, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int create(const char *key, const char *path, char *id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *body = vfmt(fmt, ap);
	va_end(ap);
	struct resp r = {0};
	http_call(&r, "POST", key, body, "%s", path);
	id[0] = '\0';
	int ok = CHECK_STATUS(r, 201) && jstr(r.json, "data.id");
	if (ok)
		snprintf(id, 64, "%s", jstr(r.json, "data.id"));
	else
		fprintf(stderr, "POST %s %s -> %ld %s\n", path, body, r.status, r.body);
	resp_free(&r);
	free(body);
	return ok;
}

/* An MCP server of T at the fake's PATH ("/mcp", "/mcp-json", ...) with CREDENTIAL (NULL: none). */
static int make_server(const char *path, const char *credential, char *id)
{
	if (credential)
		return create(T.key, "/api/v1/mcp-servers", id, "{\"name\":\"fake %s\",\"url\":\"%s%s\",\"credential_id\":\"%s\"}",
			      path, base, path, credential);
	return create(T.key, "/api/v1/mcp-servers", id, "{\"name\":\"fake %s\",\"url\":\"%s%s\"}", path, base, path);
}

static int make_token(const char *key, const char *token, char *id)
{
	return create(key, "/api/v1/credentials", id,
		      "{\"name\":\"mcp token\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"%s\"}}", token);
}

/* Polls server ID until its status is no longer unchecked (up to WAIT_S); R holds the last answer. */
static int discovered(const char *id, struct resp *r)
{
	for (int i = 0; i < WAIT_S * 10; i++) {
		if (http_get(r, T.key, "/api/v1/mcp-servers/%s", id) == 200 && jstr(r->json, "data.status") &&
		    strcmp(jstr(r->json, "data.status"), "unchecked") != 0)
			return 1;
		nap(100);
	}
	return 0;
}

/* The server as the API shows it: exactly the documented members. */
static int check_server(const json_t *s, const char *file, int line)
{
	const char *st = jstr(s, "status");
	int ok = json_is_object(s) && json_object_size(s) == 12 && e2e_is_id(jstr(s, "id"), "mcp_") && jstr(s, "name") &&
		 jstr(s, "url") && jstr(s, "transport") && strcmp(jstr(s, "transport"), "streamable_http") == 0 &&
		 jget(s, "credential_id") && json_is_boolean(jget(s, "enabled")) && st &&
		 (strcmp(st, "unchecked") == 0 || strcmp(st, "ok") == 0 || strcmp(st, "error") == 0) &&
		 jget(s, "last_error") && json_is_array(jget(s, "tools")) && jget(s, "last_checked_at") &&
		 e2e_is_timestamp(jstr(s, "created_at")) && e2e_is_timestamp(jstr(s, "updated_at"));
	char *dump = s ? json_dumps(s, JSON_COMPACT) : NULL;
	e2e_check(ok, file, line, "mcp server: %.600s", dump ? dump : "(null)");
	free(dump);
	return ok;
}
#define CHECK_SERVER(s) check_server((s), __FILE__, __LINE__)

/* Waits for server ID's discovery and checks it ended as WANT (ok: the fake's five tools; error: a first
 * discovery that failed, so no tools). */
static int discovered_as(const char *id, const char *want, struct resp *r, const char *file, int line)
{
	int done = discovered(id, r);
	if (!e2e_check(done, file, line, "server %s still unchecked after %d s: %s", id, WAIT_S, r->body) ||
	    !e2e_check_str(jstr(r->json, "data.status"), want, "data.status", file, line))
		return 0;
	check_server(jget(r->json, "data"), file, line);
	e2e_check(e2e_is_timestamp(jstr(r->json, "data.last_checked_at")), file, line, "last_checked_at");
	if (strcmp(want, "ok") == 0)
		return e2e_check(json_array_size(jget(r->json, "data.tools")) == 5 && json_is_null(jget(r->json, "data.last_error")),
				 file, line, "five tools, no error: %.600s", r->body);
	return e2e_check(json_array_size(jget(r->json, "data.tools")) == 0 && jstr(r->json, "data.last_error"), file, line,
			 "no tools, an error: %.600s", r->body);
}
#define DISCOVERED_AS(id, want, r) discovered_as((id), (want), &(r), __FILE__, __LINE__)

static void test_crud(void)
{
	struct resp r = {0};
	char body[512];
	snprintf(body, sizeof body, "{\"name\":\"Fake\",\"url\":\"%s/mcp\",\"transport\":\"streamable_http\"}", base);
	http_call(&r, "POST", T.key, body, "/api/v1/mcp-servers");
	CHECK_STATUS(r, 201);
	CHECK_SERVER(jget(r.json, "data"));
	char id[64];
	snprintf(id, sizeof id, "%s", jstr(r.json, "data.id") ? jstr(r.json, "data.id") : "");
	CHECK_STR(jstr(r.json, "data.status"), "unchecked");
	CHECK(json_is_null(jget(r.json, "data.credential_id")));
	CHECK(json_is_true(jget(r.json, "data.enabled")));
	CHECK(json_array_size(jget(r.json, "data.tools")) == 0);
	CHECK(json_is_null(jget(r.json, "data.last_checked_at")));
	char loc[256];
	snprintf(loc, sizeof loc, "/api/v1/mcp-servers/%s", id);
	CHECK(resp_header(&r, "Location") && strstr(resp_header(&r, "Location"), loc));

	/* The scheduler discovers it: three pages of tools/list over SSE answers. */
	if (DISCOVERED_AS(id, "ok", r)) {
		json_t *tools = jget(r.json, "data.tools");
		CHECK_STR(jstr(json_array_get(tools, 0), "name"), "echo");
		CHECK_STR(jstr(json_array_get(tools, 0), "description"), "Answers with the text it is given");
		CHECK_STR(jstr(json_array_get(tools, 0), "input_schema.properties.text.type"), "string");
		CHECK_STR(jstr(json_array_get(tools, 4), "name"), "lorem");
		CHECK(json_object_size(json_array_get(tools, 1)) == 3);
	}

	/* List, with pagination. */
	char second[64];
	if (make_server("/mcp-json", NULL, second)) {
		http_get(&r, T.key, "/api/v1/mcp-servers?limit=1");
		CHECK_STATUS(r, 200);
		CHECK(json_array_size(jget(r.json, "data")) == 1);
		CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), second);
		CHECK(json_is_true(jget(r.json, "has_more")));
		const char *cur = jstr(r.json, "next_cursor");
		char cursor[256];
		snprintf(cursor, sizeof cursor, "%s", cur ? cur : "");
		http_get(&r, T.key, "/api/v1/mcp-servers?limit=1&cursor=%s", cursor);
		CHECK_STATUS(r, 200);
		CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), id);
		CHECK_SERVER(json_array_get(jget(r.json, "data"), 0));
	}

	/* A rename keeps the discovery; a new URL asks for another one (JSON answers this time). */
	http_call(&r, "PATCH", T.key, "{\"name\":\"Renamed\"}", "/api/v1/mcp-servers/%s", id);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.name"), "Renamed");
	CHECK_STR(jstr(r.json, "data.status"), "ok");
	snprintf(body, sizeof body, "{\"url\":\"%s/mcp-json\"}", base);
	http_call(&r, "PATCH", T.key, body, "/api/v1/mcp-servers/%s", id);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.status"), "unchecked");
	CHECK(json_array_size(jget(r.json, "data.tools")) == 5); /* kept until the next discovery */
	if (DISCOVERED_AS(id, "ok", r)) {
		char url[160];
		snprintf(url, sizeof url, "%s/mcp-json", base);
		CHECK_STR(jstr(r.json, "data.url"), url);
		CHECK_STR(jstr(r.json, "data.name"), "Renamed");
	}

	/* Disabling makes it unchecked and it is never contacted while disabled; refresh then conflicts. */
	http_call(&r, "PATCH", T.key, "{\"enabled\":false}", "/api/v1/mcp-servers/%s", id);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.status"), "unchecked");
	http_call(&r, "POST", T.key, NULL, "/api/v1/mcp-servers/%s/refresh", id);
	CHECK_ERROR(r, 409, "state_conflict", NULL);
	http_call(&r, "PATCH", T.key, "{\"enabled\":true}", "/api/v1/mcp-servers/%s", id);
	CHECK_STATUS(r, 200);
	DISCOVERED_AS(id, "ok", r);

	/* Refresh: 202 with the server unchecked, then ok again. */
	http_call(&r, "POST", T.key, NULL, "/api/v1/mcp-servers/%s/refresh", id);
	CHECK_STATUS(r, 202);
	CHECK_SERVER(jget(r.json, "data"));
	CHECK_STR(jstr(r.json, "data.status"), "unchecked");
	DISCOVERED_AS(id, "ok", r);
	http_call(&r, "POST", T.key, "{\"force\":true}", "/api/v1/mcp-servers/%s/refresh", id);
	CHECK_ERROR(r, 422, "parameter_unknown", "force");

	/* Audited: create, update, refresh, delete. */
	const char *p[] = {id, NULL};
	struct rows rows;
	if (e2e_sql(&rows, "SELECT action FROM audit_logs WHERE target_id = ? ORDER BY id", p) >= 0) {
		CHECK(rows.n >= 5);
		CHECK(rows.n > 0 && strcmp(rows.cell[0][0], "mcp_server.created") == 0);
		int refreshed = 0;
		for (int i = 0; i < rows.n; i++)
			refreshed += strcmp(rows.cell[i][0], "mcp_server.refreshed") == 0;
		CHECK(refreshed == 1);
	}
	rows_free(&rows);

	http_call(&r, "DELETE", T.key, NULL, "/api/v1/mcp-servers/%s", id);
	CHECK_STATUS(r, 204);
	http_get(&r, T.key, "/api/v1/mcp-servers/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/mcp-servers/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", T.key, NULL, "/api/v1/mcp-servers/%s/refresh", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	resp_free(&r);
}

static int run_once(const char *agent, char *run, struct resp *r);
static void run_messages(const char *run, char *out, size_t outlen);
static int make_tool_agent(const char *server, const char *tool, const char *args, char *agent);

/* The hand-written SSE server at PATH (tests/mcp-fake: one tool, echo) is discovered, and a run calling echo
 * with TEXT shows TEXT. */
static void stream_server_works(const char *path, const char *text)
{
	struct resp r = {0};
	char id[64], agent[64], run[64], msgs[256], args[160];
	if (make_server(path, NULL, id) && discovered(id, &r) && CHECK_STR(jstr(r.json, "data.status"), "ok")) {
		CHECK(json_array_size(jget(r.json, "data.tools")) == 1);
		snprintf(args, sizeof args, "{\"text\":\"%s\"}", text);
		if (make_tool_agent(id, "echo", args, agent) && run_once(agent, run, &r)) {
			CHECK_STR(jstr(r.json, "data.status"), "succeeded");
			run_messages(run, msgs, sizeof msgs);
			CHECK_STR(msgs, text);
		}
	}
	resp_free(&r);
}

static void test_discovery(void)
{
	struct resp r = {0};
	char id[64], cred[64], wrong[64];

	/* The server forgets the session at the first request after initialize: the client starts a new one. */
	if (make_server("/mcp-forget", NULL, id))
		DISCOVERED_AS(id, "ok", r);

	/* A bearer token is required there: none -> error, the right credential -> ok, a wrong one -> error. */
	if (make_server("/mcp-auth", NULL, id) && DISCOVERED_AS(id, "error", r))
		CHECK(strstr(jstr(r.json, "data.last_error"), "HTTP 401") != NULL);
	if (make_token(T.key, FAKE_TOKEN, cred) && make_server("/mcp-auth", cred, id) && DISCOVERED_AS(id, "ok", r))
		CHECK_STR(jstr(r.json, "data.credential_id"), cred);
	if (make_token(T.key, "not-the-token-0123456789", wrong) && make_server("/mcp-auth", wrong, id) &&
	    DISCOVERED_AS(id, "error", r)) {
		CHECK(strstr(jstr(r.json, "data.last_error"), "HTTP 401") != NULL);
		CHECK(strstr(jstr(r.json, "data.last_error"), "not-the-token") == NULL);
	}
	/* Switching to the right credential asks for a new discovery. */
	char body[256];
	snprintf(body, sizeof body, "{\"credential_id\":\"%s\"}", cred);
	http_call(&r, "PATCH", T.key, body, "/api/v1/mcp-servers/%s", id);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.status"), "unchecked");
	DISCOVERED_AS(id, "ok", r);
	/* A failed discovery keeps the tools of the last good one (status and last_error say they are not current). */
	snprintf(body, sizeof body, "{\"credential_id\":\"%s\"}", wrong);
	http_call(&r, "PATCH", T.key, body, "/api/v1/mcp-servers/%s", id);
	CHECK_STATUS(r, 200);
	if (CHECK(discovered(id, &r))) {
		CHECK_SERVER(jget(r.json, "data"));
		CHECK_STR(jstr(r.json, "data.status"), "error");
		CHECK(strstr(jstr(r.json, "data.last_error"), "HTTP 401") != NULL);
		CHECK(json_array_size(jget(r.json, "data.tools")) == 5);
	}
	/* The next good discovery replaces them and clears the error. */
	snprintf(body, sizeof body, "{\"credential_id\":\"%s\"}", cred);
	http_call(&r, "PATCH", T.key, body, "/api/v1/mcp-servers/%s", id);
	CHECK_STATUS(r, 200);
	DISCOVERED_AS(id, "ok", r);

	/* Nothing listens: a readable error. */
	snprintf(body, sizeof body, "{\"name\":\"dead\",\"url\":\"http://127.0.0.1:%d/mcp\"}", dead_port);
	if (create(T.key, "/api/v1/mcp-servers", id, "%s", body) && DISCOVERED_AS(id, "error", r))
		CHECK(strstr(jstr(r.json, "data.last_error"), "could not connect") != NULL);

	/* A server that keeps each SSE stream open after the response: the client stops reading at the response
	 * (well within mcp_client_timeout_seconds), and a tool call works the same way. */
	stream_server_works("/mcp-linger", "from a lingering stream");
	/* A server that writes each answer a few bytes at a time, 300 notifications before the response, CRLF line
	 * ends (some cut between CR and LF) and the response's JSON over two data lines. */
	stream_server_works("/mcp-drip", "from a dripping stream");

	/* A server that answers initialize with a version before Streamable HTTP: refused, readably. */
	if (make_server("/mcp-old", NULL, id) && DISCOVERED_AS(id, "error", r))
		CHECK_STR(jstr(r.json, "data.last_error"),
			  "initialize: the server does not speak a protocol version this client supports (2025-11-25)");

	/* A server that accepts the connection and never answers: the discovery ends at
	 * mcp_client_timeout_seconds (3 s on the test stack), with a readable error. */
	int mute = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof sa;
	if (CHECK(mute >= 0 && bind(mute, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(mute, 16) == 0 &&
		  getsockname(mute, (struct sockaddr *)&sa, &salen) == 0)) {
		snprintf(body, sizeof body, "{\"name\":\"mute\",\"url\":\"http://127.0.0.1:%d/mcp\"}", ntohs(sa.sin_port));
		if (create(T.key, "/api/v1/mcp-servers", id, "%s", body) && DISCOVERED_AS(id, "error", r))
			CHECK_STR(jstr(r.json, "data.last_error"), "initialize: request timed out");
	}
	if (mute >= 0)
		close(mute);

	/* Not an MCP endpoint (the fake answers 404 there). */
	snprintf(body, sizeof body, "{\"name\":\"nothing\",\"url\":\"%s/nothing\"}", base);
	if (create(T.key, "/api/v1/mcp-servers", id, "%s", body) && DISCOVERED_AS(id, "error", r))
		CHECK(strstr(jstr(r.json, "data.last_error"), "initialize: the server answered HTTP 404") != NULL);

	/* Every discovery ended its session with DELETE: the SDK server holds none (the forgotten ones it dropped). */
	json_t *stats = fake_stats();
	CHECK(json_is_integer(jget(stats, "sessions")) && json_integer_value(jget(stats, "sessions")) == 0);
	json_decref(stats);
	resp_free(&r);
}

static void test_validation(void)
{
	struct resp r = {0};
	char body[512], cred[64], basic[64], other_cred[64], revoked[64];
	http_call(&r, "POST", T.key, "{\"url\":\"http://127.0.0.1:9/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_missing", "name");
	http_call(&r, "POST", T.key, "{\"name\":\"x\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_missing", "url");
	http_call(&r, "POST", T.key, "{\"name\":\"\",\"url\":\"http://127.0.0.1:9/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "name");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"ftp://127.0.0.1/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "url");
	/* Never allowed, whatever the server settings: unspecified and multicast addresses. */
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://0.0.0.0:80/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "url");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://[ff02::1]/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "url");
	/* Chosen by API clients: even where private addresses are allowed (this stack), only loopback is. */
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://169.254.169.254/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "url");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://10.0.0.1/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "url");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://user:pw@127.0.0.1:9/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "url");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"transport\":\"sse\"}",
		  "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "transport");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"enabled\":\"yes\"}",
		  "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "enabled");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"headers\":{}}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_unknown", "headers");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"status\":\"ok\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_read_only", "status");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"credential_id\":7}",
		  "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "parameter_invalid", "credential_id");
	http_call(&r, "POST", T.key, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"credential_id\":\"cred_nope\"}",
		  "/api/v1/mcp-servers");
	CHECK_ERROR(r, 404, "not_found", "credential_id");

	/* Credentials: another account's is a 404; a revoked one and another type are 422s. */
	if (make_token(OTHER.key, "other-token-0123456789", other_cred)) {
		snprintf(body, sizeof body, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"credential_id\":\"%s\"}",
			 other_cred);
		http_call(&r, "POST", T.key, body, "/api/v1/mcp-servers");
		CHECK_ERROR(r, 404, "not_found", "credential_id");
	}
	if (create(T.key, "/api/v1/credentials", basic,
		   "{\"name\":\"basic\",\"type\":\"basic_auth\",\"secret\":{\"username\":\"u\",\"password\":\"p\"}}")) {
		snprintf(body, sizeof body, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"credential_id\":\"%s\"}", basic);
		http_call(&r, "POST", T.key, body, "/api/v1/mcp-servers");
		CHECK_ERROR(r, 422, "parameter_invalid", "credential_id");
	}
	if (make_token(T.key, "revoked-token-0123456789", revoked)) {
		http_call(&r, "POST", T.key, NULL, "/api/v1/credentials/%s/revoke", revoked);
		CHECK_STATUS(r, 200);
		snprintf(body, sizeof body, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\",\"credential_id\":\"%s\"}",
			 revoked);
		http_call(&r, "POST", T.key, body, "/api/v1/mcp-servers");
		CHECK_ERROR(r, 422, "parameter_invalid", "credential_id");
	}

	/* PATCH: the same rules on the merged document; name and url cannot be removed. */
	char id[64];
	if (make_token(T.key, "patch-token-0123456789", cred) &&
	    create(T.key, "/api/v1/mcp-servers", id, "{\"name\":\"p\",\"url\":\"http://127.0.0.1:9/mcp\",\"enabled\":false}")) {
		http_call(&r, "PATCH", T.key, "{\"name\":null}", "/api/v1/mcp-servers/%s", id);
		CHECK_ERROR(r, 422, "parameter_missing", "name");
		http_call(&r, "PATCH", T.key, "{\"url\":\"http://0.0.0.0/mcp\"}", "/api/v1/mcp-servers/%s", id);
		CHECK_ERROR(r, 422, "parameter_invalid", "url");
		http_call(&r, "PATCH", T.key, "{\"tools\":[]}", "/api/v1/mcp-servers/%s", id);
		CHECK_ERROR(r, 422, "parameter_read_only", "tools");
		snprintf(body, sizeof body, "{\"credential_id\":\"%s\"}", other_cred);
		http_call(&r, "PATCH", T.key, body, "/api/v1/mcp-servers/%s", id);
		CHECK_ERROR(r, 404, "not_found", "credential_id");
		snprintf(body, sizeof body, "{\"credential_id\":\"%s\"}", cred);
		http_call(&r, "PATCH", T.key, body, "/api/v1/mcp-servers/%s", id);
		CHECK_STATUS(r, 200);
		CHECK_STR(jstr(r.json, "data.credential_id"), cred);
		http_call(&r, "PATCH", T.key, "{\"credential_id\":null}", "/api/v1/mcp-servers/%s", id);
		CHECK_STATUS(r, 200);
		CHECK(json_is_null(jget(r.json, "data.credential_id")));
		CHECK(json_is_false(jget(r.json, "data.enabled")));
		CHECK_STR(jstr(r.json, "data.status"), "unchecked");
	}
	resp_free(&r);
}

static void test_quota(void)
{
	struct resp r = {0};
	char id[64], first[64] = "";
	/* Disabled servers: counted, never contacted. */
	for (int i = 0; i < 20; i++) {
		if (!create(QUOTA.key, "/api/v1/mcp-servers", id,
			    "{\"name\":\"q%d\",\"url\":\"http://127.0.0.1:9/mcp\",\"enabled\":false}", i))
			break;
		if (i == 0)
			snprintf(first, sizeof first, "%s", id);
	}
	http_call(&r, "POST", QUOTA.key, "{\"name\":\"q\",\"url\":\"http://127.0.0.1:9/mcp\",\"enabled\":false}",
		  "/api/v1/mcp-servers");
	CHECK_ERROR(r, 422, "limit_exceeded", NULL);
	http_call(&r, "DELETE", QUOTA.key, NULL, "/api/v1/mcp-servers/%s", first);
	CHECK_STATUS(r, 204);
	http_call(&r, "POST", QUOTA.key, "{\"name\":\"q\",\"url\":\"http://127.0.0.1:9/mcp\",\"enabled\":false}",
		  "/api/v1/mcp-servers");
	CHECK_STATUS(r, 201);
	resp_free(&r);
}

static void test_isolation_scopes(void)
{
	struct resp r = {0};
	char id[64];
	if (!create(T.key, "/api/v1/mcp-servers", id, "{\"name\":\"mine\",\"url\":\"http://127.0.0.1:9/mcp\",\"enabled\":false}"))
		return;
	http_get(&r, OTHER.key, "/api/v1/mcp-servers/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "PATCH", OTHER.key, "{\"name\":\"theirs\"}", "/api/v1/mcp-servers/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", OTHER.key, NULL, "/api/v1/mcp-servers/%s/refresh", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "DELETE", OTHER.key, NULL, "/api/v1/mcp-servers/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, OTHER.key, "/api/v1/mcp-servers");
	CHECK_STATUS(r, 200);
	size_t i;
	json_t *s;
	json_array_foreach(jget(r.json, "data"), i, s) CHECK(strcmp(jstr(s, "id"), id) != 0);
	http_get(&r, T.key, "/api/v1/mcp-servers/%s", id);
	CHECK_STR(jstr(r.json, "data.name"), "mine");

	/* Another account's server cannot be named by an agent either. */
	char body[512];
	snprintf(body, sizeof body,
		 "{\"name\":\"steal\",\"type\":\"mcp_tool\",\"config\":{\"mcp_server_id\":\"%s\",\"tool\":\"echo\"}}", id);
	http_call(&r, "POST", OTHER.key, body, "/api/v1/agents");
	CHECK_ERROR(r, 404, "not_found", "config.mcp_server_id");

	http_get(&r, T.key, "/api/v1/mcp-servers/mcp_short");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, T.key, "/api/v1/mcp-servers/whk_0123456789012345678901234");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, NOSCOPE.key, "/api/v1/mcp-servers");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_call(&r, "POST", NOSCOPE.key, "{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/mcp\"}", "/api/v1/mcp-servers");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	char ro[64], ro_id[64];
	if (e2e_key(&T, "mcp:read", GENEROUS, ro, ro_id) == 0) {
		http_get(&r, ro, "/api/v1/mcp-servers/%s", id);
		CHECK_STATUS(r, 200);
		http_call(&r, "POST", ro, NULL, "/api/v1/mcp-servers/%s/refresh", id);
		CHECK_ERROR(r, 403, "missing_scope", NULL);
		http_call(&r, "DELETE", ro, NULL, "/api/v1/mcp-servers/%s", id);
		CHECK_ERROR(r, 403, "missing_scope", NULL);
	}
	http_get(&r, NULL, "/api/v1/mcp-servers");
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	http_call(&r, "PUT", T.key, "{}", "/api/v1/mcp-servers/%s", id);
	CHECK_ERROR(r, 405, "method_not_allowed", NULL);
	resp_free(&r);
}

/* Sends a signal to AGENT and waits for its run to finish; R holds the run. 1 when it finished. */
static int run_once(const char *agent, char *run, struct resp *r)
{
	http_call(r, "POST", T.key, "{\"type\":\"go\",\"payload\":{}}", "/api/v1/agents/%s/signals", agent);
	run[0] = '\0';
	if (!CHECK_STATUS(*r, 202) || !jstr(r->json, "data.run_id"))
		return 0;
	snprintf(run, 64, "%s", jstr(r->json, "data.run_id"));
	for (int i = 0; i < WAIT_S * 10; i++) {
		if (http_get(r, T.key, "/api/v1/runs/%s", run) == 200) {
			const char *st = jstr(r->json, "data.status");
			if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0)
				return 1;
		}
		nap(100);
	}
	return CHECK(0);
}

/* The display messages of RUN joined by "\n" into OUT. */
static void run_messages(const char *run, char *out, size_t outlen)
{
	struct resp r = {0};
	out[0] = '\0';
	size_t used = 0;
	if (http_get(&r, T.key, "/api/v1/runs/%s/messages", run) == 200) {
		size_t i;
		json_t *m;
		json_array_foreach(jget(r.json, "data"), i, m)
		{
			int n = snprintf(out + used, outlen - used, "%s%s", used ? "\n" : "", jstr(m, "content") ? jstr(m, "content") : "");
			if (n < 0 || (size_t)n >= outlen - used)
				break;
			used += (size_t)n;
		}
	}
	resp_free(&r);
}

static int make_tool_agent(const char *server, const char *tool, const char *args, char *agent)
{
	return create(T.key, "/api/v1/agents", agent,
		      "{\"name\":\"tool %s\",\"type\":\"mcp_tool\",\"config\":{\"mcp_server_id\":\"%s\",\"tool\":\"%s\"%s%s}}",
		      tool, server, tool, args ? ",\"arguments\":" : "", args ? args : "");
}

static void test_agent_runs(void)
{
	struct resp r = {0};
	char server[64], json_server[64], agent[64], run[64], msgs[8192];
	if (!make_server("/mcp", NULL, server) || !make_server("/mcp-json", NULL, json_server))
		return;

	/* echo over SSE: the tool's text is the run's display message and output. */
	if (make_tool_agent(server, "echo", "{\"text\":\"hello from mcp\"}", agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "succeeded");
		CHECK(json_is_null(jget(r.json, "data.error_message")));
		CHECK_STR(jstr(r.json, "data.output.tool"), "echo");
		CHECK_STR(jstr(r.json, "data.output.mcp_server_id"), server);
		CHECK_STR(jstr(json_array_get(jget(r.json, "data.output.content"), 0), "text"), "hello from mcp");
		CHECK(json_is_false(jget(r.json, "data.output.is_error")));
		run_messages(run, msgs, sizeof msgs);
		CHECK_STR(msgs, "hello from mcp");
	}
	/* add over JSON answers: structured content in the output. */
	if (make_tool_agent(json_server, "add", "{\"a\":2,\"b\":3}", agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "succeeded");
		CHECK(json_integer_value(jget(r.json, "data.output.structured_content.sum")) == 5);
		run_messages(run, msgs, sizeof msgs);
		CHECK_STR(msgs, "2 + 3 = 5");
	}
	/* An image is summarized, the caption kept. */
	if (make_tool_agent(server, "picture", NULL, agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "succeeded");
		run_messages(run, msgs, sizeof msgs);
		CHECK(strncmp(msgs, "[image: image/png, about ", 25) == 0 && strstr(msgs, "\na transparent pixel"));
	}
	/* isError fails the run with the tool's words. */
	if (make_tool_agent(server, "fail", NULL, agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "failed");
		CHECK_STR(jstr(r.json, "data.error_message"), "the MCP tool fail reported an error: the tool failed on purpose");
		CHECK(json_is_true(jget(r.json, "data.output.is_error")));
	}
	/* An answer over the 1 MiB bound fails the run (the fake repeats a 28-byte sentence). */
	if (make_tool_agent(server, "lorem", "{\"n\":50000}", agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "failed");
		CHECK_STR(jstr(r.json, "data.error_message"),
			  "the MCP tool lorem on \"fake /mcp\" failed: tools/call: response is too large");
	}
	/* 2,000 content blocks: the output keeps them all, the display messages are the first 50 and one counting
	 * the rest (not 2,000 inserts in the run's transaction). */
	if (make_tool_agent(server, "lorem", "{\"blocks\":2000}", agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "succeeded");
		json_t *content = jget(r.json, "data.output.content");
		CHECK(json_array_size(content) == 2000);
		CHECK_STR(jstr(json_array_get(content, 1999), "text"), "block 2000");
		http_get(&r, T.key, "/api/v1/runs/%s/messages?limit=100", run);
		CHECK_STATUS(r, 200);
		json_t *m = jget(r.json, "data");
		if (CHECK(json_array_size(m) == 51)) {
			CHECK_STR(jstr(json_array_get(m, 0), "content"), "block 1");
			CHECK_STR(jstr(json_array_get(m, 49), "content"), "block 50");
			CHECK_STR(jstr(json_array_get(m, 50), "content"),
				  "… and 1950 more content blocks (all of them are in the run's output)");
		}
		CHECK(json_is_false(jget(r.json, "has_more")));
	}
	/* Exactly 50 blocks: all of them, no count. */
	if (make_tool_agent(server, "lorem", "{\"blocks\":50}", agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "succeeded");
		http_get(&r, T.key, "/api/v1/runs/%s/messages?limit=100", run);
		CHECK(json_array_size(jget(r.json, "data")) == 50);
		CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 49), "content"), "block 50");
	}
	/* Just under it, the long text is one display message (cut to what a message holds). */
	if (make_tool_agent(server, "lorem", "{\"n\":3000}", agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "succeeded");
		run_messages(run, msgs, sizeof msgs);
		CHECK(strncmp(msgs, "Lorem ipsum dolor sit amet. Lorem", 33) == 0);
	}
	/* An unknown tool: the server's JSON-RPC error, readable. */
	if (make_tool_agent(server, "nope", NULL, agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "failed");
		const char *em = jstr(r.json, "data.error_message");
		CHECK(em && strstr(em, "tools/call: the server answered with error -32602") && strstr(em, "unknown tool: nope"));
	}

	/* A bearer credential: works, then revoked -> a clear failure. */
	char cred[64], auth_server[64];
	if (make_token(T.key, FAKE_TOKEN, cred) && make_server("/mcp-auth", cred, auth_server) &&
	    make_tool_agent(auth_server, "echo", "{\"text\":\"authorized\"}", agent)) {
		if (run_once(agent, run, &r))
			CHECK_STR(jstr(r.json, "data.status"), "succeeded");
		http_call(&r, "POST", T.key, NULL, "/api/v1/credentials/%s/revoke", cred);
		CHECK_STATUS(r, 200);
		if (run_once(agent, run, &r)) {
			CHECK_STR(jstr(r.json, "data.status"), "failed");
			CHECK_STR(jstr(r.json, "data.error_message"), "the credential of the MCP server \"fake /mcp-auth\" was revoked");
		}
	}

	/* require_approval: the run waits; once approved it calls the tool. */
	if (create(T.key, "/api/v1/agents", agent,
		   "{\"name\":\"gated tool\",\"type\":\"mcp_tool\",\"require_approval\":true,\"config\":"
		   "{\"mcp_server_id\":\"%s\",\"tool\":\"echo\",\"arguments\":{\"text\":\"approved call\"}}}",
		   server) &&
	    run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "waiting_approval");
		char approval[64] = "";
		if (CHECK(http_get(&r, T.key, "/api/v1/approvals?agent_id=%s", agent) == 200) &&
		    CHECK(json_array_size(jget(r.json, "data")) == 1))
			snprintf(approval, sizeof approval, "%s", jstr(json_array_get(jget(r.json, "data"), 0), "id"));
		if (approval[0]) {
			http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", approval);
			CHECK_STATUS(r, 200);
			int done = 0;
			for (int i = 0; i < WAIT_S * 10 && !done; i++) {
				http_get(&r, T.key, "/api/v1/runs/%s", run);
				done = jstr(r.json, "data.status") && strcmp(jstr(r.json, "data.status"), "succeeded") == 0;
				if (!done)
					nap(100);
			}
			CHECK_STR(jstr(r.json, "data.status"), "succeeded");
			run_messages(run, msgs, sizeof msgs);
			CHECK_STR(msgs, "approved call");
		}
	}

	/* Disabled, then deleted: the run checks again and fails clearly. */
	if (make_tool_agent(json_server, "echo", "{\"text\":\"x\"}", agent)) {
		http_call(&r, "PATCH", T.key, "{\"enabled\":false}", "/api/v1/mcp-servers/%s", json_server);
		CHECK_STATUS(r, 200);
		if (run_once(agent, run, &r)) {
			CHECK_STR(jstr(r.json, "data.status"), "failed");
			CHECK_STR(jstr(r.json, "data.error_message"), "the MCP server \"fake /mcp-json\" is disabled");
		}
		http_call(&r, "DELETE", T.key, NULL, "/api/v1/mcp-servers/%s", json_server);
		CHECK_STATUS(r, 204);
		if (run_once(agent, run, &r)) {
			CHECK_STR(jstr(r.json, "data.status"), "failed");
			char want[160];
			snprintf(want, sizeof want, "the MCP server %s no longer exists", json_server);
			CHECK_STR(jstr(r.json, "data.error_message"), want);
		}
	}

	/* Nothing listens: a transport error fails the run. */
	char dead[64];
	if (create(T.key, "/api/v1/mcp-servers", dead, "{\"name\":\"dead\",\"url\":\"http://127.0.0.1:%d/mcp\"}", dead_port) &&
	    make_tool_agent(dead, "echo", "{\"text\":\"x\"}", agent) && run_once(agent, run, &r)) {
		CHECK_STR(jstr(r.json, "data.status"), "failed");
		CHECK_STR(jstr(r.json, "data.error_message"), "the MCP tool echo on \"dead\" failed: initialize: could not connect");
	}

	/* Config validation. */
	char body[512];
	snprintf(body, sizeof body, "{\"name\":\"bad\",\"type\":\"mcp_tool\",\"config\":{\"mcp_server_id\":\"%s\"}}", server);
	http_call(&r, "POST", T.key, body, "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_missing", "config.tool");
	snprintf(body, sizeof body,
		 "{\"name\":\"bad\",\"type\":\"mcp_tool\",\"config\":{\"mcp_server_id\":\"%s\",\"tool\":\"echo\",\"arguments\":[1]}}",
		 server);
	http_call(&r, "POST", T.key, body, "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_invalid", "config.arguments");
	http_call(&r, "POST", T.key, "{\"name\":\"bad\",\"type\":\"mcp_tool\",\"config\":{\"tool\":\"echo\"}}", "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_missing", "config.mcp_server_id");
	http_call(&r, "POST", T.key,
		  "{\"name\":\"bad\",\"type\":\"mcp_tool\",\"config\":{\"mcp_server_id\":\"mcp_0123456789012345678901234\",\"tool\":\"echo\"}}",
		  "/api/v1/agents");
	CHECK_ERROR(r, 404, "not_found", "config.mcp_server_id");
	resp_free(&r);
}

/* A second agentplatform-scheduler (next to E2E.admin) on the stack's config, logging to LOG under the stack's
 * log directory; it gets SIGTERM if this program dies. Its pid, or -1. */
static pid_t second_scheduler(const char *stack_dir, const char *log)
{
	char dir[600], bin[700], logenv[700], errlog[700], asan[700], ubsan[700];
	snprintf(dir, sizeof dir, "%s", E2E.admin);
	snprintf(bin, sizeof bin, "%s/agentplatform-scheduler", dirname(dir));
	snprintf(logenv, sizeof logenv, "AGENTPLATFORM_LOG_FILE=%s/log/%s", stack_dir, log);
	snprintf(errlog, sizeof errlog, "%s/log/%s.stderr", stack_dir, log);
	/* The sanitizer logs go where the stack's own programs write theirs (tests/run checks them). */
	snprintf(asan, sizeof asan, "ASAN_OPTIONS=detect_leaks=1:log_path=%s/log/asan:abort_on_error=0", stack_dir);
	snprintf(ubsan, sizeof ubsan, "UBSAN_OPTIONS=print_stacktrace=1:log_path=%s/log/ubsan", stack_dir);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	int in = open("/dev/null", O_RDONLY), out = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0640);
	if (getppid() != parent || in < 0 || out < 0)
		_exit(1);
	dup2(in, 0);
	dup2(out, 1);
	dup2(out, 2);
	const char *argv[] = {bin, "--config", E2E.config, NULL};
	const char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", logenv, asan, ubsan, NULL};
	execve(bin, (char *const *)argv, (char *const *)envp);
	_exit(127);
}

/* Lines of the stack's log file NAME containing TEXT. */
static int log_lines(const char *stack_dir, const char *name, const char *text)
{
	char path[700], line[4096];
	int n = 0;
	snprintf(path, sizeof path, "%s/log/%s", stack_dir, name);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		n += strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* Two schedulers, eight servers due at once: each is discovered exactly once (the claim). */
static void test_two_schedulers(void)
{
	const char *stack_dir = getenv("AP_TEST_STACK_DIR");
	if (!CHECK(stack_dir && *stack_dir))
		return;
	pid_t second = second_scheduler(stack_dir, "scheduler-mcp.log");
	if (!CHECK(second > 0))
		return;
	nap(1500); /* its discovery process is up */
	struct resp r = {0};
	/* Room under the quota: the earlier tests' servers go. */
	if (http_get(&r, T.key, "/api/v1/mcp-servers?limit=100") == 200) {
		json_t *all = json_incref(jget(r.json, "data"));
		size_t i;
		json_t *x;
		struct resp d = {0};
		json_array_foreach(all, i, x) http_call(&d, "DELETE", T.key, NULL, "/api/v1/mcp-servers/%s", jstr(x, "id"));
		resp_free(&d);
		json_decref(all);
	}
	char ids[8][64];
	int made = 0;
	for (int i = 0; i < 8; i++)
		made += make_server("/mcp-slow", NULL, ids[i]); /* about 1.25 s each: the schedulers overlap */
	int by_second = 0;
	if (CHECK(made == 8))
		for (int i = 0; i < 8; i++) {
			DISCOVERED_AS(ids[i], "ok", r);
			char text[600];
			snprintf(text, sizeof text, "mcp server %s: 5 tools", ids[i]);
			int second_n = log_lines(stack_dir, "scheduler-mcp.log", text);
			int n = log_lines(stack_dir, "scheduler.log", text) + second_n;
			e2e_check(n == 1, __FILE__, __LINE__, "server %s discovered %d times", ids[i], n);
			by_second += second_n;
		}
	/* A claim holds five servers (MCPDISCOVERY_BATCH) for one scheduler: the other takes the rest meanwhile. */
	e2e_check(by_second > 0 && by_second < 8, __FILE__, __LINE__, "the second scheduler discovered %d of 8", by_second);
	kill(second, SIGTERM);
	waitpid(second, NULL, 0);
	resp_free(&r);
}

int suite_mcp_servers_register(void)
{
	CU_pSuite s = CU_add_suite("mcp_servers", init, cleanup);
	if (!s)
		return -1;
	if (!CU_add_test(s, "create, get, list, patch, refresh, disable, delete; discovery ok over SSE and JSON", test_crud) ||
	    !CU_add_test(s, "discovery: a forgotten session, bearer credentials, unreachable, not MCP", test_discovery) ||
	    !CU_add_test(s, "validation: name, url (guard), transport, credential_id, read-only and unknown fields",
			 test_validation) ||
	    !CU_add_test(s, "quota per account: mcp_servers_max_per_account", test_quota) ||
	    !CU_add_test(s, "isolation across accounts, scopes, 401, 404 on malformed ids, 405", test_isolation_scopes) ||
	    !CU_add_test(s, "mcp_tool runs: text, structured, image, isError, unknown tool, revoked, disabled, gone",
			 test_agent_runs) ||
	    !CU_add_test(s, "two schedulers discover each server once", test_two_schedulers))
		return -1;
	return 0;
}
