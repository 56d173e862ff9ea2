/* idempotency: claims, replays and records answers for Idempotency-Key. */
#include "idempotency.h"
#include "crypto.h"
#include "log.h"
#include "store_idempotency.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MAX 255

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
	r->status = prev.status;
	if (prev.response) {
		r->raw_out = prev.response;
		r->raw_out_len = strlen(prev.response);
	}
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
		char *body = r->out ? json_dumps(r->out, JSON_COMPACT) : NULL;
		res = store_idempotency_complete(d, r->a, r->key_id, r->idempotency_key, r->status, location, body);
		free(body);
	}
	if (res != STORE_OK)
		log_error("request %s: could not record the Idempotency-Key outcome", r->request_id);
}
