/* stdwebhook: Standard Webhooks (standardwebhooks.com) secrets, signatures and verification. */
#include "stdwebhook.h"

#include "crypto.h"
#include "validate.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STDWEBHOOK_MAC_LEN 32
#define STDWEBHOOK_MAX_ID 255
#define STDWEBHOOK_MAX_SIGNATURES 8192
#define STDWEBHOOK_MAX_KEY 256

void stdwebhook_secret_new(char *out, size_t outlen)
{
	unsigned char key[STDWEBHOOK_KEY_BYTES];
	size_t pl = sizeof STDWEBHOOK_SECRET_PREFIX - 1;

	if (outlen < STDWEBHOOK_SECRET_LEN)
		abort();
	crypto_random(key, sizeof key);
	memcpy(out, STDWEBHOOK_SECRET_PREFIX, pl);
	crypto_b64_encode(key, sizeof key, out + pl);
}

long stdwebhook_secret_decode(const char *secret, unsigned char *key, size_t keylen)
{
	size_t pl = sizeof STDWEBHOOK_SECRET_PREFIX - 1;

	if (!secret || strncmp(secret, STDWEBHOOK_SECRET_PREFIX, pl) != 0)
		return -1;
	return crypto_b64_decode(secret + pl, strlen(secret + pl), key, keylen);
}

/* HMAC-SHA256 over ID "." TS "." BODY into MAC. */
static int stdwebhook_mac(const char *secret, const char *id, const char *ts, const char *body, size_t body_len,
			  unsigned char mac[STDWEBHOOK_MAC_LEN])
{
	unsigned char key[STDWEBHOOK_MAX_KEY];
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
			       OSSL_PARAM_construct_end()};
	size_t maclen = 0;

	long kl = stdwebhook_secret_decode(secret, key, sizeof key);
	if (kl < 1)
		return -1;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	int ok = ctx && EVP_MAC_init(ctx, key, (size_t)kl, params) &&
		 EVP_MAC_update(ctx, (const unsigned char *)id, strlen(id)) &&
		 EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
		 EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) &&
		 EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
		 (body_len == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, body_len)) &&
		 EVP_MAC_final(ctx, mac, &maclen, STDWEBHOOK_MAC_LEN) && maclen == STDWEBHOOK_MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	OPENSSL_cleanse(key, sizeof key);
	return ok ? 0 : -1;
}

static int stdwebhook_id_ok(const char *id)
{
	size_t n = id ? strnlen(id, STDWEBHOOK_MAX_ID + 1) : 0;
	return n > 0 && n <= STDWEBHOOK_MAX_ID && validate_header_safe(id, n);
}

int stdwebhook_sign(const char *secret, const char *msg_id, long long timestamp, const char *body, size_t body_len,
		    char *out, size_t outlen)
{
	unsigned char mac[STDWEBHOOK_MAC_LEN];
	char ts[24];

	if (outlen < STDWEBHOOK_SIGNATURE_LEN || !stdwebhook_id_ok(msg_id) || timestamp < 0 || (!body && body_len))
		return -1;
	snprintf(ts, sizeof ts, "%lld", timestamp);
	if (stdwebhook_mac(secret, msg_id, ts, body, body_len, mac) != 0)
		return -1;
	memcpy(out, "v1,", 3);
	crypto_b64_encode(mac, sizeof mac, out + 3);
	return 0;
}

static int stdwebhook_fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

int stdwebhook_verify(const char *secret, const char *msg_id, const char *timestamp, const char *signatures,
		      const char *body, size_t body_len, long long now, long tolerance, char *err, size_t errlen)
{
	unsigned char mac[STDWEBHOOK_MAC_LEN];

	if (!msg_id || !*msg_id || !timestamp || !*timestamp || !signatures || !*signatures)
		return stdwebhook_fail(err, errlen, "missing webhook-id, webhook-timestamp or webhook-signature header");
	if (!stdwebhook_id_ok(msg_id))
		return stdwebhook_fail(err, errlen, "invalid webhook-id header");
	size_t tl = strlen(timestamp);
	if (tl > 15 || strspn(timestamp, "0123456789") != tl)
		return stdwebhook_fail(err, errlen, "invalid webhook-timestamp header");
	long long ts = strtoll(timestamp, NULL, 10);
	if (now < 0 || tolerance < 0 || (ts > now ? ts - now : now - ts) > tolerance)
		return stdwebhook_fail(err, errlen, "webhook-timestamp is too old or too new");
	size_t sl = strnlen(signatures, STDWEBHOOK_MAX_SIGNATURES + 1);
	if (sl > STDWEBHOOK_MAX_SIGNATURES)
		return stdwebhook_fail(err, errlen, "invalid webhook-signature header");
	if (!body && body_len)
		return stdwebhook_fail(err, errlen, "no matching signature");
	if (stdwebhook_mac(secret, msg_id, timestamp, body, body_len, mac) != 0)
		return stdwebhook_fail(err, errlen, "webhook secret is not valid");

	int match = 0;
	for (const char *p = signatures; *p;) {
		size_t n = strcspn(p, " ");
		unsigned char cand[STDWEBHOOK_MAC_LEN + 3];
		if (n > 3 && memcmp(p, "v1,", 3) == 0 &&
		    crypto_b64_decode(p + 3, n - 3, cand, sizeof cand) == STDWEBHOOK_MAC_LEN)
			match |= crypto_equal(cand, mac, STDWEBHOOK_MAC_LEN);
		p += n;
		p += strspn(p, " ");
	}
	return match ? 0 : stdwebhook_fail(err, errlen, "no matching signature");
}
