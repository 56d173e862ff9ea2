/* store_usage: usage_daily and usage_flushes (API request counts flushed from Redis), and the usage report's
 * counts of runs and signals. */
#ifndef AP_STORE_USAGE_H
#define AP_STORE_USAGE_H

#include "arena.h"
#include "db.h"

/* ---- the flush (scheduler) ---- */

/* Whether flush FLUSH_ID has been applied: *APPLIED 1 (with *AGE_S, seconds since) or 0. */
enum store_result store_usage_flush_state(db *d, arena *a, const char *flush_id, int *applied, long long *age_s);

/* In ONE transaction: records FLUSH_ID in usage_flushes and adds VALUES[i] requests of key FIELDS[i] to
 * ACCOUNT_ID's row of DAY (yyyy-mm-dd). STORE_CONFLICT (nothing added) when FLUSH_ID was already applied. */
enum store_result store_usage_apply(db *d, arena *a, const char *flush_id, const char *account_id, const char *day,
				    char **fields, const long long *values, int n);

/* Deletes up to LIMIT usage_flushes rows older than DAYS days (their flush keys are long gone). */
enum store_result store_usage_purge_flushes(db *d, arena *a, int days, int limit, long *n);

/* ---- the report (API) ---- */

/* 1 when FLUSH_ID is recorded (as seen by the current transaction's snapshot), else 0. */
enum store_result store_usage_flush_applied(db *d, arena *a, const char *flush_id, int *applied);

typedef struct usage_day_key {
	char *day, *key_id;
	long long requests;
} usage_day_key;

typedef struct usage_day_status {
	char *day, *status;
	long long count;
} usage_day_status;

typedef struct usage_day_value {
	char *day;
	long long value;
} usage_day_value;

/* Flushed API requests of ACCOUNT_ID per day and key, FROM..TO (yyyy-mm-dd, inclusive). */
enum store_result store_usage_requests(db *d, arena *a, const char *account_id, const char *from, const char *to,
				       usage_day_key **rows, int *n);
/* Runs per day (of queued_at, UTC) and status. */
enum store_result store_usage_runs(db *d, arena *a, const char *account_id, const char *from, const char *to,
				   usage_day_status **rows, int *n);
/* Webhook deliveries that finished in [FROM, TO] by UTC day and status (succeeded | failed). */
enum store_result store_usage_deliveries(db *d, arena *a, const char *account_id, const char *from, const char *to,
					 usage_day_status **rows, int *n);
/* Milliseconds between start and finish of the finished runs, summed per day of queued_at. */
enum store_result store_usage_run_time(db *d, arena *a, const char *account_id, const char *from, const char *to,
				       usage_day_value **rows, int *n);
/* The audit action of one MCP tool call (src/api/mcp_tools.c writes it; usage counts it). */
#define USAGE_MCP_TOOL_ACTION "mcp_tool.called"
/* MCP tool calls of ACCOUNT_ID per UTC day FROM..TO (yyyy-mm-dd, inclusive), from their audit entries. */
enum store_result store_usage_mcp_tool_calls(db *d, arena *a, const char *account_id, const char *from, const char *to,
					     usage_day_value **rows, int *n);
/* Signals per day of created_at. */
enum store_result store_usage_signals(db *d, arena *a, const char *account_id, const char *from, const char *to,
				      usage_day_value **rows, int *n);

#endif
