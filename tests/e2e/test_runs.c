/* test_runs: runs through the real scheduler: signals, cron, pause/resume/delete, agent types, recovery. */
#include "../fakes/fake_server.h"
#include "e2e.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bounded waits, in seconds: generous for a loaded 2-core machine under ASan; never a timing assertion. */
#define WAIT_RUN 60
#define WAIT_PROCESS 40

/* A time long past, for next_run_at: the agent is due, and its one catch-up run is scheduled for it. */
#define LONG_AGO "2020-01-01 00:00:00.000"

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T;
static const char *stack_dir;  /* AP_TEST_STACK_DIR */
static char fake[64];          /* http://127.0.0.1:PORT of the fake server */
static pid_t second = -1;      /* a second scheduler started by a test */

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
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

/* POST /api/v1/agents with the printf-built body; the new id into ID (64 bytes). 1 on 201. */
static int make_agent(char *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int make_agent(char *id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *body = vfmt(fmt, ap);
	va_end(ap);
	struct resp r = {0};
	http_call(&r, "POST", T.key, body, "/api/v1/agents");
	id[0] = '\0';
	int ok = CHECK_STATUS(r, 201) && jstr(r.json, "data.id");
	if (ok)
		snprintf(id, 64, "%s", jstr(r.json, "data.id"));
	else
		fprintf(stderr, "create agent %s -> %ld %s\n", body, r.status, r.body);
	resp_free(&r);
	free(body);
	return ok;
}

/* Sends a signal and checks the 202 shape; 1 when RUN holds the new run's id. */
static int signal_ok(const char *agent, const char *type, const char *payload, char *run, const char *file, int line)
{
	char body[4096];
	struct resp r = {0};
	snprintf(body, sizeof body, "{\"type\":\"%s\",\"payload\":%s}", type, payload);
	http_call(&r, "POST", T.key, body, "/api/v1/agents/%s/signals", agent);
	run[0] = '\0';
	int ok = e2e_check_status(&r, 202, file, line) && e2e_check(e2e_is_id(jstr(r.json, "data.id"), "sig_"), file, line,
								 "signal id %s", r.body) &&
		 e2e_check(e2e_is_id(jstr(r.json, "data.run_id"), "run_"), file, line, "run id %s", r.body) &&
		 e2e_check_str(jstr(r.json, "data.status"), "queued", "data.status", file, line);
	if (ok)
		snprintf(run, 64, "%s", jstr(r.json, "data.run_id"));
	resp_free(&r);
	return ok;
}
#define SIGNAL_OK(agent, type, payload, run) signal_ok((agent), (type), (payload), (run), __FILE__, __LINE__)

/* Polls GET /runs/RUN until its status is WANT (NULL: any status but queued and running), up to SECS. R holds
 * the last answer. 1 when reached. */
static int wait_run(const char *run, const char *want, int secs, struct resp *r)
{
	for (int i = 0; i < secs * 10; i++) {
		if (http_get(r, T.key, "/api/v1/runs/%s", run) == 200) {
			const char *st = jstr(r->json, "data.status");
			if (st && (want ? strcmp(st, want) == 0 : strcmp(st, "queued") != 0 && strcmp(st, "running") != 0))
				return 1;
		}
		nap(100);
	}
	return 0;
}

/* Waits for RUN to finish and checks it ended as WANT; R holds the run. */
static int finished_as(const char *run, const char *want, struct resp *r, const char *file, int line)
{
	int done = wait_run(run, NULL, WAIT_RUN, r);
	return e2e_check(done, file, line, "run %s did not finish within %d s: %s", run, WAIT_RUN, r->body) &&
	       e2e_check_str(jstr(r->json, "data.status"), want, "data.status", file, line);
}
#define FINISHED_AS(run, want, r) finished_as((run), (want), &(r), __FILE__, __LINE__)

/* The first cell of a one-row query as a number (-1 on failure). */
static long sql_number(const char *sql, const char *const *params)
{
	struct rows rows;
	long v = -1;
	if (e2e_sql(&rows, sql, params) >= 0 && rows.n == 1 && rows.cell[0][0])
		v = strtol(rows.cell[0][0], NULL, 10);
	rows_free(&rows);
	return v;
}

static long sql_exec(const char *sql, const char *p1, const char *p2)
{
	const char *params[] = {p1, p2, NULL};
	return e2e_sql(NULL, sql, params);
}

/* Deletes AGENT (the agents with a schedule go once their test is done: no more cron runs meanwhile). */
static void delete_agent(const char *agent)
{
	struct resp r = {0};
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/agents/%s", agent);
	CHECK_STATUS(r, 204);
	resp_free(&r);
}

/* GET /runs/RUN/messages into R; the number of messages, or -1. */
static int messages(const char *run, struct resp *r)
{
	if (http_get(r, T.key, "/api/v1/runs/%s/messages", run) != 200 || !json_is_array(jget(r->json, "data")))
		return -1;
	return (int)json_array_size(jget(r->json, "data"));
}

/* The content of message I of the list in R. */
static const char *message_content(const struct resp *r, size_t i)
{
	return json_string_value(json_object_get(json_array_get(jget(r->json, "data"), i), "content"));
}

/* ------------------------------------------------------------------------------------------------
 * The stack's scheduler: stopped and started like an operator would (pid file, signals, stack-ctl). */

/* The pid of the stack's scheduler (its pid file, checked against /proc), or -1. */
static pid_t scheduler_pid(void)
{
	char path[600], cmd[4096];
	long pid = -1;
	snprintf(path, sizeof path, "%s/run/scheduler.pid", stack_dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	if (pid <= 1)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, cmd, sizeof cmd - 1);
	close(fd);
	if (n <= 0)
		return -1;
	cmd[n] = '\0';
	return strstr(cmd, "agentplatform-scheduler") ? (pid_t)pid : -1;
}

/* 1 while any live (not zombie) process is in process group PGID. */
static int group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int alive = 0;
	while (d && !alive && (e = readdir(d))) {
		char path[300], buf[1024];
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* pid (comm) state ppid pgrp ...: comm may contain spaces, so parse after the last ')'. */
		char *p = strrchr(buf, ')');
		char state;
		long ppid, pgrp;
		if (p && sscanf(p + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid && state != 'Z' &&
		    state != 'X')
			alive = 1;
	}
	if (d)
		closedir(d);
	return alive;
}

/* Stops the stack's scheduler: SIGTERM (graceful: the supervisor and its workers exit) or SIGKILL of its
 * whole process group (supervisor and workers at once, mid-run). 0 once none of them is left. */
static int scheduler_stop(int sig)
{
	pid_t pid = scheduler_pid();
	if (pid < 0 || getpgid(pid) != pid) {
		fprintf(stderr, "runs: no scheduler process group to stop (pid %ld)\n", (long)pid);
		return -1;
	}
	if (kill(sig == SIGKILL ? -pid : pid, sig) != 0)
		return -1;
	for (int i = 0; i < WAIT_PROCESS * 10; i++) {
		if (!group_alive(pid))
			return 0;
		nap(100);
	}
	fprintf(stderr, "runs: the scheduler (group %ld) still runs %d s after signal %d\n", (long)pid, WAIT_PROCESS, sig);
	return -1;
}

static int scheduler_start(void)
{
	return e2e_stack("start") == 0 && scheduler_pid() > 0 ? 0 : -1;
}

/* A second agentplatform-scheduler on the stack's config (the build directory of the admin binary), logging
 * under the stack's log directory like the first; it gets SIGTERM if this test program dies. */
static pid_t start_second_scheduler(void)
{
	char dir[600], bin[700], logenv[700], asan[700], ubsan[700], errlog[700];
	snprintf(dir, sizeof dir, "%s", E2E.admin);
	snprintf(bin, sizeof bin, "%s/agentplatform-scheduler", dirname(dir));
	snprintf(logenv, sizeof logenv, "AGENTPLATFORM_LOG_FILE=%s/log/scheduler-2.log", stack_dir);
	snprintf(asan, sizeof asan, "ASAN_OPTIONS=detect_leaks=1:log_path=%s/log/asan:abort_on_error=0", stack_dir);
	snprintf(ubsan, sizeof ubsan, "UBSAN_OPTIONS=print_stacktrace=1:log_path=%s/log/ubsan", stack_dir);
	snprintf(errlog, sizeof errlog, "%s/log/scheduler-2.stderr", stack_dir);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		int in = open("/dev/null", O_RDONLY), out = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0640);
		if (in < 0 || out < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		setpgid(0, 0);
		const char *argv[] = {bin, "--config", E2E.config, NULL};
		const char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", logenv, asan, ubsan, NULL};
		execve(bin, (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	return pid;
}

/* The number of lines containing TEXT in the log file NAME under the stack's log directory. */
static int log_lines(const char *name, const char *text)
{
	char path[600], line[4096];
	int seen = 0;
	snprintf(path, sizeof path, "%s/log/%s", stack_dir, name);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		seen += strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return seen;
}

/* Waits until that number reaches N. */
static int wait_log_lines(const char *name, const char *text, int n)
{
	for (int i = 0; i < WAIT_PROCESS * 10; i++) {
		if (log_lines(name, text) >= n)
			return 0;
		nap(100);
	}
	return -1;
}

/* SIGTERM to the second scheduler and its exit status (-1: it had to be killed or did not run). */
static int stop_second_scheduler(void)
{
	if (second <= 0)
		return -1;
	pid_t pid = second;
	second = -1;
	kill(pid, SIGTERM);
	int st = 0;
	for (int i = 0; i < WAIT_PROCESS * 10; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		nap(100);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* ------------------------------------------------------------------------------------------------
 * Suite setup: the fake Open-Meteo server, and the stack's scheduler pointed at it. */

static int init(void)
{
	stack_dir = getenv("AP_TEST_STACK_DIR");
	if (!stack_dir || !*stack_dir) {
		fprintf(stderr, "runs: AP_TEST_STACK_DIR is not set (tests/run exports it)\n");
		return -1;
	}
	if (e2e_tenant(&T, "runs", "all", GENEROUS) != 0)
		return -1;
	int port = fake_server_start();
	if (port < 0) {
		fprintf(stderr, "runs: the fake server did not start\n");
		return -1;
	}
	snprintf(fake, sizeof fake, "http://127.0.0.1:%d", port);
	/* The restart gives the API workers and the scheduler the fake's URLs. */
	if (e2e_stack_settings("# Written by the e2e suite \"runs\": the weather service is its fake server.\n"
			       "weather_geocoding_url = %s/v1/search\nweather_forecast_url = %s/v1/forecast\n",
			       fake, fake) != 0)
		return -1;
	return scheduler_start();
}

static int cleanup(void)
{
	stop_second_scheduler();
	fake_server_stop();
	return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Tests */

static void test_signal_echo(void)
{
	char agent[64], run[64];
	struct resp r = {0}, m = {0}, g = {0};
	if (!make_agent(agent, "{\"name\":\"Echo\",\"type\":\"echo\",\"config\":{\"message\":\"hello\"}}"))
		return;
	if (!SIGNAL_OK(agent, "greeting", "{\"n\":1,\"text\":\"h\\u00e9\"}", run))
		return;
	if (FINISHED_AS(run, "succeeded", r)) {
		const json_t *d = jget(r.json, "data");
		CHECK_STR(jstr(d, "id"), run);
		CHECK_STR(jstr(d, "agent_id"), agent);
		CHECK_STR(jstr(d, "trigger.type"), "signal");
		CHECK_STR(jstr(d, "trigger.signal_type"), "greeting");
		CHECK(e2e_is_id(jstr(d, "trigger.signal_id"), "sig_"));
		CHECK(json_integer_value(jget(d, "output.echo.n")) == 1);
		CHECK_STR(jstr(d, "output.echo.text"), "h\xc3\xa9");
		CHECK(json_is_null(jget(d, "error_message")));
		CHECK(json_integer_value(jget(d, "attempt")) == 1);
		CHECK(e2e_is_timestamp(jstr(d, "started_at")) && e2e_is_timestamp(jstr(d, "finished_at")));
		CHECK(json_is_integer(jget(d, "duration_ms")) && json_integer_value(jget(d, "duration_ms")) >= 0);
	}
	if (CHECK(messages(run, &m) == 1)) {
		const json_t *msg = json_array_get(jget(m.json, "data"), 0);
		CHECK_STR(jstr(msg, "role"), "agent");
		CHECK_STR(jstr(msg, "run_id"), run);
		CHECK_STR(message_content(&m, 0), "hello {\"n\":1,\"text\":\"h\xc3\xa9\"}");
		CHECK(json_integer_value(jget(msg, "data.n")) == 1);
	}
	/* The agent is idle again, its last run recorded. */
	if (CHECK(http_get(&g, T.key, "/api/v1/agents/%s", agent) == 200)) {
		CHECK_STR(jstr(g.json, "data.status"), "idle");
		CHECK(e2e_is_timestamp(jstr(g.json, "data.last_run_at")));
	}
	resp_free(&r);
	resp_free(&m);
	resp_free(&g);
}

static void test_http_request(void)
{
	char ok[64], missing[64], strict[64], refused[64], run_ok[64], run_missing[64], run_strict[64], run_refused[64];
	struct resp r = {0}, m = {0}, g = {0};
	if (!make_agent(ok,
			"{\"name\":\"Post\",\"type\":\"http_request\",\"config\":{\"url\":\"%s/echo?token=secret\",\"method\":"
			"\"POST\",\"headers\":{\"Content-Type\":\"text/plain\",\"X-Test\":\"yes\"},\"body\":\"ping\"}}",
			fake) ||
	    !make_agent(missing, "{\"name\":\"404\",\"type\":\"http_request\",\"config\":{\"url\":\"%s/status/404\"}}",
			fake) ||
	    !make_agent(strict,
			"{\"name\":\"Strict\",\"type\":\"http_request\",\"config\":{\"url\":\"%s/status/503\","
			"\"fail_on_status\":true}}",
			fake) ||
	    /* Port 1 of loopback: nothing listens there. */
	    !make_agent(refused, "{\"name\":\"Nobody\",\"type\":\"http_request\",\"config\":{\"url\":\"http://127.0.0.1:1/\","
				 "\"timeout_seconds\":5}}"))
		return;
	if (!SIGNAL_OK(ok, "go", "{}", run_ok) || !SIGNAL_OK(missing, "go", "{}", run_missing) ||
	    !SIGNAL_OK(strict, "go", "{}", run_strict) || !SIGNAL_OK(refused, "go", "{}", run_refused))
		return;
	if (FINISHED_AS(run_ok, "succeeded", r)) {
		CHECK(json_integer_value(jget(r.json, "data.output.status")) == 200);
		CHECK(json_is_false(jget(r.json, "data.output.truncated")));
		json_t *echo = json_loads(jstr(r.json, "data.output.body") ? jstr(r.json, "data.output.body") : "", 0, NULL);
		CHECK_STR(jstr(echo, "method"), "POST");
		CHECK_STR(jstr(echo, "body"), "ping");
		CHECK_STR(jstr(echo, "content_type"), "text/plain");
		CHECK_STR(jstr(echo, "x_test"), "yes");
		json_decref(echo);
		char want[200];
		/* The display message leaves out the query (it may carry a token). */
		snprintf(want, sizeof want, "POST %s/echo -> 200", fake);
		if (CHECK(messages(run_ok, &m) == 1))
			CHECK_STR(message_content(&m, 0), want);
	}
	/* Any HTTP answer is a successful run, its status recorded ... */
	if (FINISHED_AS(run_missing, "succeeded", r))
		CHECK(json_integer_value(jget(r.json, "data.output.status")) == 404);
	/* ... unless fail_on_status asks for 4xx/5xx to fail it (the output is kept). */
	if (FINISHED_AS(run_strict, "failed", r)) {
		CHECK_STR(jstr(r.json, "data.error_message"), "the endpoint answered with HTTP status 503");
		CHECK(json_integer_value(jget(r.json, "data.output.status")) == 503);
	}
	if (FINISHED_AS(run_refused, "failed", r)) {
		const char *e = jstr(r.json, "data.error_message");
		CHECK(e && strncmp(e, "the request failed: ", 20) == 0);
		CHECK(json_is_null(jget(r.json, "data.output")));
	}
	/* A failed last run puts the agent in error; the next success clears it. */
	if (CHECK(http_get(&g, T.key, "/api/v1/agents/%s", strict) == 200))
		CHECK_STR(jstr(g.json, "data.status"), "error");
	char patch[200], again[64];
	snprintf(patch, sizeof patch, "{\"config\":{\"url\":\"%s/status/201\"}}", fake);
	CHECK(http_call(&g, "PATCH", T.key, patch, "/api/v1/agents/%s", strict) == 200);
	if (SIGNAL_OK(strict, "again", "{}", again) && FINISHED_AS(again, "succeeded", r) &&
	    CHECK(http_get(&g, T.key, "/api/v1/agents/%s", strict) == 200))
		CHECK_STR(jstr(g.json, "data.status"), "idle");
	resp_free(&r);
	resp_free(&m);
	resp_free(&g);
}

static void test_weather(void)
{
	static const struct {
		const char *config, *status, *text; /* text: the first message, or the error message */
	} CASES[] = {
		{"{\"location\":\"New York\"}", "succeeded", "New York: 7 °C, overcast, high 9 °C / low 3 °C, 20% rain"},
		{"{\"latitude\":52.52,\"longitude\":13.405,\"units\":\"imperial\"}", "succeeded",
		 "52.5200, 13.4050: 45 °F, overcast, high 48 °F / low 37 °F, 20% rain"},
		{"{\"location\":\"Rainville\",\"alert\":{\"rain_probability_above\":10}}", "succeeded",
		 "Rainville: 7 °C, overcast, high 9 °C / low 3 °C, 20% rain"},
		{"{\"location\":\"Dryville\",\"alert\":{\"rain_probability_above\":50}}", "succeeded",
		 "Dryville: 7 °C, overcast, high 9 °C / low 3 °C, 20% rain"},
		{"{\"location\":\"Nowhere\"}", "failed", "the weather service knows no place named \"Nowhere\""},
		{"{\"location\":\"Garbage\"}", "failed", "the weather service returned an unexpected answer"},
		{"{\"latitude\":1,\"longitude\":1}", "failed", "the weather service returned an unexpected answer"},
		{"{\"location\":\"Broken\"}", "failed", "the weather service answered with HTTP status 500"},
	};
	enum { N = sizeof CASES / sizeof CASES[0] };
	char agents[N][64], runs[N][64], last[1024];
	struct resp r = {0}, m = {0};
	int geo_before = fake_server_seen("/v1/search?", NULL, 0);
	for (int i = 0; i < N; i++)
		if (!make_agent(agents[i], "{\"name\":\"Weather %d\",\"type\":\"weather_check\",\"config\":%s}", i,
				CASES[i].config) ||
		    !SIGNAL_OK(agents[i], "check", "{}", runs[i]))
			return;
	for (int i = 0; i < N; i++) {
		if (!FINISHED_AS(runs[i], CASES[i].status, r))
			continue;
		if (strcmp(CASES[i].status, "failed") == 0) {
			CHECK_STR(jstr(r.json, "data.error_message"), CASES[i].text);
			continue;
		}
		const json_t *out = jget(r.json, "data.output");
		int imperial = i == 1;
		CHECK_STR(jstr(out, "units"), imperial ? "imperial" : "metric");
		CHECK(json_real_value(jget(out, "current.temperature")) == (imperial ? 45.0 : 7.2));
		CHECK(json_integer_value(jget(out, "current.weather_code")) == 3);
		CHECK_STR(jstr(out, "current.conditions"), "overcast");
		CHECK(json_real_value(jget(out, "today.temperature_max")) == (imperial ? 48.4 : 9.1));
		CHECK(json_number_value(jget(out, "today.temperature_min")) == (imperial ? 37.4 : 3.0));
		CHECK(json_integer_value(jget(out, "today.precipitation_probability_max")) == 20);
		int alert = i == 2;
		CHECK(alert ? json_is_object(jget(out, "alert")) : json_is_null(jget(out, "alert")));
		if (alert) {
			const json_t *c = json_array_get(jget(out, "alert.conditions"), 0);
			CHECK_STR(jstr(c, "condition"), "rain_probability_above");
			CHECK(json_integer_value(jget(c, "threshold")) == 10 && json_integer_value(jget(c, "value")) == 20);
		}
		if (CHECK(messages(runs[i], &m) == (alert ? 2 : 1))) {
			CHECK_STR(message_content(&m, 0), CASES[i].text);
			if (alert)
				CHECK_STR(message_content(&m, 1), "Weather alert for Rainville: 20% chance of rain (above 10%)");
		}
		if (i == 0)
			CHECK_STR(jstr(out, "location.country"), "Testland");
	}
	/* The Open-Meteo request shapes: geocoding for names only, Fahrenheit for imperial units. */
	CHECK(fake_server_seen("/v1/search?name=New%20York&count=1&language=en&format=json", NULL, 0) == 1);
	CHECK(fake_server_seen("/v1/search?", NULL, 0) - geo_before == 6);
	CHECK(fake_server_seen("/v1/forecast?latitude=40.7143&longitude=-74.0060&current=temperature_2m,weather_code"
			       "&daily=temperature_2m_max,temperature_2m_min,precipitation_probability_max&timezone=auto"
			       "&forecast_days=1",
			       last, sizeof last) >= 1);
	CHECK_STR(last, "/v1/forecast?latitude=40.7143&longitude=-74.0060&current=temperature_2m,weather_code"
			"&daily=temperature_2m_max,temperature_2m_min,precipitation_probability_max&timezone=auto"
			"&forecast_days=1");
	CHECK(fake_server_seen("/v1/forecast?latitude=52.5200&longitude=13.4050&", last, sizeof last) == 1);
	CHECK(strstr(last, "&temperature_unit=fahrenheit") != NULL);
	resp_free(&r);
	resp_free(&m);
}

/* The type's validator runs again at run time: a config changed behind the API's back fails the run clearly. */
static void test_runtime_validation(void)
{
	char bad_config[64], bad_type[64], run1[64], run2[64];
	struct resp r = {0};
	if (!make_agent(bad_config, "{\"name\":\"Bad config\",\"type\":\"echo\"}") ||
	    !make_agent(bad_type, "{\"name\":\"Bad type\",\"type\":\"echo\"}"))
		return;
	CHECK(sql_exec("UPDATE agents SET type = 'weather_check', config = '{\"units\":\"metric\"}' WHERE id = ?",
		       bad_config, NULL) == 1);
	CHECK(sql_exec("UPDATE agents SET type = 'teleport' WHERE id = ?", bad_type, NULL) == 1);
	if (!SIGNAL_OK(bad_config, "go", "{}", run1) || !SIGNAL_OK(bad_type, "go", "{}", run2))
		return;
	if (FINISHED_AS(run1, "failed", r))
		CHECK_STR(jstr(r.json, "data.error_message"),
			  "the agent's config is not valid: config.location is required for weather_check");
	if (FINISHED_AS(run2, "failed", r))
		CHECK_STR(jstr(r.json, "data.error_message"), "agent type \"teleport\" is not supported by this scheduler");
	/* Put the type back, so nothing else reads an agent of an unknown type. */
	sql_exec("UPDATE agents SET type = 'echo' WHERE id = ?", bad_type, NULL);
	resp_free(&r);
}

/* The schedule runs of AGENT due at LONG_AGO. */
static long cron_runs(const char *agent)
{
	const char *p[] = {agent, NULL};
	return sql_number("SELECT COUNT(*) FROM runs WHERE agent_id = ? AND trigger_type = 'schedule' "
			  "AND scheduled_for = '" LONG_AGO "'",
			  p);
}

/* Waits until AGENT has its LONG_AGO cron run; 1 when it came. */
static int wait_cron_run(const char *agent)
{
	for (int i = 0; i < WAIT_RUN * 10; i++) {
		if (cron_runs(agent) > 0)
			return 1;
		nap(100);
	}
	return 0;
}

static void test_cron(void)
{
	char agent[64];
	struct resp r = {0}, g = {0};
	if (!make_agent(agent, "{\"name\":\"Cron\",\"type\":\"echo\",\"schedule\":\"* * * * *\",\"config\":{\"message\":"
			       "\"tick\"}}"))
		return;
	/* Due long ago: one catch-up run, not one per missed minute. */
	CHECK(sql_exec("UPDATE agents SET next_run_at = '" LONG_AGO "' WHERE id = ?", agent, NULL) == 1);
	if (!CHECK(wait_cron_run(agent)))
		return;
	CHECK(cron_runs(agent) == 1);
	const char *p[] = {agent, NULL};
	CHECK(sql_number("SELECT COUNT(*) FROM runs WHERE agent_id = ? AND trigger_type = 'schedule' "
			 "AND scheduled_for < UTC_TIMESTAMP() - INTERVAL 2 MINUTE",
			 p) == 1);
	if (CHECK(http_get(&r, T.key, "/api/v1/agents/%s/runs", agent) == 200)) {
		const json_t *run = json_array_get(jget(r.json, "data"), json_array_size(jget(r.json, "data")) - 1);
		CHECK_STR(jstr(run, "trigger.type"), "schedule");
		char id[64];
		snprintf(id, sizeof id, "%s", jstr(run, "id") ? jstr(run, "id") : "");
		if (FINISHED_AS(id, "succeeded", r)) {
			struct resp m = {0};
			if (CHECK(messages(id, &m) == 1))
				CHECK_STR(message_content(&m, 0), "tick");
			resp_free(&m);
		}
	}
	/* next_run_at moved on from now: in the future. */
	if (CHECK(http_get(&g, T.key, "/api/v1/agents/%s", agent) == 200)) {
		const char *next = jstr(g.json, "data.next_run_at");
		char now[32];
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S", &tm);
		CHECK(next && strcmp(next, now) > 0);
	}
	delete_agent(agent);
	resp_free(&r);
	resp_free(&g);
}

static void test_paused_no_cron(void)
{
	char paused[64], control[64];
	struct resp r = {0};
	if (!make_agent(paused, "{\"name\":\"Paused cron\",\"type\":\"echo\",\"schedule\":\"* * * * *\"}") ||
	    !make_agent(control, "{\"name\":\"Control cron\",\"type\":\"echo\",\"schedule\":\"* * * * *\"}"))
		return;
	CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/agents/%s/pause", paused) == 200);
	/* The paused agent is due first: by the time the control agent has its run, the tick has passed it by. */
	CHECK(sql_exec("UPDATE agents SET next_run_at = '" LONG_AGO "' WHERE id = ?", paused, NULL) == 1);
	CHECK(sql_exec("UPDATE agents SET next_run_at = '" LONG_AGO "' + INTERVAL 1 SECOND WHERE id = ?", control, NULL) == 1);
	const char *p[] = {control, NULL};
	int came = 0;
	for (int i = 0; i < WAIT_RUN * 10 && !came; i++) {
		came = sql_number("SELECT COUNT(*) FROM runs WHERE agent_id = ? AND trigger_type = 'schedule'", p) > 0;
		if (!came)
			nap(100);
	}
	CHECK(came);
	const char *q[] = {paused, NULL};
	CHECK(sql_number("SELECT COUNT(*) FROM runs WHERE agent_id = ?", q) == 0);
	/* Signals to a paused agent are refused. */
	http_call(&r, "POST", T.key, "{\"type\":\"go\",\"payload\":{}}", "/api/v1/agents/%s/signals", paused);
	CHECK_ERROR(r, 409, "agent_paused", NULL);
	delete_agent(paused);
	delete_agent(control);
	resp_free(&r);
}

/* With the scheduler stopped: runs queued before a pause wait (the scheduler does not claim them, the sweep
 * does not push them), run once the agent is resumed; deleting an agent cancels its queued runs. */
static void test_pause_resume_delete(void)
{
	char waiter[64], doomed[64], control[64], w1[64], w2[64], d1[64], d2[64], c1[64];
	struct resp r = {0};
	if (!make_agent(waiter, "{\"name\":\"Waiter\",\"type\":\"echo\"}") ||
	    !make_agent(doomed, "{\"name\":\"Doomed\",\"type\":\"echo\"}") ||
	    !make_agent(control, "{\"name\":\"Control\",\"type\":\"echo\"}"))
		return;
	if (!CHECK(scheduler_stop(SIGTERM) == 0))
		return;
	int ok = SIGNAL_OK(waiter, "one", "{}", w1) && SIGNAL_OK(waiter, "two", "{}", w2) &&
		 SIGNAL_OK(doomed, "one", "{}", d1) && SIGNAL_OK(doomed, "two", "{}", d2);
	CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/agents/%s/pause", waiter) == 200);
	CHECK(http_call(&r, "DELETE", T.key, NULL, "/api/v1/agents/%s", doomed) == 204);
	CHECK(scheduler_start() == 0);
	if (!ok)
		goto out;
	for (int i = 0; i < 2; i++) {
		const char *id = i ? d2 : d1;
		if (CHECK(http_get(&r, T.key, "/api/v1/runs/%s", id) == 200)) {
			CHECK_STR(jstr(r.json, "data.status"), "cancelled");
			CHECK(jstr(r.json, "data.error_message") != NULL);
		}
	}
	/* The control run was queued after the paused agent's runs and after the sweep's delay: once it is
	 * done, the scheduler has seen (and left) the paused agent's runs. */
	if (SIGNAL_OK(control, "go", "{}", c1) && FINISHED_AS(c1, "succeeded", r)) {
		nap(2500); /* longer than sweep_requeue_after_seconds: the sweep must not take them either */
		for (int i = 0; i < 2; i++)
			if (CHECK(http_get(&r, T.key, "/api/v1/runs/%s", i ? w2 : w1) == 200))
				CHECK_STR(jstr(r.json, "data.status"), "queued");
	}
	CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/agents/%s/resume", waiter) == 200);
	FINISHED_AS(w1, "succeeded", r);
	FINISHED_AS(w2, "succeeded", r);
	for (int i = 0; i < 2; i++)
		if (CHECK(http_get(&r, T.key, "/api/v1/runs/%s", i ? d2 : d1) == 200))
			CHECK_STR(jstr(r.json, "data.status"), "cancelled");
out:
	resp_free(&r);
}

static void test_redis_flushall(void)
{
	const char *port = getenv("AP_TEST_REDIS_PORT");
	char agent[64], runs[3][64];
	struct resp r = {0};
	if (!CHECK(port && *port) || !make_agent(agent, "{\"name\":\"Flushed\",\"type\":\"echo\"}"))
		return;
	if (!CHECK(scheduler_stop(SIGTERM) == 0))
		return;
	int ok = 1;
	for (int i = 0; i < 3 && ok; i++)
		ok = SIGNAL_OK(agent, "go", "{}", runs[i]);
	const char *flush[] = {"redis-cli", "-h", "127.0.0.1", "-p", port, "FLUSHALL", NULL};
	CHECK(e2e_run_program(flush) == 0);
	CHECK(scheduler_start() == 0);
	for (int i = 0; i < 3 && ok; i++)
		if (FINISHED_AS(runs[i], "succeeded", r))
			CHECK(json_integer_value(jget(r.json, "data.attempt")) == 1);
	resp_free(&r);
}

static void test_sigkill_mid_run(void)
{
	char agent[64], gone[64], run[64], run_gone[64];
	struct resp r = {0}, g = {0};
#define SLOW_AGENT \
	"{\"name\":\"Slow\",\"type\":\"http_request\",\"config\":{\"url\":\"%s/slow?ms=3000\",\"timeout_seconds\":20}}"
	if (!make_agent(agent, SLOW_AGENT, fake) || !make_agent(gone, SLOW_AGENT, fake))
		return;
#undef SLOW_AGENT
	int slow_before = fake_server_seen("/slow", NULL, 0);
	if (!SIGNAL_OK(agent, "go", "{}", run) || !SIGNAL_OK(gone, "go", "{}", run_gone))
		return;
	/* Both running (scheduler_concurrency is 2 in tests/e2e/stack.conf). */
	if (!CHECK(wait_run(run, "running", WAIT_RUN, &r)) || !CHECK(wait_run(run_gone, "running", WAIT_RUN, &r)))
		goto out;
	if (CHECK(http_get(&g, T.key, "/api/v1/agents/%s", agent) == 200))
		CHECK_STR(jstr(g.json, "data.status"), "running");
	if (!CHECK(scheduler_stop(SIGKILL) == 0))
		goto out;
	/* The second agent is deleted while its run is orphaned: that run is cancelled, not run again. */
	delete_agent(gone);
	CHECK(scheduler_start() == 0);
	/* Recovered once its heartbeat expires: queued again, claimed again, done. */
	if (FINISHED_AS(run, "succeeded", r)) {
		CHECK(json_integer_value(jget(r.json, "data.attempt")) == 2);
		CHECK(json_integer_value(jget(r.json, "data.output.status")) == 200);
	}
	if (FINISHED_AS(run_gone, "cancelled", r))
		CHECK_STR(jstr(r.json, "data.error_message"), "cancelled: the agent was deleted");
	CHECK(fake_server_seen("/slow", NULL, 0) - slow_before == 3);
	if (CHECK(http_get(&g, T.key, "/api/v1/agents/%s", agent) == 200))
		CHECK_STR(jstr(g.json, "data.status"), "idle");
out:
	resp_free(&r);
	resp_free(&g);
}

static void test_two_schedulers(void)
{
	enum { N = 12 };
	char agents[N][64] = {{0}};
	struct resp r = {0};
	/* Both schedulers run before anything is due: the second one has started its workers. */
	int started = log_lines("scheduler-2.log", "] run worker ");
	second = start_second_scheduler();
	if (!CHECK(second > 0) || !CHECK(wait_log_lines("scheduler-2.log", "] run worker ", started + 2) == 0))
		goto stop;
	for (int i = 0; i < N; i++)
		if (!make_agent(agents[i], "{\"name\":\"Twin %d\",\"type\":\"echo\",\"schedule\":\"* * * * *\"}", i))
			goto stop;
	/* All due at once, while both schedulers tick every second. */
	char list[N * 70] = "";
	size_t o = 0;
	for (int i = 0; i < N; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s'%s'", i ? "," : "", agents[i]);
	char sql[sizeof list + 200];
	snprintf(sql, sizeof sql, "UPDATE agents SET next_run_at = '" LONG_AGO "' WHERE id IN (%s)", list);
	CHECK(e2e_sql(NULL, sql, NULL) == N);
	for (int i = 0; i < N; i++) {
		if (!CHECK(wait_cron_run(agents[i])))
			continue;
		CHECK(cron_runs(agents[i]) == 1);
		struct rows rows;
		const char *p[] = {agents[i], NULL};
		if (e2e_sql(&rows, "SELECT id FROM runs WHERE agent_id = ? AND scheduled_for = '" LONG_AGO "'", p) == 1) {
			char id[64];
			snprintf(id, sizeof id, "%s", rows.cell[0][0]);
			/* Executed exactly once: one attempt, one message. */
			if (FINISHED_AS(id, "succeeded", r)) {
				struct resp m = {0};
				CHECK(json_integer_value(jget(r.json, "data.attempt")) == 1);
				CHECK(messages(id, &m) == 1);
				resp_free(&m);
			}
		}
		rows_free(&rows);
	}
stop:
	/* SIGTERM: the second scheduler stops taking work and exits cleanly. */
	CHECK(stop_second_scheduler() == 0);
	for (int i = 0; i < N; i++)
		if (agents[i][0])
			delete_agent(agents[i]);
	resp_free(&r);
}

int suite_runs_register(void)
{
	CU_pSuite s = CU_add_suite("runs", init, cleanup);
	if (!s)
		return -1;
	if (!CU_add_test(s, "signal -> echo run succeeded, output and message", test_signal_echo) ||
	    !CU_add_test(s, "http_request: status, body, fail_on_status, refused", test_http_request) ||
	    !CU_add_test(s, "weather_check against the fake Open-Meteo", test_weather) ||
	    !CU_add_test(s, "run-time config validation and unknown types", test_runtime_validation) ||
	    !CU_add_test(s, "cron: one catch-up run for a schedule due long ago", test_cron) ||
	    !CU_add_test(s, "paused agent: no cron run, 409 on signal", test_paused_no_cron) ||
	    !CU_add_test(s, "queued runs wait for resume; delete cancels them", test_pause_resume_delete) ||
	    !CU_add_test(s, "Redis FLUSHALL with queued runs: they still complete", test_redis_flushall) ||
	    !CU_add_test(s, "SIGKILL of the scheduler mid-run: the run completes", test_sigkill_mid_run) ||
	    !CU_add_test(s, "two schedulers create each cron run once", test_two_schedulers))
		return -1;
	return 0;
}
