/* connection: `agentplatform-admin connection add|list|remove` — calendar connections are made by an operator. */
#include "admin.h"
#include "caldav.h"
#include "ids.h"
#include "store_account.h"
#include "store_connection.h"
#include "store_credential.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
	"usage: agentplatform-admin connection add --account ID --provider caldav --url URL --credential ID\n"
	"                                          [--name NAME] [--login LOGIN]\n"
	"       agentplatform-admin connection list --account ID\n"
	"       agentplatform-admin connection remove --account ID CONNECTION_ID\n"
	"\n"
	"add: URL is the CalDAV calendar collection (http or https; the outbound URL guard applies when it is used),\n"
	"--credential a live basic_auth or bearer_token credential of the same account. --name defaults to\n"
	"\"CalDAV calendar on HOST\"; --login is the account shown to users (default: the URL's host).\n"
	"add prints the new connection id alone on stdout.\n";

/* HOST[:PORT] of an http(s) URL already checked by caldav_url_check, in the arena. */
static char *url_host(arena *a, const char *url)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	return arena_strndup(a, h, strcspn(h, "/?#"));
}

static int add(admin_ctx *c, int argc, char **argv)
{
	const char *account = NULL, *provider = NULL, *url = NULL, *cred = NULL, *name = NULL, *login = NULL;
	for (int i = 2; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--account") == 0      ? &account
				    : strcmp(argv[i], "--provider") == 0   ? &provider
				    : strcmp(argv[i], "--url") == 0        ? &url
				    : strcmp(argv[i], "--credential") == 0 ? &cred
				    : strcmp(argv[i], "--name") == 0       ? &name
				    : strcmp(argv[i], "--login") == 0      ? &login
									   : NULL;
		if (!slot || i + 1 >= argc) {
			fprintf(stderr, "agentplatform-admin: connection add: unexpected argument '%s'\n\n%s", argv[i], USAGE);
			return EXIT_USAGE;
		}
		*slot = argv[++i];
	}
	if (!account || !provider || !url || !cred) {
		fprintf(stderr, "agentplatform-admin: connection add needs --account, --provider, --url and --credential\n\n%s",
			USAGE);
		return EXIT_USAGE;
	}
	if (strcmp(provider, CONNECTION_PROVIDER_CALDAV) != 0) {
		fprintf(stderr, "agentplatform-admin: --provider must be caldav (got '%s')\n", provider);
		return EXIT_USAGE;
	}
	char why[200];
	if (caldav_url_check(url, why, sizeof why) != 0) {
		fprintf(stderr, "agentplatform-admin: --url: %s\n", why);
		return EXIT_USAGE;
	}
	if (!name)
		name = arena_printf(c->a, "CalDAV calendar on %s", url_host(c->a, url));
	long name_len = util_utf8_length(name, strlen(name));
	if (name_len < 1 || name_len > 200) {
		fprintf(stderr, "agentplatform-admin: --name must be 1 to 200 characters of UTF-8\n");
		return EXIT_USAGE;
	}
	if (!login)
		login = url_host(c->a, url);
	long login_len = util_utf8_length(login, strlen(login));
	if (login_len < 1 || login_len > 320) {
		fprintf(stderr, "agentplatform-admin: --login must be 1 to 320 characters of UTF-8\n");
		return EXIT_USAGE;
	}
	if (!ids_valid("acct_", account)) {
		fprintf(stderr, "agentplatform-admin: unknown account '%s'\n", account);
		return EXIT_USAGE;
	}

	char id[IDS_MAX_LEN];
	ids_new("conn_", id);
	const char *type = NULL;
	int revoked = 0;
	enum store_result res = db_begin(c->db);
	if (res == STORE_OK)
		res = store_account_exists(c->db, c->a, account, 1);
	if (res == STORE_NOT_FOUND) {
		db_rollback(c->db);
		fprintf(stderr, "agentplatform-admin: unknown account '%s'\n", account);
		return EXIT_USAGE;
	}
	if (res == STORE_OK)
		res = ids_valid("cred_", cred) ? store_credential_state(c->db, c->a, account, cred, &type, &revoked)
					       : STORE_NOT_FOUND;
	const char *bad = res == STORE_NOT_FOUND ? "is not a credential of that account"
			  : res != STORE_OK     ? NULL
			  : revoked             ? "is revoked"
			  : strcmp(type, "basic_auth") != 0 && strcmp(type, "bearer_token") != 0
				  ? "must be a basic_auth or bearer_token credential"
				  : NULL;
	if (bad) {
		db_rollback(c->db);
		fprintf(stderr, "agentplatform-admin: --credential %s %s\n", cred, bad);
		return EXIT_USAGE;
	}
	if (res == STORE_OK)
		res = store_connection_insert(c->db, c->a, account, id, provider, name, login, url, cred);
	if (res == STORE_OK) {
		json_t *ch = json_pack("{s:s, s:s, s:s, s:s}", "provider", provider, "display_name", name, "account", login,
				       "credential_id", cred);
		char *text = json_dumps(ch, JSON_COMPACT | JSON_SORT_KEYS);
		res = admin_audit(c, account, "connection.created", "connection", id, text);
		free(text);
		json_decref(ch);
	}
	if (res == STORE_OK)
		res = db_commit(c->db);
	if (res != STORE_OK) {
		db_rollback(c->db);
		return admin_store_failure(res, "connection add");
	}
	printf("%s\n", id);
	fflush(stdout);
	fprintf(stderr, "created connection %s (%s) for %s\n", id, name, account);
	return EXIT_OK;
}

static int list(admin_ctx *c, int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[2], "--account") != 0) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	const char *account = argv[3];
	if (!ids_valid("acct_", account) || store_account_exists(c->db, c->a, account, 0) == STORE_NOT_FOUND) {
		fprintf(stderr, "agentplatform-admin: unknown account '%s'\n", account);
		return EXIT_USAGE;
	}
	connection_row *rows;
	int n;
	enum store_result res = store_connection_list(c->db, c->a, account, NULL, 1000, &rows, &n);
	if (res != STORE_OK)
		return admin_store_failure(res, "connection list");
	printf("%-30s  %-8s  %-6s  %-24s  %-30s  %s\n", "ID", "PROVIDER", "STATUS", "LAST SYNCED", "CREDENTIAL",
	       "NAME / URL");
	for (int i = 0; i < n; i++) {
		connection_row *x = &rows[i];
		printf("%-30s  %-8s  %-6s  %-24s  %-30s  %s / %s\n", x->id, x->provider, x->status,
		       x->last_synced_at ? x->last_synced_at : "-", x->credential_id ? x->credential_id : "-",
		       x->display_name, x->url ? x->url : "-");
		if (x->last_error)
			printf("    last error: %s\n", x->last_error);
	}
	return EXIT_OK;
}

static int remove_one(admin_ctx *c, int argc, char **argv)
{
	if (argc != 5 || strcmp(argv[2], "--account") != 0) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	const char *account = argv[3], *id = argv[4];
	if (!ids_valid("acct_", account) || !ids_valid("conn_", id)) {
		fprintf(stderr, "agentplatform-admin: unknown connection '%s' in account '%s'\n", id, account);
		return EXIT_USAGE;
	}
	enum store_result res = db_begin(c->db);
	if (res == STORE_OK)
		res = store_connection_delete(c->db, c->a, account, id);
	if (res == STORE_NOT_FOUND) {
		db_rollback(c->db);
		fprintf(stderr, "agentplatform-admin: unknown connection '%s' in account '%s'\n", id, account);
		return EXIT_USAGE;
	}
	if (res == STORE_OK)
		res = admin_audit(c, account, "connection.deleted", "connection", id, "{\"deleted\":true}");
	if (res == STORE_OK)
		res = db_commit(c->db);
	if (res != STORE_OK) {
		db_rollback(c->db);
		return admin_store_failure(res, "connection remove");
	}
	fprintf(stderr, "removed connection %s; agents that name it fail their next run\n", id);
	return EXIT_OK;
}

int admin_connection(admin_ctx *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(USAGE, stdout);
			return EXIT_OK;
		}
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return add(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return list(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return remove_one(c, argc, argv);
	fputs(USAGE, stderr);
	return EXIT_USAGE;
}
