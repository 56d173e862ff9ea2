/* store_approval: statements on approvals (and the run status changes a decision causes). */
#include "store_approval.h"
#include "ids.h"
#include "store.h"
#include "store_notification.h"
#include "webhook_event.h"

#include <stdlib.h>
#include <string.h>

#define APR_PREFIX "apr_"
#define APR_COLUMNS                                                                                              \
	"p.id, p.account_id, p.agent_id, p.run_id, p.source, p.action, p.summary, p.arguments, p.status, "          \
	"p.requested_by, p.expires_at, p.created_at, p.decided_at, p.decided_by, p.comment, p.action_status, "      \
	"p.action_error, p.action_at"

/* The listing walks an index range backwards on id; the id bound carries the cursor ("apr_{" sorts after
 * every id). */
static const char SQL_LIST[] = "SELECT " APR_COLUMNS " FROM approvals p FORCE INDEX (approvals_account_status) "
			       "WHERE p.account_id = ? AND p.status = ? AND p.id < ? ORDER BY p.id DESC LIMIT ?";
static const char SQL_LIST_AGENT[] = "SELECT " APR_COLUMNS " FROM approvals p FORCE INDEX (approvals_agent) "
				     "WHERE p.agent_id = ? AND p.status = ? AND p.account_id = ? AND p.id < ? "
				     "ORDER BY p.id DESC LIMIT ?";
static const char SQL_GET[] = "SELECT " APR_COLUMNS " FROM approvals p WHERE p.account_id = ? AND p.id = ?";
static const char SQL_GET_ANY[] = "SELECT " APR_COLUMNS " FROM approvals p WHERE p.id = ?";
/* A locking read: the latest committed row, not the transaction's snapshot (taken before a concurrent decision
 * committed). */
static const char SQL_GET_LATEST[] =
	"SELECT " APR_COLUMNS " FROM approvals p WHERE p.account_id = ? AND p.id = ? LOCK IN SHARE MODE";

/* Lock order, everywhere: the run, then its approval (as the worker, agent deletion and the expiry do), so a
 * decision never deadlocks with them. */
static const char SQL_RUN_OF[] = "SELECT run_id FROM approvals WHERE account_id = ? AND id = ?";
static const char SQL_RUN_LOCK[] = "SELECT id FROM runs WHERE id = ? FOR UPDATE";
/* The decision: only a pending approval that has not expired by the database's clock. */
static const char SQL_DECIDE[] =
	"UPDATE approvals SET status = ?, decided_at = UTC_TIMESTAMP(3), decided_by = ?, comment = ?, "
	"action_status = IF(source = 'mcp' AND ? = 'approved', 'pending', NULL) "
	"WHERE account_id = ? AND id = ? AND status = 'pending' AND expires_at > UTC_TIMESTAMP(3)";
static const char SQL_RUN_RESUME[] = "UPDATE runs SET status = 'queued', worker = NULL, queued_at = UTC_TIMESTAMP(3) "
				     "WHERE id = ? AND status = 'waiting_approval'";
static const char SQL_RUN_REJECT[] =
	"UPDATE runs SET status = 'rejected', worker = NULL, finished_at = UTC_TIMESTAMP(3), "
	"error_message = LEFT(CONCAT('rejected: the approval was rejected', IF(? IS NULL, '', CONCAT(' (', ?, ')'))), "
	"1000) WHERE id = ? AND status = 'waiting_approval'";
static const char SQL_RUN_EXPIRE[] =
	"UPDATE runs SET status = 'expired', worker = NULL, finished_at = UTC_TIMESTAMP(3), "
	"error_message = 'expired: the approval was not decided in time' WHERE id = ? AND status = 'waiting_approval'";

static const char SQL_REQUEST[] =
	"INSERT INTO approvals (id, account_id, agent_id, run_id, source, action, summary, arguments, status, "
	"requested_by, expires_at, created_at) VALUES (?, ?, NULL, NULL, 'mcp', ?, LEFT(?, 500), ?, 'pending', ?, "
	"UTC_TIMESTAMP(3) + INTERVAL ? SECOND, UTC_TIMESTAMP(3))";

static const char SQL_AGENT_PENDING[] = "SELECT id FROM approvals WHERE account_id = ? AND agent_id = ? "
					"AND status = 'pending' ORDER BY id FOR UPDATE";
static const char SQL_CANCEL[] = "UPDATE approvals SET status = 'cancelled', decided_at = UTC_TIMESTAMP(3), "
				 "comment = 'cancelled: the agent was deleted' WHERE id = ? AND status = 'pending'";

static const char SQL_GATE_INFO[] =
	"SELECT g.require_approval, g.name, (SELECT p.action FROM approvals p WHERE p.run_id = r.id "
	"AND p.status = 'approved' ORDER BY p.id DESC LIMIT 1) FROM runs r JOIN agents g ON g.id = r.agent_id "
	"WHERE r.id = ?";
static const char SQL_RUN_WAIT[] =
	"UPDATE runs r JOIN agents g ON g.id = r.agent_id "
	"SET r.status = 'waiting_approval', r.worker = NULL, g.active_runs = IF(g.active_runs > 0, g.active_runs - 1, 0) "
	"WHERE r.id = ? AND r.status = 'running' AND r.worker = ?";
static const char SQL_WAIT_INSERT[] =
	"INSERT INTO approvals (id, account_id, agent_id, run_id, source, action, summary, arguments, status, "
	"expires_at, created_at) SELECT ?, r.account_id, r.agent_id, r.id, 'agent', ?, LEFT(?, 500), ?, 'pending', "
	"UTC_TIMESTAMP(3) + INTERVAL COALESCE(g.approval_timeout_seconds, ?) SECOND, UTC_TIMESTAMP(3) "
	"FROM runs r JOIN agents g ON g.id = r.agent_id WHERE r.id = ?";

/* Candidates only: each is expired by a conditional UPDATE after its run is locked, so concurrent schedulers
 * expire each approval once. */
static const char SQL_DUE[] = "SELECT id, run_id FROM approvals WHERE status = 'pending' "
			      "AND expires_at <= UTC_TIMESTAMP(3) ORDER BY expires_at, id LIMIT ?";
static const char SQL_EXPIRE[] = "UPDATE approvals SET status = 'expired', decided_at = UTC_TIMESTAMP(3) "
				 "WHERE id = ? AND status = 'pending' AND expires_at <= UTC_TIMESTAMP(3)";

static const char SQL_ACTION_CLAIM[] = "UPDATE approvals SET action_status = 'running', action_at = UTC_TIMESTAMP(3) "
				       "WHERE id = ? AND status = 'approved' AND action_status = 'pending'";
/* An agent run's approved action (its approval has no action_status until the run performs it). */
static const char SQL_RUN_ACTION_CLAIM[] =
	"UPDATE approvals SET action_status = 'running', action_at = UTC_TIMESTAMP(3) "
	"WHERE run_id = ? AND action = ? AND status = 'approved' AND action_status IS NULL";
static const char SQL_RUN_ACTION_LATEST[] = "SELECT " APR_COLUMNS " FROM approvals p WHERE p.run_id = ? AND p.action = ? "
					    "AND p.status = 'approved' ORDER BY p.id DESC LIMIT 1";
static const char SQL_ACTION_FINISH[] = "UPDATE approvals SET action_status = IF(? IS NULL, 'succeeded', 'failed'), "
					"action_error = LEFT(?, 600), action_at = UTC_TIMESTAMP(3) "
					"WHERE id = ? AND action_status = 'running'";
static const char SQL_ACTION_STALE[] = "SELECT id FROM approvals WHERE action_status = 'pending' "
				       "AND decided_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND ORDER BY decided_at LIMIT ?";

static void row_from(arena *a, char **c, approval_row *x)
{
	x->id = c[0];
	x->account_id = c[1];
	x->agent_id = c[2];
	x->run_id = c[3];
	x->source = c[4];
	x->action = c[5];
	x->summary = c[6];
	x->arguments = c[7];
	x->status = c[8];
	x->requested_by = c[9];
	x->expires_at = store_time(a, c[10]);
	x->created_at = store_time(a, c[11]);
	x->decided_at = store_time(a, c[12]);
	x->decided_by = c[13];
	x->comment = c[14];
	x->action_status = c[15];
	x->action_error = c[16];
	x->action_at = store_time(a, c[17]);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *store_approval_json(const approval_row *x)
{
	json_t *args = x->arguments ? json_loads(x->arguments, 0, NULL) : NULL;
	json_t *j = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:o}", "id", x->id,
			      "agent_id", str_or_null(x->agent_id), "run_id", str_or_null(x->run_id), "source",
			      x->source, "action", x->action, "summary", x->summary, "arguments",
			      args ? args : json_object(), "status", x->status, "expires_at", x->expires_at,
			      "created_at", x->created_at, "decided_at", str_or_null(x->decided_at), "decided_by",
			      str_or_null(x->decided_by), "comment", str_or_null(x->comment));
	if (!j)
		abort();
	json_t *action = json_null();
	if (x->action_status)
		action = json_pack("{s:s, s:o, s:o}", "status", x->action_status, "error", str_or_null(x->action_error),
				   "at", str_or_null(x->action_at));
	if (!action)
		abort();
	json_object_set_new(j, "action_result", action);
	return j;
}

/* Rows of SQL with P into *ROWS (arena). */
static enum store_result select_rows(db *d, arena *a, const char *sql, store_params *p, approval_row **rows, int *n)
{
	store_rows r;
	enum store_result res = store_exec(d, sql, p, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++)
		row_from(a, r.cell[i], &(*rows)[i]);
	*n = r.nrows;
	return STORE_OK;
}

/* The one row of SQL with the string parameters P1 and P2 (P2 may be NULL: absent) into OUT. */
static enum store_result select_one(db *d, arena *a, const char *sql, const char *p1, const char *p2,
				    approval_row *out)
{
	store_params p = {0};
	approval_row *rows;
	int n;
	store_param_str(&p, p1);
	if (p2)
		store_param_str(&p, p2);
	enum store_result res = select_rows(d, a, sql, &p, &rows, &n);
	if (res == STORE_OK && n != 1)
		res = STORE_NOT_FOUND;
	if (res == STORE_OK)
		*out = rows[0];
	return res;
}

enum store_result store_approval_list(db *d, arena *a, const char *account_id, const char *status,
				      const char *agent_id, const char *before_id, int limit, approval_row **rows,
				      int *n)
{
	store_params p = {0};
	if (agent_id)
		store_param_str(&p, agent_id);
	else
		store_param_str(&p, account_id);
	store_param_str(&p, status);
	if (agent_id)
		store_param_str(&p, account_id);
	store_param_str(&p, before_id ? before_id : APR_PREFIX "{");
	store_param_int(&p, limit);
	return select_rows(d, a, agent_id ? SQL_LIST_AGENT : SQL_LIST, &p, rows, n);
}

enum store_result store_approval_get(db *d, arena *a, const char *account_id, const char *id, approval_row *out)
{
	return select_one(d, a, SQL_GET, account_id, id, out);
}

/* approval.resolved or approval.requested (TYPE) for approval ID as it now stands, in the caller's
 * transaction; OUT (may be NULL) gets the row. */
static enum store_result approval_event(db *d, arena *a, const char *id, const char *type, approval_row *out)
{
	approval_row x;
	enum store_result res = select_one(d, a, SQL_GET_ANY, id, NULL, &x);
	if (res == STORE_OK)
		res = webhook_event_add_object(d, a, x.account_id, type, store_approval_json(&x));
	if (res == STORE_OK && out)
		*out = x;
	return res;
}

/* Locks run RUN_ID (the first lock of every change to a run's approval). */
static enum store_result lock_run(db *d, arena *a, const char *run_id)
{
	store_params p = {0};
	store_param_str(&p, run_id);
	return store_exec(d, SQL_RUN_LOCK, &p, a, NULL);
}

enum store_result store_approval_decide(db *d, arena *a, const char *account_id, const char *id, int approve,
					const char *key_id, const char *comment, approval_row *out,
					enum approval_refusal *why)
{
	store_params p = {0}, l = {0};
	store_rows r;
	store_param_str(&l, account_id);
	store_param_str(&l, id);
	enum store_result res = store_exec(d, SQL_RUN_OF, &l, a, &r);
	if (res == STORE_OK && r.nrows == 1 && r.cell[0][0])
		res = lock_run(d, a, r.cell[0][0]);
	if (res != STORE_OK)
		return res;
	store_param_str(&p, approve ? "approved" : "rejected");
	store_param_str(&p, key_id);
	store_param_str(&p, comment);
	store_param_str(&p, approve ? "approved" : "rejected");
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	if ((res = store_exec(d, SQL_DECIDE, &p, a, &r)) != STORE_OK)
		return res;
	if (r.affected == 0) {
		if ((res = select_one(d, a, SQL_GET_LATEST, account_id, id, out)) != STORE_OK)
			return res;
		/* Still pending after the refused UPDATE: only its expiry can have refused it. */
		*why = strcmp(out->status, "pending") == 0 || strcmp(out->status, "expired") == 0
			       ? APPROVAL_EXPIRED
			       : APPROVAL_ALREADY_DECIDED;
		return STORE_CONFLICT;
	}
	approval_row x;
	if ((res = store_approval_get(d, a, account_id, id, &x)) != STORE_OK)
		return res;
	if (x.run_id) {
		store_params q = {0};
		if (approve) {
			store_param_str(&q, x.run_id);
		} else {
			store_param_str(&q, comment);
			store_param_str(&q, comment);
			store_param_str(&q, x.run_id);
		}
		if ((res = store_exec(d, approve ? SQL_RUN_RESUME : SQL_RUN_REJECT, &q, a, NULL)) != STORE_OK)
			return res;
	}
	return approval_event(d, a, id, "approval.resolved", out);
}

enum store_result store_approval_request(db *d, arena *a, const settings *cfg, const char *account_id,
					 const char *key_id, const char *action, const char *summary, const json_t *args,
					 json_t **approval)
{
	char id[IDS_MAX_LEN];
	store_params p = {0};
	char *text = json_dumps(args ? args : json_object(), JSON_COMPACT);
	if (!text)
		abort();
	ids_new(APR_PREFIX, id);
	store_param_str(&p, id);
	store_param_str(&p, account_id);
	store_param_str(&p, action);
	store_param_str(&p, summary);
	store_param_str(&p, text);
	store_param_str(&p, key_id);
	store_param_int(&p, cfg->approval_default_timeout_seconds);
	enum store_result res = store_exec(d, SQL_REQUEST, &p, a, NULL);
	free(text);
	if (res == STORE_OK)
		res = store_notification_approval(d, a, id, NOTIFICATION_APPROVAL_REQUESTED);
	approval_row x;
	if (res == STORE_OK)
		res = approval_event(d, a, id, "approval.requested", &x);
	if (res == STORE_OK && approval)
		*approval = store_approval_json(&x);
	return res;
}

enum store_result store_approval_cancel_for_agent(db *d, arena *a, const char *account_id, const char *agent_id)
{
	store_params p = {0};
	char **ids;
	int n;
	store_param_str(&p, account_id);
	store_param_str(&p, agent_id);
	enum store_result res = store_exec_column(d, SQL_AGENT_PENDING, &p, a, &ids, &n);
	for (int i = 0; res == STORE_OK && i < n; i++) {
		store_params q = {0};
		store_param_str(&q, ids[i]);
		res = store_exec(d, SQL_CANCEL, &q, a, NULL);
		if (res == STORE_OK)
			res = approval_event(d, a, ids[i], "approval.resolved", NULL);
	}
	return res;
}

enum store_result store_approval_gate_info(db *d, arena *a, const char *run_id, int *require, char **agent_name,
					   char **approved_action)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, run_id);
	enum store_result res = store_exec(d, SQL_GATE_INFO, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	*require = r.cell[0][0] && strcmp(r.cell[0][0], "1") == 0;
	*agent_name = r.cell[0][1];
	*approved_action = r.cell[0][2];
	return STORE_OK;
}

enum store_result store_approval_wait(db *d, arena *a, const char *run_id, const char *worker, const char *action,
				      const char *summary, const char *args_json, int default_timeout_s)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, run_id);
	store_param_str(&p, worker);
	enum store_result res = store_exec(d, SQL_RUN_WAIT, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.affected == 0)
		return STORE_NOT_FOUND;
	char id[IDS_MAX_LEN];
	store_params q = {0};
	ids_new(APR_PREFIX, id);
	store_param_str(&q, id);
	store_param_str(&q, action);
	store_param_str(&q, summary);
	store_param_str(&q, args_json);
	store_param_int(&q, default_timeout_s);
	store_param_str(&q, run_id);
	if ((res = store_exec(d, SQL_WAIT_INSERT, &q, a, &r)) == STORE_OK && r.affected != 1)
		res = STORE_NOT_FOUND;
	if (res == STORE_OK)
		res = store_notification_approval(d, a, id, NOTIFICATION_APPROVAL_REQUESTED);
	if (res == STORE_OK)
		res = approval_event(d, a, id, "approval.requested", NULL);
	return res;
}

enum store_result store_approval_expire_due(db *d, arena *a, int limit, int *n)
{
	store_params p = {0};
	store_rows r;
	*n = 0;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	store_param_int(&p, limit);
	res = store_exec(d, SQL_DUE, &p, a, &r);
	for (int i = 0; res == STORE_OK && i < r.nrows; i++) {
		const char *id = r.cell[i][0], *run_id = r.cell[i][1];
		store_params q = {0};
		store_rows u;
		store_param_str(&q, id);
		if (run_id && (res = lock_run(d, a, run_id)) != STORE_OK)
			break;
		if ((res = store_exec(d, SQL_EXPIRE, &q, a, &u)) != STORE_OK || u.affected == 0)
			continue;
		if (run_id) {
			store_params s = {0};
			store_param_str(&s, run_id);
			res = store_exec(d, SQL_RUN_EXPIRE, &s, a, NULL);
		}
		if (res == STORE_OK)
			res = store_notification_approval(d, a, id, NOTIFICATION_APPROVAL_EXPIRED);
		if (res == STORE_OK)
			res = approval_event(d, a, id, "approval.resolved", NULL);
		if (res == STORE_OK)
			(*n)++;
	}
	if (res != STORE_OK) {
		db_rollback(d);
		*n = 0;
		return res;
	}
	return db_commit(d);
}

enum store_result store_approval_action_claim(db *d, arena *a, const char *id, approval_row *out)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_ACTION_CLAIM, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.affected == 0)
		return STORE_NOT_FOUND;
	return select_one(d, a, SQL_GET_ANY, id, NULL, out);
}

enum store_result store_approval_run_action_claim(db *d, arena *a, const char *run_id, const char *action,
						 approval_row *out)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, run_id);
	store_param_str(&p, action);
	enum store_result res = store_exec(d, SQL_RUN_ACTION_CLAIM, &p, a, &r);
	if (res != STORE_OK)
		return res;
	res = select_one(d, a, SQL_RUN_ACTION_LATEST, run_id, action, out);
	if (res != STORE_OK)
		return res;
	return r.affected == 0 ? STORE_CONFLICT : STORE_OK;
}

enum store_result store_approval_action_finish(db *d, arena *a, const char *id, const char *error)
{
	store_params p = {0};
	store_param_str(&p, error);
	store_param_str(&p, error);
	store_param_str(&p, id);
	return store_exec(d, SQL_ACTION_FINISH, &p, a, NULL);
}

enum store_result store_approval_action_stale(db *d, arena *a, int older_than_s, int limit, char ***ids, int *n)
{
	store_params p = {0};
	store_param_int(&p, older_than_s);
	store_param_int(&p, limit);
	return store_exec_column(d, SQL_ACTION_STALE, &p, a, ids, n);
}
