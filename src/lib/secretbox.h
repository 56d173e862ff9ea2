/* secretbox: AES-256-GCM encryption of stored secrets under the configured master key. */
#ifndef AP_SECRETBOX_H
#define AP_SECRETBOX_H

#include <stddef.h>

#define SECRETBOX_OVERHEAD (1 + 12 + 16) /* format byte, nonce, tag */

/* Encrypts PLAIN (N bytes) with KEY (32 bytes); writes format byte | random nonce | ciphertext | tag into
 * OUT (N + SECRETBOX_OVERHEAD bytes). AAD binds the ciphertext to its owner (e.g. the agent id), so a
 * value copied to another row does not decrypt. Returns the length written. */
size_t secretbox_seal(const unsigned char key[32], const char *aad, const void *plain, size_t n, unsigned char *out);

/* Decrypts what secretbox_seal wrote. Returns the plaintext length (written to OUT, OUTLEN bytes at most),
 * or -1 if it was tampered with, belongs to another AAD, or was sealed under another key. */
long secretbox_open(const unsigned char key[32], const char *aad, const unsigned char *in, size_t n, void *out,
		    size_t outlen);

#endif
