/* ratelimit: per-API-key GCRA limit (N requests per 60 s) in one Redis Lua script. */
#ifndef AP_RATELIMIT_H
#define AP_RATELIMIT_H

#include "kv.h"

#define RATELIMIT_PERIOD_SECONDS 60

typedef struct ratelimit {
	char sha[41]; /* SHA-1 of the script, for EVALSHA */
} ratelimit;

typedef struct ratelimit_result {
	int allowed;
	long long limit;
	long long remaining;
	long long reset;       /* epoch seconds when the full budget is back */
	long long retry_after; /* seconds (>= 1) when refused, else 0 */
} ratelimit_result;

extern const char RATELIMIT_SCRIPT[];

void ratelimit_init(ratelimit *rl);

/* Counts one request of KEY_ID against LIMIT per 60 s, atomically on Redis's clock (exact across all
 * processes and hosts). Returns 0 with OUT filled, or -1 if Redis is unreachable. */
int ratelimit_check(const ratelimit *rl, kv *k, const char *key_id, long long limit, ratelimit_result *out);

/* The same for COST requests at once (at least 1): all allowed, or refused with nothing counted and
 * retry_after the wait until all of them fit (a COST above LIMIT never fits). */
int ratelimit_check_cost(const ratelimit *rl, kv *k, const char *key_id, long long limit, long long cost,
			 ratelimit_result *out);

/* The generation check of one call (see keygen.h): the call counts only if KEY holds EXPECT (0: KEY must not
 * exist, and is then created as FRESH for TTL_SECONDS); otherwise it counts nothing and HELD is what KEY holds
 * (0: nothing; -1: a value that is not a generation). */
typedef struct ratelimit_gen {
	const char *key;
	long long expect, fresh;
	int ttl_seconds;
	long long held;
} ratelimit_gen;

/* The same (one request), also counting the request (allowed or refused) in field USAGE_FIELD of hash USAGE_HASH and adding
 * USAGE_HASH to the set USAGE_SET, in the same script call (see usage.h); with GEN (optional), only if the generation
 * check passes. A LIMIT below 1 refuses without calling Redis, so nothing is counted or checked then. Returns 0,
 * 1 if the generation check failed (nothing counted; GEN->held set), or -1 if Redis is unreachable (nothing
 * counted). */
int ratelimit_check_counted(const ratelimit *rl, kv *k, const char *key_id, long long limit, const char *usage_hash,
			    const char *usage_set, const char *usage_field, ratelimit_gen *gen, ratelimit_result *out);

#endif
