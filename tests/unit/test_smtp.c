/* test_smtp: unit tests for email addresses, the email field checks, the RFC 5322 composer and the sender's refusals. */
#include "suites.h"

#include "agenttype.h"
#include "arena.h"
#include "crypto.h"
#include "smtp.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tsm_addresses(void)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
		{"a@example.com", 1},
		{"first.last+tag@mail.example.co.uk", 1},
		{"o'brien@example.com", 1},
		{"x!#$%&'*+-/=?^_`{|}~@ex-ample.com", 1},
		{"a@b.c", 1},
		{"", 0},
		{"a", 0},
		{"@example.com", 0},
		{"a@", 0},
		{"a@localhost", 0},
		{"a@@example.com", 0},
		{"a@b@example.com", 0},
		{".a@example.com", 0},
		{"a.@example.com", 0},
		{"a..b@example.com", 0},
		{"\"a b\"@example.com", 0},
		{"a b@example.com", 0},
		{"a@exa mple.com", 0},
		{"a@-example.com", 0},
		{"a@example-.com", 0},
		{"a@example..com", 0},
		{"a@.example.com", 0},
		{"a@example.com.", 0},
		{"a@[127.0.0.1]", 0},
		{"a@exam_ple.com", 0},
		{"a\r\n@example.com", 0},
		{"a@example.com\r\nBcc: x@example.com", 0},
		{"a@example.com>", 0},
		{"<a@example.com>", 0},
		{"Bob <a@example.com>", 0},
		{"ü@example.com", 0},
		{"a@exämple.com", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = smtp_address_valid(cases[i].s);
		if (got != cases[i].ok)
			fprintf(stderr, "\naddress %s: got %d\n", cases[i].s, got);
		CU_ASSERT_EQUAL(got, cases[i].ok);
	}
	CU_ASSERT_EQUAL(smtp_address_valid(NULL), 0);

	/* lengths: local part 64, label 63, domain 253, whole 254 */
	char buf[400];
	memset(buf, 'a', 64);
	snprintf(buf + 64, sizeof buf - 64, "@example.com");
	CU_ASSERT_EQUAL(smtp_address_valid(buf), 1);
	memset(buf, 'a', 65);
	snprintf(buf + 65, sizeof buf - 65, "@example.com");
	CU_ASSERT_EQUAL(smtp_address_valid(buf), 0);
	snprintf(buf, sizeof buf, "a@%.*s.com", 63, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	CU_ASSERT_EQUAL(smtp_address_valid(buf), 1);
	snprintf(buf, sizeof buf, "a@%.*s.com", 64, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	CU_ASSERT_EQUAL(smtp_address_valid(buf), 0);
	/* "a@" + 4 labels of 61 + "." = 250, then "abcd": 254 in all; "abcde": 255 */
	size_t o = (size_t)snprintf(buf, sizeof buf, "a@");
	for (int i = 0; i < 4; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%.61s.", "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	snprintf(buf + o, sizeof buf - o, "abcd");
	CU_ASSERT_EQUAL(strlen(buf), 254);
	CU_ASSERT_EQUAL(smtp_address_valid(buf), 1);
	snprintf(buf + o, sizeof buf - o, "abcde");
	CU_ASSERT_EQUAL(smtp_address_valid(buf), 0);
}

/* Checks the fields in TEXT (a JSON object with to, subject, body); returns smtp_check_fields' answer. */
static int tsm_check(const char *text, verr *e)
{
	json_error_t je;
	json_t *o = json_loads(text, JSON_ALLOW_NUL, &je);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	memset(e, 0, sizeof *e);
	int rc = smtp_check_fields(json_object_get(o, "to"), json_object_get(o, "subject"), json_object_get(o, "body"),
				   "config", e);
	json_decref(o);
	return rc;
}

static void tsm_fields(void)
{
	verr e;
	CU_ASSERT_EQUAL(tsm_check("{\"to\":\"a@example.com\",\"subject\":\"Hi\",\"body\":\"\"}", &e), 0);
	CU_ASSERT_EQUAL(tsm_check("{\"to\":[\"a@example.com\",\"b@example.com\"],\"subject\":\"Grüße\",\"body\":\"x\"}", &e), 0);

	CU_ASSERT_EQUAL(tsm_check("{\"subject\":\"Hi\",\"body\":\"\"}", &e), -1);
	CU_ASSERT_EQUAL(e.code, VERR_MISSING);
	CU_ASSERT_STRING_EQUAL(e.param, "config.to");
	CU_ASSERT_EQUAL(tsm_check("{\"to\":\"a@example.com\",\"body\":\"\"}", &e), -1);
	CU_ASSERT_STRING_EQUAL(e.param, "config.subject");
	CU_ASSERT_EQUAL(tsm_check("{\"to\":\"a@example.com\",\"subject\":\"Hi\"}", &e), -1);
	CU_ASSERT_STRING_EQUAL(e.param, "config.body");

	static const struct {
		const char *text, *param;
	} bad[] = {
		{"{\"to\":\"a@example.com\\r\\nBcc: b@example.com\",\"subject\":\"Hi\",\"body\":\"\"}", "config.to"},
		{"{\"to\":\"a@example.com\\u0000x\",\"subject\":\"Hi\",\"body\":\"\"}", "config.to"},
		{"{\"to\":[],\"subject\":\"Hi\",\"body\":\"\"}", "config.to"},
		{"{\"to\":[1],\"subject\":\"Hi\",\"body\":\"\"}", "config.to"},
		{"{\"to\":{},\"subject\":\"Hi\",\"body\":\"\"}", "config.to"},
		{"{\"to\":[\"a@example.com\",\"A@example.com\"],\"subject\":\"Hi\",\"body\":\"\"}", "config.to"},
		{"{\"to\":[\"a@example.com\",\"b@example.com\",\"c@example.com\",\"d@example.com\",\"e@example.com\","
		 "\"f@example.com\",\"g@example.com\",\"h@example.com\",\"i@example.com\",\"j@example.com\",\"k@example.com\"],"
		 "\"subject\":\"Hi\",\"body\":\"\"}",
		 "config.to"},
		{"{\"to\":\"a@example.com\",\"subject\":\"Hi\\r\\nBcc: b@example.com\",\"body\":\"\"}", "config.subject"},
		{"{\"to\":\"a@example.com\",\"subject\":\"Hi\\nthere\",\"body\":\"\"}", "config.subject"},
		{"{\"to\":\"a@example.com\",\"subject\":\"Hi\\rthere\",\"body\":\"\"}", "config.subject"},
		{"{\"to\":\"a@example.com\",\"subject\":\"Hi\\u0000\",\"body\":\"\"}", "config.subject"},
		{"{\"to\":\"a@example.com\",\"subject\":\"\",\"body\":\"\"}", "config.subject"},
		{"{\"to\":\"a@example.com\",\"subject\":7,\"body\":\"\"}", "config.subject"},
		{"{\"to\":\"a@example.com\",\"subject\":\"Hi\",\"body\":\"a\\u0000b\"}", "config.body"},
		{"{\"to\":\"a@example.com\",\"subject\":\"Hi\",\"body\":[]}", "config.body"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = tsm_check(bad[i].text, &e);
		if (rc != -1 || strcmp(e.param, bad[i].param) != 0)
			fprintf(stderr, "\nfields case %zu: rc %d param %s\n", i, rc, e.param);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_STRING_EQUAL(e.param, bad[i].param);
	}

	/* 255 code points of subject pass, 256 do not; 65536 body bytes pass, 65537 do not */
	json_t *to = json_string("a@example.com"), *body = json_string("");
	char s[1200];
	size_t o = 0;
	for (int i = 0; i < 255; i++)
		o += (size_t)snprintf(s + o, sizeof s - o, "é");
	json_t *subj = json_string(s);
	CU_ASSERT_EQUAL(smtp_check_fields(to, subj, body, "arguments", &e), 0);
	json_decref(subj);
	snprintf(s + o, sizeof s - o, "x");
	subj = json_string(s);
	CU_ASSERT_EQUAL(smtp_check_fields(to, subj, body, "arguments", &e), -1);
	CU_ASSERT_STRING_EQUAL(e.param, "arguments.subject");
	json_decref(subj);
	subj = json_string("Hi");
	char *big = malloc(SMTP_MAX_BODY + 2);
	memset(big, 'x', SMTP_MAX_BODY + 1);
	big[SMTP_MAX_BODY] = '\0';
	json_decref(body);
	body = json_string(big);
	CU_ASSERT_EQUAL(smtp_check_fields(to, subj, body, "arguments", &e), 0);
	json_decref(body);
	big[SMTP_MAX_BODY] = 'x';
	big[SMTP_MAX_BODY + 1] = '\0';
	body = json_string(big);
	CU_ASSERT_EQUAL(smtp_check_fields(to, subj, body, "arguments", &e), -1);
	CU_ASSERT_STRING_EQUAL(e.param, "arguments.body");
	free(big);
	json_decref(body);
	json_decref(subj);
	json_decref(to);

	arena *a = arena_new();
	const char **list;
	json_t *arr = json_pack("[ss]", "a@example.com", "b@example.com");
	CU_ASSERT_EQUAL(smtp_recipients(a, arr, &list), 2);
	CU_ASSERT_STRING_EQUAL(list[0], "a@example.com");
	CU_ASSERT_STRING_EQUAL(list[1], "b@example.com");
	CU_ASSERT_PTR_NULL(list[2]);
	json_decref(arr);
	arr = json_string("c@example.com");
	CU_ASSERT_EQUAL(smtp_recipients(a, arr, &list), 1);
	CU_ASSERT_STRING_EQUAL(list[0], "c@example.com");
	CU_ASSERT_PTR_NULL(list[1]);
	json_decref(arr);
	arr = json_string("nope");
	CU_ASSERT_EQUAL(smtp_recipients(a, arr, &list), -1);
	json_decref(arr);
	arena_free(a);
}

/* The message's header block and body (pointers into TEXT). */
static void tsm_split(char *text, char **headers, char **body)
{
	char *sep = strstr(text, "\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sep);
	sep[2] = '\0';
	*headers = text;
	*body = sep + 4;
}

/* Every line ends in CRLF, holds no bare CR or LF, is at most MAX bytes and does not start with '.'. */
static void tsm_lines(const char *text, size_t len, size_t max)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r') {
			CU_ASSERT_FATAL(i + 1 < len && text[i + 1] == '\n');
			CU_ASSERT(i - start <= max);
			CU_ASSERT(i == start || text[start] != '.');
			start = i + 2;
			i++;
		} else
			CU_ASSERT_FATAL(text[i] != '\n' && text[i] != '\0');
	}
	CU_ASSERT_EQUAL(start, len);
}

/* Decodes quoted-printable S into OUT (hard breaks as "\n"); returns the length or -1 when it is malformed. */
static long tsm_unqp(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	for (const char *p = s; *p;) {
		if (o + 1 >= outlen)
			return -1;
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 3;
		} else if (p[0] == '=') {
			unsigned v;
			if (!p[1] || !p[2] || sscanf(p + 1, "%2X", &v) != 1 || strchr("abcdef", p[1]) || strchr("abcdef", p[2]))
				return -1;
			out[o++] = (char)v;
			p += 3;
		} else if (p[0] == '\r' && p[1] == '\n') {
			if (p > s && (p[-1] == ' ' || p[-1] == '\t'))
				return -1; /* trailing whitespace must have been encoded */
			out[o++] = '\n';
			p += 2;
		} else
			out[o++] = *p++;
	}
	out[o] = '\0';
	return (long)o;
}

static const char *const TSM_TO[] = {"bob@example.org", NULL};

static void tsm_compose_plain(void)
{
	arena *a = arena_new();
	smtp_message m = {
		.from = "agent@example.com",
		.to = TSM_TO,
		.subject = "Quarterly report",
		.body = "Hello Bob,\nthe numbers are in.\n",
		.date = 1764347499, /* 2025-11-28 16:31:39 UTC, a Friday */
		.message_id = "<abc.1@example.com>",
	};
	m.body_len = strlen(m.body);
	size_t len = 0;
	const char *id = NULL;
	char err[200];
	char *text = smtp_compose(a, &m, &len, &id, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "From: agent@example.com\r\n"
				     "To: bob@example.org\r\n"
				     "Subject: Quarterly report\r\n"
				     "Date: Fri, 28 Nov 2025 16:31:39 +0000\r\n"
				     "Message-ID: <abc.1@example.com>\r\n"
				     "MIME-Version: 1.0\r\n"
				     "Content-Type: text/plain; charset=utf-8\r\n"
				     "Content-Transfer-Encoding: quoted-printable\r\n"
				     "Auto-Submitted: auto-generated\r\n"
				     "\r\n"
				     "Hello Bob,\r\n"
				     "the numbers are in.\r\n");
	CU_ASSERT_EQUAL(len, strlen(text));
	CU_ASSERT_STRING_EQUAL(id, "<abc.1@example.com>");

	/* a generated Message-ID: random, on the sender's domain */
	m.message_id = NULL;
	text = smtp_compose(a, &m, &len, &id, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strlen(id), 1 + 32 + 1 + 10 + strlen("@example.com>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(id, "@example.com>"));
	const char *id1 = id;
	text = smtp_compose(a, &m, &len, &id, err, sizeof err);
	CU_ASSERT_STRING_NOT_EQUAL(id, id1);

	/* an empty body is a blank line after the headers */
	m.body = "";
	m.body_len = 0;
	text = smtp_compose(a, &m, &len, &id, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT(len >= 4 && memcmp(text + len - 4, "\r\n\r\n", 4) == 0);
	arena_free(a);
}

static void tsm_compose_recipients(void)
{
	arena *a = arena_new();
	const char *to[SMTP_MAX_RCPT + 2];
	char addrs[SMTP_MAX_RCPT + 1][80];
	for (int i = 0; i <= SMTP_MAX_RCPT; i++) {
		snprintf(addrs[i], sizeof addrs[i], "recipient.number.%02d@subdomain.example.com", i);
		to[i] = addrs[i];
	}
	to[SMTP_MAX_RCPT] = NULL;
	smtp_message m = {.from = "a@example.com", .to = to, .subject = "s", .body = "b", .body_len = 1, .date = 0};
	size_t len;
	char err[200];
	char *text = smtp_compose(a, &m, &len, NULL, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	tsm_lines(text, len, 78);
	char *h, *b;
	tsm_split(text, &h, &b);
	/* every address once, separated by commas, the folds are CRLF + space */
	for (int i = 0; i < SMTP_MAX_RCPT; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(h, addrs[i]));
	CU_ASSERT_PTR_NOT_NULL(strstr(h, "To: recipient.number.00@subdomain.example.com,\r\n recipient.number.01@"));
	CU_ASSERT_PTR_NOT_NULL(strstr(h, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));

	to[SMTP_MAX_RCPT] = addrs[SMTP_MAX_RCPT];
	to[SMTP_MAX_RCPT + 1] = NULL;
	CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
	CU_ASSERT_STRING_EQUAL(err, "too many recipients");
	to[0] = NULL;
	CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
	CU_ASSERT_STRING_EQUAL(err, "the message has no recipient");
	arena_free(a);
}

static void tsm_compose_refusals(void)
{
	arena *a = arena_new();
	const char *bad_to[] = {"bob@example.org\r\nBcc: eve@example.org", NULL};
	smtp_message ok = {.from = "a@example.com", .to = TSM_TO, .subject = "s", .body = "b", .body_len = 1};
	size_t len;
	char err[200];

	smtp_message m = ok;
	m.from = "a@example.com\r\nBcc: eve@example.org";
	CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
	CU_ASSERT_STRING_EQUAL(err, "the sender address is not a valid email address");
	m = ok;
	m.to = bad_to;
	CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
	CU_ASSERT_STRING_EQUAL(err, "a recipient address is not valid");
	static const char *const subjects[] = {"a\r\nBcc: eve@example.org", "a\nb", "a\rb", ""};
	for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
		m = ok;
		m.subject = subjects[i];
		CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
	}
	m = ok;
	m.subject = NULL;
	CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
	m = ok;
	m.body = "a\0b";
	m.body_len = 3;
	CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
	m = ok;
	m.body = "\xff\xfe";
	m.body_len = 2;
	CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
	static const char *const ids[] = {"abc@example.com", "<abc@example.com>\r\nBcc: x", "<@example.com>",
					  "<abc@>", "<a b@example.com>", "<a@b@c>"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		m = ok;
		m.message_id = ids[i];
		CU_ASSERT_PTR_NULL(smtp_compose(a, &m, &len, NULL, err, sizeof err));
		CU_ASSERT_STRING_EQUAL(err, "the Message-ID is not valid");
	}
	arena_free(a);
}

/* Decodes the encoded-words of a Subject header value (folded) back to UTF-8. */
static void tsm_unsubject(const char *v, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = '\0';
	while ((v = strstr(v, "=?UTF-8?B?")) != NULL) {
		v += 10;
		const char *end = strstr(v, "?=");
		CU_ASSERT_FATAL(end != NULL);
		CU_ASSERT(end - v + 12 <= 75);
		unsigned char dec[64];
		long n = crypto_b64_decode(v, (size_t)(end - v), dec, sizeof dec);
		CU_ASSERT_FATAL(n >= 0 && o + (size_t)n < outlen);
		memcpy(out + o, dec, (size_t)n);
		o += (size_t)n;
		out[o] = '\0';
		v = end + 2;
	}
}

static void tsm_compose_subject(void)
{
	arena *a = arena_new();
	static const char *const cases[] = {
		"Grüße aus Köln",
		"日本語の件名",
		"=?UTF-8?B?SGk=?= looks encoded",
		"tab\there",
		"Ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé "
		"ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		smtp_message m = {.from = "a@example.com", .to = TSM_TO, .subject = cases[i], .body = "", .body_len = 0};
		size_t len;
		char err[200], dec[2048];
		char *text = smtp_compose(a, &m, &len, NULL, err, sizeof err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		tsm_lines(text, len, 998);
		char *s = strstr(text, "\r\nSubject: ");
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		s += 11;
		char *end = strstr(s, "\r\nDate: ");
		CU_ASSERT_PTR_NOT_NULL_FATAL(end);
		*end = '\0';
		for (const char *p = s; *p; p++)
			CU_ASSERT((unsigned char)*p < 0x7f && ((unsigned char)*p >= 0x20 || *p == '\r' || *p == '\n'));
		tsm_unsubject(s, dec, sizeof dec);
		CU_ASSERT_STRING_EQUAL(dec, cases[i]);
	}
	arena_free(a);
}

static void tsm_compose_body(void)
{
	arena *a = arena_new();
	char long_line[3000];
	memset(long_line, 'x', sizeof long_line - 1);
	long_line[sizeof long_line - 1] = '\0';
	static const struct {
		const char *in, *normalized;
	} cases[] = {
		{"line one\r\nline two\rline three\nline four", "line one\nline two\nline three\nline four\n"},
		{".\n..\n.hidden\nend.", "=2E\n=2E.\n=2Ehidden\nend.\n"},
		{"trailing space \ntrailing tab\t\nend  ", NULL},
		{"a=b ==?= 100%", NULL},
		{"Grüße 😀 — ok", NULL},
		{"\n\n\n", NULL},
		{"ctl\x01\x7f", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0] + 2; i++) {
		const char *in = i < sizeof cases / sizeof cases[0] ? cases[i].in : NULL;
		char dots[400];
		if (i == sizeof cases / sizeof cases[0])
			in = long_line;
		else if (!in) {
			/* dots and '=' landing on every column of a soft break */
			size_t o = 0;
			for (int k = 0; k < 120; k++)
				dots[o++] = k % 3 ? '.' : '=';
			dots[o] = '\0';
			in = dots;
		}
		smtp_message m = {.from = "a@example.com", .to = TSM_TO, .subject = "s", .body = in, .body_len = strlen(in)};
		size_t len;
		char err[200];
		char *text = smtp_compose(a, &m, &len, NULL, err, sizeof err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		char *h, *b;
		tsm_split(text, &h, &b);
		tsm_lines(b, strlen(b), 76);
		char *dec = malloc(strlen(b) + 1), *want = malloc(strlen(in) + 2);
		long n = tsm_unqp(b, dec, strlen(b) + 1);
		CU_ASSERT_FATAL(n >= 0);
		/* the expected text: line breaks as "\n", ending in one */
		size_t o = 0;
		for (const char *p = in; *p; p++) {
			if (*p == '\r' && p[1] == '\n')
				continue;
			want[o++] = *p == '\r' ? '\n' : *p;
		}
		if (o && want[o - 1] != '\n')
			want[o++] = '\n';
		want[o] = '\0';
		CU_ASSERT_STRING_EQUAL(dec, want);
		if (i < sizeof cases / sizeof cases[0] && cases[i].normalized) {
			/* the exact encoding of line starts */
			char flat[200];
			o = 0;
			for (const char *p = b; *p && o + 1 < sizeof flat; p++)
				if (*p != '\r')
					flat[o++] = *p;
			flat[o] = '\0';
			CU_ASSERT_STRING_EQUAL(flat, cases[i].normalized);
		}
		free(dec);
		free(want);
	}
	arena_free(a);
}

static void tsm_send_refusals(void)
{
	arena *a = arena_new();
	smtp_message m = {.from = "a@example.com", .to = TSM_TO, .subject = "s", .body = "b", .body_len = 1};
	smtp_server ok = {.host = "127.0.0.1", .port = 9, .tls = "none", .username = "u", .password = "p",
			  .timeout_ms = 2000, .allow_private = 0};
	char err[200];
	const char *id;

	smtp_server s = ok;
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP server is not allowed: URL host resolves to an address that is not allowed");
	s.host = "localhost";
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP server is not allowed: URL host is not allowed");
	s.host = "::1";
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP server is not allowed: URL host resolves to an address that is not allowed");
	s = ok;
	s.host = "mail.example.com/x";
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP host or port is not valid");
	s.host = "mail.example.com@evil.example";
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP host or port is not valid");
	s.host = "[::1]";
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP server is not allowed: URL host resolves to an address that is not allowed");
	s.host = "[127.0.0.1]";
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP host or port is not valid");
	s = ok;
	s.tls = "ssl";
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP TLS mode must be starttls, implicit or none");
	s = ok;
	s.port = 0;
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	s.port = 65536;
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	s = ok;
	s.password = "p\r\nQUIT";
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the SMTP username or password contains CR, LF or NUL");
	CU_ASSERT_PTR_NULL(strstr(err, "QUIT"));
	/* nothing listens on port 9 of the loopback (discard is not run): a readable connect failure */
	s = ok;
	s.allow_private = 1;
	CU_ASSERT_EQUAL(smtp_send(a, &s, &m, &id, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "could not connect to the SMTP server");
	arena_free(a);
}

static void tsm_summary(void)
{
	arena *a = arena_new();
	const char *two[] = {"a@example.com", "b@example.com", NULL};
	CU_ASSERT_STRING_EQUAL(smtp_summary(a, "Hi", two), "Send email \"Hi\" to a@example.com, b@example.com");

	/* a long subject is cut at 120 code points, on a character boundary */
	char subj[1100];
	size_t o = 0;
	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(subj + o, sizeof subj - o, "ü");
	const char *s = smtp_summary(a, subj, two);
	CU_ASSERT_EQUAL(strncmp(s, "Send email \"", 12), 0);
	CU_ASSERT_EQUAL(strncmp(s + 12, subj, 240), 0);
	CU_ASSERT_STRING_EQUAL(s + 12 + 240, "…\" to a@example.com, b@example.com");

	/* ten long addresses do not fit in 500 characters: the rest is counted */
	char addrs[SMTP_MAX_RCPT][80];
	const char *ten[SMTP_MAX_RCPT + 1];
	for (int i = 0; i < SMTP_MAX_RCPT; i++) {
		snprintf(addrs[i], sizeof addrs[i], "a-rather-long-recipient-address-%02d@subdomain.example.com", i);
		ten[i] = addrs[i];
	}
	ten[SMTP_MAX_RCPT] = NULL;
	s = smtp_summary(a, subj, ten);
	CU_ASSERT(util_utf8_length(s, strlen(s)) <= SMTP_MAX_SUMMARY);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "to a-rather-long-recipient-address-00@subdomain.example.com, "));
	const char *more = strstr(s, " and ");
	CU_ASSERT_PTR_NOT_NULL(more);
	CU_ASSERT(more && strcmp(more + strlen(more) - 5, " more") == 0);
	arena_free(a);
}

/* CONFIG (JSON text) checked by the send_email type: 0, or the param of the first error. */
static const char *tsm_config(const char *config)
{
	static char param[128];
	const agenttype *t = agenttype_find("send_email");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	json_t *c = json_loads(config, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	verr e;
	memset(&e, 0, sizeof e);
	int rc = t->validate(c, &e);
	json_decref(c);
	snprintf(param, sizeof param, "%s", rc == 0 ? "" : e.param);
	return param;
}

static void tsm_agenttype(void)
{
	const agenttype *t = agenttype_find("send_email");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* the credential is a reference the API checks: an smtp credential of the agent's account */
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->refs);
	CU_ASSERT_STRING_EQUAL(t->refs[0].field, "credential_id");
	CU_ASSERT_EQUAL(t->refs[0].kind, AGENTTYPE_REF_CREDENTIAL);
	CU_ASSERT_STRING_EQUAL(t->refs[0].credential_type, "smtp");
	CU_ASSERT_PTR_NULL(t->refs[1].field);

	CU_ASSERT_STRING_EQUAL(tsm_config("{\"to\":\"a@example.com\",\"subject\":\"s\",\"body\":\"b\",\"credential_id\":\"cred_x\"}"), "");
	CU_ASSERT_STRING_EQUAL(tsm_config("{\"to\":[\"a@example.com\"],\"subject\":\"s\",\"body\":\"\",\"credential_id\":\"cred_x\"}"), "");
	CU_ASSERT_STRING_EQUAL(tsm_config("{\"to\":\"a@example.com\",\"subject\":\"s\",\"body\":\"b\"}"), "config.credential_id");
	CU_ASSERT_STRING_EQUAL(tsm_config("{\"to\":\"a@example.com\",\"subject\":\"s\",\"body\":\"b\",\"credential_id\":5}"),
			       "config.credential_id");
	CU_ASSERT_STRING_EQUAL(tsm_config("{\"to\":\"a@example.com\",\"subject\":\"s\",\"body\":\"b\",\"credential_id\":\"\"}"),
			       "config.credential_id");
	CU_ASSERT_STRING_EQUAL(tsm_config("{\"to\":\"a@example.com\",\"subject\":\"s\\r\\n\",\"body\":\"b\",\"credential_id\":\"c\"}"),
			       "config.subject");
	CU_ASSERT_STRING_EQUAL(tsm_config("{\"to\":\"a\",\"subject\":\"s\",\"body\":\"b\",\"credential_id\":\"c\"}"), "config.to");
	CU_ASSERT_STRING_EQUAL(tsm_config("{\"to\":\"a@example.com\",\"subject\":\"s\",\"body\":\"b\",\"credential_id\":\"c\",\"cc\":1}"),
			       "config.cc");
	CU_ASSERT_STRING_EQUAL(tsm_config("{}"), "config.to");
}

int test_smtp_suite(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"smtp: addresses", tsm_addresses},
		{"smtp: email fields", tsm_fields},
		{"smtp: compose plain message", tsm_compose_plain},
		{"smtp: compose recipients", tsm_compose_recipients},
		{"smtp: compose refusals", tsm_compose_refusals},
		{"smtp: compose encoded subject", tsm_compose_subject},
		{"smtp: compose quoted-printable body", tsm_compose_body},
		{"smtp: send refusals", tsm_send_refusals},
		{"smtp: approval summary", tsm_summary},
		{"smtp: send_email agent type config", tsm_agenttype},
	};
	CU_pSuite suite = CU_add_suite("smtp", NULL, NULL);

	if (!suite)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
