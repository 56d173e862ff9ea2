/* v1_runs: runs of an agent, one run, and display messages (of an agent or of a run). */
#include "handlers.h"
#include "store_agent.h"
#include "store_run.h"

#include <string.h>

static const char *const RUN_STATUSES[] = {"queued",  "running",  "waiting_approval", "succeeded",
					   "failed",  "rejected", "expired",          "cancelled", NULL};

/* One run: the store's rendering, shared with the run.* webhook events. */
static json_t *run_json(const run_row *x)
{
	return store_run_json(x);
}

/* The agent must be a live agent of the caller's account (a 404 otherwise, like any foreign id). */
static int require_agent(request *r, const char *id)
{
	agent_row g;
	enum store_result res = store_agent_get(r->app->db, r->a, r->account_id, id, 0, &g);
	return res == STORE_OK ? 0 : req_fail_store(r, res, "agent not found");
}

int v1_runs_list(request *r)
{
	const char *status = req_query(r, "status");
	if (status) {
		int ok = 0;
		for (const char *const *s = RUN_STATUSES; *s; s++)
			ok |= strcmp(*s, status) == 0;
		if (!ok)
			return req_fail_param(r, ERR_QUERY_INVALID, "status",
					      "status must be one of queued, running, waiting_approval, succeeded, failed, "
					      "rejected, expired, cancelled");
	}
	if (require_agent(r, r->param[0]) != 0)
		return -1;
	run_row *rows;
	int n;
	enum store_result res = store_run_list(r->app->db, r->a, r->account_id, r->param[0], status,
					       r->cursor_id[0] ? r->cursor_id : NULL, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int more = n > r->limit;
	if (more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, run_json(&rows[i]));
	return req_respond_list(r, data, more ? rows[n - 1].id : NULL);
}

int v1_runs_get(request *r)
{
	run_row x;
	enum store_result res = store_run_get(r->app->db, r->a, r->account_id, r->param[0], &x);
	if (res != STORE_OK)
		return req_fail_store(r, res, "run not found");
	return req_respond_data(r, 200, run_json(&x));
}

static int list_messages(request *r, const char *agent_id, const char *run_id)
{
	message_row *rows;
	int n;
	enum store_result res = store_message_list(r->app->db, r->a, r->account_id, agent_id, run_id,
						   r->cursor_id[0] ? r->cursor_id : NULL, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int more = n > r->limit;
	if (more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, store_message_json(&rows[i]));
	return req_respond_list(r, data, more ? rows[n - 1].id : NULL);
}

int v1_messages_list_agent(request *r)
{
	if (require_agent(r, r->param[0]) != 0)
		return -1;
	return list_messages(r, r->param[0], NULL);
}

int v1_messages_list_run(request *r)
{
	run_row x;
	enum store_result res = store_run_get(r->app->db, r->a, r->account_id, r->param[0], &x);
	if (res != STORE_OK)
		return req_fail_store(r, res, "run not found");
	return list_messages(r, x.agent_id, x.id);
}
