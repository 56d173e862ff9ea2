/* deliveries: outbound webhooks: the outbox dispatch and the delivery attempts (Standard Webhooks). */
#ifndef AP_DELIVERIES_H
#define AP_DELIVERIES_H

#include "arena.h"
#include "db.h"
#include "settings.h"

#include <signal.h>

/* Each attempt's bound (DESIGN.md: 15 s); a claimed delivery is not taken again before twice this. */
#define DELIVERIES_TIMEOUT_MS 15000L
/* Bounds of one pass: events dispatched, deliveries attempted. */
#define DELIVERIES_DISPATCH_BATCH 50
#define DELIVERIES_DISPATCH_MAX_BATCHES 20
#define DELIVERIES_BATCH 10
#define DELIVERIES_MAX_PER_PASS 50

/* Parses a retry schedule ("5,30,120": seconds before each retry) into DELAYS (at most MAX). Returns how many
 * entries, or -1 when the text is not a comma-separated list of 1..MAX integers within 1..604800. */
int deliveries_parse_schedule(const char *text, long *delays, int max);

/* The delay before retry number RETRY (1-based) with +-20% jitter, in ms; -1 when the schedule has no such
 * retry (the attempt just made was the final one). */
long long deliveries_retry_in_ms(const long *delays, int n, int retry);

/* One pass: dispatches the outbox, then attempts the due deliveries (at most DELIVERIES_MAX_PER_PASS, one at a
 * time). Returns 0, or -1 when MariaDB failed (logged; the next pass continues). */
int deliveries_run(db *d, arena *a, const settings *cfg, volatile sig_atomic_t *stop);

/* The delivery process the scheduler forks: passes every webhook_dispatch_seconds until *STOP. It runs apart
 * from the supervisor so that a slow receiver never delays the cron tick or the workers' heartbeats. Returns
 * the exit status. */
int deliveries_main(const settings *cfg, volatile sig_atomic_t *stop);

#endif
