/* store_webhook: webhook_endpoints and webhook_deliveries (the outbox insert is webhook_event.c's). */
#ifndef AP_STORE_WEBHOOK_H
#define AP_STORE_WEBHOOK_H

#include "arena.h"
#include "db.h"

#include <stddef.h>

/* How long a rotated-out secret still signs (Standard Webhooks: receivers accept either). */
#define STORE_WEBHOOK_PREVIOUS_SECRET_HOURS 24

/* One endpoint (strings in the arena; RFC 3339 times or NULL). The sealed secrets are secretbox output
 * (AAD = the endpoint id) as bytes: SECRET_ENC/SECRET_LEN always, PREVIOUS_ENC/PREVIOUS_LEN only while
 * PREVIOUS_UNTIL is in the future (else NULL/0). */
typedef struct webhook_endpoint_row {
	char *id, *account_id, *url, *description;
	char *events; /* JSON array text: catalog names or ["*"] */
	int enabled;
	char *disabled_reason;
	int consecutive_failures;
	char *created_at, *updated_at;
	unsigned char *secret_enc;
	size_t secret_len;
	int secret_key_version;
	unsigned char *previous_enc;
	size_t previous_len;
	char *previous_until;
} webhook_endpoint_row;

/* The writable fields, for insert and update. DESCRIPTION may be NULL; EVENTS is JSON array text. */
typedef struct webhook_endpoint_fields {
	const char *url, *description, *events;
	int enabled;
} webhook_endpoint_fields;

/* One delivery as the API shows it (RFC 3339 times or NULL; LAST_STATUS_CODE < 0 when none). */
typedef struct webhook_delivery_row {
	char *id, *endpoint_id, *event_id, *event_type, *status;
	int attempts, last_status_code;
	char *last_error, *next_attempt_at, *created_at, *updated_at, *delivered_at;
} webhook_delivery_row;

/* A page of at most LIMIT of ACCOUNT_ID's live endpoints, newest first, ids below BEFORE_ID (NULL: first
 * page), into *ROWS (arena). */
enum store_result store_webhook_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
				     webhook_endpoint_row **rows, int *n);
/* Live endpoint ID of ACCOUNT_ID; FOR_UPDATE locks it (inside a transaction). STORE_NOT_FOUND otherwise. */
enum store_result store_webhook_get(db *d, arena *a, const char *account_id, const char *id, int for_update,
				    webhook_endpoint_row *out);
/* Live endpoints of ACCOUNT_ID (for the quota; lock the account row first to make it hold). */
enum store_result store_webhook_count(db *d, arena *a, const char *account_id, long *n);
/* Inserts endpoint ID (made by the caller with ids_new("whk_"): it is the secret's AAD) with its sealed
 * secret. */
enum store_result store_webhook_insert(db *d, arena *a, const char *account_id, const char *id,
				       const webhook_endpoint_fields *f, const unsigned char *secret_enc,
				       size_t secret_len, int key_version);
/* Replaces the writable fields. Going from disabled to enabled clears consecutive_failures and
 * disabled_reason. The caller has found (and locked) the endpoint: no NOT_FOUND here (MariaDB counts
 * only changed rows). */
enum store_result store_webhook_update(db *d, arena *a, const char *account_id, const char *id,
				       const webhook_endpoint_fields *f);
/* Soft-deletes (deliveries keep their endpoint row); pending deliveries of it are marked failed. */
enum store_result store_webhook_delete(db *d, arena *a, const char *account_id, const char *id);
/* The current secret becomes the previous one (signing until now + STORE_WEBHOOK_PREVIOUS_SECRET_HOURS)
 * and SECRET_ENC the current one. */
enum store_result store_webhook_rotate(db *d, arena *a, const char *account_id, const char *id,
				       const unsigned char *secret_enc, size_t secret_len, int key_version);

/* A page of at most LIMIT deliveries of endpoint ENDPOINT_ID of ACCOUNT_ID, newest first, ids below
 * BEFORE_ID (NULL: first page). */
enum store_result store_webhook_delivery_list(db *d, arena *a, const char *account_id, const char *endpoint_id,
					      const char *before_id, int limit, webhook_delivery_row **rows, int *n);
/* Delivery ID of endpoint ENDPOINT_ID of ACCOUNT_ID; STORE_NOT_FOUND otherwise. */
enum store_result store_webhook_delivery_get(db *d, arena *a, const char *account_id, const char *endpoint_id,
					     const char *id, webhook_delivery_row *out);
/* Delivery ID goes back to pending, due now, its attempts kept (the same webhook-id and body, a new
 * attempt). The caller has found it first (store_webhook_delivery_get). */
enum store_result store_webhook_redeliver(db *d, arena *a, const char *account_id, const char *endpoint_id,
					  const char *id);

/* ---- delivery side (src/scheduler/deliveries.c): statements below this line ---- */

/* Dispatches up to LIMIT undispatched events (FOR UPDATE SKIP LOCKED: concurrent schedulers take different
 * ones) in one transaction: one pending delivery, due now, per enabled live endpoint of the event's account
 * subscribed to its type or "*" (a second insert for the same endpoint and event changes nothing); each
 * event is marked dispatched. *N is how many events were. */
enum store_result store_webhook_dispatch(db *d, arena *a, int limit, int *n);

/* A delivery to attempt, as claimed (strings in the arena). SECRET_HEX / PREVIOUS_HEX: the sealed secrets
 * as "<key version>:<hex>" for secretbox_open_stored (PREVIOUS_HEX NULL unless it still signs). LIVE is 0 when the endpoint was disabled or deleted. */
typedef struct webhook_due {
	char *id, *account_id, *endpoint_id, *event_id, *payload, *url, *secret_hex, *previous_hex;
	int attempts, live;
} webhook_due;

/* Claims up to LIMIT due pending deliveries in one transaction (FOR UPDATE SKIP LOCKED), pushing their
 * next_attempt_at CLAIM_SECONDS ahead so no other scheduler takes them meanwhile (nor after a crash, before
 * that), then reads what each needs into *ROWS (arena). */
enum store_result store_webhook_due(db *d, arena *a, int limit, int claim_seconds, webhook_due **rows, int *n);

/* The outcome of one attempt at delivery ID of endpoint ENDPOINT_ID. */
typedef struct webhook_attempt {
	int success;             /* a 2xx answer */
	int status_code;         /* the answer's status, < 0 when none arrived */
	const char *error;       /* client-safe, NULL on success */
	long long retry_in_ms;   /* < 0: no further attempt (the delivery is failed) */
	const char *disable;     /* non-NULL: disable the endpoint now with this reason (a 410) */
	int disable_after;       /* consecutive failed deliveries that disable the endpoint */
} webhook_attempt;

/* Records attempt X in one transaction: the delivery's attempts, last status and error, and its next
 * attempt or final status; the endpoint's consecutive_failures (reset by a success, + 1 by a failed
 * delivery); and, when the endpoint is disabled by this attempt, its disabled_reason and the webhook.disabled
 * notification. *DISABLED is 1 then. */
enum store_result store_webhook_attempt_record(db *d, arena *a, const char *id, const char *endpoint_id,
					       const webhook_attempt *x, int *disabled);

#endif
