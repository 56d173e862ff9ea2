/* migrate: applies the numbered SQL files of sql_dir that schema_migrations does not list yet. */
#ifndef AP_MIGRATE_H
#define AP_MIGRATE_H

#include "db.h"

/* Applies pending migrations in order under a named lock (two admins cannot interleave), recording each.
 * Prints one line per applied file to stdout. Returns the number applied (0: already current), -1 on a
 * failed migration (message in ERR), or -2 if MariaDB is unreachable. */
int migrate_run(db *d, const char *sql_dir, char *err, size_t errlen);

#endif
