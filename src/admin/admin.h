/* admin: shared state and exit codes of agentplatform-admin's subcommands. */
#ifndef AP_ADMIN_H
#define AP_ADMIN_H

#include "arena.h"
#include "db.h"
#include "settings.h"

enum admin_exit { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_DB_DOWN = 3 };

typedef struct admin_ctx {
	settings *cfg;
	db *db;
	arena *a;
} admin_ctx;

/* Each returns an admin_exit status. ARGV[0] is the subcommand group ("account", "key", "report", "reporting-user"). */
int admin_account(admin_ctx *c, int argc, char **argv);
int admin_connection(admin_ctx *c, int argc, char **argv);
int admin_key(admin_ctx *c, int argc, char **argv);
int admin_report(admin_ctx *c, int argc, char **argv);
int admin_reporting_user(admin_ctx *c, int argc, char **argv);
int admin_rotate_master_key(admin_ctx *c, int argc, char **argv);

/* Maps a failed store result to an exit status, printing WHAT and the reason to stderr. */
int admin_store_failure(int store_result, const char *what);

/* Writes an audit row for a CLI action (actor "cli"). Returns the store result. */
int admin_audit(admin_ctx *c, const char *account_id, const char *action, const char *target_type,
		const char *target_id, const char *changes_json);

#endif
