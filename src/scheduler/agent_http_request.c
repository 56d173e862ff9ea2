/* agent_http_request: the http_request agent type: one request through httpc, its status and first 64 KiB kept. */
#include "httpc.h"
#include "runner.h"

#include <stdio.h>
#include <string.h>

#define HTTP_BODY_KEEP (64 * 1024)
#define HTTP_DEFAULT_TIMEOUT_S 10
#define HTTP_MAX_HEADERS 32

/* The URL without its query and fragment (they may carry tokens), for the display message. */
static const char *display_url(arena *a, const char *url)
{
	size_t n = strcspn(url, "?#");
	return arena_strndup(a, url, n);
}

/* Policy: any HTTP response is a successful run (the status is in the output) unless config.fail_on_status
 * is true, in which case a 4xx or 5xx fails the run (the output is still recorded). A refused URL, a timeout
 * or a transport error fails the run. */
int agent_http_request_run(runner_ctx *ctx)
{
	const json_t *c = ctx->config;
	const char *url = json_string_value(json_object_get(c, "url"));
	const json_t *m = json_object_get(c, "method");
	const char *method = json_is_string(m) ? json_string_value(m) : "GET";
	const json_t *b = json_object_get(c, "body");
	const json_t *t = json_object_get(c, "timeout_seconds");
	long timeout_ms = (json_is_integer(t) ? (long)json_integer_value(t) : HTTP_DEFAULT_TIMEOUT_S) * 1000L;
	if (!url)
		return runner_fail(ctx, "config.url is missing");

	const char *headers[HTTP_MAX_HEADERS + 1] = {0};
	int nh = 0;
	const char *name;
	json_t *val;
	json_object_foreach((json_t *)json_object_get(c, "headers"), name, val)
	{
		if (nh == HTTP_MAX_HEADERS || !json_is_string(val))
			return runner_fail(ctx, "config.headers is not valid");
		headers[nh++] = arena_printf(ctx->a, "%s: %s", name, json_string_value(val));
	}

	long left = runner_remaining_ms(ctx);
	if (left <= 0)
		return runner_fail(ctx, "the run exceeded its time limit of %d seconds", ctx->cfg->run_timeout_seconds);
	httpc_request req = {
		.method = method,
		.url = url,
		.headers = headers,
		.body = json_is_string(b) && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0
				? json_string_value(b)
				: NULL,
		.timeout_ms = timeout_ms < left ? timeout_ms : left,
		.max_response_bytes = HTTP_BODY_KEEP,
		.truncate = 1,
		.allow_private = ctx->cfg->allow_private_addresses,
	};
	req.body_len = req.body ? json_string_length(b) : 0;
	httpc_response resp;
	char err[256];
	if (httpc_do(ctx->a, &req, &resp, err, sizeof err) != 0) {
		runner_message_add(ctx, arena_printf(ctx->a, "%s %s failed: %s", method, display_url(ctx->a, url), err),
				   NULL);
		return runner_fail(ctx, "the request failed: %s", err);
	}
	runner_set_output(ctx, json_pack("{s:I, s:o, s:b, s:o?}", "status", (json_int_t)resp.status, "body",
					 runner_text(resp.body, resp.body_len), "truncated", resp.truncated, "content_type",
					 resp.content_type ? runner_text(resp.content_type, strlen(resp.content_type)) : NULL));
	runner_message_add(ctx, arena_printf(ctx->a, "%s %s -> %ld", method, display_url(ctx->a, url), resp.status),
			   NULL);
	if (json_is_true(json_object_get(c, "fail_on_status")) && resp.status >= 400)
		return runner_fail(ctx, "the endpoint answered with HTTP status %ld", resp.status);
	return 0;
}
