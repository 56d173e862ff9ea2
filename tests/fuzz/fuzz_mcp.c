/* fuzz_mcp: the MCP endpoint's handling of arbitrary bodies and headers (mcp_handle: media types, JSON-RPC shape,
 * protocol versions, batches, the 2026-07-28 header and envelope checks) and the answers it renders. Tool calls
 * need the database and are left to the e2e suite: inputs naming tools/call are skipped. */
#include "handlers.h"
#include "request.h"
#include "routes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const VERSIONS[] = {NULL, "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "2099-01-01", "x"};
static const char *const METHODS[] = {NULL, "server/discover", "tools/list", "ping", "initialize"};
static const char *const ACCEPTS[] = {NULL, "application/json, text/event-stream", "text/html", "*/*;q=0", "text/*"};

/* Every answer is a JSON-RPC body of the documented statuses: exactly jsonrpc, id and result or error. */
static void check_reply(const json_t *v)
{
	if (!json_is_object(v) || json_object_size(v) != 3 || !json_object_get(v, "id") ||
	    (json_object_get(v, "result") != NULL) == (json_object_get(v, "error") != NULL))
		abort();
}

/* Whether V holds the string "tools/call" anywhere (escapes decoded). */
static int names_tool_call(const json_t *v)
{
	const char *k;
	size_t i;
	json_t *e;
	if (json_is_string(v))
		return strcmp(json_string_value(v), "tools/call") == 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (names_tool_call(e))
				return 1;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e)
			if (names_tool_call(e))
				return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* The first byte picks the headers; the rest is the body (a heap copy of exactly its size). */
	unsigned sel = data[0];
	size--;
	data++;
	json_t *parsed = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	int skip = names_tool_call(parsed);
	json_decref(parsed);
	if (skip)
		return 0;
	char *body = malloc(size ? size : 1);
	if (!body)
		abort();
	memcpy(body, data, size);

	settings cfg;
	memset(&cfg, 0, sizeof cfg);
	app ap;
	memset(&ap, 0, sizeof ap);
	ap.cfg = &cfg;
	request r;
	memset(&r, 0, sizeof r);
	r.app = &ap;
	r.a = arena_new();
	r.method = "POST";
	r.uri = "/mcp";
	r.content_type = (sel & 0x80) ? "text/plain" : "application/json";
	r.mcp_protocol_version = VERSIONS[sel % 7];
	r.mcp_method = METHODS[(sel / 7) % 5];
	r.accept = ACCEPTS[(sel / 35) % 5];
	r.origin = (sel & 0x40) && (sel & 0x01) ? "http://evil.example" : NULL;
	r.body = body;
	r.body_len = size;
	r.request_id = "fuzz";
	if (mcp_handle(&r) != 0)
		abort();
	const char *out;
	size_t len, blen;
	req_render(&r, &out, &len);
	const char *text = req_body_text(&r, &blen);
	switch (r.status) {
	case 202:
		if (text)
			abort();
		break;
	case 200:
	case 400:
	case 403:
	case 404:
	case 406:
	case 413:
	case 415: {
		json_t *v = text ? json_loadb(text, blen, 0, NULL) : NULL;
		if (!v)
			abort();
		if (json_is_array(v)) {
			size_t i;
			json_t *e;
			if (r.status != 200 || json_array_size(v) == 0)
				abort();
			json_array_foreach(v, i, e)
				check_reply(e);
		} else {
			check_reply(v);
		}
		json_decref(v);
		break;
	}
	default:
		abort();
	}
	arena_free(r.a);
	free(body);
	return 0;
}
