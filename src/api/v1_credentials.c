/* v1_credentials: /api/v1/credentials — list, create, get, revoke. The secret fields are sealed on create
 * (store_credential.c) and never shown again; agents and tools open them with store_credential_use. */
#include "audit.h"
#include "credential.h"
#include "handlers.h"
#include "store_account.h"
#include "store_credential.h"

#include <string.h>

static const char *const WRITABLE[] = {"name", "type", "secret", NULL};
static const char *const READ_ONLY[] = {"id", "hint", "created_at", "last_used_at", "revoked_at", NULL};

static json_t *credential_json(const credential_row *c)
{
	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?, s:s?}", "id", c->id, "name", c->name, "type", c->type,
			 "hint", c->hint, "created_at", c->created_at, "last_used_at", c->last_used_at, "revoked_at",
			 c->revoked_at);
}

/* Ends a failed transaction; the failure is already recorded. */
static int rollback(request *r)
{
	db_rollback(r->app->db);
	return -1;
}

/* Commits, then answers STATUS with credential ID as read inside the transaction. */
static int commit_and_respond(request *r, const char *id, int status)
{
	credential_row c;
	enum store_result res = store_credential_get(r->app->db, r->a, r->account_id, id, 0, &c);
	if (res != STORE_OK)
		return req_fail_store(r, res, "credential not found"), rollback(r);
	if ((res = db_commit(r->app->db)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond_data(r, status, credential_json(&c));
}

int v1_credentials_list(request *r)
{
	credential_row *rows;
	int n;
	enum store_result res = store_credential_list(r->app->db, r->a, r->account_id,
						      r->cursor_id[0] ? r->cursor_id : NULL, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int has_more = n > r->limit;
	if (has_more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, credential_json(&rows[i]));
	return req_respond_list(r, data, has_more ? rows[n - 1].id : NULL);
}

int v1_credentials_get(request *r)
{
	credential_row c;
	enum store_result res = store_credential_get(r->app->db, r->a, r->account_id, r->param[0], 0, &c);
	if (res != STORE_OK)
		return req_fail_store(r, res, "credential not found");
	return req_respond_data(r, 200, credential_json(&c));
}

int v1_credentials_create(request *r)
{
	verr e;
	if (req_check_members(r, r->json, WRITABLE, READ_ONLY) != 0)
		return -1;
	const json_t *name = json_object_get(r->json, "name");
	if (!name || json_is_null(name))
		return req_fail_param(r, ERR_PARAMETER_MISSING, "name", "name is required");
	if (validate_string(name, "name", 1, CREDENTIAL_NAME_MAX, &e) != 0)
		return req_fail_verr(r, &e);
	const json_t *type = json_object_get(r->json, "type");
	if (!type || json_is_null(type))
		return req_fail_param(r, ERR_PARAMETER_MISSING, "type", "type is required");
	const credential_type *t = credential_type_find(json_string_value(type));
	if (!t) {
		char *msg = "type must be one of:";
		for (int i = 0; i < CREDENTIAL_TYPES_COUNT; i++)
			msg = arena_printf(r->a, "%s%s %s", msg, i ? "," : "", CREDENTIAL_TYPES[i].name);
		return req_fail_param(r, ERR_PARAMETER_INVALID, "type", msg);
	}
	const json_t *secret = json_object_get(r->json, "secret");
	if (!secret || json_is_null(secret))
		return req_fail_param(r, ERR_PARAMETER_MISSING, "secret", "secret is required");
	if (!json_is_object(secret))
		return req_fail_param(r, ERR_PARAMETER_INVALID, "secret",
				      arena_printf(r->a, "secret must be an object with the fields of type %s", t->name));
	json_t *fields = NULL;
	char hint[CREDENTIAL_HINT_SIZE];
	if (t->validate(secret, &fields, hint, &e) != 0)
		return req_fail_verr(r, &e);
	req_keep(r, fields);

	if (req_begin_create(r, store_credential_count, r->app->cfg->credentials_max_per_account, "credentials") != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res;
	char id[IDS_MAX_LEN];
	ids_new("cred_", id);
	if ((res = store_credential_insert(d, r->a, r->app->cfg, r->account_id, id, json_string_value(name), t->name,
					   hint[0] ? hint : NULL, fields)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	/* Never the secret fields, nor the hint: the audit trail names what was made, not what it holds. */
	if (audit_record(r, "credential.created", "credential", id,
			 json_pack("{s:s, s:s}", "name", json_string_value(name), "type", t->name)) != 0)
		return rollback(r);
	req_header(r, "Location", arena_printf(r->a, "%s/api/v1/credentials/%s", r->app->cfg->public_base_url, id));
	return commit_and_respond(r, id, 201);
}

int v1_credentials_revoke(request *r)
{
	if (r->json && json_object_size(r->json) > 0) {
		const char *first = json_object_iter_key(json_object_iter(r->json));
		return req_fail_param(r, ERR_PARAMETER_UNKNOWN, strlen(first) <= 64 ? first : NULL,
				      "this action takes no fields");
	}
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	credential_row c;
	if ((res = store_credential_get(d, r->a, r->account_id, r->param[0], 1, &c)) != STORE_OK)
		return req_fail_store(r, res, "credential not found"), rollback(r);
	/* Revoking is final and idempotent, like pausing an agent or revoking an API key: a second revoke
	 * answers the credential as it is (revoked_at unchanged) and records nothing. */
	if (!c.revoked_at) {
		if ((res = store_credential_revoke(d, r->a, r->account_id, c.id)) != STORE_OK)
			return req_fail_store(r, res, "credential not found"), rollback(r);
		if (audit_record(r, "credential.revoked", "credential", c.id, json_pack("{s:b}", "revoked", 1)) != 0)
			return rollback(r);
	}
	return commit_and_respond(r, c.id, 200);
}
