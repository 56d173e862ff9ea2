/* auth: bearer API key authentication and the per-key rate limit. */
#ifndef AP_AUTH_H
#define AP_AUTH_H

#include "request.h"

/* Authenticates R's Authorization header against api_keys and counts it against the key's rate limit (as
 * auth_rate_limit). On success fills r->key_id, account_id, scopes and the key's rate limit, and keeps
 * last_used_at (at most one write a minute per key). With the worker's key cache (r->app->keys, see keycache.h)
 * a key read lately costs no MariaDB read: the rate-limit call itself proves it unchanged. Returns 0, or -1 with
 * a 401 (and WWW-Authenticate), 429, 503 or 500 recorded. */
int auth_authenticate(request *r);

/* Counts R (already authenticated) against its key's limit and sets the X-RateLimit-* headers; in the same Redis call, counts R as
 * API usage of its account and key for today (UTC; see usage.h). Returns 0, or -1 with 429
 * (Retry-After) recorded; with Redis down, follows rate_limit_redis_down (open: allow, no headers;
 * closed: 503). */
int auth_rate_limit(request *r, long long rate_limit);

/* Counts COST more requests of R's authenticated key at once (e.g. the extra tool calls of an MCP batch; not
 * API usage), replacing the X-RateLimit-* headers: all allowed, or -1 with 429 (Retry-After: when all of them
 * fit) recorded and nothing counted. 0 when COST < 1. */
int auth_rate_limit_more(request *r, long long cost);

/* The same mechanism for any budget: counts R against BUCKET (e.g. "hook:agt_..." for an agent's inbound
 * webhook) with LIMIT per 60 s; REFUSED is the 429's message. */
int auth_rate_limit_bucket(request *r, const char *bucket, long long limit, const char *refused);

/* 0 if R's key has SCOPE, else -1 with 403 and WWW-Authenticate naming the scope. */
int auth_require_scope(request *r, int scope);

#endif
