/* store_credential: statements on credentials; sealing and opening their secret fields. Every statement filters
 * on the account. */
#include "store_credential.h"
#include "credential.h"
#include "log.h"
#include "secretbox.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define CRED_COLUMNS "id, account_id, name, type, hint, created_at, last_used_at, revoked_at"

static const char SQL_FIRST[] =
	"SELECT " CRED_COLUMNS " FROM credentials WHERE account_id = ? ORDER BY id DESC LIMIT ?";
static const char SQL_NEXT[] =
	"SELECT " CRED_COLUMNS " FROM credentials WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_GET[] = "SELECT " CRED_COLUMNS " FROM credentials WHERE account_id = ? AND id = ?";
static const char SQL_GET_LOCK[] =
	"SELECT " CRED_COLUMNS " FROM credentials WHERE account_id = ? AND id = ? FOR UPDATE";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM credentials WHERE account_id = ? AND revoked_at IS NULL";
static const char SQL_LIVE_OF_TYPE[] = "SELECT id FROM credentials WHERE account_id = ? AND type = ? "
				       "AND revoked_at IS NULL ORDER BY id DESC LIMIT ?";
static const char SQL_INSERT[] =
	"INSERT INTO credentials (id, account_id, name, type, secret_enc, secret_key_version, hint, created_at) "
	"VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_REVOKE[] = "UPDATE credentials SET revoked_at = UTC_TIMESTAMP(3) "
				 "WHERE account_id = ? AND id = ? AND revoked_at IS NULL";
static const char SQL_STATE[] = "SELECT type, revoked_at IS NOT NULL FROM credentials WHERE account_id = ? AND id = ?";
/* The last column says whether last_used_at is due for an update (at most once a minute). */
static const char SQL_USE[] =
	"SELECT type, revoked_at IS NOT NULL, CONCAT(secret_key_version, ':', HEX(secret_enc)), "
	"last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE "
	"FROM credentials WHERE account_id = ? AND id = ?";
static const char SQL_TOUCH[] =
	"UPDATE credentials SET last_used_at = UTC_TIMESTAMP(3) WHERE account_id = ? AND id = ? "
	"AND (last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE)";

static void row_from(arena *a, char **c, void *out)
{
	credential_row *x = out;
	x->id = c[0];
	x->account_id = c[1];
	x->name = c[2];
	x->type = c[3];
	x->hint = c[4];
	x->created_at = store_time(a, c[5]);
	x->last_used_at = store_time(a, c[6]);
	x->revoked_at = store_time(a, c[7]);
}

static void id_from(arena *a, char **c, void *out)
{
	(void)a;
	*(char **)out = c[0];
}

enum store_result store_credential_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
					credential_row **rows, int *n)
{
	void *v;
	enum store_result res =
		store_page(d, a, SQL_FIRST, SQL_NEXT, account_id, before_id, limit, sizeof **rows, row_from, &v, n);
	if (res == STORE_OK)
		*rows = v;
	return res;
}

enum store_result store_credential_get(db *d, arena *a, const char *account_id, const char *id, int for_update,
				       credential_row *out)
{
	return store_account_row(d, a, for_update ? SQL_GET_LOCK : SQL_GET, account_id, id, row_from, out);
}

enum store_result store_credential_count(db *d, arena *a, const char *account_id, long *n)
{
	return store_account_count(d, a, SQL_COUNT, account_id, n);
}

enum store_result store_credential_live_ids(db *d, arena *a, const char *account_id, const char *type, int max,
					    char ***ids, int *n)
{
	store_params p = {0};
	store_param_str(&p, account_id);
	store_param_str(&p, type);
	store_param_int(&p, max);
	void *v;
	enum store_result res = store_exec_rows(d, SQL_LIVE_OF_TYPE, &p, a, sizeof **ids, id_from, &v, n);
	if (res == STORE_OK)
		*ids = v;
	return res;
}

enum store_result store_credential_insert(db *d, arena *a, const settings *cfg, const char *account_id, const char *id,
					  const char *name, const char *type, const char *hint, const json_t *fields)
{
	char *plain = json_dumps(fields, JSON_COMPACT);
	if (!plain)
		abort();
	size_t n = strlen(plain);
	unsigned char *sealed = arena_alloc(a, n + SECRETBOX_OVERHEAD);
	size_t sl = secretbox_seal(cfg->master_key, id, plain, n, sealed);
	explicit_bzero(plain, n);
	free(plain);
	store_params p = {0};
	store_param_str(&p, id);
	store_param_str(&p, account_id);
	store_param_str(&p, name);
	store_param_str(&p, type);
	store_param_bytes(&p, sealed, sl);
	store_param_int(&p, cfg->master_key_version);
	store_param_str(&p, hint);
	return store_exec(d, SQL_INSERT, &p, a, NULL);
}

enum store_result store_credential_revoke(db *d, arena *a, const char *account_id, const char *id)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_REVOKE, &p, a, &r);
	if (res != STORE_OK || r.affected == 1)
		return res;
	/* Nothing changed: revoked already, or not there. */
	const char *type;
	int revoked;
	res = store_credential_state(d, a, account_id, id, &type, &revoked);
	return res == STORE_OK ? STORE_CONFLICT : res;
}

enum store_result store_credential_state(db *d, arena *a, const char *account_id, const char *id, const char **type,
					 int *revoked)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_STATE, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	const credential_type *t = credential_type_find(r.cell[0][0]);
	if (!t) {
		log_error("credential %s has an unknown type", id);
		return STORE_ERROR;
	}
	*type = t->name;
	*revoked = r.cell[0][1] && r.cell[0][1][0] == '1';
	return STORE_OK;
}

int store_credential_check(db *d, arena *a, const char *account_id, const char *id, const char *type)
{
	const char *t;
	int revoked;
	enum store_result res = store_credential_state(d, a, account_id, id, &t, &revoked);
	if (res == STORE_NOT_FOUND)
		return 0;
	if (res != STORE_OK)
		return -1;
	return !revoked && (!type || strcmp(type, t) == 0);
}

enum store_result store_credential_use(db *d, arena *a, const settings *cfg, const char *account_id, const char *id,
				       const char **type, json_t **fields)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_USE, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	char **c = r.cell[0];
	if (c[1] && c[1][0] == '1')
		return STORE_CONFLICT;
	const credential_type *t = credential_type_find(c[0]);
	if (!t) {
		log_error("credential %s has an unknown type", id);
		return STORE_ERROR;
	}
	size_t cap = c[2] ? strlen(c[2]) / 2 : 0;
	char *plain = arena_alloc(a, cap + 1);
	long pl = secretbox_open_stored(cfg, id, c[2], plain, cap);
	if (pl < 0) {
		log_error("credential %s does not open under the master key of its key version", id);
		return STORE_ERROR;
	}
	plain[pl] = '\0';
	json_t *j = json_loadb(plain, (size_t)pl, 0, NULL);
	explicit_bzero(plain, (size_t)pl);
	if (!json_is_object(j)) {
		json_decref(j);
		log_error("credential %s holds no JSON object", id);
		return STORE_ERROR;
	}
	if (c[3] && c[3][0] == '1' && (res = store_exec(d, SQL_TOUCH, &p, a, NULL)) != STORE_OK) {
		json_decref(j);
		return res;
	}
	*type = t->name;
	*fields = j;
	return STORE_OK;
}
