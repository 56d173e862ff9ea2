/* store_audit: the audit_logs table (written in the same transaction as the change it records). */
#ifndef AP_STORE_AUDIT_H
#define AP_STORE_AUDIT_H

#include "arena.h"
#include "db.h"

#include <stdint.h>

typedef struct audit_entry {
	const char *account_id;
	const char *action;      /* "agent.created", "api_key.revoked", ... */
	const char *actor;       /* API key id, or "cli" */
	const char *target_type; /* "agent", "api_key", ... */
	const char *target_id;
	const char *ip;          /* may be NULL */
	const char *request_id;  /* may be NULL */
	const char *changes;     /* JSON object text, may be NULL; never a secret */
} audit_entry;

enum store_result store_audit_insert(db *d, arena *a, const audit_entry *e);

/* One row as the API lists it (strings in the arena; ip, request_id and changes may be NULL). */
typedef struct audit_row {
	char *id, *action, *actor, *target_type, *target_id, *ip, *request_id, *changes, *created_at;
} audit_row;

/* What a listing keeps: each string filter is an exact match (NULL: any); SINCE_MS / UNTIL_MS (-1: none)
 * keep entries created at or after SINCE_MS and strictly before UNTIL_MS; BEFORE_ID (NULL: first page) is
 * the keyset cursor. */
typedef struct audit_filter {
	const char *action, *actor, *target_type, *target_id;
	int64_t since_ms, until_ms;
	const char *before_id;
} audit_filter;

/* A page of at most LIMIT of ACCOUNT_ID's entries matching F, newest first, into *ROWS (arena). Every
 * filter combination is one index range scan: the time bounds and the cursor become bounds on the
 * time-sortable id. Returns STORE_OK, or the failure. */
enum store_result store_audit_list(db *d, arena *a, const char *account_id, const audit_filter *f, int limit,
				   audit_row **rows, int *n);

/* The smallest audit id created in millisecond MS (0 <= MS < 62^9) into OUT (IDS_MAX_LEN bytes): every id
 * made at MS or later sorts at or after it, every earlier one before it. */
void store_audit_id_floor(int64_t ms, char *out);

#endif
