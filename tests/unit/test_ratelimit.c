/* test_ratelimit: the GCRA Lua script against a real redis-server started by the suite, and the Redis-down
 * policy of the API's rate-limit step. */
#include "suites.h"

#include "app.h"
#include "auth.h"
#include "ids.h"
#include "kv.h"
#include "ratelimit.h"
#include "request.h"
#include "settings.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TRL_MASTER_KEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static pid_t trl_pid;     /* the redis-server child, 0 when none */
static int trl_port;      /* its port */
static settings *trl_cfg; /* settings pointing at it */
static kv *trl_kv;
static ratelimit trl_rl;

/* ---------------------------------------------------------------- helpers */

/* Whole seconds at or below / at or above T (T > 0). */
static long long trl_floor(double t)
{
	return (long long)t;
}

static long long trl_ceil(double t)
{
	long long f = (long long)t;
	return (double)f < t ? f + 1 : f;
}

static double trl_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void trl_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it now). */
static int trl_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	socklen_t len = sizeof sa;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Sends one command to the Redis on PORT over a fresh connection and reads a whole simple reply (one line,
 * or an array of one-line elements) into REPLY. Returns 0, or -1 if Redis does not answer. */
static int trl_cmd(int port, int argc, const char *const *argv, char *reply, size_t replylen)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	char req[1024];
	size_t n = (size_t)snprintf(req, sizeof req, "*%d\r\n", argc);
	for (int i = 0; i < argc && n < sizeof req; i++)
		n += (size_t)snprintf(req + n, sizeof req - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
	if (n >= sizeof req || send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	size_t got = 0;
	int rc = -1;
	while (got < replylen - 1) {
		ssize_t k = recv(fd, reply + got, replylen - 1 - got, 0);
		if (k <= 0)
			break;
		got += (size_t)k;
		reply[got] = '\0';
		int lines = 0;
		for (const char *p = reply; (p = strstr(p, "\r\n")) != NULL; p += 2)
			lines++;
		int need = reply[0] == '*' ? 1 + (int)strtol(reply + 1, NULL, 10) : 1;
		if (lines >= need) {
			rc = 0;
			break;
		}
	}
	close(fd);
	return rc;
}

static int trl_ping(int port)
{
	const char *argv[] = {"PING"};
	char reply[64];
	return trl_cmd(port, 1, argv, reply, sizeof reply) == 0 && strcmp(reply, "+PONG\r\n") == 0 ? 0 : -1;
}

/* Starts redis-server on PORT and waits (at most 10 s) until it answers PING. Returns 0 or -1. */
static int trl_start(int port)
{
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%d", port);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* Dies with the test binary, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execlp("redis-server", "redis-server", "--port", portstr, "--bind", "127.0.0.1", "--save", "",
		       "--appendonly", "no", "--dir", "/tmp", "--daemonize", "no", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "\nredis-server exited early (status %d): is it installed?\n", st);
			return -1;
		}
		if (trl_ping(port) == 0) {
			trl_pid = pid;
			trl_port = port;
			return 0;
		}
		trl_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fprintf(stderr, "\nredis-server on port %d did not answer PING within 10 s\n", port);
	return -1;
}

static void trl_stop(void)
{
	if (trl_pid <= 0)
		return;
	kill(trl_pid, SIGTERM);
	int st;
	for (int i = 0; i < 250; i++) {
		if (waitpid(trl_pid, &st, WNOHANG) == trl_pid) {
			trl_pid = 0;
			return;
		}
		trl_sleep_ms(20);
	}
	kill(trl_pid, SIGKILL);
	waitpid(trl_pid, &st, 0);
	trl_pid = 0;
}

/* Settings from the environment only (the caller's AGENTPLATFORM_* variables are set aside meanwhile),
 * with Redis at PORT. Free with settings_free. */
static settings *trl_settings(int port)
{
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n += strncmp(*e, "AGENTPLATFORM_", 14) == 0;
	char **saved = calloc(n + 1, sizeof *saved);
	size_t ns = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "AGENTPLATFORM_", 14) == 0 && ns < n)
			saved[ns++] = strdup(*e);
	for (size_t i = 0; i < ns; i++) {
		char *eq = strchr(saved[i], '=');
		*eq = '\0';
		unsetenv(saved[i]);
		*eq = '=';
	}
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%d", port);
	setenv("AGENTPLATFORM_DB_USER", "x", 1);
	setenv("AGENTPLATFORM_DB_NAME", "x", 1);
	setenv("AGENTPLATFORM_MASTER_KEY", TRL_MASTER_KEY, 1);
	setenv("AGENTPLATFORM_PUBLIC_BASE_URL", "http://127.0.0.1", 1);
	setenv("AGENTPLATFORM_REDIS_PORT", portstr, 1);
	char err[256] = "";
	settings *s = settings_new(NULL, err, sizeof err);
	if (!s)
		fprintf(stderr, "\nsettings_new: %s\n", err);
	unsetenv("AGENTPLATFORM_DB_USER");
	unsetenv("AGENTPLATFORM_DB_NAME");
	unsetenv("AGENTPLATFORM_MASTER_KEY");
	unsetenv("AGENTPLATFORM_PUBLIC_BASE_URL");
	unsetenv("AGENTPLATFORM_REDIS_PORT");
	for (size_t i = 0; i < ns; i++) {
		char *eq = strchr(saved[i], '=');
		*eq = '\0';
		setenv(saved[i], eq + 1, 1);
		free(saved[i]);
	}
	free(saved);
	return s;
}

/* Every test starts here: a running redis-server and a kv for it (made once, kept for the suite). */
static int trl_setup(void)
{
	/* Like the programs: a write to a connection the server closed must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (trl_pid <= 0) {
		int port = trl_port > 0 ? trl_port : trl_free_port();
		if (port <= 0 || trl_start(port) != 0)
			return -1;
	}
	if (!trl_cfg) {
		trl_cfg = trl_settings(trl_port);
		if (!trl_cfg)
			return -1;
		trl_kv = kv_new(trl_cfg);
		ratelimit_init(&trl_rl);
	}
	return 0;
}

static int trl_cleanup(void)
{
	kv_free(trl_kv);
	trl_kv = NULL;
	settings_free(trl_cfg);
	trl_cfg = NULL;
	trl_stop();
	return 0;
}

static void trl_key(char id[IDS_MAX_LEN])
{
	ids_new("key_", id);
}

/* ---------------------------------------------------------------- the script */

static void trl_init_sha(void)
{
	ratelimit rl;
	memset(&rl, 'x', sizeof rl);
	ratelimit_init(&rl);
	CU_ASSERT_EQUAL(strlen(rl.sha), 40);
	CU_ASSERT_EQUAL(strspn(rl.sha, "0123456789abcdef"), 40);
	CU_ASSERT_FATAL(trl_setup() == 0);
	/* Redis agrees on the SHA-1 once it has the script. */
	CU_ASSERT_EQUAL(kv_ping(trl_kv), 0);
	char id[IDS_MAX_LEN];
	trl_key(id);
	ratelimit_result res;
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 5, &res), 0);
	const char *argv[] = {"SCRIPT", "EXISTS", trl_rl.sha};
	char reply[64];
	CU_ASSERT_EQUAL(trl_cmd(trl_port, 3, argv, reply, sizeof reply), 0);
	CU_ASSERT_STRING_EQUAL(reply, "*1\r\n:1\r\n");
}

static void trl_limit_exact(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	char id[IDS_MAX_LEN];
	trl_key(id);
	ratelimit_result res;
	long long first_reset = 0, last_reset = 0;

	double before = trl_now();
	for (int i = 0; i < 10; i++) {
		memset(&res, 0x7f, sizeof res);
		CU_ASSERT_EQUAL_FATAL(ratelimit_check(&trl_rl, trl_kv, id, 10, &res), 0);
		CU_ASSERT_EQUAL(res.allowed, 1);
		CU_ASSERT_EQUAL(res.limit, 10);
		CU_ASSERT_EQUAL(res.remaining, 9 - i);
		CU_ASSERT_EQUAL(res.retry_after, 0);
		if (i == 0)
			first_reset = res.reset;
		last_reset = res.reset;
	}
	double after = trl_now();
	/* One request costs 6 s of budget: after the first the budget is full again 6 s later, after the
	 * tenth 60 s later (epoch seconds, rounded up). */
	CU_ASSERT(first_reset >= trl_floor(before) + 6 && first_reset <= trl_ceil(after) + 6);
	CU_ASSERT(last_reset > (long long)before && last_reset <= trl_ceil(after) + 60);
	CU_ASSERT(last_reset >= trl_floor(before) + 60);

	/* The eleventh and later are refused, without consuming anything. */
	for (int i = 0; i < 3; i++) {
		memset(&res, 0x7f, sizeof res);
		CU_ASSERT_EQUAL_FATAL(ratelimit_check(&trl_rl, trl_kv, id, 10, &res), 0);
		CU_ASSERT_EQUAL(res.allowed, 0);
		CU_ASSERT_EQUAL(res.limit, 10);
		CU_ASSERT_EQUAL(res.remaining, 0);
		CU_ASSERT(res.retry_after >= 1 && res.retry_after <= 6);
		CU_ASSERT_EQUAL(res.reset, last_reset);
	}

	/* Limit 1: one request, then a wait of about a minute. */
	trl_key(id);
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 1, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	CU_ASSERT_EQUAL(res.remaining, 0);
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 1, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 0);
	CU_ASSERT(res.retry_after >= 59 && res.retry_after <= 60);
	CU_ASSERT(res.reset > (long long)trl_now() && res.reset <= trl_ceil(trl_now()) + 60);
}

static void trl_large_limit(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	char id[IDS_MAX_LEN];
	trl_key(id);
	ratelimit_result res;
	/* The local stack's demo key: 100000 a minute. */
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 100000, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	CU_ASSERT_EQUAL(res.remaining, 99999);
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 100000, &res), 0);
	CU_ASSERT_EQUAL(res.remaining, 99998);
}

static void trl_per_key(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	char a[IDS_MAX_LEN], b[IDS_MAX_LEN];
	trl_key(a);
	trl_key(b);
	ratelimit_result res;

	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, a, 3, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, a, 3, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 0);
	/* Key B is untouched by A's spending. */
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, b, 3, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	CU_ASSERT_EQUAL(res.remaining, 2);
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, a, 3, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 0);

	/* One Redis key per API key, hash-tagged (Cluster safe), and it expires on its own. */
	char name[64], reply[64];
	snprintf(name, sizeof name, "rl:{%s}", a);
	const char *exists[] = {"EXISTS", name};
	CU_ASSERT_EQUAL(trl_cmd(trl_port, 2, exists, reply, sizeof reply), 0);
	CU_ASSERT_STRING_EQUAL(reply, ":1\r\n");
	const char *pttl[] = {"PTTL", name};
	CU_ASSERT_EQUAL(trl_cmd(trl_port, 2, pttl, reply, sizeof reply), 0);
	long ttl = reply[0] == ':' ? strtol(reply + 1, NULL, 10) : -1;
	CU_ASSERT(ttl > 0 && ttl <= 60 * 1000 + 1);
}

static void trl_shared_across_connections(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	/* Two workers, two connections: one budget. */
	kv *other = kv_new(trl_cfg);
	ratelimit rl2;
	ratelimit_init(&rl2);
	char id[IDS_MAX_LEN];
	trl_key(id);
	ratelimit_result res;
	int allowed = 0;
	for (int i = 0; i < 20; i++) {
		int rc = i % 2 ? ratelimit_check(&trl_rl, trl_kv, id, 10, &res) : ratelimit_check(&rl2, other, id, 10, &res);
		CU_ASSERT_EQUAL(rc, 0);
		allowed += rc == 0 && res.allowed;
	}
	CU_ASSERT_EQUAL(allowed, 10);
	kv_free(other);
}

static void trl_gcra_refill(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	char id[IDS_MAX_LEN];
	trl_key(id);
	ratelimit_result res;
	/* 60 a minute: one more each second, never a second burst of 60. */
	double start = trl_now();
	int allowed = 0;
	for (int i = 0; i < 70; i++) {
		CU_ASSERT_EQUAL_FATAL(ratelimit_check(&trl_rl, trl_kv, id, 60, &res), 0);
		allowed += res.allowed;
	}
	double spent = trl_now() - start;
	CU_ASSERT(allowed >= 60 && allowed <= 60 + (int)spent + 1);
	CU_ASSERT_EQUAL(res.allowed, 0);
	CU_ASSERT_EQUAL(res.retry_after, 1);
	trl_sleep_ms(1150);
	int later = 0;
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 60, &res), 0);
		later += res.allowed;
	}
	CU_ASSERT(later >= 1 && later <= 2);
}

static void trl_script_flush(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	char id[IDS_MAX_LEN], reply[64];
	trl_key(id);
	ratelimit_result res;

	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 5, &res), 0);
	CU_ASSERT_EQUAL(res.remaining, 4);
	const char *flush[] = {"SCRIPT", "FLUSH"};
	CU_ASSERT_EQUAL(trl_cmd(trl_port, 2, flush, reply, sizeof reply), 0);
	CU_ASSERT_STRING_EQUAL(reply, "+OK\r\n");
	const char *exists[] = {"SCRIPT", "EXISTS", trl_rl.sha};
	CU_ASSERT_EQUAL(trl_cmd(trl_port, 3, exists, reply, sizeof reply), 0);
	CU_ASSERT_STRING_EQUAL(reply, "*1\r\n:0\r\n");
	/* NOSCRIPT: loaded again, and the key's state carried on. */
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 5, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	CU_ASSERT_EQUAL(res.remaining, 3);
	CU_ASSERT_EQUAL(trl_cmd(trl_port, 3, exists, reply, sizeof reply), 0);
	CU_ASSERT_STRING_EQUAL(reply, "*1\r\n:1\r\n");
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 5, &res), 0);
	CU_ASSERT_EQUAL(res.remaining, 2);
}

static void trl_dead_port(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	int port = trl_free_port();
	CU_ASSERT_FATAL(port > 0 && port != trl_port);
	settings *s = trl_settings(port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	kv *k = kv_new(s);
	char id[IDS_MAX_LEN];
	trl_key(id);
	ratelimit_result res;
	CU_ASSERT_EQUAL(kv_ping(k), -1);
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, k, id, 10, &res), -1);
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, k, id, 10, &res), -1);
	kv_free(k);
	settings_free(s);
}

static void trl_redis_restart(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	char id[IDS_MAX_LEN];
	trl_key(id);
	ratelimit_result res;
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 10, &res), 0);

	/* Redis goes away: -1, never a crash or a hang. */
	int port = trl_port;
	trl_stop();
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 10, &res), -1);
	CU_ASSERT_EQUAL(kv_ping(trl_kv), -1);
	/* It comes back empty (no script, no keys): the same handle reconnects and reloads the script. */
	CU_ASSERT_FATAL(trl_start(port) == 0);
	CU_ASSERT_EQUAL(ratelimit_check(&trl_rl, trl_kv, id, 10, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	CU_ASSERT_EQUAL(res.remaining, 9);

	/* Restarted while the connection sat idle: at most the first request after it fails. */
	trl_stop();
	CU_ASSERT_FATAL(trl_start(port) == 0);
	int rc = ratelimit_check(&trl_rl, trl_kv, id, 10, &res);
	if (rc != 0)
		rc = ratelimit_check(&trl_rl, trl_kv, id, 10, &res);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
}

/* ---------------------------------------------------------------- the API's rate-limit step */

static const char *trl_header(const request *r, const char *name)
{
	for (int i = 0; i < r->nhdr; i++)
		if (strcmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

static void trl_request(request *r, app *ap)
{
	memset(r, 0, sizeof *r);
	r->app = ap;
	r->a = arena_new();
	r->method = "GET";
	r->uri = "/api/v1/agents";
	r->request_id = "feedfacefeedfacefeedfacefeedface";
	r->authenticated = 1;
	trl_key(r->key_id);
}

static void trl_auth_redis_down(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	int port = trl_free_port();
	settings *s = trl_settings(port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	app ap = {0};
	ap.cfg = s;
	ap.kv = kv_new(s);
	ratelimit_init(&ap.rl);
	request r;

	/* Open (the default): allowed, logged, no rate-limit headers. */
	CU_ASSERT_EQUAL(s->rate_limit_redis_down, RL_DOWN_OPEN);
	trl_request(&r, &ap);
	CU_ASSERT_EQUAL(auth_rate_limit(&r, 100), 0);
	CU_ASSERT_EQUAL(r.err, ERR_NONE);
	CU_ASSERT_PTR_NULL(trl_header(&r, "X-RateLimit-Limit"));
	CU_ASSERT_PTR_NULL(trl_header(&r, "X-RateLimit-Remaining"));
	CU_ASSERT_PTR_NULL(trl_header(&r, "X-RateLimit-Reset"));
	CU_ASSERT_PTR_NULL(trl_header(&r, "Retry-After"));
	CU_ASSERT_EQUAL(r.nhdr, 0);
	arena_free(r.a);

	/* Closed: 503. */
	s->rate_limit_redis_down = RL_DOWN_CLOSED;
	trl_request(&r, &ap);
	CU_ASSERT_EQUAL(auth_rate_limit(&r, 100), -1);
	CU_ASSERT_EQUAL(r.err, ERR_DEPENDENCY_UNAVAILABLE);
	CU_ASSERT_EQUAL(APIERRORS[r.err].status, 503);
	CU_ASSERT_PTR_NULL(trl_header(&r, "X-RateLimit-Limit"));
	CU_ASSERT_PTR_NULL(trl_header(&r, "Retry-After"));
	arena_free(r.a);

	kv_free(ap.kv);
	settings_free(s);
}

static void trl_auth_live(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	app ap = {0};
	ap.cfg = trl_cfg;
	ap.kv = trl_kv;
	ap.rl = trl_rl;
	request r;
	char key[IDS_MAX_LEN];

	trl_request(&r, &ap);
	memcpy(key, r.key_id, sizeof key);
	double before = trl_now();
	CU_ASSERT_EQUAL(auth_rate_limit(&r, 2), 0);
	CU_ASSERT_EQUAL(r.err, ERR_NONE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(trl_header(&r, "X-RateLimit-Limit"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(trl_header(&r, "X-RateLimit-Remaining"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(trl_header(&r, "X-RateLimit-Reset"));
	CU_ASSERT_STRING_EQUAL(trl_header(&r, "X-RateLimit-Limit"), "2");
	CU_ASSERT_STRING_EQUAL(trl_header(&r, "X-RateLimit-Remaining"), "1");
	long long reset = strtoll(trl_header(&r, "X-RateLimit-Reset"), NULL, 10);
	CU_ASSERT(reset >= trl_floor(before) + 30 && reset <= trl_ceil(trl_now()) + 30);
	CU_ASSERT_PTR_NULL(trl_header(&r, "Retry-After"));
	arena_free(r.a);

	trl_request(&r, &ap);
	memcpy(r.key_id, key, sizeof key);
	CU_ASSERT_EQUAL(auth_rate_limit(&r, 2), 0);
	CU_ASSERT_STRING_EQUAL(trl_header(&r, "X-RateLimit-Remaining"), "0");
	arena_free(r.a);

	trl_request(&r, &ap);
	memcpy(r.key_id, key, sizeof key);
	CU_ASSERT_EQUAL(auth_rate_limit(&r, 2), -1);
	CU_ASSERT_EQUAL(r.err, ERR_RATE_LIMITED);
	CU_ASSERT_EQUAL(APIERRORS[r.err].status, 429);
	CU_ASSERT_PTR_NOT_NULL_FATAL(trl_header(&r, "Retry-After"));
	char *end;
	long retry = strtol(trl_header(&r, "Retry-After"), &end, 10);
	CU_ASSERT_EQUAL(*end, '\0');
	CU_ASSERT(retry >= 1 && retry <= 30);
	CU_ASSERT_STRING_EQUAL(trl_header(&r, "X-RateLimit-Limit"), "2");
	CU_ASSERT_STRING_EQUAL(trl_header(&r, "X-RateLimit-Remaining"), "0");
	CU_ASSERT_PTR_NOT_NULL(trl_header(&r, "X-RateLimit-Reset"));
	arena_free(r.a);

	/* Another key is not affected. */
	trl_request(&r, &ap);
	CU_ASSERT_EQUAL(auth_rate_limit(&r, 2), 0);
	CU_ASSERT_STRING_EQUAL(trl_header(&r, "X-RateLimit-Remaining"), "1");
	arena_free(r.a);

	/* Redis reachable again after being down, with the policy closed: served normally. */
	trl_cfg->rate_limit_redis_down = RL_DOWN_CLOSED;
	trl_request(&r, &ap);
	CU_ASSERT_EQUAL(auth_rate_limit(&r, 2), 0);
	arena_free(r.a);
	trl_cfg->rate_limit_redis_down = RL_DOWN_OPEN;
}

int test_ratelimit_suite(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"script sha and redis-server start", trl_init_sha},
		{"limit is exact; remaining counts down; reset", trl_limit_exact},
		{"large limit", trl_large_limit},
		{"limits are per key", trl_per_key},
		{"one budget across connections", trl_shared_across_connections},
		{"GCRA refill, no second burst", trl_gcra_refill},
		{"SCRIPT FLUSH: NOSCRIPT reload", trl_script_flush},
		{"closed port: -1", trl_dead_port},
		{"redis restart: reconnect and reload", trl_redis_restart},
		{"auth_rate_limit with redis down", trl_auth_redis_down},
		{"auth_rate_limit headers and 429", trl_auth_live},
	};
	CU_pSuite suite = CU_add_suite("ratelimit", NULL, trl_cleanup);

	if (!suite)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
