/* keyexpiry: the periodic check that tells an account about its API keys that expire soon. */
#ifndef AP_KEYEXPIRY_H
#define AP_KEYEXPIRY_H

#include "arena.h"
#include "db.h"

/* Creates the api_key.expiring notification of every live key expiring within NOTIFICATION_KEY_EXPIRY_DAYS
 * that has none yet (once per key: several schedulers, or a check repeated after a failure, add nothing).
 * Returns how many were created, or -1 when MariaDB failed (logged; the next check does the rest). */
int keyexpiry_run(db *d, arena *a);

#endif
