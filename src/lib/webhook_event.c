/* webhook_event: the event catalog and the outbox insert. */
#include "webhook_event.h"
#include "ids.h"
#include "store.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const char *const WEBHOOK_EVENT_TYPES[] = {"run.started",        "run.succeeded",     "run.failed",
					   "run.cancelled",      "approval.requested", "approval.resolved",
					   "agent.paused",       "agent.resumed",      "notification.created",
					   NULL};

static const char SQL_ADD[] =
	"INSERT INTO webhook_events (id, account_id, type, payload, created_at) "
	"VALUES (?, ?, ?, CONCAT('{\"type\":\"', ?, '\",\"timestamp\":\"', ?, '\",\"data\":', ?, '}'), UTC_TIMESTAMP(3))";

int webhook_event_known(const char *name, int allow_star)
{
	if (allow_star && strcmp(name, "*") == 0)
		return 1;
	for (const char *const *t = WEBHOOK_EVENT_TYPES; *t; t++)
		if (strcmp(*t, name) == 0)
			return 1;
	return 0;
}

enum store_result webhook_event_add(db *d, arena *a, const char *account_id, const char *type, const char *data_json)
{
	char id[IDS_MAX_LEN], when[32];
	store_params p = {0};
	ids_new("evt_", id);
	util_format_time_ms(util_now_ms(), when, sizeof when);
	store_param_str(&p, id);
	store_param_str(&p, account_id);
	store_param_str(&p, type);
	store_param_str(&p, type); /* a catalog name: no character needs escaping */
	store_param_str(&p, when);
	store_param_str(&p, data_json);
	return store_exec(d, SQL_ADD, &p, a, NULL);
}

enum store_result webhook_event_add_object(db *d, arena *a, const char *account_id, const char *type, json_t *data)
{
	char *text = data ? json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(data);
	if (!text)
		return STORE_ERROR;
	enum store_result res = webhook_event_add(d, a, account_id, type, text);
	free(text);
	return res;
}
