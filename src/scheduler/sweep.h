/* sweep: the recovery sweep: what a lost worker, a killed scheduler or an emptied Redis left behind runs again. */
#ifndef AP_SWEEP_H
#define AP_SWEEP_H

#include "arena.h"
#include "db.h"
#include "kv.h"
#include "settings.h"

/* One sweep: running runs whose heartbeat expired go back to the queue (up to run_max_attempts, then they
 * fail with a clear error); queued runs older than sweep_requeue_after_seconds (Redis may have lost them) are
 * pushed again (a duplicate in the queue is harmless: claiming is atomic); ids held by workers that died
 * without releasing them go back to the queue. Returns 0, or -1 when MariaDB or Redis failed (logged; the
 * next sweep tries again). */
int sweep_run(db *d, kv *k, arena *a, const settings *cfg);

#endif
