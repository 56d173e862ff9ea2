/* store_mcp_server: statements on mcp_servers. Every API statement filters on the account. */
#include "store_mcp_server.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define COLUMNS                                                                                                    \
	"id, account_id, name, url, transport, credential_id, enabled, status, last_error, tools, last_checked_at, " \
	"created_at, updated_at, generation"

static const char SQL_FIRST[] = "SELECT " COLUMNS " FROM mcp_servers WHERE account_id = ? AND deleted_at IS NULL "
				"ORDER BY id DESC LIMIT ?";
static const char SQL_NEXT[] = "SELECT " COLUMNS " FROM mcp_servers WHERE account_id = ? AND deleted_at IS NULL "
			       "AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_GET[] = "SELECT " COLUMNS " FROM mcp_servers WHERE account_id = ? AND id = ? "
			      "AND deleted_at IS NULL";
static const char SQL_GET_LOCK[] = "SELECT " COLUMNS " FROM mcp_servers WHERE account_id = ? AND id = ? "
				   "AND deleted_at IS NULL FOR UPDATE";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM mcp_servers WHERE account_id = ? AND deleted_at IS NULL";
static const char SQL_INSERT[] =
	"INSERT INTO mcp_servers (id, account_id, name, url, credential_id, enabled, status, created_at, updated_at) "
	"VALUES (?, ?, ?, ?, ?, ?, 'unchecked', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
static const char SQL_UPDATE[] = "UPDATE mcp_servers SET name = ?, url = ?, credential_id = ?, enabled = ?, "
				 "updated_at = UTC_TIMESTAMP(3) WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_RECHECK[] =
	"UPDATE mcp_servers SET name = ?, url = ?, credential_id = ?, enabled = ?, status = 'unchecked', "
	"last_error = NULL, generation = generation + 1, claimed_until = NULL, updated_at = UTC_TIMESTAMP(3) "
	"WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_DELETE[] = "UPDATE mcp_servers SET deleted_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) "
				 "WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_DUE[] =
	"SELECT id, account_id, url, credential_id, generation FROM mcp_servers "
	"WHERE status = 'unchecked' AND enabled = 1 AND deleted_at IS NULL "
	"AND (claimed_until IS NULL OR claimed_until < UTC_TIMESTAMP(3)) ORDER BY updated_at LIMIT ? "
	"FOR UPDATE SKIP LOCKED";
static const char SQL_CLAIM[] =
	"UPDATE mcp_servers SET claimed_until = UTC_TIMESTAMP(3) + INTERVAL ? SECOND WHERE id = ? AND generation = ?";
static const char SQL_DISCOVERED[] =
	"UPDATE mcp_servers SET status = ?, last_error = ?, tools = COALESCE(?, tools), "
	"last_checked_at = UTC_TIMESTAMP(3), claimed_until = NULL WHERE id = ? AND generation = ? AND deleted_at IS NULL";

static void row_from(arena *a, char **c, void *out)
{
	mcp_server_row *s = out;
	s->id = c[0];
	s->account_id = c[1];
	s->name = c[2];
	s->url = c[3];
	s->transport = c[4];
	s->credential_id = c[5];
	s->enabled = c[6] && c[6][0] == '1';
	s->status = c[7];
	s->last_error = c[8];
	s->tools = c[9];
	s->last_checked_at = store_time(a, c[10]);
	s->created_at = store_time(a, c[11]);
	s->updated_at = store_time(a, c[12]);
	s->generation = c[13] ? strtol(c[13], NULL, 10) : 0;
}

enum store_result store_mcp_server_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
					mcp_server_row **rows, int *n)
{
	void *v;
	enum store_result res =
		store_page(d, a, SQL_FIRST, SQL_NEXT, account_id, before_id, limit, sizeof **rows, row_from, &v, n);
	if (res == STORE_OK)
		*rows = v;
	return res;
}

enum store_result store_mcp_server_get(db *d, arena *a, const char *account_id, const char *id, int for_update,
				       mcp_server_row *out)
{
	return store_account_row(d, a, for_update ? SQL_GET_LOCK : SQL_GET, account_id, id, row_from, out);
}

enum store_result store_mcp_server_count(db *d, arena *a, const char *account_id, long *n)
{
	return store_account_count(d, a, SQL_COUNT, account_id, n);
}

enum store_result store_mcp_server_insert(db *d, arena *a, const char *account_id, const char *id,
					  const mcp_server_fields *f)
{
	store_params p = {0};
	store_param_str(&p, id);
	store_param_str(&p, account_id);
	store_param_str(&p, f->name);
	store_param_str(&p, f->url);
	store_param_str(&p, f->credential_id);
	store_param_int(&p, f->enabled ? 1 : 0);
	return store_exec(d, SQL_INSERT, &p, a, NULL);
}

enum store_result store_mcp_server_update(db *d, arena *a, const char *account_id, const char *id,
					  const mcp_server_fields *f, int recheck)
{
	store_params p = {0};
	store_param_str(&p, f->name);
	store_param_str(&p, f->url);
	store_param_str(&p, f->credential_id);
	store_param_int(&p, f->enabled ? 1 : 0);
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	return store_exec(d, recheck ? SQL_RECHECK : SQL_UPDATE, &p, a, NULL);
}

enum store_result store_mcp_server_delete(db *d, arena *a, const char *account_id, const char *id)
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

enum store_result store_mcp_server_claim(db *d, arena *a, int limit, int claim_seconds, mcp_server_due **rows,
					 int *n)
{
	*n = 0;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	store_params p = {0};
	store_rows r;
	store_param_int(&p, limit);
	if ((res = store_exec(d, SQL_DUE, &p, a, &r)) != STORE_OK) {
		db_rollback(d);
		return res;
	}
	*rows = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++) {
		mcp_server_due *x = &(*rows)[i];
		char **c = r.cell[i];
		x->id = c[0];
		x->account_id = c[1];
		x->url = c[2];
		x->credential_id = c[3];
		x->generation = c[4] ? strtol(c[4], NULL, 10) : 0;
		store_params q = {0};
		store_param_int(&q, claim_seconds);
		store_param_str(&q, x->id);
		store_param_int(&q, x->generation);
		if ((res = store_exec(d, SQL_CLAIM, &q, a, NULL)) != STORE_OK) {
			db_rollback(d);
			return res;
		}
	}
	if ((res = db_commit(d)) != STORE_OK) {
		db_rollback(d);
		return res;
	}
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_mcp_server_discovered(db *d, arena *a, const char *id, long generation, const char *status,
					      const char *last_error, const char *tools, int *stale)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, status);
	store_param_str(&p, last_error);
	store_param_str(&p, tools); /* NULL (a failed discovery) keeps the last good list */
	store_param_str(&p, id);
	store_param_int(&p, generation);
	enum store_result res = store_exec(d, SQL_DISCOVERED, &p, a, &r);
	*stale = res == STORE_OK && r.affected == 0;
	return res;
}
