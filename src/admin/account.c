/* account: `agentplatform-admin account create|list`. */
#include "admin.h"
#include "ids.h"
#include "store_account.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] = "usage: agentplatform-admin account create NAME\n"
			    "       agentplatform-admin account list\n"
			    "create prints the new account id alone on stdout.\n";

static int create(admin_ctx *c, const char *name)
{
	long n = util_utf8_length(name, strlen(name));
	if (n < 1 || n > 200) {
		fprintf(stderr, "agentplatform-admin: account name must be 1 to 200 characters of UTF-8\n");
		return EXIT_USAGE;
	}
	char id[IDS_MAX_LEN];
	enum store_result res = db_begin(c->db);
	if (res == STORE_OK)
		res = store_account_create(c->db, c->a, name, id);
	if (res == STORE_OK) {
		json_t *ch = json_pack("{s:s}", "name", name);
		char *text = json_dumps(ch, JSON_COMPACT);
		res = admin_audit(c, id, "account.created", "account", id, text);
		free(text);
		json_decref(ch);
	}
	if (res == STORE_OK)
		res = db_commit(c->db);
	if (res != STORE_OK) {
		db_rollback(c->db);
		return admin_store_failure(res, "account create");
	}
	printf("%s\n", id);
	return EXIT_OK;
}

static int list(admin_ctx *c)
{
	account_row *rows;
	int n;
	enum store_result res = store_account_list(c->db, c->a, &rows, &n);
	if (res != STORE_OK)
		return admin_store_failure(res, "account list");
	printf("%-30s  %-24s  %s\n", "ID", "CREATED", "NAME");
	for (int i = 0; i < n; i++)
		printf("%-30s  %-24s  %s\n", rows[i].id, rows[i].created_at, rows[i].name);
	return EXIT_OK;
}

int admin_account(admin_ctx *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(USAGE, stdout);
		return EXIT_OK;
	}
	if (argc == 3 && strcmp(argv[1], "create") == 0 && strcmp(argv[2], "--help") != 0)
		return create(c, argv[2]);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return list(c);
	if (argc == 3 && strcmp(argv[2], "--help") == 0) {
		fputs(USAGE, stdout);
		return EXIT_OK;
	}
	fputs(USAGE, stderr);
	return EXIT_USAGE;
}
