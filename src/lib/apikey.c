/* apikey: generation, checksum and hashing of API keys. */
#include "apikey.h"

#include <string.h>

#define RANDOM_LEN 30
#define CHECKSUM_LEN 6

/* Checksum: the first 32 bits of SHA-256(prefix + random part), as 6 base62 digits (62^6 > 2^32). */
static void checksum(const char *key, char out[CHECKSUM_LEN + 1])
{
	unsigned char h[CRYPTO_SHA256_LEN];
	crypto_sha256(key, 8 + RANDOM_LEN, h);
	uint64_t v = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
	crypto_base62_fixed(v, out, CHECKSUM_LEN);
}

void apikey_generate(char out[APIKEY_LEN + 1])
{
	memcpy(out, APIKEY_PREFIX, 8);
	crypto_random_base62(out + 8, RANDOM_LEN);
	checksum(out, out + 8 + RANDOM_LEN);
}

int apikey_shaped(const char *key, size_t n)
{
	return n == APIKEY_LEN && memcmp(key, APIKEY_PREFIX, 8) == 0 && crypto_is_base62(key + 8, n - 8);
}

int apikey_checksum_ok(const char *key)
{
	char sum[CHECKSUM_LEN + 1];
	checksum(key, sum);
	return memcmp(sum, key + 8 + RANDOM_LEN, CHECKSUM_LEN) == 0;
}

int apikey_well_formed(const char *key, size_t n)
{
	return apikey_shaped(key, n) && apikey_checksum_ok(key);
}

void apikey_hash(const char *key, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	crypto_sha256(key, n, out);
}

void apikey_display_prefix(const char *key, char out[APIKEY_DISPLAY_LEN + 1])
{
	memcpy(out, key, APIKEY_DISPLAY_LEN);
	out[APIKEY_DISPLAY_LEN] = '\0';
}
