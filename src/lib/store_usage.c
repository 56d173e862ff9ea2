/* store_usage: statements on usage_daily and usage_flushes, and the usage report's run and signal counts. */
#include "store_usage.h"
#include "store.h"
#include "ids.h"
#include "store_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char SQL_FLUSH_STATE[] =
	"SELECT TIMESTAMPDIFF(SECOND, flushed_at, UTC_TIMESTAMP(3)) FROM usage_flushes WHERE flush_id = ?";
static const char SQL_FLUSH_INSERT[] = "INSERT INTO usage_flushes (flush_id, flushed_at) VALUES (?, UTC_TIMESTAMP(3))";
static const char SQL_DAILY_ADD[] =
	"INSERT INTO usage_daily (account_id, api_key_id, day, requests) VALUES (?, ?, CAST(? AS DATE), ?) "
	"ON DUPLICATE KEY UPDATE requests = requests + VALUES(requests)";
static const char SQL_FLUSH_PURGE[] =
	"DELETE FROM usage_flushes WHERE flushed_at < UTC_TIMESTAMP(3) - INTERVAL ? DAY LIMIT ?";
static const char SQL_FLUSH_APPLIED[] = "SELECT 1 FROM usage_flushes WHERE flush_id = ?";
static const char SQL_REQUESTS[] =
	"SELECT DATE_FORMAT(day, '%Y-%m-%d'), api_key_id, requests FROM usage_daily "
	"WHERE account_id = ? AND day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) ORDER BY day, api_key_id";
static const char SQL_RUNS[] =
	"SELECT DATE_FORMAT(queued_at, '%Y-%m-%d') AS d, status, COUNT(*) FROM runs "
	"WHERE account_id = ? AND queued_at >= CAST(? AS DATE) AND queued_at < CAST(? AS DATE) + INTERVAL 1 DAY "
	"GROUP BY d, status";
static const char SQL_RUN_TIME[] =
	"SELECT DATE_FORMAT(queued_at, '%Y-%m-%d') AS d, "
	"CAST(SUM(TIMESTAMPDIFF(MICROSECOND, started_at, finished_at) DIV 1000) AS SIGNED) FROM runs "
	"WHERE account_id = ? AND queued_at >= CAST(? AS DATE) AND queued_at < CAST(? AS DATE) + INTERVAL 1 DAY "
	"AND started_at IS NOT NULL AND finished_at IS NOT NULL GROUP BY d";
static const char SQL_SIGNALS[] =
	"SELECT DATE_FORMAT(created_at, '%Y-%m-%d') AS d, COUNT(*) FROM signals "
	"WHERE account_id = ? AND created_at >= CAST(? AS DATE) AND created_at < CAST(? AS DATE) + INTERVAL 1 DAY "
	"GROUP BY d";

/* Webhook deliveries that finished, by the day they did (succeeded: delivered; failed: the last attempt). */
static const char SQL_DELIVERIES[] =
	"SELECT DATE_FORMAT(COALESCE(delivered_at, updated_at), '%Y-%m-%d') AS d, status, COUNT(*) FROM webhook_deliveries "
	"WHERE account_id = ? AND status IN ('succeeded', 'failed') "
	"AND COALESCE(delivered_at, updated_at) >= CAST(? AS DATE) "
	"AND COALESCE(delivered_at, updated_at) < CAST(? AS DATE) + INTERVAL 1 DAY GROUP BY d, status";

/* MCP tool calls by the day they were made: their audit entries, bounded on the time-sortable id so the count
 * is one range of the index (account_id, action, id) whatever the account's history. */
static const char SQL_MCP_TOOL_CALLS[] =
	"SELECT DATE_FORMAT(created_at, '%Y-%m-%d') AS d, COUNT(*) FROM audit_logs "
	"WHERE account_id = ? AND action = '" USAGE_MCP_TOOL_ACTION "' AND id >= ? AND id < ? GROUP BY d";

static long long cell_ll(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

enum store_result store_usage_flush_state(db *d, arena *a, const char *flush_id, int *applied, long long *age_s)
{
	store_params p = {0};
	store_param_str(&p, flush_id);
	store_rows r;
	enum store_result res = store_exec(d, SQL_FLUSH_STATE, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*applied = r.nrows > 0;
	*age_s = r.nrows > 0 ? cell_ll(r.cell[0][0]) : 0;
	return STORE_OK;
}

enum store_result store_usage_apply(db *d, arena *a, const char *flush_id, const char *account_id, const char *day,
				    char **fields, const long long *values, int n)
{
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	/* The flush id first: a concurrent replay of the same key waits on this row, then gets a conflict. */
	store_params p = {0};
	store_param_str(&p, flush_id);
	res = store_exec(d, SQL_FLUSH_INSERT, &p, a, NULL);
	for (int i = 0; i < n && res == STORE_OK; i++) {
		store_params q = {0};
		store_param_str(&q, account_id);
		store_param_str(&q, fields[i]);
		store_param_str(&q, day);
		store_param_int(&q, values[i]);
		res = store_exec(d, SQL_DAILY_ADD, &q, a, NULL);
	}
	if (res == STORE_OK)
		res = db_commit(d);
	if (res != STORE_OK)
		db_rollback(d);
	return res;
}

enum store_result store_usage_purge_flushes(db *d, arena *a, int days, int limit, long *n)
{
	store_params p = {0};
	store_param_int(&p, days);
	store_param_int(&p, limit);
	store_rows r;
	enum store_result res = store_exec(d, SQL_FLUSH_PURGE, &p, a, &r);
	*n = res == STORE_OK ? (long)r.affected : 0;
	return res;
}

enum store_result store_usage_flush_applied(db *d, arena *a, const char *flush_id, int *applied)
{
	store_params p = {0};
	store_param_str(&p, flush_id);
	store_rows r;
	enum store_result res = store_exec(d, SQL_FLUSH_APPLIED, &p, a, &r);
	if (res == STORE_OK)
		*applied = r.nrows > 0;
	return res;
}

static enum store_result range_query(db *d, arena *a, const char *sql, const char *account_id, const char *from,
				     const char *to, store_rows *r)
{
	store_params p = {0};
	store_param_str(&p, account_id);
	store_param_str(&p, from);
	store_param_str(&p, to);
	return store_exec(d, sql, &p, a, r);
}

enum store_result store_usage_requests(db *d, arena *a, const char *account_id, const char *from, const char *to,
				       usage_day_key **rows, int *n)
{
	store_rows r;
	enum store_result res = range_query(d, a, SQL_REQUESTS, account_id, from, to, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++)
		(*rows)[i] = (usage_day_key){r.cell[i][0], r.cell[i][1], cell_ll(r.cell[i][2])};
	*n = r.nrows;
	return STORE_OK;
}

static enum store_result day_status(db *d, arena *a, const char *sql, const char *account_id, const char *from,
				    const char *to, usage_day_status **rows, int *n)
{
	store_rows r;
	enum store_result res = range_query(d, a, sql, account_id, from, to, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++)
		(*rows)[i] = (usage_day_status){r.cell[i][0], r.cell[i][1], cell_ll(r.cell[i][2])};
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_usage_runs(db *d, arena *a, const char *account_id, const char *from, const char *to,
				   usage_day_status **rows, int *n)
{
	return day_status(d, a, SQL_RUNS, account_id, from, to, rows, n);
}

enum store_result store_usage_deliveries(db *d, arena *a, const char *account_id, const char *from, const char *to,
					 usage_day_status **rows, int *n)
{
	return day_status(d, a, SQL_DELIVERIES, account_id, from, to, rows, n);
}

static enum store_result day_values(db *d, arena *a, const char *sql, const char *account_id, const char *from,
				    const char *to, usage_day_value **rows, int *n)
{
	store_rows r;
	enum store_result res = range_query(d, a, sql, account_id, from, to, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++)
		(*rows)[i] = (usage_day_value){r.cell[i][0], cell_ll(r.cell[i][1])};
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_usage_run_time(db *d, arena *a, const char *account_id, const char *from, const char *to,
				       usage_day_value **rows, int *n)
{
	return day_values(d, a, SQL_RUN_TIME, account_id, from, to, rows, n);
}

/* Milliseconds since the epoch of the UTC midnight starting DAY (yyyy-mm-dd), or -1. */
static int64_t day_start_ms(const char *day)
{
	struct tm tm = {0};
	if (!day || sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000;
}

enum store_result store_usage_mcp_tool_calls(db *d, arena *a, const char *account_id, const char *from, const char *to,
					     usage_day_value **rows, int *n)
{
	int64_t f = day_start_ms(from), t = day_start_ms(to);
	if (f < 0 || t < 0)
		return STORE_ERROR;
	char lo[IDS_MAX_LEN], hi[IDS_MAX_LEN];
	store_audit_id_floor(f, lo);
	store_audit_id_floor(t + 86400000, hi);
	return day_values(d, a, SQL_MCP_TOOL_CALLS, account_id, lo, hi, rows, n);
}

enum store_result store_usage_signals(db *d, arena *a, const char *account_id, const char *from, const char *to,
				      usage_day_value **rows, int *n)
{
	return day_values(d, a, SQL_SIGNALS, account_id, from, to, rows, n);
}
