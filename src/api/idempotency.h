/* idempotency: Idempotency-Key on POST requests (per API key, 24 hours), as DESIGN.md describes. */
#ifndef AP_IDEMPOTENCY_H
#define AP_IDEMPOTENCY_H

#include "request.h"

/* Before the handler. Returns 0 when the handler should run (the key is now claimed), or 1 when the answer
 * is already set: the stored first answer (same body), 409 idempotency_key_in_use (first still running),
 * 422 idempotency_key_reused (different body), 400 for a malformed key, or a 5xx. */
int idempotency_begin(request *r);

/* After the handler of a claimed key: stores a 2xx or 4xx answer, releases the claim on 5xx and 429. */
void idempotency_end(request *r);

#endif
