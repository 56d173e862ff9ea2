/* v1_agents: /api/v1/agents — list, create, get, update (merge patch), delete, pause, resume. */
#include "agenttype.h"
#include "audit.h"
#include "cron.h"
#include "handlers.h"
#include "mergepatch.h"
#include "store_account.h"
#include "sbuf.h"
#include "store_agent.h"
#include "store_approval.h"
#include "queue.h"
#include "refs.h"
#include "crypto.h"
#include "secretbox.h"
#include "stdwebhook.h"
#include "store_run.h"
#include "webhook_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONFIG_MAX_BYTES (64 * 1024)

static const char *const WRITABLE[] = {"name",   "type",           "schedule", "timezone",
					"config", "require_approval", "approval_timeout_seconds", NULL};
static const char *const READ_ONLY[] = {"id",          "status",      "created_at",          "updated_at",
					"last_run_at", "next_run_at", "inbound_webhook",     "inbound_webhook_url",
					NULL};

#define HOOK_TOKEN_LEN 43 /* base62: about 256 bits */
#define HOOK_HINT_LEN 4


/* The agent as the API shows it: every documented field present, unset ones null, written straight to
 * text (lists are the hot path). config is spliced as stored: it was serialized by jansson on write and the
 * column is CHECKed as JSON. EXTRA's string members (the one-time hook URL and secret) follow. */
static void agent_render(sbuf *b, const agent_row *g, const json_t *extra)
{
	sbuf_key(b, "id", 1);
	sbuf_json_str(b, g->id);
	sbuf_key(b, "name", 0);
	sbuf_json_str(b, g->name);
	sbuf_key(b, "type", 0);
	sbuf_json_str(b, g->type);
	sbuf_key(b, "status", 0);
	sbuf_json_str(b, g->status);
	sbuf_key(b, "schedule", 0);
	sbuf_json_str(b, g->schedule);
	sbuf_key(b, "timezone", 0);
	sbuf_json_str(b, g->timezone);
	sbuf_key(b, "config", 0);
	sbuf_cstr(b, g->config);
	sbuf_key(b, "inbound_webhook", 0);
	sbuf_cstr(b, g->hook_hint ? "{\"enabled\":true,\"hint\":" : "{\"enabled\":false,\"hint\":");
	sbuf_json_str(b, g->hook_hint);
	sbuf_cstr(b, g->hook_secret_hex ? ",\"signed\":true}" : ",\"signed\":false}");
	sbuf_key(b, "created_at", 0);
	sbuf_json_str(b, g->created_at);
	sbuf_key(b, "updated_at", 0);
	sbuf_json_str(b, g->updated_at);
	sbuf_key(b, "last_run_at", 0);
	sbuf_json_str(b, g->last_run_at);
	sbuf_key(b, "next_run_at", 0);
	sbuf_json_str(b, g->next_run_at);
	sbuf_key(b, "require_approval", 0);
	sbuf_cstr(b, g->require_approval ? "true" : "false");
	sbuf_key(b, "approval_timeout_seconds", 0);
	if (g->approval_timeout_seconds >= 0)
		sbuf_int(b, g->approval_timeout_seconds);
	else
		sbuf_cstr(b, "null");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)extra, key, v)
	{
		sbuf_key(b, key, 0);
		sbuf_json_str(b, json_string_value(v));
	}
	sbuf_raw(b, "}", 1);
}

json_t *v1_agents_json(request *r, const agent_row *g)
{
	sbuf b;
	sbuf_init(&b, r->a, 1024);
	sbuf_raw(&b, "{", 1);
	agent_render(&b, g, NULL);
	json_t *v = json_loadb(b.buf, b.len, 0, NULL);
	if (!v)
		abort(); /* agent_render writes valid JSON: its config column is CHECKed as JSON */
	return v;
}

/* {"data": AGENT} with STATUS. */
static int respond_agent(request *r, int status, const agent_row *g, const json_t *extra)
{
	sbuf b;
	sbuf_init(&b, r->a, 1024);
	sbuf_raw(&b, "{\"data\":{", 9);
	agent_render(&b, g, extra);
	sbuf_raw(&b, "}", 1);
	return req_respond_text(r, status, b.buf, b.len);
}

/* The writable fields of G as a JSON object: the document a merge patch applies to. */
static json_t *writable_doc(const agent_row *g)
{
	json_t *config = json_loads(g->config, 0, NULL);
	return json_pack("{s:s, s:s, s:s?, s:s, s:o, s:b, s:o}", "name", g->name, "type", g->type, "schedule",
			 g->schedule, "timezone", g->timezone, "config", config ? config : json_object(),
			 "require_approval", g->require_approval, "approval_timeout_seconds",
			 g->approval_timeout_seconds >= 0 ? json_integer(g->approval_timeout_seconds) : json_null());
}

/* require_approval (boolean, default false) and approval_timeout_seconds (null: the server's default) of DOC
 * into F. */
static int validate_approval(request *r, const json_t *doc, agent_fields *f)
{
	const json_t *req = json_object_get(doc, "require_approval");
	if (req && !json_is_null(req) && !json_is_boolean(req))
		return req_fail_param(r, ERR_PARAMETER_INVALID, "require_approval", "require_approval must be true or false");
	f->require_approval = json_is_true(req);
	const json_t *t = json_object_get(doc, "approval_timeout_seconds");
	f->approval_timeout_seconds = -1;
	if (t && !json_is_null(t)) {
		if (!json_is_integer(t) || json_integer_value(t) < APPROVAL_TIMEOUT_MIN ||
		    json_integer_value(t) > APPROVAL_TIMEOUT_MAX)
			return req_fail_param(r, ERR_PARAMETER_INVALID, "approval_timeout_seconds",
					      arena_printf(r->a, "approval_timeout_seconds must be an integer from %d to %d, "
							   "or null", APPROVAL_TIMEOUT_MIN, APPROVAL_TIMEOUT_MAX));
		f->approval_timeout_seconds = (long)json_integer_value(t);
	}
	return 0;
}

/* Validates the whole desired state DOC into F (strings point into DOC or the arena). */
static int validate_doc(request *r, const json_t *doc, agent_fields *f)
{
	verr e;
	const json_t *name = json_object_get(doc, "name");
	if (!name)
		return req_fail_param(r, ERR_PARAMETER_MISSING, "name", "name is required");
	if (validate_string(name, "name", 1, 200, &e) != 0)
		return req_fail_verr(r, &e);
	f->name = json_string_value(name);

	const json_t *type = json_object_get(doc, "type");
	if (!type)
		return req_fail_param(r, ERR_PARAMETER_MISSING, "type", "type is required");
	const agenttype *at = json_is_string(type) ? agenttype_find(json_string_value(type)) : NULL;
	if (!at) {
		char *msg = "type must be one of:";
		for (int i = 0; i < AGENTTYPES_COUNT; i++)
			msg = arena_printf(r->a, "%s%s %s", msg, i ? "," : "", AGENTTYPES[i].name);
		return req_fail_param(r, ERR_PARAMETER_INVALID, "type", msg);
	}
	f->type = at->name;

	const json_t *tz = json_object_get(doc, "timezone");
	f->timezone = "UTC";
	if (tz && !json_is_null(tz)) {
		if (!json_is_string(tz) || json_string_length(tz) > 64 || !cron_tz_valid(json_string_value(tz)))
			return req_fail_param(r, ERR_PARAMETER_INVALID, "timezone",
					      "timezone must be an IANA time zone name such as Europe/Berlin");
		f->timezone = json_string_value(tz);
	}

	const json_t *sched = json_object_get(doc, "schedule");
	f->schedule = NULL;
	f->next_run_ms = -1;
	if (sched && !json_is_null(sched)) {
		cron_expr expr;
		char err[160];
		if (!json_is_string(sched))
			return req_fail_param(r, ERR_PARAMETER_INVALID, "schedule",
					      "schedule must be a 5-field cron expression or null");
		if (cron_parse(json_string_value(sched), &expr, err, sizeof err) != 0) {
			return req_fail_param(r, ERR_PARAMETER_INVALID, "schedule",
					      arena_printf(r->a, "schedule is not a valid cron expression: %s", err));
		}
		time_t next;
		if (cron_next(&expr, f->timezone, time(NULL), &next) != 0)
			return req_fail_param(r, ERR_PARAMETER_INVALID, "schedule", "schedule never fires");
		f->schedule = json_string_value(sched);
		f->next_run_ms = (int64_t)next * 1000;
	}

	const json_t *config = json_object_get(doc, "config");
	json_t *empty = req_keep(r, json_object());
	if (!config || json_is_null(config))
		config = empty;
	if (!json_is_object(config))
		return req_fail_param(r, ERR_PARAMETER_INVALID, "config", "config must be an object");
	if (at->validate(config, &e) != 0)
		return req_fail_verr(r, &e);
	for (const agenttype_ref *ref = at->refs; ref && ref->field; ref++) {
		const json_t *v = json_object_get(config, ref->field);
		if (!v || json_is_null(v))
			continue;
		const char *param = arena_printf(r->a, "config.%s", ref->field);
		if (!json_is_string(v))
			return req_fail_param(r, ERR_PARAMETER_INVALID, param, arena_printf(r->a, "%s must be an id", param));
		if (refs_check(r, ref, json_string_value(v), param) != 0)
			return -1;
	}
	char *text = json_dumps(config, JSON_COMPACT);
	if (!text)
		abort();
	f->config = arena_strdup(r->a, text);
	free(text);
	if (strlen(f->config) > CONFIG_MAX_BYTES)
		return req_fail_param(r, ERR_PARAMETER_INVALID, "config", "config is larger than 64 KiB");
	return validate_approval(r, doc, f);
}

/* Ends a failed transaction; the failure is already recorded. */
static int rollback(request *r)
{
	db_rollback(r->app->db);
	return -1;
}

/* Webhook event TYPE (agent.paused, agent.resumed) with agent ID as the API now shows it, into the outbox in
 * the request's transaction. Returns 0, or -1 with the failure recorded. */
static int agent_event(request *r, const char *id, const char *type)
{
	agent_row g;
	enum store_result res = store_agent_get(r->app->db, r->a, r->account_id, id, 0, &g);
	if (res == STORE_OK) {
		sbuf b;
		sbuf_init(&b, r->a, 1024);
		sbuf_raw(&b, "{", 1);
		agent_render(&b, &g, NULL);
		res = webhook_event_add(r->app->db, r->a, r->account_id, type, b.buf);
	}
	return res == STORE_OK ? 0 : req_fail_store(r, res, NULL);
}

/* One run.cancelled event per run of IDS (just cancelled), each as GET /api/v1/runs/{id} shows it. */
static int runs_cancelled_events(request *r, char **ids, int n)
{
	for (int i = 0; i < n; i++) {
		run_row x;
		enum store_result res = store_run_get(r->app->db, r->a, r->account_id, ids[i], &x);
		if (res == STORE_OK)
			res = webhook_event_add_object(r->app->db, r->a, r->account_id, "run.cancelled", store_run_json(&x));
		if (res != STORE_OK)
			return req_fail_store(r, res, NULL);
	}
	return 0;
}

/* Commits, then answers STATUS with agent ID as read inside the transaction, plus the one-time members of
 * EXTRA (stolen; may be NULL): the inbound webhook URL and secret. */
static int commit_and_respond(request *r, const char *id, int status, json_t *extra)
{
	agent_row g;
	req_keep(r, extra);
	enum store_result res = store_agent_get(r->app->db, r->a, r->account_id, id, 0, &g);
	if (res != STORE_OK)
		return req_fail_store(r, res, "agent not found"), rollback(r);
	if ((res = db_commit(r->app->db)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return respond_agent(r, status, &g, extra);
}

/* A new inbound-hook token for agent ID (and a signing secret when SIGNED), stored as its SHA-256 (and the
 * sealed secret). Returns the one-time members {inbound_webhook_url, inbound_webhook_secret?}, or NULL with
 * the failure recorded. */
static json_t *new_hook(request *r, const char *id, int is_signed)
{
	char token[HOOK_TOKEN_LEN + 1], secret[128];
	unsigned char hash[CRYPTO_SHA256_LEN], sealed[128 + SECRETBOX_OVERHEAD];
	size_t sealed_len = 0;
	crypto_random_base62(token, HOOK_TOKEN_LEN);
	crypto_sha256(token, HOOK_TOKEN_LEN, hash);
	if (is_signed) {
		stdwebhook_secret_new(secret, sizeof secret);
		sealed_len = secretbox_seal(r->app->cfg->master_key, id, secret, strlen(secret), sealed);
	}
	enum store_result res = store_agent_set_hook(r->app->db, r->a, r->account_id, id, hash,
						     token + HOOK_TOKEN_LEN - HOOK_HINT_LEN, is_signed ? sealed : NULL,
						     sealed_len, r->app->cfg->master_key_version);
	if (res != STORE_OK) {
		req_fail_store(r, res, "agent not found");
		return NULL;
	}
	json_t *out = json_pack("{s:s++}", "inbound_webhook_url", r->app->cfg->public_base_url, "/hooks/", token);
	if (is_signed)
		json_object_set_new(out, "inbound_webhook_secret", json_string(secret));
	explicit_bzero(secret, sizeof secret);
	explicit_bzero(token, sizeof token);
	return out;
}

int v1_agents_list(request *r)
{
	agent_row *rows;
	int n;
	enum store_result res = store_agent_list(r->app->db, r->a, r->account_id, r->cursor_id[0] ? r->cursor_id : NULL,
						 r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int has_more = n > r->limit;
	if (has_more)
		n = r->limit;
	sbuf b;
	sbuf_init(&b, r->a, 512 + (size_t)n * 640);
	sbuf_raw(&b, "{\"data\":[", 9);
	for (int i = 0; i < n; i++) {
		sbuf_raw(&b, i ? ",{" : "{", i ? 2 : 1);
		agent_render(&b, &rows[i], NULL);
	}
	return req_respond_list_text(r, &b, has_more ? rows[n - 1].id : NULL);
}

int v1_agents_get(request *r)
{
	agent_row g;
	enum store_result res = store_agent_get(r->app->db, r->a, r->account_id, r->param[0], 0, &g);
	if (res != STORE_OK)
		return req_fail_store(r, res, "agent not found");
	return respond_agent(r, 200, &g, NULL);
}

int v1_agents_create(request *r)
{
	agent_fields f;
	if (req_check_members(r, r->json, WRITABLE, READ_ONLY) != 0 || validate_doc(r, r->json, &f) != 0)
		return -1;
	if (req_begin_create(r, store_agent_count, r->app->cfg->agents_max_per_account, "agents") != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res;
	char id[IDS_MAX_LEN];
	if ((res = store_agent_insert(d, r->a, r->account_id, &f, id)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	json_t *changes = json_pack("{s:s, s:s, s:s?, s:s, s:b}", "name", f.name, "type", f.type, "schedule",
				    f.schedule, "timezone", f.timezone, "require_approval", f.require_approval);
	if (audit_record(r, "agent.created", "agent", id, changes) != 0)
		return rollback(r);
	json_t *hook = new_hook(r, id, 0);
	if (!hook)
		return rollback(r);
	req_header(r, "Location", arena_printf(r->a, "%s/api/v1/agents/%s", r->app->cfg->public_base_url, id));
	return commit_and_respond(r, id, 201, hook);
}

int v1_agents_update(request *r)
{
	if (req_check_members(r, r->json, WRITABLE, READ_ONLY) != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	agent_row g;
	if ((res = store_agent_get(d, r->a, r->account_id, r->param[0], 1, &g)) != STORE_OK)
		return req_fail_store(r, res, "agent not found"), rollback(r);
	json_t *before = req_keep(r, writable_doc(&g));
	json_t *after = req_keep(r, mergepatch_apply(before, r->json));
	agent_fields f;
	if (validate_doc(r, after, &f) != 0)
		return rollback(r);
	if ((res = store_agent_update(d, r->a, r->account_id, g.id, &f)) != STORE_OK)
		return req_fail_store(r, res, "agent not found"), rollback(r);

	/* What changed, field by field, for the audit trail. */
	json_t *normalized = req_keep(
		r, json_pack("{s:s, s:s, s:s?, s:s, s:o, s:b, s:o}", "name", f.name, "type", f.type, "schedule", f.schedule,
			     "timezone", f.timezone, "config", json_loads(f.config, 0, NULL), "require_approval",
			     f.require_approval, "approval_timeout_seconds",
			     f.approval_timeout_seconds >= 0 ? json_integer(f.approval_timeout_seconds) : json_null()));
	if (audit_record(r, "agent.updated", "agent", g.id, audit_changes(before, normalized, WRITABLE)) != 0)
		return rollback(r);
	return commit_and_respond(r, g.id, 200, NULL);
}

int v1_agents_delete(request *r)
{
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	agent_row g;
	char **cancelled = NULL;
	int ncancelled = 0;
	if ((res = store_agent_get(d, r->a, r->account_id, r->param[0], 1, &g)) != STORE_OK ||
	    (res = store_run_cancellable_ids(d, r->a, r->account_id, g.id, &cancelled, &ncancelled)) != STORE_OK ||
	    (res = store_agent_delete(d, r->a, r->account_id, g.id)) != STORE_OK ||
	    (res = store_run_cancel_for_agent(d, r->a, r->account_id, g.id)) != STORE_OK)
		return req_fail_store(r, res, "agent not found"), rollback(r);
	if (runs_cancelled_events(r, cancelled, ncancelled) != 0)
		return rollback(r);
	if (audit_record(r, "agent.deleted", "agent", g.id, json_pack("{s:s}", "name", g.name)) != 0)
		return rollback(r);
	if ((res = db_commit(d)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond(r, 204, NULL);
}

/* A resumed agent's next run is computed from now: a pause never leads to a catch-up run. */
static int resume_schedule(request *r, const agent_row *g)
{
	if (!g->schedule)
		return 0;
	cron_expr expr;
	time_t next;
	int64_t next_ms = -1;
	if (cron_parse(g->schedule, &expr, NULL, 0) == 0 && cron_next(&expr, g->timezone, time(NULL), &next) == 0)
		next_ms = (int64_t)next * 1000;
	enum store_result res = store_agent_reschedule(r->app->db, r->a, r->account_id, g->id, next_ms);
	return res == STORE_OK ? 0 : req_fail_store(r, res, NULL);
}

int v1_agents_rotate_hook(request *r)
{
	int is_signed = 0;
	if (r->json) {
		static const char *const keys[] = {"signed", NULL};
		verr e;
		if (validate_known_keys(r->json, "", keys, &e) != 0)
			return req_fail_verr(r, &e);
		json_t *s = json_object_get(r->json, "signed");
		if (s && !json_is_boolean(s))
			return req_fail_param(r, ERR_PARAMETER_INVALID, "signed", "signed must be true or false");
		is_signed = json_is_true(s);
	}
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	agent_row g;
	if ((res = store_agent_get(d, r->a, r->account_id, r->param[0], 1, &g)) != STORE_OK)
		return req_fail_store(r, res, "agent not found"), rollback(r);
	json_t *hook = new_hook(r, g.id, is_signed);
	if (!hook)
		return rollback(r);
	if (audit_record(r, "agent.inbound_webhook_rotated", "agent", g.id, json_pack("{s:b}", "signed", is_signed)) != 0) {
		json_decref(hook);
		return rollback(r);
	}
	return commit_and_respond(r, g.id, 200, hook);
}

/* Pause and resume: idempotent; only a real change is audited. */
static int set_paused(request *r, int paused)
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
	agent_row g;
	if ((res = store_agent_get(d, r->a, r->account_id, r->param[0], 1, &g)) != STORE_OK)
		return req_fail_store(r, res, "agent not found"), rollback(r);
	int was_paused = g.paused;
	char **queued = NULL;
	int nqueued = 0;
	if (was_paused != paused) {
		if ((res = store_agent_set_paused(d, r->a, r->account_id, g.id, paused)) != STORE_OK)
			return req_fail_store(r, res, "agent not found"), rollback(r);
		if (audit_record(r, paused ? "agent.paused" : "agent.resumed", "agent", g.id,
				 json_pack("{s:{s:b, s:b}}", "paused", "from", was_paused, "to", paused)) != 0)
			return rollback(r);
		if (!paused && resume_schedule(r, &g) != 0)
			return rollback(r);
		if (!paused && (res = store_run_queued_ids(d, r->a, g.id, &queued, &nqueued)) != STORE_OK)
			return req_fail_store(r, res, NULL), rollback(r);
		if (agent_event(r, g.id, paused ? "agent.paused" : "agent.resumed") != 0)
			return rollback(r);
	}
	if (commit_and_respond(r, g.id, 200, NULL) != 0)
		return -1;
	/* Runs that waited while the agent was paused go back to the queue (after the commit, as always). */
	for (int i = 0; i < nqueued; i++)
		if (queue_push(r->app->kv, r->a, queued[i]) != 0)
			break; /* Redis is down: the scheduler's sweep queues them */
	return 0;
}

int v1_agents_pause(request *r)
{
	return set_paused(r, 1);
}

int v1_agents_resume(request *r)
{
	return set_paused(r, 0);
}
