/* store_webhook: statements on webhook_endpoints and webhook_deliveries. Every API statement filters on the account. */
#include "store_webhook.h"
#include "crypto.h"
#include "store.h"
#include "ids.h"
#include "store_notification.h"

#include <stdlib.h>
#include <string.h>

#define EP_COLUMNS                                                                                                 \
	"id, account_id, url, description, events, enabled, disabled_reason, consecutive_failures, created_at, "    \
	"updated_at, HEX(secret_enc), secret_key_version, "                                                         \
	"IF(previous_secret_until > UTC_TIMESTAMP(3), HEX(previous_secret_enc), NULL), "                             \
	"IF(previous_secret_until > UTC_TIMESTAMP(3), previous_secret_until, NULL)"

static const char SQL_EP_FIRST[] = "SELECT " EP_COLUMNS " FROM webhook_endpoints WHERE account_id = ? "
				   "AND deleted_at IS NULL ORDER BY id DESC LIMIT ?";
static const char SQL_EP_NEXT[] = "SELECT " EP_COLUMNS " FROM webhook_endpoints WHERE account_id = ? "
				  "AND deleted_at IS NULL AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_EP_GET[] =
	"SELECT " EP_COLUMNS " FROM webhook_endpoints WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_EP_GET_LOCK[] = "SELECT " EP_COLUMNS " FROM webhook_endpoints WHERE account_id = ? AND id = ? "
				      "AND deleted_at IS NULL FOR UPDATE";
static const char SQL_EP_COUNT[] =
	"SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = ? AND deleted_at IS NULL";
static const char SQL_EP_INSERT[] =
	"INSERT INTO webhook_endpoints (id, account_id, url, description, events, enabled, secret_enc, "
	"secret_key_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
/* SET runs left to right: the re-enable test reads the old `enabled` before it is assigned. */
static const char SQL_EP_UPDATE[] =
	"UPDATE webhook_endpoints SET "
	"consecutive_failures = IF(enabled = 0 AND ? = 1, 0, consecutive_failures), "
	"disabled_reason = IF(? = 1, NULL, disabled_reason), "
	"url = ?, description = ?, events = ?, enabled = ?, updated_at = UTC_TIMESTAMP(3) "
	"WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_EP_DELETE[] = "UPDATE webhook_endpoints SET deleted_at = UTC_TIMESTAMP(3), "
				    "updated_at = UTC_TIMESTAMP(3) WHERE account_id = ? AND id = ? AND deleted_at IS NULL";
static const char SQL_EP_DELETE_PENDING[] =
	"UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, "
	"last_error = 'the endpoint was deleted', updated_at = UTC_TIMESTAMP(3) "
	"WHERE account_id = ? AND endpoint_id = ? AND status = 'pending'";
static const char SQL_EP_ROTATE[] =
	"UPDATE webhook_endpoints SET previous_secret_enc = secret_enc, previous_secret_key_version = secret_key_version, "
	"previous_secret_until = UTC_TIMESTAMP(3) + INTERVAL ? HOUR, secret_enc = ?, secret_key_version = ?, "
	"updated_at = UTC_TIMESTAMP(3) WHERE account_id = ? AND id = ? AND deleted_at IS NULL";

#define DLV_COLUMNS                                                                                                \
	"d.id, d.endpoint_id, d.event_id, e.type, d.status, d.attempts, d.last_status_code, d.last_error, "         \
	"d.next_attempt_at, d.created_at, d.updated_at, d.delivered_at"

static const char SQL_DLV_FIRST[] =
	"SELECT " DLV_COLUMNS " FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
	"WHERE d.account_id = ? AND d.endpoint_id = ? ORDER BY d.id DESC LIMIT ?";
static const char SQL_DLV_NEXT[] =
	"SELECT " DLV_COLUMNS " FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
	"WHERE d.account_id = ? AND d.endpoint_id = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?";
static const char SQL_DLV_GET[] =
	"SELECT " DLV_COLUMNS " FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
	"WHERE d.account_id = ? AND d.endpoint_id = ? AND d.id = ?";
static const char SQL_DLV_REDELIVER[] =
	"UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = UTC_TIMESTAMP(3), "
	"updated_at = UTC_TIMESTAMP(3) WHERE account_id = ? AND endpoint_id = ? AND id = ?";

/* HEX() text -> bytes in the arena (NULL stays NULL). */
static unsigned char *bytes_from(arena *a, const char *hex, size_t *n)
{
	*n = 0;
	if (!hex)
		return NULL;
	size_t len = strlen(hex) / 2;
	unsigned char *b = arena_alloc(a, len ? len : 1);
	long got = crypto_unhex(hex, 2 * len, b, len);
	*n = got > 0 ? (size_t)got : 0;
	return b;
}

static void ep_from(arena *a, char **c, void *out)
{
	webhook_endpoint_row *w = out;
	w->id = c[0];
	w->account_id = c[1];
	w->url = c[2];
	w->description = c[3];
	w->events = c[4];
	w->enabled = c[5] && c[5][0] == '1';
	w->disabled_reason = c[6];
	w->consecutive_failures = c[7] ? (int)strtol(c[7], NULL, 10) : 0;
	w->created_at = store_time(a, c[8]);
	w->updated_at = store_time(a, c[9]);
	w->secret_enc = bytes_from(a, c[10], &w->secret_len);
	w->secret_key_version = c[11] ? (int)strtol(c[11], NULL, 10) : 0;
	w->previous_enc = bytes_from(a, c[12], &w->previous_len);
	w->previous_until = store_time(a, c[13]);
}

static void dlv_from(arena *a, char **c, webhook_delivery_row *x)
{
	x->id = c[0];
	x->endpoint_id = c[1];
	x->event_id = c[2];
	x->event_type = c[3];
	x->status = c[4];
	x->attempts = c[5] ? (int)strtol(c[5], NULL, 10) : 0;
	x->last_status_code = c[6] ? (int)strtol(c[6], NULL, 10) : -1;
	x->last_error = c[7];
	x->next_attempt_at = store_time(a, c[8]);
	x->created_at = store_time(a, c[9]);
	x->updated_at = store_time(a, c[10]);
	x->delivered_at = store_time(a, c[11]);
}

enum store_result store_webhook_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
				     webhook_endpoint_row **rows, int *n)
{
	void *v;
	enum store_result res =
		store_page(d, a, SQL_EP_FIRST, SQL_EP_NEXT, account_id, before_id, limit, sizeof **rows, ep_from, &v, n);
	if (res == STORE_OK)
		*rows = v;
	return res;
}

enum store_result store_webhook_get(db *d, arena *a, const char *account_id, const char *id, int for_update,
				    webhook_endpoint_row *out)
{
	return store_account_row(d, a, for_update ? SQL_EP_GET_LOCK : SQL_EP_GET, account_id, id, ep_from, out);
}

enum store_result store_webhook_count(db *d, arena *a, const char *account_id, long *n)
{
	return store_account_count(d, a, SQL_EP_COUNT, account_id, n);
}

enum store_result store_webhook_insert(db *d, arena *a, const char *account_id, const char *id,
				       const webhook_endpoint_fields *f, const unsigned char *secret_enc,
				       size_t secret_len, int key_version)
{
	store_params p = {0};
	store_param_str(&p, id);
	store_param_str(&p, account_id);
	store_param_str(&p, f->url);
	store_param_str(&p, f->description);
	store_param_str(&p, f->events);
	store_param_int(&p, f->enabled ? 1 : 0);
	store_param_bytes(&p, secret_enc, secret_len);
	store_param_int(&p, key_version);
	return store_exec(d, SQL_EP_INSERT, &p, a, NULL);
}

enum store_result store_webhook_update(db *d, arena *a, const char *account_id, const char *id,
				       const webhook_endpoint_fields *f)
{
	store_params p = {0};
		store_param_int(&p, f->enabled ? 1 : 0);
	store_param_int(&p, f->enabled ? 1 : 0);
	store_param_str(&p, f->url);
	store_param_str(&p, f->description);
	store_param_str(&p, f->events);
	store_param_int(&p, f->enabled ? 1 : 0);
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	return store_exec(d, SQL_EP_UPDATE, &p, a, NULL);
}

enum store_result store_webhook_delete(db *d, arena *a, const char *account_id, const char *id)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_EP_DELETE, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.affected == 0)
		return STORE_NOT_FOUND;
	return store_exec(d, SQL_EP_DELETE_PENDING, &p, a, NULL);
}

enum store_result store_webhook_rotate(db *d, arena *a, const char *account_id, const char *id,
				       const unsigned char *secret_enc, size_t secret_len, int key_version)
{
	store_params p = {0};
	store_rows r;
	store_param_int(&p, STORE_WEBHOOK_PREVIOUS_SECRET_HOURS);
	store_param_bytes(&p, secret_enc, secret_len);
	store_param_int(&p, key_version);
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_EP_ROTATE, &p, a, &r);
	if (res == STORE_OK && r.affected == 0)
		return STORE_NOT_FOUND;
	return res;
}

enum store_result store_webhook_delivery_list(db *d, arena *a, const char *account_id, const char *endpoint_id,
					      const char *before_id, int limit, webhook_delivery_row **rows, int *n)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, endpoint_id);
	if (before_id)
		store_param_str(&p, before_id);
	store_param_int(&p, limit);
	enum store_result res = store_exec(d, before_id ? SQL_DLV_NEXT : SQL_DLV_FIRST, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++)
		dlv_from(a, r.cell[i], &(*rows)[i]);
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_webhook_delivery_get(db *d, arena *a, const char *account_id, const char *endpoint_id,
					     const char *id, webhook_delivery_row *out)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, endpoint_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_DLV_GET, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	dlv_from(a, r.cell[0], out);
	return STORE_OK;
}

enum store_result store_webhook_redeliver(db *d, arena *a, const char *account_id, const char *endpoint_id,
					  const char *id)
{
	store_params p = {0};
		store_param_str(&p, account_id);
	store_param_str(&p, endpoint_id);
	store_param_str(&p, id);
	return store_exec(d, SQL_DLV_REDELIVER, &p, a, NULL);
}

/* ---- delivery side (src/scheduler/deliveries.c): statements below this line ---- */

/* ---- delivery side ---- */

static const char SQL_EVT_PENDING[] =
	"SELECT id, account_id, type FROM webhook_events WHERE dispatched_at IS NULL ORDER BY dispatched_at, id "
	"LIMIT ? FOR UPDATE SKIP LOCKED";
static const char SQL_EVT_ENDPOINTS[] =
	"SELECT id FROM webhook_endpoints WHERE account_id = ? AND enabled = 1 AND deleted_at IS NULL "
	"AND (JSON_CONTAINS(events, JSON_QUOTE(?)) OR JSON_CONTAINS(events, '\"*\"'))";
static const char SQL_DLV_INSERT[] =
	"INSERT IGNORE INTO webhook_deliveries (id, account_id, endpoint_id, event_id, status, attempts, "
	"next_attempt_at, created_at, updated_at) "
	"VALUES (?, ?, ?, ?, 'pending', 0, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
static const char SQL_EVT_DISPATCHED[] = "UPDATE webhook_events SET dispatched_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_DLV_DUE[] =
	"SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= UTC_TIMESTAMP(3) "
	"ORDER BY status, next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED";
static const char SQL_DLV_CLAIM[] =
	"UPDATE webhook_deliveries SET next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND WHERE id = ?";
static const char SQL_DLV_WORK[] =
	"SELECT d.id, d.account_id, d.endpoint_id, d.event_id, e.payload, w.url, "
	"CONCAT(w.secret_key_version, ':', HEX(w.secret_enc)), "
	"IF(w.previous_secret_until > UTC_TIMESTAMP(3), "
	"CONCAT(COALESCE(w.previous_secret_key_version, w.secret_key_version), ':', HEX(w.previous_secret_enc)), NULL), "
	"d.attempts, "
	"w.enabled = 1 AND w.deleted_at IS NULL "
	"FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
	"JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = ?";
static const char SQL_DLV_RESULT[] =
	"UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = ?, last_error = LEFT(?, 500), "
	"status = IF(? = 1, 'succeeded', IF(? < 0, 'failed', 'pending')), "
	"next_attempt_at = IF(? = 1 OR ? < 0, NULL, UTC_TIMESTAMP(3) + INTERVAL (? * 1000) MICROSECOND), "
	"delivered_at = IF(? = 1, UTC_TIMESTAMP(3), delivered_at), updated_at = UTC_TIMESTAMP(3) "
	"WHERE id = ? AND status = 'pending'";
static const char SQL_EP_LOCK_ANY[] =
	"SELECT account_id, url, consecutive_failures FROM webhook_endpoints WHERE id = ? FOR UPDATE";
static const char SQL_EP_SUCCEEDED[] = "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = ?";
static const char SQL_EP_FAILED[] =
	"UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = ?";
static const char SQL_EP_DISABLE[] =
	"UPDATE webhook_endpoints SET enabled = 0, disabled_reason = LEFT(?, 300), updated_at = UTC_TIMESTAMP(3) "
	"WHERE id = ? AND enabled = 1 AND deleted_at IS NULL";
static const char SQL_EP_UPDATED_AT[] = "SELECT updated_at FROM webhook_endpoints WHERE id = ?";

enum store_result store_webhook_dispatch(db *d, arena *a, int limit, int *n)
{
	store_params p = {0};
	store_rows ev;
	*n = 0;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	store_param_int(&p, limit);
	res = store_exec(d, SQL_EVT_PENDING, &p, a, &ev);
	for (int i = 0; res == STORE_OK && i < ev.nrows; i++) {
		char **e = ev.cell[i];
		store_params q = {0};
		store_rows eps;
		store_param_str(&q, e[1]);
		store_param_str(&q, e[2]);
		res = store_exec(d, SQL_EVT_ENDPOINTS, &q, a, &eps);
		for (int j = 0; res == STORE_OK && j < eps.nrows; j++) {
			char id[IDS_MAX_LEN];
			store_params ins = {0};
			ids_new("dlv_", id);
			store_param_str(&ins, id);
			store_param_str(&ins, e[1]);
			store_param_str(&ins, eps.cell[j][0]);
			store_param_str(&ins, e[0]);
			res = store_exec(d, SQL_DLV_INSERT, &ins, a, NULL);
		}
		if (res == STORE_OK) {
			store_params u = {0};
			store_param_str(&u, e[0]);
			res = store_exec(d, SQL_EVT_DISPATCHED, &u, a, NULL);
		}
	}
	if (res != STORE_OK) {
		db_rollback(d);
		return res;
	}
	if ((res = db_commit(d)) == STORE_OK)
		*n = ev.nrows;
	return res;
}

enum store_result store_webhook_due(db *d, arena *a, int limit, int claim_seconds, webhook_due **rows, int *n)
{
	store_params p = {0};
	store_rows r;
	*n = 0;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	store_param_int(&p, limit);
	res = store_exec(d, SQL_DLV_DUE, &p, a, &r);
	for (int i = 0; res == STORE_OK && i < r.nrows; i++) {
		store_params q = {0};
		store_param_int(&q, claim_seconds);
		store_param_str(&q, r.cell[i][0]);
		res = store_exec(d, SQL_DLV_CLAIM, &q, a, NULL);
	}
	if (res == STORE_OK)
		res = db_commit(d);
	if (res != STORE_OK) {
		db_rollback(d);
		return res;
	}
	*rows = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++) {
		store_params q = {0};
		store_rows w;
		store_param_str(&q, r.cell[i][0]);
		if ((res = store_exec(d, SQL_DLV_WORK, &q, a, &w)) != STORE_OK)
			return res;
		if (w.nrows != 1)
			continue;
		char **c = w.cell[0];
		webhook_due *x = &(*rows)[(*n)++];
		x->id = c[0];
		x->account_id = c[1];
		x->endpoint_id = c[2];
		x->event_id = c[3];
		x->payload = c[4];
		x->url = c[5];
		x->secret_hex = c[6];
		x->previous_hex = c[7];
		x->attempts = c[8] ? (int)strtol(c[8], NULL, 10) : 0;
		x->live = c[9] && strcmp(c[9], "1") == 0;
	}
	return STORE_OK;
}

/* Disables endpoint ID (locked by the caller) with REASON and notifies its account; *DONE is 1 if it was
 * enabled. */
static enum store_result disable_endpoint(db *d, arena *a, const char *id, const char *account_id, const char *url,
					  const char *reason, int *done)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, reason);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, SQL_EP_DISABLE, &p, a, &r);
	if (res != STORE_OK || r.affected == 0)
		return res;
	*done = 1;
	store_params q = {0};
	store_param_str(&q, id);
	if ((res = store_exec(d, SQL_EP_UPDATED_AT, &q, a, &r)) != STORE_OK)
		return res;
	return store_notification_webhook_disabled(d, a, account_id, id, url, reason,
						  r.nrows == 1 && r.cell[0][0] ? r.cell[0][0] : "");
}

enum store_result store_webhook_attempt_record(db *d, arena *a, const char *id, const char *endpoint_id,
					       const webhook_attempt *x, int *disabled)
{
	store_params p = {0};
	store_rows r, ep;
	int final = !x->success && x->retry_in_ms < 0;
	*disabled = 0;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return res;
	/* The endpoint first: the same order as the API's writes (endpoint, then its deliveries). */
	store_params e = {0};
	store_param_str(&e, endpoint_id);
	if ((res = store_exec(d, SQL_EP_LOCK_ANY, &e, a, &ep)) == STORE_OK && ep.nrows != 1)
		res = STORE_NOT_FOUND;
	if (res == STORE_OK) {
		if (x->status_code >= 0)
			store_param_int(&p, x->status_code);
		else
			store_param_null(&p);
		store_param_str(&p, x->success ? NULL : x->error);
		store_param_int(&p, x->success);
		store_param_int(&p, final ? -1 : 0);
		store_param_int(&p, x->success);
		store_param_int(&p, final ? -1 : 0);
		store_param_int(&p, x->retry_in_ms < 0 ? 0 : x->retry_in_ms);
		store_param_int(&p, x->success);
		store_param_str(&p, id);
		res = store_exec(d, SQL_DLV_RESULT, &p, a, &r);
	}
	if (res == STORE_OK && r.affected == 1) {
		const char *account_id = ep.cell[0][0], *url = ep.cell[0][1];
		long failures = ep.cell[0][2] ? strtol(ep.cell[0][2], NULL, 10) : 0;
		store_params q = {0};
		store_param_str(&q, endpoint_id);
		if (x->success)
			res = store_exec(d, SQL_EP_SUCCEEDED, &q, a, NULL);
		else if (final)
			res = store_exec(d, SQL_EP_FAILED, &q, a, NULL);
		if (res == STORE_OK && x->disable)
			res = disable_endpoint(d, a, endpoint_id, account_id, url, x->disable, disabled);
		else if (res == STORE_OK && final && failures + 1 >= x->disable_after) {
			char *why = arena_printf(a, "%ld consecutive deliveries failed", failures + 1);
			res = disable_endpoint(d, a, endpoint_id, account_id, url, why, disabled);
		}
	}
	if (res != STORE_OK) {
		db_rollback(d);
		return res;
	}
	return db_commit(d);
}
