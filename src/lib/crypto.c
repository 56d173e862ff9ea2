/* crypto: CSPRNG, SHA-256 and encodings. */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void crypto_random(void *buf, size_t n)
{
	if (n > 0 && RAND_bytes(buf, (int)n) != 1)
		abort();
}

/* OpenSSL 3 looks EVP_sha256() up in its provider store on every EVP_Digest call (a lock and a hash
 * lookup); the profile of an authenticated request showed two of those per request (key checksum, key
 * hash). Fetching the implementation once per process is the documented remedy ("explicit fetching"). */
static const EVP_MD *sha256_md(void)
{
	static EVP_MD *md;
	if (!md && !(md = EVP_MD_fetch(NULL, "SHA256", NULL)))
		abort();
	return md;
}

void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	/* One context per process (no process here runs threads), initialized again for each digest: EVP_Digest
	 * would allocate, set up and free one per call, which the worker's profile showed at 4% of a request. */
	static EVP_MD_CTX *ctx;
	unsigned int len = 0;
	if (!ctx && !(ctx = EVP_MD_CTX_new()))
		abort();
	if (EVP_DigestInit_ex2(ctx, sha256_md(), NULL) != 1 || EVP_DigestUpdate(ctx, data, n) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1)
		abort();
}

void crypto_sha1(const void *data, size_t n, unsigned char out[CRYPTO_SHA1_LEN])
{
	unsigned int len = 0;
	if (EVP_Digest(data, n, out, &len, EVP_sha1(), NULL) != 1)
		abort();
}

void crypto_random_base62(char *out, size_t n)
{
	size_t i = 0;
	unsigned char pool[64];
	while (i < n) {
		crypto_random(pool, sizeof pool);
		for (size_t k = 0; k < sizeof pool && i < n; k++)
			if (pool[k] < 248) /* 248 = 4 * 62: rejection keeps the digits uniform */
				out[i++] = B62[pool[k] % 62];
	}
	out[n] = '\0';
}

void crypto_base62_fixed(uint64_t value, char *out, size_t width)
{
	for (size_t i = width; i > 0; i--) {
		out[i - 1] = B62[value % 62];
		value /= 62;
	}
	out[width] = '\0';
}

int crypto_is_base62(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return 0;
	}
	return 1;
}

void crypto_hex(const unsigned char *in, size_t n, char *out)
{
	static const char H[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = H[in[i] >> 4];
		out[2 * i + 1] = H[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

long crypto_unhex(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	if (n % 2 || n / 2 > outlen)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = unhex_digit(in[2 * i]), lo = unhex_digit(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 in ALPHABET, with '=' padding when PAD. */
static void b64_encode(const char *alphabet, int pad, const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i > 0) {
		uint32_t v = (uint32_t)in[i] << 16 | (n - i == 2 ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		if (n - i == 2)
			out[o++] = alphabet[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

/* Decodes N characters of ALPHABET (padding already removed). Leftover bits must be zero, so that every value
 * has exactly one spelling. */
static long b64_decode(const char *alphabet, const char *in, size_t n, unsigned char *out, size_t outlen)
{
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = in[i] ? strchr(alphabet, in[i]) : NULL;
		if (!p)
			return -1;
		acc = (acc << 6) | (uint32_t)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;
	return (long)o;
}

void crypto_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	b64_encode(B64URL, 0, in, n, out);
}

long crypto_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	return b64_decode(B64URL, in, n, out, outlen);
}

void crypto_b64_encode(const unsigned char *in, size_t n, char *out)
{
	b64_encode(B64STD, 1, in, n, out);
}

long crypto_b64_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	if (n == 0 || n % 4 != 0)
		return -1;
	size_t pad = in[n - 1] == '=' ? (in[n - 2] == '=' ? 2 : 1) : 0;
	return b64_decode(B64STD, in, n - pad, out, outlen);
}

int crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
