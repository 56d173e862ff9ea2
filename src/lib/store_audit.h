/* store_audit: the audit_logs table (written in the same transaction as the change it records). */
#ifndef AP_STORE_AUDIT_H
#define AP_STORE_AUDIT_H

#include "arena.h"
#include "db.h"

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

#endif
