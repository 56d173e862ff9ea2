/* store_report: the report views' SELECTs (fixed, one per view, filters bound) and the reporting user's DDL. */
#include "store_report.h"
#include "log.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

#define ACCOUNT_FILTER " WHERE (? IS NULL OR account_id = ?)"
#define DAY_FILTER " AND (? IS NULL OR day >= CAST(? AS DATE)) AND (? IS NULL OR day <= CAST(? AS DATE))"

static const report_def REPORTS[] = {
	{"usage_daily_account", "report_usage_daily_account", "API requests per account and UTC day", 1, 5,
	 {{"day", REPORT_TEXT}, {"account_id", REPORT_TEXT}, {"account_name", REPORT_TEXT}, {"requests", REPORT_INT},
	  {"api_keys", REPORT_INT}}},
	{"usage_daily_key", "report_usage_daily_key", "API requests per API key and UTC day", 1, 6,
	 {{"day", REPORT_TEXT}, {"account_id", REPORT_TEXT}, {"api_key_id", REPORT_TEXT}, {"key_name", REPORT_TEXT},
	  {"key_prefix", REPORT_TEXT}, {"requests", REPORT_INT}}},
	{"agent_health", "report_agent_health",
	 "per agent, runs finished in the last 30 days: success rate, p95 duration", 0, 11,
	 {{"account_id", REPORT_TEXT}, {"agent_id", REPORT_TEXT}, {"agent_name", REPORT_TEXT},
	  {"agent_type", REPORT_TEXT}, {"status", REPORT_TEXT}, {"runs_30d", REPORT_INT}, {"succeeded", REPORT_INT},
	  {"failed", REPORT_INT}, {"success_rate", REPORT_DECIMAL}, {"p95_duration_ms", REPORT_INT},
	  {"last_finished_at", REPORT_TIME}}},
	{"keys_unused", "report_keys_unused", "usable API keys never used or not used in 30 days", 0, 9,
	 {{"account_id", REPORT_TEXT}, {"api_key_id", REPORT_TEXT}, {"key_name", REPORT_TEXT},
	  {"key_prefix", REPORT_TEXT}, {"created_at", REPORT_TIME}, {"expires_at", REPORT_TIME},
	  {"last_used_at", REPORT_TIME}, {"state", REPORT_TEXT}, {"idle_days", REPORT_INT}}},
	{"webhook_failures", "report_webhook_failures",
	 "per webhook endpoint, deliveries of the last 30 days and their failure rate", 0, 11,
	 {{"account_id", REPORT_TEXT}, {"endpoint_id", REPORT_TEXT}, {"url_host", REPORT_TEXT}, {"enabled", REPORT_INT},
	  {"disabled_reason", REPORT_TEXT}, {"deliveries_30d", REPORT_INT}, {"succeeded", REPORT_INT},
	  {"failed", REPORT_INT}, {"failure_rate", REPORT_DECIMAL}, {"pending", REPORT_INT},
	  {"last_delivered_at", REPORT_TIME}}},
	{"approvals_waiting", "report_approvals_waiting", "pending approvals, the longest waiting first", 0, 11,
	 {{"account_id", REPORT_TEXT}, {"approval_id", REPORT_TEXT}, {"agent_id", REPORT_TEXT},
	  {"agent_name", REPORT_TEXT}, {"source", REPORT_TEXT}, {"action", REPORT_TEXT}, {"summary", REPORT_TEXT},
	  {"created_at", REPORT_TIME}, {"expires_at", REPORT_TIME}, {"waiting_minutes", REPORT_INT},
	  {"expires_in_minutes", REPORT_INT}}},
};
#define NREPORTS ((int)(sizeof REPORTS / sizeof REPORTS[0]))

/* The SELECT of REPORTS[i]: the same columns in the same order, fixed text (the view name never comes from
 * input; only the filters are bound). */
static const char *const SQL[NREPORTS] = {
	"SELECT day, account_id, account_name, requests, api_keys FROM report_usage_daily_account" ACCOUNT_FILTER
		DAY_FILTER " ORDER BY day, account_id",
	"SELECT day, account_id, api_key_id, key_name, key_prefix, requests FROM report_usage_daily_key"
		ACCOUNT_FILTER DAY_FILTER " ORDER BY day, account_id, api_key_id",
	"SELECT account_id, agent_id, agent_name, agent_type, status, runs_30d, succeeded, failed, success_rate, "
	"p95_duration_ms, last_finished_at FROM report_agent_health" ACCOUNT_FILTER " ORDER BY account_id, agent_id",
	"SELECT account_id, api_key_id, key_name, key_prefix, created_at, expires_at, last_used_at, state, idle_days "
	"FROM report_keys_unused" ACCOUNT_FILTER " ORDER BY account_id, api_key_id",
	"SELECT account_id, endpoint_id, url_host, enabled, disabled_reason, deliveries_30d, succeeded, failed, "
	"failure_rate, pending, last_delivered_at FROM report_webhook_failures" ACCOUNT_FILTER
	" ORDER BY account_id, endpoint_id",
	"SELECT account_id, approval_id, agent_id, agent_name, source, action, summary, created_at, expires_at, "
	"waiting_minutes, expires_in_minutes FROM report_approvals_waiting" ACCOUNT_FILTER
	" ORDER BY created_at, approval_id",
};

const report_def *store_report_all(int *n)
{
	*n = NREPORTS;
	return REPORTS;
}

const report_def *store_report_find(const char *name)
{
	for (int i = 0; i < NREPORTS; i++)
		if (strcmp(REPORTS[i].name, name) == 0)
			return &REPORTS[i];
	return NULL;
}

enum store_result store_report_rows(db *d, arena *a, const report_def *r, const char *account_id, const char *from,
				    const char *to, char ****cells, int *nrows)
{
	int i = (int)(r - REPORTS);
	if (i < 0 || i >= NREPORTS)
		return STORE_ERROR;
	store_params p = {0};
	store_param_str(&p, account_id);
	store_param_str(&p, account_id);
	if (r->has_days) {
		store_param_str(&p, from);
		store_param_str(&p, from);
		store_param_str(&p, to);
		store_param_str(&p, to);
	}
	store_rows rows;
	enum store_result res = store_exec(d, SQL[i], &p, a, &rows);
	if (res != STORE_OK)
		return res;
	if (rows.ncols != r->ncols) {
		log_error("report %s: %d columns, expected %d", r->name, rows.ncols, r->ncols);
		return STORE_ERROR;
	}
	for (int row = 0; row < rows.nrows; row++)
		for (int c = 0; c < r->ncols; c++)
			if (r->cols[c].kind == REPORT_TIME)
				rows.cell[row][c] = store_time(a, rows.cell[row][c]);
	*cells = rows.cell;
	*nrows = rows.nrows;
	return STORE_OK;
}

int store_report_valid_user(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int store_report_valid_host(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 60)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr(".%_:-", s[i])))
			return 0;
	return 1;
}

static int valid_hash(const char *s)
{
	if (strlen(s) != 41 || s[0] != '*')
		return 0;
	for (int i = 1; i < 41; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int valid_db_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '$'))
			return 0;
	return 1;
}

/* Runs one DDL statement; STORE_OK, STORE_CONFLICT (1396: the user exists), STORE_UNAVAILABLE (connection
 * lost) or STORE_ERROR, logged with the server's message (never a password: the text holds only a hash). */
static enum store_result ddl(MYSQL *m, const char *sql)
{
	if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) == 0) {
		MYSQL_RES *res = mysql_store_result(m);
		if (res)
			mysql_free_result(res);
		return STORE_OK;
	}
	unsigned int e = mysql_errno(m);
	if (e == 1396)
		return STORE_CONFLICT;
	log_error("mariadb error %u: %s; statement: %.60s", e, mysql_error(m), sql);
	return e >= 2000 && e < 3000 ? STORE_UNAVAILABLE : STORE_ERROR;
}

enum store_result store_report_create_user(db *d, const char *name, const char *host, const char *hash)
{
	if (!store_report_valid_user(name) || !store_report_valid_host(host) || !valid_hash(hash))
		return STORE_ERROR;
	MYSQL *m = store_connection(d);
	if (!m)
		return STORE_UNAVAILABLE;
	/* Account names, hosts and identifiers cannot be bound parameters in CREATE USER or GRANT: this text is
	 * built, from NAME and HOST checked against a strict alphabet (no quote, backslash or backtick can occur),
	 * the database's own name and the fixed view names. */
	char dbname[80] = "";
	if (mysql_real_query(m, "SELECT DATABASE()", 17) != 0)
		return ddl(m, "SELECT DATABASE()");
	MYSQL_RES *res = mysql_store_result(m);
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
	if (row && row[0])
		snprintf(dbname, sizeof dbname, "%s", row[0]);
	if (res)
		mysql_free_result(res);
	if (!valid_db_name(dbname)) {
		log_error("reporting user: unexpected current database name");
		return STORE_ERROR;
	}
	char sql[512];
	snprintf(sql, sizeof sql, "CREATE USER '%s'@'%s' IDENTIFIED BY PASSWORD '%s'", name, host, hash);
	enum store_result r = ddl(m, sql);
	if (r != STORE_OK)
		return r;
	for (int i = 0; i < NREPORTS && r == STORE_OK; i++) {
		snprintf(sql, sizeof sql, "GRANT SELECT ON `%s`.`%s` TO '%s'@'%s'", dbname, REPORTS[i].view, name,
			 host);
		r = ddl(m, sql);
	}
	if (r != STORE_OK) {
		snprintf(sql, sizeof sql, "DROP USER IF EXISTS '%s'@'%s'", name, host);
		if (ddl(m, sql) != STORE_OK)
			log_error("reporting user %s@%s was created but its grants failed, and it could not be dropped",
				  name, host);
		return r == STORE_CONFLICT ? STORE_ERROR : r;
	}
	return STORE_OK;
}
