/* sweep: re-queues dead runs and runs Redis lost, and gives back what lost workers held. */
#include "sweep.h"
#include "approvals.h"
#include "log.h"
#include "queue.h"
#include "store_idempotency.h"
#include "store_run.h"

/* Queued runs pushed again per sweep: bounds the duplicates a long backlog can cause. */
#define SWEEP_STALE_LIMIT 1000
/* Expired idempotency keys deleted per sweep: short statements, no long lock on the table. */
#define SWEEP_PURGE_LIMIT 1000

/* Pushes the N ids, stopping at the first failure (Redis is down: the next sweep tries again); returns how many
 * made it. */
static int push_all(kv *k, arena *a, char **ids, int n)
{
	int pushed = 0;
	while (pushed < n && queue_push(k, a, ids[pushed]) == 0)
		pushed++;
	return pushed;
}

int sweep_run(db *d, kv *k, arena *a, const settings *cfg)
{
	int rc = 0, n = 0;
	char **ids;
	enum store_result res =
		store_run_requeue_dead(d, a, cfg->heartbeat_timeout_seconds, cfg->run_max_attempts, &ids, &n);
	if (res != STORE_OK) {
		rc = -1;
	} else if (n > 0) {
		int pushed = push_all(k, a, ids, n);
		log_warn("sweep: %d run%s whose worker stopped responding queued again (%d pushed)", n, n == 1 ? "" : "s",
			 pushed);
	}

	n = 0;
	res = store_run_stale_queued(d, a, cfg->sweep_requeue_after_seconds, SWEEP_STALE_LIMIT, &ids, &n);
	if (res != STORE_OK) {
		rc = -1;
	} else if (n > 0) {
		int pushed = push_all(k, a, ids, n);
		if (pushed < n)
			rc = -1;
		log_info("sweep: %d queued run%s waiting longer than %d s pushed to the queue again", pushed,
			 pushed == 1 ? "" : "s", cfg->sweep_requeue_after_seconds);
	}

	/* Approved agentless actions Redis may have lost. */
	if (approvals_requeue_actions(d, k, a, cfg->sweep_requeue_after_seconds) != 0)
		rc = -1;

	/* Idempotency keys are kept 24 hours; the expired ones go here, a bounded batch per sweep. */
	long purged = 0;
	if (store_idempotency_purge(d, a, SWEEP_PURGE_LIMIT, &purged) != STORE_OK)
		rc = -1;
	else if (purged > 0)
		log_debug("sweep: %ld expired idempotency key%s removed", purged, purged == 1 ? "" : "s");

	char **lost;
	int nlost = 0;
	if (queue_workers_lost(k, a, &lost, &nlost) != 0)
		return -1;
	for (int i = 0; i < nlost; i++) {
		int moved = queue_worker_release(k, a, lost[i]);
		if (moved < 0)
			return -1;
		log_info("sweep: worker %s is gone; %d held id%s given back to the queue", lost[i], moved,
			 moved == 1 ? "" : "s");
	}
	return rc;
}
