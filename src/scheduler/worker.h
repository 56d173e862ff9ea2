/* worker: one run-worker process (pop, claim, run, record, ack) and the slot it shares with the supervisor. */
#ifndef AP_WORKER_H
#define AP_WORKER_H

#include "ids.h"
#include "settings.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* Beyond run_timeout_seconds, how long a run may still be recording its outcome before its worker is
 * considered hung (the supervisor stops its heartbeat and kills it). */
#define WORKER_SLACK_SECONDS 60

/* What a worker is doing, in memory shared with the supervisor (a seqlock: the worker writes, the
 * supervisor reads). */
typedef struct worker_slot {
	_Atomic unsigned seq;                           /* odd while the worker writes */
	_Atomic uint64_t run_id[IDS_MAX_LEN / 8];        /* the run being executed, "" when idle */
	_Atomic int64_t since_ms;                       /* runner_now_ms() when it was claimed */
} worker_slot;

/* Worker side: RUN_ID (NULL: idle) is what this worker executes from now on. */
void worker_slot_set(worker_slot *s, const char *run_id);
/* Supervisor side: 1 with the run id in RUN_ID (IDS_MAX_LEN bytes) and its claim time in *SINCE_MS, 0 when
 * the worker is idle, -1 when the slot kept changing while read (try again later). */
int worker_slot_get(worker_slot *s, char *run_id, int64_t *since_ms);

/* The worker loop of a freshly forked child: its own MariaDB and Redis connections, WORKER_ID (the name of
 * its processing list and of its runs' `worker` column), SLOT to publish its current run. Returns (the exit
 * status, 0) once *STOP is set (SIGTERM: after the current run is recorded) or PARENT is no longer its
 * parent. */
int worker_main(const settings *cfg, const char *worker_id, worker_slot *slot, volatile sig_atomic_t *stop,
		pid_t parent);

#endif
