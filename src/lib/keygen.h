/* keygen: an API key's generation in Redis, which lets an API worker keep keys it read (src/api/keycache.h). */
#ifndef AP_KEYGEN_H
#define AP_KEYGEN_H

#include "crypto.h"
#include "kv.h"

/* A key's generation: a random number in Redis under "apikey:<hex of its hash>", replaced by every change of
 * the key (a revocation). An API worker may keep a key it read from MariaDB only together with the generation
 * it read before that read, and uses it only while Redis still holds that generation (src/api/keycache.h).
 * It expires after a day of no change (a missing generation matches nothing kept, so that only costs a read). */
#define KEYGEN_KEY_LEN (7 + 2 * CRYPTO_SHA256_LEN)
#define KEYGEN_TTL_SECONDS 86400

/* The generation's Redis key for the key whose hash, in lower-case hex, is HASH_HEX. */
void keygen_key(const char *hash_hex, char out[KEYGEN_KEY_LEN + 1]);

/* A new generation: random, in [1, 2^48), so exact as a Lua number. 0 stands for "none". */
long long keygen_new(void);

/* The generation written as S: the decimal digits of a number in [1, 10^15) (no sign, space or leading zero), as
 * the rate-limit script reads it; -1 for anything else. */
long long keygen_parse(const char *s);

/* Gives the key whose hash is HASH_HEX a new generation, after its change is committed: every worker's kept copy
 * stops matching. Returns 0, or -1 if Redis is unreachable (kept copies then live out api_key_cache_seconds). */
int keygen_bump(kv *k, const char *hash_hex);

#endif
