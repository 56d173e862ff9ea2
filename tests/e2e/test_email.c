/* test_email: the send_email agent type end to end against a real SMTP server (tests/fakes/smtp_server.py, aiosmtpd)
 * on 127.0.0.1: approval gating, exactly-once sending, rejection, expiry, revoked credentials, refusals. */
#include "e2e.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AP_E2E_SRCDIR
#error "AP_E2E_SRCDIR (the source tree, for tests/fakes/smtp_server.py) must be defined by the build"
#endif

#define WAIT_SECS 20
#define SMTP_USER "mailer"
#define SMTP_PASS "s3cret-Pa55word"
#define FROM "agent@example.com"

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};
static struct tenant T, OTHER;
static char maildir[256], portfile[300];
static pid_t smtp_pid = -1;
static int smtp_stdin = -1, smtp_port;
static char cred_ok[64], cred_other[64], cred_bearer[64];

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Starts the SMTP server; its port into smtp_port. It exits when smtp_stdin closes. */
static int smtp_start(void)
{
	snprintf(maildir, sizeof maildir, "/tmp/ap-e2e-mail-%ld", (long)getpid());
	snprintf(portfile, sizeof portfile, "%s.port", maildir);
	if (mkdir(maildir, 0700) != 0 && errno != EEXIST)
		return -1;
	unlink(portfile);
	int p[2];
	if (pipe(p) != 0)
		return -1;
	/* only the server gets the read end; no other child keeps the write end open */
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	smtp_pid = fork();
	if (smtp_pid < 0)
		return -1;
	if (smtp_pid == 0) {
		char log[320];
		snprintf(log, sizeof log, "%s.log", maildir);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(p[0], 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* Debian's python3-aiosmtpd is a module of the system interpreter */
		execl("/usr/bin/python3", "python3", AP_E2E_SRCDIR "/tests/fakes/smtp_server.py", "--dir", maildir, "--port-file",
		      portfile, "--username", SMTP_USER, "--password", SMTP_PASS, "--reject-rcpt", "nobody@example.net",
		      (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	smtp_stdin = p[1];
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(portfile, "r");
		if (f) {
			int ok = fscanf(f, "%d", &smtp_port) == 1;
			fclose(f);
			if (ok && smtp_port > 0)
				return 0;
		}
		if (waitpid(smtp_pid, NULL, WNOHANG) == smtp_pid) {
			fprintf(stderr, "e2e email: the SMTP server exited (see %s.log)\n", maildir);
			smtp_pid = -1;
			return -1;
		}
		nap(100);
	}
	fprintf(stderr, "e2e email: the SMTP server did not start (see %s.log)\n", maildir);
	return -1;
}

static void smtp_stop(void)
{
	if (smtp_stdin >= 0)
		close(smtp_stdin);
	smtp_stdin = -1;
	if (smtp_pid > 0) {
		kill(smtp_pid, SIGTERM);
		waitpid(smtp_pid, NULL, 0);
	}
	smtp_pid = -1;
	DIR *d = opendir(maildir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		char path[600];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", maildir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(maildir);
	unlink(portfile);
	char log[320];
	snprintf(log, sizeof log, "%s.log", maildir);
	unlink(log);
}

/* The messages the server accepted for RCPT (one of their recipients), oldest first (caller decrefs). */
static json_t *mails_to(const char *rcpt)
{
	json_t *out = json_array();
	struct dirent **names = NULL;
	int n = scandir(maildir, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t len = strlen(nm);
		if (len > 5 && strcmp(nm + len - 5, ".json") == 0) {
			char path[600];
			snprintf(path, sizeof path, "%s/%s", maildir, nm);
			json_t *m = json_load_file(path, 0, NULL);
			const json_t *v;
			size_t k;
			int match = 0;
			json_array_foreach(json_object_get(m, "rcpt_tos"), k, v) match |=
				json_is_string(v) && strcmp(json_string_value(v), rcpt) == 0;
			if (match)
				json_array_append(out, m);
			json_decref(m);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

/* Creates an smtp credential of KEY's account with PASSWORD and TLS mode TLS; its id into ID. 1 when it was made. */
static int make_credential_tls(const char *key, const char *password, const char *tls, char *id)
{
	struct resp r = {0};
	char body[600];
	snprintf(body, sizeof body,
		 "{\"name\":\"Mail\",\"type\":\"smtp\",\"secret\":{\"host\":\"127.0.0.1\",\"port\":%d,\"username\":\"" SMTP_USER
		 "\",\"password\":\"%s\",\"from\":\"" FROM "\",\"tls\":\"%s\"}}",
		 smtp_port, password, tls);
	id[0] = '\0';
	if (http_call(&r, "POST", key, body, "/api/v1/credentials") == 201 && jstr(r.json, "data.id"))
		snprintf(id, 64, "%s", jstr(r.json, "data.id"));
	if (!id[0])
		fprintf(stderr, "e2e email: creating a credential answered %ld: %s\n", r.status, r.body ? r.body : "");
	resp_free(&r);
	return id[0] != '\0';
}

static int make_credential(const char *key, const char *password, char *id)
{
	return make_credential_tls(key, password, "none", id);
}

static int init(void)
{
	static const char *const scopes = "agents:read agents:write signals:write runs:read credentials:read credentials:write";
	if (e2e_tenant(&T, "email-a", scopes, GENEROUS) != 0 || e2e_tenant(&OTHER, "email-b", scopes, GENEROUS) != 0)
		return -1;
	return smtp_start();
}

/* The suite's credentials, made by the first test that needs them (HTTP calls check inside a test only). */
static int credentials(void)
{
	if (cred_ok[0] && cred_other[0] && cred_bearer[0])
		return 1;
	struct resp r = {0};
	if (make_credential(T.key, SMTP_PASS, cred_ok) && make_credential(OTHER.key, SMTP_PASS, cred_other) &&
	    http_call(&r, "POST", T.key, "{\"name\":\"Bearer\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"tok-123\"}}",
		      "/api/v1/credentials") == 201 && jstr(r.json, "data.id"))
		snprintf(cred_bearer, sizeof cred_bearer, "%s", jstr(r.json, "data.id"));
	resp_free(&r);
	return CHECK(cred_ok[0] && cred_other[0] && cred_bearer[0]);
}

static int cleanup(void)
{
	smtp_stop();
	return 0;
}

/* A send_email agent (config: TO as JSON, SUBJECT, BODY as JSON strings, CRED) signalled once; ids into AGENT, RUN. */
static int email_run(const char *to_json, const char *subject_json, const char *body_json, const char *cred, char *agent,
		     char *run)
{
	struct resp r = {0};
	char body[4096];
	agent[0] = run[0] = '\0';
	snprintf(body, sizeof body,
		 "{\"name\":\"Mailer\",\"type\":\"send_email\",\"config\":{\"to\":%s,\"subject\":%s,\"body\":%s,"
		 "\"credential_id\":\"%s\"}}",
		 to_json, subject_json, body_json, cred);
	if (CHECK(http_call(&r, "POST", T.key, body, "/api/v1/agents") == 201) && jstr(r.json, "data.id"))
		snprintf(agent, 64, "%s", jstr(r.json, "data.id"));
	if (agent[0] && http_call(&r, "POST", T.key, "{\"type\":\"go\",\"payload\":{}}", "/api/v1/agents/%s/signals",
				  agent) == 202 && jstr(r.json, "data.run_id"))
		snprintf(run, 64, "%s", jstr(r.json, "data.run_id"));
	int ok = CHECK(agent[0] && run[0]);
	resp_free(&r);
	return ok;
}

/* Waits until RUN has status WANT (any status but queued, running and, unless WANT is it, waiting_approval counts
 * as the end); R holds the run. */
static int run_reaches(const char *run, const char *want, struct resp *r)
{
	const char *st = NULL;
	for (int i = 0; i < WAIT_SECS * 10; i++) {
		if (http_get(r, T.key, "/api/v1/runs/%s", run) == 200) {
			st = jstr(r->json, "data.status");
			if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0 &&
			    (strcmp(st, "waiting_approval") != 0 || strcmp(want, "waiting_approval") == 0))
				return CHECK_STR(st, want);
		}
		nap(100);
	}
	return CHECK(!"the run reached its status in time");
}

/* The pending approval of AGENT (exactly one), its id into ID; R holds the list. */
static int pending_approval(const char *agent, char *id, struct resp *r)
{
	id[0] = '\0';
	if (!CHECK(http_get(r, T.key, "/api/v1/approvals?agent_id=%s", agent) == 200) ||
	    !CHECK(json_array_size(jget(r->json, "data")) == 1))
		return 0;
	const char *v = jstr(json_array_get(jget(r->json, "data"), 0), "id");
	if (v)
		snprintf(id, 64, "%s", v);
	return CHECK(id[0]);
}

/* The body of the run's messages joined with newlines, into OUT. */
static void run_messages(const char *run, char *out, size_t outlen)
{
	struct resp r = {0};
	out[0] = '\0';
	if (http_get(&r, T.key, "/api/v1/runs/%s/messages", run) == 200) {
		size_t i, o = 0;
		const json_t *m;
		json_array_foreach(jget(r.json, "data"), i, m)
		{
			const char *c = jstr(m, "content");
			if (c && o < outlen)
				o += (size_t)snprintf(out + o, outlen - o, "%s\n", c);
		}
	}
	resp_free(&r);
}

/* The value of header NAME (first line only) in the mail text DATA, into OUT; 1 when found. */
static int mail_header(const char *data, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	for (const char *p = data; p && *p && !(p[0] == '\r' && p[1] == '\n'); p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
			const char *e = strstr(p, "\r\n");
			size_t len = e ? (size_t)(e - p - n - 2) : strlen(p + n + 2);
			snprintf(out, outlen, "%.*s", (int)len, p + n + 2);
			return 1;
		}
	out[0] = '\0';
	return 0;
}

static void test_approve_sends_once(void)
{
	struct resp r = {0};
	char agent[64], run[64], apr[64], hdr[512], msgs[4096];
	if (!credentials())
		return;
	/* a dot line, a leading dot, a long line and non-ASCII text: the body must arrive unchanged */
	if (!email_run("[\"alice@example.org\",\"bob@example.org\"]", "\"Grüße: quarterly report\"",
		       "\"Hello,\\n.\\n.hidden line\\nnumbers: "
		       "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\\n"
		       "Grüße\"",
		       cred_ok, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r))
		goto out;
	if (!pending_approval(agent, apr, &r))
		goto out;
	const json_t *a = json_array_get(jget(r.json, "data"), 0);
	CHECK_STR(jstr(a, "action"), "send_email");
	CHECK_STR(jstr(a, "source"), "agent");
	CHECK_STR(jstr(a, "run_id"), run);
	CHECK_STR(jstr(a, "status"), "pending");
	CHECK_STR(jstr(a, "summary"), "Send email \"Grüße: quarterly report\" to alice@example.org, bob@example.org");
	json_t *want = json_pack("{s:[ss], s:s, s:s, s:s}", "to", "alice@example.org", "bob@example.org", "subject",
				 "Grüße: quarterly report", "body",
				 "Hello,\n.\n.hidden line\nnumbers: "
				 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\n"
				 "Grüße",
				 "credential_id", cred_ok);
	CHECK(json_equal(jget(a, "arguments"), want));
	json_decref(want);
	CHECK(strstr(r.body, SMTP_PASS) == NULL);
	nap(500);
	json_t *mails = mails_to("alice@example.org");
	CHECK(json_array_size(mails) == 0);
	json_decref(mails);

	if (!CHECK(http_call(&r, "POST", T.key, "{\"comment\":\"ok\"}", "/api/v1/approvals/%s/approve", apr) == 200) ||
	    !run_reaches(run, "succeeded", &r))
		goto out;
	const char *message_id = jstr(r.json, "data.output.message_id");
	CHECK(message_id && message_id[0] == '<' && strstr(message_id, "@example.com>"));
	CHECK(json_array_size(jget(r.json, "data.output.to")) == 2);
	CHECK_STR(json_string_value(json_array_get(jget(r.json, "data.output.to"), 1)), "bob@example.org");
	char mid[300];
	snprintf(mid, sizeof mid, "%s", message_id ? message_id : "");
	run_messages(run, msgs, sizeof msgs);
	CHECK_STR(msgs, "Email sent to alice@example.org, bob@example.org\n");

	/* exactly one message, to both, from the credential's address, after AUTH as its user */
	nap(1500);
	mails = mails_to("alice@example.org");
	if (CHECK(json_array_size(mails) == 1)) {
		const json_t *m = json_array_get(mails, 0);
		const char *data = jstr(m, "data");
		CHECK_STR(jstr(m, "mail_from"), FROM);
		CHECK_STR(jstr(m, "login"), SMTP_USER);
		CHECK(json_array_size(jget(m, "rcpt_tos")) == 2);
		CHECK(mail_header(data, "From", hdr, sizeof hdr) && strcmp(hdr, FROM) == 0);
		CHECK(mail_header(data, "To", hdr, sizeof hdr) && strcmp(hdr, "alice@example.org, bob@example.org") == 0);
		/* "Grüße: quarterly report" as one RFC 2047 B encoded-word */
		CHECK(mail_header(data, "Subject", hdr, sizeof hdr) &&
		      strcmp(hdr, "=?UTF-8?B?R3LDvMOfZTogcXVhcnRlcmx5IHJlcG9ydA==?=") == 0);
		CHECK(mail_header(data, "Message-ID", hdr, sizeof hdr) && strcmp(hdr, mid) == 0);
		CHECK(mail_header(data, "MIME-Version", hdr, sizeof hdr) && strcmp(hdr, "1.0") == 0);
		CHECK(mail_header(data, "Content-Type", hdr, sizeof hdr) && strcmp(hdr, "text/plain; charset=utf-8") == 0);
		CHECK(mail_header(data, "Content-Transfer-Encoding", hdr, sizeof hdr) &&
		      strcmp(hdr, "quoted-printable") == 0);
		CHECK(mail_header(data, "Date", hdr, sizeof hdr) && strstr(hdr, " +0000"));
		const char *body = data ? strstr(data, "\r\n\r\n") : NULL;
		CHECK(body && strcmp(body + 4, "Hello,\r\n=2E\r\n=2Ehidden line\r\n"
					       "numbers: 012345678901234567890123456789012345678901234567890123456789012345=\r\n"
					       "6789012345678901234567890123456789\r\n"
					       "Gr=C3=BC=C3=9Fe\r\n") == 0);
		CHECK(data && strstr(data, SMTP_PASS) == NULL);
	}
	json_decref(mails);
	mails = mails_to("bob@example.org");
	CHECK(json_array_size(mails) == 1);
	json_decref(mails);

	/* deciding again changes nothing */
	http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", apr);
	CHECK_ERROR(r, 409, "already_decided", NULL);
	nap(1000);
	mails = mails_to("alice@example.org");
	CHECK(json_array_size(mails) == 1);
	json_decref(mails);
out:
	resp_free(&r);
}

/* A worker lost after the SMTP server took the message but before the outcome was recorded: the recovery sweep
 * runs the run again, and the approved action, claimed by the first attempt, is not performed twice. Simulated by
 * putting the finished run back to queued (Redis does not hold it: the sweep re-queues it). */
static void test_rerun_does_not_send_again(void)
{
	struct resp r = {0};
	char agent[64], run[64], apr[64];
	if (!credentials())
		return;
	if (!email_run("\"rerun@example.org\"", "\"Once only\"", "\"Exactly once.\"", cred_ok, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r) || !pending_approval(agent, apr, &r))
		goto out;
	if (!CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", apr) == 200) ||
	    !run_reaches(run, "succeeded", &r))
		goto out;
	http_get(&r, T.key, "/api/v1/approvals/%s", apr);
	CHECK_STR(jstr(r.json, "data.action_result.status"), "succeeded");
	CHECK(e2e_sql(NULL,
		      "UPDATE runs SET status = 'queued', worker = NULL, finished_at = NULL, error_message = NULL, "
		      "queued_at = UTC_TIMESTAMP(3) - INTERVAL 10 SECOND WHERE id = ?",
		      (const char *[]){run, NULL}) == 1);
	if (!run_reaches(run, "failed", &r))
		goto out;
	const char *why = jstr(r.json, "data.error_message");
	CHECK(why && strstr(why, "may already have sent the email") && strstr(why, "not sent again"));
	nap(1000);
	json_t *mails = mails_to("rerun@example.org");
	CHECK(json_array_size(mails) == 1);
	json_decref(mails);
out:
	resp_free(&r);
}

static void test_reject_sends_nothing(void)
{
	struct resp r = {0};
	char agent[64], run[64], apr[64];
	if (!credentials())
		return;
	if (!email_run("\"rejected@example.org\"", "\"Do not send\"", "\"x\"", cred_ok, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r) || !pending_approval(agent, apr, &r))
		goto out;
	CHECK_STR(jstr(json_array_get(jget(r.json, "data"), 0), "summary"), "Send email \"Do not send\" to rejected@example.org");
	if (!CHECK(http_call(&r, "POST", T.key, "{\"reason\":\"no\"}", "/api/v1/approvals/%s/reject", apr) == 200))
		goto out;
	run_reaches(run, "rejected", &r);
	nap(1500);
	json_t *mails = mails_to("rejected@example.org");
	CHECK(json_array_size(mails) == 0);
	json_decref(mails);
out:
	resp_free(&r);
}

static void test_concurrent_approvals_send_once(void)
{
	struct resp r = {0}, two[2] = {{0}, {0}};
	char agent[64], run[64], apr[64], path[128];
	if (!credentials())
		return;
	if (!email_run("\"race@example.org\"", "\"Race\"", "\"once\"", cred_ok, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r) || !pending_approval(agent, apr, &r))
		goto out;
	snprintf(path, sizeof path, "/api/v1/approvals/%s/approve", apr);
	struct req q[2] = {{.method = "POST", .path = path, .key = T.key}, {.method = "POST", .path = path, .key = T.key}};
	if (!CHECK(http_multi(q, 2, two) == 0))
		goto out;
	CHECK((two[0].status == 200 && two[1].status == 409) || (two[0].status == 409 && two[1].status == 200));
	CHECK_STR(jstr(two[two[0].status == 200 ? 1 : 0].json, "error.code"), "already_decided");
	run_reaches(run, "succeeded", &r);
	nap(1500);
	json_t *mails = mails_to("race@example.org");
	CHECK(json_array_size(mails) == 1);
	json_decref(mails);
out:
	resp_free(&r);
	resp_free(&two[0]);
	resp_free(&two[1]);
}

static void test_expired_sends_nothing(void)
{
	struct resp r = {0};
	char agent[64], run[64], apr[64];
	if (!credentials())
		return;
	if (!email_run("\"late@example.org\"", "\"Too late\"", "\"x\"", cred_ok, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r) || !pending_approval(agent, apr, &r))
		goto out;
	/* the approval's time runs out (the shortest an agent can set is a minute) */
	const char *const params[] = {apr, NULL};
	CHECK(e2e_sql(NULL, "UPDATE approvals SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE id = ?", params) == 1);
	http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", apr);
	CHECK_ERROR(r, 409, "approval_expired", NULL);
	run_reaches(run, "expired", &r);
	if (CHECK(http_get(&r, T.key, "/api/v1/approvals/%s", apr) == 200))
		CHECK_STR(jstr(r.json, "data.status"), "expired");
	nap(1500);
	json_t *mails = mails_to("late@example.org");
	CHECK(json_array_size(mails) == 0);
	json_decref(mails);
out:
	resp_free(&r);
}

/* Approves RUN's approval and expects the run to fail with an error containing WANT; nothing reaches RCPT. */
static void approve_and_fail(const char *agent, const char *run, const char *rcpt, const char *want)
{
	struct resp r = {0};
	char apr[64], msgs[2048];
	if (!pending_approval(agent, apr, &r) ||
	    !CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", apr) == 200) ||
	    !run_reaches(run, "failed", &r))
		goto out;
	const char *err = jstr(r.json, "data.error_message");
	if (!CHECK(err && strstr(err, want)))
		fprintf(stderr, "\n  error_message: %s\n", err ? err : "(none)");
	CHECK(err && strstr(err, SMTP_PASS) == NULL && strstr(err, "wrong-password") == NULL);
	run_messages(run, msgs, sizeof msgs);
	CHECK(strstr(msgs, "The email was not sent: ") == msgs);
	nap(1000);
	json_t *mails = mails_to(rcpt);
	CHECK(json_array_size(mails) == 0);
	json_decref(mails);
out:
	resp_free(&r);
}

static void test_revoked_credential_fails(void)
{
	struct resp r = {0};
	char cred[64], agent[64], run[64];
	if (!credentials())
		return;
	if (!CHECK(make_credential(T.key, SMTP_PASS, cred)) ||
	    !email_run("\"revoked@example.org\"", "\"Revoked\"", "\"x\"", cred, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r))
		goto out;
	CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/credentials/%s/revoke", cred) == 200);
	char want[128];
	snprintf(want, sizeof want, "credential %s has been revoked", cred);
	approve_and_fail(agent, run, "revoked@example.org", want);
out:
	resp_free(&r);
}

static void test_wrong_password_fails(void)
{
	struct resp r = {0};
	char cred[64], agent[64], run[64];
	if (!credentials())
		return;
	if (!CHECK(make_credential(T.key, "wrong-password", cred)) ||
	    !email_run("\"wrongpass@example.org\"", "\"Wrong password\"", "\"x\"", cred, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r))
		goto out;
	approve_and_fail(agent, run, "wrongpass@example.org",
			 "the email was not sent: the SMTP server refused the login (check the credential's username and "
			 "password)");
out:
	resp_free(&r);
}

static void test_refused_recipient_fails(void)
{
	struct resp r = {0};
	char agent[64], run[64];
	if (!credentials())
		return;
	if (!email_run("[\"ok@example.org\",\"nobody@example.net\"]", "\"Refused\"", "\"x\"", cred_ok, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r))
		goto out;
	approve_and_fail(agent, run, "ok@example.org", "the SMTP server refused the message (reply 550)");
out:
	resp_free(&r);
}

/* The test server offers no TLS: starttls must not fall back to plain text, implicit TLS must not connect. */
static void test_tls_required(void)
{
	struct resp r = {0};
	char cred[64], agent[64], run[64];
	if (!credentials())
		return;
	if (!CHECK(make_credential_tls(T.key, SMTP_PASS, "starttls", cred)) ||
	    !email_run("\"starttls@example.org\"", "\"STARTTLS\"", "\"x\"", cred, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r))
		goto out;
	approve_and_fail(agent, run, "starttls@example.org", "the SMTP server does not offer STARTTLS");
	if (!CHECK(make_credential_tls(T.key, SMTP_PASS, "implicit", cred)) ||
	    !email_run("\"implicit@example.org\"", "\"Implicit TLS\"", "\"x\"", cred, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r))
		goto out;
	approve_and_fail(agent, run, "implicit@example.org", "the TLS handshake with the SMTP server failed");
out:
	resp_free(&r);
}

/* The agent's config changes while its approval waits: what was approved is what is sent. */
static void test_sends_what_was_approved(void)
{
	struct resp r = {0};
	char agent[64], run[64], apr[64], hdr[256];
	if (!credentials())
		return;
	if (!email_run("\"approved@example.org\"", "\"Approved subject\"", "\"approved body\"", cred_ok, agent, run) ||
	    !run_reaches(run, "waiting_approval", &r) || !pending_approval(agent, apr, &r))
		goto out;
	CHECK(http_call(&r, "PATCH", T.key,
			"{\"config\":{\"to\":\"changed@example.org\",\"subject\":\"Changed subject\",\"body\":\"changed\"}}",
			"/api/v1/agents/%s", agent) == 200);
	if (!CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", apr) == 200) ||
	    !run_reaches(run, "succeeded", &r))
		goto out;
	nap(1000);
	json_t *mails = mails_to("approved@example.org"), *changed = mails_to("changed@example.org");
	CHECK(json_array_size(changed) == 0);
	if (CHECK(json_array_size(mails) == 1)) {
		const char *data = jstr(json_array_get(mails, 0), "data");
		CHECK(mail_header(data, "Subject", hdr, sizeof hdr) && strcmp(hdr, "Approved subject") == 0);
		CHECK(data && strstr(data, "\r\n\r\napproved body\r\n"));
	}
	json_decref(mails);
	json_decref(changed);
out:
	resp_free(&r);
}

/* An agentless approval (source mcp, as the MCP endpoint makes them) for ARGS (JSON text) approved by T; its
 * action's final status must be WANT (and its error contain ERROR when not NULL). */
static void agentless(const char *args, const char *want, const char *error)
{
	static int seq;
	struct resp r = {0};
	char id[64];
	snprintf(id, sizeof id, "apr_0000000M%02d%015lld", ++seq, (long long)time(NULL));
	const char *p[] = {id, T.account, args, T.key_id, NULL};
	if (!CHECK(e2e_sql(NULL,
			   "INSERT INTO approvals (id, account_id, source, action, summary, arguments, requested_by, "
			   "expires_at, created_at) VALUES (?, ?, 'mcp', 'send_email', 'Send email', ?, ?, "
			   "UTC_TIMESTAMP(3) + INTERVAL 1 HOUR, UTC_TIMESTAMP(3))",
			   p) == 1))
		return;
	if (!CHECK(http_call(&r, "POST", T.key, NULL, "/api/v1/approvals/%s/approve", id) == 200))
		goto out;
	const char *st = NULL;
	for (int i = 0; i < WAIT_SECS * 10; i++) {
		http_get(&r, T.key, "/api/v1/approvals/%s", id);
		st = jstr(r.json, "data.action_result.status");
		if (st && strcmp(st, "pending") != 0 && strcmp(st, "running") != 0)
			break;
		nap(100);
	}
	CHECK_STR(st, want);
	const char *err = jstr(r.json, "data.action_result.error");
	if (error && !CHECK(err && strstr(err, error)))
		fprintf(stderr, "\n  action error: %s\n", err ? err : "(none)");
	CHECK(!err || strstr(err, SMTP_PASS) == NULL);
out:
	resp_free(&r);
}

static void test_agentless_send_email(void)
{
	char args[400];
	if (!credentials())
		return;
	snprintf(args, sizeof args,
		 "{\"to\":[\"mcp@example.org\"],\"subject\":\"From the MCP tool\",\"body\":\"hi\",\"credential_id\":\"%s\"}",
		 cred_ok);
	agentless(args, "succeeded", NULL);
	nap(1000);
	json_t *mails = mails_to("mcp@example.org");
	if (CHECK(json_array_size(mails) == 1))
		CHECK_STR(jstr(json_array_get(mails, 0), "login"), SMTP_USER);
	json_decref(mails);

	/* another account's credential, and arguments that are not an email: failed, nothing sent */
	snprintf(args, sizeof args,
		 "{\"to\":\"mcp-other@example.org\",\"subject\":\"x\",\"body\":\"x\",\"credential_id\":\"%s\"}", cred_other);
	char want[128];
	snprintf(want, sizeof want, "credential %s was not found", cred_other);
	agentless(args, "failed", want);
	snprintf(args, sizeof args,
		 "{\"to\":\"mcp-other@example.org\",\"subject\":\"a\\r\\nBcc: eve@example.org\",\"body\":\"x\","
		 "\"credential_id\":\"%s\"}",
		 cred_ok);
	agentless(args, "failed", "the email is not valid: arguments.subject must not contain CR, LF or NUL");
	snprintf(args, sizeof args,
		 "{\"to\":\"mcp-other@example.org\",\"subject\":\"x\",\"body\":\"x\",\"bcc\":\"eve@example.org\","
		 "\"credential_id\":\"%s\"}",
		 cred_ok);
	agentless(args, "failed", "the email is not valid: unknown field arguments.bcc");
	nap(500);
	mails = mails_to("mcp-other@example.org");
	CHECK(json_array_size(mails) == 0);
	json_decref(mails);
}

static void test_create_refusals(void)
{
	struct resp r = {0};
	char body[1200];
	static const struct {
		const char *config;
		long status;
		const char *code, *param;
	} cases[] = {
		{"{\"to\":\"a@example.org\",\"subject\":\"Hi\\r\\nBcc: eve@example.org\",\"body\":\"x\",\"credential_id\":\"CRED\"}",
		 422, "parameter_invalid", "config.subject"},
		{"{\"to\":\"a@example.org\",\"subject\":\"Hi\\nthere\",\"body\":\"x\",\"credential_id\":\"CRED\"}", 422,
		 "parameter_invalid", "config.subject"},
		{"{\"to\":\"a@example.org\\r\\nBcc: eve@example.org\",\"subject\":\"Hi\",\"body\":\"x\",\"credential_id\":\"CRED\"}",
		 422, "parameter_invalid", "config.to"},
		{"{\"to\":\"Eve <eve@example.org>\",\"subject\":\"Hi\",\"body\":\"x\",\"credential_id\":\"CRED\"}", 422,
		 "parameter_invalid", "config.to"},
		{"{\"to\":[],\"subject\":\"Hi\",\"body\":\"x\",\"credential_id\":\"CRED\"}", 422, "parameter_invalid", "config.to"},
		{"{\"subject\":\"Hi\",\"body\":\"x\",\"credential_id\":\"CRED\"}", 422, "parameter_missing", "config.to"},
		{"{\"to\":\"a@example.org\",\"subject\":\"Hi\",\"body\":\"x\",\"credential_id\":\"CRED\",\"bcc\":\"e@example.org\"}",
		 422, "parameter_unknown", "config.bcc"},
		{"{\"to\":\"a@example.org\",\"subject\":\"Hi\",\"body\":\"x\"}", 422, "parameter_missing", "config.credential_id"},
	};
	if (!credentials())
		return;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* CRED stands for the credential id */
		char config[600];
		const char *at = strstr(cases[i].config, "CRED");
		if (at)
			snprintf(config, sizeof config, "%.*s%s%s", (int)(at - cases[i].config), cases[i].config, cred_ok, at + 4);
		else
			snprintf(config, sizeof config, "%s", cases[i].config);
		snprintf(body, sizeof body, "{\"name\":\"Bad\",\"type\":\"send_email\",\"config\":%s}", config);
		http_call(&r, "POST", T.key, body, "/api/v1/agents");
		if (!CHECK_ERROR(r, cases[i].status, cases[i].code, cases[i].param))
			fprintf(stderr, "\n  case %zu: %s\n", i, config);
	}
	/* another account's credential is not found; a bearer token is not an smtp credential */
	snprintf(body, sizeof body,
		 "{\"name\":\"Bad\",\"type\":\"send_email\",\"config\":{\"to\":\"a@example.org\",\"subject\":\"Hi\",\"body\":\"x\","
		 "\"credential_id\":\"%s\"}}",
		 cred_other);
	http_call(&r, "POST", T.key, body, "/api/v1/agents");
	CHECK_ERROR(r, 404, "not_found", "config.credential_id");
	snprintf(body, sizeof body,
		 "{\"name\":\"Bad\",\"type\":\"send_email\",\"config\":{\"to\":\"a@example.org\",\"subject\":\"Hi\",\"body\":\"x\","
		 "\"credential_id\":\"%s\"}}",
		 cred_bearer);
	http_call(&r, "POST", T.key, body, "/api/v1/agents");
	CHECK_ERROR(r, 422, "parameter_invalid", "config.credential_id");

	/* an update is held to the same rules */
	char agent[64] = "";
	snprintf(body, sizeof body,
		 "{\"name\":\"Good\",\"type\":\"send_email\",\"config\":{\"to\":\"a@example.org\",\"subject\":\"Hi\",\"body\":\"x\","
		 "\"credential_id\":\"%s\"}}",
		 cred_ok);
	if (CHECK(http_call(&r, "POST", T.key, body, "/api/v1/agents") == 201) && jstr(r.json, "data.id"))
		snprintf(agent, sizeof agent, "%s", jstr(r.json, "data.id"));
	if (agent[0]) {
		http_call(&r, "PATCH", T.key, "{\"config\":{\"subject\":\"a\\r\\nb\"}}", "/api/v1/agents/%s", agent);
		CHECK_ERROR(r, 422, "parameter_invalid", "config.subject");
		snprintf(body, sizeof body, "{\"config\":{\"credential_id\":\"%s\"}}", cred_other);
		http_call(&r, "PATCH", T.key, body, "/api/v1/agents/%s", agent);
		CHECK_ERROR(r, 404, "not_found", "config.credential_id");
		CHECK(http_call(&r, "DELETE", T.key, NULL, "/api/v1/agents/%s", agent) == 204);
	}
	resp_free(&r);
}

int suite_email_register(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"create and update refusals", test_create_refusals},
		{"approve: the email arrives once", test_approve_sends_once},
		{"run again after sending (a lost worker): not sent twice", test_rerun_does_not_send_again},
		{"reject: nothing is sent", test_reject_sends_nothing},
		{"two concurrent approvals: one email", test_concurrent_approvals_send_once},
		{"expired approval: run expired, nothing sent", test_expired_sends_nothing},
		{"revoked credential: the run fails clearly", test_revoked_credential_fails},
		{"wrong SMTP password: the run fails clearly", test_wrong_password_fails},
		{"refused recipient: the run fails, nothing sent", test_refused_recipient_fails},
		{"tls starttls and implicit never fall back to plain text", test_tls_required},
		{"config changed while pending: the approved email is sent", test_sends_what_was_approved},
		{"agentless (mcp) approval: performed once, refusals", test_agentless_send_email},
	};
	CU_pSuite s = CU_add_suite("email", init, cleanup);
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
