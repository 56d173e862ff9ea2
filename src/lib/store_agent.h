/* store_agent: the agents table. Every statement filters on the account. */
#ifndef AP_STORE_AGENT_H
#define AP_STORE_AGENT_H

#include "arena.h"
#include "db.h"

#include <stdint.h>

typedef struct agent_row {
	char *id, *account_id, *name, *type, *status, *schedule, *timezone;
	char *config; /* JSON object text */
	char *created_at, *updated_at, *last_run_at, *next_run_at; /* RFC 3339 or NULL */
	char *hook_hint;       /* last characters of the inbound-hook token, or NULL when there is none */
	char *hook_secret_hex; /* the sealed signing secret as "<key version>:<hex>" (secretbox_open_stored), or NULL when
			       * unsigned */
	int paused;
	int require_approval;
	long approval_timeout_seconds; /* -1: the server's approval_default_timeout_seconds */
} agent_row;

/* The writable fields, for insert and update. NEXT_RUN_MS < 0 stores NULL. */
typedef struct agent_fields {
	const char *name, *type, *schedule, *timezone, *config;
	int require_approval;
	long approval_timeout_seconds; /* -1: NULL (the server's default) */
	int64_t next_run_ms;
} agent_fields;

/* A page of ACCOUNT's live agents, newest first, with ids below BEFORE_ID (NULL: from the newest). */
enum store_result store_agent_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
				   agent_row **rows, int *n);
/* One live agent of ACCOUNT; FOR_UPDATE locks it (inside a transaction). */
enum store_result store_agent_get(db *d, arena *a, const char *account_id, const char *id, int for_update,
				  agent_row *out);
/* Live agents of ACCOUNT. */
enum store_result store_agent_count(db *d, arena *a, const char *account_id, long *n);
/* Inserts a new agent; writes its id into ID_OUT (IDS_MAX_LEN bytes). */
enum store_result store_agent_insert(db *d, arena *a, const char *account_id, const agent_fields *f, char *id_out);
enum store_result store_agent_update(db *d, arena *a, const char *account_id, const char *id, const agent_fields *f);
/* Soft-deletes: the row stays for run history and reports, and is gone from every API read. */
enum store_result store_agent_delete(db *d, arena *a, const char *account_id, const char *id);
enum store_result store_agent_set_paused(db *d, arena *a, const char *account_id, const char *id, int paused);

/* Sets (or replaces) the inbound-hook token hash, its hint and the sealed signing secret (NULL: unsigned). */
enum store_result store_agent_set_hook(db *d, arena *a, const char *account_id, const char *id,
				       const unsigned char hash[32], const char *hint, const unsigned char *secret,
				       size_t secret_len, int key_version);
/* The live agent whose inbound-hook token hashes to HASH (any account: the token is the credential). */
enum store_result store_agent_find_by_hook(db *d, arena *a, const unsigned char hash[32], agent_row *out);
/* After resume: next_run_at from now (NEXT_MS < 0: NULL), so a pause never causes a catch-up run. */
enum store_result store_agent_reschedule(db *d, arena *a, const char *account_id, const char *id, int64_t next_ms);

#endif
