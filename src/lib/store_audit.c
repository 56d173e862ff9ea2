/* store_audit: statements on audit_logs. */
#include "store_audit.h"
#include "crypto.h"
#include "ids.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

static const char SQL_INSERT[] =
	"INSERT INTO audit_logs (id, account_id, action, actor, target_type, target_id, ip, request_id, changes, created_at) "
	"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))";

/* The listing: one statement per leading filter, each forcing the (account_id, column, id) index whose range
 * it walks backwards (sql/003_audit_indexes.sql), so the plan never depends on the optimizer's estimates:
 * EXPLAIN on 200k rows shows a range scan of that index, no filesort, for every filter combination. The
 * other filters are checked on the rows of that range ("? IS NULL" is decided once per execution). The id
 * range [lower, upper) carries since, until and the cursor. Parameters: account, [leading value], lower,
 * upper, then a (value, value) pair for each of target_id, target_type, action, actor, then the limit. */
#define AUDIT_COLUMNS "id, action, actor, target_type, target_id, ip, request_id, changes, created_at"
#define AUDIT_REST                                                                                            \
	" AND id >= ? AND id < ? AND (? IS NULL OR target_id = ?) AND (? IS NULL OR target_type = ?) "         \
	"AND (? IS NULL OR action = ?) AND (? IS NULL OR actor = ?) ORDER BY id DESC LIMIT ?"
static const char SQL_LIST_ANY[] = "SELECT " AUDIT_COLUMNS " FROM audit_logs FORCE INDEX (audit_account_time) "
				   "WHERE account_id = ?" AUDIT_REST;
static const char SQL_LIST_TARGET_ID[] = "SELECT " AUDIT_COLUMNS " FROM audit_logs "
					 "FORCE INDEX (audit_account_target_id) WHERE account_id = ? AND target_id = ?"
					 AUDIT_REST;
static const char SQL_LIST_TARGET_TYPE[] = "SELECT " AUDIT_COLUMNS " FROM audit_logs "
					   "FORCE INDEX (audit_account_type) WHERE account_id = ? AND target_type = ?"
					   AUDIT_REST;
static const char SQL_LIST_ACTION[] = "SELECT " AUDIT_COLUMNS " FROM audit_logs FORCE INDEX (audit_account_action) "
				      "WHERE account_id = ? AND action = ?" AUDIT_REST;
static const char SQL_LIST_ACTOR[] = "SELECT " AUDIT_COLUMNS " FROM audit_logs FORCE INDEX (audit_account_actor) "
				     "WHERE account_id = ? AND actor = ?" AUDIT_REST;

#define AUDIT_PREFIX "aud_"
#define TIME_DIGITS 9

enum store_result store_audit_insert(db *d, arena *a, const audit_entry *e)
{
	char id[IDS_MAX_LEN];
	store_params p = {0};
	ids_new(AUDIT_PREFIX, id);
	store_param_str(&p, id);
	store_param_str(&p, e->account_id);
	store_param_str(&p, e->action);
	store_param_str(&p, e->actor);
	store_param_str(&p, e->target_type);
	store_param_str(&p, e->target_id);
	store_param_str(&p, e->ip);
	store_param_str(&p, e->request_id);
	store_param_str(&p, e->changes);
	return store_exec(d, SQL_INSERT, &p, a, NULL);
}

void store_audit_id_floor(int64_t ms, char *out)
{
	size_t plen = strlen(AUDIT_PREFIX);
	memcpy(out, AUDIT_PREFIX, plen);
	crypto_base62_fixed((uint64_t)ms, out + plen, TIME_DIGITS);
	memset(out + plen + TIME_DIGITS, '0', IDS_BODY_LEN - TIME_DIGITS);
	out[plen + IDS_BODY_LEN] = '\0';
}

/* Binds VALUE twice: the "(? IS NULL OR col = ?)" pair. */
static void bind_optional(store_params *p, const char *value)
{
	store_param_str(p, value);
	store_param_str(p, value);
}

enum store_result store_audit_list(db *d, arena *a, const char *account_id, const audit_filter *f, int limit,
				   audit_row **rows, int *n)
{
	/* "aud_" sorts before every audit id and "aud_{" after every one ('{' follows 'z' in ASCII). */
	char lower[IDS_MAX_LEN] = AUDIT_PREFIX, upper[IDS_MAX_LEN] = AUDIT_PREFIX "{";
	if (f->since_ms >= 0)
		store_audit_id_floor(f->since_ms, lower);
	if (f->until_ms >= 0)
		store_audit_id_floor(f->until_ms, upper);
	if (f->before_id && strcmp(f->before_id, upper) < 0)
		snprintf(upper, sizeof upper, "%s", f->before_id);

	/* The filter most likely to be selective leads: one object, an action, an actor, a kind of object. */
	const char *sql = SQL_LIST_ANY, *lead = NULL;
	if (f->target_id)
		sql = SQL_LIST_TARGET_ID, lead = f->target_id;
	else if (f->action)
		sql = SQL_LIST_ACTION, lead = f->action;
	else if (f->actor)
		sql = SQL_LIST_ACTOR, lead = f->actor;
	else if (f->target_type)
		sql = SQL_LIST_TARGET_TYPE, lead = f->target_type;

	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	if (lead)
		store_param_str(&p, lead);
	store_param_str(&p, lower);
	store_param_str(&p, upper);
	bind_optional(&p, f->target_id);
	bind_optional(&p, f->target_type);
	bind_optional(&p, f->action);
	bind_optional(&p, f->actor);
	store_param_int(&p, limit);
	enum store_result res = store_exec(d, sql, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*rows = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **rows);
	for (int i = 0; i < r.nrows; i++) {
		char **c = r.cell[i];
		audit_row *x = &(*rows)[i];
		x->id = c[0];
		x->action = c[1];
		x->actor = c[2];
		x->target_type = c[3];
		x->target_id = c[4];
		x->ip = c[5];
		x->request_id = c[6];
		x->changes = c[7];
		x->created_at = store_time(a, c[8]);
	}
	*n = r.nrows;
	return STORE_OK;
}
