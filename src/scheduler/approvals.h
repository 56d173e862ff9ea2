/* approvals: the scheduler's side of approvals — expiring overdue ones, and performing the action of an
 * approved agentless (MCP) approval exactly once through the performer registry. */
#ifndef AP_APPROVALS_H
#define AP_APPROVALS_H

#include "arena.h"
#include "db.h"
#include "kv.h"
#include "settings.h"

#include <jansson.h>

/* What a performer gets (read-only) and fills in (error). Everything lives in A. */
typedef struct approval_perform_ctx {
	arena *a;
	const settings *cfg;
	db *db;                 /* the worker's MariaDB connection (no transaction open), e.g. to load a credential */
	const char *account_id; /* the approval's account: everything the performer loads must belong to it */
	const char *approval_id;
	const char *action;     /* the registered name, e.g. "send_email" */
	const json_t *args;     /* the approval's arguments exactly as approved (an object) */
	char error[600];        /* set by approvals_fail: readable, no internals or secrets */
} approval_perform_ctx;

/* A performer: 0 when the action was done, -1 when it failed (error set by approvals_fail). Called at most
 * once per approval (the claim is a conditional UPDATE); a crash midway leaves the action `running`. */
typedef int (*approval_performer)(approval_perform_ctx *ctx);

/* The performer registered for ACTION (the table in approvals.c), or NULL. */
approval_performer approvals_find(const char *action);

/* Records the first readable failure reason in CTX; always returns -1. */
int approvals_fail(approval_perform_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A run worker's handling of approval ID popped from the run queue: claims its action, performs it and
 * records the outcome. 0 when done with the id (performed, failed, or not claimable), -1 when MariaDB could
 * not be asked (try the same id again later). */
int approvals_perform(db *d, arena *a, const settings *cfg, const char *id);

/* The periodic check: overdue pending approvals become expired (their runs end expired). Returns how many,
 * or -1 when MariaDB was unavailable. */
int approvals_expire(db *d, arena *a);

/* The sweep's part: approved agentless actions still pending after OLDER_THAN_S seconds are pushed to the run
 * queue again (Redis may have lost them). 0, or -1 on a failure. */
int approvals_requeue_actions(db *d, kv *k, arena *a, int older_than_s);

#endif
