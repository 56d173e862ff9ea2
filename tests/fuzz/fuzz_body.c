/* fuzz_body: the request pipeline's body step (pipeline_body) on arbitrary JSON bodies, object and hook routes. */
#include "jsonbody.h"
#include "pipeline.h"
#include "routes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Routes METHOD URI, runs the body step on the input and checks what it promises. */
static void one(const char *method, const char *uri, unsigned want_flag, const uint8_t *data, size_t size)
{
	request r;
	memset(&r, 0, sizeof r);
	r.a = arena_new();
	r.method = method;
	r.uri = uri;
	r.content_type = "application/json";
	r.body = (const char *)data;
	r.body_len = size;
	if (pipeline_route(&r) != 0 || !(r.route->flags & want_flag))
		abort();
	if (pipeline_body(&r) == 0) {
		if (!r.json || jsonbody_depth(r.json, JSONBODY_MAX_DEPTH) > JSONBODY_MAX_DEPTH)
			abort();
		if ((want_flag & ROUTE_BODY) && !json_is_object(r.json))
			abort();
	} else if (r.err == ERR_NONE || r.json) {
		abort();
	}
	const char *out;
	size_t len, blen;
	req_render(&r, &out, &len);
	if (!out || len == 0 || (r.err != ERR_NONE && !req_body_text(&r, &blen)))
		abort();
	arena_free(r.a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A heap copy of exactly SIZE bytes, so ASan sees any read past the body. */
	uint8_t *body = malloc(size ? size : 1);
	if (!body)
		abort();
	memcpy(body, data, size);
	one("POST", "/api/v1/agents", ROUTE_BODY, body, size);
	one("POST", "/hooks/whk_fuzz", ROUTE_HOOK_BODY, body, size);
	free(body);
	return 0;
}
