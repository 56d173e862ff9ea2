/* mcpclient: the MCP client over Streamable HTTP (MCP 2025-03-26 and later): JSON-RPC 2.0 POSTs through httpc,
 * answers as application/json or as an SSE stream, the session id and negotiated version kept per conversation. */
#include "mcpclient.h"

#include "httpc.h"
#include "util.h"
#include "webhook_url.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MCPCLIENT_CLOSE_TIMEOUT_MS 2000L
#define MCPCLIENT_MESSAGE_MAX 200

const char *const MCPCLIENT_VERSIONS[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

struct mcpclient {
	arena *a;
	mcpclient_options o;
	int64_t deadline_ms;
	long long next_id;
	char *session_id; /* arena, NULL without a session */
	char *version;    /* the negotiated protocol version, NULL before initialize */
	int initialized;
	int reinitialized; /* the one re-initialize after a 404 inside a session is spent */
};

static int mcp_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int mcp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* S (valid UTF-8, from jansson) cut to at most MCPCLIENT_MESSAGE_MAX bytes on a character boundary, control
 * characters replaced by spaces: a server's words fit for an error message. */
static void clip(const char *s, char *out, size_t outlen)
{
	size_t max = outlen - 1 < MCPCLIENT_MESSAGE_MAX ? outlen - 1 : MCPCLIENT_MESSAGE_MAX;
	size_t n = strnlen(s, max + 1);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[n] = '\0';
}

mcpclient *mcpclient_new(arena *a, const mcpclient_options *o)
{
	mcpclient *c = arena_alloc(a, sizeof *c);
	memset(c, 0, sizeof *c);
	c->a = a;
	c->o = *o;
	c->deadline_ms = util_now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS);
	return c;
}

/* ---- parsing answers ---- */

/* Looks at one JSON-RPC message text: 1 with *RESULT when it is the response ID with a result, 0 with ERR
 * when it is that response with an error, 2 when it is another message, -1 when it is not JSON. */
static int consider(const char *text, size_t len, long long id, json_t **result, char *err, size_t errlen)
{
	json_error_t je;
	json_t *m = json_loadb(text, len, JSON_DECODE_ANY, &je);
	if (!m)
		return mcp_fail(err, errlen, "the server sent a message that is not JSON");
	int rc = 2;
	size_t n = json_is_array(m) ? json_array_size(m) : 1;
	for (size_t i = 0; i < n && rc == 2; i++) {
		json_t *x = json_is_array(m) ? json_array_get(m, i) : m;
		json_t *xid = json_object_get(x, "id");
		if (!json_is_object(x) || json_object_get(x, "method") || !json_is_integer(xid) ||
		    json_integer_value(xid) != id)
			continue;
		json_t *res = json_object_get(x, "result"), *e = json_object_get(x, "error");
		if (res) {
			*result = json_incref(res);
			rc = 1;
		} else if (json_is_object(e)) {
			char msg[MCPCLIENT_MESSAGE_MAX + 1];
			const char *text_msg = json_string_value(json_object_get(e, "message"));
			clip(text_msg ? text_msg : "", msg, sizeof msg);
			json_t *code = json_object_get(e, "code");
			mcp_fail(err, errlen, "the server answered with error %lld%s%s",
				 json_is_integer(code) ? (long long)json_integer_value(code) : 0LL, msg[0] ? ": " : "", msg);
			rc = 0;
		} else {
			mcp_fail(err, errlen, "the server sent a response without result or error");
			rc = -1;
		}
	}
	json_decref(m);
	return rc;
}

/* The SSE stream (WHATWG event-stream): lines end with CRLF, LF or CR; "data" lines of one event are joined
 * with LF; a blank line dispatches; ":" starts a comment; events named other than "message" are skipped. The
 * reader is incremental: it is given the body received so far each time (a longer prefix of the same bytes),
 * reads each byte twice at most (searched, then taken) and parses each complete event once, so a server
 * sending tiny chunks costs linear time, not a re-parse of everything per chunk. */
void mcpclient_sse_init(mcpclient_sse *s, long long id)
{
	memset(s, 0, sizeof *s);
	s->id = id;
	s->rc = 2;
}

void mcpclient_sse_free(mcpclient_sse *s)
{
	free(s->data);
	json_decref(s->result);
	s->data = NULL;
	s->result = NULL;
	s->dlen = s->dcap = 0;
}

static void sse_data(mcpclient_sse *s, const char *v, size_t vlen)
{
	size_t need = s->dlen + vlen + 1;
	if (need > s->dcap) {
		size_t cap = s->dcap ? s->dcap : 256;
		while (cap < need)
			cap *= 2;
		char *nd = realloc(s->data, cap);
		if (!nd)
			abort();
		s->data = nd;
		s->dcap = cap;
	}
	if (s->has_data)
		s->data[s->dlen++] = '\n';
	memcpy(s->data + s->dlen, v, vlen);
	s->dlen += vlen;
	s->has_data = 1;
}

/* One complete line (without its end). */
static void sse_line(mcpclient_sse *s, const char *line, size_t llen)
{
	s->examined += llen;
	if (llen == 0) {
		if (s->has_data && !s->other)
			s->rc = consider(s->data ? s->data : "", s->dlen, s->id, &s->result, s->err, sizeof s->err);
		s->dlen = 0;
		s->has_data = s->other = 0;
		return;
	}
	if (line[0] == ':')
		return;
	const char *colon = memchr(line, ':', llen);
	size_t flen = colon ? (size_t)(colon - line) : llen;
	const char *v = colon ? colon + 1 : line + llen;
	size_t vlen = (size_t)(line + llen - v);
	if (vlen && *v == ' ') {
		v++;
		vlen--;
	}
	if (flen == 4 && memcmp(line, "data", 4) == 0)
		sse_data(s, v, vlen);
	else if (flen == 5 && memcmp(line, "event", 5) == 0)
		s->other = !(vlen == 0 || (vlen == 7 && memcmp(v, "message", 7) == 0));
}

int mcpclient_sse_feed(mcpclient_sse *s, const char *body, size_t len)
{
	if (s->after_cr && s->pos < len) {
		/* The last line ended with CR at the end of what had come: an LF right after it is part of that end. */
		if (body[s->pos] == '\n')
			s->pos++;
		s->after_cr = 0;
	}
	if (s->scan < s->pos)
		s->scan = s->pos;
	while (s->rc == 2 && s->scan < len) {
		size_t j = s->scan;
		while (j < len && body[j] != '\n' && body[j] != '\r')
			j++;
		s->examined += j - s->scan;
		if (j == len) {
			s->scan = len; /* an unterminated line: searched up to here, taken once its end comes */
			break;
		}
		sse_line(s, body + s->pos, j - s->pos);
		if (body[j] == '\r' && j + 1 == len)
			s->after_cr = 1;
		s->pos = j + 1 + (body[j] == '\r' && j + 1 < len && body[j + 1] == '\n');
		s->scan = s->pos;
	}
	return s->rc;
}

static int parse_sse(const char *body, size_t len, long long id, json_t **result, char *err, size_t errlen)
{
	mcpclient_sse s;
	mcpclient_sse_init(&s, id);
	int rc = mcpclient_sse_feed(&s, body, len);
	if (rc == 1) {
		*result = s.result;
		s.result = NULL;
	} else if (rc != 2) {
		mcp_fail(err, errlen, "%s", s.err);
	}
	mcpclient_sse_free(&s);
	return rc;
}

static int content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int mcpclient_parse_response(const char *content_type, const char *body, size_t len, long long id, json_t **result,
			     char *err, size_t errlen)
{
	*result = NULL;
	if (content_type_is(content_type, "text/event-stream")) {
		int rc = parse_sse(body, len, id, result, err, errlen);
		if (rc == 2)
			return mcp_fail(err, errlen, "the server's event stream ended without the response"), 0;
		return rc;
	}
	if (!content_type_is(content_type, "application/json"))
		return mcp_fail(err, errlen, "the server answered with a content type other than JSON or an event stream");
	int rc = consider(body, len, id, result, err, errlen);
	if (rc == 2)
		return mcp_fail(err, errlen, "the server's answer is not the response to the request"), 0;
	return rc;
}

/* ---- HTTP ---- */

/* httpc's body_enough for one request: an event stream is complete once it holds the response with the id
 * (servers SHOULD close the stream then, but need not). ARG is the request's incremental reader. */
static int stream_has_response(void *arg, const char *content_type, const char *body, size_t len)
{
	if (!content_type_is(content_type, "text/event-stream"))
		return 0;
	return mcpclient_sse_feed(arg, body, len) != 2;
}

static long remaining_ms(const mcpclient *c)
{
	int64_t left = c->deadline_ms - util_now_ms();
	return left > 0 ? (long)left : 0;
}

/* One HTTP call to the endpoint with the session's headers; an event stream answering request AWAITED (an id;
 * 0: none) is read only until it holds that response. Returns 0 with RESP, or -1 with ERR. */
static int call(mcpclient *c, const char *method, const char *body, long timeout_ms, const char *capture,
		long long awaited, httpc_response *resp, char *err, size_t errlen)
{
	const char *h[7];
	int n = 0;
	if (body)
		h[n++] = "Content-Type: application/json";
	h[n++] = "Accept: application/json, text/event-stream";
	if (c->session_id)
		h[n++] = arena_printf(c->a, "Mcp-Session-Id: %s", c->session_id);
	if (c->version)
		h[n++] = arena_printf(c->a, "MCP-Protocol-Version: %s", c->version);
	if (c->o.bearer_token)
		h[n++] = arena_printf(c->a, "Authorization: Bearer %s", c->o.bearer_token);
	h[n] = NULL;
	if (timeout_ms <= 0)
		return mcp_fail(err, errlen, "the server did not answer in time");
	/* API clients choose these URLs: with private addresses allowed, still only loopback (as for webhooks). */
	urlguard_target t;
	char why[160];
	if (webhook_url_check(c->o.url, 1, c->o.allow_private, &t, why, sizeof why) != 0)
		return mcp_fail(err, errlen, "%s", why);
	mcpclient_sse sse;
	mcpclient_sse_init(&sse, awaited);
	httpc_request req = {
		.method = method,
		.url = c->o.url,
		.headers = h,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.timeout_ms = timeout_ms,
		.max_response_bytes = MCPCLIENT_MAX_RESPONSE,
		.allow_private = c->o.allow_private,
		.capture_header = capture,
		.body_enough = awaited ? stream_has_response : NULL,
		.body_enough_arg = &sse,
	};
	int rc = httpc_do(c->a, &req, resp, why, sizeof why);
	mcpclient_sse_free(&sse);
	if (rc != 0)
		return mcp_fail(err, errlen, "%s", why);
	return 0;
}

static int status_error(long status, char *err, size_t errlen)
{
	if (status == 401 || status == 403)
		return mcp_fail(err, errlen, "the server refused the request (HTTP %ld): check the MCP server's credential",
				status);
	return mcp_fail(err, errlen, "the server answered HTTP %ld", status);
}

static char *dump(arena *a, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		abort();
	char *s = arena_strdup(a, text);
	free(text);
	return s;
}

static int do_initialize(mcpclient *c, char *err, size_t errlen);

/* Request METHOD with PARAMS (stolen): *RESULT a new reference. A 404 inside a session starts one new session
 * (initialize again) and repeats the request, once per conversation. */
static int rpc(mcpclient *c, const char *method, json_t *params, json_t **result, char *err, size_t errlen)
{
	int init = strcmp(method, "initialize") == 0;
	long long id = ++c->next_id;
	char *body = dump(c->a, json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)id, "method",
					  method, "params", params));
	httpc_response resp;
	for (;;) {
		if (call(c, "POST", body, remaining_ms(c), init ? "Mcp-Session-Id" : NULL, id, &resp, err, errlen) != 0)
			return -1;
		if (resp.status == 404 && c->session_id && !init && !c->reinitialized) {
			c->reinitialized = 1;
			c->session_id = NULL;
			c->version = NULL;
			c->initialized = 0;
			if (do_initialize(c, err, errlen) != 0)
				return -1;
			continue;
		}
		break;
	}
	if (resp.status != 200)
		return status_error(resp.status, err, errlen);
	if (init && resp.captured) {
		size_t n = strlen(resp.captured);
		for (size_t i = 0; i < n; i++)
			if (resp.captured[i] < 0x21 || resp.captured[i] > 0x7e)
				return mcp_fail(err, errlen, "the server's Mcp-Session-Id is not visible ASCII");
		if (n == 0 || n > MCPCLIENT_MAX_SESSION_ID)
			return mcp_fail(err, errlen, "the server's Mcp-Session-Id is empty or too long");
		c->session_id = resp.captured;
	}
	int rc = mcpclient_parse_response(resp.content_type, resp.body, resp.body_len, id, result, err, errlen);
	return rc == 1 ? 0 : -1;
}

static int notify(mcpclient *c, const char *method, char *err, size_t errlen)
{
	char *body = dump(c->a, json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method));
	httpc_response resp;
	if (call(c, "POST", body, remaining_ms(c), NULL, 0, &resp, err, errlen) != 0)
		return -1;
	if (resp.status != 202 && resp.status != 200 && resp.status != 204)
		return status_error(resp.status, err, errlen);
	return 0;
}

static int do_initialize(mcpclient *c, char *err, size_t errlen)
{
	json_t *result = NULL;
	json_t *params = json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", MCPCLIENT_PROTOCOL_VERSION,
				   "capabilities", "clientInfo", "name", "AgentPlatform", "version", "1.0");
	if (rpc(c, "initialize", params, &result, err, errlen) != 0)
		return -1;
	const char *v = json_string_value(json_object_get(result, "protocolVersion"));
	const char *chosen = NULL;
	for (const char *const *p = MCPCLIENT_VERSIONS; v && *p; p++)
		if (strcmp(*p, v) == 0)
			chosen = *p;
	json_decref(result);
	if (!chosen)
		return mcp_fail(err, errlen, "the server does not speak a protocol version this client supports (%s)",
				MCPCLIENT_PROTOCOL_VERSION);
	c->version = arena_strdup(c->a, chosen);
	if (notify(c, "notifications/initialized", err, errlen) != 0)
		return -1;
	c->initialized = 1;
	return 0;
}

/* Prefixes ERR with the step that failed. */
static int step_fail(const char *step, char *err, size_t errlen)
{
	if (err && errlen) {
		char why[512];
		snprintf(why, sizeof why, "%s", err);
		snprintf(err, errlen, "%s: %s", step, why);
	}
	return -1;
}

int mcpclient_initialize(mcpclient *c, char *err, size_t errlen)
{
	if (do_initialize(c, err, errlen) != 0)
		return step_fail("initialize", err, errlen);
	return 0;
}

/* Appends the tools of one page to OUT ({name, description, input_schema}); *BYTES grows by their size. */
static int take_tools(const json_t *page, json_t *out, size_t *bytes, char *err, size_t errlen)
{
	size_t i;
	json_t *t;
	if (!json_is_array(page))
		return mcp_fail(err, errlen, "the server's answer has no tools array");
	json_array_foreach(page, i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		if (!name || !name[0] || strlen(name) > MCPCLIENT_MAX_NAME)
			return mcp_fail(err, errlen, "the server lists a tool without a valid name");
		if (json_array_size(out) >= MCPCLIENT_MAX_TOOLS)
			return mcp_fail(err, errlen, "the server lists more than %d tools", MCPCLIENT_MAX_TOOLS);
		const json_t *desc = json_object_get(t, "description"), *schema = json_object_get(t, "inputSchema");
		json_t *tool = json_pack("{s:s, s:o, s:o}", "name", name, "description",
					 json_is_string(desc) ? json_copy((json_t *)desc) : json_null(), "input_schema",
					 json_is_object(schema) ? json_deep_copy(schema) : json_object());
		char *text = json_dumps(tool, JSON_COMPACT);
		if (!text)
			abort();
		*bytes += strlen(text);
		free(text);
		json_array_append_new(out, tool);
		if (*bytes > MCPCLIENT_MAX_TOOLS_BYTES)
			return mcp_fail(err, errlen, "the server's tool list is larger than %zu KiB",
					MCPCLIENT_MAX_TOOLS_BYTES / 1024);
	}
	return 0;
}

int mcpclient_list_tools(mcpclient *c, json_t **tools, char *err, size_t errlen)
{
	*tools = NULL;
	if (!c->initialized && mcpclient_initialize(c, err, errlen) != 0)
		return -1;
	json_t *out = json_array();
	size_t bytes = 0;
	char *cursor = NULL;
	for (int page = 0;; page++) {
		if (page == MCPCLIENT_MAX_PAGES) {
			json_decref(out);
			return mcp_fail(err, errlen, "tools/list: the server's tool list has more than %d pages",
					MCPCLIENT_MAX_PAGES);
		}
		json_t *result = NULL;
		json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor) : json_object();
		if (rpc(c, "tools/list", params, &result, err, errlen) != 0 ||
		    take_tools(json_object_get(result, "tools"), out, &bytes, err, errlen) != 0) {
			json_decref(result);
			json_decref(out);
			return step_fail("tools/list", err, errlen);
		}
		const char *next = json_string_value(json_object_get(result, "nextCursor"));
		int again = next && next[0] && !(cursor && strcmp(cursor, next) == 0);
		int repeated = next && cursor && strcmp(cursor, next) == 0;
		cursor = again ? arena_strdup(c->a, next) : NULL;
		json_decref(result);
		if (repeated) {
			json_decref(out);
			return mcp_fail(err, errlen, "tools/list: the server repeated its pagination cursor");
		}
		if (!again)
			break;
	}
	*tools = out;
	return 0;
}

int mcpclient_call_tool(mcpclient *c, const char *name, const json_t *arguments, json_t **result, char *err,
			size_t errlen)
{
	*result = NULL;
	if (!c->initialized && mcpclient_initialize(c, err, errlen) != 0)
		return -1;
	json_t *params = json_pack("{s:s, s:o}", "name", name, "arguments",
				   arguments ? json_deep_copy(arguments) : json_object());
	json_t *res = NULL;
	if (rpc(c, "tools/call", params, &res, err, errlen) != 0)
		return step_fail("tools/call", err, errlen);
	if (!json_is_object(res) || !json_is_array(json_object_get(res, "content"))) {
		json_decref(res);
		return mcp_fail(err, errlen, "tools/call: the server's result has no content array");
	}
	*result = res;
	return 0;
}

void mcpclient_close(mcpclient *c)
{
	if (!c->session_id)
		return;
	long left = remaining_ms(c);
	httpc_response resp;
	char err[160];
	call(c, "DELETE", NULL, left < MCPCLIENT_CLOSE_TIMEOUT_MS ? left : MCPCLIENT_CLOSE_TIMEOUT_MS, NULL, 0, &resp,
	     err, sizeof err);
	c->session_id = NULL;
}
