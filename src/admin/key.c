/* key: `agentplatform-admin key create|list|revoke` — the only way API keys are made until the console. */
#include "admin.h"
#include "apikey.h"
#include "ids.h"
#include "keygen.h"
#include "kv.h"
#include "scope.h"
#include "store_account.h"
#include "store_apikey.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
	"usage: agentplatform-admin key create --account ID --name NAME --scopes SCOPES\n"
	"                                      [--expires 30d|60d|90d|1y|never] [--rate-limit N]\n"
	"       agentplatform-admin key list [--account ID]\n"
	"       agentplatform-admin key revoke ID\n"
	"\n"
	"SCOPES: space- or comma-separated scope names, or 'all'. Scopes: agents:read agents:write runs:read\n"
	"connections:read usage:read signals:write notifications:read notifications:write webhooks:read\n"
	"webhooks:write mcp:read mcp:write credentials:read credentials:write audit_logs:read mcp:tools\n"
	"--expires defaults to 90d; --rate-limit (requests per 60 s) defaults to rate_limit_default.\n"
	"create prints the key alone on stdout and a summary on stderr; the key is never shown again.\n"
	"revoke takes effect on the next request: it also tells the API workers through Redis, and exits 1 if Redis\n"
	"cannot be reached (workers then accept the key for up to api_key_cache_seconds; run it again).\n";

/* 30d|60d|90d|1y|never -> days (never: -1); -2 if not one of those. */
static int parse_expiry(const char *s)
{
	static const struct {
		const char *name;
		int days;
	} table[] = {{"30d", 30}, {"60d", 60}, {"90d", 90}, {"1y", 365}, {"never", -1}};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(s, table[i].name) == 0)
			return table[i].days;
	return -2;
}

static int create(admin_ctx *c, int argc, char **argv)
{
	const char *account = NULL, *name = NULL, *scopes = NULL, *expires = "90d", *rate = NULL;
	for (int i = 2; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--account") == 0      ? &account
				    : strcmp(argv[i], "--name") == 0       ? &name
				    : strcmp(argv[i], "--scopes") == 0     ? &scopes
				    : strcmp(argv[i], "--expires") == 0    ? &expires
				    : strcmp(argv[i], "--rate-limit") == 0 ? &rate
									   : NULL;
		if (!slot || i + 1 >= argc) {
			fprintf(stderr, "agentplatform-admin: key create: unexpected argument '%s'\n\n%s", argv[i], USAGE);
			return EXIT_USAGE;
		}
		*slot = argv[++i];
	}
	if (!account || !name || !scopes) {
		fprintf(stderr, "agentplatform-admin: key create needs --account, --name and --scopes\n\n%s", USAGE);
		return EXIT_USAGE;
	}
	long name_len = util_utf8_length(name, strlen(name));
	if (name_len < 1 || name_len > 200) {
		fprintf(stderr, "agentplatform-admin: --name must be 1 to 200 characters of UTF-8\n");
		return EXIT_USAGE;
	}
	uint32_t mask;
	char bad[80];
	if (scope_parse_list(scopes, &mask, bad, sizeof bad) != 0) {
		fprintf(stderr, "agentplatform-admin: unknown scope '%s' (see --help for the list)\n", bad);
		return EXIT_USAGE;
	}
	int days = parse_expiry(expires);
	if (days == -2) {
		fprintf(stderr, "agentplatform-admin: --expires must be 30d, 60d, 90d, 1y or never (got '%s')\n", expires);
		return EXIT_USAGE;
	}
	long limit = c->cfg->rate_limit_default;
	if (rate && util_parse_long(rate, 1, 10000000, &limit) != 0) {
		fprintf(stderr, "agentplatform-admin: --rate-limit must be an integer from 1 to 10000000\n");
		return EXIT_USAGE;
	}
	if (!ids_valid("acct_", account)) {
		fprintf(stderr, "agentplatform-admin: unknown account '%s'\n", account);
		return EXIT_USAGE;
	}

	char key[APIKEY_LEN + 1], prefix[APIKEY_DISPLAY_LEN + 1], id[IDS_MAX_LEN], scope_text[512];
	unsigned char hash[CRYPTO_SHA256_LEN];
	apikey_generate(key);
	apikey_display_prefix(key, prefix);
	apikey_hash(key, APIKEY_LEN, hash);
	scope_format(mask, scope_text, sizeof scope_text);

	enum store_result res = db_begin(c->db);
	if (res == STORE_OK)
		res = store_account_exists(c->db, c->a, account, 1);
	if (res == STORE_NOT_FOUND) {
		db_rollback(c->db);
		fprintf(stderr, "agentplatform-admin: unknown account '%s'\n", account);
		return EXIT_USAGE;
	}
	if (res == STORE_OK)
		res = store_apikey_create(c->db, c->a, account, name, prefix, hash, mask, limit, days, id);
	if (res == STORE_OK) {
		json_t *ch = json_pack("{s:s, s:s, s:s, s:I, s:s}", "name", name, "prefix", prefix, "scopes", scope_text,
				       "rate_limit", (json_int_t)limit, "expires", expires);
		char *text = json_dumps(ch, JSON_COMPACT | JSON_SORT_KEYS);
		res = admin_audit(c, account, "api_key.created", "api_key", id, text);
		free(text);
		json_decref(ch);
	}
	if (res == STORE_OK)
		res = db_commit(c->db);
	if (res != STORE_OK) {
		db_rollback(c->db);
		return admin_store_failure(res, "key create");
	}
	printf("%s\n", key);
	fflush(stdout);
	fprintf(stderr, "created API key %s (%s) for %s\n  scopes: %s\n  rate limit: %ld per 60 s\n  expires: %s\n"
			"The key above is shown only this once; store it now.\n",
		id, prefix, account, scope_text, limit, days < 0 ? "never" : expires);
	explicit_bzero(key, sizeof key);
	return EXIT_OK;
}

static int list(admin_ctx *c, int argc, char **argv)
{
	const char *account = NULL;
	if (argc == 4 && strcmp(argv[2], "--account") == 0)
		account = argv[3];
	else if (argc != 2) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	apikey_row *rows;
	int n;
	enum store_result res = store_apikey_list(c->db, c->a, account, &rows, &n);
	if (res != STORE_OK)
		return admin_store_failure(res, "key list");
	if (account && n == 0 && store_account_exists(c->db, c->a, account, 0) == STORE_NOT_FOUND) {
		fprintf(stderr, "agentplatform-admin: unknown account '%s'\n", account);
		return EXIT_USAGE;
	}
	printf("%-29s  %-29s  %-12s  %-24s  %-24s  %-24s  %-24s  %-8s  %s\n", "ID", "ACCOUNT", "PREFIX", "CREATED",
	       "EXPIRES", "LAST USED", "REVOKED", "LIMIT", "NAME / SCOPES");
	for (int i = 0; i < n; i++) {
		apikey_row *k = &rows[i];
		char scopes[512];
		scope_format(k->scopes, scopes, sizeof scopes);
		printf("%-29s  %-29s  %-12s  %-24s  %-24s  %-24s  %-24s  %-8lld  %s / %s\n", k->id, k->account_id,
		       k->prefix, k->created_at, k->expires_at ? k->expires_at : "never",
		       k->last_used_at ? k->last_used_at : "-", k->revoked_at ? k->revoked_at : "-", k->rate_limit,
		       k->name, scopes);
	}
	return EXIT_OK;
}

/* Gives revoked key ID (hash HASH_HEX) a new generation, so no API worker's key cache accepts it any more. */
static int tell_workers(admin_ctx *c, const char *id, const char *hash_hex)
{
	kv *k = kv_new(c->cfg);
	int rc = keygen_bump(k, hash_hex);
	kv_free(k);
	if (rc == 0)
		return EXIT_OK;
	fprintf(stderr,
		"agentplatform-admin: %s is revoked in the database, but Redis could not be told: API workers that read it "
		"lately keep accepting it for up to %d s (api_key_cache_seconds). Run this command again once Redis is "
		"back.\n",
		id, c->cfg->api_key_cache_seconds);
	return EXIT_FAIL;
}

static int revoke(admin_ctx *c, const char *id)
{
	if (!ids_valid("key_", id)) {
		fprintf(stderr, "agentplatform-admin: unknown key '%s'\n", id);
		return EXIT_USAGE;
	}
	apikey_row k;
	enum store_result res = db_begin(c->db);
	if (res == STORE_OK)
		res = store_apikey_revoke(c->db, c->a, id, &k);
	if (res == STORE_CONFLICT) {
		db_rollback(c->db);
		fprintf(stderr, "key %s was already revoked at %s\n", id, k.revoked_at);
		return tell_workers(c, id, k.hash_hex);
	}
	if (res == STORE_NOT_FOUND) {
		db_rollback(c->db);
		fprintf(stderr, "agentplatform-admin: unknown key '%s'\n", id);
		return EXIT_USAGE;
	}
	if (res == STORE_OK)
		res = admin_audit(c, k.account_id, "api_key.revoked", "api_key", id, "{\"revoked\":true}");
	if (res == STORE_OK)
		res = db_commit(c->db);
	if (res != STORE_OK) {
		db_rollback(c->db);
		return admin_store_failure(res, "key revoke");
	}
	int rc = tell_workers(c, id, k.hash_hex);
	if (rc == EXIT_OK)
		fprintf(stderr, "revoked %s (%s); it stops working on the next request\n", id, k.prefix);
	return rc;
}

int admin_key(admin_ctx *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(USAGE, stdout);
			return EXIT_OK;
		}
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return create(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return list(c, argc, argv);
	if (argc == 3 && strcmp(argv[1], "revoke") == 0)
		return revoke(c, argv[2]);
	fputs(USAGE, stderr);
	return EXIT_USAGE;
}
