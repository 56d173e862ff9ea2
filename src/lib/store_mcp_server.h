/* store_mcp_server: the mcp_servers table (external MCP servers of an account and their discovered tools). */
#ifndef AP_STORE_MCP_SERVER_H
#define AP_STORE_MCP_SERVER_H

#include "arena.h"
#include "db.h"

/* One server (strings in the arena; RFC 3339 times or NULL). TOOLS is JSON array text or NULL (never
 * discovered). */
typedef struct mcp_server_row {
	char *id, *account_id, *name, *url, *transport, *credential_id;
	int enabled;
	char *status; /* unchecked | ok | error */
	char *last_error, *tools, *last_checked_at, *created_at, *updated_at;
	long generation;
} mcp_server_row;

/* The writable fields, for insert and update. CREDENTIAL_ID may be NULL. */
typedef struct mcp_server_fields {
	const char *name, *url, *credential_id;
	int enabled;
} mcp_server_fields;

/* A page of at most LIMIT of ACCOUNT_ID's live servers, newest first, ids below BEFORE_ID (NULL: first page). */
enum store_result store_mcp_server_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
					mcp_server_row **rows, int *n);
/* Live server ID of ACCOUNT_ID; FOR_UPDATE locks it (inside a transaction). STORE_NOT_FOUND otherwise. */
enum store_result store_mcp_server_get(db *d, arena *a, const char *account_id, const char *id, int for_update,
				       mcp_server_row *out);
/* Live servers of ACCOUNT_ID (for the quota; lock the account row first to make it hold). */
enum store_result store_mcp_server_count(db *d, arena *a, const char *account_id, long *n);
/* Inserts server ID (ids_new("mcp_")), status unchecked (due for discovery when enabled). */
enum store_result store_mcp_server_insert(db *d, arena *a, const char *account_id, const char *id,
					  const mcp_server_fields *f);
/* Replaces the writable fields; RECHECK 1 also makes it unchecked and due for a new discovery (its last_error
 * cleared; the tools of the last discovery stay until the next one). The caller has found (and locked) it. */
enum store_result store_mcp_server_update(db *d, arena *a, const char *account_id, const char *id,
					  const mcp_server_fields *f, int recheck);
/* Soft-deletes server ID of ACCOUNT_ID; STORE_NOT_FOUND when it is not there. */
enum store_result store_mcp_server_delete(db *d, arena *a, const char *account_id, const char *id);

/* ---- discovery side (src/scheduler/mcpdiscovery.c) ---- */

/* A server to discover, as claimed. */
typedef struct mcp_server_due {
	char *id, *account_id, *url, *credential_id;
	long generation;
} mcp_server_due;

/* Claims up to LIMIT enabled, live, unchecked servers no one else holds, in one transaction (FOR UPDATE SKIP
 * LOCKED), holding them for CLAIM_SECONDS (after a crash another scheduler takes them then), into *ROWS. */
enum store_result store_mcp_server_claim(db *d, arena *a, int limit, int claim_seconds, mcp_server_due **rows,
					 int *n);
/* Records a discovery of server ID made at GENERATION: STATUS ok with TOOLS (JSON array text) or error with
 * LAST_ERROR and TOOLS NULL (the tools of the last good discovery are kept: one transient failure does not
 * wipe them); last_checked_at now; the claim released. When the server changed meanwhile
 * (another generation, deleted) nothing is written and *STALE is 1. */
enum store_result store_mcp_server_discovered(db *d, arena *a, const char *id, long generation, const char *status,
					      const char *last_error, const char *tools, int *stale);

#endif
