/* v1_approvals: /api/v1/approvals — the account's approvals, one of them, approving and rejecting. */
#include "audit.h"
#include "handlers.h"
#include "ids.h"
#include "queue.h"
#include "store_approval.h"

#include <string.h>

#define COMMENT_MAX 1000

static const char *const STATUSES[] = {"pending", "approved", "rejected", "expired", "cancelled", NULL};

int v1_approvals_list(request *r)
{
	const char *status = req_query(r, "status");
	if (!status) {
		status = "pending";
	} else {
		int ok = 0;
		for (const char *const *s = STATUSES; *s; s++)
			ok |= strcmp(*s, status) == 0;
		if (!ok)
			return req_fail_param(r, ERR_QUERY_INVALID, "status",
					      "status must be one of pending, approved, rejected, expired, cancelled");
	}
	const char *agent_id = req_query(r, "agent_id");
	if (agent_id && !ids_valid("agt_", agent_id))
		return req_fail_param(r, ERR_QUERY_INVALID, "agent_id", "agent_id must be an agent id (agt_...)");
	approval_row *rows;
	int n;
	enum store_result res = store_approval_list(r->app->db, r->a, r->account_id, status, agent_id,
						    r->cursor_id[0] ? r->cursor_id : NULL, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int more = n > r->limit;
	if (more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, store_approval_json(&rows[i]));
	return req_respond_list(r, data, more ? rows[n - 1].id : NULL);
}

int v1_approvals_get(request *r)
{
	approval_row x;
	enum store_result res = store_approval_get(r->app->db, r->a, r->account_id, r->param[0], &x);
	if (res != STORE_OK)
		return req_fail_store(r, res, "approval not found");
	return req_respond_data(r, 200, store_approval_json(&x));
}

static int rollback(request *r)
{
	db_rollback(r->app->db);
	return -1;
}

/* Approve (APPROVE 1) or reject: the body's only, optional member is FIELD (comment | reason, a string of at
 * most COMMENT_MAX characters). The decision, its run's change, the approval.resolved event and the audit row
 * commit together; then the resumed run (or the approved agentless action) goes to the queue. */
static int decide(request *r, int approve, const char *field)
{
	const char *comment = NULL;
	if (r->json) {
		const char *const keys[] = {field, NULL};
		verr e;
		if (validate_known_keys(r->json, "", keys, &e) != 0)
			return req_fail_verr(r, &e);
		const json_t *c = json_object_get(r->json, field);
		if (c && !json_is_null(c)) {
			if (validate_string(c, field, 0, COMMENT_MAX, &e) != 0)
				return req_fail_verr(r, &e);
			comment = json_string_length(c) > 0 ? json_string_value(c) : NULL;
		}
	}
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	approval_row x;
	enum approval_refusal why = APPROVAL_ALREADY_DECIDED;
	res = store_approval_decide(d, r->a, r->account_id, r->param[0], approve, r->key_id, comment, &x, &why);
	if (res == STORE_CONFLICT) {
		rollback(r);
		if (why == APPROVAL_EXPIRED)
			return req_fail(r, ERR_APPROVAL_EXPIRED, "the approval expired before it was decided");
		return req_fail(r, ERR_ALREADY_DECIDED,
				arena_printf(r->a, "the approval is already %s", x.status));
	}
	if (res != STORE_OK)
		return req_fail_store(r, res, "approval not found"), rollback(r);
	json_t *changes = json_pack("{s:{s:s, s:s}, s:s?, s:s, s:s?}", "status", "from", "pending", "to", x.status,
				    field, comment, "action", x.action, "run_id", x.run_id);
	if (audit_record(r, approve ? "approval.approved" : "approval.rejected", "approval", x.id, changes) != 0)
		return rollback(r);
	if ((res = db_commit(d)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	/* After the commit, as always; Redis down: the sweep pushes queued runs and pending actions again. */
	if (approve && x.run_id)
		queue_push(r->app->kv, r->a, x.run_id);
	else if (approve && x.action_status)
		queue_push(r->app->kv, r->a, x.id);
	return req_respond_data(r, 200, store_approval_json(&x));
}

int v1_approvals_approve(request *r)
{
	return decide(r, 1, "comment");
}

int v1_approvals_reject(request *r)
{
	return decide(r, 0, "reason");
}
