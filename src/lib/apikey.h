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

#endif
