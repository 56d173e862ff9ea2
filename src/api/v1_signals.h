/* v1_signals: turning a signal (API, inbound webhook, later MCP) into a queued run. */
#ifndef AP_V1_SIGNALS_H
#define AP_V1_SIGNALS_H

#include "request.h"

#define SIGNAL_PAYLOAD_MAX_BYTES (64 * 1024) /* a payload's compact JSON text */

/* Whether T is a valid signal type: a string of 1 to 100 characters of a-z, 0-9, _ . : - */
int signal_type_valid(const json_t *t);

/* Records signal TYPE with PAYLOAD (an object; the reference is borrowed) for agent AGENT_ID of
 * r->account_id and queues its run: MariaDB first (signal + run, one transaction), then the Redis queue.
 * SOURCE: api | webhook | mcp; TRIGGER: the run's trigger type. Answers 202 {"data": {id, run_id,
 * status}}; 404 for an unknown agent, 409 agent_paused, 429 when the agent's queue is full. */
int signal_enqueue(request *r, const char *agent_id, const char *type, json_t *payload, const char *source,
		   const char *trigger);

/* The same without answering: the new signal's and run's ids go to SIG_ID and RUN_ID (IDS_MAX_LEN bytes each).
 * IN_TX (may be NULL) runs with ARG inside the transaction, after the inserts and before the commit (the MCP tool
 * trigger_agent writes its audit row there); its -1 (failure recorded in R) rolls everything back. Returns 0, or -1
 * with the failure (404, 409 agent_paused, 429 with Retry-After, 503/500) recorded in R. */
int signal_enqueue_run(request *r, const char *agent_id, const char *type, json_t *payload, const char *source,
		       const char *trigger, char *sig_id, char *run_id, int (*in_tx)(request *r, void *arg), void *arg);

#endif
