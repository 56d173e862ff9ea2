/* migrate: applies the numbered SQL files of sql_dir that schema_migrations does not list yet, then the report
 * views of sql_dir/reports. */
#ifndef AP_MIGRATE_H
#define AP_MIGRATE_H

#include "db.h"

/* Applies pending migrations in order under a named lock (two admins cannot interleave), recording each.
 * Prints one line per applied file to stdout. Then, when all are applied, runs each .sql file of sql_dir/reports
 * (CREATE OR REPLACE VIEW report_*: idempotent, run every time), counting them in *VIEWS. Returns the number
 * of migrations applied (0: already current), -1 on a failed migration or view file (message in ERR), or -2
 * if MariaDB is unreachable. */
int migrate_run(db *d, const char *sql_dir, int *views, char *err, size_t errlen);

#endif
