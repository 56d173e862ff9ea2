/* store_apikey: the api_keys table (hashes only; the key itself is never stored). */
#ifndef AP_STORE_APIKEY_H
#define AP_STORE_APIKEY_H

#include "arena.h"
#include "crypto.h"
#include "db.h"

#include <stdint.h>

typedef struct apikey_row {
	char *id, *account_id, *name, *prefix;
	char *created_at, *expires_at, *last_used_at, *revoked_at; /* RFC 3339 or NULL */
	uint32_t scopes;
	long long rate_limit;
	int64_t expires_ms, last_used_ms; /* the same in ms since the epoch; 0: none */
	int expired;    /* expires_at has passed (this host's clock) */
	char *hash_hex; /* store_apikey_revoke only: the key's SHA-256 in lower-case hex */
} apikey_row;

/* last_used_at is written at most once in this long per key. */
#define STORE_APIKEY_TOUCH_MS 60000

/* Inserts a key. EXPIRES_DAYS < 0 means it never expires. Writes the new id into ID_OUT. */
enum store_result store_apikey_create(db *d, arena *a, const char *account_id, const char *name,
				      const char *prefix, const unsigned char hash[CRYPTO_SHA256_LEN],
				      uint32_t scopes, long long rate_limit, int expires_days, char *id_out);

/* The key whose SHA-256 is HASH (revoked and expired ones too: the caller tells them apart). */
enum store_result store_apikey_find(db *d, arena *a, const unsigned char hash[CRYPTO_SHA256_LEN],
				    apikey_row *out);

/* Sets last_used_at to now unless it was set within the last STORE_APIKEY_TOUCH_MS. */
enum store_result store_apikey_touch(db *d, arena *a, const char *id);

/* Keys of ACCOUNT_ID (NULL: all accounts), oldest first. */
enum store_result store_apikey_list(db *d, arena *a, const char *account_id, apikey_row **rows, int *n);

/* Revokes key ID (STORE_NOT_FOUND if unknown, STORE_CONFLICT if already revoked); OUT gets the row, with hash_hex.
 * The caller commits, then bumps the key's generation (keygen_bump). */
enum store_result store_apikey_revoke(db *d, arena *a, const char *id, apikey_row *out);

#endif
