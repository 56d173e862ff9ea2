/* main: agentplatform-admin — migrations, accounts, API keys and SQL reports from the command line. */
#include "admin.h"
#include "log.h"
#include "migrate.h"
#include "store_audit.h"

#include <stdio.h>
#include <string.h>

static const char USAGE[] =
	"usage: agentplatform-admin [--config FILE] COMMAND ...\n"
	"\n"
	"commands:\n"
	"  migrate                       apply pending SQL migrations from sql_dir\n"
	"  account create NAME           create an account; prints its id\n"
	"  account list                  list accounts\n"
	"  key create --account ID --name NAME --scopes SCOPES [--expires 30d|60d|90d|1y|never] [--rate-limit N]\n"
	"                                create an API key; prints the key once\n"
	"  key list [--account ID]       list API keys (never the keys themselves)\n"
	"  key revoke ID                 revoke an API key\n"
	"  connection add --account ID --provider caldav --url URL --credential ID [--name NAME] [--login LOGIN]\n"
	"                                add a calendar connection; prints its id\n"
	"  connection list --account ID  list an account's calendar connections\n"
	"  connection remove --account ID CONNECTION_ID\n"
	"                                remove a calendar connection\n"
	"  report NAME [--account ID] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|csv|json]\n"
	"                                run a report view (report --help lists them)\n"
	"  reporting-user create NAME [--host HOST]\n"
	"                                a MariaDB user that may only read the report views; password on stdin\n"
	"  rotate-master-key [--dry-run] re-encrypt every stored secret under the configured master_key\n"
	"                                (rotate-master-key --help: the zero-downtime procedure)\n"
	"\n"
	"The config comes from --config FILE or $AGENTPLATFORM_CONFIG; AGENTPLATFORM_<SETTING> overrides one setting.\n"
	"Exit status: 0 ok, 1 failure, 2 usage or validation error, 3 database unreachable.\n"
	"Run 'agentplatform-admin COMMAND --help' for a command's options.\n";

int admin_store_failure(int res, const char *what)
{
	if (res == STORE_UNAVAILABLE) {
		fprintf(stderr, "agentplatform-admin: %s: the database is unreachable\n", what);
		return EXIT_DB_DOWN;
	}
	if (res == STORE_NOT_FOUND) {
		fprintf(stderr, "agentplatform-admin: %s: not found\n", what);
		return EXIT_USAGE;
	}
	fprintf(stderr, "agentplatform-admin: %s failed (see the log)\n", what);
	return EXIT_FAIL;
}

int admin_audit(admin_ctx *c, const char *account_id, const char *action, const char *target_type,
		const char *target_id, const char *changes_json)
{
	audit_entry e = {
		.account_id = account_id,
		.action = action,
		.actor = "cli",
		.target_type = target_type,
		.target_id = target_id,
		.changes = changes_json,
	};
	return store_audit_insert(c->db, c->a, &e);
}

static int run_migrate(admin_ctx *c, int argc, char **argv)
{
	if (argc > 1) {
		printf("usage: agentplatform-admin migrate\n"
		       "Applies the numbered files of sql_dir that are not yet recorded in schema_migrations,\n"
		       "then re-creates the report views of sql_dir/reports (CREATE OR REPLACE VIEW).\n"
		       "Running it again is a no-op.\n");
		return strcmp(argv[1], "--help") == 0 ? EXIT_OK : EXIT_USAGE;
	}
	char err[512];
	int views = 0;
	int n = migrate_run(c->db, c->cfg->sql_dir, &views, err, sizeof err);
	if (n == -2) {
		fprintf(stderr, "agentplatform-admin: migrate: %s\n", err);
		return EXIT_DB_DOWN;
	}
	if (n < 0) {
		fprintf(stderr, "agentplatform-admin: migrate: %s\n", err);
		return EXIT_FAIL;
	}
	fprintf(stderr, n == 0 ? "schema is up to date\n" : "applied %d migration(s)\n", n);
	fprintf(stderr, "report views: %d file(s) of %s/reports applied\n", views, c->cfg->sql_dir);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *path = settings_take_config_arg(&argc, argv);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "migrate") != 0 && strcmp(cmd, "account") != 0 && strcmp(cmd, "key") != 0 &&
	    strcmp(cmd, "connection") != 0 &&
	    strcmp(cmd, "report") != 0 && strcmp(cmd, "reporting-user") != 0 &&
	    strcmp(cmd, "rotate-master-key") != 0) {
		fprintf(stderr, "agentplatform-admin: unknown command '%s'\n\n%s", cmd, USAGE);
		return EXIT_USAGE;
	}
	char err[512];
	settings *cfg = settings_new(path, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "agentplatform-admin: %s\n", err);
		return EXIT_USAGE;
	}
	/* The CLI logs to stderr whatever log_file says: its user is at the terminal. */
	log_open("admin", cfg->log_level < LOG_WARN ? LOG_WARN : cfg->log_level, NULL);
	admin_ctx c = {.cfg = cfg, .db = db_new(cfg), .a = arena_new()};
	int rc;
	if (strcmp(cmd, "migrate") == 0)
		rc = run_migrate(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "account") == 0)
		rc = admin_account(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "key") == 0)
		rc = admin_key(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "connection") == 0)
		rc = admin_connection(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "report") == 0)
		rc = admin_report(&c, argc - 1, argv + 1);
	else if (strcmp(cmd, "rotate-master-key") == 0)
		rc = admin_rotate_master_key(&c, argc - 1, argv + 1);
	else
		rc = admin_reporting_user(&c, argc - 1, argv + 1);
	arena_free(c.a);
	db_free(c.db);
	settings_free(cfg);
	return rc;
}
