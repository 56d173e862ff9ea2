/* fuzz_query: the request pipeline's routing and query parsing (pipeline_route, pipeline_query) on arbitrary URIs. */
#include "pipeline.h"
#include "routes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIST_PATH "/api/v1/agents?"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A recorded failure renders into an error body (its message and param may echo the input). */
static void check_render(request *r)
{
	const char *out;
	size_t len, blen;
	req_render(r, &out, &len);
	if (!out || len == 0)
		abort();
	if (r->err != ERR_NONE && !req_body_text(r, &blen))
		abort();
}

/* Routes GET URI and, when a route matched, parses its query. Checks what the steps promise. */
static void one(const char *uri)
{
	request r;
	memset(&r, 0, sizeof r);
	r.a = arena_new();
	r.method = "GET";
	r.uri = uri;
	if (pipeline_route(&r) == 0) {
		if (!r.route || r.nparams < 0 || r.nparams > REQ_MAX_PATH_PARAMS)
			abort();
		if (pipeline_query(&r) == 0) {
			if (r.nq < 0 || r.nq > REQ_MAX_QUERY)
				abort();
			if ((r.route->flags & ROUTE_LIST) && (r.limit < 1 || r.limit > 100))
				abort();
			if (r.cursor_id[0] && !ids_valid(r.route->cursor_prefix, r.cursor_id))
				abort();
		} else if (r.err == ERR_NONE) {
			abort();
		}
	} else if (r.err == ERR_NONE) {
		abort();
	}
	check_render(&r);
	arena_free(r.a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = malloc(sizeof LIST_PATH + size);
	if (!uri)
		abort();
	memcpy(uri, LIST_PATH, sizeof LIST_PATH - 1);
	memcpy(uri + sizeof LIST_PATH - 1, data, size);
	uri[sizeof LIST_PATH - 1 + size] = '\0';
	one(uri);
	one(uri + sizeof LIST_PATH - 1);
	free(uri);
	return 0;
}
