/* auth: API key checks (format, hash lookup, revocation, expiry), rate limit and scopes. */
#include "auth.h"
#include "apikey.h"
#include "log.h"
#include "ratelimit.h"
#include "routes.h"
#include "scope.h"
#include "store_apikey.h"
#include "usage.h"

#include <stdio.h>
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

int auth_authenticate(request *r, long long *rate_limit)
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
	if (!apikey_well_formed(key, n))
		return unauthorized(r, ERR_API_KEY_INVALID, "the API key is malformed");

	unsigned char hash[CRYPTO_SHA256_LEN];
	apikey_hash(key, n, hash);
	apikey_row k;
	enum store_result res = store_apikey_find(r->app->db, r->a, hash, &k);
	if (res == STORE_NOT_FOUND)
		return unauthorized(r, ERR_API_KEY_INVALID, "the API key is not valid");
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	if (k.revoked_at)
		return unauthorized(r, ERR_API_KEY_REVOKED, "the API key has been revoked");
	if (k.expired)
		return unauthorized(r, ERR_API_KEY_EXPIRED, "the API key has expired");

	snprintf(r->key_id, sizeof r->key_id, "%s", k.id);
	snprintf(r->account_id, sizeof r->account_id, "%s", k.account_id);
	r->scopes = k.scopes;
	r->authenticated = 1;
	*rate_limit = r->rate_limit = k.rate_limit;
	if (k.touch_due && store_apikey_touch(r->app->db, r->a, k.id) != STORE_OK)
		log_warn("request %s: could not record last_used_at for %s", r->request_id, k.id);
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

/* USAGE_HASH (NULL: not counted): the live usage hash the request is counted in, under the caller's key id.
 * COST: requests counted at once (usage counts one). */
static int rate_limit(request *r, const char *bucket, long long limit, long long cost, const char *refused,
		      const char *usage_hash)
{
	ratelimit_result rl;
	int rc = cost > 1 ? ratelimit_check_cost(&r->app->rl, r->app->kv, bucket, limit, cost, &rl)
			  : ratelimit_check_counted(&r->app->rl, r->app->kv, bucket, limit, usage_hash,
						    usage_hash ? USAGE_LIVE_SET : NULL, usage_hash ? r->key_id : NULL, &rl);
	if (rc != 0) {
		if (r->app->cfg->rate_limit_redis_down == RL_DOWN_CLOSED)
			return req_fail(r, ERR_DEPENDENCY_UNAVAILABLE,
					"rate limiting is unavailable; retry shortly");
		log_warn("request %s: redis unavailable, rate limit not applied (rate_limit_redis_down = open)",
			 r->request_id);
		return 0;
	}
	char v[32];
	snprintf(v, sizeof v, "%lld", rl.limit);
	set_header(r, "X-RateLimit-Limit", v);
	snprintf(v, sizeof v, "%lld", rl.remaining);
	set_header(r, "X-RateLimit-Remaining", v);
	snprintf(v, sizeof v, "%lld", rl.reset);
	set_header(r, "X-RateLimit-Reset", v);
	if (!rl.allowed) {
		snprintf(v, sizeof v, "%lld", rl.retry_after);
		set_header(r, "Retry-After", v);
		return req_fail(r, ERR_RATE_LIMITED, refused);
	}
	return 0;
}

int auth_rate_limit_bucket(request *r, const char *bucket, long long limit, const char *refused)
{
	return rate_limit(r, bucket, limit, 1, refused, NULL);
}

int auth_rate_limit(request *r, long long limit)
{
	/* Every authenticated request counts as API usage (also when refused here or later), in the same script
	 * call as its rate limit: no MariaDB write and no Redis round trip of its own. Redis down: not counted. */
	char usage_hash[USAGE_KEY_MAX];
	usage_live_key(r->account_id, (int64_t)time(NULL), usage_hash);
	return rate_limit(r, r->key_id, limit, 1, "rate limit exceeded for this API key; see Retry-After", usage_hash);
}

int auth_rate_limit_more(request *r, long long cost)
{
	if (cost < 1)
		return 0;
	return rate_limit(r, r->key_id, r->rate_limit, cost, "rate limit exceeded for this API key; see Retry-After",
			  NULL);
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
