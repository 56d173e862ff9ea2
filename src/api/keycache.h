/* keycache: the API keys one worker process read lately, so that authenticating a request costs no MariaDB read.
 *
 * An entry is used only while all of these hold:
 *  - it is younger than api_key_cache_seconds (the bound for a change made behind the platform's back, e.g. an
 *    operator's UPDATE of api_keys in SQL);
 *  - the worker's Redis connection is still the one that supplied its generation (kv_epoch): after any reconnect
 *    (a Redis restart, perhaps from an older snapshot) every entry is read again;
 *  - Redis still holds the generation that was read *before* the entry's row was read (keygen.h; never one that
 *    the reading request created itself, which could have replaced a revocation's lost in between). The
 *    request's rate-limit script checks that atomically and counts nothing when it fails.
 * A revocation commits in MariaDB, then replaces the key's generation (agentplatform-admin key revoke), so the
 * very next request naming the key, on any worker, fails the check and reads MariaDB. Expiry is decided on this
 * host's clock from the entry's expires_at, as for a key read from MariaDB.
 *
 * The table is direct-mapped on the key hash (uniform: SHA-256): a collision replaces the older entry. */
#ifndef AP_KEYCACHE_H
#define AP_KEYCACHE_H

#include "crypto.h"
#include "ids.h"

#include <stdint.h>

#define KEYCACHE_SLOTS 512

typedef struct keycache_entry {
	unsigned char hash[CRYPTO_SHA256_LEN];
	char id[IDS_MAX_LEN], account_id[IDS_MAX_LEN];
	uint32_t scopes;
	long long rate_limit;
	int64_t expires_ms;  /* 0: never */
	int64_t last_used_ms; /* last_used_at as read, or as this worker last wrote it */
	long long gen;       /* the key's generation, read before its row */
	unsigned epoch;      /* kv_epoch of the connection the generation came from */
	int64_t loaded_ms;   /* when the row was read; 0: an empty slot */
} keycache_entry;

typedef struct keycache {
	int64_t ttl_ms;
	keycache_entry slot[KEYCACHE_SLOTS];
} keycache;

/* A new empty cache keeping entries for TTL_SECONDS (> 0); free with free(). Out of memory aborts. */
keycache *keycache_new(int ttl_seconds);

/* The entry for HASH if it is younger than the TTL at NOW_MS and came through connection EPOCH, else NULL. */
keycache_entry *keycache_find(keycache *c, const unsigned char hash[CRYPTO_SHA256_LEN], int64_t now_ms,
			      unsigned epoch);

/* Stores a copy of E (its hash names the slot). */
void keycache_put(keycache *c, const keycache_entry *e);

/* Forgets the entry for HASH, if any. */
void keycache_drop(keycache *c, const unsigned char hash[CRYPTO_SHA256_LEN]);

#endif
