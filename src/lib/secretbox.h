/* secretbox: AES-256-GCM encryption of stored secrets under the configured master key. */
#ifndef AP_SECRETBOX_H
#define AP_SECRETBOX_H

#include "settings.h"

#include <stddef.h>

#define SECRETBOX_OVERHEAD (1 + 12 + 16) /* format byte, nonce, tag */
#define SECRETBOX_FORMAT 0x01 /* the first byte of what secretbox_seal writes */

/* Encrypts PLAIN (N bytes) with KEY (32 bytes); writes format byte | random nonce | ciphertext | tag into
 * OUT (N + SECRETBOX_OVERHEAD bytes). AAD binds the ciphertext to its owner (e.g. the agent id), so a
 * value copied to another row does not decrypt. Returns the length written. */
size_t secretbox_seal(const unsigned char key[32], const char *aad, const void *plain, size_t n, unsigned char *out);

/* Decrypts what secretbox_seal wrote. Returns the plaintext length (written to OUT, OUTLEN bytes at most),
 * or -1 if it was tampered with, belongs to another AAD, or was sealed under another key. */
long secretbox_open(const unsigned char key[32], const char *aad, const unsigned char *in, size_t n, void *out,
		    size_t outlen);

/* Opens a stored value of the form "<key version>:<hex of the sealed bytes>" (what the stores select as
 * CONCAT(key_version, ':', HEX(column))) with the master key CFG has for that version (settings_master_key).
 * Returns the plaintext length (written to OUT, at most OUTLEN bytes), or -1 when the form is wrong, no
 * configured key has that version, or it does not open. */
long secretbox_open_stored(const settings *cfg, const char *aad, const char *stored, void *out, size_t outlen);

#endif
