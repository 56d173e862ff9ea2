/* supervisor: the scheduler's parent process: run-worker children, their heartbeats, the cron tick and the sweep. */
#ifndef AP_SUPERVISOR_H
#define AP_SUPERVISOR_H

#include "settings.h"

#include <signal.h>

/* Forks scheduler_concurrency run workers (restarting any that dies), refreshes the heartbeat of the runs
 * they execute every heartbeat_timeout_seconds / 3, runs the cron tick every cron_tick_seconds and the
 * sweep every sweep_interval_seconds, until *STOP becomes non-zero (SIGTERM, SIGINT). Then it stops taking
 * work: the workers get SIGTERM and up to shutdown_grace_seconds to record their current run (a second
 * signal, or the end of the grace, kills them; their runs are recovered by a later sweep). Returns the exit
 * status (0; 1 if the shared worker slots could not be made). In a forked worker it never returns: the
 * worker exits when its loop ends. */
int supervisor_run(const settings *cfg, volatile sig_atomic_t *stop);

#endif
