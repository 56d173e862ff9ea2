/* migrate: schema migrations from sql/NNN_name.sql files, recorded in schema_migrations, and the report views
 * of sql/reports/. */
#include "migrate.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 512
#define MAX_SQL_BYTES (4 * 1024 * 1024)

/* Migration files, named NNN_words.sql (three digits, lowercase words). */
static int is_migration_name(const char *n)
{
	size_t len = strlen(n);
	if (len < 9 || len > 100 || strcmp(n + len - 4, ".sql") != 0 || n[3] != '_')
		return 0;
	for (int i = 0; i < 3; i++)
		if (n[i] < '0' || n[i] > '9')
			return 0;
	for (size_t i = 4; i < len - 4; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return 0;
	return 1;
}

/* Report view files of sql_dir/reports: words.sql (lowercase words), each CREATE OR REPLACE VIEW only. */
static int is_report_name(const char *n)
{
	size_t len = strlen(n);
	if (len < 5 || len > 100 || strcmp(n + len - 4, ".sql") != 0)
		return 0;
	for (size_t i = 0; i < len - 4; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return 0;
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(MAX_SQL_BYTES + 1);
	if (!buf)
		abort();
	size_t n = fread(buf, 1, MAX_SQL_BYTES + 1, f);
	fclose(f);
	if (n > MAX_SQL_BYTES) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Runs trusted migration text (possibly several statements) and drains every result. */
static int run_script(MYSQL *m, const char *sql, size_t len)
{
	/* Migration files are part of the release, never input: this is the only multi-statement text. */
	if (mysql_real_query(m, sql, (unsigned long)len) != 0)
		return -1;
	for (;;) {
		MYSQL_RES *res = mysql_store_result(m);
		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(m) != 0)
			return -1;
		int more = mysql_next_result(m);
		if (more > 0)
			return -1;
		if (more < 0)
			return 0;
	}
}

static int query_fixed(MYSQL *m, const char *sql)
{
	if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0)
		return -1;
	MYSQL_RES *res = mysql_store_result(m);
	if (res)
		mysql_free_result(res);
	return 0;
}

/* Lists the names in DIR that ACCEPT takes, sorted, into NAMES (each malloc'd). Returns the count, or -1 with
 * errno set when DIR cannot be opened. */
static int list_sorted(const char *dir_path, int (*accept)(const char *), char **names)
{
	DIR *dir = opendir(dir_path);
	if (!dir)
		return -1;
	int count = 0;
	struct dirent *de;
	while ((de = readdir(dir)) && count < MAX_FILES)
		if (accept(de->d_name)) {
			names[count] = strdup(de->d_name);
			if (!names[count])
				abort();
			count++;
		}
	closedir(dir);
	qsort(names, (size_t)count, sizeof *names, cmp_names);
	return count;
}

/* Runs every file of sql_dir/reports (a missing folder has none). They only CREATE OR REPLACE views, so
 * running them on every migrate is idempotent and keeps the views equal to the release's text: one copy of
 * each view's SQL, no numbered duplicate. */
static int apply_reports(MYSQL *m, const char *sql_dir, int *views, char *err, size_t errlen)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/reports", sql_dir);
	char *names[MAX_FILES];
	int count = list_sorted(dir, is_report_name, names);
	if (count < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < count; i++) {
		if (rc == 0) {
			char path[4200];
			size_t len = 0;
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			char *sql = read_file(path, &len);
			if (!sql) {
				snprintf(err, errlen, "%s: cannot read (or larger than 4 MiB)", path);
				rc = -1;
			} else if (run_script(m, sql, len) != 0) {
				snprintf(err, errlen, "reports/%s failed: %s", names[i], mysql_error(m));
				rc = -1;
			} else {
				(*views)++;
			}
			free(sql);
		}
		free(names[i]);
	}
	return rc;
}

static const char SQL_APPLIED[] = "SELECT version FROM schema_migrations WHERE version = ?";
static const char SQL_RECORD[] =
	"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(3))";

int migrate_run(db *d, const char *sql_dir, int *views, char *err, size_t errlen)
{
	*views = 0;
	MYSQL *m = store_connection(d);
	if (!m) {
		snprintf(err, errlen, "MariaDB is unreachable");
		return -2;
	}
	if (query_fixed(m, "SELECT GET_LOCK('agentplatform_migrate', 60)") != 0 ||
	    query_fixed(m, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			   " version INT UNSIGNED NOT NULL PRIMARY KEY,"
			   " name VARCHAR(100) NOT NULL,"
			   " applied_at DATETIME(3) NOT NULL"
			   ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4") != 0) {
		snprintf(err, errlen, "cannot prepare schema_migrations: %s", mysql_error(m));
		return -1;
	}
	if (mysql_set_server_option(m, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0) {
		snprintf(err, errlen, "cannot enable multi-statement mode: %s", mysql_error(m));
		return -1;
	}

	char *names[MAX_FILES];
	int count = list_sorted(sql_dir, is_migration_name, names);
	if (count < 0) {
		snprintf(err, errlen, "sql_dir %s: %s", sql_dir, strerror(errno));
		return -1;
	}

	arena *a = arena_new();
	int applied = 0, rc = 0;
	for (int i = 0; i < count && rc == 0; i++) {
		long version = strtol(names[i], NULL, 10);
		store_params p = {0};
		store_rows r;
		store_param_int(&p, version);
		enum store_result res = store_exec(d, SQL_APPLIED, &p, a, &r);
		if (res != STORE_OK) {
			snprintf(err, errlen, "cannot read schema_migrations");
			rc = res == STORE_UNAVAILABLE ? -2 : -1;
			break;
		}
		if (r.nrows > 0)
			continue;
		char path[4096];
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s", sql_dir, names[i]);
		char *sql = read_file(path, &len);
		if (!sql) {
			snprintf(err, errlen, "%s: cannot read (or larger than 4 MiB)", path);
			rc = -1;
			break;
		}
		if (run_script(m, sql, len) != 0) {
			snprintf(err, errlen, "%s failed: %s", names[i], mysql_error(m));
			rc = -1;
		} else {
			store_params q = {0};
			store_param_int(&q, version);
			store_param_str(&q, names[i]);
			if (store_exec(d, SQL_RECORD, &q, a, NULL) != STORE_OK) {
				snprintf(err, errlen, "%s applied but could not be recorded", names[i]);
				rc = -1;
			} else {
				printf("applied %s\n", names[i]);
				applied++;
			}
		}
		free(sql);
		arena_reset(a);
	}
	arena_free(a);
	for (int i = 0; i < count; i++)
		free(names[i]);
	if (rc == 0) {
		MYSQL *now = store_connection(d);
		if (!now) {
			snprintf(err, errlen, "MariaDB is unreachable");
			rc = -2;
		} else if (apply_reports(now, sql_dir, views, err, errlen) != 0) {
			rc = -1;
		}
	}
	if (store_connection(d))
		query_fixed(store_connection(d), "SELECT RELEASE_LOCK('agentplatform_migrate')");
	return rc == 0 ? applied : rc;
}
