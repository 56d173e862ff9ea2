/* test_outbound: unit tests for the outbound path: URL guard, HTTP client (against a local server) and Standard Webhooks. */
#include "suites.h"

#include "arena.h"
#include "httpc.h"
#include "stdwebhook.h"
#include "urlguard.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- address policy */

static int tob_allowed(const char *addr, int allow_private)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else {
		CU_FAIL("test address does not parse");
		return -1;
	}
	return urlguard_address_allowed((struct sockaddr *)&ss, allow_private);
}

/* Expected: public 1/1; private 0/1 (allowed only with allow_private); never 0/0. */
static const struct {
	const char *addr;
	int strict, relaxed;
} TOB_ADDRS[] = {
	{"8.8.8.8", 1, 1},
	{"1.1.1.1", 1, 1},
	{"93.184.216.34", 1, 1},
	{"0.0.0.0", 0, 0},
	{"0.255.255.255", 0, 0},
	{"1.0.0.0", 1, 1},
	{"9.255.255.255", 1, 1},
	{"10.0.0.1", 0, 1},
	{"10.255.255.255", 0, 1},
	{"11.0.0.0", 1, 1},
	{"100.63.255.255", 1, 1},
	{"100.64.0.1", 0, 1},
	{"100.127.255.255", 0, 1},
	{"100.128.0.0", 1, 1},
	{"126.255.255.255", 1, 1},
	{"127.0.0.1", 0, 1},
	{"127.255.255.254", 0, 1},
	{"128.0.0.0", 1, 1},
	{"169.254.169.254", 0, 1},
	{"169.253.255.255", 1, 1},
	{"169.255.0.0", 1, 1},
	{"172.15.255.255", 1, 1},
	{"172.16.0.1", 0, 1},
	{"172.31.255.255", 0, 1},
	{"172.32.0.0", 1, 1},
	{"192.0.0.1", 0, 1},
	{"192.0.1.1", 1, 1},
	{"192.0.2.1", 0, 1},
	{"192.0.3.1", 1, 1},
	{"192.167.255.255", 1, 1},
	{"192.168.1.1", 0, 1},
	{"192.169.0.0", 1, 1},
	{"198.17.255.255", 1, 1},
	{"198.18.0.1", 0, 1},
	{"198.19.255.255", 0, 1},
	{"198.20.0.0", 1, 1},
	{"198.51.100.7", 0, 1},
	{"203.0.113.9", 0, 1},
	{"203.0.114.0", 1, 1},
	{"223.255.255.255", 1, 1},
	{"224.0.0.1", 0, 0},
	{"239.255.255.255", 0, 0},
	{"240.0.0.1", 0, 0},
	{"255.255.255.255", 0, 0},
	/* IPv6 */
	{"2606:4700:4700::1111", 1, 1},
	{"2a00:1450:4001::1", 1, 1},
	{"::", 0, 0},
	{"::1", 0, 1},
	{"::2", 0, 1},
	{"::8.8.8.8", 0, 1},            /* IPv4-compatible (deprecated) */
	{"::ffff:127.0.0.1", 0, 1},     /* IPv4-mapped: judged as 127.0.0.1 */
	{"::ffff:7f00:1", 0, 1},
	{"::ffff:10.1.2.3", 0, 1},
	{"::ffff:169.254.169.254", 0, 1},
	{"::ffff:8.8.8.8", 1, 1},
	{"::ffff:0.0.0.0", 0, 0},
	{"::ffff:224.0.0.1", 0, 0},
	{"::ffff:0:127.0.0.1", 0, 1},   /* IPv4-translated */
	{"64:ff9b::127.0.0.1", 0, 1},   /* NAT64: judged by the embedded IPv4 */
	{"64:ff9b::a9fe:a9fe", 0, 1},
	{"64:ff9b::8.8.8.8", 1, 1},
	{"64:ff9b:1::1", 0, 1},
	{"2002:7f00:1::1", 0, 1},       /* 6to4 of 127.0.0.1 */
	{"2002:0808:0808::1", 1, 1},
	{"fc00::1", 0, 1},
	{"fd12:3456::1", 0, 1},
	{"fe80::1", 0, 1},
	{"febf::1", 0, 1},
	{"fec0::1", 0, 1},
	{"ff02::1", 0, 0},
	{"ff0e::1", 0, 0},
	{"2001:db8::1", 0, 1},
	{"2001:db8:ffff::1", 0, 1},
	{"2001:db9::1", 1, 1},
	{"2001:0:4136:e378::1", 0, 1},  /* Teredo */
	{"2001:2::1", 0, 1},
	{"100::1", 0, 1},
};

static void tob_address_policy(void)
{
	for (size_t i = 0; i < sizeof TOB_ADDRS / sizeof TOB_ADDRS[0]; i++) {
		int strict = tob_allowed(TOB_ADDRS[i].addr, 0), relaxed = tob_allowed(TOB_ADDRS[i].addr, 1);
		if (strict != TOB_ADDRS[i].strict || relaxed != TOB_ADDRS[i].relaxed)
			fprintf(stderr, "\naddress %s: got %d/%d, want %d/%d\n", TOB_ADDRS[i].addr, strict, relaxed,
				TOB_ADDRS[i].strict, TOB_ADDRS[i].relaxed);
		CU_ASSERT_EQUAL(strict, TOB_ADDRS[i].strict);
		CU_ASSERT_EQUAL(relaxed, TOB_ADDRS[i].relaxed);
	}
	struct sockaddr sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNIX;
	CU_ASSERT_EQUAL(urlguard_address_allowed(&sa, 1), 0);
	CU_ASSERT_EQUAL(urlguard_address_allowed(NULL, 1), 0);
}

/* ---------------------------------------------------------------- guard */

static void tob_refused(const char *url, const char *const *schemes, int allow_private, const char *reason)
{
	urlguard_target t;
	char err[128] = "";
	int rc = urlguard_check(url, schemes, allow_private, &t, err, sizeof err);
	if (rc != -1 || (reason && strcmp(err, reason) != 0))
		fprintf(stderr, "\nurl %s: rc %d err \"%s\" (want \"%s\")\n", url, rc, err, reason ? reason : "");
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT(err[0] != '\0');
	if (reason)
		CU_ASSERT_STRING_EQUAL(err, reason);
	CU_ASSERT_EQUAL(t.host[0], '\0'); /* nothing half-filled */
}

static void tob_guard_shape(void)
{
	static const char *const smtp[] = {"smtp", "smtps", NULL};
	static const char *const https_only[] = {"https", NULL};
	char longurl[URLGUARD_MAX_URL + 2];

	tob_refused(NULL, NULL, 1, "URL is required");
	tob_refused("", NULL, 1, "URL is required");
	tob_refused("ftp://1.1.1.1/", NULL, 1, "URL scheme is not allowed");
	tob_refused("file:///etc/passwd", NULL, 1, "URL scheme is not allowed");
	tob_refused("gopher://1.1.1.1/", NULL, 1, "URL scheme is not allowed");
	tob_refused("smtp://1.1.1.1/", NULL, 1, "URL scheme is not allowed");
	tob_refused("http://1.1.1.1/", https_only, 1, "URL scheme is not allowed");
	tob_refused("https://1.1.1.1/", smtp, 1, "URL scheme is not allowed");
	tob_refused("httpsx://1.1.1.1/", NULL, 1, "URL scheme is not allowed");
	tob_refused("1.1.1.1/x", NULL, 1, "URL must start with a scheme and //");
	tob_refused("http:1.1.1.1", NULL, 1, "URL must start with a scheme and //");
	tob_refused("http:/1.1.1.1/", NULL, 1, "URL must start with a scheme and //");
	tob_refused("//1.1.1.1/", NULL, 1, "URL must start with a scheme and //");
	tob_refused("http:///1.1.1.1/", NULL, 1, "URL has no host");
	tob_refused("http://", NULL, 1, "URL has no host");
	tob_refused("http://:80/", NULL, 1, "URL has no host");
	tob_refused("http://[]/", NULL, 1, "URL has no host");
	tob_refused("http://user:pass@1.1.1.1/", NULL, 1, "URL must not contain credentials");
	tob_refused("http://user@1.1.1.1/", NULL, 1, "URL must not contain credentials");
	tob_refused("http://@1.1.1.1/", NULL, 1, "URL must not contain credentials");
	tob_refused("http://1.1.1.1@127.0.0.1/", NULL, 1, "URL must not contain credentials");
	tob_refused("http://1.1.1.1:0/", NULL, 1, "URL port must be 1-65535");
	tob_refused("http://1.1.1.1:65536/", NULL, 1, "URL port must be 1-65535");
	tob_refused("http://1.1.1.1:/", NULL, 1, "URL port must be 1-65535");
	tob_refused("http://1.1.1.1:-1/", NULL, 1, "URL port must be 1-65535");
	tob_refused("http://1.1.1.1:+80/", NULL, 1, "URL port must be 1-65535");
	tob_refused("http://1.1.1.1:80a/", NULL, 1, "URL port must be 1-65535");
	tob_refused("http://1.1.1.1:0000080/", NULL, 1, "URL port must be 1-65535");
	tob_refused("http://a b/", NULL, 1, "URL contains a character that is not allowed");
	tob_refused("http://1.1.1.1/a b", NULL, 1, "URL contains a character that is not allowed");
	tob_refused("http://1.1.1.1/\t", NULL, 1, "URL contains a character that is not allowed");
	tob_refused("http://1.1.1.1/\r\nX: y", NULL, 1, "URL contains a character that is not allowed");
	tob_refused("http://evil.example\\@1.1.1.1/", NULL, 1, "URL contains a character that is not allowed");
	tob_refused("http://1.1.1.1\\x/", NULL, 1, "URL contains a character that is not allowed");
	tob_refused("http://h\xc3\xa9llo.example/", NULL, 1, "URL contains a character that is not allowed");
	tob_refused("http://1.1.1.1/\x7f", NULL, 1, "URL contains a character that is not allowed");
	tob_refused("http://127.0.0%2e1/", NULL, 1, "URL host is not valid");
	tob_refused("http://[fe80::1%25eth0]/", NULL, 1, "URL host is not valid");
	tob_refused("http://[::1/", NULL, 1, "URL host is not valid");
	tob_refused("http://[::1]x/", NULL, 1, "URL host is not valid");
	tob_refused("http://[::g]/", NULL, 1, "URL host is not valid");
	tob_refused("http://a:1:2/", NULL, 1, "URL port must be 1-65535");
	tob_refused("http://exa!mple.com/", NULL, 1, "URL host is not valid");

	memcpy(longurl, "http://1.1.1.1/", 15);
	memset(longurl + 15, 'a', sizeof longurl - 16);
	longurl[sizeof longurl - 1] = '\0';
	tob_refused(longurl, NULL, 1, "URL is too long");
	longurl[URLGUARD_MAX_URL] = '\0'; /* exactly the limit */
	urlguard_target t;
	char err[128];
	CU_ASSERT_EQUAL(urlguard_check(longurl, NULL, 0, &t, err, sizeof err), 0);

	/* A reason fits a small buffer and NULL ERR is tolerated. */
	char small[8];
	CU_ASSERT_EQUAL(urlguard_check("ftp://x/", NULL, 0, &t, small, sizeof small), -1);
	CU_ASSERT_EQUAL(strlen(small), sizeof small - 1);
	CU_ASSERT_EQUAL(urlguard_check("ftp://x/", NULL, 0, &t, NULL, 0), -1);
}

static void tob_guard_private_spellings(void)
{
	static const char *const urls[] = {
		"http://127.0.0.1/",
		"http://127.1/",
		"http://127.0.1/",
		"http://0x7f.0.0.1/",
		"http://0x7f000001/",
		"http://2130706433/",
		"http://017700000001/",
		"http://0177.0.0.01/",
		"http://[::1]/",
		"http://[0:0:0:0:0:0:0:1]/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::ffff:7f00:1]/",
		"http://[::FFFF:7F00:1]/",
		"http://[64:ff9b::7f00:1]/",
		"http://[::127.0.0.1]/",
		"http://0/",
		"http://0.0.0.0/",
		"http://[::]/",
		"http://localhost/",
		"http://LOCALHOST/",
		"http://LocalHost:8080/",
		"http://localhost./",
		"http://api.localhost/",
		"http://api.localhost./",
		"http://10.0.0.1/",
		"http://10.1/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:169.254.169.254]/",
		"http://[::ffff:a9fe:a9fe]/",
		"http://2852039166/",
		"http://192.168.0.1:8443/",
		"http://172.16.0.1/",
		"http://100.64.0.1/",
		"http://[fd00::1]/",
		"http://[fe80::1]/",
		"http://224.0.0.1/",
		"http://255.255.255.255/",
		"HTTP://127.0.0.1/",
		"https://127.0.0.1:443/",
	};
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
		tob_refused(urls[i], NULL, 0, NULL);
	tob_refused("http://127.1/", NULL, 0, "URL host resolves to an address that is not allowed");
	tob_refused("http://[::ffff:7f00:1]/", NULL, 0, "URL host resolves to an address that is not allowed");
	tob_refused("http://localhost/", NULL, 0, "URL host is not allowed");
	/* Never contactable, even with private addresses allowed. */
	tob_refused("http://0/", NULL, 1, "URL host resolves to an address that is not allowed");
	tob_refused("http://[::]/", NULL, 1, "URL host resolves to an address that is not allowed");
	tob_refused("http://224.0.0.1/", NULL, 1, "URL host resolves to an address that is not allowed");
	tob_refused("http://255.255.255.255/", NULL, 1, "URL host resolves to an address that is not allowed");

	/* The same spellings with private addresses allowed: canonical host, numeric address. */
	urlguard_target t;
	char err[128];
	static const char *const loop4[] = {"http://127.1:8080/", "http://0x7f.0.0.1:8080/", "http://2130706433:8080/",
					    "http://017700000001:8080/"};
	for (size_t i = 0; i < sizeof loop4 / sizeof loop4[0]; i++) {
		CU_ASSERT_EQUAL_FATAL(urlguard_check(loop4[i], NULL, 1, &t, err, sizeof err), 0);
		CU_ASSERT_STRING_EQUAL(t.host, "127.0.0.1");
		CU_ASSERT_STRING_EQUAL(t.address, "127.0.0.1");
		CU_ASSERT_EQUAL(t.port, 8080);
		CU_ASSERT_STRING_EQUAL(t.resolve_entry, "");
	}
	CU_ASSERT_EQUAL(urlguard_check("http://[::FFFF:7F00:1]/", NULL, 1, &t, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(t.host, "::ffff:7f00:1");
	CU_ASSERT_STRING_EQUAL(t.address, "::ffff:127.0.0.1");
	CU_ASSERT_EQUAL(urlguard_check("http://LocalHost:8080/x?y#z", NULL, 1, &t, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(t.host, "localhost");
	CU_ASSERT_EQUAL(strncmp(t.resolve_entry, "localhost:8080:", 15), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.resolve_entry, t.address));
	CU_ASSERT(strcmp(t.address, "127.0.0.1") == 0 || strcmp(t.address, "::1") == 0);
}

static void tob_guard_public(void)
{
	static const char *const smtp[] = {"smtp", "smtps", NULL};
	urlguard_target t;
	char err[128];

	CU_ASSERT_EQUAL_FATAL(urlguard_check("HTTPS://1.1.1.1/path?q=1#frag", NULL, 0, &t, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(t.scheme, "https");
	CU_ASSERT_STRING_EQUAL(t.host, "1.1.1.1");
	CU_ASSERT_EQUAL(t.port, 443);
	CU_ASSERT_STRING_EQUAL(t.address, "1.1.1.1");
	CU_ASSERT_STRING_EQUAL(t.resolve_entry, "");

	CU_ASSERT_EQUAL_FATAL(urlguard_check("http://16843009:8080", NULL, 0, &t, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(t.scheme, "http");
	CU_ASSERT_STRING_EQUAL(t.host, "1.1.1.1");
	CU_ASSERT_EQUAL(t.port, 8080);

	CU_ASSERT_EQUAL_FATAL(urlguard_check("http://[2606:4700:4700::1111]:8443/", NULL, 0, &t, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(t.host, "2606:4700:4700::1111");
	CU_ASSERT_STRING_EQUAL(t.address, "2606:4700:4700::1111");
	CU_ASSERT_EQUAL(t.port, 8443);
	CU_ASSERT_STRING_EQUAL(t.resolve_entry, "");

	CU_ASSERT_EQUAL_FATAL(urlguard_check("http://[64:ff9b::8.8.8.8]/", NULL, 0, &t, err, sizeof err), 0);
	CU_ASSERT_EQUAL(t.port, 80);

	CU_ASSERT_EQUAL_FATAL(urlguard_check("smtps://8.8.8.8", smtp, 0, &t, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(t.scheme, "smtps");
	CU_ASSERT_EQUAL(t.port, 465);
	CU_ASSERT_EQUAL_FATAL(urlguard_check("smtp://8.8.8.8:587", smtp, 0, &t, err, sizeof err), 0);
	CU_ASSERT_EQUAL(t.port, 587);
	CU_ASSERT_EQUAL_FATAL(urlguard_check("smtp://8.8.8.8", smtp, 0, &t, err, sizeof err), 0);
	CU_ASSERT_EQUAL(t.port, 25);

	/* Names that cannot be resolved (no network here; .invalid never resolves). */
	tob_refused("http://nonexistent.invalid/", NULL, 0, "could not resolve host");
	tob_refused("http://1.2.3.4.5/", NULL, 0, "could not resolve host");
	tob_refused("http://256.1.1.1/", NULL, 0, "could not resolve host");
}

/* ---------------------------------------------------------------- a canned HTTP server on 127.0.0.1 */

#define TOB_HUGE (2u << 20)

static struct {
	int fd;
	int port;
	pthread_t thread;
	int running;
	atomic_int stop;
	atomic_int connections;
	atomic_int json_hits;
} tob_srv = {.fd = -1};

static void tob_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void tob_respond(int fd, const char *status, const char *extra, const char *body, size_t n)
{
	char head[512];
	int hn = snprintf(head, sizeof head, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
			  extra, n);
	tob_send_all(fd, head, (size_t)hn);
	tob_send_all(fd, body, n);
}

/* Reads one request (head and a Content-Length body) into BUF; returns its length or -1. */
static ssize_t tob_read_request(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 2000) <= 0)
			return -1;
		ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end) {
			size_t want = 0;
			for (char *h = buf; h < end; h = strstr(h, "\r\n") + 2)
				if (strncasecmp(h, "Content-Length:", 15) == 0)
					want = strtoul(h + 15, NULL, 10);
			if (n >= (size_t)(end + 4 - buf) + want)
				return (ssize_t)n;
		}
		if (n + 1 >= cap)
			return -1;
	}
}

static void tob_serve(int fd)
{
	static char buf[65536];
	ssize_t n = tob_read_request(fd, buf, sizeof buf);
	if (n < 0)
		return;
	char path[128] = "";
	sscanf(buf, "%*s %127s", path);
	path[strcspn(path, "?")] = '\0';
	if (strcmp(path, "/json") == 0) {
		atomic_fetch_add(&tob_srv.json_hits, 1);
		tob_respond(fd, "200 OK", "Content-Type: application/json\r\n", "{\"ok\":true}", 11);
	} else if (strcmp(path, "/redirect") == 0) {
		char loc[128];
		snprintf(loc, sizeof loc, "Location: http://127.0.0.1:%d/json\r\n", tob_srv.port);
		tob_respond(fd, "302 Found", loc, "", 0);
	} else if (strcmp(path, "/status500") == 0) {
		tob_respond(fd, "500 Internal Server Error", "Content-Type: text/plain\r\n", "oops", 4);
	} else if (strcmp(path, "/echo") == 0) {
		tob_respond(fd, "200 OK", "Content-Type: text/plain\r\n", buf, (size_t)n);
	} else if (strcmp(path, "/slow") == 0) {
		/* Answers nothing; returns when the client gives up (or after 5 s). */
		struct pollfd p = {.fd = fd, .events = POLLIN};
		poll(&p, 1, 5000);
	} else if (strcmp(path, "/huge") == 0 || strcmp(path, "/huge-stream") == 0) {
		static char chunk[16384];
		memset(chunk, 'x', sizeof chunk);
		if (strcmp(path, "/huge") == 0) {
			char head[128];
			int hn = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\nConnection: close\r\n\r\n",
					  TOB_HUGE);
			tob_send_all(fd, head, (size_t)hn);
		} else
			tob_send_all(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 38);
		for (unsigned sent = 0; sent < TOB_HUGE; sent += sizeof chunk) {
			ssize_t w = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
			if (w <= 0)
				break;
		}
	} else
		tob_respond(fd, "404 Not Found", "", "", 0);
}

static void *tob_server_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&tob_srv.stop)) {
		struct pollfd p = {.fd = tob_srv.fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(tob_srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&tob_srv.connections, 1);
		tob_serve(c);
		close(c);
	}
	return NULL;
}

static int tob_server_start(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;

	if (httpc_global_init() != 0)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tob_srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (tob_srv.fd < 0 || bind(tob_srv.fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(tob_srv.fd, 16) != 0 ||
	    getsockname(tob_srv.fd, (struct sockaddr *)&sin, &sl) != 0)
		return -1;
	tob_srv.port = ntohs(sin.sin_port);
	if (pthread_create(&tob_srv.thread, NULL, tob_server_main, NULL) != 0)
		return -1;
	tob_srv.running = 1;
	return 0;
}

static int tob_server_stop(void)
{
	if (tob_srv.running) {
		atomic_store(&tob_srv.stop, 1);
		pthread_join(tob_srv.thread, NULL);
		tob_srv.running = 0;
	}
	if (tob_srv.fd >= 0)
		close(tob_srv.fd);
	tob_srv.fd = -1;
	return 0;
}

static const char *tob_url(arena *a, const char *path)
{
	return arena_printf(a, "http://127.0.0.1:%d%s", tob_srv.port, path);
}

static double tob_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- httpc */

static void tob_http_json(void)
{
	arena *a = arena_new();
	httpc_request req = {.method = "GET", .url = tob_url(a, "/json"), .timeout_ms = 5000, .allow_private = 1};
	httpc_response resp;
	char err[128] = "";

	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(resp.body_len, 11);
	CU_ASSERT_STRING_EQUAL(resp.body, "{\"ok\":true}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp.content_type);
	CU_ASSERT_STRING_EQUAL(resp.content_type, "application/json");
	CU_ASSERT_EQUAL(resp.truncated, 0);

	/* Via localhost (a name: the resolve entry is pinned). */
	req.url = arena_printf(a, "http://localhost:%d/json", tob_srv.port);
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.status, 200);

	/* Any status is a response. */
	req.url = tob_url(a, "/status500");
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.status, 500);
	CU_ASSERT_STRING_EQUAL(resp.body, "oops");
	req.url = tob_url(a, "/nothing-here");
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.status, 404);
	CU_ASSERT_EQUAL(resp.body_len, 0);
	CU_ASSERT_STRING_EQUAL(resp.body, "");
	CU_ASSERT_PTR_NULL(resp.content_type);
	arena_free(a);
}

static void tob_http_redirect_not_followed(void)
{
	arena *a = arena_new();
	httpc_request req = {.method = "GET", .url = tob_url(a, "/redirect"), .timeout_ms = 5000, .allow_private = 1};
	httpc_response resp;
	char err[128] = "";
	int hits = atomic_load(&tob_srv.json_hits);

	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.status, 302);
	CU_ASSERT_EQUAL(atomic_load(&tob_srv.json_hits), hits);
	arena_free(a);
}

static void tob_http_timeout(void)
{
	arena *a = arena_new();
	httpc_request req = {.method = "GET", .url = tob_url(a, "/slow"), .timeout_ms = 300, .allow_private = 1};
	httpc_response resp;
	char err[128] = "";

	double t0 = tob_now();
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	double took = tob_now() - t0;
	CU_ASSERT_STRING_EQUAL(err, "request timed out");
	CU_ASSERT(took >= 0.25 && took < 3.0);
	arena_free(a);
}

static void tob_http_too_large(void)
{
	arena *a = arena_new();
	httpc_request req = {.method = "GET", .timeout_ms = 5000, .max_response_bytes = 65536, .allow_private = 1};
	httpc_response resp;
	char err[128] = "";

	/* Announced by Content-Length, and streamed without one. */
	req.url = tob_url(a, "/huge");
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "response is too large");
	req.url = tob_url(a, "/huge-stream");
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "response is too large");

	/* Truncation instead, when asked. */
	req.truncate = 1;
	req.url = tob_url(a, "/huge-stream");
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(resp.truncated, 1);
	CU_ASSERT_EQUAL(resp.body_len, 65536);
	CU_ASSERT_EQUAL(resp.body[0], 'x');
	CU_ASSERT_EQUAL(resp.body[65535], 'x');
	CU_ASSERT_EQUAL(resp.body[65536], '\0');
	req.url = tob_url(a, "/huge");
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.truncated, 1);
	CU_ASSERT_EQUAL(resp.body_len, 65536);

	/* A body of exactly the limit is whole. */
	req.truncate = 0;
	req.max_response_bytes = 11;
	req.url = tob_url(a, "/json");
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.body_len, 11);
	CU_ASSERT_EQUAL(resp.truncated, 0);
	req.max_response_bytes = 10;
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "response is too large");
	arena_free(a);
}

static void tob_http_echo(void)
{
	static const char *const headers[] = {"X-Test: hello world", "Content-Type: application/json",
					      "Authorization: Bearer s3cret", NULL};
	arena *a = arena_new();
	httpc_request req = {.method = "POST", .url = tob_url(a, "/echo?x=1"), .headers = headers,
			     .body = "{\"a\":1}", .body_len = 7, .timeout_ms = 5000, .allow_private = 1};
	httpc_response resp;
	char err[128] = "";

	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(strncmp(resp.body, "POST /echo?x=1 HTTP/1.1\r\n", 25), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "\r\nX-Test: hello world\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "\r\nContent-Type: application/json\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "\r\nAuthorization: Bearer s3cret\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "\r\nUser-Agent: AgentPlatform/1.0\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "\r\nContent-Length: 7\r\n"));
	CU_ASSERT_PTR_NULL(strstr(resp.body, "Expect:"));
	CU_ASSERT(resp.body_len > 7 && memcmp(resp.body + resp.body_len - 11, "\r\n\r\n{\"a\":1}", 11) == 0);

	/* A body with no Content-Type gets none (not libcurl's form type). */
	req.headers = NULL;
	req.method = "PUT";
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(strncmp(resp.body, "PUT /echo?x=1 HTTP/1.1\r\n", 24), 0);
	CU_ASSERT_PTR_NULL(strstr(resp.body, "Content-Type"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "\r\n\r\n{\"a\":1}"));

	req.method = "PATCH";
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(strncmp(resp.body, "PATCH /echo?x=1 HTTP/1.1\r\n", 26), 0);

	req.method = "DELETE";
	req.body = NULL;
	req.body_len = 0;
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(strncmp(resp.body, "DELETE /echo?x=1 HTTP/1.1\r\n", 27), 0);
	CU_ASSERT_PTR_NULL(strstr(resp.body, "Content-Length"));

	req.method = "POST"; /* empty POST: Content-Length 0 */
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "\r\nContent-Length: 0\r\n"));

	req.method = "GET";
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(strncmp(resp.body, "GET /echo?x=1 HTTP/1.1\r\n", 24), 0);

	req.method = "HEAD";
	CU_ASSERT_EQUAL_FATAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(resp.body_len, 0);
	arena_free(a);
}

static void tob_http_refused_before_connect(void)
{
	static const char *const crlf[] = {"X-A: b\r\nX-Evil: 1", NULL};
	static const char *const lf[] = {"X-A: b\nX-Evil: 1", NULL};
	static const char *const cr[] = {"X-A: b\r", NULL};
	static const char *const badname[] = {"Bad Name: v", NULL};
	static const char *const colonless[] = {"X-A", NULL};
	static const char *const emptyname[] = {": v", NULL};
	static const char *const crname[] = {"X-A\r\nX-B: v", NULL};
	static const char *const host[] = {"host: evil.example", NULL};
	static const char *const cl[] = {"Content-Length: 5", NULL};
	static const char *const te[] = {"Transfer-Encoding: chunked", NULL};
	static const struct {
		const char *const *headers;
		const char *reason;
	} bad[] = {
		{crlf, "header contains CR, LF or NUL"},
		{lf, "header contains CR, LF or NUL"},
		{cr, "header contains CR, LF or NUL"},
		{badname, "header name is not a valid token"},
		{colonless, "header must be \"Name: value\""},
		{emptyname, "header name is not a valid token"},
		{crname, "header name is not a valid token"},
		{host, "header Host is set by the client"},
		{cl, "header Content-Length is set by the client"},
		{te, "header Transfer-Encoding is set by the client"},
	};
	static const char *const https_only[] = {"https", NULL};
	arena *a = arena_new();
	httpc_response resp;
	char err[128] = "";
	int before = atomic_load(&tob_srv.connections);

	/* The guard refuses 127.0.0.1 when private addresses are not allowed, whatever the spelling. */
	httpc_request req = {.method = "GET", .url = tob_url(a, "/json"), .timeout_ms = 2000};
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "URL host resolves to an address that is not allowed");
	req.url = arena_printf(a, "http://2130706433:%d/json", tob_srv.port);
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	req.url = arena_printf(a, "http://localhost:%d/json", tob_srv.port);
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "URL host is not allowed");
	req.url = arena_printf(a, "http://[::ffff:127.0.0.1]:%d/json", tob_srv.port);
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);

	/* Header checks, scheme and method, with private addresses allowed. */
	req.allow_private = 1;
	req.url = tob_url(a, "/echo");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		req.headers = bad[i].headers;
		CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
		CU_ASSERT_STRING_EQUAL(err, bad[i].reason);
		CU_ASSERT_PTR_NULL(strstr(err, "Evil"));
	}
	req.headers = NULL;
	req.schemes = https_only;
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "URL scheme is not allowed");
	req.schemes = NULL;
	req.url = arena_printf(a, "ftp://127.0.0.1:%d/", tob_srv.port);
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "URL scheme is not allowed");
	req.url = tob_url(a, "/echo");
	req.method = "TRACE";
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "method is not supported");
	req.method = "get";
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	req.method = NULL;
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	req.method = "GET";
	req.body = "x";
	req.body_len = 1;
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "a GET or HEAD request cannot have a body");

	/* None of that reached the server: the next allowed request is the only new connection. */
	req.body = NULL;
	req.body_len = 0;
	req.url = tob_url(a, "/json");
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), 0);
	CU_ASSERT_EQUAL(atomic_load(&tob_srv.connections), before + 1);
	arena_free(a);
}

static void tob_http_proxy_env_ignored(void)
{
	static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
					   "ALL_PROXY"};
	arena *a = arena_new();
	httpc_request req = {.method = "GET", .url = tob_url(a, "/json"), .timeout_ms = 5000, .allow_private = 1};
	httpc_response resp;
	char err[128] = "";

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		setenv(vars[i], "http://127.0.0.1:9/", 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	int rc = httpc_do(a, &req, &resp, err, sizeof err);
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	arena_free(a);
}

static void tob_http_connect_refused(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
			getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	close(fd); /* nothing listens on that port now */

	arena *a = arena_new();
	httpc_request req = {.method = "GET", .timeout_ms = 2000, .allow_private = 1};
	req.url = arena_printf(a, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	httpc_response resp;
	char err[128] = "";
	CU_ASSERT_EQUAL(httpc_do(a, &req, &resp, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "could not connect");
	arena_free(a);
}

/* ---------------------------------------------------------------- Standard Webhooks */

#define TOB_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define TOB_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TOB_BODY "{\"test\": 2432232314}"
#define TOB_SIG_B64 "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define TOB_SIG "v1," TOB_SIG_B64

static int tob_verify(const char *secret, const char *id, const char *ts, const char *sigs, const char *body,
		      long long now, char *err)
{
	return stdwebhook_verify(secret, id, ts, sigs, body, body ? strlen(body) : 0, now, STDWEBHOOK_TOLERANCE, err, 128);
}

static void tob_webhook_vector(void)
{
	char sig[STDWEBHOOK_SIGNATURE_LEN];
	char err[128] = "";

	CU_ASSERT_EQUAL_FATAL(stdwebhook_sign(TOB_SECRET, TOB_ID, 1614265330, TOB_BODY, strlen(TOB_BODY), sig, sizeof sig), 0);
	CU_ASSERT_STRING_EQUAL(sig, TOB_SIG);

	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", TOB_SIG, TOB_BODY, 1614265330, err), 0);
	/* Within the tolerance either way. */
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", TOB_SIG, TOB_BODY, 1614265330 + 300, err), 0);
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", TOB_SIG, TOB_BODY, 1614265330 - 300, err), 0);
	/* The valid one second in the list; other versions ignored. */
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330",
				   "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " TOB_SIG, TOB_BODY, 1614265330, err), 0);
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", "v1a,abc  v2,xyz " TOB_SIG " v1,zzz", TOB_BODY,
				   1614265330, err), 0);

	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", TOB_SIG, "{\"test\": 2432232315}", 1614265330, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "no matching signature");
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJel", "1614265330", TOB_SIG, TOB_BODY, 1614265330, err),
			-1);
	CU_ASSERT_STRING_EQUAL(err, "no matching signature");
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", TOB_SIG, TOB_BODY, 1614265330 + 360, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "webhook-timestamp is too old or too new");
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", TOB_SIG, TOB_BODY, 1614265330 - 360, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "webhook-timestamp is too old or too new");
	/* A timestamp moved 6 minutes with the signature re-used. */
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265690", TOB_SIG, TOB_BODY, 1614265690, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "no matching signature");

	static const char *const garbage[] = {
		"garbage", "v1,", "v1,!!!!", "v1 " TOB_SIG_B64, "v2," TOB_SIG_B64, "V1," TOB_SIG_B64, TOB_SIG_B64,
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", /* padding missing */
		"v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* base64url is not the format */
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=AAAA",
		"v1,AAAA", ",,, , ,",
	};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", garbage[i], TOB_BODY, 1614265330, err), -1);
		CU_ASSERT_STRING_EQUAL(err, "no matching signature");
	}

	/* Missing or malformed headers. */
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, NULL, "1614265330", TOB_SIG, TOB_BODY, 1614265330, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "missing webhook-id, webhook-timestamp or webhook-signature header");
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "", TOB_SIG, TOB_BODY, 1614265330, err), -1);
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, "1614265330", "", TOB_BODY, 1614265330, err), -1);
	static const char *const badts[] = {"-1614265330", "+1614265330", " 1614265330", "1614265330 ", "1614265330.0",
					    "0x60375ff2", "16142653301614265330"};
	for (size_t i = 0; i < sizeof badts / sizeof badts[0]; i++) {
		CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, TOB_ID, badts[i], TOB_SIG, TOB_BODY, 1614265330, err), -1);
		CU_ASSERT_STRING_EQUAL(err, "invalid webhook-timestamp header");
	}
	CU_ASSERT_EQUAL(tob_verify(TOB_SECRET, "msg\r\nx", "1614265330", TOB_SIG, TOB_BODY, 1614265330, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "invalid webhook-id header");

	/* A secret without the prefix is not a secret. */
	unsigned char key[64];
	CU_ASSERT_EQUAL(stdwebhook_secret_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, sizeof key), -1);
	CU_ASSERT_EQUAL(stdwebhook_secret_decode(TOB_SECRET, key, sizeof key), 24);
	CU_ASSERT_EQUAL(tob_verify("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", TOB_ID, "1614265330", TOB_SIG, TOB_BODY, 1614265330,
				   err), -1);
	CU_ASSERT_EQUAL(stdwebhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", TOB_ID, 1614265330, TOB_BODY, strlen(TOB_BODY),
					sig, sizeof sig), -1);
}

static void tob_webhook_secrets(void)
{
	char s1[STDWEBHOOK_SECRET_LEN], s2[STDWEBHOOK_SECRET_LEN], sig[STDWEBHOOK_SIGNATURE_LEN], sigs[160], err[128];
	unsigned char key[64];

	stdwebhook_secret_new(s1, sizeof s1);
	stdwebhook_secret_new(s2, sizeof s2);
	CU_ASSERT_EQUAL(strncmp(s1, "whsec_", 6), 0);
	CU_ASSERT_EQUAL(strlen(s1), 50);
	CU_ASSERT_STRING_NOT_EQUAL(s1, s2);
	CU_ASSERT_EQUAL(stdwebhook_secret_decode(s1, key, sizeof key), 32);
	CU_ASSERT_EQUAL(stdwebhook_secret_decode(s1, key, 31), -1); /* does not fit */

	/* Round trip, and two secrets during a rotation: either signature passes for its own secret. */
	CU_ASSERT_EQUAL_FATAL(stdwebhook_sign(s1, "evt_1", 1700000000, "{}", 2, sig, sizeof sig), 0);
	CU_ASSERT_EQUAL(strlen(sig), 47);
	CU_ASSERT_EQUAL(stdwebhook_verify(s1, "evt_1", "1700000000", sig, "{}", 2, 1700000001, 300, err, sizeof err), 0);
	CU_ASSERT_EQUAL(stdwebhook_verify(s2, "evt_1", "1700000000", sig, "{}", 2, 1700000001, 300, err, sizeof err), -1);
	char sig2[STDWEBHOOK_SIGNATURE_LEN];
	CU_ASSERT_EQUAL_FATAL(stdwebhook_sign(s2, "evt_1", 1700000000, "{}", 2, sig2, sizeof sig2), 0);
	snprintf(sigs, sizeof sigs, "%s %s", sig2, sig);
	CU_ASSERT_EQUAL(stdwebhook_verify(s1, "evt_1", "1700000000", sigs, "{}", 2, 1700000000, 300, err, sizeof err), 0);
	CU_ASSERT_EQUAL(stdwebhook_verify(s2, "evt_1", "1700000000", sigs, "{}", 2, 1700000000, 300, err, sizeof err), 0);
	/* An empty body is signed too. */
	CU_ASSERT_EQUAL_FATAL(stdwebhook_sign(s1, "evt_2", 0, NULL, 0, sig, sizeof sig), 0);
	CU_ASSERT_EQUAL(stdwebhook_verify(s1, "evt_2", "0", sig, NULL, 0, 0, 300, err, sizeof err), 0);

	/* Malformed secrets and arguments. */
	static const char *const bad[] = {"whsec_", "whsec_abc", "whsec_ab=c", "whsec_abc==", "whsec_a===",
					  "whsec_====", "whsec_AB==", "whsec_ABC=", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS-",
					  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ", "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(stdwebhook_secret_decode(bad[i], key, sizeof key), -1);
	CU_ASSERT_EQUAL(stdwebhook_secret_decode(NULL, key, sizeof key), -1);
	CU_ASSERT_EQUAL(stdwebhook_secret_decode("whsec_AA==", key, sizeof key), 1);
	CU_ASSERT_EQUAL(stdwebhook_secret_decode("whsec_AAA=", key, sizeof key), 2);
	CU_ASSERT_EQUAL(stdwebhook_sign(s1, "", 1, "{}", 2, sig, sizeof sig), -1);
	CU_ASSERT_EQUAL(stdwebhook_sign(s1, "evt\n", 1, "{}", 2, sig, sizeof sig), -1);
	CU_ASSERT_EQUAL(stdwebhook_sign(s1, "evt_1", -1, "{}", 2, sig, sizeof sig), -1);
	CU_ASSERT_EQUAL(stdwebhook_sign(s1, "evt_1", 1, "{}", 2, sig, 47), -1);
	CU_ASSERT_EQUAL(stdwebhook_verify("whsec_abc", "evt_1", "1700000000", sig, "{}", 2, 1700000000, 300, err, sizeof err),
			-1);
	CU_ASSERT_STRING_EQUAL(err, "webhook secret is not valid");
}

int test_outbound_suite(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"urlguard: address policy", tob_address_policy},
		{"urlguard: URL shape", tob_guard_shape},
		{"urlguard: private spellings", tob_guard_private_spellings},
		{"urlguard: public literals and schemes", tob_guard_public},
		{"httpc: 200, 404, 500", tob_http_json},
		{"httpc: redirect not followed", tob_http_redirect_not_followed},
		{"httpc: timeout", tob_http_timeout},
		{"httpc: response too large / truncated", tob_http_too_large},
		{"httpc: method, headers and body sent", tob_http_echo},
		{"httpc: refusals never connect", tob_http_refused_before_connect},
		{"httpc: proxy variables ignored", tob_http_proxy_env_ignored},
		{"httpc: connection refused", tob_http_connect_refused},
		{"stdwebhook: published vector and verification", tob_webhook_vector},
		{"stdwebhook: secrets, rotation, malformed input", tob_webhook_secrets},
	};
	CU_pSuite suite = CU_add_suite("outbound", tob_server_start, tob_server_stop);

	if (!suite)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
