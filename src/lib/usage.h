/* usage: the Redis side of API request counting: key names, the live read, and the flush's Redis steps.
 *
 * Keys (single-node Redis; see README "Usage"):
 *   usage:{<account>}:<yyyy-mm-dd>                 live hash, field <key id> -> requests (UTC day)
 *   usage:live                                     set of the live hashes written since the last flush
 *   usage:flush:{<account>}:<yyyy-mm-dd>:<flush id> a live hash renamed by a flush, until it is applied
 *   usage:flushing                                 set of those flush keys
 * A live hash and its flush keys share the {<account>} hash tag (RENAME stays in one slot). The counting
 * runs inside the rate-limit script, whose key rl:{<key id>} is in another slot, and the two sets are global:
 * this layout is for the single Redis node we deploy, not for Redis Cluster. */
#ifndef AP_USAGE_H
#define AP_USAGE_H

#include "arena.h"
#include "ids.h"
#include "kv.h"

#include <stdint.h>

#define USAGE_LIVE_SET "usage:live"
#define USAGE_FLUSHING_SET "usage:flushing"
#define USAGE_FLUSH_ID_PREFIX "ufl_"
#define USAGE_KEY_MAX 128

/* The live hash of ACCOUNT_ID for the UTC day of EPOCH_S, into OUT (USAGE_KEY_MAX bytes). */
void usage_live_key(const char *account_id, int64_t epoch_s, char *out);

/* What a usage key name holds. FLUSH_ID is "" for a live hash. */
typedef struct usage_key_parts {
	char account_id[IDS_MAX_LEN];
	char day[11]; /* yyyy-mm-dd */
	char flush_id[IDS_MAX_LEN];
} usage_key_parts;

/* Parses a live hash name (FLUSH = 0) or a flush key name (FLUSH = 1). 0, or -1 when NAME is not one. */
int usage_parse_key(const char *name, int flush, usage_key_parts *out);

/* One count read from Redis. FLUSH_ID is "" for a live hash. */
typedef struct usage_count {
	char day[11];
	char key_id[IDS_MAX_LEN];
	char flush_id[IDS_MAX_LEN];
	long long requests;
} usage_count;

/* Every count of ACCOUNT_ID still in Redis (live hashes and flush keys not yet deleted), read atomically,
 * into *OUT (arena A). Returns 0, or -1 when Redis is unreachable or answered nonsense (logged). */
int usage_read_redis(kv *k, arena *a, const char *account_id, usage_count **out, int *n);

/* The names in set SET (USAGE_LIVE_SET or USAGE_FLUSHING_SET), in A. 0 or -1 (Redis unreachable). */
int usage_set_members(kv *k, arena *a, const char *set, char ***names, int *n);

/* Atomically renames live hash LIVE to flush key FLUSH_KEY (registering it in USAGE_FLUSHING_SET) and drops
 * LIVE from USAGE_LIVE_SET. Returns 1 when renamed, 0 when LIVE no longer existed, -1 on a Redis failure. */
int usage_move_to_flush(kv *k, arena *a, const char *live, const char *flush_key);

/* The fields of hash NAME (key id -> requests), in A. 0 or -1. */
int usage_hash_read(kv *k, arena *a, const char *name, char ***fields, long long **values, int *n);

/* Deletes flush key NAME and drops it from USAGE_FLUSHING_SET. 0 or -1. */
int usage_forget_flush_key(kv *k, arena *a, const char *name);

#endif
