/* store_run: signals, runs and display messages — the tables the API writes and the scheduler executes. */
#ifndef AP_STORE_RUN_H
#define AP_STORE_RUN_H

#include "arena.h"
#include "db.h"

#include <jansson.h>
#include <stdint.h>

typedef struct run_row {
	char *id, *account_id, *agent_id, *status;
	char *trigger_type, *signal_id, *signal_type; /* trigger: signal | schedule | webhook | mcp */
	char *input, *output;                          /* JSON text or NULL */
	char *error_message;
	int attempt;
	char *queued_at, *started_at, *finished_at;    /* RFC 3339 or NULL */
	long long duration_ms;                         /* -1 until finished */
	char *scheduled_for;                           /* cron runs: RFC 3339 */
} run_row;

typedef struct message_row {
	char *id, *agent_id, *run_id, *role, *content, *data, *created_at; /* data: JSON text or NULL */
} message_row;

/* Run X as the API shows it (GET /api/v1/runs/{id}, and the data of run.* webhook events): a new reference. */
json_t *store_run_json(const run_row *x);
/* Display message M as the API shows it (GET /api/v1/runs/{run_id}/messages, the MCP tool get_run): a new
 * reference. */
json_t *store_message_json(const message_row *m);

/* A new run (status queued) with its new id in RUN_ID (IDS_MAX_LEN). SIGNAL_ID/SIGNAL_TYPE may be NULL;
 * INPUT is JSON text or NULL; SCHEDULED_FOR_MS >= 0 marks a cron run (unique per agent and time: a second
 * insert answers STORE_CONFLICT). */
enum store_result store_run_insert(db *d, arena *a, const char *account_id, const char *agent_id,
				   const char *trigger_type, const char *signal_id, const char *signal_type,
				   const char *input, int64_t scheduled_for_ms, char *run_id);

/* A new signal row; its id in SIGNAL_ID. SOURCE: api | webhook | mcp. */
enum store_result store_signal_insert(db *d, arena *a, const char *account_id, const char *agent_id,
				      const char *type, const char *payload, const char *source, char *signal_id);

/* Runs of AGENT_ID still queued (the per-agent quota). */
enum store_result store_run_count_queued(db *d, arena *a, const char *agent_id, long *n);

/* A page of ACCOUNT's runs of AGENT_ID, newest first; STATUS (NULL: any) filters. */
enum store_result store_run_list(db *d, arena *a, const char *account_id, const char *agent_id, const char *status,
				 const char *before_id, int limit, run_row **rows, int *n);
enum store_result store_run_get(db *d, arena *a, const char *account_id, const char *id, run_row *out);

/* Messages, oldest first, after AFTER_ID (NULL: from the first): of an agent, or of a run (RUN_ID). */
enum store_result store_message_list(db *d, arena *a, const char *account_id, const char *agent_id,
				     const char *run_id, const char *after_id, int limit, message_row **rows, int *n);
/* A display message of a run. ROLE: agent | system. DATA: JSON text or NULL. */
enum store_result store_message_insert(db *d, arena *a, const char *account_id, const char *agent_id,
				       const char *run_id, const char *role, const char *content, const char *data);

/* Deleting an agent: its queued and waiting runs become cancelled, and their pending approvals too. */
enum store_result store_run_cancel_for_agent(db *d, arena *a, const char *account_id, const char *agent_id);
/* Ids of the runs store_run_cancel_for_agent would cancel (queued or waiting), oldest first, locked FOR UPDATE
 * (call it first, in the same transaction, to emit one run.cancelled event per run). */
enum store_result store_run_cancellable_ids(db *d, arena *a, const char *account_id, const char *agent_id,
					    char ***ids, int *n);
/* Ids of AGENT_ID's queued runs, oldest first (resume pushes them to the queue again). */
enum store_result store_run_queued_ids(db *d, arena *a, const char *agent_id, char ***ids, int *n);

/* ---- the scheduler's side ---- */

/* Claims queued run ID for WORKER (queued -> running, attempt + 1, agent's active_runs + 1) if its agent is
 * live and not paused, with its run.started webhook event, in one transaction of its own. STORE_OK with OUT filled (plus the agent's type and config in TYPE/CONFIG);
 * STORE_NOT_FOUND if it is not claimable (already taken, finished, cancelled, or the agent is paused). */
enum store_result store_run_claim(db *d, arena *a, const char *id, const char *worker, run_row *out, char **type,
				  char **config);
/* Records the outcome of a running run (succeeded | failed), its output (JSON or NULL) and error, and the
 * agent's last outcome; releases the agent's active run. Only from WORKER's running state. A failure also
 * creates its run.failed notification, and agent.error when it puts the agent into error; the run.succeeded or
 * run.failed webhook event is written too: call it inside a transaction so they commit with the outcome. */
enum store_result store_run_finish(db *d, arena *a, const char *id, const char *worker, const char *status,
				   const char *output, const char *error_message);
enum store_result store_run_heartbeat(db *d, arena *a, const char *id, const char *worker);

/* Queued runs older than OLDER_THAN_S seconds whose agent is live and not paused (the sweep pushes them
 * again: Redis may have lost them). */
enum store_result store_run_stale_queued(db *d, arena *a, int older_than_s, int limit, char ***ids, int *n);
/* Running runs whose heartbeat is older than TIMEOUT_S: back to queued (their ids in IDS) while attempt <
 * MAX_ATTEMPTS, else failed with a clear error (and its notifications, as store_run_finish); cancelled if
 * their agent was deleted meanwhile. One transaction. */
enum store_result store_run_requeue_dead(db *d, arena *a, int timeout_s, int max_attempts, char ***ids, int *n);

/* Cron: inside a transaction, locks up to LIMIT live, unpaused agents whose next_run_at has passed
 * (FOR UPDATE SKIP LOCKED: concurrent schedulers take different agents). */
typedef struct due_agent {
	char *id, *account_id, *schedule, *timezone;
	int64_t next_run_ms;
} due_agent;
enum store_result store_agent_due(db *d, arena *a, int limit, due_agent **rows, int *n);
/* Sets next_run_at (NEXT_MS < 0: NULL). */
enum store_result store_agent_set_next_run(db *d, arena *a, const char *agent_id, int64_t next_ms);

#endif
