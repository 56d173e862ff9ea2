/* queue: the Redis run queue. MariaDB holds every run; this list only says "run this id soon", so
 * losing it loses nothing (the scheduler's sweep pushes queued runs again). */
#ifndef AP_QUEUE_H
#define AP_QUEUE_H

#include "arena.h"
#include "kv.h"

#define QUEUE_KEY "runs:queue"
#define QUEUE_PROCESSING_PREFIX "runs:processing:"
/* The set of registered run workers, and each live worker's key (expires unless refreshed). */
#define QUEUE_WORKERS_KEY "runs:workers"
#define QUEUE_WORKER_PREFIX "runs:worker:"

/* Pushes RUN_ID for a run worker. 0, or -1 if Redis is unreachable (the run stays queued in MariaDB). */
int queue_push(kv *k, arena *a, const char *run_id);

/* Moves the oldest id into WORKER's processing list, waiting up to TIMEOUT_MS (keep it below the Redis
 * command timeout). Returns 1 with the id in *RUN_ID (arena), 0 on timeout, -1 if Redis is unreachable. */
int queue_pop(kv *k, arena *a, const char *worker, int timeout_ms, char **run_id);

/* Removes RUN_ID from WORKER's processing list once its outcome is recorded. */
int queue_ack(kv *k, arena *a, const char *worker, const char *run_id);

/* Empties WORKER's processing list (a worker between runs holds nothing there: what an ack that failed
 * left behind). 0, or -1 if Redis is unreachable. */
int queue_clear_processing(kv *k, arena *a, const char *worker);

/* Registers WORKER as alive for TTL_S seconds (refresh it well before). 0, or -1 if Redis is unreachable. */
int queue_worker_alive(kv *k, arena *a, const char *worker, int ttl_s);

/* WORKER is gone: ids left in its processing list go back to the queue (to be claimed again if still
 * queued), then it is unregistered. Returns the number of ids moved back, or -1 if Redis is unreachable. */
int queue_worker_release(kv *k, arena *a, const char *worker);

/* Registered workers whose liveness key has expired (their process died without releasing): their names in
 * *WORKERS (arena), *N of them. 0, or -1 if Redis is unreachable. */
int queue_workers_lost(kv *k, arena *a, char ***workers, int *n);

#endif
