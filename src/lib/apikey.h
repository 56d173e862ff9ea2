/* apikey: the API key format (ap_live_ + 30 random base62 + 6-char checksum), hashing and display prefix. */
#ifndef AP_APIKEY_H
#define AP_APIKEY_H

#include "crypto.h"

#define APIKEY_PREFIX "ap_live_"
#define APIKEY_LEN (8 + 30 + 6)
#define APIKEY_DISPLAY_LEN 12 /* "ap_live_" + 4 random characters, shown in listings */

/* A new key into OUT (APIKEY_LEN + 1 bytes). */
void apikey_generate(char out[APIKEY_LEN + 1]);

/* 1 if KEY (N bytes) has the right prefix, length, alphabet and checksum; 0 otherwise. A mistyped key is
 * refused here, before any lookup. */
int apikey_well_formed(const char *key, size_t n);

/* The two halves of that: the prefix, length and alphabet (cheap), and the checksum of a key of that shape (a
 * SHA-256, which a caller that already knows the key, e.g. by its hash, may skip). */
int apikey_shaped(const char *key, size_t n);
int apikey_checksum_ok(const char *key);

/* SHA-256 of the whole key, the only form that is stored. */
void apikey_hash(const char *key, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);

/* The display prefix of KEY into OUT (APIKEY_DISPLAY_LEN + 1 bytes). */
void apikey_display_prefix(const char *key, char out[APIKEY_DISPLAY_LEN + 1]);

/* A key's generation: a random number in Redis under "apikey:<hex of its hash>", replaced by every change of
 * the key (a revocation). An API worker may keep a key it read from MariaDB only together with the generation
 * it read before that read, and uses it only while Redis still holds that generation (src/api/keycache.h).
 * It expires after a day of no change (a missing generation matches nothing kept, so that only costs a read). */
#define APIKEY_GEN_KEY_LEN (7 + 2 * CRYPTO_SHA256_LEN)
#define APIKEY_GEN_TTL_SECONDS 86400

/* The generation's Redis key for the key whose hash, in lower-case hex, is HASH_HEX. */
void apikey_gen_key(const char *hash_hex, char out[APIKEY_GEN_KEY_LEN + 1]);

/* A new generation: random, in [1, 2^48), so exact as a Lua number. 0 stands for "none". */
long long apikey_gen_new(void);

/* The generation written as S: the decimal digits of a number in [1, 10^15) (no sign, space or leading zero), as
 * the rate-limit script reads it; -1 for anything else. */
long long apikey_gen_parse(const char *s);

struct kv;
/* Gives the key whose hash is HASH_HEX a new generation, after its change is committed: every worker's kept copy
 * stops matching. Returns 0, or -1 if Redis is unreachable (kept copies then live out api_key_cache_seconds). */
int apikey_gen_bump(struct kv *k, const char *hash_hex);

#endif
