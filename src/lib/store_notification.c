/* store_notification: statements on notifications. */
#include "store_notification.h"
#include "ids.h"
#include "store.h"
#include "webhook_event.h"

#include <stdlib.h>

#define NTF_PREFIX "ntf_"
#define NTF_COLUMNS "id, type, title, body, agent_id, run_id, read_at, created_at"

/* The listing: one statement per filter combination, each forcing the index whose range it walks backwards
 * (sql/005_notifications.sql). The id bound carries the cursor ("ntf_{" sorts after every id). */
static const char SQL_LIST_ANY[] = "SELECT " NTF_COLUMNS " FROM notifications FORCE INDEX (notifications_account) "
				   "WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_LIST_UNREAD[] = "SELECT " NTF_COLUMNS " FROM notifications FORCE INDEX (notifications_unread) "
				      "WHERE account_id = ? AND unread = ? AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_LIST_TYPE[] = "SELECT " NTF_COLUMNS " FROM notifications FORCE INDEX (notifications_type) "
				    "WHERE account_id = ? AND type = ? AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_LIST_TYPE_UNREAD[] =
	"SELECT " NTF_COLUMNS " FROM notifications FORCE INDEX (notifications_type_unread) "
	"WHERE account_id = ? AND type = ? AND unread = ? AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_GET[] = "SELECT " NTF_COLUMNS " FROM notifications WHERE account_id = ? AND id = ?";
static const char SQL_READ[] = "UPDATE notifications SET read_at = UTC_TIMESTAMP(3) "
			       "WHERE account_id = ? AND id = ? AND read_at IS NULL";
static const char SQL_READ_ALL[] = "UPDATE notifications SET read_at = UTC_TIMESTAMP(3) "
				   "WHERE account_id = ? AND unread = 1";

/* Creation: INSERT ... SELECT from the row that causes it; a second insert of the same event finds its
 * dedupe key and changes nothing. */
#define NTF_INSERT "INSERT INTO notifications (id, account_id, type, title, body, agent_id, run_id, dedupe_key, " \
		   "created_at) "
#define NTF_IGNORE " ON DUPLICATE KEY UPDATE notifications.id = notifications.id"
static const char SQL_RUN_FAILED[] =
	NTF_INSERT "SELECT ?, r.account_id, 'run.failed', LEFT(CONCAT('Run failed: ', g.name), 300), "
	"LEFT(COALESCE(r.error_message, 'the run failed'), 1000), r.agent_id, r.id, CONCAT('run.failed:', r.id), "
	"UTC_TIMESTAMP(3) FROM runs r JOIN agents g ON g.id = r.agent_id WHERE r.id = ? AND r.status = 'failed'"
	NTF_IGNORE;
static const char SQL_AGENT_ERROR[] =
	NTF_INSERT "SELECT ?, r.account_id, 'agent.error', LEFT(CONCAT('Agent in error: ', g.name), 300), "
	"LEFT(CONCAT('Its last run failed: ', COALESCE(r.error_message, 'the run failed')), 1000), r.agent_id, r.id, "
	"CONCAT('agent.error:', r.id), UTC_TIMESTAMP(3) "
	"FROM runs r JOIN agents g ON g.id = r.agent_id WHERE r.id = ? AND r.status = 'failed'" NTF_IGNORE;
static const char SQL_WEATHER_ALERT[] =
	NTF_INSERT "SELECT ?, r.account_id, 'weather.alert', LEFT(CONCAT('Weather alert: ', g.name), 300), "
	"LEFT(?, 1000), r.agent_id, r.id, CONCAT('weather.alert:', r.id), UTC_TIMESTAMP(3) "
	"FROM runs r JOIN agents g ON g.id = r.agent_id WHERE r.id = ?" NTF_IGNORE;
static const char SQL_KEYS_EXPIRING[] =
	"SELECT k.id FROM api_keys k WHERE k.expires_at > UTC_TIMESTAMP(3) "
	"AND k.expires_at <= UTC_TIMESTAMP(3) + INTERVAL ? DAY AND k.revoked_at IS NULL "
	"AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.account_id = k.account_id "
	"AND n.dedupe_key = CONCAT('api_key.expiring:', k.id)) ORDER BY k.expires_at LIMIT ?";
static const char SQL_KEY_EXPIRING[] =
	NTF_INSERT "SELECT ?, k.account_id, 'api_key.expiring', LEFT(CONCAT('API key expiring: ', k.name), 300), "
	"CONCAT('The API key ', k.prefix, '... expires at ', DATE_FORMAT(k.expires_at, '%Y-%m-%dT%H:%i:%sZ'), "
	"'; create a new key and move to it before then.'), NULL, NULL, CONCAT('api_key.expiring:', k.id), "
	"UTC_TIMESTAMP(3) FROM api_keys k WHERE k.id = ? AND k.revoked_at IS NULL" NTF_IGNORE;

static const char SQL_WEBHOOK_DISABLED[] =
	NTF_INSERT "VALUES (?, ?, 'webhook.disabled', 'Webhook endpoint disabled', LEFT(CONCAT('The webhook endpoint ', "
	"?, ' was disabled: ', ?, '. Fix the receiver, then enable the endpoint again.'), 1000), NULL, NULL, "
	"CONCAT('webhook.disabled:', ?, ':', ?), UTC_TIMESTAMP(3))" NTF_IGNORE;
static const char SQL_GET_ANY[] = "SELECT " NTF_COLUMNS ", account_id FROM notifications WHERE id = ?";
static const char SQL_APPROVAL[] =
	NTF_INSERT "SELECT ?, p.account_id, ?, LEFT(CONCAT(IF(? = 'approval.expired', 'Approval expired: ', "
	"'Approval needed: '), COALESCE(g.name, p.action)), 300), LEFT(CONCAT(p.summary, ' (approval ', p.id, "
	"IF(? = 'approval.expired', ' expired at ', ', expires at '), DATE_FORMAT(p.expires_at, '%Y-%m-%dT%H:%i:%sZ'), "
	"')'), 1000), p.agent_id, p.run_id, CONCAT(?, ':', p.id), UTC_TIMESTAMP(3) "
	"FROM approvals p LEFT JOIN agents g ON g.id = p.agent_id WHERE p.id = ?" NTF_IGNORE;

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *store_notification_json(const notification_row *x)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "id", x->id, "type", x->type, "title",
			      x->title, "body", x->body, "agent_id", str_or_null(x->agent_id), "run_id",
			      str_or_null(x->run_id), "read_at", str_or_null(x->read_at), "created_at", x->created_at);
	if (!j)
		abort();
	return j;
}

static void row_from(arena *a, char **c, void *out)
{
	notification_row *x = out;
	x->id = c[0];
	x->type = c[1];
	x->title = c[2];
	x->body = c[3];
	x->agent_id = c[4];
	x->run_id = c[5];
	x->read_at = store_time(a, c[6]);
	x->created_at = store_time(a, c[7]);
}

enum store_result store_notification_list(db *d, arena *a, const char *account_id, const char *type, int unread,
					  const char *before_id, int limit, notification_row **rows, int *n)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	if (type)
		store_param_str(&p, type);
	if (unread >= 0)
		store_param_int(&p, unread);
	store_param_str(&p, before_id ? before_id : NTF_PREFIX "{");
	store_param_int(&p, limit);
	const char *sql = type ? (unread >= 0 ? SQL_LIST_TYPE_UNREAD : SQL_LIST_TYPE)
			       : (unread >= 0 ? SQL_LIST_UNREAD : SQL_LIST_ANY);
	enum store_result res = store_exec(d, sql, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++)
		row_from(a, r.cell[i], &(*rows)[i]);
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_notification_get(db *d, arena *a, const char *account_id, const char *id,
					 notification_row *out)
{
	return store_account_row(d, a, SQL_GET, account_id, id, row_from, out);
}

enum store_result store_notification_mark_read(db *d, arena *a, const char *account_id, const char *id,
					       int *changed)
{
	store_params p = {0};
	store_rows r;
	*changed = 0;
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_READ, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*changed = r.affected > 0;
	if (*changed)
		return STORE_OK;
	notification_row x;
	return store_notification_get(d, a, account_id, id, &x);
}

enum store_result store_notification_mark_all_read(db *d, arena *a, const char *account_id, long long *updated)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	enum store_result res = store_exec(d, SQL_READ_ALL, &p, a, &r);
	*updated = res == STORE_OK ? (long long)r.affected : 0;
	return res;
}

/* notification.created for the notification ID just inserted, in the caller's transaction. */
static enum store_result created_event(db *d, arena *a, const char *id)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_GET_ANY, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	notification_row x;
	row_from(a, r.cell[0], &x);
	return webhook_event_add_object(d, a, r.cell[0][8], "notification.created", store_notification_json(&x));
}

/* Runs one creation statement SQL: a new id, then the string parameters P1 and P2 (P2 may be absent). */
static enum store_result create(db *d, arena *a, const char *sql, const char *p1, const char *p2, int *made)
{
	char id[IDS_MAX_LEN];
	store_params p = {0};
	store_rows r;
	ids_new(NTF_PREFIX, id);
	store_param_str(&p, id);
	store_param_str(&p, p1);
	if (p2)
		store_param_str(&p, p2);
	enum store_result res = store_exec(d, sql, &p, a, &r);
	if (made)
		*made = res == STORE_OK && r.affected == 1;
	if (res == STORE_OK && r.affected == 1)
		res = created_event(d, a, id);
	return res;
}

enum store_result store_notification_run_failed(db *d, arena *a, const char *run_id, int into_error)
{
	enum store_result res = STORE_OK;
	if (into_error)
		res = create(d, a, SQL_AGENT_ERROR, run_id, NULL, NULL);
	if (res == STORE_OK)
		res = create(d, a, SQL_RUN_FAILED, run_id, NULL, NULL);
	return res;
}

enum store_result store_notification_weather_alert(db *d, arena *a, const char *run_id, const char *message)
{
	return create(d, a, SQL_WEATHER_ALERT, message, run_id, NULL);
}

enum store_result store_notification_keys_expiring(db *d, arena *a, int limit, int *made)
{
	store_params p = {0};
	store_rows r;
	*made = 0;
	store_param_int(&p, NOTIFICATION_KEY_EXPIRY_DAYS);
	store_param_int(&p, limit);
	enum store_result res = store_exec(d, SQL_KEYS_EXPIRING, &p, a, &r);
	for (int i = 0; res == STORE_OK && i < r.nrows; i++) {
		int one = 0;
		res = create(d, a, SQL_KEY_EXPIRING, r.cell[i][0], NULL, &one);
		*made += one;
	}
	return res;
}

enum store_result store_notification_webhook_disabled(db *d, arena *a, const char *account_id, const char *endpoint_id,
						     const char *url, const char *reason, const char *disabled_at)
{
	char id[IDS_MAX_LEN];
	store_params p = {0};
	store_rows r;
	ids_new(NTF_PREFIX, id);
	store_param_str(&p, id);
	store_param_str(&p, account_id);
	store_param_str(&p, url);
	store_param_str(&p, reason);
	store_param_str(&p, endpoint_id);
	store_param_str(&p, disabled_at);
	enum store_result res = store_exec(d, SQL_WEBHOOK_DISABLED, &p, a, &r);
	if (res == STORE_OK && r.affected == 1)
		res = created_event(d, a, id);
	return res;
}

enum store_result store_notification_approval(db *d, arena *a, const char *approval_id, const char *type)
{
	char id[IDS_MAX_LEN];
	store_params p = {0};
	store_rows r;
	ids_new(NTF_PREFIX, id);
	store_param_str(&p, id);
	store_param_str(&p, type);
	store_param_str(&p, type);
	store_param_str(&p, type);
	store_param_str(&p, type);
	store_param_str(&p, approval_id);
	enum store_result res = store_exec(d, SQL_APPROVAL, &p, a, &r);
	if (res == STORE_OK && r.affected == 1)
		res = created_event(d, a, id);
	return res;
}
