/* crypto: random bytes, SHA-256 and the text encodings (hex, base62, base64url) used for ids and keys. */
#ifndef AP_CRYPTO_H
#define AP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

/* Fills BUF with N bytes from the kernel CSPRNG; aborts if it cannot (no safe fallback exists). */
void crypto_random(void *buf, size_t n);
void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
/* SHA-1, only where a protocol demands it (MariaDB's mysql_native_password hash); never for new designs. */
#define CRYPTO_SHA1_LEN 20
void crypto_sha1(const void *data, size_t n, unsigned char out[CRYPTO_SHA1_LEN]);

/* N uniformly random base62 characters ([0-9A-Za-z], no modulo bias) into OUT, NUL-terminated. */
void crypto_random_base62(char *out, size_t n);
/* Writes VALUE as exactly WIDTH base62 digits (most significant first, ASCII-sortable). */
void crypto_base62_fixed(uint64_t value, char *out, size_t width);
int crypto_is_base62(const char *s, size_t n);

/* Lowercase hex of N bytes into OUT (2N+1 bytes). */
void crypto_hex(const unsigned char *in, size_t n, char *out);

/* Hex (either case) of IN (N characters) back into bytes: returns the length, or -1 on an odd length, a
 * character that is not hex, or more than OUTLEN bytes. */
long crypto_unhex(const char *in, size_t n, unsigned char *out, size_t outlen);

/* base64url without padding. encode: OUT needs 4*ceil(N/3)+1 bytes. decode: returns the decoded
 * length, or -1 on any character outside the alphabet, bad length, or more than OUTLEN bytes. */
void crypto_b64url_encode(const unsigned char *in, size_t n, char *out);
long crypto_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen);

/* Standard base64 with '=' padding (RFC 4648 section 4): encode as above; decode takes exactly the padded
 * form and has the same failure rules. */
void crypto_b64_encode(const unsigned char *in, size_t n, char *out);
long crypto_b64_decode(const char *in, size_t n, unsigned char *out, size_t outlen);

/* Constant-time equality of two N-byte buffers: 1 equal, 0 not. */
int crypto_equal(const void *a, const void *b, size_t n);

#endif
