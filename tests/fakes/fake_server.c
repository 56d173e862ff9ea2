/* fake_server: one accept thread, one thread per connection, canned answers; see fake_server.h. */
#include "fake_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX (64 * 1024)
#define SEEN_MAX 512
#define TARGET_MAX 1024

static int listen_fd = -1;
static pthread_t acceptor;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen[SEEN_MAX][TARGET_MAX];
static int nseen;

static void remember(const char *target)
{
	pthread_mutex_lock(&seen_lock);
	snprintf(seen[nseen % SEEN_MAX], TARGET_MAX, "%s", target);
	nseen++;
	pthread_mutex_unlock(&seen_lock);
}

int fake_server_seen(const char *prefix, char *last, size_t lastlen)
{
	int n = 0;
	size_t plen = strlen(prefix);
	if (last && lastlen)
		last[0] = '\0';
	pthread_mutex_lock(&seen_lock);
	int first = nseen > SEEN_MAX ? nseen - SEEN_MAX : 0;
	for (int i = first; i < nseen; i++) {
		const char *t = seen[i % SEEN_MAX];
		if (strncmp(t, prefix, plen) == 0) {
			n++;
			if (last && lastlen)
				snprintf(last, lastlen, "%s", t);
		}
	}
	pthread_mutex_unlock(&seen_lock);
	return n;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, int status, const char *type, const char *body)
{
	char head[256];
	size_t n = strlen(body);
	int h = snprintf(head, sizeof head,
			 "HTTP/1.1 %d Fake\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
			 type, n);
	send_all(fd, head, (size_t)h);
	send_all(fd, body, n);
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The percent-decoded value of query parameter NAME of TARGET into OUT; 1 when present. */
static int query_param(const char *target, const char *name, char *out, size_t outlen)
{
	const char *q = strchr(target, '?');
	size_t nlen = strlen(name);
	while (q) {
		q++;
		if (strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
			const char *v = q + nlen + 1;
			size_t o = 0;
			while (*v && *v != '&' && o + 1 < outlen) {
				if (*v == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
					out[o++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
					v += 3;
				} else {
					out[o++] = *v == '+' ? ' ' : *v;
					v++;
				}
			}
			out[o] = '\0';
			return 1;
		}
		q = strchr(q, '&');
	}
	return 0;
}

/* A JSON string literal of S (ASCII-safe enough for the tests' values) into OUT. */
static void json_quote(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	if (outlen < 3)
		return;
	out[o++] = '"';
	for (; *s && o + 8 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* The value of header NAME in the request head HEAD, into OUT ("" when absent). */
static void header_value(const char *head, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	out[0] = '\0';
	for (const char *line = strstr(head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
		const char *l = line + 2;
		if (strncasecmp(l, name, nlen) == 0 && l[nlen] == ':') {
			l += nlen + 1;
			while (*l == ' ')
				l++;
			size_t n = strcspn(l, "\r\n");
			snprintf(out, outlen, "%.*s", (int)n, l);
			return;
		}
	}
}

/* One calendar object: "Standup" on 2030-01-15 10:00-10:30 UTC. */
static const char CALDAV_MULTISTATUS[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
	"<d:response><d:href>/caldav/cal/standup.ics</d:href><d:propstat><d:prop><d:getetag>\"1\"</d:getetag>"
	"<c:calendar-data>BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fake//EN\r\nBEGIN:VEVENT\r\nUID:standup-1\r\n"
	"DTSTAMP:20300101T000000Z\r\nDTSTART:20300115T100000Z\r\nDTEND:20300115T103000Z\r\nSUMMARY:Standup\r\n"
	"LOCATION:Room 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n</c:calendar-data></d:prop>"
	"<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>\n";

static void answer(int fd, const char *method, const char *target, const char *head, const char *body)
{
	char v[512], buf[4096];
	if (strncmp(target, "/v1/search?", 11) == 0 && strcmp(method, "GET") == 0) {
		if (!query_param(target, "name", v, sizeof v))
			return respond(fd, 400, "application/json", "{\"error\":true,\"reason\":\"Parameter name is missing\"}");
		if (strcmp(v, "Nowhere") == 0)
			return respond(fd, 200, "application/json", "{\"generationtime_ms\":0.3}");
		if (strcmp(v, "Garbage") == 0)
			return respond(fd, 200, "text/html", "<html><body>not what you asked for</body></html>");
		if (strcmp(v, "Broken") == 0)
			return respond(fd, 500, "application/json", "{\"error\":true,\"reason\":\"internal\"}");
		char name[600];
		json_quote(v, name, sizeof name);
		snprintf(buf, sizeof buf,
			 "{\"results\":[{\"id\":5128581,\"name\":%s,\"latitude\":40.7143,\"longitude\":-74.006,"
			 "\"elevation\":10.0,\"feature_code\":\"PPL\",\"country_code\":\"TL\",\"timezone\":\"America/New_York\","
			 "\"population\":8175133,\"country\":\"Testland\",\"admin1\":\"Test State\"}],"
			 "\"generationtime_ms\":0.7}",
			 name);
		return respond(fd, 200, "application/json", buf);
	}
	if (strncmp(target, "/v1/forecast?", 13) == 0 && strcmp(method, "GET") == 0) {
		if (query_param(target, "latitude", v, sizeof v) && strcmp(v, "1.0000") == 0)
			return respond(fd, 200, "application/json", "{\"current\":{\"temperature_2m\":\"warm\"},\"daily\":[]}");
		int f = query_param(target, "temperature_unit", v, sizeof v) && strcmp(v, "fahrenheit") == 0;
		snprintf(buf, sizeof buf,
			 "{\"latitude\":40.710335,\"longitude\":-73.99307,\"generationtime_ms\":0.05,"
			 "\"utc_offset_seconds\":-18000,\"timezone\":\"America/New_York\",\"timezone_abbreviation\":\"EST\","
			 "\"elevation\":32.0,\"current_units\":{\"time\":\"iso8601\",\"interval\":\"seconds\","
			 "\"temperature_2m\":\"%s\",\"weather_code\":\"wmo code\"},"
			 "\"current\":{\"time\":\"2024-01-01T12:00\",\"interval\":900,\"temperature_2m\":%s,\"weather_code\":3},"
			 "\"daily_units\":{\"time\":\"iso8601\",\"temperature_2m_max\":\"%s\",\"temperature_2m_min\":\"%s\","
			 "\"precipitation_probability_max\":\"%%\"},"
			 "\"daily\":{\"time\":[\"2024-01-01\"],\"temperature_2m_max\":[%s],\"temperature_2m_min\":[%s],"
			 "\"precipitation_probability_max\":[20]}}",
			 f ? "°F" : "°C", f ? "45.0" : "7.2", f ? "°F" : "°C", f ? "°F" : "°C", f ? "48.4" : "9.1",
			 f ? "37.4" : "3.0");
		return respond(fd, 200, "application/json", buf);
	}
	if (strncmp(target, "/caldav/", 8) == 0 && strcmp(method, "REPORT") == 0) {
		if (strcmp(target, "/caldav/denied/") == 0)
			respond(fd, 401, "text/plain", "denied");
		else
			respond(fd, 207, "application/xml; charset=utf-8", CALDAV_MULTISTATUS);
		return;
	}
	if (strncmp(target, "/slow", 5) == 0 && (target[5] == '?' || !target[5])) {
		long ms = query_param(target, "ms", v, sizeof v) ? strtol(v, NULL, 10) : 1000;
		if (ms < 0 || ms > 30000)
			ms = 30000;
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return respond(fd, 200, "text/plain", "slow done");
	}
	if (strncmp(target, "/status/", 8) == 0) {
		long st = strtol(target + 8, NULL, 10);
		if (st < 200 || st > 599)
			st = 500;
		snprintf(buf, sizeof buf, "{\"status\":%ld}", st);
		return respond(fd, (int)st, "application/json", buf);
	}
	if (strncmp(target, "/echo", 5) == 0 && (target[5] == '?' || !target[5]) &&
	    (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)) {
		char m[32], b[1200], ct[300], x[300], ctv[256], xv[256];
		header_value(head, "Content-Type", ctv, sizeof ctv);
		header_value(head, "X-Test", xv, sizeof xv);
		json_quote(method, m, sizeof m);
		json_quote(body, b, sizeof b);
		json_quote(ctv, ct, sizeof ct);
		json_quote(xv, x, sizeof x);
		snprintf(buf, sizeof buf, "{\"method\":%s,\"body\":%s,\"content_type\":%s,\"x_test\":%s}", m, b, ct, x);
		return respond(fd, 200, "application/json", buf);
	}
	respond(fd, 404, "application/json", "{\"error\":\"not found\"}");
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *req = malloc(REQ_MAX + 1);
	size_t n = 0;
	char *end = NULL;
	if (!req)
		abort();
	req[0] = '\0';
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (n < REQ_MAX && !(end = strstr(req, "\r\n\r\n"))) {
		ssize_t r = recv(fd, req + n, REQ_MAX - n, 0);
		if (r <= 0)
			goto done;
		n += (size_t)r;
		req[n] = '\0';
	}
	if (!end)
		goto done;
	*end = '\0';
	char cl[32];
	header_value(req, "Content-Length", cl, sizeof cl);
	size_t body_len = cl[0] ? (size_t)strtoul(cl, NULL, 10) : 0, have = n - (size_t)(end + 4 - req);
	if (body_len > REQ_MAX / 2)
		goto done;
	char *body = end + 4;
	while (have < body_len && (size_t)(body - req) + body_len <= REQ_MAX) {
		ssize_t r = recv(fd, body + have, body_len - have, 0);
		if (r <= 0)
			goto done;
		have += (size_t)r;
	}
	body[body_len] = '\0';
	char method[16], target[TARGET_MAX];
	if (sscanf(req, "%15s %1023s", method, target) != 2)
		goto done;
	remember(target);
	answer(fd, method, target, req, body);
done:
	free(req);
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL; /* the listening socket was shut down */
		}
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, serve, (void *)(intptr_t)fd) != 0)
			close(fd);
		pthread_attr_destroy(&at);
	}
}

int fake_server_start(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof sa;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return -1;
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(listen_fd, 64) != 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&sa, &len) != 0 ||
	    pthread_create(&acceptor, NULL, accept_loop, NULL) != 0) {
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	return ntohs(sa.sin_port);
}

void fake_server_stop(void)
{
	if (listen_fd < 0)
		return;
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(acceptor, NULL);
	close(listen_fd);
	listen_fd = -1;
}
