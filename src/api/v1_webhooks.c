/* v1_webhooks: /api/v1/webhooks — endpoints (list, create, get, update, delete, rotate-secret) and their
 * deliveries (list, redeliver). Deliveries themselves are sent by the scheduler (src/scheduler/deliveries.c). */
#include "audit.h"
#include "handlers.h"
#include "mergepatch.h"
#include "secretbox.h"
#include "stdwebhook.h"
#include "store_account.h"
#include "store_webhook.h"
#include "webhook_event.h"
#include "webhook_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DESCRIPTION_MAX 500

static const char *const WRITABLE[] = {"url", "events", "description", "enabled", NULL};
static const char *const READ_ONLY[] = {"id", "secret", "disabled_reason", "created_at", "updated_at", NULL};

/* The endpoint as the API shows it; SECRET (the one-time signing secret) is added when not NULL. */
static json_t *endpoint_json(const webhook_endpoint_row *w, const char *secret)
{
	json_t *events = w->events ? json_loads(w->events, 0, NULL) : NULL;
	json_t *j = json_pack("{s:s, s:s, s:o, s:s?, s:b, s:s?, s:s, s:s}", "id", w->id, "url", w->url, "events",
			      events ? events : json_array(), "description", w->description, "enabled", w->enabled,
			      "disabled_reason", w->disabled_reason, "created_at", w->created_at, "updated_at",
			      w->updated_at);
	if (secret)
		json_object_set_new(j, "secret", json_string(secret));
	return j;
}

static json_t *delivery_json(const webhook_delivery_row *x)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s?, s:s?, s:s, s:s, s:s?}", "id", x->id, "endpoint_id",
			      x->endpoint_id, "event_id", x->event_id, "event_type", x->event_type, "status", x->status,
			      "attempts", x->attempts, "last_error", x->last_error, "next_attempt_at", x->next_attempt_at,
			      "created_at", x->created_at, "updated_at", x->updated_at, "delivered_at", x->delivered_at);
	json_object_set_new(j, "last_status_code", x->last_status_code >= 0 ? json_integer(x->last_status_code) : json_null());
	return j;
}

/* Validates the whole desired state DOC into F (strings in DOC or the arena); *HOST gets the URL's host
 * for the audit trail (the full URL may carry a receiver's token). CHECK_URL 0 skips the outbound URL
 * guard (an unchanged URL: every delivery checks it again anyway). */
static int validate_doc(request *r, const json_t *doc, webhook_endpoint_fields *f, const char **host, int check_url)
{
	verr e;
	const json_t *url = json_object_get(doc, "url");
	if (!url || json_is_null(url))
		return req_fail_param(r, ERR_PARAMETER_MISSING, "url", "url is required");
	if (validate_string(url, "url", 1, URLGUARD_MAX_URL, &e) != 0)
		return req_fail_verr(r, &e);
	urlguard_target t;
	char err[160];
	if (check_url && webhook_url_check(json_string_value(url), r->app->cfg->webhooks_allow_http,
					   r->app->cfg->allow_private_addresses, &t, err, sizeof err) != 0)
		return req_fail_param(r, ERR_PARAMETER_INVALID, "url", arena_printf(r->a, "url is not allowed: %s", err));
	f->url = json_string_value(url);
	*host = check_url ? arena_strdup(r->a, t.host) : NULL;

	const json_t *events = json_object_get(doc, "events");
	if (!events || json_is_null(events))
		return req_fail_param(r, ERR_PARAMETER_MISSING, "events", "events is required");
	if (!json_is_array(events) || json_array_size(events) == 0)
		return req_fail_param(r, ERR_PARAMETER_INVALID, "events",
				      "events must be a non-empty array of event types, or [\"*\"] for all");
	size_t i, j;
	json_t *v;
	json_array_foreach(events, i, v)
	{
		const char *name = json_string_value(v);
		char *param = arena_printf(r->a, "events.%zu", i);
		if (!name || !webhook_event_known(name, 1)) {
			char *msg = "events must name event types of the catalog:";
			for (const char *const *t2 = WEBHOOK_EVENT_TYPES; *t2; t2++)
				msg = arena_printf(r->a, "%s%s %s", msg, t2 == WEBHOOK_EVENT_TYPES ? "" : ",", *t2);
			return req_fail_param(r, ERR_PARAMETER_INVALID, param, arena_printf(r->a, "%s, or \"*\"", msg));
		}
		if (strcmp(name, "*") == 0 && json_array_size(events) != 1)
			return req_fail_param(r, ERR_PARAMETER_INVALID, param, "\"*\" must be the only entry of events");
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(events, j)), name) == 0)
				return req_fail_param(r, ERR_PARAMETER_INVALID, param,
						      arena_printf(r->a, "events lists %s twice", name));
	}
	char *text = json_dumps(events, JSON_COMPACT);
	if (!text)
		abort();
	f->events = arena_strdup(r->a, text);
	free(text);

	const json_t *desc = json_object_get(doc, "description");
	f->description = NULL;
	if (desc && !json_is_null(desc)) {
		if (validate_string(desc, "description", 0, DESCRIPTION_MAX, &e) != 0)
			return req_fail_verr(r, &e);
		f->description = json_string_value(desc);
	}

	const json_t *enabled = json_object_get(doc, "enabled");
	f->enabled = 1;
	if (enabled && !json_is_null(enabled)) {
		if (!json_is_boolean(enabled))
			return req_fail_param(r, ERR_PARAMETER_INVALID, "enabled", "enabled must be true or false");
		f->enabled = json_is_true(enabled);
	}
	return 0;
}

/* Ends a failed transaction; the failure is already recorded. */
static int rollback(request *r)
{
	db_rollback(r->app->db);
	return -1;
}

/* Commits, then answers STATUS with endpoint ID as read inside the transaction (plus SECRET, once). */
static int commit_and_respond(request *r, const char *id, int status, const char *secret)
{
	webhook_endpoint_row w;
	enum store_result res = store_webhook_get(r->app->db, r->a, r->account_id, id, 0, &w);
	if (res != STORE_OK)
		return req_fail_store(r, res, "webhook not found"), rollback(r);
	if ((res = db_commit(r->app->db)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond_data(r, status, endpoint_json(&w, secret));
}

/* A new whsec_ secret into SECRET (STDWEBHOOK_SECRET_LEN bytes), sealed for endpoint ID into SEALED. */
static size_t new_secret(request *r, const char *id, char *secret, unsigned char *sealed)
{
	stdwebhook_secret_new(secret, STDWEBHOOK_SECRET_LEN);
	return secretbox_seal(r->app->cfg->master_key, id, secret, strlen(secret), sealed);
}

int v1_webhooks_list(request *r)
{
	webhook_endpoint_row *rows;
	int n;
	enum store_result res = store_webhook_list(r->app->db, r->a, r->account_id,
						   r->cursor_id[0] ? r->cursor_id : NULL, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int has_more = n > r->limit;
	if (has_more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, endpoint_json(&rows[i], NULL));
	return req_respond_list(r, data, has_more ? rows[n - 1].id : NULL);
}

int v1_webhooks_get(request *r)
{
	webhook_endpoint_row w;
	enum store_result res = store_webhook_get(r->app->db, r->a, r->account_id, r->param[0], 0, &w);
	if (res != STORE_OK)
		return req_fail_store(r, res, "webhook not found");
	return req_respond_data(r, 200, endpoint_json(&w, NULL));
}

int v1_webhooks_create(request *r)
{
	webhook_endpoint_fields f;
	const char *host;
	if (req_check_members(r, r->json, WRITABLE, READ_ONLY) != 0 || validate_doc(r, r->json, &f, &host, 1) != 0)
		return -1;
	if (req_begin_create(r, store_webhook_count, r->app->cfg->webhooks_max_per_account, "webhook endpoints") != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res;
	char id[IDS_MAX_LEN], secret[STDWEBHOOK_SECRET_LEN];
	unsigned char sealed[STDWEBHOOK_SECRET_LEN + SECRETBOX_OVERHEAD];
	ids_new("whk_", id);
	size_t sealed_len = new_secret(r, id, secret, sealed);
	if ((res = store_webhook_insert(d, r->a, r->account_id, id, &f, sealed, sealed_len,
					r->app->cfg->master_key_version)) != STORE_OK) {
		explicit_bzero(secret, sizeof secret);
		return req_fail_store(r, res, NULL), rollback(r);
	}
	json_t *changes = json_pack("{s:s, s:o, s:s?, s:b}", "url_host", host, "events", json_loads(f.events, 0, NULL),
				    "description", f.description, "enabled", f.enabled);
	if (audit_record(r, "webhook.created", "webhook", id, changes) != 0) {
		explicit_bzero(secret, sizeof secret);
		return rollback(r);
	}
	req_header(r, "Location", arena_printf(r->a, "%s/api/v1/webhooks/%s", r->app->cfg->public_base_url, id));
	int rc = commit_and_respond(r, id, 201, secret);
	explicit_bzero(secret, sizeof secret);
	return rc;
}

int v1_webhooks_update(request *r)
{
	if (req_check_members(r, r->json, WRITABLE, READ_ONLY) != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	webhook_endpoint_row w;
	if ((res = store_webhook_get(d, r->a, r->account_id, r->param[0], 1, &w)) != STORE_OK)
		return req_fail_store(r, res, "webhook not found"), rollback(r);
	json_t *before = req_keep(r, json_pack("{s:s, s:o, s:s?, s:b}", "url", w.url, "events",
					       json_loads(w.events, 0, NULL), "description", w.description, "enabled",
					       w.enabled));
	/* The URL is checked again only when it changes: an endpoint stays editable (e.g. disabled) even if
	 * its host stopped resolving; every delivery checks it anyway. */
	json_t *after = req_keep(r, mergepatch_apply(before, r->json));
	webhook_endpoint_fields f;
	const char *host = NULL;
	const json_t *new_url = json_object_get(after, "url");
	int url_changed = !json_is_string(new_url) || strcmp(json_string_value(new_url), w.url) != 0;
	if (validate_doc(r, after, &f, &host, url_changed) != 0)
		return rollback(r);
	if ((res = store_webhook_update(d, r->a, r->account_id, w.id, &f)) != STORE_OK)
		return req_fail_store(r, res, "webhook not found"), rollback(r);
	json_t *normalized = req_keep(r, json_pack("{s:s, s:o, s:s?, s:b}", "url", f.url, "events",
						   json_loads(f.events, 0, NULL), "description", f.description,
						   "enabled", f.enabled));
	json_t *changes = audit_changes(before, normalized, WRITABLE);
	if (json_object_get(changes, "url")) { /* never the URL itself: it may carry a receiver's token */
		json_object_del(changes, "url");
		json_object_set_new(changes, "url_host", json_pack("{s:s}", "to", host));
	}
	if (audit_record(r, "webhook.updated", "webhook", w.id, changes) != 0)
		return rollback(r);
	return commit_and_respond(r, w.id, 200, NULL);
}

int v1_webhooks_delete(request *r)
{
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	webhook_endpoint_row w;
	if ((res = store_webhook_get(d, r->a, r->account_id, r->param[0], 1, &w)) != STORE_OK ||
	    (res = store_webhook_delete(d, r->a, r->account_id, w.id)) != STORE_OK)
		return req_fail_store(r, res, "webhook not found"), rollback(r);
	if (audit_record(r, "webhook.deleted", "webhook", w.id, NULL) != 0)
		return rollback(r);
	if ((res = db_commit(d)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond(r, 204, NULL);
}

int v1_webhooks_rotate_secret(request *r)
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
	webhook_endpoint_row w;
	if ((res = store_webhook_get(d, r->a, r->account_id, r->param[0], 1, &w)) != STORE_OK)
		return req_fail_store(r, res, "webhook not found"), rollback(r);
	char secret[STDWEBHOOK_SECRET_LEN];
	unsigned char sealed[STDWEBHOOK_SECRET_LEN + SECRETBOX_OVERHEAD];
	size_t sealed_len = new_secret(r, w.id, secret, sealed);
	if ((res = store_webhook_rotate(d, r->a, r->account_id, w.id, sealed, sealed_len,
					r->app->cfg->master_key_version)) != STORE_OK) {
		explicit_bzero(secret, sizeof secret);
		return req_fail_store(r, res, "webhook not found"), rollback(r);
	}
	if (audit_record(r, "webhook.secret_rotated", "webhook", w.id,
			 json_pack("{s:i}", "previous_secret_valid_hours", STORE_WEBHOOK_PREVIOUS_SECRET_HOURS)) != 0) {
		explicit_bzero(secret, sizeof secret);
		return rollback(r);
	}
	int rc = commit_and_respond(r, w.id, 200, secret);
	explicit_bzero(secret, sizeof secret);
	return rc;
}

int v1_webhooks_deliveries_list(request *r)
{
	webhook_endpoint_row w;
	enum store_result res = store_webhook_get(r->app->db, r->a, r->account_id, r->param[0], 0, &w);
	if (res != STORE_OK)
		return req_fail_store(r, res, "webhook not found");
	webhook_delivery_row *rows;
	int n;
	res = store_webhook_delivery_list(r->app->db, r->a, r->account_id, w.id, r->cursor_id[0] ? r->cursor_id : NULL,
					  r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int has_more = n > r->limit;
	if (has_more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, delivery_json(&rows[i]));
	return req_respond_list(r, data, has_more ? rows[n - 1].id : NULL);
}

int v1_webhooks_redeliver(request *r)
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
	webhook_endpoint_row w;
	webhook_delivery_row x;
	if ((res = store_webhook_get(d, r->a, r->account_id, r->param[0], 1, &w)) != STORE_OK)
		return req_fail_store(r, res, "webhook not found"), rollback(r);
	if ((res = store_webhook_delivery_get(d, r->a, r->account_id, w.id, r->param[1], &x)) != STORE_OK)
		return req_fail_store(r, res, "delivery not found"), rollback(r);
	if ((res = store_webhook_redeliver(d, r->a, r->account_id, w.id, x.id)) != STORE_OK ||
	    (res = store_webhook_delivery_get(d, r->a, r->account_id, w.id, x.id, &x)) != STORE_OK)
		return req_fail_store(r, res, "delivery not found"), rollback(r);
	if (audit_record(r, "webhook.delivery_redelivered", "webhook", w.id,
			 json_pack("{s:s, s:s}", "delivery_id", x.id, "event_id", x.event_id)) != 0)
		return rollback(r);
	if ((res = db_commit(d)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond_data(r, 200, delivery_json(&x));
}
