/* hooks: POST /hooks/{token} — the no-code trigger. The token is the credential; the signing secret,
 * when the hook is signed, adds Standard Webhooks verification. */
#include "auth.h"
#include "crypto.h"
#include "handlers.h"
#include "kv.h"
#include "log.h"
#include "secretbox.h"
#include "stdwebhook.h"
#include "store_agent.h"
#include "v1_signals.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define HOOK_TOKEN_LEN 43
#define SIGNATURE_TOLERANCE_S 300

/* Verifies the Standard Webhooks headers against the agent's sealed secret and refuses a webhook-id seen
 * within the tolerance window. 0, or -1 with 401 (or 503) recorded. */
static int verify(request *r, const agent_row *g)
{
	char secret[256];
	long n = secretbox_open_stored(r->app->cfg, g->id, g->hook_secret_hex, secret, sizeof secret - 1);
	if (n < 0) {
		log_error("request %s: the hook secret of %s does not open under the master key of its key version",
			  r->request_id, g->id);
		return req_fail(r, ERR_INTERNAL, "the webhook secret cannot be read");
	}
	secret[n] = '\0';
	char why[160];
	int ok = r->webhook_id && r->webhook_timestamp && r->webhook_signature && strlen(r->webhook_id) <= 256 &&
		 stdwebhook_verify(secret, r->webhook_id, r->webhook_timestamp, r->webhook_signature, r->body,
				   r->body_len, (long long)time(NULL), SIGNATURE_TOLERANCE_S, why, sizeof why) == 0;
	explicit_bzero(secret, sizeof secret);
	if (!ok)
		return req_fail(r, ERR_SIGNATURE_INVALID,
				"missing or invalid webhook-id, webhook-timestamp or webhook-signature header");
	/* Replay protection: a webhook-id is accepted once within the tolerance window. */
	char key[400], ttl[16];
	snprintf(key, sizeof key, "hookmsg:{%s}:%s", g->id, r->webhook_id);
	snprintf(ttl, sizeof ttl, "%d", 2 * SIGNATURE_TOLERANCE_S);
	const char *argv[] = {"SET", key, "1", "NX", "EX", ttl};
	kv_reply rep;
	if (kv_command(r->app->kv, r->a, 6, argv, &rep) != 0)
		return req_fail(r, ERR_DEPENDENCY_UNAVAILABLE, "replay protection is unavailable; retry shortly");
	if (rep.type == KV_NIL)
		return req_fail(r, ERR_SIGNATURE_INVALID, "this webhook-id was already delivered");
	return 0;
}

int hooks_receive(request *r)
{
	const char *token = r->param[0];
	if (strlen(token) != HOOK_TOKEN_LEN || !crypto_is_base62(token, HOOK_TOKEN_LEN))
		return req_fail(r, ERR_NOT_FOUND, "no such webhook");
	unsigned char hash[CRYPTO_SHA256_LEN];
	crypto_sha256(token, HOOK_TOKEN_LEN, hash);
	agent_row g;
	enum store_result res = store_agent_find_by_hook(r->app->db, r->a, hash, &g);
	if (res != STORE_OK)
		return req_fail_store(r, res, "no such webhook");
	snprintf(r->account_id, sizeof r->account_id, "%s", g.account_id);
	/* The per-agent limit on inbound calls, with the same headers as the API's per-key limit. */
	char bucket[64];
	snprintf(bucket, sizeof bucket, "hook:%s", g.id);
	if (auth_rate_limit_bucket(r, bucket, r->app->cfg->hook_rate_limit_per_minute,
				   "too many calls to this webhook; see Retry-After") != 0)
		return -1;
	if (g.hook_secret_hex && verify(r, &g) != 0)
		return -1;
	json_t *headers = json_object();
	if (r->content_type)
		json_object_set_new(headers, "content-type", json_string(r->content_type));
	if (r->user_agent && validate_header_safe(r->user_agent, strlen(r->user_agent)))
		json_object_set_new(headers, "user-agent", json_stringn(r->user_agent, strnlen(r->user_agent, 512)));
	if (r->webhook_id && g.hook_secret_hex)
		json_object_set_new(headers, "webhook-id", json_string(r->webhook_id));
	json_t *payload = req_keep(r, json_pack("{s:O, s:o}", "body", r->json, "headers", headers));
	return signal_enqueue(r, g.id, "webhook", payload, "webhook", "webhook");
}
