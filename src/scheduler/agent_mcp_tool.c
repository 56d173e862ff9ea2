/* agent_mcp_tool: the mcp_tool agent type: one tools/call on an external MCP server of the run's account. */
#include "mcpclient.h"
#include "runner.h"
#include "store_credential.h"
#include "store_mcp_server.h"

#include <stdio.h>
#include <string.h>

#define SUMMARY_MAX 300
/* Content blocks written as display messages; the rest are summed up in one more message (the output keeps
 * them all): a 1 MiB answer can hold tens of thousands of tiny blocks, each an insert in one transaction. */
#define MESSAGES_MAX 50

/* A display line for one content block that is not text (images, audio and resources are summarized). */
static const char *summarize(runner_ctx *ctx, const json_t *item)
{
	const char *type = json_string_value(json_object_get(item, "type"));
	const char *mime = json_string_value(json_object_get(item, "mimeType"));
	if (!type)
		return "[content without a type]";
	if (strcmp(type, "image") == 0 || strcmp(type, "audio") == 0) {
		const char *data = json_string_value(json_object_get(item, "data"));
		return arena_printf(ctx->a, "[%s%s%.100s, about %zu bytes]", type, mime ? ": " : "", mime ? mime : "",
				    data ? strlen(data) / 4 * 3 : 0);
	}
	if (strcmp(type, "resource_link") == 0 || strcmp(type, "resource") == 0) {
		const json_t *res = strcmp(type, "resource") == 0 ? json_object_get(item, "resource") : item;
		const char *uri = json_string_value(json_object_get(res, "uri"));
		return arena_printf(ctx->a, "[%s: %.500s]", strcmp(type, "resource") == 0 ? "resource" : "resource link",
				    uri ? uri : "(no uri)");
	}
	return arena_printf(ctx->a, "[content of type %.40s]", type);
}

/* The first text block of RESULT's content, cut to SUMMARY_MAX bytes on a character boundary, or "". */
static const char *first_text(runner_ctx *ctx, const json_t *result)
{
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(result, "content"), i, item)
	{
		const char *type = json_string_value(json_object_get(item, "type"));
		const char *text = json_string_value(json_object_get(item, "text"));
		if (!type || strcmp(type, "text") != 0 || !text)
			continue;
		size_t n = strlen(text);
		if (n > SUMMARY_MAX) {
			n = SUMMARY_MAX;
			while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
				n--;
		}
		return arena_strndup(ctx->a, text, n);
	}
	return "";
}

/* The MCP server of the config, checked again at run time: it must still exist in the run's account and be
 * enabled; *TOKEN gets its credential's bearer token (NULL without one). 0 or -1 with the run failed. */
static int load_server(runner_ctx *ctx, const char *id, mcp_server_row *s, const char **token)
{
	*token = NULL;
	enum store_result res = store_mcp_server_get(ctx->db, ctx->a, ctx->run->account_id, id, 0, s);
	if (res == STORE_NOT_FOUND)
		return runner_fail(ctx, "the MCP server %s no longer exists", id);
	if (res != STORE_OK)
		return runner_fail(ctx, "the MCP server could not be loaded (database unavailable)");
	if (!s->enabled)
		return runner_fail(ctx, "the MCP server \"%s\" is disabled", s->name);
	if (!s->credential_id)
		return 0;
	const char *type = NULL;
	json_t *fields = NULL;
	res = store_credential_use(ctx->db, ctx->a, ctx->cfg, ctx->run->account_id, s->credential_id, &type, &fields);
	if (res == STORE_NOT_FOUND)
		return runner_fail(ctx, "the credential of the MCP server \"%s\" no longer exists", s->name);
	if (res == STORE_CONFLICT)
		return runner_fail(ctx, "the credential of the MCP server \"%s\" was revoked", s->name);
	if (res != STORE_OK)
		return runner_fail(ctx, "the credential of the MCP server could not be loaded (database unavailable)");
	runner_keep(ctx, fields);
	const char *t = json_string_value(json_object_get(fields, "token"));
	if (strcmp(type, "bearer_token") != 0 || !t)
		return runner_fail(ctx, "the credential of the MCP server \"%s\" is not a bearer_token credential", s->name);
	*token = t;
	return 0;
}

/* Policy: the result's content becomes display messages (text as text, other blocks summarized; the first
 * MESSAGES_MAX blocks, then one message counting the rest) and the output
 * {mcp_server_id, tool, content, structured_content?, is_error}; an isError result fails the run with its first
 * text, and so does any transport or protocol error. */
int agent_mcp_tool_run(runner_ctx *ctx)
{
	const json_t *c = ctx->config;
	const char *server_id = json_string_value(json_object_get(c, "mcp_server_id"));
	const char *tool = json_string_value(json_object_get(c, "tool"));
	const json_t *args = json_object_get(c, "arguments");
	if (!server_id || !tool)
		return runner_fail(ctx, "config.mcp_server_id and config.tool are required");
	mcp_server_row s;
	const char *token;
	if (load_server(ctx, server_id, &s, &token) != 0)
		return -1;

	long left = runner_remaining_ms(ctx);
	if (left <= 0)
		return runner_fail(ctx, "the run exceeded its time limit of %d seconds", ctx->cfg->run_timeout_seconds);
	mcpclient_options o = {.url = s.url, .bearer_token = token, .allow_private = ctx->cfg->allow_private_addresses,
			       .timeout_ms = left};
	mcpclient *mc = mcpclient_new(ctx->a, &o);
	json_t *result = NULL;
	char err[600] = "";
	int rc = mcpclient_call_tool(mc, tool, json_is_object(args) ? args : NULL, &result, err, sizeof err);
	mcpclient_close(mc);
	if (rc != 0) {
		runner_message_add(ctx, arena_printf(ctx->a, "Calling %s on \"%s\" failed: %s", tool, s.name, err), NULL);
		return runner_fail(ctx, "the MCP tool %s on \"%s\" failed: %s", tool, s.name, err);
	}
	runner_keep(ctx, result);

	size_t i;
	json_t *item;
	const json_t *content = json_object_get(result, "content");
	json_array_foreach(content, i, item)
	{
		if (i == MESSAGES_MAX)
			break;
		const char *type = json_string_value(json_object_get(item, "type"));
		const char *text = json_string_value(json_object_get(item, "text"));
		runner_message_add(ctx, type && strcmp(type, "text") == 0 && text ? text : summarize(ctx, item), NULL);
	}
	if (json_array_size(content) > MESSAGES_MAX)
		runner_message_add(ctx,
				   arena_printf(ctx->a, "… and %zu more content blocks (all of them are in the run's output)",
						json_array_size(content) - MESSAGES_MAX),
				   NULL);
	if (json_array_size(content) == 0)
		runner_message_add(ctx, arena_printf(ctx->a, "%s returned no content", tool), NULL);
	int is_error = json_is_true(json_object_get(result, "isError"));
	const json_t *structured = json_object_get(result, "structuredContent");
	runner_set_output(ctx, json_pack("{s:s, s:s, s:O, s:O?, s:b}", "mcp_server_id", s.id, "tool", tool, "content",
					 content, "structured_content", structured, "is_error", is_error));
	if (is_error) {
		const char *why = first_text(ctx, result);
		return runner_fail(ctx, "the MCP tool %s reported an error%s%s", tool, why[0] ? ": " : "", why);
	}
	return 0;
}
