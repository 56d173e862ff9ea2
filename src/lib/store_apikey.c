/* store_apikey: statements on api_keys. */
#include "store_apikey.h"
#include "ids.h"
#include "store.h"
#include "util.h"

#include <stdlib.h>

/* No clock function in these statements: the key lookup runs on every request a worker does not answer from its
 * key cache (src/api/keycache.h), and a statement without one can be answered from MariaDB's query cache, which
 * any committed change of api_keys (a revocation included) invalidates at once. Expiry and the last-used
 * throttle are decided on this host's clock. */
#define COLUMNS "id, account_id, name, prefix, created_at, expires_at, last_used_at, revoked_at, scopes + 0, rate_limit"

static const char SQL_INSERT[] =
	"INSERT INTO api_keys (id, account_id, name, prefix, key_hash, scopes, rate_limit, created_at, expires_at) "
	"VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), IF(? < 0, NULL, UTC_TIMESTAMP(3) + INTERVAL ? DAY))";
static const char SQL_FIND[] = "SELECT " COLUMNS " FROM api_keys WHERE key_hash = ?";
static const char SQL_TOUCH[] =
	"UPDATE api_keys SET last_used_at = UTC_TIMESTAMP(3) WHERE id = ? "
	"AND (last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP(3) - INTERVAL 60 SECOND)"; /* STORE_APIKEY_TOUCH_MS */
static const char SQL_LIST_ALL[] = "SELECT " COLUMNS " FROM api_keys ORDER BY id";
static const char SQL_LIST_ACCOUNT[] = "SELECT " COLUMNS " FROM api_keys WHERE account_id = ? ORDER BY id";
static const char SQL_GET[] = "SELECT " COLUMNS ", LOWER(HEX(key_hash)) FROM api_keys WHERE id = ? FOR UPDATE";
static const char SQL_REVOKE[] = "UPDATE api_keys SET revoked_at = UTC_TIMESTAMP(3) WHERE id = ? AND revoked_at IS NULL";

static void row_from(arena *a, char **c, apikey_row *k)
{
	k->id = c[0];
	k->account_id = c[1];
	k->name = c[2];
	k->prefix = c[3];
	k->created_at = store_time(a, c[4]);
	k->expires_at = store_time(a, c[5]);
	k->last_used_at = store_time(a, c[6]);
	k->revoked_at = store_time(a, c[7]);
	k->scopes = (uint32_t)strtoul(c[8], NULL, 10);
	k->rate_limit = strtoll(c[9], NULL, 10);
	int64_t now = util_now_ms();
	k->expires_ms = c[5] ? store_time_ms(c[5]) : 0;
	k->last_used_ms = c[6] ? store_time_ms(c[6]) : 0;
	k->expired = c[5] && k->expires_ms <= now;
	k->hash_hex = NULL;
}

enum store_result store_apikey_create(db *d, arena *a, const char *account_id, const char *name,
				      const char *prefix, const unsigned char hash[CRYPTO_SHA256_LEN],
				      uint32_t scopes, long long rate_limit, int expires_days, char *id_out)
{
	store_params p = {0};
	ids_new("key_", id_out);
	store_param_str(&p, id_out);
	store_param_str(&p, account_id);
	store_param_str(&p, name);
	store_param_str(&p, prefix);
	store_param_bytes(&p, hash, CRYPTO_SHA256_LEN);
	store_param_int(&p, scopes);
	store_param_int(&p, rate_limit);
	store_param_int(&p, expires_days);
	store_param_int(&p, expires_days);
	return store_exec(d, SQL_INSERT, &p, a, NULL);
}

enum store_result store_apikey_find(db *d, arena *a, const unsigned char hash[CRYPTO_SHA256_LEN], apikey_row *out)
{
	store_params p = {0};
	store_rows r;
	store_param_bytes(&p, hash, CRYPTO_SHA256_LEN);
	enum store_result res = store_exec(d, SQL_FIND, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	row_from(a, r.cell[0], out);
	return STORE_OK;
}

enum store_result store_apikey_touch(db *d, arena *a, const char *id)
{
	store_params p = {0};
	store_param_str(&p, id);
	return store_exec(d, SQL_TOUCH, &p, a, NULL);
}

enum store_result store_apikey_list(db *d, arena *a, const char *account_id, apikey_row **rows, int *n)
{
	store_params p = {0};
	store_rows r;
	if (account_id)
		store_param_str(&p, account_id);
	enum store_result res = store_exec(d, account_id ? SQL_LIST_ACCOUNT : SQL_LIST_ALL, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++)
		row_from(a, r.cell[i], &(*rows)[i]);
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_apikey_revoke(db *d, arena *a, const char *id, apikey_row *out)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_GET, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	row_from(a, r.cell[0], out);
	out->hash_hex = r.cell[0][10];
	if (out->revoked_at)
		return STORE_CONFLICT;
	store_rows w;
	res = store_exec(d, SQL_REVOKE, &p, a, &w);
	return res;
}
