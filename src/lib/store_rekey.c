/* store_rekey: the statements that find and re-seal values under the master key, one set per sealed column. */
#include "store_rekey.h"
#include "crypto.h"
#include "log.h"
#include "secretbox.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const REKEY_KIND_NAMES[REKEY__MAX] = {
	[REKEY_CREDENTIAL] = "credential secrets",
	[REKEY_AGENT_HOOK_SECRET] = "agent inbound-webhook signing secrets",
	[REKEY_WEBHOOK_SECRET] = "webhook endpoint signing secrets",
	[REKEY_WEBHOOK_PREVIOUS_SECRET] = "webhook endpoint previous signing secrets",
	[REKEY_IDEMPOTENT_RESPONSE] = "stored Idempotency-Key responses",
};

/* Each SELECT returns: primary key part 1, part 2 (or NULL), the AAD it was sealed with, the recorded key version
 * (NULL: not recorded), the value (HEX of the bytes, or the text for TEXT_FORM); the UPDATE binds the new value,
 * the version, then the key parts. */
struct rekey_spec {
	const char *count, *select, *update;
	int two_part_key;
	int text_form; /* "sb1:" + base64url, as src/api/idempotency.c stores responses */
};

static const struct rekey_spec SPECS[REKEY__MAX] = {
	[REKEY_CREDENTIAL] =
		{"SELECT COUNT(*) FROM credentials WHERE secret_key_version <> ?",
		 "SELECT id, NULL, id, secret_key_version, HEX(secret_enc) FROM credentials WHERE secret_key_version <> ? "
		 "AND id > ? ORDER BY id LIMIT ? FOR UPDATE",
		 "UPDATE credentials SET secret_enc = ?, secret_key_version = ? WHERE id = ?", 0, 0},
	[REKEY_AGENT_HOOK_SECRET] =
		{"SELECT COUNT(*) FROM agents WHERE hook_secret_enc IS NOT NULL AND "
		 "(hook_secret_key_version IS NULL OR hook_secret_key_version <> ?)",
		 "SELECT id, NULL, id, hook_secret_key_version, HEX(hook_secret_enc) FROM agents "
		 "WHERE hook_secret_enc IS NOT NULL AND (hook_secret_key_version IS NULL OR hook_secret_key_version <> ?) "
		 "AND id > ? ORDER BY id LIMIT ? FOR UPDATE",
		 "UPDATE agents SET hook_secret_enc = ?, hook_secret_key_version = ? WHERE id = ?", 0, 0},
	[REKEY_WEBHOOK_SECRET] =
		{"SELECT COUNT(*) FROM webhook_endpoints WHERE secret_key_version <> ?",
		 "SELECT id, NULL, id, secret_key_version, HEX(secret_enc) FROM webhook_endpoints "
		 "WHERE secret_key_version <> ? AND id > ? ORDER BY id LIMIT ? FOR UPDATE",
		 "UPDATE webhook_endpoints SET secret_enc = ?, secret_key_version = ? WHERE id = ?", 0, 0},
	[REKEY_WEBHOOK_PREVIOUS_SECRET] =
		{"SELECT COUNT(*) FROM webhook_endpoints WHERE previous_secret_enc IS NOT NULL AND "
		 "(previous_secret_key_version IS NULL OR previous_secret_key_version <> ?)",
		 "SELECT id, NULL, id, previous_secret_key_version, HEX(previous_secret_enc) FROM webhook_endpoints "
		 "WHERE previous_secret_enc IS NOT NULL AND "
		 "(previous_secret_key_version IS NULL OR previous_secret_key_version <> ?) AND id > ? ORDER BY id LIMIT ? "
		 "FOR UPDATE",
		 "UPDATE webhook_endpoints SET previous_secret_enc = ?, previous_secret_key_version = ? WHERE id = ?", 0, 0},
	/* The AAD is src/api/idempotency.c's row_aad: "idempotency <API key id> <Idempotency-Key>". */
	[REKEY_IDEMPOTENT_RESPONSE] =
		{"SELECT COUNT(*) FROM idempotency_keys WHERE response LIKE 'sb1:%' AND "
		 "(response_key_version IS NULL OR response_key_version <> ?)",
		 "SELECT api_key_id, idem_key, CONCAT('idempotency ', api_key_id, ' ', idem_key), response_key_version, "
		 "response FROM idempotency_keys WHERE response LIKE 'sb1:%' AND "
		 "(response_key_version IS NULL OR response_key_version <> ?) AND (api_key_id, idem_key) > (?, ?) "
		 "ORDER BY api_key_id, idem_key LIMIT ? FOR UPDATE",
		 "UPDATE idempotency_keys SET response = ?, response_key_version = ? WHERE api_key_id = ? AND idem_key = ?",
		 1, 1},
};

#define TEXT_PREFIX "sb1:"
#define TEXT_PREFIX_LEN (sizeof TEXT_PREFIX - 1)

enum store_result store_rekey_pending(db *d, arena *a, const settings *cfg, enum rekey_kind kind, long *n)
{
	store_params p = {0};
	store_rows r;
	store_param_int(&p, cfg->master_key_version);
	enum store_result res = store_exec(d, SPECS[kind].count, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*n = r.nrows == 1 ? strtol(r.cell[0][0], NULL, 10) : 0;
	return STORE_OK;
}

/* Opens SEALED (N bytes) with the key of VERSION (NULL: either configured key) into a new arena buffer. */
static long open_any(arena *a, const settings *cfg, const char *version, const char *aad, const unsigned char *sealed,
		     size_t n, char **plain)
{
	if (n < SECRETBOX_OVERHEAD)
		return -1;
	*plain = arena_alloc(a, n - SECRETBOX_OVERHEAD + 1);
	const unsigned char *keys[2] = {NULL, NULL};
	if (version)
		keys[0] = settings_master_key(cfg, (int)strtol(version, NULL, 10));
	else {
		keys[0] = cfg->master_key;
		keys[1] = cfg->previous_master_key_version ? cfg->previous_master_key : NULL;
	}
	for (int i = 0; i < 2 && keys[i]; i++) {
		/* GCM authenticates: a wrong key fails, it never yields garbage. */
		long len = secretbox_open(keys[i], aad, sealed, n, *plain, n - SECRETBOX_OVERHEAD);
		if (len >= 0)
			return len;
	}
	return -1;
}

/* Re-seals one row's value; the new value goes into P. 0; 1 when the value is not in the sealed format at all
 * (left alone); -1 when it does not open. */
static int reseal(arena *a, const settings *cfg, const struct rekey_spec *s, char **c, store_params *p)
{
	const char *value = c[4];
	size_t vl = strlen(value), n;
	unsigned char *sealed;
	long sl;
	if (s->text_form) {
		size_t cap = vl / 4 * 3 + 3;
		sealed = arena_alloc(a, cap);
		sl = crypto_b64url_decode(value + TEXT_PREFIX_LEN, vl - TEXT_PREFIX_LEN, sealed, cap);
	} else {
		sealed = arena_alloc(a, vl / 2 + 1);
		sl = crypto_unhex(value, vl, sealed, vl / 2 + 1);
	}
	if (sl < (long)SECRETBOX_OVERHEAD || sealed[0] != SECRETBOX_FORMAT)
		return 1;
	n = (size_t)sl;
	char *plain;
	long pl = open_any(a, cfg, c[3], c[2], sealed, n, &plain);
	if (pl < 0)
		return -1;
	unsigned char *out = arena_alloc(a, (size_t)pl + SECRETBOX_OVERHEAD);
	size_t ol = secretbox_seal(cfg->master_key, c[2], plain, (size_t)pl, out);
	explicit_bzero(plain, (size_t)pl);
	if (s->text_form) {
		char *text = arena_alloc(a, TEXT_PREFIX_LEN + 4 * ((ol + 2) / 3) + 1);
		memcpy(text, TEXT_PREFIX, TEXT_PREFIX_LEN);
		crypto_b64url_encode(out, ol, text + TEXT_PREFIX_LEN);
		store_param_str(p, text);
	} else {
		store_param_bytes(p, out, ol);
	}
	return 0;
}

enum store_result store_rekey_batch(db *d, arena *a, const settings *cfg, enum rekey_kind kind, rekey_cursor *cur,
				    int limit, int *done, int *skipped, const char **failed_id)
{
	const struct rekey_spec *s = &SPECS[kind];
	*done = *skipped = 0;
	*failed_id = NULL;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	store_params p = {0};
	store_rows r;
	store_param_int(&p, cfg->master_key_version);
	store_param_str(&p, cur->key[0]);
	if (s->two_part_key)
		store_param_str(&p, cur->key[1]);
	store_param_int(&p, limit);
	if ((res = store_exec(d, s->select, &p, a, &r)) != STORE_OK)
		goto fail;
	int resealed = 0, left = 0;
	for (int i = 0; i < r.nrows; i++) {
		char **c = r.cell[i];
		store_params u = {0};
		int rc = c[4] ? reseal(a, cfg, s, c, &u) : 1;
		if (rc == 1) {
			left++;
			log_warn("rekey: %s of %s%s%s is not a sealed value; left as it is", REKEY_KIND_NAMES[kind], c[0],
				 s->two_part_key ? " " : "", s->two_part_key ? c[1] : "");
			continue;
		}
		if (rc != 0) {
			*failed_id = s->two_part_key ? arena_printf(a, "%s %s", c[0], c[1]) : c[0];
			log_error("rekey: %s of %s does not open under the master key of version %s", REKEY_KIND_NAMES[kind],
				  *failed_id, c[3] ? c[3] : "(not recorded)");
			res = STORE_ERROR;
			goto fail;
		}
		store_param_int(&u, cfg->master_key_version);
		store_param_str(&u, c[0]);
		if (s->two_part_key)
			store_param_str(&u, c[1]);
		if ((res = store_exec(d, s->update, &u, a, NULL)) != STORE_OK)
			goto fail;
		resealed++;
	}
	if ((res = db_commit(d)) != STORE_OK)
		goto fail;
	if (r.nrows > 0) {
		char **last = r.cell[r.nrows - 1];
		snprintf(cur->key[0], sizeof cur->key[0], "%s", last[0]);
		snprintf(cur->key[1], sizeof cur->key[1], "%s", s->two_part_key ? last[1] : "");
	}
	*done = resealed;
	*skipped = left;
	cur->more = r.nrows == limit;
	return STORE_OK;
fail:
	db_rollback(d);
	return res;
}
