/* crontick: the cron tick: agents whose next_run_at has passed get one 'schedule' run each, exactly once. */
#ifndef AP_CRONTICK_H
#define AP_CRONTICK_H

#include "arena.h"
#include "db.h"
#include "kv.h"

#include <stdint.h>

/* The decision for one due agent with SCHEDULE in timezone TZ, due at DUE_MS, seen at NOW_MS (epoch ms).
 * Returns 1 when a run is due for DUE_MS, with the agent's following due time in *NEXT_MS: the first one
 * after NOW (so ticks missed while no scheduler ran give one catch-up run, not a burst), or -1 when the
 * schedule never fires again. Returns 0 (no run, *NEXT_MS = -1) when the schedule or timezone is invalid. */
int crontick_plan(const char *schedule, const char *tz, int64_t due_ms, int64_t now_ms, int64_t *next_ms);

/* One tick: in a transaction, locks the due agents (SKIP LOCKED: concurrent schedulers take different
 * agents), inserts each one's run (a run another scheduler already made for that time is skipped: unique
 * key), moves next_run_at on, commits, then pushes the new runs to the queue (a failed push is repaired by
 * the sweep). Returns the number of runs created, or -1 when MariaDB failed (rolled back, logged). */
int crontick_run(db *d, kv *k, arena *a);

#endif
