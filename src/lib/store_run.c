/* store_run: statements on signals, runs and run_messages. */
#include "store_run.h"
#include "ids.h"
#include "store.h"
#include "store_approval.h"
#include "store_notification.h"
#include "webhook_event.h"

#include <stdlib.h>
#include <string.h>

#define RUN_COLUMNS                                                                                          \
	"r.id, r.account_id, r.agent_id, r.status, r.trigger_type, r.signal_id, r.signal_type, r.input, r.output, " \
	"r.error_message, r.attempt, r.queued_at, r.started_at, r.finished_at, "                                  \
	"IF(r.finished_at IS NULL OR r.started_at IS NULL, -1, "                                                    \
	"TIMESTAMPDIFF(MICROSECOND, r.started_at, r.finished_at) DIV 1000), r.scheduled_for"

static const char SQL_RUN_INSERT[] =
	"INSERT INTO runs (id, account_id, agent_id, status, trigger_type, signal_id, signal_type, input, "
	"scheduled_for, queued_at) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, IF(? < 0, NULL, FROM_UNIXTIME(? / 1000)), "
	"UTC_TIMESTAMP(3))";
static const char SQL_SIGNAL_INSERT[] =
	"INSERT INTO signals (id, account_id, agent_id, type, payload, source, created_at) "
	"VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_COUNT_QUEUED[] = "SELECT COUNT(*) FROM runs WHERE agent_id = ? AND status = 'queued'";
static const char SQL_LIST_FIRST[] = "SELECT " RUN_COLUMNS " FROM runs r WHERE r.account_id = ? AND r.agent_id = ? "
				     "ORDER BY r.id DESC LIMIT ?";
static const char SQL_LIST_NEXT[] = "SELECT " RUN_COLUMNS " FROM runs r WHERE r.account_id = ? AND r.agent_id = ? "
				    "AND r.id < ? ORDER BY r.id DESC LIMIT ?";
static const char SQL_LIST_STATUS_FIRST[] = "SELECT " RUN_COLUMNS " FROM runs r WHERE r.account_id = ? "
					    "AND r.agent_id = ? AND r.status = ? ORDER BY r.id DESC LIMIT ?";
static const char SQL_LIST_STATUS_NEXT[] = "SELECT " RUN_COLUMNS " FROM runs r WHERE r.account_id = ? "
					   "AND r.agent_id = ? AND r.status = ? AND r.id < ? ORDER BY r.id DESC LIMIT ?";
static const char SQL_GET[] = "SELECT " RUN_COLUMNS " FROM runs r WHERE r.account_id = ? AND r.id = ?";
static const char SQL_GET_ANY[] = "SELECT " RUN_COLUMNS " FROM runs r WHERE r.id = ?";
static const char SQL_MSG_AGENT[] = "SELECT id, agent_id, run_id, role, content, data, created_at FROM run_messages "
				    "WHERE account_id = ? AND agent_id = ? AND id > ? ORDER BY id LIMIT ?";
static const char SQL_MSG_RUN[] = "SELECT id, agent_id, run_id, role, content, data, created_at FROM run_messages "
				  "WHERE account_id = ? AND run_id = ? AND id > ? ORDER BY id LIMIT ?";
static const char SQL_MSG_INSERT[] =
	"INSERT INTO run_messages (id, account_id, agent_id, run_id, role, content, data, created_at) "
	"VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_CANCEL[] =
	"UPDATE runs SET status = 'cancelled', finished_at = UTC_TIMESTAMP(3), "
	"error_message = 'cancelled: the agent was deleted' "
	"WHERE account_id = ? AND agent_id = ? AND status IN ('queued', 'waiting_approval')";
static const char SQL_QUEUED_IDS[] = "SELECT id FROM runs WHERE agent_id = ? AND status = 'queued' ORDER BY id";
static const char SQL_CLAIM[] =
	"UPDATE runs r JOIN agents g ON g.id = r.agent_id "
	"SET r.status = 'running', r.worker = ?, r.attempt = r.attempt + 1, r.started_at = UTC_TIMESTAMP(3), "
	"r.heartbeat_at = UTC_TIMESTAMP(3), g.active_runs = g.active_runs + 1 "
	"WHERE r.id = ? AND r.status = 'queued' AND g.paused = 0 AND g.deleted_at IS NULL";
static const char SQL_CLAIMED[] =
	"SELECT " RUN_COLUMNS ", g.type, g.config FROM runs r JOIN agents g ON g.id = r.agent_id WHERE r.id = ?";
static const char SQL_FINISH[] =
	"UPDATE runs r JOIN agents g ON g.id = r.agent_id "
	"SET r.status = ?, r.output = ?, r.error_message = ?, r.finished_at = UTC_TIMESTAMP(3), "
	"g.active_runs = IF(g.active_runs > 0, g.active_runs - 1, 0), g.last_outcome = ?, "
	"g.last_run_at = UTC_TIMESTAMP(3) "
	"WHERE r.id = ? AND r.status = 'running' AND r.worker = ?";
/* Whether the failure about to be recorded puts the agent into error (its previous outcome was not a failure
 * and it is not paused); locks the run and its agent until the outcome is written. */
static const char SQL_INTO_ERROR[] =
	"SELECT g.last_outcome <> 'failed' AND g.paused = 0 FROM runs r JOIN agents g ON g.id = r.agent_id "
	"WHERE r.id = ? AND r.status = 'running' AND r.worker = ? FOR UPDATE";
static const char SQL_HEARTBEAT[] =
	"UPDATE runs SET heartbeat_at = UTC_TIMESTAMP(3) WHERE id = ? AND status = 'running' AND worker = ?";
static const char SQL_STALE_QUEUED[] =
	"SELECT r.id FROM runs r JOIN agents g ON g.id = r.agent_id WHERE r.status = 'queued' "
	"AND r.queued_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND AND g.paused = 0 AND g.deleted_at IS NULL "
	"ORDER BY r.queued_at LIMIT ?";
static const char SQL_DEAD[] =
	"SELECT r.id, r.attempt, g.deleted_at IS NOT NULL, g.last_outcome <> 'failed' AND g.paused = 0 "
	"FROM runs r JOIN agents g ON g.id = r.agent_id "
	"WHERE r.status = 'running' AND r.heartbeat_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND "
	"ORDER BY r.heartbeat_at LIMIT 100 FOR UPDATE";
static const char SQL_REQUEUE[] =
	"UPDATE runs r JOIN agents g ON g.id = r.agent_id "
	"SET r.status = 'queued', r.worker = NULL, r.queued_at = UTC_TIMESTAMP(3), "
	"g.active_runs = IF(g.active_runs > 0, g.active_runs - 1, 0) WHERE r.id = ? AND r.status = 'running'";
static const char SQL_FAIL_DEAD[] =
	"UPDATE runs r JOIN agents g ON g.id = r.agent_id "
	"SET r.status = 'failed', r.finished_at = UTC_TIMESTAMP(3), "
	"r.error_message = 'the run was interrupted too many times (its scheduler stopped responding)', "
	"g.active_runs = IF(g.active_runs > 0, g.active_runs - 1, 0), g.last_outcome = 'failed', "
	"g.last_run_at = UTC_TIMESTAMP(3) WHERE r.id = ? AND r.status = 'running'";
/* A dead run of an agent deleted meanwhile: nothing would ever claim it again. */
static const char SQL_CANCEL_DEAD[] =
	"UPDATE runs r JOIN agents g ON g.id = r.agent_id "
	"SET r.status = 'cancelled', r.finished_at = UTC_TIMESTAMP(3), "
	"r.error_message = 'cancelled: the agent was deleted', "
	"g.active_runs = IF(g.active_runs > 0, g.active_runs - 1, 0) WHERE r.id = ? AND r.status = 'running'";
static const char SQL_DUE[] =
	"SELECT id, account_id, schedule, timezone, "
	"CAST(UNIX_TIMESTAMP(next_run_at) * 1000 AS SIGNED) FROM agents "
	"WHERE next_run_at <= UTC_TIMESTAMP(3) AND paused = 0 AND deleted_at IS NULL "
	"ORDER BY next_run_at LIMIT ? FOR UPDATE SKIP LOCKED";
static const char SQL_SET_NEXT[] =
	"UPDATE agents SET next_run_at = IF(? < 0, NULL, FROM_UNIXTIME(? / 1000)) WHERE id = ?";

static void run_from(arena *a, char **c, void *out)
{
	run_row *r = out;
	r->id = c[0];
	r->account_id = c[1];
	r->agent_id = c[2];
	r->status = c[3];
	r->trigger_type = c[4];
	r->signal_id = c[5];
	r->signal_type = c[6];
	r->input = c[7];
	r->output = c[8];
	r->error_message = c[9];
	r->attempt = (int)strtol(c[10], NULL, 10);
	r->queued_at = store_time(a, c[11]);
	r->started_at = store_time(a, c[12]);
	r->finished_at = store_time(a, c[13]);
	r->duration_ms = c[14] ? strtoll(c[14], NULL, 10) : -1;
	r->scheduled_for = store_time(a, c[15]);
}

static json_t *json_text_or_null(const char *text)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_null();
}

json_t *store_run_json(const run_row *x)
{
	json_t *trigger = json_pack("{s:s, s:s?, s:s?}", "type", x->trigger_type, "signal_id", x->signal_id,
				    "signal_type", x->signal_type);
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s?, s:i, s:s, s:s?, s:s?}", "id", x->id, "agent_id",
			      x->agent_id, "status", x->status, "trigger", trigger, "input", json_text_or_null(x->input),
			      "output", json_text_or_null(x->output), "error_message", x->error_message, "attempt",
			      x->attempt, "queued_at", x->queued_at, "started_at", x->started_at, "finished_at",
			      x->finished_at);
	if (!j)
		abort();
	json_object_set_new(j, "duration_ms", x->duration_ms >= 0 ? json_integer(x->duration_ms) : json_null());
	return j;
}

json_t *store_message_json(const message_row *m)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "id", m->id, "agent_id", m->agent_id, "run_id",
			 m->run_id, "role", m->role, "content", m->content, "data", json_text_or_null(m->data),
			 "created_at", m->created_at);
}

/* Webhook event TYPE for run ID as it now stands, in the caller's transaction. */
static enum store_result run_event(db *d, arena *a, const char *id, const char *type)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_GET_ANY, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	run_row x;
	run_from(a, r.cell[0], &x);
	return webhook_event_add_object(d, a, x.account_id, type, store_run_json(&x));
}

enum store_result store_run_insert(db *d, arena *a, const char *account_id, const char *agent_id,
				   const char *trigger_type, const char *signal_id, const char *signal_type,
				   const char *input, int64_t scheduled_for_ms, char *run_id)
{
	store_params p = {0};
	ids_new("run_", run_id);
	store_param_str(&p, run_id);
	store_param_str(&p, account_id);
	store_param_str(&p, agent_id);
	store_param_str(&p, trigger_type);
	store_param_str(&p, signal_id);
	store_param_str(&p, signal_type);
	store_param_str(&p, input);
	store_param_int(&p, scheduled_for_ms);
	store_param_int(&p, scheduled_for_ms);
	return store_exec(d, SQL_RUN_INSERT, &p, a, NULL);
}

enum store_result store_signal_insert(db *d, arena *a, const char *account_id, const char *agent_id,
				      const char *type, const char *payload, const char *source, char *signal_id)
{
	store_params p = {0};
	ids_new("sig_", signal_id);
	store_param_str(&p, signal_id);
	store_param_str(&p, account_id);
	store_param_str(&p, agent_id);
	store_param_str(&p, type);
	store_param_str(&p, payload);
	store_param_str(&p, source);
	return store_exec(d, SQL_SIGNAL_INSERT, &p, a, NULL);
}

enum store_result store_run_count_queued(db *d, arena *a, const char *agent_id, long *n)
{
	store_params p = {0};
	char **v;
	int rows;
	store_param_str(&p, agent_id);
	enum store_result res = store_exec_column(d, SQL_COUNT_QUEUED, &p, a, &v, &rows);
	if (res == STORE_OK)
		*n = rows == 1 ? strtol(v[0], NULL, 10) : 0;
	return res;
}

enum store_result store_run_list(db *d, arena *a, const char *account_id, const char *agent_id, const char *status,
				 const char *before_id, int limit, run_row **rows, int *n)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, agent_id);
	if (status)
		store_param_str(&p, status);
	if (before_id)
		store_param_str(&p, before_id);
	store_param_int(&p, limit);
	const char *sql = status ? (before_id ? SQL_LIST_STATUS_NEXT : SQL_LIST_STATUS_FIRST)
				 : (before_id ? SQL_LIST_NEXT : SQL_LIST_FIRST);
	enum store_result res = store_exec(d, sql, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++)
		run_from(a, r.cell[i], &(*rows)[i]);
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_run_get(db *d, arena *a, const char *account_id, const char *id, run_row *out)
{
	return store_account_row(d, a, SQL_GET, account_id, id, run_from, out);
}

enum store_result store_message_list(db *d, arena *a, const char *account_id, const char *agent_id,
				     const char *run_id, const char *after_id, int limit, message_row **rows, int *n)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, run_id ? run_id : agent_id);
	store_param_str(&p, after_id ? after_id : "");
	store_param_int(&p, limit);
	enum store_result res = store_exec(d, run_id ? SQL_MSG_RUN : SQL_MSG_AGENT, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++) {
		char **c = r.cell[i];
		message_row *m = &(*rows)[i];
		m->id = c[0];
		m->agent_id = c[1];
		m->run_id = c[2];
		m->role = c[3];
		m->content = c[4];
		m->data = c[5];
		m->created_at = store_time(a, c[6]);
	}
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_message_insert(db *d, arena *a, const char *account_id, const char *agent_id,
				       const char *run_id, const char *role, const char *content, const char *data)
{
	char id[IDS_MAX_LEN];
	store_params p = {0};
	ids_new("msg_", id);
	store_param_str(&p, id);
	store_param_str(&p, account_id);
	store_param_str(&p, agent_id);
	store_param_str(&p, run_id);
	store_param_str(&p, role);
	store_param_str(&p, content);
	store_param_str(&p, data);
	return store_exec(d, SQL_MSG_INSERT, &p, a, NULL);
}

enum store_result store_run_cancel_for_agent(db *d, arena *a, const char *account_id, const char *agent_id)
{
	store_params p = {0};
	store_param_str(&p, account_id);
	store_param_str(&p, agent_id);
	enum store_result res = store_exec(d, SQL_CANCEL, &p, a, NULL);
	/* Their pending approvals can no longer be decided. */
	return res == STORE_OK ? store_approval_cancel_for_agent(d, a, account_id, agent_id) : res;
}

enum store_result store_run_queued_ids(db *d, arena *a, const char *agent_id, char ***ids, int *n)
{
	store_params p = {0};
	store_param_str(&p, agent_id);
	return store_exec_column(d, SQL_QUEUED_IDS, &p, a, ids, n);
}

enum store_result store_run_claim(db *d, arena *a, const char *id, const char *worker, run_row *out, char **type,
				  char **config)
{
	store_params p = {0};
	store_rows r;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	store_param_str(&p, worker);
	store_param_str(&p, id);
	if ((res = store_exec(d, SQL_CLAIM, &p, a, &r)) == STORE_OK && r.affected == 0)
		res = STORE_NOT_FOUND;
	if (res == STORE_OK) {
		store_params q = {0};
		store_param_str(&q, id);
		if ((res = store_exec(d, SQL_CLAIMED, &q, a, &r)) == STORE_OK && r.nrows != 1)
			res = STORE_NOT_FOUND;
	}
	if (res == STORE_OK) {
		run_from(a, r.cell[0], out);
		*type = r.cell[0][16];
		*config = r.cell[0][17];
		res = webhook_event_add_object(d, a, out->account_id, "run.started", store_run_json(out));
	}
	if (res != STORE_OK) {
		db_rollback(d);
		return res;
	}
	return db_commit(d);
}

enum store_result store_run_finish(db *d, arena *a, const char *id, const char *worker, const char *status,
				   const char *output, const char *error_message)
{
	store_params p = {0};
	store_rows r;
	int failed = strcmp(status, "failed") == 0, into_error = 0;
	if (failed) {
		store_params q = {0};
		store_param_str(&q, id);
		store_param_str(&q, worker);
		enum store_result res = store_exec(d, SQL_INTO_ERROR, &q, a, &r);
		if (res != STORE_OK)
			return res;
		if (r.nrows != 1)
			return STORE_NOT_FOUND;
		into_error = r.cell[0][0] && strcmp(r.cell[0][0], "1") == 0;
	}
	store_param_str(&p, status);
	store_param_str(&p, output);
	store_param_str(&p, error_message);
	store_param_str(&p, strcmp(status, "succeeded") == 0 ? "succeeded" : "failed");
	store_param_str(&p, id);
	store_param_str(&p, worker);
	enum store_result res = store_exec(d, SQL_FINISH, &p, a, &r);
	if (res == STORE_OK && r.affected == 0)
		return STORE_NOT_FOUND;
	if (res == STORE_OK && failed)
		res = store_notification_run_failed(d, a, id, into_error);
	if (res == STORE_OK)
		res = run_event(d, a, id, failed ? "run.failed" : "run.succeeded");
	return res;
}

enum store_result store_run_heartbeat(db *d, arena *a, const char *id, const char *worker)
{
	store_params p = {0};
	store_param_str(&p, id);
	store_param_str(&p, worker);
	return store_exec(d, SQL_HEARTBEAT, &p, a, NULL);
}

enum store_result store_run_stale_queued(db *d, arena *a, int older_than_s, int limit, char ***ids, int *n)
{
	store_params p = {0};
	store_param_int(&p, older_than_s);
	store_param_int(&p, limit);
	return store_exec_column(d, SQL_STALE_QUEUED, &p, a, ids, n);
}

enum store_result store_run_requeue_dead(db *d, arena *a, int timeout_s, int max_attempts, char ***ids, int *n)
{
	store_params p = {0};
	store_rows r;
	*n = 0;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	store_param_int(&p, timeout_s);
	if ((res = store_exec(d, SQL_DEAD, &p, a, &r)) != STORE_OK) {
		db_rollback(d);
		return res;
	}
	*ids = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **ids);
	for (int i = 0; i < r.nrows && res == STORE_OK; i++) {
		store_params q = {0};
		int deleted = r.cell[i][2] && strcmp(r.cell[i][2], "1") == 0;
		int requeue = !deleted && strtol(r.cell[i][1], NULL, 10) < max_attempts;
		store_param_str(&q, r.cell[i][0]);
		res = store_exec(d, deleted ? SQL_CANCEL_DEAD : requeue ? SQL_REQUEUE : SQL_FAIL_DEAD, &q, a, NULL);
		if (res == STORE_OK && !deleted && !requeue)
			res = store_notification_run_failed(d, a, r.cell[i][0],
							    r.cell[i][3] && strcmp(r.cell[i][3], "1") == 0);
		if (res == STORE_OK && !deleted && !requeue)
			res = run_event(d, a, r.cell[i][0], "run.failed");
		if (requeue)
			(*ids)[(*n)++] = r.cell[i][0];
	}
	if (res != STORE_OK) {
		db_rollback(d);
		*n = 0;
		return res;
	}
	return db_commit(d);
}

enum store_result store_agent_due(db *d, arena *a, int limit, due_agent **rows, int *n)
{
	store_params p = {0};
	store_rows r;
	store_param_int(&p, limit);
	enum store_result res = store_exec(d, SQL_DUE, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++) {
		char **c = r.cell[i];
		due_agent *g = &(*rows)[i];
		g->id = c[0];
		g->account_id = c[1];
		g->schedule = c[2];
		g->timezone = c[3];
		g->next_run_ms = c[4] ? strtoll(c[4], NULL, 10) : -1;
	}
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_agent_set_next_run(db *d, arena *a, const char *agent_id, int64_t next_ms)
{
	store_params p = {0};
	store_param_int(&p, next_ms);
	store_param_int(&p, next_ms);
	store_param_str(&p, agent_id);
	return store_exec(d, SQL_SET_NEXT, &p, a, NULL);
}

static const char SQL_CANCELLABLE_IDS[] = "SELECT id FROM runs WHERE account_id = ? AND agent_id = ? "
					  "AND status IN ('queued', 'waiting_approval') ORDER BY id FOR UPDATE";

enum store_result store_run_cancellable_ids(db *d, arena *a, const char *account_id, const char *agent_id,
					    char ***ids, int *n)
{
	store_params p = {0};
	store_param_str(&p, account_id);
	store_param_str(&p, agent_id);
	return store_exec_column(d, SQL_CANCELLABLE_IDS, &p, a, ids, n);
}
