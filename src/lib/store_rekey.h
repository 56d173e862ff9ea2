/* store_rekey: every value sealed under the master key, re-sealed under the current one (rotate-master-key). */
#ifndef AP_STORE_REKEY_H
#define AP_STORE_REKEY_H

#include "arena.h"
#include "db.h"
#include "settings.h"

/* The sealed columns, each with the key version its rows record. A new sealed column must be added here, or
 * rotate-master-key leaves it under the old key. */
enum rekey_kind {
	REKEY_CREDENTIAL,              /* credentials.secret_enc (secret_key_version) */
	REKEY_AGENT_HOOK_SECRET,       /* agents.hook_secret_enc (hook_secret_key_version) */
	REKEY_WEBHOOK_SECRET,          /* webhook_endpoints.secret_enc (secret_key_version) */
	REKEY_WEBHOOK_PREVIOUS_SECRET, /* webhook_endpoints.previous_secret_enc (previous_secret_key_version) */
	REKEY_IDEMPOTENT_RESPONSE,     /* idempotency_keys.response, "sb1:" text (response_key_version) */
	REKEY__MAX
};
extern const char *const REKEY_KIND_NAMES[REKEY__MAX];

/* How many values of KIND are not recorded under CFG's master_key_version. */
enum store_result store_rekey_pending(db *d, arena *a, const settings *cfg, enum rekey_kind kind, long *n);

/* Where a pass over one kind has got to (keyset order); zero it to start. */
typedef struct rekey_cursor {
	char key[2][300]; /* the last row's primary key (two parts for idempotency_keys) */
	int more;         /* the last batch was full: call again */
} rekey_cursor;

/* Re-seals, in one transaction, the next LIMIT values of KIND after CUR recorded under another key version than
 * CFG's master_key_version: each is opened with the key of its recorded version (settings_master_key; a value with
 * no recorded version, from before versions were recorded, with either configured key) and sealed again under
 * master_key, with the same AAD. *DONE gets how many were re-sealed, *SKIPPED how many were not in the sealed
 * format at all (nothing can open those: left alone, logged). STORE_ERROR with *FAILED_ID (arena) set when a
 * value does not open: nothing of the batch is changed then. Interrupted or repeated, a new pass simply
 * continues: values already re-sealed no longer match. */
enum store_result store_rekey_batch(db *d, arena *a, const settings *cfg, enum rekey_kind kind, rekey_cursor *cur,
				    int limit, int *done, int *skipped, const char **failed_id);

#endif
