/* routes: the one table of endpoints (method, path, scope, flags, handler) and path matching. */
#ifndef AP_ROUTES_H
#define AP_ROUTES_H

#include "request.h"
#include "scope.h"

#include <stddef.h>

enum route_flags {
	ROUTE_PUBLIC = 1 << 0,      /* no API key */
	ROUTE_BODY = 1 << 1,        /* takes a JSON object body */
	ROUTE_BODY_OPTIONAL = 1 << 2, /* action route: an empty body with no content type is fine */
	ROUTE_MERGE_PATCH = 1 << 3, /* also accepts application/merge-patch+json */
	ROUTE_LIST = 1 << 4,        /* paginated list: limit and cursor */
	ROUTE_AUDITED = 1 << 5,     /* writes an audit_logs row */
	ROUTE_HOOK_BODY = 1 << 6,   /* any JSON value up to 256 KiB (inbound webhooks) */
	ROUTE_MCP = 1 << 7,         /* the MCP endpoint: its handler reads the body (JSON-RPC, batches); no Idempotency-Key */
};

typedef struct route {
	const char *method;
	const char *path;          /* OpenAPI form: /api/v1/agents/{id} */
	const char *id_prefix[REQ_MAX_PATH_PARAMS]; /* shape of each {param}: "agt_"; NULL: any segment */
	enum scope scope;          /* SCOPE_NONE for public routes */
	unsigned flags;
	const char *const *query;  /* allowed query parameters besides limit/cursor, NULL-terminated; may be NULL */
	const char *cursor_prefix; /* ROUTE_LIST: the id prefix cursors decode to */
	int (*handler)(request *r);
	const char *operation_id;  /* equals the operationId in src/api/openapi.json (a unit test checks) */
} route;

extern const route ROUTES[];
extern const int ROUTES_COUNT;

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };

/* Finds the route for METHOD and PATH (exact match: no trailing slash, no empty segment, segments
 * compared literally so an encoded slash never matches). Path parameters go to PARAMS (arena strings).
 * On ROUTE_NO_METHOD, ALLOW receives the comma-separated methods of that path. */
enum route_match routes_match(arena *a, const char *method, const char *path, const route **out,
			      const char **params, int *nparams, char *allow, size_t allowlen);

#endif
