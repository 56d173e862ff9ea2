/* mcpclient: the MCP client (JSON-RPC 2.0 over Streamable HTTP) the scheduler uses to reach external MCP servers. */
#ifndef AP_MCPCLIENT_H
#define AP_MCPCLIENT_H

#include "arena.h"

#include <jansson.h>
#include <stddef.h>

/* The protocol version offered in initialize; a server may answer with any of MCPCLIENT_VERSIONS. */
#define MCPCLIENT_PROTOCOL_VERSION "2025-11-25"
/* Bounds of one answer, of tools/list and of the tools kept. */
#define MCPCLIENT_MAX_RESPONSE ((size_t)1 << 20)
#define MCPCLIENT_MAX_PAGES 20
#define MCPCLIENT_MAX_TOOLS 200
#define MCPCLIENT_MAX_TOOLS_BYTES ((size_t)512 * 1024)
#define MCPCLIENT_MAX_SESSION_ID 256
#define MCPCLIENT_MAX_NAME 128

/* The versions this client speaks (Streamable HTTP exists since 2025-03-26), NULL-terminated. */
extern const char *const MCPCLIENT_VERSIONS[];

typedef struct mcpclient mcpclient;

typedef struct mcpclient_options {
	const char *url;          /* the server's MCP endpoint (checked by the outbound URL guard on every call) */
	const char *bearer_token; /* sent as "Authorization: Bearer ..." when not NULL; never logged or returned */
	int allow_private;        /* the server-side setting allow_private_addresses */
	long timeout_ms;          /* the whole conversation's budget (every HTTP call gets what is left) */
} mcpclient_options;

/* A client for one conversation with O->url, in A (no network yet). O's strings must outlive it. */
mcpclient *mcpclient_new(arena *a, const mcpclient_options *o);

/* initialize -> notifications/initialized. Keeps the Mcp-Session-Id the server gives and sends it, and the
 * negotiated MCP-Protocol-Version, on every later call. Returns 0, or -1 with a client-safe reason in ERR
 * (no token, no internals). */
int mcpclient_initialize(mcpclient *c, char *err, size_t errlen);

/* tools/list following nextCursor (at most MCPCLIENT_MAX_PAGES pages, MCPCLIENT_MAX_TOOLS tools,
 * MCPCLIENT_MAX_TOOLS_BYTES of JSON): *TOOLS is a new array of {name, description (string or null),
 * input_schema (object)}. Initializes first when needed. Returns 0 or -1 with ERR. */
int mcpclient_list_tools(mcpclient *c, json_t **tools, char *err, size_t errlen);

/* tools/call of tool NAME with ARGUMENTS (an object; NULL: {}): *RESULT is a new reference to the
 * CallToolResult object ({content, isError?, structuredContent?}; content is checked to be an array). A
 * result with isError true is still 0 here: the caller decides. Initializes first when needed. Returns 0 or
 * -1 with ERR (transport errors, JSON-RPC errors such as an unknown tool). */
int mcpclient_call_tool(mcpclient *c, const char *name, const json_t *arguments, json_t **result, char *err,
			size_t errlen);

/* Ends the session politely (HTTP DELETE with the session id) when there is one; errors are ignored. */
void mcpclient_close(mcpclient *c);

/* Finds the JSON-RPC response with id ID in an answer body: CONTENT_TYPE application/json (one message or a
 * batch array) or text/event-stream (SSE: "data:" lines joined per event, comments and events of another
 * type ignored, an event left unterminated at the end discarded). Other messages (requests, notifications,
 * other ids) are skipped. Returns 1 with *RESULT a new reference to its "result", 0 with a client-safe reason
 * in ERR when the response is a JSON-RPC error or there is none, -1 with ERR when the body is malformed.
 * Pure (no network): the fuzz harness drives it. */
int mcpclient_parse_response(const char *content_type, const char *body, size_t len, long long id, json_t **result,
			     char *err, size_t errlen);

/* The incremental SSE reader behind both mcpclient_parse_response and the early end of a stream that stays
 * open: mcpclient_sse_feed is given the body received so far (each call a longer prefix of the same bytes)
 * and looks only at the bytes it has not seen (each byte searched once and taken once, each complete event
 * parsed once). It returns 2 while the response with id ID has not come, else what mcpclient_parse_response
 * would (1 with RESULT, 0 or -1 with ERR) and stays there. */
typedef struct mcpclient_sse {
	long long id;
	size_t pos;       /* the start of the line not yet taken */
	size_t scan;      /* how far that line was searched for its end */
	int after_cr;     /* the last line taken ended with a CR that was the last byte then */
	char *data;       /* the current event's data lines (malloc) */
	size_t dlen, dcap;
	int has_data, other;
	int rc;
	json_t *result;
	char err[320];
	size_t examined; /* bytes looked at so far (the unit tests check it stays linear) */
} mcpclient_sse;

void mcpclient_sse_init(mcpclient_sse *s, long long id);
int mcpclient_sse_feed(mcpclient_sse *s, const char *body, size_t len);
void mcpclient_sse_free(mcpclient_sse *s);

#endif
