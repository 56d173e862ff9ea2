/* ratelimit: GCRA on a single key rl:{<key id>} (one hash slot: Redis Cluster safe). */
#include "ratelimit.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* GCRA with burst = limit: the theoretical arrival time (TAT, microseconds) advances by period/limit per
 * request; a request is allowed while TAT - period <= now. No 2N burst at any window edge. Returns
 * {allowed, remaining, reset_epoch_s, retry_after_s}. ARGV[3] is the cost (requests counted at once): refused
 * whole, retry_after is when all of it fits.
 * With KEYS[2] (a usage hash, see usage.h) and KEYS[3] (the set of live usage hashes), the request is also
 * counted there under field ARGV[4], allowed or not: usage counting costs no round trip of its own.
 * With KEYS[4] (an API key's generation, see keygen.h), nothing happens unless it holds ARGV[5] (0: it must not
 * exist, and is then created as ARGV[6] for ARGV[7] seconds); otherwise the answer is {-1, generation held} (0:
 * none; -1: a value that is not a generation, i.e. not the decimal digits of a number in [1, 10^15)). */
const char RATELIMIT_SCRIPT[] =
	"if KEYS[4] then\n"
	"  local s = redis.call('GET', KEYS[4])\n"
	"  local g = 0\n"
	"  if s then g = (#s <= 15 and string.match(s, '^[1-9]%d*$')) and tonumber(s) or -1 end\n"
	"  if g ~= tonumber(ARGV[5]) then return {-1, g} end\n"
	"  if g == 0 then redis.call('SET', KEYS[4], ARGV[6], 'EX', ARGV[7]) end\n"
	"end\n"
	"if KEYS[2] then\n"
	"  redis.call('HINCRBY', KEYS[2], ARGV[4], 1)\n"
	"  redis.call('SADD', KEYS[3], KEYS[2])\n"
	"end\n"
	"local limit = tonumber(ARGV[1])\n"
	"local period = tonumber(ARGV[2]) * 1000000\n"
	"local interval = period / limit\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"local tat = tonumber(redis.call('GET', KEYS[1]) or now)\n"
	"if tat < now then tat = now end\n"
	"local new_tat = tat + interval * tonumber(ARGV[3])\n"
	"local allow_at = new_tat - period\n"
	"if allow_at > now then\n"
	"  local retry = math.ceil((allow_at - now) / 1000000)\n"
	"  if retry < 1 then retry = 1 end\n"
	"  return {0, 0, math.ceil(tat / 1000000), retry}\n"
	"end\n"
	"redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)\n"
	"local remaining = math.floor((now + period - new_tat) / interval + 0.000001)\n"
	"return {1, remaining, math.ceil(new_tat / 1000000), 0}\n";

void ratelimit_init(ratelimit *rl)
{
	unsigned char h[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)RATELIMIT_SCRIPT, strlen(RATELIMIT_SCRIPT), h);
	for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
		snprintf(rl->sha + 2 * i, 3, "%02x", h[i]);
}

static int check(const ratelimit *rl, kv *k, const char *key_id, long long limit, long long cost, const char *usage_hash,
		 const char *usage_set, const char *usage_field, ratelimit_gen *gen, ratelimit_result *out);

int ratelimit_check(const ratelimit *rl, kv *k, const char *key_id, long long limit, ratelimit_result *out)
{
	return check(rl, k, key_id, limit, 1, NULL, NULL, NULL, NULL, out);
}

int ratelimit_check_cost(const ratelimit *rl, kv *k, const char *key_id, long long limit, long long cost,
			 ratelimit_result *out)
{
	return check(rl, k, key_id, limit, cost < 1 ? 1 : cost, NULL, NULL, NULL, NULL, out);
}

int ratelimit_check_counted(const ratelimit *rl, kv *k, const char *key_id, long long limit, const char *usage_hash,
			    const char *usage_set, const char *usage_field, ratelimit_gen *gen, ratelimit_result *out)
{
	return check(rl, k, key_id, limit, 1, usage_hash, usage_set, usage_field, gen, out);
}

static int check(const ratelimit *rl, kv *k, const char *key_id, long long limit, long long cost, const char *usage_hash,
		 const char *usage_set, const char *usage_field, ratelimit_gen *gen, ratelimit_result *out)
{
	if (limit < 1) { /* a zero limit refuses everything; never let the script divide by it */
		*out = (ratelimit_result){.allowed = 0, .limit = 0, .remaining = 0, .retry_after = RATELIMIT_PERIOD_SECONDS};
		out->reset = (long long)time(NULL) + RATELIMIT_PERIOD_SECONDS;
		return 0;
	}
	char key[64], lim[24], period[16], n[24], expect[24], fresh[24], ttl[16];
	snprintf(key, sizeof key, "rl:{%s}", key_id);
	snprintf(lim, sizeof lim, "%lld", limit);
	snprintf(period, sizeof period, "%d", RATELIMIT_PERIOD_SECONDS);
	snprintf(n, sizeof n, "%lld", cost);
	int counted = usage_hash && usage_set && usage_field, checked = counted && gen;
	if (checked) {
		snprintf(expect, sizeof expect, "%lld", gen->expect);
		snprintf(fresh, sizeof fresh, "%lld", gen->fresh);
		snprintf(ttl, sizeof ttl, "%d", gen->ttl_seconds);
	}
	const char *keys[] = {key, usage_hash, usage_set, checked ? gen->key : NULL};
	const char *args[] = {lim, period, n, usage_field, expect, fresh, ttl};
	long long v[4];
	int got = kv_eval_ints(k, RATELIMIT_SCRIPT, rl->sha, checked ? 4 : counted ? 3 : 1, keys,
			       checked ? 7 : counted ? 4 : 3, args, v, 4);
	if (checked && got >= 1 && v[0] == -1) {
		gen->held = got == 2 ? v[1] : -1; /* -1: not a generation we wrote */
		return 1;
	}
	if (got != 4)
		return -1;
	out->allowed = v[0] == 1;
	out->limit = limit;
	out->remaining = v[1] < 0 ? 0 : v[1];
	out->reset = v[2];
	out->retry_after = v[3];
	return 0;
}
