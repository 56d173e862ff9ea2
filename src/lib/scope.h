/* scope: the 16 API key scopes of the reference, as an enum with a parallel name table. */
#ifndef AP_SCOPE_H
#define AP_SCOPE_H

#include <stddef.h>
#include <stdint.h>

/* The order is the bit order of api_keys.scopes (a MariaDB SET with the same members in the same order). */
enum scope {
	SCOPE_NONE = -1,
	SCOPE_AGENTS_READ,
	SCOPE_AGENTS_WRITE,
	SCOPE_RUNS_READ,
	SCOPE_CONNECTIONS_READ,
	SCOPE_USAGE_READ,
	SCOPE_SIGNALS_WRITE,
	SCOPE_NOTIFICATIONS_READ,
	SCOPE_NOTIFICATIONS_WRITE,
	SCOPE_WEBHOOKS_READ,
	SCOPE_WEBHOOKS_WRITE,
	SCOPE_MCP_READ,
	SCOPE_MCP_WRITE,
	SCOPE_CREDENTIALS_READ,
	SCOPE_CREDENTIALS_WRITE,
	SCOPE_AUDIT_LOGS_READ,
	SCOPE_MCP_TOOLS,
	SCOPE__MAX
};

#define SCOPE_ALL_MASK ((uint32_t)((1u << SCOPE__MAX) - 1))

extern const char *const SCOPE_NAMES[SCOPE__MAX];

/* The scope named NAME (N bytes), or SCOPE_NONE. */
enum scope scope_from_name(const char *name, size_t n);

/* Parses a space- or comma-separated list (or "all") into a bit mask. Returns 0, or -1 and copies
 * the first unknown name into BAD (BADLEN bytes). An empty list is an error too. */
int scope_parse_list(const char *text, uint32_t *mask, char *bad, size_t badlen);

/* Space-separated names of MASK into OUT; returns 0, or -1 if OUTLEN is too small. */
int scope_format(uint32_t mask, char *out, size_t outlen);

#endif
