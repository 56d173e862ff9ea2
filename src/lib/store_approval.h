/* store_approval: the approvals table — a person in the loop before an agent (or the MCP endpoint) acts. */
#ifndef AP_STORE_APPROVAL_H
#define AP_STORE_APPROVAL_H

#include "arena.h"
#include "db.h"
#include "settings.h"

#include <jansson.h>

/* Bounds of an agent's approval_timeout_seconds (and of the setting approval_default_timeout_seconds). */
#define APPROVAL_TIMEOUT_MIN 60
#define APPROVAL_TIMEOUT_MAX (30 * 86400)

/* One approval as stored (strings in the arena; agent_id, run_id and every decision/action field may be NULL;
 * arguments is JSON text; times RFC 3339). */
typedef struct approval_row {
	char *id, *account_id, *agent_id, *run_id, *source, *action, *summary, *arguments, *status;
	char *requested_by, *expires_at, *created_at, *decided_at, *decided_by, *comment;
	char *action_status, *action_error, *action_at;
} approval_row;

/* Approval X as the API shows it (GET /api/v1/approvals/{id}, and the data of approval.* webhook events),
 * every documented member present: a new reference. */
json_t *store_approval_json(const approval_row *x);

/* ---- the API's side ---- */

/* A page of at most LIMIT of ACCOUNT_ID's approvals in STATUS, newest first; AGENT_ID (NULL: any) filters;
 * BEFORE_ID (NULL: first page) is the keyset cursor. */
enum store_result store_approval_list(db *d, arena *a, const char *account_id, const char *status,
				      const char *agent_id, const char *before_id, int limit, approval_row **rows,
				      int *n);
/* Approval ID of ACCOUNT_ID into OUT; STORE_NOT_FOUND when the account has none by that id. */
enum store_result store_approval_get(db *d, arena *a, const char *account_id, const char *id, approval_row *out);

/* Why store_approval_decide refused (STORE_CONFLICT). */
enum approval_refusal { APPROVAL_ALREADY_DECIDED = 1, APPROVAL_EXPIRED };

/* Decides pending approval ID of ACCOUNT_ID (APPROVE 1: approved, 0: rejected) by key KEY_ID with COMMENT (may
 * be NULL), in the caller's transaction: one conditional UPDATE (still pending, and expires_at after the
 * database's now), so of two concurrent decisions exactly one wins. An approved run goes back to queued
 * (push its id after the commit), a rejected one ends `rejected`; an approved agentless action gets
 * action_status pending (push the approval id after the commit). Writes approval.resolved. STORE_OK with
 * OUT as it now stands; STORE_NOT_FOUND; STORE_CONFLICT with *WHY and OUT as it stands. */
enum store_result store_approval_decide(db *d, arena *a, const char *account_id, const char *id, int approve,
					const char *key_id, const char *comment, approval_row *out,
					enum approval_refusal *why);

/* An agentless approval (source mcp: no agent, no run) of ACCOUNT_ID requested by API key KEY_ID for ACTION
 * (the name an approval_action performer is registered under, e.g. "send_email") with SUMMARY (one line,
 * cut at 500 characters) and ARGS (an object: the exact arguments, never secrets), expiring after the
 * setting approval_default_timeout_seconds; with its notification and approval.requested event, in the
 * caller's transaction (wrap it in db_begin/db_commit). *APPROVAL (may be NULL) gets the API object (a new
 * reference). Once approved, a scheduler worker performs ACTION exactly once. */
enum store_result store_approval_request(db *d, arena *a, const settings *cfg, const char *account_id,
					 const char *key_id, const char *action, const char *summary, const json_t *args,
					 json_t **approval);

/* Deleting an agent: its pending approvals become `cancelled` (each with approval.resolved), in the caller's
 * transaction. */
enum store_result store_approval_cancel_for_agent(db *d, arena *a, const char *account_id, const char *agent_id);

/* ---- the scheduler's side ---- */

/* For claimed run RUN_ID: its agent's require_approval (*REQUIRE), name (*AGENT_NAME) and the action of the
 * run's latest approved approval (*APPROVED_ACTION, NULL when none). */
enum store_result store_approval_gate_info(db *d, arena *a, const char *run_id, int *require, char **agent_name,
					   char **approved_action);

/* Run RUN_ID, running on WORKER, stops at a gate: waiting_approval (the agent's active run released), and a
 * pending approval (source agent) for ACTION with SUMMARY and ARGS_JSON expiring after the agent's
 * approval_timeout_seconds (or the setting DEFAULT_TIMEOUT_S), its notification and approval.requested event.
 * In the caller's transaction. STORE_NOT_FOUND when the run is no longer WORKER's. */
enum store_result store_approval_wait(db *d, arena *a, const char *run_id, const char *worker, const char *action,
				      const char *summary, const char *args_json, int default_timeout_s);

/* Marks at most LIMIT overdue pending approvals expired (their runs end `expired`), each with its
 * notification and approval.resolved, in one transaction (each by a conditional UPDATE after its run is locked:
 * several schedulers expire each approval once);
 * *N is how many. */
enum store_result store_approval_expire_due(db *d, arena *a, int limit, int *n);

/* Claims approved agentless approval ID's action (action_status pending -> running) into OUT; STORE_NOT_FOUND
 * when it is not claimable (already claimed, or not approved): the action is performed at most once. */
enum store_result store_approval_action_claim(db *d, arena *a, const char *id, approval_row *out);
/* Claims the approved action ACTION of agent run RUN_ID right before the runner performs it (action_status
 * NULL -> running, autocommitted) into OUT: STORE_OK claimed now; STORE_CONFLICT an earlier attempt of the run
 * claimed it already (a worker lost after claiming may have acted: do not act again); STORE_NOT_FOUND no
 * approved approval of that action. Finish with store_approval_action_finish. */
enum store_result store_approval_run_action_claim(db *d, arena *a, const char *run_id, const char *action,
						 approval_row *out);
/* Records the outcome of a claimed action: ERROR NULL succeeded, else failed with ERROR (readable, no
 * secrets). */
enum store_result store_approval_action_finish(db *d, arena *a, const char *id, const char *error);
/* Ids of approved agentless approvals whose action is still pending OLDER_THAN_S seconds after the decision
 * (the sweep pushes them again: Redis may have lost them). */
enum store_result store_approval_action_stale(db *d, arena *a, int older_than_s, int limit, char ***ids, int *n);

#endif
