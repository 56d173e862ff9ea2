/* http: the e2e toolkit: the libcurl client, the admin CLI runner, SQL on the test database, checks. */
#include "e2e.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#define HTTP_TIMEOUT_SECONDS 30L
#define SQL_CELL_MAX (64 * 1024)
#define SQL_MAX_PARAMS 16
#define SQL_MAX_COLS 32

struct e2e_env E2E;

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "e2e: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ------------------------------------------------------------------------------------------------
 * HTTP */

void resp_free(struct resp *r)
{
	free(r->body);
	json_decref(r->json);
	for (int i = 0; i < r->nhdr; i++) {
		free(r->hdr[i].name);
		free(r->hdr[i].value);
	}
	memset(r, 0, sizeof *r);
}

static void headers_clear(struct resp *r)
{
	for (int i = 0; i < r->nhdr; i++) {
		free(r->hdr[i].name);
		free(r->hdr[i].value);
	}
	r->nhdr = 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = size * n;
	char *grown = realloc(r->body, r->body_len + len + 1);
	if (!grown)
		abort();
	r->body = grown;
	memcpy(r->body + r->body_len, p, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

/* Keeps the header lines of the final response (an interim 100 Continue starts the list again). */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = size * n;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		headers_clear(r);
		return len;
	}
	const char *colon = memchr(p, ':', len);
	if (!colon || r->nhdr == E2E_MAX_HEADERS)
		return len;
	const char *v = colon + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	r->hdr[r->nhdr].name = xstrndup(p, (size_t)(colon - p));
	r->hdr[r->nhdr].value = xstrndup(v, (size_t)(end - v));
	r->nhdr++;
	return len;
}

const char *resp_header(const struct resp *r, const char *name)
{
	for (int i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		abort();
	char *s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* One transfer in flight: the handle and what it owns. */
struct xfer {
	CURL *h;
	struct curl_slist *headers;
	char *url;
	char errbuf[CURL_ERROR_SIZE];
};

static struct curl_slist *add_header(struct curl_slist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct curl_slist *add_header(struct curl_slist *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = vformat(fmt, ap);
	va_end(ap);
	struct curl_slist *n = curl_slist_append(l, line);
	free(line);
	if (!n)
		abort();
	return n;
}

static void xfer_setup(struct xfer *x, const struct req *q, struct resp *out)
{
	resp_free(out);
	memset(x, 0, sizeof *x);
	const char *path = q->path ? q->path : "/";
	size_t n = strlen(E2E.url) + strlen(path) + 1;
	x->url = xmalloc(n);
	snprintf(x->url, n, "%s%s", E2E.url, path);
	x->h = curl_easy_init();
	if (!x->h)
		abort();
	CURL *h = x->h;
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TIMEOUT_SECONDS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	if (q->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(q->body_len ? q->body_len : strlen(q->body)));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body);
		if (q->content_type && !*q->content_type)
			x->headers = add_header(x->headers, "Content-Type:");
		else
			x->headers = add_header(x->headers, "Content-Type: %s",
						q->content_type ? q->content_type : "application/json");
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method ? q->method : "GET");
	if (q->authorization)
		x->headers = *q->authorization ? add_header(x->headers, "Authorization: %s", q->authorization)
					       : add_header(x->headers, "Authorization;");
	else if (q->key)
		x->headers = add_header(x->headers, "Authorization: Bearer %s", q->key);
	for (const char *const *e = q->headers; e && *e; e++)
		x->headers = add_header(x->headers, "%s", *e);
	if (x->headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
}

/* Appends one JSON line per response to the file named by AP_TEST_RECORD (when set), for the OpenAPI
 * response check (tests/openapi/check-responses.mjs): method, path, query, status, headers, body. */
static void record(const struct req *q, const struct resp *out)
{
	const char *file = getenv("AP_TEST_RECORD");
	if (!file || !*file)
		return;
	const char *target = q->path ? q->path : "/";
	const char *qm = strchr(target, '?');
	json_t *headers = json_object();
	for (int i = 0; i < out->nhdr; i++) {
		char *lower = xstrndup(out->hdr[i].name, strlen(out->hdr[i].name));
		for (char *c = lower; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		json_object_set_new(headers, lower, json_string(out->hdr[i].value));
		free(lower);
	}
	json_t *line = json_pack("{s:s, s:s%, s:s, s:I, s:o, s:O?}", "method", q->method ? q->method : "GET", "path",
				 target, qm ? (size_t)(qm - target) : strlen(target), "query", qm ? qm + 1 : "",
				 "status", (json_int_t)out->status, "headers", headers, "body", out->json);
	if (!line)
		return;
	if (!out->json)
		json_object_set_new(line, "body", json_null());
	if (out->body_len && !out->json)
		json_object_set_new(line, "raw_body", json_stringn(out->body, out->body_len));
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	FILE *f = fopen(file, "a");
	if (f && text)
		fprintf(f, "%s\n", text);
	if (f)
		fclose(f);
	free(text);
}

/* Records the outcome of a finished transfer into OUT; 0 when an HTTP response came. */
static int xfer_finish(struct xfer *x, CURLcode rc, const struct req *q, struct resp *out)
{
	int ok = rc == CURLE_OK;
	if (ok) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &out->status);
		if (!out->body)
			out->body = xstrndup("", 0);
		out->json = out->body_len ? json_loadb(out->body, out->body_len, 0, NULL) : NULL;
		/* What holds for every response of the site, whoever made it (API or nginx): a request id,
		 * and a body, when there is one, that is JSON. */
		const char *id = resp_header(out, "X-Request-Id");
		e2e_check(id && *id, __FILE__, __LINE__, "%s %s: %ld without X-Request-Id", q->method ? q->method : "GET",
			  q->path ? q->path : "/", out->status);
		e2e_check(!out->body_len || out->json, __FILE__, __LINE__, "%s %s: %ld with a body that is not JSON: %.200s",
			  q->method ? q->method : "GET", q->path ? q->path : "/", out->status, out->body);
		record(q, out);
	} else {
		fprintf(stderr, "e2e: %s %s: %s\n", q->method ? q->method : "GET", x->url,
			x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		resp_free(out);
		out->body = xstrndup("", 0);
	}
	curl_easy_cleanup(x->h);
	curl_slist_free_all(x->headers);
	free(x->url);
	return ok ? 0 : -1;
}

int http_send(const struct req *q, struct resp *out)
{
	struct xfer x;
	xfer_setup(&x, q, out);
	CURLcode rc = curl_easy_perform(x.h);
	return xfer_finish(&x, rc, q, out);
}

int http_multi(const struct req *q, int n, struct resp *out)
{
	CURLM *m = curl_multi_init();
	if (!m)
		abort();
	struct xfer *x = xmalloc((size_t)n * sizeof *x);
	CURLcode *rc = xmalloc((size_t)n * sizeof *rc);
	for (int i = 0; i < n; i++) {
		xfer_setup(&x[i], &q[i], &out[i]);
		/* Each request on its own connection, all opened at once: no reuse, no waiting for one. */
		curl_easy_setopt(x[i].h, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(x[i].h, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(x[i].h, CURLOPT_PRIVATE, (char *)&rc[i]);
		rc[i] = CURLE_COULDNT_CONNECT;
		curl_multi_add_handle(m, x[i].h);
	}
	int running = n;
	while (running > 0) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		char *p = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		if (p)
			*(CURLcode *)(void *)p = msg->data.result;
	}
	int failed = 0;
	for (int i = 0; i < n; i++) {
		curl_multi_remove_handle(m, x[i].h);
		if (xfer_finish(&x[i], rc[i], &q[i], &out[i]) != 0)
			failed = 1;
	}
	curl_multi_cleanup(m);
	free(x);
	free(rc);
	return failed ? -1 : 0;
}

long http_get(struct resp *out, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *path = vformat(fmt, ap);
	va_end(ap);
	struct req q = {.method = "GET", .path = path, .key = key};
	http_send(&q, out);
	free(path);
	return out->status;
}

long http_call(struct resp *out, const char *method, const char *key, const char *body, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *path = vformat(fmt, ap);
	va_end(ap);
	struct req q = {.method = method, .path = path, .key = key, .body = body};
	http_send(&q, out);
	free(path);
	return out->status;
}

json_t *jget(const json_t *v, const char *path)
{
	char name[128];
	while (v && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof name)
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		v = json_is_object(v) ? json_object_get(v, name) : NULL;
		path += n + (dot ? 1 : 0);
	}
	return (json_t *)v;
}

const char *jstr(const json_t *v, const char *path)
{
	return json_string_value(jget(v, path));
}

/* ------------------------------------------------------------------------------------------------
 * Child processes */

/* Reads FD_OUT and FD_ERR to their ends into OUT and ERR (truncated to their sizes). */
static void drain(int fd_out, int fd_err, char *out, size_t outlen, char *err, size_t errlen)
{
	struct pollfd p[2] = {{.fd = fd_out, .events = POLLIN}, {.fd = fd_err, .events = POLLIN}};
	char *buf[2] = {out, err};
	size_t cap[2] = {outlen, errlen}, used[2] = {0, 0};
	int open = 2;
	while (open > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char tmp[4096];
			ssize_t got = read(p[i].fd, tmp, sizeof tmp);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open--;
				continue;
			}
			size_t take = (size_t)got;
			if (take > cap[i] - 1 - used[i])
				take = cap[i] - 1 - used[i];
			memcpy(buf[i] + used[i], tmp, take);
			used[i] += take;
		}
	}
	out[used[0]] = '\0';
	err[used[1]] = '\0';
}

int e2e_admin(struct admin_run *run, const char *const *argv, const char *const *env)
{
	const char *args[64];
	int n = 0;
	memset(run, 0, sizeof *run);
	run->status = -1;
	args[n++] = E2E.admin;
	args[n++] = "--config";
	args[n++] = E2E.config;
	for (const char *const *a = argv; *a && n < 63; a++)
		args[n++] = *a;
	args[n] = NULL;

	int po[2], pe[2];
	if (pipe(po) != 0 || pipe(pe) != 0) {
		perror("e2e: pipe");
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("e2e: fork");
		return -1;
	}
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		for (const char *const *e = env; e && *e; e++)
			putenv((char *)*e);
		execv(E2E.admin, (char *const *)args);
		fprintf(stderr, "exec %s: %s\n", E2E.admin, strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	drain(po[0], pe[0], run->out, sizeof run->out, run->err, sizeof run->err);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	size_t len = strlen(run->out);
	while (len > 0 && (run->out[len - 1] == '\n' || run->out[len - 1] == '\r'))
		run->out[--len] = '\0';
	run->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return run->status;
}

/* Runs ARGV in a child with stdout sent to STDOUT_FD (stderr when 2, /dev/null when -1); its exit status, or -1. */
static int run_child(const char *const *argv, int stdout_fd)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = stdout_fd >= 0 ? stdout_fd : open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int e2e_run_program(const char *const *argv)
{
	return run_child(argv, -1);
}

int e2e_stack(const char *arg)
{
	/* AP_TEST_STACK is a command line: the shell splits it, as `$AP_TEST_STACK redis-stop` would. */
	return run_child((const char *const[]){"/bin/sh", "-c", "exec $AP_TEST_STACK \"$1\"", "sh", arg, NULL}, 2);
}

int e2e_stack_settings(const char *fmt, ...)
{
	const char *dir = getenv("AP_TEST_STACK_DIR");
	if (!dir || !*dir) {
		fprintf(stderr, "e2e: AP_TEST_STACK_DIR is not set (tests/run exports it)\n");
		return -1;
	}
	char path[600];
	snprintf(path, sizeof path, "%s/etc/agentplatform.extra.conf", dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "e2e: cannot write %s\n", path);
		return -1;
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0)
		return -1;
	return e2e_stack("start") == 0 ? 0 : -1;
}

static int tenant_counter;

int e2e_key(const struct tenant *t, const char *scopes, const char *const *extra, char *key, char *key_id)
{
	const char *argv[32] = {"key", "create", "--account", t->account, "--name", "e2e key", "--scopes", scopes};
	int n = 8;
	for (const char *const *e = extra; e && *e && n < 31; e++)
		argv[n++] = *e;
	argv[n] = NULL;
	struct admin_run run;
	if (e2e_admin(&run, argv, NULL) != 0 || strncmp(run.out, "ap_live_", 8) != 0 || strlen(run.out) >= 64) {
		fprintf(stderr, "e2e: key create failed (exit %d): %s%s\n", run.status, run.out, run.err);
		return -1;
	}
	snprintf(key, 64, "%s", run.out);
	/* The key's display prefix is stored; a new account holds few keys, so it finds the one. */
	struct rows r;
	long got = e2e_sql(&r, "SELECT id FROM api_keys WHERE account_id = ? AND ? LIKE CONCAT(prefix, '%') ORDER BY id DESC LIMIT 1",
			   (const char *[]){t->account, key, NULL});
	int ok = got == 1 && r.cell[0][0];
	if (ok)
		snprintf(key_id, 64, "%s", r.cell[0][0]);
	rows_free(&r);
	if (!ok)
		fprintf(stderr, "e2e: the new key of %s is not in api_keys\n", t->account);
	return ok ? 0 : -1;
}

int e2e_tenant(struct tenant *t, const char *label, const char *scopes, const char *const *extra)
{
	char name[128];
	memset(t, 0, sizeof *t);
	snprintf(name, sizeof name, "e2e %s %ld-%d", label, (long)getpid(), ++tenant_counter);
	struct admin_run run;
	if (e2e_admin(&run, (const char *[]){"account", "create", name, NULL}, NULL) != 0 ||
	    strncmp(run.out, "acct_", 5) != 0 || strlen(run.out) >= sizeof t->account) {
		fprintf(stderr, "e2e: account create failed (exit %d): %s%s\n", run.status, run.out, run.err);
		return -1;
	}
	snprintf(t->account, sizeof t->account, "%s", run.out);
	return e2e_key(t, scopes, extra, t->key, t->key_id);
}

/* ------------------------------------------------------------------------------------------------
 * SQL */

static MYSQL *sql_conn;

static MYSQL *sql_connect(void)
{
	if (sql_conn)
		return sql_conn;
	MYSQL *m = mysql_init(NULL);
	if (!m)
		abort();
	unsigned int timeout = 10;
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
	if (!mysql_real_connect(m, NULL, E2E.db_user, E2E.db_password, E2E.db_name, 0, E2E.db_socket, 0)) {
		fprintf(stderr, "e2e: cannot connect to the test database at %s: %s\n", E2E.db_socket, mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	sql_conn = m;
	return m;
}

void e2e_sql_close(void)
{
	if (sql_conn)
		mysql_close(sql_conn);
	sql_conn = NULL;
	mysql_library_end();
}

void rows_free(struct rows *r)
{
	for (int i = 0; i < r->n; i++) {
		for (int c = 0; c < r->ncols; c++)
			free(r->cell[i][c]);
		free(r->cell[i]);
	}
	free(r->cell);
	memset(r, 0, sizeof *r);
}

long e2e_sql(struct rows *out, const char *sql, const char *const *params)
{
	if (out)
		memset(out, 0, sizeof *out);
	MYSQL *m = sql_connect();
	if (!m)
		return -1;
	MYSQL_STMT *st = mysql_stmt_init(m);
	if (!st)
		abort();
	long result = -1;
	MYSQL_RES *meta = NULL;
	MYSQL_BIND pb[SQL_MAX_PARAMS], rb[SQL_MAX_COLS];
	unsigned long plen[SQL_MAX_PARAMS], rlen[SQL_MAX_COLS];
	my_bool rnull[SQL_MAX_COLS];
	char *rbuf[SQL_MAX_COLS] = {0};
	unsigned int ncols = 0;
	memset(pb, 0, sizeof pb);
	memset(rb, 0, sizeof rb);

	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0)
		goto fail;
	int np = 0;
	for (const char *const *p = params; p && *p && np < SQL_MAX_PARAMS; p++, np++) {
		plen[np] = (unsigned long)strlen(*p);
		pb[np].buffer_type = MYSQL_TYPE_STRING;
		pb[np].buffer = (void *)*p;
		pb[np].buffer_length = plen[np];
		pb[np].length = &plen[np];
	}
	if ((unsigned long)np != mysql_stmt_param_count(st)) {
		fprintf(stderr, "e2e: %s: %d parameters given\n", sql, np);
		goto done;
	}
	if ((np > 0 && mysql_stmt_bind_param(st, pb) != 0) || mysql_stmt_execute(st) != 0)
		goto fail;
	meta = mysql_stmt_result_metadata(st);
	if (!meta) {
		result = (long)mysql_stmt_affected_rows(st);
		goto done;
	}
	ncols = mysql_num_fields(meta);
	if (ncols > SQL_MAX_COLS) {
		fprintf(stderr, "e2e: %s: too many columns\n", sql);
		goto done;
	}
	for (unsigned int c = 0; c < ncols; c++) {
		rbuf[c] = xmalloc(SQL_CELL_MAX);
		rb[c].buffer_type = MYSQL_TYPE_STRING;
		rb[c].buffer = rbuf[c];
		rb[c].buffer_length = SQL_CELL_MAX;
		rb[c].length = &rlen[c];
		rb[c].is_null = &rnull[c];
	}
	if (mysql_stmt_bind_result(st, rb) != 0 || mysql_stmt_store_result(st) != 0)
		goto fail;
	long nrows = 0;
	for (;;) {
		int rc = mysql_stmt_fetch(st);
		if (rc == MYSQL_NO_DATA)
			break;
		if (rc != 0) {
			fprintf(stderr, "e2e: %s: fetch failed (%d; cells are limited to %d bytes)\n", sql, rc, SQL_CELL_MAX);
			goto done;
		}
		if (out) {
			char ***grown = realloc(out->cell, (size_t)(out->n + 1) * sizeof *grown);
			if (!grown)
				abort();
			out->cell = grown;
			out->ncols = (int)ncols;
			char **row = xmalloc(ncols * sizeof *row);
			for (unsigned int c = 0; c < ncols; c++)
				row[c] = rnull[c] ? NULL : xstrndup(rbuf[c], rlen[c]);
			out->cell[out->n++] = row;
		}
		nrows++;
	}
	result = nrows;
	goto done;
fail:
	fprintf(stderr, "e2e: SQL failed: %s: %s\n", sql, mysql_stmt_error(st));
	if (out)
		rows_free(out);
done:
	if (meta)
		mysql_free_result(meta);
	for (unsigned int c = 0; c < ncols && c < SQL_MAX_COLS; c++)
		free(rbuf[c]);
	mysql_stmt_close(st);
	if (result < 0 && out)
		rows_free(out);
	return result;
}

/* ------------------------------------------------------------------------------------------------
 * Checks */

int e2e_check(int ok, const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, (unsigned int)line, msg, file, "", CU_FALSE);
	return ok;
}

int e2e_check_status(const struct resp *r, long status, const char *file, int line)
{
	int ok = r->status == status;
	e2e_check(ok, file, line, "status %ld, want %ld; body: %.400s", r->status, status, r->body ? r->body : "");
	return ok;
}

static const char *type_for_status(long status)
{
	switch (status) {
	case 401: return "authentication_error";
	case 403: return "permission_error";
	case 404: return "not_found_error";
	case 409: return "conflict_error";
	case 429: return "rate_limit_error";
	case 500:
	case 502:
	case 503:
	case 504: return "api_error";
	default: return "invalid_request_error";
	}
}

int e2e_check_error(const struct resp *r, long status, const char *code, const char *param, const char *file,
		    int line)
{
	char why[512] = "";
	const json_t *e = jget(r->json, "error");
	const json_t *p = jget(e, "param");
	const char *rid = jstr(e, "request_id"), *hid = resp_header(r, "X-Request-Id");
	const char *ct = resp_header(r, "Content-Type");
	if (r->status != status)
		snprintf(why, sizeof why, "status %ld, want %ld", r->status, status);
	else if (!json_is_object(e) || json_object_size(r->json) != 1)
		snprintf(why, sizeof why, "the body is not {\"error\": {...}}");
	else if (json_object_size(e) != 5)
		snprintf(why, sizeof why, "the error object has %zu members, want 5", json_object_size(e));
	else if (!jstr(e, "type") || strcmp(jstr(e, "type"), type_for_status(status)) != 0)
		snprintf(why, sizeof why, "type %s, want %s", jstr(e, "type") ? jstr(e, "type") : "(none)",
			 type_for_status(status));
	else if (!jstr(e, "code") || strcmp(jstr(e, "code"), code) != 0)
		snprintf(why, sizeof why, "code %s, want %s", jstr(e, "code") ? jstr(e, "code") : "(none)", code);
	else if (!jstr(e, "message") || !*jstr(e, "message"))
		snprintf(why, sizeof why, "no message");
	else if (!p)
		snprintf(why, sizeof why, "no param member");
	else if (param && (!json_is_string(p) || strcmp(json_string_value(p), param) != 0))
		snprintf(why, sizeof why, "param %s, want %s", json_is_string(p) ? json_string_value(p) : "(not a string)",
			 param);
	else if (!param && !json_is_null(p))
		snprintf(why, sizeof why, "param %s, want null", json_is_string(p) ? json_string_value(p) : "(not null)");
	else if (!hid || !*hid)
		snprintf(why, sizeof why, "no X-Request-Id header");
	else if (!rid || strcmp(rid, hid) != 0)
		snprintf(why, sizeof why, "request_id %s differs from X-Request-Id %s", rid ? rid : "(none)", hid);
	else if (!ct || strncasecmp(ct, "application/json", 16) != 0)
		snprintf(why, sizeof why, "Content-Type %s", ct ? ct : "(none)");
	e2e_check(!why[0], file, line, "error %ld %s%s%s: %s; body: %.300s", status, code, param ? " param " : "",
		  param ? param : "", why, r->body ? r->body : "");
	return !why[0];
}

int e2e_check_str(const char *got, const char *want, const char *what, const char *file, int line)
{
	int ok = (!got && !want) || (got && want && strcmp(got, want) == 0);
	e2e_check(ok, file, line, "%s is \"%.200s\", want \"%.200s\"", what, got ? got : "(null)", want ? want : "(null)");
	return ok;
}

int e2e_is_timestamp(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (!s || strlen(s) != sizeof shape - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	return 1;
}

int e2e_is_id(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	if (!s || strncmp(s, prefix, n) != 0 || strlen(s + n) != 25)
		return 0;
	for (s += n; *s; s++)
		if (!isalnum((unsigned char)*s))
			return 0;
	return 1;
}

int e2e_parse_long(const char *s, long long *v)
{
	if (!s || !*s)
		return -1;
	for (const char *c = s; *c; c++)
		if (!isdigit((unsigned char)*c))
			return -1;
	errno = 0;
	char *end;
	long long x = strtoll(s, &end, 10);
	if (errno != 0 || *end)
		return -1;
	*v = x;
	return 0;
}
