/* test_calendar: calendar connections against a real CalDAV server (Debian's radicale, started here on
 * 127.0.0.1): admin connection add/list/remove, GET /connections, calendar_digest runs end to end. */
/* nftw */
#define _XOPEN_SOURCE 700
#include "e2e.h"

#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
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

#define WAIT_RUN 60
#define WAIT_RADICALE 30

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T, OTHER;
static char dir[128];         /* radicale's private config, users and storage */
static char base[64];         /* http://127.0.0.1:PORT */
static char calendar[128];    /* the calendar collection of user alice */
static pid_t radicale = -1;

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A free TCP port on 127.0.0.1 (bound and released: radicale binds it right after). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

/* METHOD URL as alice (PASSWORD) with BODY (NULL: none) of CONTENT_TYPE: the HTTP status, 0 when none came. */
static long dav(const char *method, const char *url, const char *password, const char *body, const char *content_type)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char ct[128];
	long status = 0;
	if (!c)
		return 0;
	snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type : "text/calendar; charset=utf-8");
	if (body)
		h = curl_slist_append(h, ct);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_USERNAME, "alice");
	curl_easy_setopt(c, CURLOPT_PASSWORD, password);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static int write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* "YYYYMMDD" of the UTC day DAYS from now. */
static void day_text(int days, char *out, size_t n)
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y%m%d", &tm);
}

/* Starts radicale with htpasswd (plain) auth for alice:secret and its own storage, then makes alice's
 * calendar and puts the events the digest test expects (dates relative to today). */
static int start_radicale(void)
{
	snprintf(dir, sizeof dir, "/tmp/ap-e2e-radicale.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	int port = free_port();
	if (port < 0)
		return -1;
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
	snprintf(calendar, sizeof calendar, "%s/alice/work/", base);
	char conf[1024];
	snprintf(conf, sizeof conf,
		 "[server]\nhosts = 127.0.0.1:%d\n[auth]\ntype = htpasswd\nhtpasswd_filename = %s/users\n"
		 "htpasswd_encryption = plain\ndelay = 0\n[storage]\nfilesystem_folder = %s/collections\n"
		 "[rights]\ntype = owner_only\n[web]\ntype = none\n[logging]\nlevel = warning\n",
		 port, dir, dir);
	if (write_file("users", "alice:secret\n") != 0 || write_file("config", conf) != 0)
		return -1;
	char cpath[256], logpath[256];
	snprintf(cpath, sizeof cpath, "%s/config", dir);
	snprintf(logpath, sizeof logpath, "%s/radicale.log", dir);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		FILE *log = freopen(logpath, "w", stderr);
		(void)log;
		execlp("radicale", "radicale", "--config", cpath, (char *)NULL);
		_exit(127);
	}
	radicale = pid;
	for (int i = 0; i < WAIT_RADICALE * 10; i++) {
		long st = dav("MKCALENDAR", calendar, "secret", NULL, NULL);
		if (st == 201)
			return 0;
		if (st != 0) {
			fprintf(stderr, "calendar: MKCALENDAR answered %ld\n", st);
			return -1;
		}
		int wst;
		if (waitpid(pid, &wst, WNOHANG) == pid) {
			fprintf(stderr, "calendar: radicale exited (see %s)\n", logpath);
			radicale = -1;
			return -1;
		}
		nap(100);
	}
	fprintf(stderr, "calendar: radicale did not answer within %d s\n", WAIT_RADICALE);
	return -1;
}

/* PUTs one calendar object NAME.ics with the VEVENT lines EVENT. */
static int put_event(const char *name, const char *event)
{
	char url[256], body[2048];
	snprintf(url, sizeof url, "%s%s.ics", calendar, name);
	snprintf(body, sizeof body,
		 "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//agentplatform e2e//EN\r\nBEGIN:VEVENT\r\n%s"
		 "DTSTAMP:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		 event);
	long st = dav("PUT", url, "secret", body, NULL);
	if (st != 201 && st != 204)
		fprintf(stderr, "calendar: PUT %s answered %ld\n", name, st);
	return st == 201 || st == 204 ? 0 : -1;
}

static int put_events(void)
{
	char d1[16], d2[16], d3[16], past[16], far[16], ev[1024];
	day_text(1, d1, sizeof d1);
	day_text(2, d2, sizeof d2);
	day_text(3, d3, sizeof d3);
	day_text(1 - 28, past, sizeof past);
	day_text(20, far, sizeof far);
	/* Tomorrow 09:00-10:30 in Berlin, with a folded, escaped summary and a location. */
	snprintf(ev, sizeof ev,
		 "UID:timed@e2e\r\nDTSTART;TZID=Europe/Berlin:%sT090000\r\nDTEND;TZID=Europe/Berlin:%sT103000\r\n"
		 "SUMMARY:Team sync\\, planning\r\n  and review\r\nLOCATION:Room 42\r\n",
		 d1, d1);
	if (put_event("timed", ev) != 0)
		return -1;
	snprintf(ev, sizeof ev, "UID:allday@e2e\r\nDTSTART;VALUE=DATE:%s\r\nDTEND;VALUE=DATE:%s\r\nSUMMARY:Offsite\r\n", d2,
		 d3);
	if (put_event("allday", ev) != 0)
		return -1;
	/* Weekly at 12:00 UTC since four weeks before tomorrow: tomorrow and a week later fall in a 10-day window. */
	snprintf(ev, sizeof ev,
		 "UID:weekly@e2e\r\nDTSTART:%sT120000Z\r\nDTEND:%sT124500Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Standup\r\n",
		 past, past);
	if (put_event("weekly", ev) != 0)
		return -1;
	snprintf(ev, sizeof ev, "UID:far@e2e\r\nDTSTART:%sT120000Z\r\nDTEND:%sT130000Z\r\nSUMMARY:Far away\r\n", far, far);
	return put_event("far", ev);
}

static int init(void)
{
	if (e2e_tenant(&T, "calendar", "all", GENEROUS) != 0 || e2e_tenant(&OTHER, "calendar-other", "all", GENEROUS) != 0)
		return -1;
	if (start_radicale() != 0 || put_events() != 0)
		return -1;
	return 0;
}

static int cleanup(void)
{
	if (radicale > 0) {
		int st;
		kill(radicale, SIGTERM);
		waitpid(radicale, &st, 0);
		radicale = -1;
	}
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Helpers */

/* POST PATH with the printf-built BODY as KEY; the new id into ID (64 bytes). 1 on 201. */
static int create(const char *key, const char *path, char *id, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int create(const char *key, const char *path, char *id, const char *fmt, ...)
{
	char body[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	struct resp r = {0};
	http_call(&r, "POST", key, body, "%s", path);
	int ok = CHECK_STATUS(r, 201) && jstr(r.json, "data.id");
	snprintf(id, 64, "%s", ok ? jstr(r.json, "data.id") : "");
	if (!ok)
		fprintf(stderr, "POST %s %s -> %ld %s\n", path, body, r.status, r.body);
	resp_free(&r);
	return ok;
}

static int basic_credential(const char *key, const char *password, char *id)
{
	return create(key, "/api/v1/credentials", id,
		      "{\"name\":\"calendar login\",\"type\":\"basic_auth\",\"secret\":{\"username\":\"alice\",\"password\":\"%s\"}}",
		      password);
}

/* agentplatform-admin connection add for ACCOUNT with CREDENTIAL at URL (+ EXTRA args); the exit status, the id
 * into ID (64 bytes) on success. */
static int conn_add(const char *account, const char *url, const char *credential, const char *const *extra, char *id,
		    struct admin_run *run)
{
	const char *argv[24] = {"connection", "add",        "--account",  account, "--provider",
				"caldav",     "--url",      url,          "--credential", credential};
	int n = 10;
	for (int i = 0; extra && extra[i] && n < 22; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	int st = e2e_admin(run, argv, NULL);
	if (id)
		snprintf(id, 64, "%.63s", st == 0 ? run->out : "");
	return st;
}

/* Polls GET /runs/RUN until it finished (not queued or running), up to WAIT_RUN; R holds the last answer. */
static int finished(const char *run, struct resp *r)
{
	for (int i = 0; i < WAIT_RUN * 10; i++) {
		if (http_get(r, T.key, "/api/v1/runs/%s", run) == 200) {
			const char *st = jstr(r->json, "data.status");
			if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0)
				return 1;
		}
		nap(100);
	}
	return 0;
}

/* A calendar_digest agent on CONNECTION signalled once; the run id into RUN (64 bytes). 1 when queued. */
static int digest_run(const char *connection, int days, char *agent, char *run)
{
	if (!create(T.key, "/api/v1/agents", agent,
		    "{\"name\":\"digest\",\"type\":\"calendar_digest\",\"config\":{\"connection_id\":\"%s\",\"days_ahead\":%d}}",
		    connection, days))
		return 0;
	struct resp r = {0};
	http_call(&r, "POST", T.key, "{\"type\":\"digest\",\"payload\":{}}", "/api/v1/agents/%s/signals", agent);
	int ok = CHECK_STATUS(r, 202) && jstr(r.json, "data.run_id");
	snprintf(run, 64, "%s", ok ? jstr(r.json, "data.run_id") : "");
	resp_free(&r);
	return ok;
}

/* The connection ID as GET /connections lists it for KEY (a new reference), or NULL. */
static json_t *listed(const char *key, const char *id)
{
	struct resp r = {0};
	json_t *found = NULL;
	char cursor[128] = "";
	for (int page = 0; page < 20 && !found; page++) {
		if (cursor[0])
			http_get(&r, key, "/api/v1/connections?limit=100&cursor=%s", cursor);
		else
			http_get(&r, key, "/api/v1/connections?limit=100");
		if (r.status != 200)
			break;
		size_t i;
		json_t *c;
		json_array_foreach(jget(r.json, "data"), i, c)
		{
			if (strcmp(jstr(c, "id") ? jstr(c, "id") : "", id) == 0)
				found = json_incref(c);
		}
		const char *next = jstr(r.json, "next_cursor");
		if (!next)
			break;
		snprintf(cursor, sizeof cursor, "%s", next);
	}
	resp_free(&r);
	return found;
}

/* ------------------------------------------------------------------------------------------------
 * Tests */

static void test_admin_add(void)
{
	char good[64], other_cred[64], bearer[64], smtp[64], revoked[64], conn[64];
	struct admin_run run;
	if (!basic_credential(T.key, "secret", good) || !basic_credential(OTHER.key, "secret", other_cred) ||
	    !create(T.key, "/api/v1/credentials", bearer,
		    "{\"name\":\"token\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"tok-0123456789abcdef\"}}") ||
	    !create(T.key, "/api/v1/credentials", smtp,
		    "{\"name\":\"mail\",\"type\":\"smtp\",\"secret\":{\"host\":\"127.0.0.1\",\"port\":25,\"username\":\"u\","
		    "\"password\":\"p\",\"from\":\"a@example.com\",\"tls\":\"none\"}}") ||
	    !basic_credential(T.key, "secret", revoked))
		return;
	struct resp r = {0};
	http_call(&r, "POST", T.key, NULL, "/api/v1/credentials/%s/revoke", revoked);
	CHECK_STATUS(r, 200);

	/* Refusals: exit status 2 with a reason, nothing created. */
	CHECK(conn_add(T.account, "ftp://127.0.0.1/cal/", good, NULL, NULL, &run) == 2 && strstr(run.err, "--url"));
	CHECK(conn_add(T.account, "http://alice:secret@127.0.0.1/cal/", good, NULL, NULL, &run) == 2 &&
	      strstr(run.err, "user name or password"));
	CHECK(conn_add(T.account, calendar, other_cred, NULL, NULL, &run) == 2 && strstr(run.err, "not a credential of"));
	CHECK(conn_add(T.account, calendar, "cred_nope", NULL, NULL, &run) == 2);
	CHECK(conn_add(T.account, calendar, revoked, NULL, NULL, &run) == 2 && strstr(run.err, "revoked"));
	CHECK(conn_add(T.account, calendar, smtp, NULL, NULL, &run) == 2 && strstr(run.err, "basic_auth or bearer_token"));
	CHECK(conn_add("acct_0000000000000000000000000", calendar, good, NULL, NULL, &run) == 2 &&
	      strstr(run.err, "unknown account"));
	const char *other_provider[] = {"connection", "add", "--account", T.account, "--provider", "google", "--url",
					calendar, "--credential", good, NULL};
	CHECK(e2e_admin(&run, other_provider, NULL) == 2 && strstr(run.err, "--provider"));
	const char *missing[] = {"connection", "add", "--account", T.account, "--url", calendar, NULL};
	CHECK(e2e_admin(&run, missing, NULL) == 2);

	/* A bearer credential is accepted too; the id alone on stdout; an audit row with actor cli. */
	const char *named[] = {"--name", "Work calendar", "--login", "alice@example.com", NULL};
	CHECK(conn_add(T.account, calendar, bearer, named, conn, &run) == 0);
	CHECK(e2e_is_id(conn, "conn_"));
	struct rows rows;
	const char *params[] = {T.account, conn, NULL};
	CHECK(e2e_sql(&rows, "SELECT actor, action, target_type FROM audit_logs WHERE account_id = ? AND target_id = ?",
		      params) == 1 &&
	      rows.n == 1 && strcmp(rows.cell[0][0], "cli") == 0 && strcmp(rows.cell[0][1], "connection.created") == 0 &&
	      strcmp(rows.cell[0][2], "connection") == 0);
	rows_free(&rows);
	json_t *c = listed(T.key, conn);
	CHECK(c != NULL);
	CHECK_STR(jstr(c, "display_name"), "Work calendar");
	CHECK_STR(jstr(c, "account"), "alice@example.com");
	json_decref(c);

	/* list shows it; remove takes it away (and is audited); a second remove is refused. */
	const char *list[] = {"connection", "list", "--account", T.account, NULL};
	CHECK(e2e_admin(&run, list, NULL) == 0 && strstr(run.out, conn));
	const char *rm[] = {"connection", "remove", "--account", T.account, conn, NULL};
	CHECK(e2e_admin(&run, rm, NULL) == 0);
	CHECK(e2e_admin(&run, rm, NULL) == 2);
	c = listed(T.key, conn);
	CHECK(c == NULL);
	json_decref(c);
	CHECK(e2e_sql(NULL, "SELECT id FROM audit_logs WHERE account_id = ? AND target_id = ? AND action = 'connection.deleted'",
		      params) == 1);
	resp_free(&r);
}

static void test_list(void)
{
	char cred[64], ids[3][64];
	struct admin_run run;
	if (!basic_credential(T.key, "secret", cred))
		return;
	for (int i = 0; i < 3; i++)
		if (!CHECK(conn_add(T.account, calendar, cred, NULL, ids[i], &run) == 0))
			return;
	/* Exactly the documented members; the URL and credential stay server-side. */
	struct resp r = {0};
	json_t *c = listed(T.key, ids[2]);
	if (CHECK(c != NULL)) {
		static const char *const members[] = {"id", "provider", "display_name", "account", "status",
						      "last_error", "last_synced_at", "created_at"};
		CHECK(json_object_size(c) == sizeof members / sizeof members[0]);
		for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
			CHECK(json_object_get(c, members[i]) != NULL);
		CHECK_STR(jstr(c, "provider"), "caldav");
		CHECK_STR(jstr(c, "status"), "active");
		CHECK(json_is_null(json_object_get(c, "last_error")) && json_is_null(json_object_get(c, "last_synced_at")));
		CHECK(e2e_is_timestamp(jstr(c, "created_at")));
		CHECK(strstr(jstr(c, "display_name") ? jstr(c, "display_name") : "", "127.0.0.1") != NULL);
		CHECK(strstr(jstr(c, "account") ? jstr(c, "account") : "", "127.0.0.1") != NULL);
	}
	json_decref(c);

	/* Pagination: newest first, two per page. */
	http_get(&r, T.key, "/api/v1/connections?limit=2");
	if (CHECK_STATUS(r, 200)) {
		CHECK(json_array_size(jget(r.json, "data")) == 2);
		CHECK(json_is_true(jget(r.json, "has_more")));
		CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), ids[2]);
		CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 1), "id"), ids[1]);
		char next[128];
		snprintf(next, sizeof next, "%s", jstr(r.json, "next_cursor") ? jstr(r.json, "next_cursor") : "");
		http_get(&r, T.key, "/api/v1/connections?limit=2&cursor=%s", next);
		if (CHECK_STATUS(r, 200))
			CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "id"), ids[0]);
	}
	http_get(&r, T.key, "/api/v1/connections?cursor=garbage");
	CHECK_ERROR(r, 400, "cursor_invalid", "cursor");

	/* Another account sees none of them. */
	c = listed(OTHER.key, ids[0]);
	CHECK(c == NULL);
	json_decref(c);

	/* The scope: connections:read. */
	char key[64], key_id[64];
	if (e2e_key(&T, "agents:read runs:read", GENEROUS, key, key_id) == 0) {
		http_get(&r, key, "/api/v1/connections");
		CHECK_ERROR(r, 403, "missing_scope", NULL);
	}
	http_get(&r, NULL, "/api/v1/connections");
	CHECK_STATUS(r, 401);
	resp_free(&r);
}

/* An agent's config must name a connection of its own account. */
static void test_agent_config(void)
{
	char cred[64], mine[64], their_cred[64], theirs[64];
	struct admin_run run;
	if (!basic_credential(T.key, "secret", cred) || !basic_credential(OTHER.key, "secret", their_cred) ||
	    !CHECK(conn_add(T.account, calendar, cred, NULL, mine, &run) == 0) ||
	    !CHECK(conn_add(OTHER.account, calendar, their_cred, NULL, theirs, &run) == 0))
		return;
	struct resp r = {0};
	char body[512];
	snprintf(body, sizeof body, "{\"name\":\"d\",\"type\":\"calendar_digest\",\"config\":{\"connection_id\":\"%s\"}}",
		 theirs);
	http_call(&r, "POST", T.key, body, "/api/v1/agents");
	CHECK_ERROR(r, 404, "not_found", "config.connection_id");
	http_call(&r, "POST", T.key,
		  "{\"name\":\"d\",\"type\":\"calendar_digest\",\"config\":{\"connection_id\":\"conn_x\"}}", "/api/v1/agents");
	CHECK_ERROR(r, 404, "not_found", "config.connection_id");
	snprintf(body, sizeof body,
		 "{\"name\":\"d\",\"type\":\"calendar_digest\",\"config\":{\"connection_id\":\"%s\",\"days_ahead\":0}}", mine);
	http_call(&r, "POST", T.key, body, "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_invalid", "config.days_ahead");
	http_call(&r, "POST", T.key, "{\"name\":\"d\",\"type\":\"calendar_digest\",\"config\":{}}", "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_missing", "config.connection_id");
	/* The same check at update: an agent of its own connection cannot be pointed at another account's. */
	char agent[64];
	if (create(T.key, "/api/v1/agents", agent,
		   "{\"name\":\"d\",\"type\":\"calendar_digest\",\"config\":{\"connection_id\":\"%s\"}}", mine)) {
		snprintf(body, sizeof body, "{\"config\":{\"connection_id\":\"%s\"}}", theirs);
		struct req q = {.method = "PATCH", .path = NULL, .key = T.key, .body = body,
				.content_type = "application/merge-patch+json"};
		char path[128];
		snprintf(path, sizeof path, "/api/v1/agents/%s", agent);
		q.path = path;
		http_send(&q, &r);
		CHECK_ERROR(r, 404, "not_found", "config.connection_id");
	}
	resp_free(&r);
}

static void test_digest(void)
{
	char cred[64], conn[64], agent[64], run_id[64];
	struct admin_run run;
	if (!basic_credential(T.key, "secret", cred) ||
	    !CHECK(conn_add(T.account, calendar, cred, NULL, conn, &run) == 0) || !digest_run(conn, 10, agent, run_id))
		return;
	struct resp r = {0};
	if (!CHECK(finished(run_id, &r)))
		goto out;
	if (!CHECK_STR(jstr(r.json, "data.status"), "succeeded")) {
		fprintf(stderr, "digest run: %s\n", r.body);
		goto out;
	}
	/* The output: four events in order (the weekly one expanded twice, the far one left out). */
	json_t *events = jget(r.json, "data.output.events");
	CHECK(json_integer_value(jget(r.json, "data.output.count")) == 4);
	if (CHECK(json_array_size(events) == 4)) {
		const char *want[] = {"Team sync, planning and review", "Standup", "Offsite", "Standup"};
		json_t *e0 = json_array_get(events, 0), *e2 = json_array_get(events, 2);
		for (int i = 0; i < 4; i++)
			CHECK_STR(jstr(json_array_get(events, (size_t)i), "summary"), want[i]);
		CHECK_STR(jstr(e0, "timezone"), "Europe/Berlin");
		CHECK_STR(jstr(e0, "location"), "Room 42");
		CHECK(json_is_false(json_object_get(e0, "all_day")));
		CHECK(json_is_true(json_object_get(e2, "all_day")));
		CHECK(strlen(jstr(e2, "start") ? jstr(e2, "start") : "") == 10);
		CHECK(json_is_true(json_object_get(json_array_get(events, 3), "recurring")));
		const char *s = jstr(json_array_get(events, 1), "start");
		CHECK(s && strlen(s) == 20 && strcmp(s + 10, "T12:00:00Z") == 0);
	}
	/* The display message, readable: day, local time range and zone, summary, location. */
	http_get(&r, T.key, "/api/v1/runs/%s/messages", run_id);
	if (CHECK_STATUS(r, 200) && CHECK(json_array_size(jget(r.json, "data")) == 1)) {
		const char *m = jstr(json_array_get(jget(r.json, "data"), 0), "content");
		m = m ? m : "";
		CHECK(strstr(m, "4 upcoming events in the next 10 days") != NULL);
		CHECK(strstr(m, "09:00-10:30 (Europe/Berlin): Team sync, planning and review — Room 42") != NULL);
		CHECK(strstr(m, "12:00-12:45 (UTC): Standup") != NULL);
		CHECK(strstr(strstr(m, "Standup") ? strstr(m, "Standup") + 1 : "", "Standup") != NULL);
		CHECK(strstr(m, "all day: Offsite") != NULL);
		CHECK(strstr(m, "Far away") == NULL);
		if (!strstr(m, "Team sync"))
			fprintf(stderr, "digest message: %s\n", m);
	}
	/* The connection recorded a successful sync. */
	json_t *c = listed(T.key, conn);
	if (CHECK(c != NULL)) {
		CHECK_STR(jstr(c, "status"), "active");
		CHECK(e2e_is_timestamp(jstr(c, "last_synced_at")));
	}
	json_decref(c);
out:
	resp_free(&r);
}

static void test_wrong_password(void)
{
	char cred[64], conn[64], agent[64], run_id[64];
	struct admin_run run;
	if (!basic_credential(T.key, "not-the-password", cred) ||
	    !CHECK(conn_add(T.account, calendar, cred, NULL, conn, &run) == 0) || !digest_run(conn, 7, agent, run_id))
		return;
	struct resp r = {0};
	if (CHECK(finished(run_id, &r))) {
		CHECK_STR(jstr(r.json, "data.status"), "failed");
		const char *e = jstr(r.json, "data.error_message");
		CHECK(e && strstr(e, "refused the connection's credentials (HTTP 401)"));
		CHECK(e && !strstr(e, "not-the-password"));
	}
	json_t *c = listed(T.key, conn);
	if (CHECK(c != NULL)) {
		CHECK_STR(jstr(c, "status"), "error");
		CHECK(jstr(c, "last_error") && strstr(jstr(c, "last_error"), "HTTP 401"));
		CHECK(json_is_null(json_object_get(c, "last_synced_at")));
	}
	json_decref(c);

	/* A connection removed after the agent was made: the run fails clearly. */
	char cred2[64], conn2[64], agent2[64], run2[64];
	if (basic_credential(T.key, "secret", cred2) && CHECK(conn_add(T.account, calendar, cred2, NULL, conn2, &run) == 0)) {
		const char *rm[] = {"connection", "remove", "--account", T.account, conn2, NULL};
		if (create(T.key, "/api/v1/agents", agent2,
			   "{\"name\":\"digest\",\"type\":\"calendar_digest\",\"config\":{\"connection_id\":\"%s\"}}", conn2) &&
		    CHECK(e2e_admin(&run, rm, NULL) == 0)) {
			http_call(&r, "POST", T.key, "{\"type\":\"digest\",\"payload\":{}}", "/api/v1/agents/%s/signals", agent2);
			snprintf(run2, sizeof run2, "%s", jstr(r.json, "data.run_id") ? jstr(r.json, "data.run_id") : "");
			if (CHECK_STATUS(r, 202) && CHECK(finished(run2, &r))) {
				CHECK_STR(jstr(r.json, "data.status"), "failed");
				CHECK(jstr(r.json, "data.error_message") &&
				      strstr(jstr(r.json, "data.error_message"), "connection") &&
				      strstr(jstr(r.json, "data.error_message"), "no longer exists"));
			}
		}
	}
	/* A server that is not there: the run fails with the reason. */
	char conn3[64], agent3[64], run3[64];
	char gone[96];
	snprintf(gone, sizeof gone, "http://127.0.0.1:%d/alice/work/", free_port());
	if (CHECK(conn_add(T.account, gone, cred2, NULL, conn3, &run) == 0) && digest_run(conn3, 7, agent3, run3) &&
	    CHECK(finished(run3, &r))) {
		CHECK_STR(jstr(r.json, "data.status"), "failed");
		CHECK(jstr(r.json, "data.error_message") && strstr(jstr(r.json, "data.error_message"), "could not be reached"));
	}
	resp_free(&r);
}

int suite_calendar_register(void)
{
	CU_pSuite s = CU_add_suite("calendar", init, cleanup);
	if (!s)
		return -1;
	if (!CU_add_test(s, "admin connection add/list/remove: validation, audit", test_admin_add) ||
	    !CU_add_test(s, "GET /connections: members, pagination, accounts, scope", test_list) ||
	    !CU_add_test(s, "calendar_digest config names a connection of the account", test_agent_config) ||
	    !CU_add_test(s, "calendar_digest against radicale: events, recurrences, message", test_digest) ||
	    !CU_add_test(s, "wrong password, removed connection, unreachable server fail the run", test_wrong_password))
		return -1;
	return 0;
}
