/* store_notification: the notifications table (written by the scheduler with the event that causes each). */
#ifndef AP_STORE_NOTIFICATION_H
#define AP_STORE_NOTIFICATION_H

#include "arena.h"
#include "db.h"

#include <jansson.h>

/* Notification types, as stored and listed. */
#define NOTIFICATION_RUN_FAILED "run.failed"
#define NOTIFICATION_AGENT_ERROR "agent.error"
#define NOTIFICATION_WEATHER_ALERT "weather.alert"
#define NOTIFICATION_API_KEY_EXPIRING "api_key.expiring"
#define NOTIFICATION_WEBHOOK_DISABLED "webhook.disabled"
#define NOTIFICATION_APPROVAL_REQUESTED "approval.requested"
#define NOTIFICATION_APPROVAL_EXPIRED "approval.expired"

/* How long before its expiry an API key gets its api_key.expiring notification. */
#define NOTIFICATION_KEY_EXPIRY_DAYS 7

/* One notification as the API shows it (strings in the arena; agent_id, run_id and read_at may be NULL). */
typedef struct notification_row {
	char *id, *type, *title, *body, *agent_id, *run_id, *read_at, *created_at;
} notification_row;

/* Notification X as the API shows it (GET /api/v1/notifications/{id}, and the data of notification.created
 * webhook events), every documented member present: a new reference. */
json_t *store_notification_json(const notification_row *x);

/* A page of at most LIMIT of ACCOUNT_ID's notifications, newest first, into *ROWS (arena). TYPE (NULL: any)
 * and UNREAD (1 unread only, 0 read only, -1 both) filter; BEFORE_ID (NULL: first page) is the keyset
 * cursor. Each combination is one index range scan. Returns STORE_OK or the failure. */
enum store_result store_notification_list(db *d, arena *a, const char *account_id, const char *type, int unread,
					  const char *before_id, int limit, notification_row **rows, int *n);

/* Notification ID of ACCOUNT_ID into OUT; STORE_NOT_FOUND when the account has none by that id. */
enum store_result store_notification_get(db *d, arena *a, const char *account_id, const char *id,
					 notification_row *out);

/* Marks notification ID read now unless it already is; *CHANGED is 1 when it was unread. STORE_NOT_FOUND
 * when ACCOUNT_ID has no such notification. */
enum store_result store_notification_mark_read(db *d, arena *a, const char *account_id, const char *id,
					       int *changed);

/* Marks every unread notification of ACCOUNT_ID read now; *UPDATED is how many were. */
enum store_result store_notification_mark_all_read(db *d, arena *a, const char *account_id, long long *updated);

/* ---- creation: in the caller's transaction, each idempotent (its event's dedupe key); each new notification
 * also writes its notification.created webhook event ---- */

/* For run RUN_ID, already recorded as failed: run.failed (body: its error message) and, when INTO_ERROR
 * (the agent's previous outcome was not a failure, and it is not paused), agent.error. */
enum store_result store_notification_run_failed(db *d, arena *a, const char *run_id, int into_error);

/* weather.alert for run RUN_ID, its body MESSAGE (the alert's text, cut at 1000 characters). */
enum store_result store_notification_weather_alert(db *d, arena *a, const char *run_id, const char *message);

/* api_key.expiring for every live key (not revoked, not yet expired) that expires within
 * NOTIFICATION_KEY_EXPIRY_DAYS and has none yet, at most LIMIT per call; *MADE is how many were created. */
enum store_result store_notification_keys_expiring(db *d, arena *a, int limit, int *made);

/* webhook.disabled for endpoint ENDPOINT_ID of ACCOUNT_ID (URL: its url, REASON: why), once per endpoint and
 * DISABLED_AT (the time it was disabled, as stored). */
enum store_result store_notification_webhook_disabled(db *d, arena *a, const char *account_id, const char *endpoint_id,
						     const char *url, const char *reason, const char *disabled_at);

/* TYPE (NOTIFICATION_APPROVAL_REQUESTED or NOTIFICATION_APPROVAL_EXPIRED) for approval APPROVAL_ID as it now
 * stands (title: its agent's name or its action; body: its summary and expiry). */
enum store_result store_notification_approval(db *d, arena *a, const char *approval_id, const char *type);

#endif
