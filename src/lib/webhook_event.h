/* webhook_event: the outbound event catalog and the outbox write every event source uses. */
#ifndef AP_WEBHOOK_EVENT_H
#define AP_WEBHOOK_EVENT_H

#include "arena.h"
#include "db.h"

#include <jansson.h>

/* The published catalog (also in the OpenAPI document's `webhooks`); "*" subscribes to all. */
extern const char *const WEBHOOK_EVENT_TYPES[];

/* 1 if NAME is in the catalog (or "*" when ALLOW_STAR). */
int webhook_event_known(const char *name, int allow_star);

/* Writes event TYPE of ACCOUNT_ID with DATA_JSON (the object, as JSON text) into the outbox, in the caller's
 * transaction: the body {"type", "timestamp", "data"} is fixed now, so every attempt sends the same bytes.
 * Returns the store result. */
enum store_result webhook_event_add(db *d, arena *a, const char *account_id, const char *type, const char *data_json);

/* The same with DATA as a JSON object (the store's *_json function of the object), which it takes over (NULL:
 * STORE_ERROR). */
enum store_result webhook_event_add_object(db *d, arena *a, const char *account_id, const char *type, json_t *data);

#endif
