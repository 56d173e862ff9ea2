/* scope: scope names, parsing and formatting. */
#include "scope.h"

#include <stdio.h>
#include <string.h>

const char *const SCOPE_NAMES[SCOPE__MAX] = {
	[SCOPE_AGENTS_READ] = "agents:read",
	[SCOPE_AGENTS_WRITE] = "agents:write",
	[SCOPE_RUNS_READ] = "runs:read",
	[SCOPE_CONNECTIONS_READ] = "connections:read",
	[SCOPE_USAGE_READ] = "usage:read",
	[SCOPE_SIGNALS_WRITE] = "signals:write",
	[SCOPE_NOTIFICATIONS_READ] = "notifications:read",
	[SCOPE_NOTIFICATIONS_WRITE] = "notifications:write",
	[SCOPE_WEBHOOKS_READ] = "webhooks:read",
	[SCOPE_WEBHOOKS_WRITE] = "webhooks:write",
	[SCOPE_MCP_READ] = "mcp:read",
	[SCOPE_MCP_WRITE] = "mcp:write",
	[SCOPE_CREDENTIALS_READ] = "credentials:read",
	[SCOPE_CREDENTIALS_WRITE] = "credentials:write",
	[SCOPE_AUDIT_LOGS_READ] = "audit_logs:read",
	[SCOPE_MCP_TOOLS] = "mcp:tools",
};

enum scope scope_from_name(const char *name, size_t n)
{
	for (int i = 0; i < SCOPE__MAX; i++)
		if (strlen(SCOPE_NAMES[i]) == n && memcmp(SCOPE_NAMES[i], name, n) == 0)
			return (enum scope)i;
	return SCOPE_NONE;
}

int scope_parse_list(const char *text, uint32_t *mask, char *bad, size_t badlen)
{
	uint32_t m = 0;
	int count = 0;
	const char *p = text;
	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ' ' && *p != ',' && *p != '\t')
			p++;
		size_t n = (size_t)(p - start);
		count++;
		if (n == 3 && memcmp(start, "all", 3) == 0) {
			m |= SCOPE_ALL_MASK;
			continue;
		}
		enum scope s = scope_from_name(start, n);
		if (s == SCOPE_NONE) {
			snprintf(bad, badlen, "%.*s", (int)(n > 64 ? 64 : n), start);
			return -1;
		}
		m |= 1u << s;
	}
	if (count == 0) {
		snprintf(bad, badlen, "(empty)");
		return -1;
	}
	*mask = m;
	return 0;
}

int scope_format(uint32_t mask, char *out, size_t outlen)
{
	size_t used = 0;
	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (int i = 0; i < SCOPE__MAX; i++) {
		if (!(mask & (1u << i)))
			continue;
		int n = snprintf(out + used, outlen - used, "%s%s", used ? " " : "", SCOPE_NAMES[i]);
		if (n < 0 || (size_t)n >= outlen - used)
			return -1;
		used += (size_t)n;
	}
	return 0;
}
