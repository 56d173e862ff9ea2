/* auth: API key checks (format, hash lookup, revocation, expiry), rate limit and scopes. */
#include "auth.h"
#include "apikey.h"
#include "keycache.h"
#include "keygen.h"
#include "kv.h"
#include "log.h"
#include "ratelimit.h"
#include "routes.h"
#include "scope.h"
#include "store_apikey.h"
#include "usage.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define REALM "Bearer realm=\"agentplatform\""

static int unauthorized(request *r, enum apierror code, const char *message)
{
	/* MCP clients start their authorization flow on invalid_token, so /mcp names it for a missing key too. */
	int mcp = r->route && (r->route->flags & ROUTE_MCP);
	req_header(r, "WWW-Authenticate",
		   code == ERR_API_KEY_MISSING && !mcp ? REALM : REALM ", error=\"invalid_token\"");
	return req_fail(r, code, message);
}

static int malformed(request *r)
{
	return unauthorized(r, ERR_API_KEY_INVALID, "the API key is malformed");
}

/* R is authenticated as key ID of ACCOUNT_ID. */
static void identify(request *r, const char *id, const char *account_id, uint32_t scopes, long long rate_limit)
{
	snprintf(r->key_id, sizeof r->key_id, "%s", id);
	snprintf(r->account_id, sizeof r->account_id, "%s", account_id);
	r->scopes = scopes;
	r->rate_limit = rate_limit;
	r->authenticated = 1;
}

/* Records that key ID is used now (NOW), unless it was within STORE_APIKEY_TOUCH_MS: *LAST_USED_MS (0: never). */
static void touch(request *r, const char *id, int64_t *last_used_ms, int64_t now)
{
	if (*last_used_ms && now - *last_used_ms < STORE_APIKEY_TOUCH_MS)
		return;
	if (store_apikey_touch(r->app->db, r->a, id) == STORE_OK)
		*last_used_ms = now;
	else
		log_warn("request %s: could not record last_used_at for %s", r->request_id, id);
}

/* The key behind HASH, read from MariaDB, with the answers for an unknown, revoked or expired one; fills R. */
static int load(request *r, const unsigned char hash[CRYPTO_SHA256_LEN], apikey_row *k)
{
	enum store_result res = store_apikey_find(r->app->db, r->a, hash, k);
	if (res == STORE_NOT_FOUND)
		return unauthorized(r, ERR_API_KEY_INVALID, "the API key is not valid");
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	if (k->revoked_at)
		return unauthorized(r, ERR_API_KEY_REVOKED, "the API key has been revoked");
	if (k->expired)
		return unauthorized(r, ERR_API_KEY_EXPIRED, "the API key has expired");
	identify(r, k->id, k->account_id, k->scopes, k->rate_limit);
	touch(r, k->id, &k->last_used_ms, util_now_ms());
	return 0;
}

/* Sets header NAME of R to VALUE, replacing an earlier one (a request charged twice shows its last charge). */
static void set_header(request *r, const char *name, const char *value)
{
	for (int i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0) {
			r->hdr[i] = r->hdr[--r->nhdr];
			break;
		}
	req_header(r, name, value);
}

/* Counts COST requests of R against BUCKET: ratelimit's result (0 counted, 1 generation check failed, -1 Redis
 * unreachable). USAGE (NULL: not counted): also count it as API usage of R's key; GEN (NULL: none): only if
 * that generation check passes. */
static int count(request *r, const char *bucket, long long limit, long long cost, int usage, ratelimit_gen *gen,
		 ratelimit_result *rl)
{
	if (cost > 1)
		return ratelimit_check_cost(&r->app->rl, r->app->kv, bucket, limit, cost, rl);
	if (!usage)
		return ratelimit_check(&r->app->rl, r->app->kv, bucket, limit, rl);
	/* Every authenticated request counts as API usage (also when refused here or later), in the same script call
	 * as its rate limit: no MariaDB write and no Redis round trip of its own. Redis down: not counted. */
	char usage_hash[USAGE_KEY_MAX];
	usage_live_key(r->account_id, (int64_t)time(NULL), usage_hash);
	return ratelimit_check_counted(&r->app->rl, r->app->kv, bucket, limit, usage_hash, USAGE_LIVE_SET, r->key_id, gen,
				       rl);
}

/* R's answer to a count that returned RC (0 or -1) with RL: the X-RateLimit-* headers, or 429 with Retry-After
 * (message REFUSED), or with Redis unreachable what rate_limit_redis_down says. */
static int answer(request *r, int rc, const ratelimit_result *rl, const char *refused)
{
	if (rc != 0) {
		if (r->app->cfg->rate_limit_redis_down == RL_DOWN_CLOSED)
			return req_fail(r, ERR_DEPENDENCY_UNAVAILABLE,
					"rate limiting is unavailable; retry shortly");
		log_warn("request %s: redis unavailable, rate limit not applied (rate_limit_redis_down = open)",
			 r->request_id);
		return 0;
	}
	char v[32];
	snprintf(v, sizeof v, "%lld", rl->limit);
	set_header(r, "X-RateLimit-Limit", v);
	snprintf(v, sizeof v, "%lld", rl->remaining);
	set_header(r, "X-RateLimit-Remaining", v);
	snprintf(v, sizeof v, "%lld", rl->reset);
	set_header(r, "X-RateLimit-Reset", v);
	if (!rl->allowed) {
		snprintf(v, sizeof v, "%lld", rl->retry_after);
		set_header(r, "Retry-After", v);
		return req_fail(r, ERR_RATE_LIMITED, refused);
	}
	return 0;
}

#define KEY_REFUSED "rate limit exceeded for this API key; see Retry-After"

/* The generation Redis holds for the key (keygen.h): >= 0, -1 if it holds something else, -2 if unreachable. */
static long long read_gen(kv *k, arena *a, const char *gen_key)
{
	kv_reply g;
	if (kv_command(k, a, 2, (const char *const[]){"GET", gen_key}, &g) != 0)
		return -2;
	if (g.type == KV_NIL)
		return 0;
	return g.type == KV_STR && strlen(g.str) == g.len ? keygen_parse(g.str) : -1;
}

/* Keeps row K (key HASH) with generation GEN, read before K. A key limited to nothing is never kept: its requests are
 * refused without a Redis call, so nothing would check its generation. */
static void keep(keycache *c, const unsigned char hash[CRYPTO_SHA256_LEN], const apikey_row *k, long long gen,
		 unsigned epoch, int64_t now)
{
	if (k->rate_limit < 1)
		return;
	keycache_entry e = {.scopes = k->scopes, .rate_limit = k->rate_limit, .expires_ms = k->expires_ms,
			    .last_used_ms = k->last_used_ms, .gen = gen, .epoch = epoch, .loaded_ms = now};
	memcpy(e.hash, hash, sizeof e.hash);
	snprintf(e.id, sizeof e.id, "%s", k->id);
	snprintf(e.account_id, sizeof e.account_id, "%s", k->account_id);
	keycache_put(c, &e);
}

/* Authenticates and counts R, whose KEY has the right shape and hashes to HASH, with the worker's key cache
 * (keycache.h for why this never trusts a changed key). */
static int authenticate_cached(request *r, keycache *c, const char *key, const unsigned char hash[CRYPTO_SHA256_LEN])
{
	kv *k = r->app->kv;
	char hex[2 * CRYPTO_SHA256_LEN + 1], gen_key[KEYGEN_KEY_LEN + 1];
	crypto_hex(hash, CRYPTO_SHA256_LEN, hex);
	keygen_key(hex, gen_key);
	int64_t now = util_now_ms();
	unsigned epoch = kv_epoch(k);
	ratelimit_result rl;
	ratelimit_gen g = {.key = gen_key, .ttl_seconds = KEYGEN_TTL_SECONDS};
	long long gen = -1; /* the generation read before the row below: -1 none usable, -2 Redis unreachable */
	int counted = 0;    /* R was counted, against the key's current generation, on a connection made since */

	keycache_entry *e = keycache_find(c, hash, now, epoch);
	if (e && (e->expires_ms == 0 || e->expires_ms > now)) {
		identify(r, e->id, e->account_id, e->scopes, e->rate_limit);
		g.expect = e->gen;
		int rc = count(r, r->key_id, r->rate_limit, 1, 1, &g, &rl);
		if (rc == 0 && kv_epoch(k) == epoch) {
			touch(r, e->id, &e->last_used_ms, now);
			return answer(r, 0, &rl, KEY_REFUSED);
		}
		/* Changed (or verified on a new connection, so perhaps against an older Redis): read it again. */
		gen = rc == 1 ? g.held : rc == 0 ? e->gen : -2;
		counted = rc == 0;
		r->authenticated = 0;
		r->key_id[0] = r->account_id[0] = '\0';
	} else {
		/* A kept key passed its checksum when it was read: only a key read now needs it checked. */
		if (!apikey_checksum_ok(key))
			return malformed(r);
		gen = read_gen(k, r->a, gen_key);
	}
	keycache_drop(c, hash);
	epoch = kv_epoch(k);

	apikey_row row;
	if (load(r, hash, &row) != 0)
		return -1;
	if (counted) { /* a key unchanged since the count: the count stands */
		keep(c, hash, &row, gen, epoch, now);
		return answer(r, 0, &rl, KEY_REFUSED);
	}
	if (gen == -2)
		return answer(r, -1, NULL, KEY_REFUSED);
	if (gen >= 0 && row.rate_limit >= 1) { /* (a limit below 1 refuses without calling Redis: nothing to check) */
		g.expect = gen;
		g.fresh = gen ? gen : keygen_new();
		int rc = count(r, r->key_id, r->rate_limit, 1, 1, &g, &rl);
		/* Kept only with a generation that existed before the row was read: one this call created (GEN 0) may have
		 * replaced a revocation's, lost in between (e.g. FLUSHALL); the next request reads it first. */
		if (rc == 0 && gen > 0 && kv_epoch(k) == epoch)
			keep(c, hash, &row, gen, epoch, now);
		if (rc != 1)
			return answer(r, rc, &rl, KEY_REFUSED);
		/* Changed between the two reads (e.g. revoked just now): MariaDB decides, uncached. */
		if (load(r, hash, &row) != 0)
			return -1;
	}
	return answer(r, count(r, r->key_id, r->rate_limit, 1, 1, NULL, &rl), &rl, KEY_REFUSED);
}

int auth_authenticate(request *r)
{
	const char *h = r->authorization;
	if (!h || !*h)
		return unauthorized(r, ERR_API_KEY_MISSING,
				    "no API key: send Authorization: Bearer <key>");
	/* RFC 9110 section 11.1: the auth scheme is case-insensitive. */
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return unauthorized(r, ERR_API_KEY_INVALID, "the Authorization header must be: Bearer <key>");
	const char *key = h + 7;
	while (*key == ' ' || *key == '\t')
		key++;
	size_t n = strlen(key);
	while (n > 0 && (key[n - 1] == ' ' || key[n - 1] == '\t'))
		n--;
	if (!apikey_shaped(key, n))
		return malformed(r);

	unsigned char hash[CRYPTO_SHA256_LEN];
	apikey_hash(key, n, hash);
	keycache *c = r->app ? r->app->keys : NULL; /* unit tests drive the pipeline without an app */
	if (c)
		return authenticate_cached(r, c, key, hash);
	if (!apikey_checksum_ok(key))
		return malformed(r);
	apikey_row row;
	if (load(r, hash, &row) != 0)
		return -1;
	return auth_rate_limit(r, row.rate_limit);
}

/* Counts R (COST requests, USAGE: as API usage) against BUCKET and answers. */
static int rate_limit(request *r, const char *bucket, long long limit, long long cost, const char *refused, int usage)
{
	ratelimit_result rl;
	return answer(r, count(r, bucket, limit, cost, usage, NULL, &rl), &rl, refused);
}

int auth_rate_limit_bucket(request *r, const char *bucket, long long limit, const char *refused)
{
	return rate_limit(r, bucket, limit, 1, refused, 0);
}

int auth_rate_limit(request *r, long long limit)
{
	return rate_limit(r, r->key_id, limit, 1, KEY_REFUSED, 1);
}

int auth_rate_limit_more(request *r, long long cost)
{
	if (cost < 1)
		return 0;
	return rate_limit(r, r->key_id, r->rate_limit, cost, KEY_REFUSED, 0);
}

int auth_require_scope(request *r, int scope)
{
	if (scope < 0 || (r->scopes & (1u << scope)))
		return 0;
	char www[160], msg[128];
	snprintf(www, sizeof www, REALM ", error=\"insufficient_scope\", scope=\"%s\"", SCOPE_NAMES[scope]);
	req_header(r, "WWW-Authenticate", www);
	snprintf(msg, sizeof msg, "this API key lacks the %s scope", SCOPE_NAMES[scope]);
	return req_fail_param(r, ERR_MISSING_SCOPE, NULL, msg);
}
