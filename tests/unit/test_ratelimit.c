/* test_ratelimit: the GCRA Lua script against a real redis-server started by the suite, and the Redis-down
 * policy of the API's rate-limit step. */
#include "suites.h"

#include "apikey.h"
#include "keygen.h"
#include "app.h"
#include "arena.h"
#include "auth.h"
#include "crypto.h"
#include "ids.h"
#include "kv.h"
#include "ratelimit.h"
#include "request.h"
#include "settings.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* ---------------------------------------------------------------- the API key generation check */

#define TRL_GEN_LIMIT (1LL << 48)

/* Runs one command on trl_kv; the reply is copied into A. 0, or -1 if Redis did not answer. */
static int trl_kv_cmd(arena *a, int argc, const char *const *argv, kv_reply *out)
{
	return kv_command(trl_kv, a, argc, argv, out);
}

/* The string value of NAME into OUT: 1, 0 if there is none, -1 on an error or another type. */
static int trl_get(const char *name, char *out, size_t n)
{
	arena *a = arena_new();
	kv_reply r;
	int rc = -1;
	out[0] = '\0';
	if (trl_kv_cmd(a, 2, (const char *const[]){"GET", name}, &r) == 0) {
		if (r.type == KV_NIL)
			rc = 0;
		else if (r.type == KV_STR) {
			snprintf(out, n, "%s", r.str);
			rc = 1;
		}
	}
	arena_free(a);
	return rc;
}

/* The integer reply of a two- or three-argument command (TTL, EXISTS, SISMEMBER, ...): LLONG_MIN if none. */
static long long trl_int(const char *cmd, const char *name, const char *arg)
{
	arena *a = arena_new();
	kv_reply r;
	long long v = LLONG_MIN;
	int argc = arg ? 3 : 2;
	if (trl_kv_cmd(a, argc, (const char *const[]){cmd, name, arg}, &r) == 0 && r.type == KV_INT)
		v = r.integer;
	arena_free(a);
	return v;
}

/* HGET HASH FIELD as a number: 0 when absent, -1 on anything else. */
static long long trl_hget(const char *hash, const char *field)
{
	arena *a = arena_new();
	kv_reply r;
	long long v = -1;
	if (trl_kv_cmd(a, 3, (const char *const[]){"HGET", hash, field}, &r) == 0) {
		if (r.type == KV_NIL)
			v = 0;
		else if (r.type == KV_STR)
			v = strtoll(r.str, NULL, 10);
	}
	arena_free(a);
	return v;
}

static int trl_set(const char *name, const char *value)
{
	arena *a = arena_new();
	kv_reply r;
	int rc = trl_kv_cmd(a, 3, (const char *const[]){"SET", name, value}, &r) == 0 && r.type == KV_STATUS ? 0 : -1;
	arena_free(a);
	return rc;
}

/* A generation key for a new random key hash. */
static void trl_gen_name(char out[KEYGEN_KEY_LEN + 1])
{
	unsigned char h[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	crypto_random(h, sizeof h);
	crypto_hex(h, sizeof h, hex);
	keygen_key(hex, out);
}

/* Names for one test: a rate-limit key id, its usage hash and set, and a generation key. */
typedef struct trl_names {
	char id[IDS_MAX_LEN];
	char hash[64], set[64];
	char gen[KEYGEN_KEY_LEN + 1];
} trl_names;

static void trl_names_new(trl_names *n)
{
	trl_key(n->id);
	snprintf(n->hash, sizeof n->hash, "usage:test:%s", n->id);
	snprintf(n->set, sizeof n->set, "usage:testset:%s", n->id);
	trl_gen_name(n->gen);
}

static int trl_counted(const trl_names *n, long long limit, ratelimit_gen *g, ratelimit_result *res)
{
	return ratelimit_check_counted(&trl_rl, trl_kv, n->id, limit, n->hash, n->set, n->id, g, res);
}

static void trl_gen_create(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	trl_names n;
	trl_names_new(&n);
	char v[64];
	CU_ASSERT_EQUAL(trl_get(n.gen, v, sizeof v), 0);

	/* Expect 0 on a missing key: counted, and the key now holds FRESH for TTL_SECONDS. */
	ratelimit_gen g = {.key = n.gen, .expect = 0, .fresh = 0xabcdef123456LL, .ttl_seconds = 1234, .held = 42};
	ratelimit_result res;
	CU_ASSERT_EQUAL_FATAL(trl_counted(&n, 5, &g, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	CU_ASSERT_EQUAL(res.limit, 5);
	CU_ASSERT_EQUAL(res.remaining, 4);
	CU_ASSERT_EQUAL(trl_get(n.gen, v, sizeof v), 1);
	CU_ASSERT_STRING_EQUAL(v, "188900967593046"); /* 0xabcdef123456 */
	long long ttl = trl_int("TTL", n.gen, NULL);
	CU_ASSERT(ttl >= 1230 && ttl <= 1234);
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 1);
	CU_ASSERT_EQUAL(trl_int("SISMEMBER", n.set, n.hash), 1);
}

static void trl_gen_match(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	trl_names n;
	trl_names_new(&n);
	ratelimit_gen g = {.key = n.gen, .expect = 0, .fresh = 777001, .ttl_seconds = 600};
	ratelimit_result res;
	CU_ASSERT_EQUAL_FATAL(trl_counted(&n, 5, &g, &res), 0);
	CU_ASSERT_EQUAL(res.remaining, 4);

	/* Expect what it holds: counted, the generation left as it is. */
	g = (ratelimit_gen){.key = n.gen, .expect = 777001, .fresh = 555, .ttl_seconds = 5};
	for (long long want = 3; want >= 1; want--) {
		CU_ASSERT_EQUAL_FATAL(trl_counted(&n, 5, &g, &res), 0);
		CU_ASSERT_EQUAL(res.allowed, 1);
		CU_ASSERT_EQUAL(res.remaining, want);
	}
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 4);
	CU_ASSERT_EQUAL(trl_int("SISMEMBER", n.set, n.hash), 1);
	char v[64];
	CU_ASSERT_EQUAL(trl_get(n.gen, v, sizeof v), 1);
	CU_ASSERT_STRING_EQUAL(v, "777001");
	long long ttl = trl_int("TTL", n.gen, NULL);
	CU_ASSERT(ttl > 5 && ttl <= 600);

	/* A generation near 2^48 is compared exactly. */
	trl_names_new(&n);
	long long big = TRL_GEN_LIMIT - 1;
	g = (ratelimit_gen){.key = n.gen, .expect = 0, .fresh = big, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 0);
	g = (ratelimit_gen){.key = n.gen, .expect = big - 1, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 1);
	CU_ASSERT_EQUAL(g.held, big);
	g = (ratelimit_gen){.key = n.gen, .expect = big, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 0);
	CU_ASSERT_EQUAL(res.remaining, 3);
}

static void trl_gen_mismatch(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	trl_names n;
	trl_names_new(&n);
	ratelimit_gen g = {.key = n.gen, .expect = 0, .fresh = 4242, .ttl_seconds = 600};
	ratelimit_result res;
	CU_ASSERT_EQUAL_FATAL(trl_counted(&n, 5, &g, &res), 0);
	CU_ASSERT_EQUAL(res.remaining, 4);
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 1);

	/* Another generation expected: 1, what it holds, and nothing counted, however often. */
	for (int i = 0; i < 3; i++) {
		g = (ratelimit_gen){.key = n.gen, .expect = 4243, .fresh = 9999, .ttl_seconds = 7, .held = 12345};
		CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 1);
		CU_ASSERT_EQUAL(g.held, 4242);
	}
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 1);
	char v[64];
	CU_ASSERT_EQUAL(trl_get(n.gen, v, sizeof v), 1);
	CU_ASSERT_STRING_EQUAL(v, "4242");
	CU_ASSERT(trl_int("TTL", n.gen, NULL) > 7);
	/* The bucket did not move: the next matching call has the remaining after one request, less one. */
	g = (ratelimit_gen){.key = n.gen, .expect = 4242, .ttl_seconds = 600};
	CU_ASSERT_EQUAL_FATAL(trl_counted(&n, 5, &g, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	CU_ASSERT_EQUAL(res.remaining, 3);
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 2);

	/* On names never used: no bucket, no usage hash, not added to the set. */
	trl_names m;
	trl_names_new(&m);
	CU_ASSERT_EQUAL(trl_set(m.gen, "31337"), 0);
	g = (ratelimit_gen){.key = m.gen, .expect = 31338, .fresh = 1, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&m, 5, &g, &res), 1);
	CU_ASSERT_EQUAL(g.held, 31337);
	char rl_key[64];
	snprintf(rl_key, sizeof rl_key, "rl:{%s}", m.id);
	CU_ASSERT_EQUAL(trl_int("EXISTS", rl_key, NULL), 0);
	CU_ASSERT_EQUAL(trl_int("EXISTS", m.hash, NULL), 0);
	CU_ASSERT_EQUAL(trl_int("EXISTS", m.set, NULL), 0);
	CU_ASSERT_EQUAL(trl_int("SISMEMBER", m.set, m.hash), 0);
	/* The mismatch leaves a kept key without an expiry as it was. */
	CU_ASSERT_EQUAL(trl_int("TTL", m.gen, NULL), -1);

	/* A generation expected but none held (expired, or Redis restarted): 1 with 0, and the key is not made. */
	trl_names_new(&m);
	g = (ratelimit_gen){.key = m.gen, .expect = 5150, .fresh = 5150, .ttl_seconds = 60, .held = 77};
	CU_ASSERT_EQUAL(trl_counted(&m, 5, &g, &res), 1);
	CU_ASSERT_EQUAL(g.held, 0);
	CU_ASSERT_EQUAL(trl_get(m.gen, v, sizeof v), 0);
	snprintf(rl_key, sizeof rl_key, "rl:{%s}", m.id);
	CU_ASSERT_EQUAL(trl_int("EXISTS", rl_key, NULL), 0);
	CU_ASSERT_EQUAL(trl_int("EXISTS", m.hash, NULL), 0);
	CU_ASSERT_EQUAL(trl_int("EXISTS", m.set, NULL), 0);
}

static void trl_gen_expect_missing_but_held(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	trl_names n;
	trl_names_new(&n);
	/* Another worker created it between this worker's read and its count. */
	CU_ASSERT_EQUAL(trl_set(n.gen, "777"), 0);
	ratelimit_gen g = {.key = n.gen, .expect = 0, .fresh = 999, .ttl_seconds = 60, .held = -5};
	ratelimit_result res;
	CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 1);
	CU_ASSERT_EQUAL(g.held, 777);
	char v[64];
	CU_ASSERT_EQUAL(trl_get(n.gen, v, sizeof v), 1);
	CU_ASSERT_STRING_EQUAL(v, "777");
	CU_ASSERT_EQUAL(trl_int("TTL", n.gen, NULL), -1);
	CU_ASSERT_EQUAL(trl_int("EXISTS", n.hash, NULL), 0);
	CU_ASSERT_EQUAL(trl_int("EXISTS", n.set, NULL), 0);
	/* Then expecting what it holds counts from a full bucket. */
	g = (ratelimit_gen){.key = n.gen, .expect = 777, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 0);
	CU_ASSERT_EQUAL(res.remaining, 4);
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 1);
}

static void trl_gen_not_a_number(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	/* Only the decimal digits of a number in [1, 10^15) are a generation: Lua's tonumber would take the others. */
	static const char *const junk[] = {"garbage", "", "12abc", "apikey", "1.5", "inf", "nan", " 12 ", "12.0", "0x10",
					   "1e3", "012", "-12", "1000000000000000"};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		trl_names n;
		trl_names_new(&n);
		CU_ASSERT_EQUAL_FATAL(trl_set(n.gen, junk[i]), 0);
		static const long long expects[] = {0, 1, 12};
		for (size_t j = 0; j < sizeof expects / sizeof expects[0]; j++) {
			ratelimit_gen g = {.key = n.gen, .expect = expects[j], .fresh = 5, .ttl_seconds = 60, .held = 99};
			ratelimit_result res;
			CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 1);
			CU_ASSERT_EQUAL(g.held, -1);
		}
		char v[64];
		CU_ASSERT_EQUAL(trl_get(n.gen, v, sizeof v), 1);
		CU_ASSERT_STRING_EQUAL(v, junk[i]);
		CU_ASSERT_EQUAL(trl_int("EXISTS", n.hash, NULL), 0);
		CU_ASSERT_EQUAL(trl_int("EXISTS", n.set, NULL), 0);
	}
}

static void trl_gen_optional(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	trl_names n;
	trl_names_new(&n);
	ratelimit_result res;
	/* Without GEN: counted, and no generation key appears. */
	CU_ASSERT_EQUAL(trl_counted(&n, 5, NULL, &res), 0);
	CU_ASSERT_EQUAL(res.remaining, 4);
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 1);
	CU_ASSERT_EQUAL(trl_int("EXISTS", n.gen, NULL), 0);

	/* A limit below 1 refuses without calling Redis: nothing counted, nothing checked or created. */
	ratelimit_gen g = {.key = n.gen, .expect = 0, .fresh = 31, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&n, 0, &g, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 0);
	CU_ASSERT_EQUAL(trl_int("EXISTS", n.gen, NULL), 0);
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 1);

	/* Refused by the rate limit but the generation matches: created, and counted as usage. */
	trl_names_new(&n);
	g = (ratelimit_gen){.key = n.gen, .expect = 0, .fresh = 32, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&n, 1, &g, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 1);
	g = (ratelimit_gen){.key = n.gen, .expect = 32, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&n, 1, &g, &res), 0);
	CU_ASSERT_EQUAL(res.allowed, 0);
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 2);

	/* Redis unreachable: -1, HELD untouched. */
	int port = trl_free_port();
	settings *s = trl_settings(port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	kv *k = kv_new(s);
	g = (ratelimit_gen){.key = n.gen, .expect = 32, .ttl_seconds = 60, .held = 4711};
	CU_ASSERT_EQUAL(ratelimit_check_counted(&trl_rl, k, n.id, 5, n.hash, n.set, n.id, &g, &res), -1);
	CU_ASSERT_EQUAL(g.held, 4711);
	kv_free(k);
	settings_free(s);
}

static void trl_gen_bump(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	/* The key's name. */
	char hex[2 * CRYPTO_SHA256_LEN + 1], name[KEYGEN_KEY_LEN + 1];
	memset(hex, 'a', sizeof hex - 1);
	hex[sizeof hex - 1] = '\0';
	hex[0] = '0';
	hex[63] = 'f';
	keygen_key(hex, name);
	CU_ASSERT_EQUAL(strlen(name), KEYGEN_KEY_LEN);
	CU_ASSERT_EQUAL(strncmp(name, "apikey:", 7), 0);
	CU_ASSERT_STRING_EQUAL(name + 7, hex);

	/* A first bump makes it; every bump gives a new value in [1, 2^48) for a day. */
	trl_names n;
	trl_names_new(&n);
	const char *hexpart = n.gen + 7;
	char v[64], prev[64] = "";
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(keygen_bump(trl_kv, hexpart), 0);
		CU_ASSERT_EQUAL_FATAL(trl_get(n.gen, v, sizeof v), 1);
		char *end;
		long long gen = strtoll(v, &end, 10);
		CU_ASSERT_EQUAL(*end, '\0');
		CU_ASSERT(gen >= 1 && gen < TRL_GEN_LIMIT);
		CU_ASSERT_STRING_NOT_EQUAL(v, prev);
		long long ttl = trl_int("TTL", n.gen, NULL);
		CU_ASSERT(ttl > KEYGEN_TTL_SECONDS - 5 && ttl <= KEYGEN_TTL_SECONDS);
		snprintf(prev, sizeof prev, "%s", v);
	}

	/* A revocation: a worker's kept generation stops matching, and nothing is counted. */
	trl_names_new(&n);
	hexpart = n.gen + 7;
	ratelimit_gen g = {.key = n.gen, .expect = 0, .fresh = 1001, .ttl_seconds = 60};
	ratelimit_result res;
	CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 0);
	CU_ASSERT(trl_int("TTL", n.gen, NULL) <= 60);
	CU_ASSERT_EQUAL(keygen_bump(trl_kv, hexpart), 0);
	CU_ASSERT_EQUAL_FATAL(trl_get(n.gen, v, sizeof v), 1);
	long long bumped = strtoll(v, NULL, 10);
	CU_ASSERT(bumped != 1001 && bumped >= 1 && bumped < TRL_GEN_LIMIT);
	CU_ASSERT(trl_int("TTL", n.gen, NULL) > KEYGEN_TTL_SECONDS - 5);
	g = (ratelimit_gen){.key = n.gen, .expect = 1001, .ttl_seconds = 60};
	CU_ASSERT_EQUAL(trl_counted(&n, 5, &g, &res), 1);
	CU_ASSERT_EQUAL(g.held, bumped);
	CU_ASSERT_EQUAL(trl_hget(n.hash, n.id), 1);

	/* Bumping over a value that is not a generation replaces it. */
	trl_names_new(&n);
	CU_ASSERT_EQUAL(trl_set(n.gen, "garbage"), 0);
	CU_ASSERT_EQUAL(keygen_bump(trl_kv, n.gen + 7), 0);
	CU_ASSERT_EQUAL(trl_get(n.gen, v, sizeof v), 1);
	CU_ASSERT(strtoll(v, NULL, 10) >= 1);

	/* Redis unreachable: -1. */
	settings *s = trl_settings(trl_free_port());
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	kv *k = kv_new(s);
	CU_ASSERT_EQUAL(keygen_bump(k, hexpart), -1);
	kv_free(k);
	settings_free(s);
}

static void trl_gen_new_range(void)
{
	long long all_or = 0, all_and = TRL_GEN_LIMIT - 1, prev = -1;
	int bad = 0, repeats = 0;
	for (int i = 0; i < 200000; i++) {
		long long g = keygen_new();
		bad += g <= 0 || g >= TRL_GEN_LIMIT;
		repeats += g == prev;
		all_or |= g;
		all_and &= g;
		prev = g;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(repeats, 0);
	/* All 48 bits are used, none is stuck. */
	CU_ASSERT_EQUAL(all_or, TRL_GEN_LIMIT - 1);
	CU_ASSERT_EQUAL(all_and, 0);
}

static void trl_kv_epoch(void)
{
	CU_ASSERT_FATAL(trl_setup() == 0);
	kv *k = kv_new(trl_cfg);
	/* Lazy: no connection, epoch 0; the first command connects. */
	CU_ASSERT_EQUAL(kv_epoch(k), 0);
	CU_ASSERT_EQUAL(kv_ping(k), 0);
	CU_ASSERT_EQUAL(kv_epoch(k), 1);
	CU_ASSERT_EQUAL(kv_ping(k), 0);
	CU_ASSERT_EQUAL(kv_epoch(k), 1);

	/* The server closes the connection: the next command reconnects (and succeeds), a new epoch. */
	arena *a = arena_new();
	kv_reply r;
	CU_ASSERT_EQUAL_FATAL(kv_command(k, a, 2, (const char *const[]){"CLIENT", "ID"}, &r), 0);
	CU_ASSERT_EQUAL_FATAL(r.type, KV_INT);
	CU_ASSERT_EQUAL(kv_epoch(k), 1);
	char id[32], reply[64];
	snprintf(id, sizeof id, "%lld", r.integer);
	const char *kill_argv[] = {"CLIENT", "KILL", "ID", id};
	CU_ASSERT_EQUAL(trl_cmd(trl_port, 4, kill_argv, reply, sizeof reply), 0);
	CU_ASSERT_STRING_EQUAL(reply, ":1\r\n");
	CU_ASSERT_EQUAL(kv_ping(k), 0);
	CU_ASSERT_EQUAL(kv_epoch(k), 2);
	CU_ASSERT_EQUAL(kv_ping(k), 0);
	CU_ASSERT_EQUAL(kv_epoch(k), 2);

	/* Redis restarted: the next command is answered by a new connection. */
	int port = trl_port;
	trl_stop();
	CU_ASSERT_EQUAL(kv_ping(k), -1);
	CU_ASSERT_EQUAL(kv_ping(k), -1);
	unsigned down = kv_epoch(k);
	CU_ASSERT(down >= 2);
	CU_ASSERT_FATAL(trl_start(port) == 0);
	CU_ASSERT_EQUAL(kv_ping(k), 0);
	CU_ASSERT(kv_epoch(k) > down);
	unsigned up = kv_epoch(k);
	CU_ASSERT_EQUAL(kv_ping(k), 0);
	CU_ASSERT_EQUAL(kv_epoch(k), up);
	/* Restarted while idle: at most the retry inside the command, and still a new epoch. */
	trl_stop();
	CU_ASSERT_FATAL(trl_start(port) == 0);
	CU_ASSERT_EQUAL(kv_ping(k), 0);
	CU_ASSERT(kv_epoch(k) > up);
	arena_free(a);
	kv_free(k);

	/* A handle that never reaches Redis stays at epoch 0. */
	settings *s = trl_settings(trl_free_port());
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	k = kv_new(s);
	CU_ASSERT_EQUAL(kv_ping(k), -1);
	CU_ASSERT_EQUAL(kv_ping(k), -1);
	CU_ASSERT_EQUAL(kv_epoch(k), 0);
	kv_free(k);
	settings_free(s);
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
		{"generation: expect 0 on a missing key creates it", trl_gen_create},
		{"generation: expect == held counts", trl_gen_match},
		{"generation: expect != held counts nothing", trl_gen_mismatch},
		{"generation: expect 0 but held: 1 with held", trl_gen_expect_missing_but_held},
		{"generation: a non-numeric value: held -1", trl_gen_not_a_number},
		{"generation: optional; limit 0; refused; redis down", trl_gen_optional},
		{"keygen_key and keygen_bump", trl_gen_bump},
		{"keygen_new in [1, 2^48)", trl_gen_new_range},
		{"kv_epoch counts connections", trl_kv_epoch},
	};
	CU_pSuite suite = CU_add_suite("ratelimit", NULL, trl_cleanup);

	if (!suite)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
