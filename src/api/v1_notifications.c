/* v1_notifications: /api/v1/notifications — the account's notifications, one of them, marking them read. */
#include "audit.h"
#include "handlers.h"
#include "store_notification.h"

#include <string.h>

/* Every type a notification can have (the filter refuses others: a typo is an error, not an empty list). */
static const char *const TYPES[] = {NOTIFICATION_RUN_FAILED, NOTIFICATION_AGENT_ERROR, NOTIFICATION_WEATHER_ALERT,
				    NOTIFICATION_API_KEY_EXPIRING, NOTIFICATION_WEBHOOK_DISABLED,
				    NOTIFICATION_APPROVAL_REQUESTED, NOTIFICATION_APPROVAL_EXPIRED, NULL};

/* One notification, every documented member present (null when unset): the store's rendering, shared with
 * the notification.created webhook event. */
static json_t *notification_full(const notification_row *x)
{
	return store_notification_json(x);
}

int v1_notifications_list(request *r)
{
	const char *type = req_query(r, "type");
	if (type) {
		int ok = 0;
		for (const char *const *t = TYPES; *t; t++)
			ok |= strcmp(*t, type) == 0;
		if (!ok)
			return req_fail_param(r, ERR_QUERY_INVALID, "type",
					      "type must be one of run.failed, agent.error, weather.alert, api_key.expiring, "
					      "webhook.disabled, approval.requested, approval.expired");
	}
	int unread = -1;
	const char *u = req_query(r, "unread");
	if (u) {
		if (strcmp(u, "true") == 0)
			unread = 1;
		else if (strcmp(u, "false") == 0)
			unread = 0;
		else
			return req_fail_param(r, ERR_QUERY_INVALID, "unread", "unread must be true or false");
	}
	notification_row *rows;
	int n;
	enum store_result res = store_notification_list(r->app->db, r->a, r->account_id, type, unread,
							r->cursor_id[0] ? r->cursor_id : NULL, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int more = n > r->limit;
	if (more)
		n = r->limit;
	json_t *data = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(data, notification_full(&rows[i]));
	return req_respond_list(r, data, more ? rows[n - 1].id : NULL);
}

int v1_notifications_get(request *r)
{
	notification_row x;
	enum store_result res = store_notification_get(r->app->db, r->a, r->account_id, r->param[0], &x);
	if (res != STORE_OK)
		return req_fail_store(r, res, "notification not found");
	return req_respond_data(r, 200, notification_full(&x));
}

/* Actions take no fields: an empty body, or an empty object. */
static int no_fields(request *r)
{
	if (r->json && json_object_size(r->json) > 0) {
		const char *first = json_object_iter_key(json_object_iter(r->json));
		return req_fail_param(r, ERR_PARAMETER_UNKNOWN, strlen(first) <= 64 ? first : NULL,
				      "this action takes no fields");
	}
	return 0;
}

static int rollback(request *r)
{
	db_rollback(r->app->db);
	return -1;
}

/* Idempotent: marking a read notification again changes nothing and records nothing. */
int v1_notifications_read(request *r)
{
	if (no_fields(r) != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int changed;
	notification_row x;
	if ((res = store_notification_mark_read(d, r->a, r->account_id, r->param[0], &changed)) != STORE_OK)
		return req_fail_store(r, res, "notification not found"), rollback(r);
	if (changed && audit_record(r, "notification.read", "notification", r->param[0], NULL) != 0)
		return rollback(r);
	if ((res = store_notification_get(d, r->a, r->account_id, r->param[0], &x)) != STORE_OK)
		return req_fail_store(r, res, "notification not found"), rollback(r);
	if ((res = db_commit(d)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond_data(r, 200, notification_full(&x));
}

/* Answers how many were marked; recorded (target: the account) only when some were. */
int v1_notifications_read_all(request *r)
{
	if (no_fields(r) != 0)
		return -1;
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	long long updated;
	if ((res = store_notification_mark_all_read(d, r->a, r->account_id, &updated)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	if (updated > 0 && audit_record(r, "notification.all_read", "account", r->account_id,
					json_pack("{s:I}", "updated", (json_int_t)updated)) != 0)
		return rollback(r);
	if ((res = db_commit(d)) != STORE_OK)
		return req_fail_store(r, res, NULL), rollback(r);
	return req_respond_data(r, 200, json_pack("{s:I}", "updated", (json_int_t)updated));
}
