/* httpc: the small libcurl HTTP client for every outbound HTTP call; always through the URL guard. */
#include "httpc.h"

#include "log.h"
#include "urlguard.h"
#include "validate.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define HTTPC_MAX_HEADER_LINE 8192
#define HTTPC_MAX_CONNECT_MS 10000L

/* What the callbacks share with httpc_do during one transfer. */
struct httpc_xfer {
	char *buf; /* heap while receiving; handed to the arena's cleanups on success */
	size_t len, cap, max;
	int truncate, truncated, too_large;
	urlguard_socket sock; /* the connect-time address check */
	const char *capture;              /* header name to keep, or NULL */
	char captured[HTTPC_MAX_CAPTURED + 1];
	int has_captured;
	int (*enough)(void *arg, const char *content_type, const char *body, size_t len);
	void *enough_arg;
	CURL *curl;
	int stopped; /* ENOUGH said so: the body so far is the response */
};

int httpc_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int httpc_fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static size_t httpc_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct httpc_xfer *x = userp;
	size_t n = size * nmemb, keep = n;

	if (n > x->max - x->len) {
		if (!x->truncate) {
			x->too_large = 1;
			return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
		}
		keep = x->max - x->len;
		x->truncated = 1;
	}
	if (x->len + keep + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		while (cap < x->len + keep + 1)
			cap *= 2;
		if (cap > x->max + 1)
			cap = x->max + 1;
		char *nb = realloc(x->buf, cap);
		if (!nb)
			abort();
		x->buf = nb;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, keep);
	x->len += keep;
	x->buf[x->len] = '\0';
	if (!x->truncated && x->enough) {
		char *ct = NULL;
		curl_easy_getinfo(x->curl, CURLINFO_CONTENT_TYPE, &ct);
		if (x->enough(x->enough_arg, ct, x->buf, x->len)) {
			x->stopped = 1;
			return 0; /* ends the transfer: CURLE_WRITE_ERROR, taken as success below */
		}
	}
	return x->truncated ? 0 : n;
}

/* Keeps the value of the header named X->capture; a new status line (after a 1xx) forgets what came before. */
static size_t httpc_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct httpc_xfer *x = userp;
	size_t n = size * nmemb, name_len = strlen(x->capture);

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		x->has_captured = 0;
		return n;
	}
	if (n <= name_len || data[name_len] != ':' || strncasecmp(data, x->capture, name_len) != 0)
		return n;
	const char *v = data + name_len + 1, *end = data + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if ((size_t)(end - v) > HTTPC_MAX_CAPTURED) {
		x->has_captured = 0;
		return n;
	}
	memcpy(x->captured, v, (size_t)(end - v));
	x->captured[end - v] = '\0';
	x->has_captured = 1;
	return n;
}

/* Checks one "Name: value" line; records whether it sets Content-Type or Expect. */
static int httpc_header_ok(const char *line, int *has_ct, int *has_expect, char *err, size_t errlen)
{
	static const char *const framing[] = {"Host", "Content-Length", "Transfer-Encoding", "Connection"};
	char name[256];
	size_t len = strnlen(line, HTTPC_MAX_HEADER_LINE + 1);
	const char *colon = memchr(line, ':', len);

	if (len > HTTPC_MAX_HEADER_LINE)
		return httpc_fail(err, errlen, "header is too long");
	if (!colon || (size_t)(colon - line) >= sizeof name)
		return httpc_fail(err, errlen, "header must be \"Name: value\"");
	memcpy(name, line, (size_t)(colon - line));
	name[colon - line] = '\0';
	if (!validate_token(name))
		return httpc_fail(err, errlen, "header name is not a valid token");
	if (!validate_header_safe(line, len))
		return httpc_fail(err, errlen, "header contains CR, LF or NUL");
	for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++)
		if (strcasecmp(name, framing[i]) == 0) {
			char msg[96];
			snprintf(msg, sizeof msg, "header %s is set by the client", framing[i]);
			return httpc_fail(err, errlen, msg);
		}
	if (strcasecmp(name, "Content-Type") == 0)
		*has_ct = 1;
	if (strcasecmp(name, "Expect") == 0)
		*has_expect = 1;
	return 0;
}

static const char *httpc_curl_reason(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "request timed out";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "could not resolve host";
	case CURLE_COULDNT_CONNECT:
		return "could not connect";
	case CURLE_FILESIZE_EXCEEDED:
		return "response is too large";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return "TLS handshake failed";
	case CURLE_GOT_NOTHING:
		return "empty reply from server";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "URL scheme is not allowed";
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return "connection failed during the request";
	default:
		return "request failed";
	}
}

int httpc_do(arena *a, const httpc_request *req, httpc_response *resp, char *err, size_t errlen)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "REPORT"};
	struct httpc_xfer x;
	urlguard_target t;
	struct curl_slist *hl = NULL, *pin = NULL;
	int has_ct = 0, has_expect = 0, known = 0, rc = -1;
	CURL *c = NULL;

	memset(resp, 0, sizeof *resp);
	memset(&x, 0, sizeof x);
	if (!req->method)
		return httpc_fail(err, errlen, "method is not supported");
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		known |= strcmp(req->method, methods[i]) == 0;
	if (!known)
		return httpc_fail(err, errlen, "method is not supported");
	int head = strcmp(req->method, "HEAD") == 0, get = strcmp(req->method, "GET") == 0;
	if ((head || get) && req->body_len > 0)
		return httpc_fail(err, errlen, "a GET or HEAD request cannot have a body");
	if (req->body_len > 0 && !req->body)
		return httpc_fail(err, errlen, "request body is missing");
	for (const char *const *h = req->headers; h && *h; h++)
		if (httpc_header_ok(*h, &has_ct, &has_expect, err, errlen) != 0)
			return -1;
	if (urlguard_check(req->url, req->schemes, req->allow_private, &t, err, errlen) != 0)
		return -1;

	x.max = req->max_response_bytes ? req->max_response_bytes : HTTPC_DEFAULT_MAX_RESPONSE;
	x.truncate = req->truncate;
	x.sock.allow_private = req->allow_private;
	long timeout = req->timeout_ms > 0 ? req->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;

	for (const char *const *h = req->headers; h && *h; h++)
		if (!(hl = curl_slist_append(hl, *h)))
			abort();
	/* "Name:" removes a header libcurl would add: no guessed form Content-Type, no 100-continue wait. */
	if (!has_ct && !(hl = curl_slist_append(hl, "Content-Type:")))
		abort();
	if (!has_expect && !(hl = curl_slist_append(hl, "Expect:")))
		abort();
	if (t.resolve_entry[0] && !(pin = curl_slist_append(NULL, t.resolve_entry)))
		abort();

	if (!(c = curl_easy_init()))
		abort();
	x.curl = c;
	x.enough = req->body_enough;
	x.enough_arg = req->body_enough_arg;
	char curlerr[CURL_ERROR_SIZE] = "";
	CURLcode cr = CURLE_OK;
#define HTTPC_SET(opt, val) \
	do { \
		if (cr == CURLE_OK) \
			cr = curl_easy_setopt(c, opt, val); \
	} while (0)
	HTTPC_SET(CURLOPT_ERRORBUFFER, curlerr);
	HTTPC_SET(CURLOPT_URL, req->url);
	HTTPC_SET(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTPC_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	HTTPC_SET(CURLOPT_FOLLOWLOCATION, 0L);
	HTTPC_SET(CURLOPT_MAXREDIRS, 0L);
	HTTPC_SET(CURLOPT_PROXY, "");
	HTTPC_SET(CURLOPT_NOPROXY, "*");
	HTTPC_SET(CURLOPT_NOSIGNAL, 1L);
	HTTPC_SET(CURLOPT_TIMEOUT_MS, timeout);
	HTTPC_SET(CURLOPT_CONNECTTIMEOUT_MS, timeout < HTTPC_MAX_CONNECT_MS ? timeout : HTTPC_MAX_CONNECT_MS);
	HTTPC_SET(CURLOPT_USERAGENT, HTTPC_USER_AGENT);
	HTTPC_SET(CURLOPT_HTTPHEADER, hl);
	if (pin)
		HTTPC_SET(CURLOPT_RESOLVE, pin);
	HTTPC_SET(CURLOPT_OPENSOCKETFUNCTION, urlguard_opensocket);
	HTTPC_SET(CURLOPT_OPENSOCKETDATA, &x.sock);
	HTTPC_SET(CURLOPT_WRITEFUNCTION, httpc_write);
	HTTPC_SET(CURLOPT_WRITEDATA, &x);
	if (req->capture_header) {
		x.capture = req->capture_header;
		HTTPC_SET(CURLOPT_HEADERFUNCTION, httpc_header);
		HTTPC_SET(CURLOPT_HEADERDATA, &x);
	}
	if (!x.truncate)
		HTTPC_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.max);
	if (head)
		HTTPC_SET(CURLOPT_NOBODY, 1L);
	else if (get)
		HTTPC_SET(CURLOPT_HTTPGET, 1L);
	else {
		if (req->body_len > 0 || strcmp(req->method, "DELETE") != 0) {
			HTTPC_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
			HTTPC_SET(CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
		}
		if (strcmp(req->method, "POST") != 0)
			HTTPC_SET(CURLOPT_CUSTOMREQUEST, req->method);
	}
#undef HTTPC_SET
	if (cr != CURLE_OK) {
		log_error("httpc: libcurl option refused: %s", curl_easy_strerror(cr));
		httpc_fail(err, errlen, "request failed");
		goto done;
	}

	cr = curl_easy_perform(c);
	if (cr != CURLE_OK && !(cr == CURLE_WRITE_ERROR && (x.truncated || x.stopped))) {
		if (x.sock.refused)
			httpc_fail(err, errlen, "URL host resolves to an address that is not allowed");
		else if (x.too_large)
			httpc_fail(err, errlen, "response is too large");
		else
			httpc_fail(err, errlen, httpc_curl_reason(cr));
		log_info("httpc: %s %s port %d: %s", req->method, t.host, t.port, curlerr[0] ? curlerr : curl_easy_strerror(cr));
		goto done;
	}

	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	resp->content_type = ct ? arena_strdup(a, ct) : NULL;
	resp->captured = x.has_captured ? arena_strdup(a, x.captured) : NULL;
	if (x.buf) {
		arena_defer(a, free, x.buf);
		resp->body = x.buf;
		x.buf = NULL;
	} else
		resp->body = arena_strdup(a, "");
	resp->body_len = x.len;
	resp->truncated = x.truncated;
	rc = 0;
done:
	free(x.buf);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	curl_slist_free_all(pin);
	return rc;
}
