/* secretbox: AES-256-GCM with a random 96-bit nonce per value (OpenSSL EVP). */
#include "secretbox.h"
#include "crypto.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define STORED_MAX 65536 /* sealed bytes of one stored value */

size_t secretbox_seal(const unsigned char key[32], const char *aad, const void *plain, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	out[0] = SECRETBOX_FORMAT;
	crypto_random(out + 1, 12);
	if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out + 1) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(c, out + 13, &len, plain, (int)n) != 1 || EVP_EncryptFinal_ex(c, out + 13 + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 13 + n) != 1)
		abort(); /* AES-GCM with valid arguments cannot fail */
	EVP_CIPHER_CTX_free(c);
	return n + SECRETBOX_OVERHEAD;
}

long secretbox_open(const unsigned char key[32], const char *aad, const unsigned char *in, size_t n, void *out,
		    size_t outlen)
{
	if (n < SECRETBOX_OVERHEAD || in[0] != SECRETBOX_FORMAT || n - SECRETBOX_OVERHEAD > outlen)
		return -1;
	size_t clen = n - SECRETBOX_OVERHEAD;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0, ok;
	if (!c)
		abort();
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in + 1) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	     EVP_DecryptUpdate(c, out, &len, in + 13, (int)clen) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + 13 + clen)) == 1 &&
	     EVP_DecryptFinal_ex(c, (unsigned char *)out + len, &fin) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? (long)clen : -1;
}

long secretbox_open_stored(const settings *cfg, const char *aad, const char *stored, void *out, size_t outlen)
{
	char *end;
	long version = stored ? strtol(stored, &end, 10) : 0;
	if (!stored || end == stored || *end != ':' || version < 1 || version > 1000000)
		return -1;
	const unsigned char *key = settings_master_key(cfg, (int)version);
	const char *hex = end + 1;
	size_t hl = strlen(hex);
	if (!key || hl / 2 > STORED_MAX)
		return -1;
	unsigned char *sealed = malloc(hl / 2 + 1);
	if (!sealed)
		abort();
	long n = crypto_unhex(hex, hl, sealed, hl / 2 + 1);
	long len = n < 0 ? -1 : secretbox_open(key, aad, sealed, (size_t)n, out, outlen);
	free(sealed);
	return len;
}
