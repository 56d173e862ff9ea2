/* approvals: expiring overdue approvals and performing approved agentless actions (see approvals.h). */
#include "approvals.h"
#include "agent_send_email.h"
#include "log.h"
#include "queue.h"
#include "store_approval.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Approvals expired per statement batch; a larger backlog takes several batches of the same check. */
#define APPROVALS_EXPIRE_BATCH 100
#define APPROVALS_EXPIRE_MAX_BATCHES 50
/* Pending actions pushed again per sweep. */
#define APPROVALS_REQUEUE_LIMIT 100

/* The performers of agentless actions, by action name. */
static const struct {
	const char *action;
	approval_performer fn;
} PERFORMERS[] = {
	{SEND_EMAIL_ACTION, agent_send_email_perform},
	{NULL, NULL}, /* keeps the table valid while it has no entry; registrations go above */
};

approval_performer approvals_find(const char *action)
{
	for (size_t i = 0; action && i < sizeof PERFORMERS / sizeof PERFORMERS[0]; i++)
		if (PERFORMERS[i].action && strcmp(PERFORMERS[i].action, action) == 0)
			return PERFORMERS[i].fn;
	return NULL;
}

int approvals_fail(approval_perform_ctx *ctx, const char *fmt, ...)
{
	if (!ctx->error[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void json_release(void *p)
{
	json_decref(p);
}

int approvals_perform(db *d, arena *a, const settings *cfg, const char *id)
{
	approval_row x;
	enum store_result res = store_approval_action_claim(d, a, id, &x);
	if (res == STORE_NOT_FOUND)
		return 0;
	if (res != STORE_OK)
		return -1;
	approval_perform_ctx ctx = {.a = a, .cfg = cfg, .db = d, .account_id = x.account_id, .approval_id = x.id,
				    .action = x.action};
	json_t *args = json_loads(x.arguments, 0, NULL);
	if (args)
		arena_defer(a, json_release, args);
	ctx.args = args;
	approval_performer fn = approvals_find(x.action);
	int rc;
	if (!fn)
		rc = approvals_fail(&ctx, "the action \"%.64s\" is not supported by this scheduler", x.action);
	else if (!json_is_object(args))
		rc = approvals_fail(&ctx, "the approval's arguments could not be read");
	else
		rc = fn(&ctx);
	if (rc != 0 && !ctx.error[0])
		approvals_fail(&ctx, "the action failed");
	/* The claim is committed: a lost connection here leaves the action `running`, never performed twice. */
	for (int tries = 0; tries < 3; tries++)
		if ((res = store_approval_action_finish(d, a, id, rc == 0 ? NULL : ctx.error)) == STORE_OK)
			break;
	if (res != STORE_OK)
		log_error("approval %s: the outcome of its %s action could not be recorded", id, x.action);
	else if (rc == 0)
		log_info("approval %s: %s performed", id, x.action);
	else
		log_warn("approval %s: %s failed: %s", id, x.action, ctx.error);
	return 0;
}

int approvals_expire(db *d, arena *a)
{
	int total = 0;
	for (int i = 0; i < APPROVALS_EXPIRE_MAX_BATCHES; i++) {
		int n = 0;
		if (store_approval_expire_due(d, a, APPROVALS_EXPIRE_BATCH, &n) != STORE_OK)
			return -1;
		total += n;
		if (n < APPROVALS_EXPIRE_BATCH)
			break;
	}
	if (total > 0)
		log_info("approvals: %d overdue approval%s expired", total, total == 1 ? "" : "s");
	return total;
}

int approvals_requeue_actions(db *d, kv *k, arena *a, int older_than_s)
{
	char **ids;
	int n = 0;
	if (store_approval_action_stale(d, a, older_than_s, APPROVALS_REQUEUE_LIMIT, &ids, &n) != STORE_OK)
		return -1;
	for (int i = 0; i < n; i++)
		if (queue_push(k, a, ids[i]) != 0)
			return -1;
	if (n > 0)
		log_info("sweep: %d approved action%s pushed to the queue again", n, n == 1 ? "" : "s");
	return 0;
}
