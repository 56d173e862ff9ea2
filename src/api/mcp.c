/* mcp: POST /mcp, the platform as an MCP server: Streamable HTTP without sessions or event streams, JSON-RPC 2.0
 * (batches for 2025-03-26), and the protocol revisions 2025-03-26, 2025-06-18, 2025-11-25 (initialize-based)
 * and 2026-07-28 (stateless: server/discover, a _meta envelope on every request). */
#ifdef HAVE_CONFIG_H
#include "build-config.h"
#endif
#include "auth.h"
#include "handlers.h"
#include "jsonbody.h"
#include "log.h"
#include "mcp_tools.h"
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define MODERN_VERSION "2026-07-28"
#define LATEST_LEGACY_VERSION "2025-11-25"
#define HEADERLESS_VERSION "2025-03-26" /* the Streamable HTTP rule for a request without MCP-Protocol-Version */
#define TOOLS_PAGE 4                    /* tools/list page size: small enough that paging is exercised */
#define TOOLS_TTL_MS 60000
#define PAGE_CURSOR_PREFIX "tools:"
#define BATCH_MAX 20 /* messages in a 2025-03-26 batch */

#define META_PROTOCOL_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CLIENT_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

/* JSON-RPC and MCP error codes. */
enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
	RPC_SERVER_ERROR = -32000,         /* transport refusals: origin, media types, size */
	RPC_HEADER_MISMATCH = -32020,      /* 2026-07-28: a standard header missing or disagreeing with the body */
	RPC_UNSUPPORTED_VERSION = -32022,  /* data: {supported, requested} */
};

/* Newest first: what server/discover and the unsupported-version error list. */
static const char *const VERSIONS[] = {MODERN_VERSION, "2025-11-25", "2025-06-18", "2025-03-26", NULL};
static const char *const LEGACY_VERSIONS[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

static const char INSTRUCTIONS[] =
	"AgentPlatform: look up the weather, list, inspect and trigger the account's automation agents, and read "
	"their runs. Tools act on the account of the API key.";

/* One message's outcome: REPLY (NULL for notifications and posted responses) and, for a message answered
 * alone, the HTTP status. */
typedef struct outcome {
	json_t *reply;
	int status;
} outcome;

static int in_list(const char *const *list, const char *v)
{
	for (; v && *list; list++)
		if (strcmp(*list, v) == 0)
			return 1;
	return 0;
}

/* Revision identifiers are ISO dates: 2026-07-28 and later belong to the stateless era. */
static int is_modern(const char *v)
{
	return v && strcmp(v, MODERN_VERSION) >= 0;
}

static json_t *versions_json(void)
{
	json_t *a = json_array();
	for (const char *const *v = VERSIONS; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* {"jsonrpc": "2.0", "id": ID, "error": {code, message, data?}}: exactly these members. ID is borrowed (NULL:
 * null); DATA is stolen. */
static json_t *rpc_error(const json_t *id, int code, const char *message, json_t *data)
{
	json_t *e = json_pack("{s:i, s:s}", "code", code, "message", message);
	if (data)
		json_object_set_new(e, "data", data);
	return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", e);
}

static json_t *rpc_result(const json_t *id, json_t *result)
{
	return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

static outcome fail_with(int status, const json_t *id, int code, const char *message, json_t *data)
{
	return (outcome){rpc_error(id, code, message, data), status};
}

static json_t *unsupported_data(const char *requested)
{
	return json_pack("{s:o, s:s?}", "supported", versions_json(), "requested", requested);
}

/* Answers one JSON-RPC error with no request to echo (the transport refused the message). */
static int refuse(request *r, int status, int code, const char *message)
{
	return req_respond(r, status, rpc_error(NULL, code, message, NULL));
}

/* An Accept header allows JSON or an event stream (we always answer JSON); a range with q=0 allows nothing. */
static int accept_ok(const char *accept)
{
	static const char *const OK[] = {"*/*", "application/*", "application/json", "text/*", "text/event-stream", NULL};
	const char *p = accept;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char range[128];
		snprintf(range, sizeof range, "%.*s", (int)(n < sizeof range ? n : sizeof range - 1), p);
		char *params = strchr(range, ';');
		int refused = 0;
		if (params) {
			*params++ = '\0';
			const char *q = strstr(params, "q=");
			refused = q && strtod(q + 2, NULL) <= 0.0;
		}
		char *s = range;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t len = strlen(s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			s[--len] = '\0';
		for (const char *const *o = OK; !refused && *o; o++)
			if (strcasecmp(s, *o) == 0)
				return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* mcp_allowed_origins: scheme://host[:port] entries separated by spaces or commas, compared exactly (ASCII
 * case-insensitively). */
static int origin_allowed(const char *list, const char *origin)
{
	size_t olen = strlen(origin);
	for (const char *p = list ? list : ""; *p;) {
		size_t n = strcspn(p, " ,\t");
		if (n == olen && n > 0 && strncasecmp(p, origin, n) == 0)
			return 1;
		p += n;
		p += strspn(p, " ,\t");
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Message shape */

enum kind { K_INVALID, K_REQUEST, K_NOTIFICATION, K_RESPONSE };

/* A JSON-RPC id: a string or an integer (JSON-RPC also allows null and fractions; MCP does not). */
static int id_valid(const json_t *id)
{
	return json_is_string(id) || json_is_integer(id);
}

static enum kind classify(const json_t *m)
{
	if (!json_is_object(m) || !json_is_string(json_object_get(m, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(m, "jsonrpc")), "2.0") != 0)
		return K_INVALID;
	const json_t *method = json_object_get(m, "method"), *id = json_object_get(m, "id");
	if (method) {
		/* params that are not an object are the method's business: -32602 (params_object) */
		if (!json_is_string(method))
			return K_INVALID;
		if (!id)
			return K_NOTIFICATION;
		return id_valid(id) ? K_REQUEST : K_INVALID;
	}
	if (id_valid(id) && (json_object_get(m, "result") != NULL) != (json_object_get(m, "error") != NULL))
		return K_RESPONSE;
	return K_INVALID;
}

/* The id to echo in an error about M: its own when it is a valid one. */
static const json_t *echo_id(const json_t *m)
{
	const json_t *id = json_object_get(m, "id");
	return id_valid(id) ? id : NULL;
}

/* params._meta of M, or NULL. */
static const json_t *meta_of(const json_t *m)
{
	const json_t *meta = json_object_get(json_object_get(m, "params"), "_meta");
	return json_is_object(meta) ? meta : NULL;
}

/* The protocol version M's _meta envelope claims (2026-07-28 and later), or NULL. */
static const char *envelope_version(const json_t *m)
{
	const json_t *v = json_object_get(meta_of(m), META_PROTOCOL_VERSION);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ------------------------------------------------------------------------------------------------
 * Methods */

static json_t *server_info(void)
{
	return json_pack("{s:s, s:s, s:s}", "name", "agentplatform", "title", "AgentPlatform", "version", PACKAGE_VERSION);
}

/* A request's params: absent, or an object. */
static int params_object(const json_t *m)
{
	const json_t *params = json_object_get(m, "params");
	return !params || json_is_object(params);
}

/* Only params._meta and the method's own members are allowed; returns 0 or -1. */
static int params_known(const json_t *params, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)params, key, v)
	{
		if (strcmp(key, "_meta") == 0)
			continue;
		if (!in_list(allowed, key))
			return -1;
	}
	return 0;
}

static outcome do_tools_list(const json_t *id, const json_t *params, int modern)
{
	static const char *const allowed[] = {"cursor", NULL};
	const json_t *cursor = json_object_get(params, "cursor");
	int start = 0;
	if (params_known(params, allowed) != 0)
		return fail_with(200, id, RPC_INVALID_PARAMS, "tools/list takes only cursor", NULL);
	if (cursor && !json_is_null(cursor)) {
		const char *c = json_is_string(cursor) ? json_string_value(cursor) : "";
		size_t pl = strlen(PAGE_CURSOR_PREFIX);
		start = strncmp(c, PAGE_CURSOR_PREFIX, pl) == 0 ? mcp_tools_index(c + pl) : -1;
		if (start <= 0)
			return fail_with(200, id, RPC_INVALID_PARAMS, "cursor is not valid: pass nextCursor back unchanged",
					 NULL);
	}
	json_t *tools = json_array();
	int end = start + TOOLS_PAGE < mcp_tools_count() ? start + TOOLS_PAGE : mcp_tools_count();
	for (int i = start; i < end; i++)
		json_array_append_new(tools, mcp_tools_describe(mcp_tools_at(i)));
	json_t *result = json_pack("{s:o}", "tools", tools);
	if (end < mcp_tools_count()) {
		char next[64];
		snprintf(next, sizeof next, PAGE_CURSOR_PREFIX "%s", mcp_tools_name(mcp_tools_at(end)));
		json_object_set_new(result, "nextCursor", json_string(next));
	}
	if (modern) {
		json_object_set_new(result, "ttlMs", json_integer(TOOLS_TTL_MS));
		json_object_set_new(result, "cacheScope", json_string("private"));
	}
	return (outcome){rpc_result(id, result), 200};
}

static outcome do_tools_call(request *r, const json_t *id, const json_t *params)
{
	static const char *const allowed[] = {"name", "arguments", NULL};
	const json_t *name = json_object_get(params, "name"), *args = json_object_get(params, "arguments");
	if (!json_is_string(name))
		return fail_with(200, id, RPC_INVALID_PARAMS, "tools/call needs params.name, a tool name", NULL);
	if (params_known(params, allowed) != 0)
		return fail_with(200, id, RPC_INVALID_PARAMS, "tools/call takes only name and arguments", NULL);
	if (args && !json_is_null(args) && !json_is_object(args))
		return fail_with(200, id, RPC_INVALID_PARAMS, "params.arguments must be an object", NULL);
	const mcp_tool *t = mcp_tools_find(json_string_value(name));
	if (!t) {
		char msg[160];
		snprintf(msg, sizeof msg, "unknown tool: %.100s", json_string_value(name));
		return fail_with(200, id, RPC_INVALID_PARAMS, msg, NULL);
	}
	json_t *empty = NULL;
	if (!args || json_is_null(args))
		args = empty = json_object();
	json_t *result = mcp_tools_call(r, t, args);
	json_decref(empty);
	if (!result)
		return fail_with(200, id, RPC_INTERNAL_ERROR, "internal error: the call could not be recorded; retry", NULL);
	return (outcome){rpc_result(id, result), 200};
}

static outcome do_initialize(const json_t *id, const json_t *params)
{
	const json_t *v = json_object_get(params, "protocolVersion");
	if (!json_is_string(v))
		return fail_with(200, id, RPC_INVALID_PARAMS, "initialize needs params.protocolVersion", NULL);
	/* Echo the client's revision when we speak it; otherwise offer ours (the client decides). */
	const char *version = in_list(LEGACY_VERSIONS, json_string_value(v)) ? json_string_value(v) : LATEST_LEGACY_VERSION;
	json_t *result = json_pack("{s:s, s:{s:{s:b}}, s:o, s:s}", "protocolVersion", version, "capabilities", "tools",
				   "listChanged", 0, "serverInfo", server_info(), "instructions", INSTRUCTIONS);
	return (outcome){rpc_result(id, result), 200};
}

static outcome do_discover(const json_t *id)
{
	json_t *result = json_pack("{s:o, s:{s:{}}, s:s, s:i, s:s, s:{s:o}}", "supportedVersions", versions_json(),
				   "capabilities", "tools", "instructions", INSTRUCTIONS, "ttlMs", TOOLS_TTL_MS,
				   "cacheScope", "private", "_meta", META_SERVER_INFO, server_info());
	return (outcome){rpc_result(id, result), 200};
}

/* One request of the initialize-based revisions; errors are answered in a 200. */
static outcome legacy_request(request *r, const json_t *m)
{
	const json_t *id = json_object_get(m, "id"), *params = json_object_get(m, "params");
	const char *method = json_string_value(json_object_get(m, "method"));
	if (!params_object(m))
		return fail_with(200, id, RPC_INVALID_PARAMS, "params must be an object", NULL);
	if (strcmp(method, "initialize") == 0)
		return do_initialize(id, params);
	if (strcmp(method, "ping") == 0)
		return (outcome){rpc_result(id, json_object()), 200};
	if (strcmp(method, "tools/list") == 0)
		return do_tools_list(id, params, 0);
	if (strcmp(method, "tools/call") == 0)
		return do_tools_call(r, id, params);
	return fail_with(200, id, RPC_METHOD_NOT_FOUND, "method not found", NULL);
}

/* One message of an initialize-based revision (alone, or an element of a 2025-03-26 batch). */
static outcome legacy_message(request *r, const json_t *m, int in_batch)
{
	switch (classify(m)) {
	case K_NOTIFICATION:
	case K_RESPONSE: /* we send no requests, so a client's response is accepted and dropped */
		return (outcome){NULL, 202};
	case K_REQUEST:
		if (envelope_version(m))
			return fail_with(400, echo_id(m), RPC_INVALID_REQUEST,
					 "a request of protocol version " MODERN_VERSION " cannot be part of a batch", NULL);
		if (in_batch && strcmp(json_string_value(json_object_get(m, "method")), "initialize") == 0)
			return fail_with(400, echo_id(m), RPC_INVALID_REQUEST, "initialize must not be part of a batch",
					 NULL);
		return legacy_request(r, m);
	default:
		return fail_with(400, echo_id(m), RPC_INVALID_REQUEST,
				 "not a JSON-RPC 2.0 request, notification or response", NULL);
	}
}

/* Mcp-Name may carry a base64 sentinel (=?base64?...?=) for values that are not plain header text; ours are. */
static int name_header_matches(const char *header, const char *name)
{
	return header && strcmp(header, name) == 0;
}

/* One message of the stateless revision (2026-07-28): the version gate, the standard headers, then the method.
 * ENVELOPE: the version its _meta claims (NULL when it has none). */
static outcome modern_message(request *r, const json_t *m, const char *envelope)
{
	const char *header = r->mcp_protocol_version;
	enum kind k = classify(m);
	const json_t *id = echo_id(m);
	if (k == K_INVALID || k == K_RESPONSE)
		return fail_with(400, id, RPC_INVALID_REQUEST, "not a JSON-RPC 2.0 request or notification", NULL);
	if (envelope && header && strcmp(header, envelope) != 0)
		return fail_with(400, id, RPC_HEADER_MISMATCH,
				 "the MCP-Protocol-Version header does not match the request's _meta protocol version", NULL);
	const char *version = envelope ? envelope : header;
	if (strcmp(version, MODERN_VERSION) != 0)
		return fail_with(400, id, RPC_UNSUPPORTED_VERSION, "unsupported protocol version", unsupported_data(version));
	if (!envelope)
		return fail_with(400, id, RPC_INVALID_PARAMS,
				 "protocol version " MODERN_VERSION " needs params._meta with " META_PROTOCOL_VERSION
				 " and " META_CLIENT_CAPABILITIES,
				 NULL);
	if (!json_is_object(json_object_get(meta_of(m), META_CLIENT_CAPABILITIES)))
		return fail_with(400, id, RPC_INVALID_PARAMS, "params._meta needs " META_CLIENT_CAPABILITIES " (an object)",
				 NULL);
	const char *method = json_string_value(json_object_get(m, "method"));
	/* The standard headers must be present on requests only (notifications are exempt, as in the official
	 * SDK: its client sends no Mcp-Method on them), but one that is sent must agree with the body. */
	if (k == K_NOTIFICATION) {
		if (r->mcp_method && strcmp(r->mcp_method, method) != 0)
			return fail_with(400, NULL, RPC_HEADER_MISMATCH,
					 "the Mcp-Method header does not match the notification's method", NULL);
		return (outcome){NULL, 202};
	}
	const json_t *params = json_object_get(m, "params");
	if (!header)
		return fail_with(400, id, RPC_HEADER_MISMATCH, "the MCP-Protocol-Version header is missing", NULL);
	if (!r->mcp_method || strcmp(r->mcp_method, method) != 0)
		return fail_with(400, id, RPC_HEADER_MISMATCH,
				 r->mcp_method ? "the Mcp-Method header does not match the request's method"
					       : "the Mcp-Method header is missing",
				 NULL);
	outcome o;
	if (strcmp(method, "server/discover") == 0) {
		o = do_discover(id);
	} else if (strcmp(method, "tools/list") == 0) {
		o = do_tools_list(id, params, 1);
	} else if (strcmp(method, "tools/call") == 0) {
		const json_t *name = json_object_get(params, "name");
		if (json_is_string(name) && !name_header_matches(r->mcp_name, json_string_value(name)))
			return fail_with(400, id, RPC_HEADER_MISMATCH,
					 r->mcp_name ? "the Mcp-Name header does not match params.name"
						     : "the Mcp-Name header is missing",
					 NULL);
		o = do_tools_call(r, id, params);
	} else {
		/* ping and initialize belong to the initialize-based revisions */
		return fail_with(404, id, RPC_METHOD_NOT_FOUND, "method not found", NULL);
	}
	json_t *result = json_object_get(o.reply, "result");
	if (result)
		json_object_set_new(result, "resultType", json_string("complete"));
	return o;
}

/* The tools/call requests among MSGS (what a batch is charged for). */
static long long batch_tool_calls(const json_t *msgs)
{
	long long n = 0;
	size_t i;
	const json_t *m;
	json_array_foreach(msgs, i, m)
		n += classify(m) == K_REQUEST && strcmp(json_string_value(json_object_get(m, "method")), "tools/call") == 0;
	return n;
}

/* A JSON array of messages: the 2025-03-26 revision's batches. At most BATCH_MAX messages; the request was
 * counted once against the key's rate limit, so each tools/call after the first counts once more, all at once
 * before any message runs: a batch the key's budget does not cover is a 429 (Retry-After: when it fits) and
 * runs nothing. Tool calls share the request's one time limit (mcp_tools_call). */
static int batch(request *r, json_t *msgs, const char *version)
{
	if (strcmp(version, HEADERLESS_VERSION) != 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "JSON-RPC batches are not part of protocol version %s", version);
		return req_respond(r, 400, rpc_error(NULL, RPC_INVALID_REQUEST, msg, NULL));
	}
	if (json_array_size(msgs) == 0)
		return refuse(r, 400, RPC_INVALID_REQUEST, "an empty batch");
	if (json_array_size(msgs) > BATCH_MAX) {
		char msg[160];
		snprintf(msg, sizeof msg, "a batch holds at most %d messages; this one has %zu", BATCH_MAX,
			 json_array_size(msgs));
		return refuse(r, 400, RPC_INVALID_REQUEST, msg);
	}
	long long calls = batch_tool_calls(msgs);
	if (calls > r->rate_limit) {
		char msg[200];
		snprintf(msg, sizeof msg,
			 "this batch has %lld tool calls, more than the API key's rate limit of %lld a minute: send fewer "
			 "in one batch",
			 calls, r->rate_limit);
		return refuse(r, 400, RPC_INVALID_REQUEST, msg);
	}
	if (calls > 1 && auth_rate_limit_more(r, calls - 1) != 0)
		return -1; /* 429 (or 503 with rate_limit_redis_down = closed), recorded in R */
	json_t *replies = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m)
	{
		outcome o = legacy_message(r, m, 1);
		if (o.reply)
			json_array_append_new(replies, o.reply);
	}
	if (json_array_size(replies) == 0) {
		json_decref(replies);
		return req_respond(r, 202, NULL);
	}
	return req_respond(r, 200, replies);
}

int mcp_handle(request *r)
{
	const settings *cfg = r->app->cfg;
	/* DNS rebinding: a browser page may not reach a local server unless its origin is allowed. */
	if (r->origin && !origin_allowed(cfg->mcp_allowed_origins, r->origin))
		return refuse(r, 403, RPC_SERVER_ERROR, "this Origin is not allowed (setting mcp_allowed_origins)");
	if (!pipeline_media_type_is(r->content_type, "application/json"))
		return refuse(r, 415, RPC_SERVER_ERROR, "Content-Type must be application/json");
	if (r->accept && !accept_ok(r->accept))
		return refuse(r, 406, RPC_SERVER_ERROR, "Accept must allow application/json (or text/event-stream)");
	if (r->body_truncated || r->body_len > REQ_BODY_MAX)
		return refuse(r, 413, RPC_SERVER_ERROR, "the request body is larger than 1 MiB");
	char err[256];
	json_t *msg = req_keep(r, jsonbody_parse_any(r->body, r->body_len, err, sizeof err));
	if (!msg)
		return refuse(r, 400, RPC_PARSE_ERROR, "parse error: the body is not valid JSON");

	const char *header = r->mcp_protocol_version;
	if (json_is_array(msg)) {
		if (header && !in_list(LEGACY_VERSIONS, header))
			return req_respond(r, 400, rpc_error(NULL, is_modern(header) ? RPC_INVALID_REQUEST : RPC_UNSUPPORTED_VERSION,
							     is_modern(header) ? "JSON-RPC batches are not part of protocol version " MODERN_VERSION
									       : "unsupported protocol version",
							     is_modern(header) ? NULL : unsupported_data(header)));
		return batch(r, msg, header ? header : HEADERLESS_VERSION);
	}
	const char *envelope = envelope_version(msg);
	outcome o;
	if (envelope || is_modern(header))
		o = modern_message(r, msg, envelope);
	else if (header && !in_list(LEGACY_VERSIONS, header))
		o = fail_with(400, echo_id(msg), RPC_UNSUPPORTED_VERSION, "unsupported protocol version",
			      unsupported_data(header));
	else
		o = legacy_message(r, msg, 0);
	return req_respond(r, o.status, o.reply);
}
