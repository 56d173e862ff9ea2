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

/* SHA-256 of the whole key, the only form that is stored. */
void apikey_hash(const char *key, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);

/* The display prefix of KEY into OUT (APIKEY_DISPLAY_LEN + 1 bytes). */
void apikey_display_prefix(const char *key, char out[APIKEY_DISPLAY_LEN + 1]);

#endif
