/* v1_signals: POST /api/v1/agents/{id}/signals, and the enqueue path inbound hooks share. */
#include "v1_signals.h"
#include "handlers.h"
#include "log.h"
#include "queue.h"
#include "store_agent.h"
#include "store_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_FULL_RETRY_AFTER "5"

int signal_enqueue_run(request *r, const char *agent_id, const char *type, json_t *payload, const char *source,
		       const char *trigger, char *sig_id, char *run_id, int (*in_tx)(request *r, void *arg), void *arg)
{
	char *payload_text = json_dumps(payload, JSON_COMPACT);
	json_t *input = json_pack("{s:s, s:O}", "type", type, "payload", payload);
	char *input_text = json_dumps(input, JSON_COMPACT);
	json_decref(input);
	if (!payload_text || !input_text)
		abort();
	char *p = arena_strdup(r->a, payload_text), *in = arena_strdup(r->a, input_text);
	free(payload_text);
	free(input_text);

	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	agent_row g;
	long queued = 0;
	if ((res = store_agent_get(d, r->a, r->account_id, agent_id, 1, &g)) != STORE_OK)
		goto store_failed;
	if (g.paused) {
		db_rollback(d);
		return req_fail(r, ERR_AGENT_PAUSED, "the agent is paused; resume it to send signals");
	}
	if ((res = store_run_count_queued(d, r->a, g.id, &queued)) != STORE_OK)
		goto store_failed;
	if (queued >= r->app->cfg->queued_runs_max_per_agent) {
		db_rollback(d);
		req_header(r, "Retry-After", QUEUE_FULL_RETRY_AFTER);
		return req_fail(r, ERR_RATE_LIMITED, "the agent already has the maximum number of queued runs");
	}
	if ((res = store_signal_insert(d, r->a, r->account_id, g.id, type, p, source, sig_id)) != STORE_OK ||
	    (res = store_run_insert(d, r->a, r->account_id, g.id, trigger, sig_id, type, in, -1, run_id)) != STORE_OK)
		goto store_failed;
	if (in_tx && in_tx(r, arg) != 0) {
		db_rollback(d);
		return -1;
	}
	if ((res = db_commit(d)) != STORE_OK)
		goto store_failed;
	/* Durable now: if Redis misses the push, the scheduler's sweep queues the run again. */
	if (queue_push(r->app->kv, r->a, run_id) != 0)
		log_warn("request %s: run %s is queued in MariaDB only (Redis unavailable); the sweep will queue it",
			 r->request_id, run_id);
	return 0;

store_failed:
	db_rollback(d);
	return req_fail_store(r, res, "agent not found");
}

int signal_enqueue(request *r, const char *agent_id, const char *type, json_t *payload, const char *source,
		   const char *trigger)
{
	char sig_id[IDS_MAX_LEN], run_id[IDS_MAX_LEN];
	if (signal_enqueue_run(r, agent_id, type, payload, source, trigger, sig_id, run_id, NULL, NULL) != 0)
		return -1;
	return req_respond_data(r, 202, json_pack("{s:s, s:s, s:s}", "id", sig_id, "run_id", run_id, "status", "queued"));
}

int signal_type_valid(const json_t *t)
{
	if (!json_is_string(t))
		return 0;
	size_t n = json_string_length(t);
	const char *s = json_string_value(t);
	if (n < 1 || n > 100)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("_.:-", s[i])) || !s[i])
			return 0;
	return 1;
}

int v1_signals_create(request *r)
{
	static const char *const keys[] = {"type", "payload", NULL};
	verr e;
	if (validate_known_keys(r->json, "", keys, &e) != 0)
		return req_fail_verr(r, &e);
	json_t *type = json_object_get(r->json, "type");
	if (!type)
		return req_fail_param(r, ERR_PARAMETER_MISSING, "type", "type is required");
	if (!signal_type_valid(type))
		return req_fail_param(r, ERR_PARAMETER_INVALID, "type",
				      "type must be 1 to 100 characters of a-z, 0-9, _ . : -");
	json_t *payload = json_object_get(r->json, "payload");
	if (!payload || json_is_null(payload))
		payload = req_keep(r, json_object());
	if (!json_is_object(payload))
		return req_fail_param(r, ERR_PARAMETER_INVALID, "payload", "payload must be an object");
	char *text = json_dumps(payload, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;
	free(text);
	if (n > SIGNAL_PAYLOAD_MAX_BYTES)
		return req_fail_param(r, ERR_PARAMETER_INVALID, "payload", "payload is larger than 64 KiB");
	return signal_enqueue(r, r->param[0], json_string_value(type), payload, "api", "signal");
}
