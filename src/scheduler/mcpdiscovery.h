/* mcpdiscovery: the scheduler's discovery of external MCP servers (initialize, tools/list) after each change. */
#ifndef AP_MCPDISCOVERY_H
#define AP_MCPDISCOVERY_H

#include "arena.h"
#include "db.h"
#include "settings.h"

#include <signal.h>

/* Servers claimed per batch, and batches per pass. */
#define MCPDISCOVERY_BATCH 5
#define MCPDISCOVERY_MAX_BATCHES 10

/* One pass: claims unchecked, enabled servers (several schedulers take different ones) and discovers each
 * within mcp_client_timeout_seconds: status ok with its tools, or error with a readable last_error. Returns
 * 0, or -1 when MariaDB failed (logged; what was claimed is taken again once the claim expires). */
int mcpdiscovery_run(db *d, arena *a, const settings *cfg, volatile sig_atomic_t *stop);

/* The discovery process the scheduler forks: a pass every mcp_discovery_seconds until *STOP, apart from the
 * supervisor so that a slow MCP server never delays its heartbeats. Returns the exit status. */
int mcpdiscovery_main(const settings *cfg, volatile sig_atomic_t *stop);

#endif
