/* store_idempotency: the idempotency_keys table (Idempotency-Key per API key, kept 24 hours). */
#ifndef AP_STORE_IDEMPOTENCY_H
#define AP_STORE_IDEMPOTENCY_H

#include "arena.h"
#include "db.h"

typedef struct idem_row {
	unsigned char request_hash[32];
	int status;        /* 0 while the first request is still running */
	char *location;    /* Location of the stored answer, or NULL */
	char *response;    /* the stored body as the caller wrote it (idempotency.c: sealed), or NULL */
	int response_key_version; /* the master key version it was sealed under; 0 when not recorded */
} idem_row;

/* Claims (API_KEY_ID, KEY) for a request whose body and target hash to HASH. STORE_OK: claimed, go ahead.
 * STORE_CONFLICT: a live entry exists and is in EXISTING (an entry older than 24 h, or a claim left without
 * an answer for 5 minutes, is replaced, not returned). Autocommitted: concurrent requests see the claim at
 * once. */
enum store_result store_idempotency_claim(db *d, arena *a, const char *api_key_id, const char *key,
					  const unsigned char hash[32], idem_row *existing);
/* Stores the final answer of a claimed key, sealed under master key version KEY_VERSION. */
enum store_result store_idempotency_complete(db *d, arena *a, const char *api_key_id, const char *key, int status,
					     const char *location, const char *response, int key_version);
/* Drops a claim (the answer was a 5xx or 429: a retry must run again). */
enum store_result store_idempotency_release(db *d, arena *a, const char *api_key_id, const char *key);

/* Deletes up to LIMIT entries older than 24 hours; *N gets how many. */
enum store_result store_idempotency_purge(db *d, arena *a, int limit, long *n);

#endif
