/* store_credential: the credentials table (sealed secrets agents use) and opening a credential for use. */
#ifndef AP_STORE_CREDENTIAL_H
#define AP_STORE_CREDENTIAL_H

#include "arena.h"
#include "db.h"
#include "settings.h"

#include <jansson.h>
#include <stddef.h>

/* One credential as the API shows it (strings in the arena; RFC 3339 times or NULL). Never the secret. */
typedef struct credential_row {
	char *id, *account_id, *name, *type;
	char *hint; /* last 4 characters of a token or key of 16+ characters, or NULL */
	char *created_at, *last_used_at, *revoked_at;
} credential_row;

/* A page of at most LIMIT of ACCOUNT_ID's credentials (revoked ones included), newest first, ids below
 * BEFORE_ID (NULL: first page), into *ROWS (arena). */
enum store_result store_credential_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
					credential_row **rows, int *n);
/* Credential ID of ACCOUNT_ID; FOR_UPDATE locks it (inside a transaction). STORE_NOT_FOUND otherwise. */
enum store_result store_credential_get(db *d, arena *a, const char *account_id, const char *id, int for_update,
				       credential_row *out);
/* Live (not revoked) credentials of ACCOUNT_ID (for the quota; lock the account row first to make it hold). */
enum store_result store_credential_count(db *d, arena *a, const char *account_id, long *n);
/* At most MAX ids of ACCOUNT_ID's live (not revoked) credentials of TYPE, newest first, into *IDS (arena). */
enum store_result store_credential_live_ids(db *d, arena *a, const char *account_id, const char *type, int max,
					    char ***ids, int *n);
/* Inserts credential ID (made by the caller with ids_new("cred_")) of TYPE with its secret fields FIELDS (a JSON
 * object, validated by the caller), sealed here under the current master key with AAD = ID. HINT may be NULL. */
enum store_result store_credential_insert(db *d, arena *a, const settings *cfg, const char *account_id, const char *id,
					  const char *name, const char *type, const char *hint, const json_t *fields);
/* Marks credential ID of ACCOUNT_ID revoked now. STORE_CONFLICT when it already was, STORE_NOT_FOUND when it is
 * not there. */
enum store_result store_credential_revoke(db *d, arena *a, const char *account_id, const char *id);

/* Opens credential ID of ACCOUNT_ID for use. STORE_OK: *TYPE (a static string such as "smtp") and *FIELDS (a new
 * reference the caller json_decref()s: the type's secret fields as an object — bearer_token {"token"},
 * basic_auth {"username","password"}, api_key {"key","header"} (header always present, default "X-API-Key"),
 * smtp {"host","port"(integer),"username","password","from","tls"}, generic {"fields": {..strings..}});
 * STORE_NOT_FOUND: no such credential in that account; STORE_CONFLICT: it is revoked; else STORE_ERROR /
 * STORE_UNAVAILABLE (also when the value does not open under any configured master key: logged, never the
 * value). Records last_used_at (at most once a minute). */
enum store_result store_credential_use(db *d, arena *a, const settings *cfg, const char *account_id, const char *id,
				       const char **type, json_t **fields);

/* 1 when ID is a live (not revoked) credential of ACCOUNT_ID whose type is TYPE (NULL: any type), 0 when not
 * (absent, another account's, revoked or another type), -1 on a store error. */
int store_credential_check(db *d, arena *a, const char *account_id, const char *id, const char *type);

/* What store_credential_check found, in detail (for the API's distinct errors): STORE_OK with *TYPE (static) and
 * *REVOKED set, STORE_NOT_FOUND, or a store error. */
enum store_result store_credential_state(db *d, arena *a, const char *account_id, const char *id, const char **type,
					 int *revoked);

#endif
