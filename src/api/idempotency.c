/* idempotency: claims, replays and records answers for Idempotency-Key. */
#include "idempotency.h"
#include "crypto.h"
#include "log.h"
#include "secretbox.h"
#include "store_idempotency.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MAX 255
#define SEALED_PREFIX "sb1:"
#define SEALED_PREFIX_LEN (sizeof SEALED_PREFIX - 1)

/* Stored answers can hold what is shown only once (an inbound webhook URL, a signing secret), so they are
 * kept sealed under the master key, bound to their (API key, Idempotency-Key) row: "sb1:" + base64url. */
static const char *row_aad(request *r)
{
	return arena_printf(r->a, "idempotency %s %s", r->key_id, r->idempotency_key);
}

static char *seal_body(request *r, const char *body)
{
	size_t n = strlen(body);
	unsigned char *sealed = arena_alloc(r->a, n + SECRETBOX_OVERHEAD);
	size_t sl = secretbox_seal(r->app->cfg->master_key, row_aad(r), body, n, sealed);
	char *out = arena_alloc(r->a, SEALED_PREFIX_LEN + 4 * ((sl + 2) / 3) + 1);
	memcpy(out, SEALED_PREFIX, SEALED_PREFIX_LEN);
	crypto_b64url_encode(sealed, sl, out + SEALED_PREFIX_LEN);
	return out;
}

/* The body seal_body stored under master key VERSION (0: not recorded, the current key), or NULL when it does not
 * open (no configured key of that version, tampering). */
static char *open_body(request *r, const char *stored, int version, size_t *len)
{
	const unsigned char *key = version ? settings_master_key(r->app->cfg, version) : r->app->cfg->master_key;
	if (strncmp(stored, SEALED_PREFIX, SEALED_PREFIX_LEN) != 0)
		return NULL;
	const char *b = stored + SEALED_PREFIX_LEN;
	size_t bl = strlen(b), cap = bl / 4 * 3 + 3;
	unsigned char *sealed = arena_alloc(r->a, cap);
	long sl = crypto_b64url_decode(b, bl, sealed, cap);
	if (sl < (long)SECRETBOX_OVERHEAD || !key)
		return NULL;
	char *plain = arena_alloc(r->a, (size_t)sl - SECRETBOX_OVERHEAD + 1);
	long pl = secretbox_open(key, row_aad(r), sealed, (size_t)sl, plain,
				 (size_t)sl - SECRETBOX_OVERHEAD);
	if (pl < 0)
		return NULL;
	plain[pl] = '\0';
	*len = (size_t)pl;
	return plain;
}

/* The request as far as "the same request" goes: method, path and exact body bytes. */
static void request_hash(const request *r, unsigned char out[32])
{
	size_t ml = strlen(r->method), pl = strlen(r->path);
	size_t n = ml + 1 + pl + 1 + r->body_len;
	char *buf = arena_alloc(r->a, n);
	memcpy(buf, r->method, ml);
	buf[ml] = ' ';
	memcpy(buf + ml + 1, r->path, pl);
	buf[ml + 1 + pl] = '\n';
	if (r->body_len)
		memcpy(buf + ml + pl + 2, r->body, r->body_len);
	crypto_sha256(buf, n, out);
}

int idempotency_begin(request *r)
{
	const char *k = r->idempotency_key;
	size_t n = strlen(k);
	int ok = n >= 1 && n <= KEY_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = k[i] > 0x20 && k[i] < 0x7f;
	if (!ok) {
		req_fail_param(r, ERR_QUERY_INVALID, "Idempotency-Key",
			       "Idempotency-Key must be 1 to 255 visible ASCII characters");
		return 1;
	}
	unsigned char hash[32];
	request_hash(r, hash);
	idem_row prev;
	enum store_result res = store_idempotency_claim(r->app->db, r->a, r->key_id, k, hash, &prev);
	if (res == STORE_OK)
		return 0;
	if (res != STORE_CONFLICT) {
		req_fail_store(r, res, NULL);
		return 1;
	}
	if (!crypto_equal(prev.request_hash, hash, 32)) {
		req_fail_param(r, ERR_IDEMPOTENCY_KEY_REUSED, "Idempotency-Key",
			       "this Idempotency-Key was used with a different request");
		return 1;
	}
	if (prev.status == 0) {
		req_fail_param(r, ERR_IDEMPOTENCY_KEY_IN_USE, "Idempotency-Key",
			       "a request with this Idempotency-Key is still in progress; retry shortly");
		return 1;
	}
	if (prev.response) {
		size_t len = 0;
		char *body = open_body(r, prev.response, prev.response_key_version, &len);
		if (!body) {
			log_error("request %s: the stored answer of an Idempotency-Key does not open under its master key version",
				  r->request_id);
			req_fail(r, ERR_INTERNAL, "the stored answer for this Idempotency-Key cannot be read");
			return 1;
		}
		r->raw_out = body;
		r->raw_out_len = len;
	}
	r->status = prev.status;
	if (prev.location)
		req_header(r, "Location", prev.location);
	req_header(r, "Idempotent-Replayed", "true");
	return 1;
}

void idempotency_end(request *r)
{
	req_finalize(r);
	db *d = r->app->db;
	enum store_result res;
	if (r->status >= 500 || r->status == 429) {
		res = store_idempotency_release(d, r->a, r->key_id, r->idempotency_key);
	} else {
		const char *location = NULL;
		for (int i = 0; i < r->nhdr; i++)
			if (strcmp(r->hdr[i].name, "Location") == 0)
				location = r->hdr[i].value;
		size_t blen;
		const char *body = req_body_text(r, &blen);
		const char *stored = body ? seal_body(r, body) : NULL;
		res = store_idempotency_complete(d, r->a, r->key_id, r->idempotency_key, r->status, location, stored,
						 r->app->cfg->master_key_version);
	}
	if (res != STORE_OK)
		log_error("request %s: could not record the Idempotency-Key outcome", r->request_id);
}
