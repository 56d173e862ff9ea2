/* v1_audit_logs: /api/v1/audit-logs — the account's audit trail, filtered, newest first. */
#include "handlers.h"
#include "rfc3339.h"
#include "sbuf.h"
#include "store_audit.h"

#include <string.h>

#define ACTION_MAX 64
#define TARGET_TYPE_MAX 32

/* 1 if S is 1..MAX characters of [a-z0-9_] (and '.' when DOTS): the shape of actions and target types. */
static int is_name(const char *s, size_t max, int dots)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || (dots && *s == '.')))
			return 0;
	return 1;
}

/* 1 if S is some object's id: a lowercase prefix of 2 to 5 letters, '_', then an id body. */
static int is_any_id(const char *s)
{
	const char *u = strchr(s, '_');
	if (!u || u - s < 2 || u - s > 5)
		return 0;
	for (const char *c = s; c < u; c++)
		if (*c < 'a' || *c > 'z')
			return 0;
	char prefix[8];
	memcpy(prefix, s, (size_t)(u - s) + 1);
	prefix[u - s + 1] = '\0';
	return ids_valid(prefix, s);
}

/* Reads the filters from the query into F; a malformed value is a 400 naming its parameter. */
static int read_filter(request *r, audit_filter *f)
{
	memset(f, 0, sizeof *f);
	f->since_ms = f->until_ms = -1;
	f->action = req_query(r, "action");
	if (f->action && !is_name(f->action, ACTION_MAX, 1))
		return req_fail_param(r, ERR_QUERY_INVALID, "action",
				      "action must be an action name such as agent.updated");
	f->target_type = req_query(r, "target_type");
	if (f->target_type && !is_name(f->target_type, TARGET_TYPE_MAX, 0))
		return req_fail_param(r, ERR_QUERY_INVALID, "target_type",
				      "target_type must be an object type such as agent");
	f->target_id = req_query(r, "target_id");
	if (f->target_id && !is_any_id(f->target_id))
		return req_fail_param(r, ERR_QUERY_INVALID, "target_id", "target_id must be an object id such as agt_...");
	f->actor = req_query(r, "actor");
	if (f->actor && strcmp(f->actor, "cli") != 0 && !ids_valid("key_", f->actor))
		return req_fail_param(r, ERR_QUERY_INVALID, "actor", "actor must be an API key id (key_...) or cli");
	static const char *const TIMES[] = {"since", "until"};
	int64_t *slots[] = {&f->since_ms, &f->until_ms};
	for (int i = 0; i < 2; i++) {
		const char *v = req_query(r, TIMES[i]);
		if (v && rfc3339_parse_ms(v, slots[i]) != 0)
			return req_fail_param(r, ERR_QUERY_INVALID, TIMES[i],
					      arena_printf(r->a, "%s must be an RFC 3339 date-time such as "
							   "2025-01-31T08:00:00Z (1970 or later)", TIMES[i]));
	}
	f->before_id = r->cursor_id[0] ? r->cursor_id : NULL;
	return 0;
}

/* One entry, every documented member present; changes is spliced as stored (JSON text checked by the
 * table, written by jansson). */
static void audit_render(sbuf *b, const audit_row *x)
{
	sbuf_key(b, "id", 1);
	sbuf_json_str(b, x->id);
	sbuf_key(b, "action", 0);
	sbuf_json_str(b, x->action);
	sbuf_key(b, "actor", 0);
	sbuf_json_str(b, x->actor);
	sbuf_key(b, "target_type", 0);
	sbuf_json_str(b, x->target_type);
	sbuf_key(b, "target_id", 0);
	sbuf_json_str(b, x->target_id);
	sbuf_key(b, "ip", 0);
	sbuf_json_str(b, x->ip);
	sbuf_key(b, "request_id", 0);
	sbuf_json_str(b, x->request_id);
	sbuf_key(b, "changes", 0);
	sbuf_cstr(b, x->changes ? x->changes : "null");
	sbuf_key(b, "created_at", 0);
	sbuf_json_str(b, x->created_at);
	sbuf_raw(b, "}", 1);
}

int v1_audit_logs_list(request *r)
{
	audit_filter f;
	if (read_filter(r, &f) != 0)
		return -1;
	audit_row *rows;
	int n;
	enum store_result res = store_audit_list(r->app->db, r->a, r->account_id, &f, r->limit + 1, &rows, &n);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	int has_more = n > r->limit;
	if (has_more)
		n = r->limit;
	sbuf b;
	sbuf_init(&b, r->a, 512 + (size_t)n * 512);
	sbuf_raw(&b, "{\"data\":[", 9);
	for (int i = 0; i < n; i++) {
		sbuf_raw(&b, i ? ",{" : "{", i ? 2 : 1);
		audit_render(&b, &rows[i]);
	}
	return req_respond_list_text(r, &b, has_more ? rows[n - 1].id : NULL);
}
