/* store_agent: statements on agents. */
#include "store_agent.h"
#include "ids.h"
#include "store.h"

#include <stdlib.h>

/* The sealed hook secret is "VERSION:HEX", NULL only when there is none: a secret whose key version is missing
 * reads as version 0, which opens under no key, so the hook fails closed instead of reading as unsigned. */
#define COLUMNS \
	"id, account_id, name, type, status, schedule, timezone, config, created_at, updated_at, last_run_at, next_run_at, " \
	"hook_hint, IF(hook_secret_enc IS NULL, NULL, CONCAT(COALESCE(hook_secret_key_version, 0), ':', HEX(hook_secret_enc))), " \
	"paused, require_approval, COALESCE(approval_timeout_seconds, -1)"

static const char SQL_FIRST_PAGE[] = "SELECT " COLUMNS " FROM agents WHERE account_id = ? AND deleted_at IS NULL "
				     "ORDER BY id DESC LIMIT ?";
static const char SQL_NEXT_PAGE[] = "SELECT " COLUMNS " FROM agents WHERE account_id = ? AND deleted_at IS NULL "
				    "AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_GET[] = "SELECT " COLUMNS " FROM agents WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_GET_LOCK[] =
	"SELECT " COLUMNS " FROM agents WHERE account_id = ? AND id = ? AND deleted_at IS NULL FOR UPDATE";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM agents WHERE account_id = ? AND deleted_at IS NULL";
static const char SQL_INSERT[] =
	"INSERT INTO agents (id, account_id, name, type, schedule, timezone, config, require_approval, "
	"approval_timeout_seconds, created_at, updated_at, next_run_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, -1), "
	"UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), IF(? < 0, NULL, FROM_UNIXTIME(? / 1000)))";
static const char SQL_UPDATE[] =
	"UPDATE agents SET name = ?, type = ?, schedule = ?, timezone = ?, config = ?, require_approval = ?, "
	"approval_timeout_seconds = NULLIF(?, -1), updated_at = UTC_TIMESTAMP(3), "
	"next_run_at = IF(? < 0, NULL, FROM_UNIXTIME(? / 1000)) WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_DELETE[] = "UPDATE agents SET deleted_at = UTC_TIMESTAMP(3), next_run_at = NULL, "
				 "updated_at = UTC_TIMESTAMP(3) WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_PAUSE[] = "UPDATE agents SET paused = ?, updated_at = UTC_TIMESTAMP(3) "
				"WHERE account_id = ? AND id = ? AND deleted_at IS NULL AND paused <> ?";

static const char SQL_SET_HOOK[] =
	"UPDATE agents SET hook_token_hash = ?, hook_hint = ?, hook_secret_enc = ?, hook_secret_key_version = ?, "
	"updated_at = UTC_TIMESTAMP(3) WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_BY_HOOK[] = "SELECT " COLUMNS " FROM agents WHERE hook_token_hash = ? AND deleted_at IS NULL";
static const char SQL_RESCHEDULE[] = "UPDATE agents SET next_run_at = IF(? < 0, NULL, FROM_UNIXTIME(? / 1000)) "
				     "WHERE account_id = ? AND id = ? AND deleted_at IS NULL";

static void row_from(arena *a, char **c, void *out)
{
	agent_row *g = out;
	g->id = c[0];
	g->account_id = c[1];
	g->name = c[2];
	g->type = c[3];
	g->status = c[4];
	g->schedule = c[5];
	g->timezone = c[6];
	g->config = c[7];
	g->created_at = store_time(a, c[8]);
	g->updated_at = store_time(a, c[9]);
	g->last_run_at = store_time(a, c[10]);
	g->next_run_at = store_time(a, c[11]);
	g->hook_hint = c[12];
	g->hook_secret_hex = c[13];
	g->paused = c[14] && c[14][0] == '1';
	g->require_approval = c[15] && c[15][0] == '1';
	g->approval_timeout_seconds = c[16] ? strtol(c[16], NULL, 10) : -1;
}

enum store_result store_agent_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
				   agent_row **rows, int *n)
{
	void *v;
	enum store_result res =
		store_page(d, a, SQL_FIRST_PAGE, SQL_NEXT_PAGE, account_id, before_id, limit, sizeof **rows, row_from, &v, n);
	if (res == STORE_OK)
		*rows = v;
	return res;
}

enum store_result store_agent_get(db *d, arena *a, const char *account_id, const char *id, int for_update,
				  agent_row *out)
{
	return store_account_row(d, a, for_update ? SQL_GET_LOCK : SQL_GET, account_id, id, row_from, out);
}

enum store_result store_agent_count(db *d, arena *a, const char *account_id, long *n)
{
	return store_account_count(d, a, SQL_COUNT, account_id, n);
}

static void bind_fields(store_params *p, const agent_fields *f)
{
	store_param_str(p, f->name);
	store_param_str(p, f->type);
	store_param_str(p, f->schedule);
	store_param_str(p, f->timezone);
	store_param_str(p, f->config);
	store_param_int(p, f->require_approval);
	store_param_int(p, f->approval_timeout_seconds);
}

enum store_result store_agent_insert(db *d, arena *a, const char *account_id, const agent_fields *f, char *id_out)
{
	store_params p = {0};
	ids_new("agt_", id_out);
	store_param_str(&p, id_out);
	store_param_str(&p, account_id);
	bind_fields(&p, f);
	store_param_int(&p, f->next_run_ms);
	store_param_int(&p, f->next_run_ms);
	return store_exec(d, SQL_INSERT, &p, a, NULL);
}

enum store_result store_agent_update(db *d, arena *a, const char *account_id, const char *id, const agent_fields *f)
{
	store_params p = {0};
	store_rows r;
	bind_fields(&p, f);
	store_param_int(&p, f->next_run_ms);
	store_param_int(&p, f->next_run_ms);
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_UPDATE, &p, a, &r);
	if (res == STORE_OK && r.affected == 0)
		return STORE_NOT_FOUND;
	return res;
}

enum store_result store_agent_delete(db *d, arena *a, const char *account_id, const char *id)
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

enum store_result store_agent_set_paused(db *d, arena *a, const char *account_id, const char *id, int paused)
{
	store_params p = {0};
	store_param_int(&p, paused ? 1 : 0);
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	store_param_int(&p, paused ? 1 : 0);
	return store_exec(d, SQL_PAUSE, &p, a, NULL);
}

enum store_result store_agent_set_hook(db *d, arena *a, const char *account_id, const char *id,
				       const unsigned char hash[32], const char *hint, const unsigned char *secret,
				       size_t secret_len, int key_version)
{
	store_params p = {0};
	store_param_bytes(&p, hash, 32);
	store_param_str(&p, hint);
	if (secret) {
		store_param_bytes(&p, secret, secret_len);
		store_param_int(&p, key_version);
	} else {
		store_param_null(&p);
		store_param_null(&p);
	}
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	return store_exec(d, SQL_SET_HOOK, &p, a, NULL);
}

enum store_result store_agent_find_by_hook(db *d, arena *a, const unsigned char hash[32], agent_row *out)
{
	store_params p = {0};
	store_rows r;
	store_param_bytes(&p, hash, 32);
	enum store_result res = store_exec(d, SQL_BY_HOOK, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	row_from(a, r.cell[0], out);
	return STORE_OK;
}

enum store_result store_agent_reschedule(db *d, arena *a, const char *account_id, const char *id, int64_t next_ms)
{
	store_params p = {0};
	store_param_int(&p, next_ms);
	store_param_int(&p, next_ms);
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	return store_exec(d, SQL_RESCHEDULE, &p, a, NULL);
}
