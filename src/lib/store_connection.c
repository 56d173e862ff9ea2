/* store_connection: statements on connections. Every statement filters on the account. */
#include "store_connection.h"
#include "store.h"

#include <string.h>

#define CONN_COLUMNS                                                                                               \
	"id, account_id, provider, display_name, account_label, url, credential_id, status, last_error, "           \
	"last_synced_at, created_at, updated_at"

static const char SQL_FIRST[] = "SELECT " CONN_COLUMNS " FROM connections WHERE account_id = ? "
				"AND deleted_at IS NULL ORDER BY id DESC LIMIT ?";
static const char SQL_NEXT[] = "SELECT " CONN_COLUMNS " FROM connections WHERE account_id = ? "
			       "AND deleted_at IS NULL AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_GET[] =
	"SELECT " CONN_COLUMNS " FROM connections WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_INSERT[] =
	"INSERT INTO connections (id, account_id, provider, display_name, account_label, url, credential_id, status, "
	"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
static const char SQL_DELETE[] = "UPDATE connections SET deleted_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) "
				 "WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_OK[] = "UPDATE connections SET status = 'active', last_error = NULL, "
			     "last_synced_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) "
			     "WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_ERROR[] = "UPDATE connections SET status = 'error', last_error = LEFT(?, 600), "
				"updated_at = UTC_TIMESTAMP(3) WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_IDS[] =
	"SELECT id FROM connections WHERE account_id = ? AND deleted_at IS NULL ORDER BY id DESC LIMIT ?";

static void conn_from(arena *a, char **c, void *out)
{
	connection_row *x = out;
	x->id = c[0];
	x->account_id = c[1];
	x->provider = c[2];
	x->display_name = c[3];
	x->account_label = c[4];
	x->url = c[5];
	x->credential_id = c[6];
	x->status = c[7];
	x->last_error = c[8];
	x->last_synced_at = store_time(a, c[9]);
	x->created_at = store_time(a, c[10]);
	x->updated_at = store_time(a, c[11]);
}

enum store_result store_connection_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
					connection_row **rows, int *n)
{
	void *v;
	enum store_result res =
		store_page(d, a, SQL_FIRST, SQL_NEXT, account_id, before_id, limit, sizeof **rows, conn_from, &v, n);
	if (res == STORE_OK)
		*rows = v;
	return res;
}

enum store_result store_connection_get(db *d, arena *a, const char *account_id, const char *id, connection_row *out)
{
	return store_account_row(d, a, SQL_GET, account_id, id, conn_from, out);
}

enum store_result store_connection_insert(db *d, arena *a, const char *account_id, const char *id,
					  const char *provider, const char *display_name, const char *account_label,
					  const char *url, const char *credential_id)
{
	store_params p = {0};
	store_param_str(&p, id);
	store_param_str(&p, account_id);
	store_param_str(&p, provider);
	store_param_str(&p, display_name);
	store_param_str(&p, account_label);
	store_param_str(&p, url);
	store_param_str(&p, credential_id);
	return store_exec(d, SQL_INSERT, &p, a, NULL);
}

enum store_result store_connection_delete(db *d, arena *a, const char *account_id, const char *id)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_DELETE, &p, a, &r);
	if (res == STORE_OK && r.affected == 0)
		return STORE_NOT_FOUND;
	return res;
}

enum store_result store_connection_record(db *d, arena *a, const char *account_id, const char *id, const char *error)
{
	store_params p = {0};
	if (error)
		store_param_str(&p, error);
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	return store_exec(d, error ? SQL_ERROR : SQL_OK, &p, a, NULL);
}

enum store_result store_connection_ids(db *d, arena *a, const char *account_id, int max, char ***ids, int *n)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_int(&p, max);
	enum store_result res = store_exec(d, SQL_IDS, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*ids = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * sizeof **ids);
	for (int i = 0; i < r.nrows; i++)
		(*ids)[i] = r.cell[i][0];
	*n = r.nrows;
	return STORE_OK;
}
