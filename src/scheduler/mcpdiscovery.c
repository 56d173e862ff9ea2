/* mcpdiscovery: claims MCP servers whose status is unchecked, lists their tools with mcpclient, records the outcome. */
#include "mcpdiscovery.h"

#include "log.h"
#include "mcpclient.h"
#include "store_credential.h"
#include "store_mcp_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The bearer token of credential ID of ACCOUNT_ID into *TOKEN (arena). 0, or 1 with a readable reason in WHY
 * (gone, revoked, not a bearer token), or -1 when MariaDB failed. */
static int bearer_token(db *d, arena *a, const settings *cfg, const char *account_id, const char *id,
			const char **token, char *why, size_t whylen)
{
	const char *type = NULL;
	json_t *fields = NULL;
	enum store_result res = store_credential_use(d, a, cfg, account_id, id, &type, &fields);
	if (res == STORE_NOT_FOUND)
		return snprintf(why, whylen, "the MCP server's credential no longer exists"), 1;
	if (res == STORE_CONFLICT)
		return snprintf(why, whylen, "the MCP server's credential was revoked"), 1;
	if (res != STORE_OK)
		return -1;
	const char *t = json_string_value(json_object_get(fields, "token"));
	int rc = 0;
	if (strcmp(type, "bearer_token") != 0 || !t) {
		snprintf(why, whylen, "the MCP server's credential is not a bearer_token credential");
		rc = 1;
	} else {
		*token = arena_strdup(a, t);
	}
	json_decref(fields);
	return rc;
}

/* Discovers X: 0 with the outcome recorded, -1 when MariaDB failed. */
static int discover(db *d, arena *a, const settings *cfg, const mcp_server_due *x)
{
	char err[600] = "";
	const char *token = NULL;
	json_t *tools = NULL;
	if (x->credential_id) {
		int rc = bearer_token(d, a, cfg, x->account_id, x->credential_id, &token, err, sizeof err);
		if (rc < 0)
			return -1;
	}
	if (!err[0]) {
		mcpclient_options o = {.url = x->url,
				       .bearer_token = token,
				       .allow_private = cfg->allow_private_addresses,
				       .timeout_ms = (long)cfg->mcp_client_timeout_seconds * 1000};
		mcpclient *c = mcpclient_new(a, &o);
		if (mcpclient_list_tools(c, &tools, err, sizeof err) != 0 && !err[0])
			snprintf(err, sizeof err, "discovery failed");
		mcpclient_close(c);
	}
	/* last_error is VARCHAR(500): cut on a character boundary (the server's words may be multi-byte). */
	size_t n = strlen(err);
	if (n > 480) {
		n = 480;
		while (n > 0 && ((unsigned char)err[n] & 0xC0) == 0x80)
			n--;
		err[n] = '\0';
	}
	char *text = tools ? json_dumps(tools, JSON_COMPACT) : NULL;
	size_t ntools = json_array_size(tools);
	json_decref(tools);
	int stale = 0;
	enum store_result res = store_mcp_server_discovered(d, a, x->id, x->generation, text ? "ok" : "error",
							    text ? NULL : err, text, &stale);
	free(text);
	if (res != STORE_OK)
		return -1;
	if (stale)
		log_info("mcp server %s changed during its discovery; discovering it again", x->id);
	else if (text)
		log_info("mcp server %s: %zu tools", x->id, ntools);
	else
		log_info("mcp server %s: discovery failed: %s", x->id, err);
	return 0;
}

int mcpdiscovery_run(db *d, arena *a, const settings *cfg, volatile sig_atomic_t *stop)
{
	int claim_s = cfg->mcp_client_timeout_seconds * (MCPDISCOVERY_BATCH + 1) + 5;
	for (int b = 0; b < MCPDISCOVERY_MAX_BATCHES && !*stop; b++) {
		mcp_server_due *rows;
		int n = 0;
		if (store_mcp_server_claim(d, a, MCPDISCOVERY_BATCH, claim_s, &rows, &n) != STORE_OK)
			return -1;
		for (int i = 0; i < n; i++)
			if (discover(d, a, cfg, &rows[i]) != 0)
				return -1;
		if (n < MCPDISCOVERY_BATCH)
			break;
	}
	return 0;
}

int mcpdiscovery_main(const settings *cfg, volatile sig_atomic_t *stop)
{
	db *d = db_new(cfg);
	arena *a = arena_new();
	int failing = 0;
	log_info("mcp discovery started: every %d s", cfg->mcp_discovery_seconds);
	while (!*stop) {
		arena_reset(a);
		int rc = mcpdiscovery_run(d, a, cfg, stop);
		if (rc != 0 && !failing)
			log_warn("mcp discovery failed (MariaDB unavailable?); retrying every %d s", cfg->mcp_discovery_seconds);
		else if (rc == 0 && failing)
			log_info("mcp discovery works again");
		failing = rc != 0;
		for (int ms = 0; ms < cfg->mcp_discovery_seconds * 1000 && !*stop; ms += 100) {
			struct timespec ts = {0, 100 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	arena_free(a);
	db_free(d);
	return 0;
}
