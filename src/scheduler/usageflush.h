/* usageflush: moves API request counts from Redis into usage_daily, so that a flush interrupted at any point
 * neither loses nor double-counts. */
#ifndef AP_USAGEFLUSH_H
#define AP_USAGEFLUSH_H

#include "arena.h"
#include "db.h"
#include "kv.h"

/* A flush key stays in Redis this long after its counts were committed: GET /usage reads MariaDB's snapshot,
 * then Redis, and must still find (and skip) a key committed after its snapshot. */
#define USAGEFLUSH_KEEP_SECONDS 30
/* usage_flushes rows are kept this long (a replay of a flush key needs its row; keys live seconds). */
#define USAGEFLUSH_RECORD_DAYS 7

/* One flush: every live hash is renamed atomically to a flush key usage:flush:{acct}:<day>:<flush id>; then
 * every flush key not yet applied (this flush's and any a crash left behind) is applied to usage_daily in ONE
 * transaction together with its row in usage_flushes (a replay finds the row and adds nothing); applied keys
 * older than USAGEFLUSH_KEEP_SECONDS are deleted. Several schedulers may flush at once. Returns 0, or -1 when
 * MariaDB or Redis failed (logged; what was not done is done by the next flush). */
int usageflush_run(db *d, kv *k, arena *a);

#endif
