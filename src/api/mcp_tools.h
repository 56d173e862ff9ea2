/* mcp_tools: the tools the MCP endpoint (/mcp) offers: their descriptions (JSON Schema input and output) and
 * their calls, each on the caller's account only. */
#ifndef AP_MCP_TOOLS_H
#define AP_MCP_TOOLS_H

#include "request.h"

typedef struct mcp_tool mcp_tool;

/* The number of tools, and tool I in the order tools/list shows them (0 <= I < mcp_tools_count()). */
int mcp_tools_count(void);
const mcp_tool *mcp_tools_at(int i);
/* The tool named NAME, or NULL. */
const mcp_tool *mcp_tools_find(const char *name);
/* T's name. */
const char *mcp_tools_name(const mcp_tool *t);
/* The index of the tool named NAME, or -1. */
int mcp_tools_index(const char *name);

/* Tool T as tools/list describes it: {name, title, description, inputSchema, outputSchema?, annotations}
 * (a new reference). */
json_t *mcp_tools_describe(const mcp_tool *t);

/* Calls T with ARGS (an object, borrowed) for R's account and key within R's one time limit
 * (mcp_tool_timeout_seconds from the request's start, shared by the calls of a batch: a call that would start
 * after it is a failed result, not run), audits the call (mcp.tool_called: the tool's
 * name and whether it failed, never its arguments) and answers the CallToolResult (a new reference):
 * {content: [{type: text, text}], structuredContent?, isError}. Bad arguments, unknown or foreign ids and
 * upstream failures are results with isError true and a readable text; R's own error state is left as it was.
 * Returns NULL only when the audit row could not be written (logged). */
json_t *mcp_tools_call(request *r, const mcp_tool *t, const json_t *args);

#endif
