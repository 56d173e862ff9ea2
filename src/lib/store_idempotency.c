/* store_idempotency: statements on idempotency_keys. */
#include "store_idempotency.h"
#include "crypto.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

/* An entry is over after 24 hours; a claim that never got its answer (the worker died, or could not record
 * it) is abandoned after STALE_CLAIM_MINUTES, far beyond any request's time limit (nginx gives up after
 * 60 s), so a retry is not told "still in progress" for a whole day. */
#define STALE_CLAIM_MINUTES "5"
static const char SQL_PURGE_ONE[] = "DELETE FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ? "
				    "AND (created_at < UTC_TIMESTAMP(3) - INTERVAL 24 HOUR OR (status IS NULL "
				    "AND created_at < UTC_TIMESTAMP(3) - INTERVAL " STALE_CLAIM_MINUTES " MINUTE))";
static const char SQL_INSERT[] = "INSERT INTO idempotency_keys (api_key_id, idem_key, request_hash, created_at) "
				 "VALUES (?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_GET[] = "SELECT HEX(request_hash), status, location, response, response_key_version FROM idempotency_keys "
			      "WHERE api_key_id = ? AND idem_key = ?";
static const char SQL_COMPLETE[] = "UPDATE idempotency_keys SET status = ?, location = ?, response = ?, response_key_version = ? "
				   "WHERE api_key_id = ? AND idem_key = ?";
static const char SQL_RELEASE[] = "DELETE FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ? AND status IS NULL";

static const char SQL_PURGE[] =
	"DELETE FROM idempotency_keys WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL 24 HOUR LIMIT ?";

enum store_result store_idempotency_claim(db *d, arena *a, const char *api_key_id, const char *key,
					  const unsigned char hash[32], idem_row *existing)
{
	store_params p = {0};
	store_param_str(&p, api_key_id);
	store_param_str(&p, key);
	enum store_result res = store_exec(d, SQL_PURGE_ONE, &p, a, NULL);
	if (res != STORE_OK)
		return res;
	store_params q = {0};
	store_param_str(&q, api_key_id);
	store_param_str(&q, key);
	store_param_bytes(&q, hash, 32);
	res = store_exec(d, SQL_INSERT, &q, a, NULL);
	if (res != STORE_CONFLICT)
		return res;
	store_rows r;
	if ((res = store_exec(d, SQL_GET, &p, a, &r)) != STORE_OK)
		return res;
	if (r.nrows != 1) /* purged between the two statements: a retry will claim it */
		return STORE_ERROR;
	const char *hex = r.cell[0][0];
	if (!hex || crypto_unhex(hex, strlen(hex), existing->request_hash, sizeof existing->request_hash) != 32)
		memset(existing->request_hash, 0, sizeof existing->request_hash);
	existing->status = r.cell[0][1] ? (int)strtol(r.cell[0][1], NULL, 10) : 0;
	existing->location = r.cell[0][2];
	existing->response = r.cell[0][3];
	existing->response_key_version = r.cell[0][4] ? (int)strtol(r.cell[0][4], NULL, 10) : 0;
	return STORE_CONFLICT;
}

enum store_result store_idempotency_complete(db *d, arena *a, const char *api_key_id, const char *key, int status,
					     const char *location, const char *response, int key_version)
{
	store_params p = {0};
	store_param_int(&p, status);
	store_param_str(&p, location);
	store_param_str(&p, response);
	store_param_int(&p, key_version);
	store_param_str(&p, api_key_id);
	store_param_str(&p, key);
	return store_exec(d, SQL_COMPLETE, &p, a, NULL);
}

enum store_result store_idempotency_release(db *d, arena *a, const char *api_key_id, const char *key)
{
	store_params p = {0};
	store_param_str(&p, api_key_id);
	store_param_str(&p, key);
	return store_exec(d, SQL_RELEASE, &p, a, NULL);
}

enum store_result store_idempotency_purge(db *d, arena *a, int limit, long *n)
{
	store_params p = {0};
	store_rows r;
	store_param_int(&p, limit);
	enum store_result res = store_exec(d, SQL_PURGE, &p, a, &r);
	*n = res == STORE_OK ? (long)r.affected : 0;
	return res;
}
