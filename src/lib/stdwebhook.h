/* stdwebhook: Standard Webhooks (standardwebhooks.com) secrets, signatures and verification. */
#ifndef AP_STDWEBHOOK_H
#define AP_STDWEBHOOK_H

#include <stddef.h>

#define STDWEBHOOK_SECRET_PREFIX "whsec_"
#define STDWEBHOOK_KEY_BYTES 32
/* Room for a new secret or one "v1,<signature>", NUL included. */
#define STDWEBHOOK_SECRET_LEN 64
#define STDWEBHOOK_SIGNATURE_LEN 64
/* The spec's default tolerance between webhook-timestamp and now. */
#define STDWEBHOOK_TOLERANCE 300L

/* A new secret: "whsec_" + standard base64 of STDWEBHOOK_KEY_BYTES random bytes (50 characters) into
 * OUT. OUTLEN must be >= STDWEBHOOK_SECRET_LEN (smaller aborts: a programming error). */
void stdwebhook_secret_new(char *out, size_t outlen);

/* Decodes "whsec_<base64>" (standard alphabet, padding required, canonical) into KEY (at most KEYLEN
 * bytes). Returns the key length (>= 1), or -1 without the prefix, on bad base64 or when too long. */
long stdwebhook_secret_decode(const char *secret, unsigned char *key, size_t keylen);

/* "v1,<base64 of HMAC-SHA256(key, MSG_ID "." TIMESTAMP "." BODY)>" into OUT (>= STDWEBHOOK_SIGNATURE_LEN
 * bytes). MSG_ID must be non-empty, at most 255 bytes, free of CR/LF/NUL. Returns 0, or -1 on a bad
 * secret, id or timestamp (< 0) or a short OUT. */
int stdwebhook_sign(const char *secret, const char *msg_id, long long timestamp, const char *body, size_t body_len,
		    char *out, size_t outlen);

/* Checks the headers webhook-id (MSG_ID), webhook-timestamp (TIMESTAMP, decimal seconds) and
 * webhook-signature (SIGNATURES: space-separated "v1,<base64>" entries, other versions ignored, any
 * match passes, compared in constant time) against BODY, with |NOW - timestamp| <= TOLERANCE.
 * Replay protection (an id seen before) is the caller's. Returns 0, or -1 with a client-safe reason
 * in ERR. */
int stdwebhook_verify(const char *secret, const char *msg_id, const char *timestamp, const char *signatures,
		      const char *body, size_t body_len, long long now, long tolerance, char *err, size_t errlen);

#endif
