/* agent_send_email: sending one email with an smtp credential, for send_email runs and approved agentless (MCP) send_email approvals. */
#ifndef AP_AGENT_SEND_EMAIL_H
#define AP_AGENT_SEND_EMAIL_H

#include "approvals.h"
#include "arena.h"
#include "db.h"
#include "settings.h"

#include <jansson.h>

/* The gated action's name, in approvals and the performer registry. */
#define SEND_EMAIL_ACTION "send_email"

/* Sends the email ARGS describe ({to, subject, body, credential_id}; checked here again) through ACCOUNT_ID's
 * smtp credential CREDENTIAL_ID (loaded now: absent, another account's, revoked or of another type fails),
 * within TIMEOUT_MS. Returns 0 with *OUTPUT ({message_id, to}, a new reference) and *SENT_TO (the
 * recipients joined by ", ", arena), or -1 with a readable reason in ERR (no secret, no body). */
int send_email_perform(arena *a, const settings *cfg, db *d, const char *account_id, const json_t *args,
		       long timeout_ms, json_t **output, const char **sent_to, char *err, size_t errlen);

/* The performer of approved agentless send_email approvals (registered in approvals.c). */
int agent_send_email_perform(approval_perform_ctx *ctx);

#endif
