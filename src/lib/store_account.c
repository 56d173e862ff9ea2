/* store_account: statements on accounts. */
#include "store_account.h"
#include "ids.h"
#include "store.h"

static const char SQL_INSERT[] = "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))";
static const char SQL_LIST[] = "SELECT id, name, created_at FROM accounts ORDER BY id";
static const char SQL_EXISTS[] = "SELECT id FROM accounts WHERE id = ?";
static const char SQL_LOCK[] = "SELECT id FROM accounts WHERE id = ? FOR UPDATE";

enum store_result store_account_create(db *d, arena *a, const char *name, char *id_out)
{
	store_params p = {0};
	ids_new("acct_", id_out);
	store_param_str(&p, id_out);
	store_param_str(&p, name);
	return store_exec(d, SQL_INSERT, &p, a, NULL);
}

enum store_result store_account_list(db *d, arena *a, account_row **rows, int *n)
{
	store_rows r;
	enum store_result res = store_exec(d, SQL_LIST, NULL, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++) {
		(*rows)[i].id = r.cell[i][0];
		(*rows)[i].name = r.cell[i][1];
		(*rows)[i].created_at = store_time(a, r.cell[i][2]);
	}
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_account_exists(db *d, arena *a, const char *id, int for_update)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, id);
	enum store_result res = store_exec(d, for_update ? SQL_LOCK : SQL_EXISTS, &p, a, &r);
	if (res != STORE_OK)
		return res;
	return r.nrows == 1 ? STORE_OK : STORE_NOT_FOUND;
}
