/* pipeline: the request driver; every cross-cutting check happens here, once. */
#include "pipeline.h"
#include "auth.h"
#include "crypto.h"
#include "cursor.h"
#include "idempotency.h"
#include "jsonbody.h"
#include "log.h"
#include "routes.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_QUERY_LEN 2048
#define HOOK_BODY_MAX (256 * 1024)

int pipeline_route(request *r)
{
	const char *q = strchr(r->uri ? r->uri : "", '?');
	if (q) {
		r->path = arena_strndup(r->a, r->uri, (size_t)(q - r->uri));
		r->query = q + 1;
	} else {
		r->path = r->uri ? r->uri : "";
		r->query = "";
	}
	char allow[64];
	enum route_match m = routes_match(r->a, r->method ? r->method : "", r->path, &r->route, r->param,
					  &r->nparams, allow, sizeof allow);
	if (m == ROUTE_NO_PATH)
		return req_fail(r, ERR_ROUTE_NOT_FOUND, "no such endpoint");
	if (m == ROUTE_NO_METHOD) {
		req_header(r, "Allow", allow);
		return req_fail(r, ERR_METHOD_NOT_ALLOWED, "this endpoint does not support that method");
	}
	return 0;
}

int pipeline_media_type_is(const char *ct, const char *want)
{
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	size_t n = strlen(want);
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

int pipeline_body(request *r)
{
	unsigned f = r->route->flags;
	if (f & ROUTE_HOOK_BODY) {
		if (r->body_truncated || r->body_len > HOOK_BODY_MAX)
			return req_fail(r, ERR_BODY_TOO_LARGE, "the request body is larger than 256 KiB");
		if (!pipeline_media_type_is(r->content_type, "application/json"))
			return req_fail(r, ERR_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
		char err[256];
		r->json = req_keep(r, jsonbody_parse_any(r->body, r->body_len, err, sizeof err));
		return r->json ? 0 : req_fail(r, ERR_BODY_MALFORMED, err);
	}
	if (!(f & (ROUTE_BODY | ROUTE_BODY_OPTIONAL))) {
		if (r->body_len > 0 || r->body_truncated)
			return req_fail(r, ERR_BODY_MALFORMED, "this endpoint takes no request body");
		return 0;
	}
	if (r->body_truncated || r->body_len > REQ_BODY_MAX)
		return req_fail(r, ERR_BODY_TOO_LARGE, "the request body is larger than 1 MiB");
	if ((f & ROUTE_BODY_OPTIONAL) && r->body_len == 0)
		return 0;
	if (!pipeline_media_type_is(r->content_type, "application/json") &&
	    !((f & ROUTE_MERGE_PATCH) && pipeline_media_type_is(r->content_type, "application/merge-patch+json")))
		return req_fail(r, ERR_UNSUPPORTED_MEDIA_TYPE,
				(f & ROUTE_MERGE_PATCH)
					? "Content-Type must be application/json or application/merge-patch+json"
					: "Content-Type must be application/json");
	char err[256];
	r->json = req_keep(r, jsonbody_parse(r->body, r->body_len, err, sizeof err));
	if (!r->json)
		return req_fail(r, ERR_BODY_MALFORMED, err);
	return 0;
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes S[0..N) into the arena ('+' is a space); NULL on a bad escape or a NUL byte. */
static char *url_decode(arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			int hi = hexdigit(s[i + 1]), lo = hexdigit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
}

static int query_allowed(const route *rt, const char *name)
{
	if ((rt->flags & ROUTE_LIST) && (strcmp(name, "limit") == 0 || strcmp(name, "cursor") == 0))
		return 1;
	for (const char *const *q = rt->query; q && *q; q++)
		if (strcmp(*q, name) == 0)
			return 1;
	return 0;
}

int pipeline_query(request *r)
{
	const char *s = r->query;
	size_t len = strlen(s);
	if (len > MAX_QUERY_LEN)
		return req_fail(r, ERR_QUERY_INVALID, "the query string is too long");
	while (*s) {
		const char *amp = strchr(s, '&');
		size_t n = amp ? (size_t)(amp - s) : strlen(s);
		if (n > 0) {
			const char *eq = memchr(s, '=', n);
			size_t nl = eq ? (size_t)(eq - s) : n;
			char *name = url_decode(r->a, s, nl);
			char *value = eq ? url_decode(r->a, eq + 1, n - nl - 1) : arena_strdup(r->a, "");
			if (!name || !value)
				return req_fail(r, ERR_QUERY_INVALID, "the query string has a malformed percent-escape");
			/* Names and values may be echoed in the (JSON) error body: text only. */
			if (util_utf8_length(name, strlen(name)) < 0 || util_utf8_length(value, strlen(value)) < 0)
				return req_fail(r, ERR_QUERY_INVALID, "the query string is not valid UTF-8");
			if (!query_allowed(r->route, name)) {
				/* At most 64 bytes of the name, cut on a character boundary. */
				size_t shown = strlen(name);
				if (shown > 64) {
					shown = 64;
					while (shown > 0 && ((unsigned char)name[shown] & 0xC0) == 0x80)
						shown--;
				}
				char msg[160];
				snprintf(msg, sizeof msg, "unknown query parameter '%.*s'", (int)shown, name);
				return req_fail_param(r, ERR_QUERY_UNKNOWN, strlen(name) <= 64 ? name : NULL, msg);
			}
			if (req_query(r, name))
				return req_fail_param(r, ERR_QUERY_INVALID, name, "a query parameter may appear only once");
			if (r->nq == REQ_MAX_QUERY)
				return req_fail(r, ERR_QUERY_INVALID, "too many query parameters");
			r->q[r->nq].name = name;
			r->q[r->nq].value = value;
			r->nq++;
		}
		s += n;
		if (*s == '&')
			s++;
	}
	if (r->route->flags & ROUTE_LIST) {
		r->limit = 20;
		const char *limit = req_query(r, "limit");
		long v;
		if (limit && util_parse_long(limit, 1, 100, &v) != 0)
			return req_fail_param(r, ERR_QUERY_INVALID, "limit", "limit must be an integer from 1 to 100");
		if (limit)
			r->limit = (int)v;
		const char *cursor = req_query(r, "cursor");
		if (cursor && cursor_decode(cursor, r->route->cursor_prefix, r->cursor_id) != 0)
			return req_fail_param(r, ERR_CURSOR_INVALID, "cursor",
					      "cursor is not valid: pass next_cursor from the previous page unchanged");
	}
	return 0;
}

/* Each {param} with a declared id shape must have it: a malformed id is a 404, like an unknown one. */
static int check_ids(request *r)
{
	for (int i = 0; i < r->nparams; i++) {
		const char *prefix = r->route->id_prefix[i];
		if (prefix && !ids_valid(prefix, r->param[i]))
			return req_fail(r, ERR_NOT_FOUND, "no such object");
	}
	return 0;
}

static void ensure_request_id(request *r)
{
	/* nginx passes $request_id (32 hex digits); anything else is replaced, never echoed. */
	const char *id = r->request_id;
	int ok = id && strlen(id) >= 8 && strlen(id) <= 64;
	for (const char *c = id; ok && *c; c++)
		ok = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '-';
	if (!ok) {
		unsigned char raw[16];
		char *hex = arena_alloc(r->a, 33);
		crypto_random(raw, sizeof raw);
		crypto_hex(raw, sizeof raw, hex);
		r->request_id = hex;
	}
}

/* Runs the route's handler. A handler that failed on an InnoDB deadlock or lock wait timeout before
 * committing anything runs again (at most twice more): its transaction was rolled back as a whole, so
 * the client sees the retried answer instead of a 500 for a transient conflict. */
static void run_handler(request *r, const route *rt)
{
	int nhdr = r->nhdr;
	db *d = r->app ? r->app->db : NULL; /* unit tests drive handlers without a database */
	for (int attempt = 0;; attempt++) {
		if (d)
			db_mark(d);
		if (rt->handler(r) != 0 && r->err == ERR_NONE) {
			log_error("request %s: handler of %s %s failed without a reason", r->request_id, rt->method,
				  rt->path);
			req_fail(r, ERR_INTERNAL, "internal error");
		}
		if (r->err != ERR_INTERNAL || attempt == 2 || !d || !db_retryable(d))
			return;
		log_warn("request %s: %s %s hit a lock conflict; running it again", r->request_id, rt->method, rt->path);
		db_rollback(d);
		r->err = ERR_NONE;
		r->err_message = r->err_param = NULL;
		r->finalized = 0;
		r->status = 0;
		r->out = NULL;
		r->raw_out = NULL;
		r->raw_out_len = 0;
		r->nhdr = nhdr;
	}
}

void pipeline_run(request *r)
{
	ensure_request_id(r);
	if (pipeline_route(r) != 0)
		return;
	const route *rt = r->route;
	if (!(rt->flags & ROUTE_PUBLIC)) {
		if (auth_authenticate(r) != 0 || auth_require_scope(r, rt->scope) != 0)
			return;
	}
	/* The MCP endpoint reads its own body: JSON-RPC messages or batches, with JSON-RPC errors. */
	if (check_ids(r) != 0 || (!(rt->flags & ROUTE_MCP) && pipeline_body(r) != 0) || pipeline_query(r) != 0)
		return;
	/* Idempotency-Key applies to every authenticated POST but /mcp (JSON-RPC has its own request ids): a replay
	 * answers from the store. */
	int tracked = 0;
	if (r->authenticated && strcmp(r->method, "POST") == 0 && r->idempotency_key && !(rt->flags & ROUTE_MCP)) {
		int rc = idempotency_begin(r);
		if (rc != 0)
			return; /* replayed, refused, or failed: the answer is set */
		tracked = 1;
	}
	run_handler(r, rt);
	if (tracked)
		idempotency_end(r);
}

void pipeline_log(const request *r)
{
	int status = r->err != ERR_NONE ? APIERRORS[r->err].status : r->status;
	log_info("access request_id=%s key=%s method=%.10s route=%s status=%d duration_ms=%lld",
		 r->request_id ? r->request_id : "-", r->key_id[0] ? r->key_id : "-", r->method ? r->method : "-",
		 r->route ? r->route->path : "-", status, (long long)(util_now_ms() - r->started_ms));
}
