/* v1_signals: turning a signal (API, inbound webhook, later MCP) into a queued run. */
#ifndef AP_V1_SIGNALS_H
#define AP_V1_SIGNALS_H

#include "request.h"

/* Records signal TYPE with PAYLOAD (an object; the reference is borrowed) for agent AGENT_ID of
 * r->account_id and queues its run: MariaDB first (signal + run, one transaction), then the Redis queue.
 * SOURCE: api | webhook | mcp; TRIGGER: the run's trigger type. Answers 202 {"data": {id, run_id,
 * status}}; 404 for an unknown agent, 409 agent_paused, 429 when the agent's queue is full. */
int signal_enqueue(request *r, const char *agent_id, const char *type, json_t *payload, const char *source,
		   const char *trigger);

#endif
