/* crontick: due agents -> schedule runs, in one transaction per batch. */
#include "crontick.h"
#include "cron.h"
#include "ids.h"
#include "log.h"
#include "queue.h"
#include "store_run.h"
#include "util.h"

#include <time.h>

/* Agents handled per transaction, and batches per tick (the rest wait for the next tick). */
#define CRONTICK_BATCH 100
#define CRONTICK_MAX_BATCHES 20

int crontick_plan(const char *schedule, const char *tz, int64_t due_ms, int64_t now_ms, int64_t *next_ms)
{
	cron_expr expr;
	*next_ms = -1;
	if (!schedule || !tz || cron_parse(schedule, &expr, NULL, 0) != 0 || !cron_tz_valid(tz))
		return 0;
	/* Strictly after the due time, and no earlier than the current second (a slot at exactly NOW is kept). */
	time_t due_s = (time_t)(due_ms / 1000);
	time_t after = (time_t)(now_ms / 1000) - 1;
	if (after < due_s)
		after = due_s;
	time_t next;
	if (cron_next(&expr, tz, after, &next) == 0)
		*next_ms = (int64_t)next * 1000;
	return 1;
}

/* One batch. Returns the number of due agents seen (runs made in *MADE), or -1. */
static int batch(db *d, kv *k, arena *a, int *made)
{
	due_agent *rows;
	int n = 0, nids = 0;
	enum store_result res = db_begin(d);
	if (res == STORE_OK)
		res = store_agent_due(d, a, CRONTICK_BATCH, &rows, &n);
	if (res != STORE_OK) {
		db_rollback(d);
		return -1;
	}
	char **ids = arena_alloc(a, (size_t)(n + 1) * sizeof *ids);
	int64_t now = util_now_ms();
	for (int i = 0; i < n && res == STORE_OK; i++) {
		const due_agent *g = &rows[i];
		int64_t next;
		if (crontick_plan(g->schedule, g->timezone, g->next_run_ms, now, &next) == 1) {
			char *id = arena_alloc(a, IDS_MAX_LEN);
			res = store_run_insert(d, a, g->account_id, g->id, "schedule", NULL, NULL, NULL, g->next_run_ms, id);
			if (res == STORE_OK)
				ids[nids++] = id;
			else if (res == STORE_CONFLICT)
				res = STORE_OK; /* that time's run exists already */
		} else {
			log_warn("agent %s: its schedule or timezone is not valid; it gets no more cron runs", g->id);
		}
		if (res == STORE_OK)
			res = store_agent_set_next_run(d, a, g->id, next);
	}
	if (res == STORE_OK)
		res = db_commit(d);
	if (res != STORE_OK) {
		db_rollback(d);
		return -1;
	}
	for (int i = 0; i < nids; i++)
		if (queue_push(k, a, ids[i]) != 0) {
			log_warn("%d cron run%s queued in MariaDB only (Redis unavailable); the sweep will queue them",
				 nids - i, nids - i == 1 ? "" : "s");
			break;
		}
	*made += nids;
	return n;
}

int crontick_run(db *d, kv *k, arena *a)
{
	int made = 0;
	for (int b = 0; b < CRONTICK_MAX_BATCHES; b++) {
		int n = batch(d, k, a, &made);
		if (n < 0)
			return -1;
		if (n < CRONTICK_BATCH)
			break;
	}
	if (made > 0)
		log_info("cron: %d run%s queued", made, made == 1 ? "" : "s");
	return made;
}
