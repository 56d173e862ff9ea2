/* mcp_tools: the tools of /mcp (weather, calendars, email by approval, agents, runs, approvals), each audited. */
#include "mcp_tools.h"
#include "audit.h"
#include "caldav.h"
#include "cursor.h"
#include "handlers.h"
#include "log.h"
#include "rfc3339.h"
#include "smtp.h"
#include "store_agent.h"
#include "store_approval.h"
#include "store_credential.h"
#include "store_run.h"
#include "store_usage.h"
#include "util.h"
#include "v1_signals.h"
#include "weather.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUN_MESSAGES 100
#define MAX_CALENDARS 10         /* connections list_calendar_events reads when none is named */
#define MAX_EVENTS 200           /* events per connection */
#define DEFAULT_EVENT_DAYS 7     /* list_calendar_events: from now to 7 days ahead unless told */
#define MAX_EVENT_DAYS 366
#define SEND_EMAIL_ACTION "send_email" /* the approval action the scheduler's performer sends */

/* What a tool's call produces: STRUCTURED on success, else ERROR (readable, client-safe). A tool that writes
 * records its audit row inside its own transaction (tool_audit) and sets AUDITED. */
typedef struct tool_out {
	const struct mcp_tool *tool;
	json_t *structured;
	char error[600];
	int audited;
} tool_out;

struct mcp_tool {
	const char *name, *title, *description;
	const char *input_schema;  /* JSON text: an object schema */
	const char *output_schema; /* JSON text, or NULL when the result is text only */
	int read_only;             /* annotations.readOnlyHint */
	int open_world;            /* annotations.openWorldHint: calls a service outside the platform */
	const char *const *args;   /* the argument names the input schema allows, NULL-terminated */
	int (*call)(request *r, const json_t *args, tool_out *out);
};

/* The audit row of one call of OUT->tool by R's key: the key is the target (found by target_id, an id, and by
 * actor); the tool's name and outcome are in changes, never its arguments. 0, or -1 with the failure in R. */
static int tool_audit(request *r, tool_out *out, int is_error)
{
	out->audited = 1;
	return audit_record(r, USAGE_MCP_TOOL_ACTION, "api_key", r->key_id,
			    json_pack("{s:s, s:b}", "tool", out->tool->name, "is_error", is_error));
}

/* signal_enqueue_run's in-transaction step for trigger_agent. */
static int audit_in_tx(request *r, void *out)
{
	return tool_audit(r, out, 0);
}

/* Records a failure text; returns -1. */
static int tool_fail(tool_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tool_fail(tool_out *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->error, sizeof out->error, fmt, ap);
	va_end(ap);
	return -1;
}

/* A failure a shared API step recorded in R (store calls, signal_enqueue_run), as the tool's failure text; R's
 * error state is cleared again. Internal and dependency failures keep their client-safe API message. */
static int tool_fail_request(request *r, tool_out *out)
{
	tool_fail(out, "%s", r->err_message ? r->err_message : "the request failed");
	r->err = ERR_NONE;
	r->err_message = NULL;
	r->err_param = NULL;
	return -1;
}

/* A failed store call RES as the tool's failure text (404s are the callers' own "not found" texts). */
static int tool_fail_store(request *r, enum store_result res, tool_out *out)
{
	req_fail_store(r, res, NULL);
	return tool_fail_request(r, out);
}

/* A string argument NAME of ARGS into *OUT (NULL when absent and optional). */
static int arg_string(const json_t *args, const char *name, int required, size_t max, const char **v, tool_out *out)
{
	const json_t *a = json_object_get(args, name);
	*v = NULL;
	if (!a || json_is_null(a))
		return required ? tool_fail(out, "%s is required", name) : 0;
	if (!json_is_string(a) || json_string_length(a) == 0 || json_string_length(a) > max ||
	    strlen(json_string_value(a)) != json_string_length(a))
		return tool_fail(out, "%s must be a string of 1 to %zu characters", name, max);
	*v = json_string_value(a);
	return 0;
}

/* A number argument NAME in LO..HI; *PRESENT 0 when absent. */
static int arg_number(const json_t *args, const char *name, double lo, double hi, double *v, int *present,
		      tool_out *out)
{
	const json_t *a = json_object_get(args, name);
	*present = a && !json_is_null(a);
	if (!*present)
		return 0;
	if (weather_number_in(a, lo, hi, v) != 0)
		return tool_fail(out, "%s must be a number from %g to %g", name, lo, hi);
	return 0;
}

/* An id argument NAME with PREFIX's shape; a malformed id is "not found", like an unknown one. */
static int arg_id(const json_t *args, const char *name, const char *prefix, const char *what, const char **v,
		  tool_out *out)
{
	if (arg_string(args, name, 1, IDS_MAX_LEN, v, out) != 0)
		return -1;
	if (!ids_valid(prefix, *v))
		return tool_fail(out, "%s not found: %s", what, *v);
	return 0;
}

/* The one time limit of R's tool calls (epoch ms): mcp_tool_timeout_seconds from the request's start, shared by
 * the calls of a batch. */
static int64_t request_deadline(const request *r)
{
	return r->started_ms + (int64_t)r->app->cfg->mcp_tool_timeout_seconds * 1000;
}

/* ------------------------------------------------------------------------------------------------ */

static int call_get_weather(request *r, const json_t *args, tool_out *out)
{
	weather_query q = {0};
	const char *units;
	double lat = 0, lon = 0;
	int has_lat, has_lon;
	if (arg_string(args, "location", 0, 200, &q.location, out) != 0 ||
	    arg_number(args, "latitude", -90, 90, &lat, &has_lat, out) != 0 ||
	    arg_number(args, "longitude", -180, 180, &lon, &has_lon, out) != 0 ||
	    arg_string(args, "units", 0, 16, &units, out) != 0)
		return -1;
	if (units && strcmp(units, "metric") != 0 && strcmp(units, "imperial") != 0)
		return tool_fail(out, "units must be metric or imperial");
	if (q.location && (has_lat || has_lon))
		return tool_fail(out, "give either location or latitude and longitude, not both");
	if (!q.location && !(has_lat && has_lon))
		return tool_fail(out, "give location, or both latitude and longitude");
	q.latitude = lat;
	q.longitude = lon;
	q.imperial = units && strcmp(units, "imperial") == 0;
	weather_result w;
	long left = (long)(request_deadline(r) - util_now_ms());
	if (weather_lookup(r->a, r->app->cfg, &q, left > 1 ? left : 1, &w) != 0) {
		if (w.timed_out)
			return tool_fail(out, "the weather service did not answer within %d seconds",
					 r->app->cfg->mcp_tool_timeout_seconds);
		return tool_fail(out, "%s", w.error);
	}
	json_decref(w.alert);
	json_object_del(w.output, "alert");
	json_object_set_new(w.output, "summary", json_string(w.line));
	out->structured = w.output;
	return 0;
}

/* limit (1..100, default 20) and cursor (a next_cursor of ids with PREFIX) of a listing tool. */
static int arg_page(const json_t *args, const char *prefix, int *limit, char after[IDS_MAX_LEN], tool_out *out)
{
	const json_t *lim = json_object_get(args, "limit");
	const char *cursor;
	after[0] = '\0';
	*limit = 20;
	if (lim && !json_is_null(lim)) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 1 || json_integer_value(lim) > 100)
			return tool_fail(out, "limit must be an integer from 1 to 100");
		*limit = (int)json_integer_value(lim);
	}
	if (arg_string(args, "cursor", 0, 200, &cursor, out) != 0)
		return -1;
	if (cursor && cursor_decode(cursor, prefix, after) != 0)
		return tool_fail(out, "cursor is not valid: pass next_cursor from the previous page unchanged");
	return 0;
}

/* {NAME: ITEMS, "next_cursor": ...}; NEXT_ID (NULL: last page) is the last id shown. */
static json_t *page_json(const char *name, json_t *items, const char *next_id)
{
	json_t *next = json_null();
	if (next_id) {
		char c[CURSOR_MAX_LEN];
		cursor_encode(next_id, c);
		next = json_string(c);
	}
	return json_pack("{s:o, s:o}", name, items, "next_cursor", next);
}

static int call_list_agents(request *r, const json_t *args, tool_out *out)
{
	char after[IDS_MAX_LEN];
	int limit;
	if (arg_page(args, "agt_", &limit, after, out) != 0)
		return -1;
	agent_row *rows;
	int n;
	enum store_result res =
		store_agent_list(r->app->db, r->a, r->account_id, after[0] ? after : NULL, limit + 1, &rows, &n);
	if (res != STORE_OK)
		return tool_fail_store(r, res, out);
	int more = n > limit;
	if (more)
		n = limit;
	json_t *agents = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(agents, v1_agents_json(r, &rows[i]));
	out->structured = page_json("agents", agents, more ? rows[n - 1].id : NULL);
	return 0;
}

/* The live agent ID of R's account into G; a foreign or unknown id is "not found". */
static int load_agent(request *r, const char *id, agent_row *g, tool_out *out)
{
	enum store_result res = store_agent_get(r->app->db, r->a, r->account_id, id, 0, g);
	if (res == STORE_NOT_FOUND)
		return tool_fail(out, "agent not found: %s", id);
	if (res != STORE_OK)
		return tool_fail_store(r, res, out);
	return 0;
}

static int call_get_agent(request *r, const json_t *args, tool_out *out)
{
	const char *id;
	agent_row g;
	if (arg_id(args, "agent_id", "agt_", "agent", &id, out) != 0 || load_agent(r, id, &g, out) != 0)
		return -1;
	out->structured = v1_agents_json(r, &g);
	return 0;
}

static int call_trigger_agent(request *r, const json_t *args, tool_out *out)
{
	const char *id;
	if (arg_id(args, "agent_id", "agt_", "agent", &id, out) != 0)
		return -1;
	const json_t *type = json_object_get(args, "type");
	if (type && !json_is_null(type) && !signal_type_valid(type))
		return tool_fail(out, "type must be 1 to 100 characters of a-z, 0-9, _ . : -");
	json_t *payload = json_object_get(args, "payload");
	if (payload && !json_is_null(payload) && !json_is_object(payload))
		return tool_fail(out, "payload must be an object");
	payload = payload && json_is_object(payload) ? payload : req_keep(r, json_object());
	char *text = json_dumps(payload, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;
	free(text);
	if (n > SIGNAL_PAYLOAD_MAX_BYTES)
		return tool_fail(out, "payload is larger than 64 KiB");
	char sig_id[IDS_MAX_LEN], run_id[IDS_MAX_LEN];
	const char *type_s = type && json_is_string(type) ? json_string_value(type) : "mcp";
	if (signal_enqueue_run(r, id, type_s, payload, "mcp", "mcp", sig_id, run_id, audit_in_tx, out) != 0) {
		out->audited = 0; /* rolled back with the run */
		if (r->err == ERR_NOT_FOUND) {
			r->err = ERR_NONE;
			return tool_fail(out, "agent not found: %s", id);
		}
		return tool_fail_request(r, out);
	}
	out->structured = json_pack("{s:s, s:s, s:s, s:s}", "run_id", run_id, "signal_id", sig_id, "agent_id", id,
				    "status", "queued");
	return 0;
}

static int call_get_run(request *r, const json_t *args, tool_out *out)
{
	const char *id;
	if (arg_id(args, "run_id", "run_", "run", &id, out) != 0)
		return -1;
	run_row x;
	enum store_result res = store_run_get(r->app->db, r->a, r->account_id, id, &x);
	if (res == STORE_NOT_FOUND)
		return tool_fail(out, "run not found: %s", id);
	message_row *rows = NULL;
	int n = 0;
	if (res == STORE_OK)
		res = store_message_list(r->app->db, r->a, r->account_id, x.agent_id, x.id, NULL, MAX_RUN_MESSAGES, &rows,
					 &n);
	if (res != STORE_OK)
		return tool_fail_store(r, res, out);
	json_t *messages = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(messages, store_message_json(&rows[i]));
	json_t *run = store_run_json(&x);
	json_object_set_new(run, "messages", messages);
	out->structured = run;
	return 0;
}


/* An RFC 3339 date-time argument NAME into *MS (left as it is when absent). */
static int arg_time(const json_t *args, const char *name, int64_t *ms, tool_out *out)
{
	const char *v;
	if (arg_string(args, name, 0, 64, &v, out) != 0)
		return -1;
	if (v && rfc3339_parse_ms(v, ms) != 0)
		return tool_fail(out, "%s must be an RFC 3339 date-time such as 2026-05-01T09:00:00Z", name);
	return 0;
}

static int call_list_calendar_events(request *r, const json_t *args, tool_out *out)
{
	const char *conn;
	int64_t from = util_now_ms(), to;
	if (arg_string(args, "connection_id", 0, IDS_MAX_LEN, &conn, out) != 0 || arg_time(args, "from", &from, out) != 0)
		return -1;
	to = from + (int64_t)DEFAULT_EVENT_DAYS * 86400000;
	if (arg_time(args, "to", &to, out) != 0)
		return -1;
	if (to <= from)
		return tool_fail(out, "to must be after from");
	if (to - from > (int64_t)MAX_EVENT_DAYS * 86400000)
		return tool_fail(out, "from..to may span at most %d days", MAX_EVENT_DAYS);
	if (conn && !ids_valid("conn_", conn))
		return tool_fail(out, "connection not found: %s", conn);
	char **ids = (char **)&conn;
	int n = 1;
	if (!conn && calendar_connection_ids(r->app->db, r->a, r->account_id, MAX_CALENDARS, &ids, &n) != 0)
		return tool_fail(out, "the database is unavailable; retry shortly");
	/* One budget for every calendar: the request answers within mcp_tool_timeout_seconds. */
	int64_t deadline = request_deadline(r);
	json_t *calendars = json_array();
	for (int i = 0; i < n; i++) {
		long left = (long)(deadline - util_now_ms());
		json_t *events = NULL;
		int not_found = 0;
		char err[600] = "";
		if (left <= 0)
			snprintf(err, sizeof err, "not read: the tool's time limit of %d seconds ran out",
				 r->app->cfg->mcp_tool_timeout_seconds);
		else if (calendar_events(r->app->db, r->a, r->app->cfg, r->account_id, ids[i], from / 1000,
					 (to + 999) / 1000, MAX_EVENTS, left, &events, &not_found, err, sizeof err) == 0)
			err[0] = '\0';
		if (conn && (not_found || err[0])) {
			json_decref(events);
			json_decref(calendars);
			return not_found ? tool_fail(out, "connection not found: %s", conn) : tool_fail(out, "%s", err);
		}
		json_array_append_new(calendars, json_pack("{s:s, s:o, s:o}", "connection_id", ids[i], "events",
							   events ? events : json_array(), "error",
							   err[0] ? json_string(err) : json_null()));
	}
	char f[40], t[40];
	util_format_time_ms(from, f, sizeof f);
	util_format_time_ms(to, t, sizeof t);
	out->structured = json_pack("{s:s, s:s, s:o}", "from", f, "to", t, "calendars", calendars);
	return 0;
}

/* The account's one live smtp credential into *ID (arena), for send_email without credential_id. */
static int only_smtp_credential(request *r, const char **id, tool_out *out)
{
	char **ids;
	int n;
	enum store_result res = store_credential_live_ids(r->app->db, r->a, r->account_id, "smtp", 2, &ids, &n);
	if (res != STORE_OK)
		return tool_fail_store(r, res, out);
	if (n == 0)
		return tool_fail(out, "the account has no smtp credential: create one and pass its id as credential_id");
	if (n > 1)
		return tool_fail(out, "the account has several smtp credentials: pass credential_id");
	*id = ids[0];
	return 0;
}

static int call_send_email(request *r, const json_t *args, tool_out *out)
{
	verr e;
	const json_t *to = json_object_get(args, "to"), *subject = json_object_get(args, "subject");
	const json_t *body = json_object_get(args, "body");
	if (smtp_check_fields(to, subject, body, "arguments", &e) != 0)
		return tool_fail(out, "%s", e.message);
	const char *cred;
	if (arg_string(args, "credential_id", 0, IDS_MAX_LEN, &cred, out) != 0)
		return -1;
	if (!cred && only_smtp_credential(r, &cred, out) != 0)
		return -1;
	int ok = ids_valid("cred_", cred) ? store_credential_check(r->app->db, r->a, r->account_id, cred, "smtp") : 0;
	if (ok < 0)
		return tool_fail(out, "the database is unavailable; retry shortly");
	if (!ok)
		return tool_fail(out, "no usable smtp credential %s (absent, revoked or of another type)", cred);
	const char **rcpt;
	if (smtp_recipients(r->a, to, &rcpt) < 0)
		return tool_fail(out, "to is not valid");
	const char *summary = smtp_summary(r->a, json_string_value(subject), rcpt);
	/* Never sent from here: a person approves first (the approvals queue agents use), then the scheduler sends. */
	json_t *action_args = json_pack("{s:O, s:O, s:O, s:s}", "to", to, "subject", subject, "body", body,
					"credential_id", cred);
	json_t *approval = NULL;
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res == STORE_OK)
		res = store_approval_request(d, r->a, r->app->cfg, r->account_id, r->key_id, SEND_EMAIL_ACTION, summary,
					     action_args, &approval);
	json_decref(action_args);
	if (res == STORE_OK && tool_audit(r, out, 0) != 0) {
		db_rollback(d);
		json_decref(approval);
		out->audited = 0;
		return tool_fail_request(r, out);
	}
	if (res == STORE_OK)
		res = db_commit(d);
	if (res != STORE_OK) {
		db_rollback(d);
		json_decref(approval);
		out->audited = 0;
		return tool_fail_store(r, res, out);
	}
	out->structured = json_pack("{s:O, s:O, s:O, s:s}", "approval_id", json_object_get(approval, "id"), "status",
				    json_object_get(approval, "status"), "expires_at", json_object_get(approval, "expires_at"),
				    "summary", summary);
	json_decref(approval);
	if (!out->structured)
		return tool_fail(out, "the approval could not be read back");
	return 0;
}

static int call_list_pending_approvals(request *r, const json_t *args, tool_out *out)
{
	char after[IDS_MAX_LEN];
	int limit;
	if (arg_page(args, "apr_", &limit, after, out) != 0)
		return -1;
	approval_row *rows;
	int n;
	enum store_result res = store_approval_list(r->app->db, r->a, r->account_id, "pending", NULL,
						    after[0] ? after : NULL, limit + 1, &rows, &n);
	if (res != STORE_OK)
		return tool_fail_store(r, res, out);
	int more = n > limit;
	if (more)
		n = limit;
	json_t *items = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(items, store_approval_json(&rows[i]));
	out->structured = page_json("approvals", items, more ? rows[n - 1].id : NULL);
	return 0;
}

/* ------------------------------------------------------------------------------------------------
 * The table. Schemas are JSON Schema (2020-12 compatible, no $schema): the official clients compile the
 * output schemas and check structuredContent against them. */

#define NULLABLE_STRING "{\"type\":[\"string\",\"null\"]}"
#define AGENT_SCHEMA                                                                                               \
	"{\"type\":\"object\",\"required\":[\"id\",\"name\",\"type\",\"status\",\"schedule\",\"timezone\",\"config\","  \
	"\"created_at\",\"updated_at\",\"last_run_at\",\"next_run_at\"],\"properties\":{"                               \
	"\"id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"},"                 \
	"\"status\":{\"type\":\"string\",\"enum\":[\"idle\",\"running\",\"paused\",\"error\"]},"                       \
	"\"schedule\":" NULLABLE_STRING ",\"timezone\":{\"type\":\"string\"},\"config\":{\"type\":\"object\"},"          \
	"\"inbound_webhook\":{\"type\":\"object\"},\"created_at\":{\"type\":\"string\"},"                               \
	"\"updated_at\":{\"type\":\"string\"},\"last_run_at\":" NULLABLE_STRING ",\"next_run_at\":" NULLABLE_STRING "}}"

static const char *const WEATHER_ARGS[] = {"location", "latitude", "longitude", "units", NULL};
static const char *const LIST_ARGS[] = {"limit", "cursor", NULL};
static const char *const AGENT_ARGS[] = {"agent_id", NULL};
static const char *const TRIGGER_ARGS[] = {"agent_id", "type", "payload", NULL};
static const char *const RUN_ARGS[] = {"run_id", NULL};
static const char *const CALENDAR_ARGS[] = {"connection_id", "from", "to", NULL};
static const char *const EMAIL_ARGS[] = {"to", "subject", "body", "credential_id", NULL};

static const mcp_tool TOOLS[] = {
	{"get_weather", "Get the weather",
	 "Current weather and today's forecast (high, low, chance of rain) for a place name or coordinates, from the "
	 "same weather service the weather_check agents use.",
	 "{\"type\":\"object\",\"properties\":{"
	 "\"location\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,\"description\":\"A place name, e.g. New "
	 "York; or give latitude and longitude instead\"},"
	 "\"latitude\":{\"type\":\"number\",\"minimum\":-90,\"maximum\":90},"
	 "\"longitude\":{\"type\":\"number\",\"minimum\":-180,\"maximum\":180},"
	 "\"units\":{\"type\":\"string\",\"enum\":[\"metric\",\"imperial\"],\"default\":\"metric\"}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"location\",\"units\",\"temperature_unit\",\"current\",\"today\","
	 "\"summary\"],\"properties\":{"
	 "\"location\":{\"type\":\"object\",\"required\":[\"name\",\"latitude\",\"longitude\"],\"properties\":{"
	 "\"name\":{\"type\":\"string\"},\"country\":{\"type\":\"string\"},\"latitude\":{\"type\":\"number\"},"
	 "\"longitude\":{\"type\":\"number\"}}},"
	 "\"units\":{\"type\":\"string\",\"enum\":[\"metric\",\"imperial\"]},\"temperature_unit\":{\"type\":\"string\"},"
	 "\"current\":{\"type\":\"object\",\"required\":[\"temperature\",\"weather_code\",\"conditions\"],"
	 "\"properties\":{\"temperature\":{\"type\":\"number\"},\"weather_code\":{\"type\":\"integer\"},"
	 "\"conditions\":{\"type\":\"string\"}}},"
	 "\"today\":{\"type\":\"object\",\"required\":[\"temperature_max\",\"temperature_min\","
	 "\"precipitation_probability_max\"],\"properties\":{\"temperature_max\":{\"type\":\"number\"},"
	 "\"temperature_min\":{\"type\":\"number\"},\"precipitation_probability_max\":{\"type\":[\"number\",\"null\"]}}},"
	 "\"summary\":{\"type\":\"string\"}}}",
	 1, 1, WEATHER_ARGS, call_get_weather},
	{"list_calendar_events", "List calendar events",
	 "Events of the account's CalDAV calendar connections between from and to (default: the next 7 days), "
	 "recurring events expanded; one connection when connection_id is given, else every active one.",
	 "{\"type\":\"object\",\"properties\":{"
	 "\"connection_id\":{\"type\":\"string\",\"description\":\"conn_...; default: every active connection\"},"
	 "\"from\":{\"type\":\"string\",\"format\":\"date-time\",\"description\":\"default: now\"},"
	 "\"to\":{\"type\":\"string\",\"format\":\"date-time\",\"description\":\"default: from + 7 days; at most "
	 "366 days after from\"}},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"from\",\"to\",\"calendars\"],\"properties\":{"
	 "\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},"
	 "\"calendars\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"connection_id\","
	 "\"events\",\"error\"],\"properties\":{\"connection_id\":{\"type\":\"string\"},"
	 "\"events\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},\"error\":" NULLABLE_STRING "}}}}}",
	 1, 1, CALENDAR_ARGS, call_list_calendar_events},
	{"send_email", "Send an email (after approval)",
	 "Asks for a person's approval to send an email through one of the account's smtp credentials; nothing is "
	 "sent until the approval is approved (then the platform sends it once). Answers the approval's id and status.",
	 "{\"type\":\"object\",\"required\":[\"to\",\"subject\",\"body\"],\"properties\":{"
	 "\"to\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
	 "\"minItems\":1}],\"description\":\"one address or a list\"},"
	 "\"subject\":{\"type\":\"string\",\"minLength\":1},\"body\":{\"type\":\"string\"},"
	 "\"credential_id\":{\"type\":\"string\",\"description\":\"cred_... of an smtp credential; default: the "
	 "account's only one\"}},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"approval_id\",\"status\",\"expires_at\",\"summary\"],"
	 "\"properties\":{\"approval_id\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},"
	 "\"expires_at\":{\"type\":\"string\"},\"summary\":{\"type\":\"string\"}}}",
	 0, 1, EMAIL_ARGS, call_send_email},
	{"list_agents", "List agents",
	 "The account's agents, newest first, a page at a time (pass next_cursor back as cursor for the next page).",
	 "{\"type\":\"object\",\"properties\":{"
	 "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":20},"
	 "\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page\"}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"agents\",\"next_cursor\"],\"properties\":{"
	 "\"agents\":{\"type\":\"array\",\"items\":" AGENT_SCHEMA "},\"next_cursor\":" NULLABLE_STRING "}}",
	 1, 0, LIST_ARGS, call_list_agents},
	{"get_agent", "Get an agent", "One agent of the account: its type, configuration, schedule and status.",
	 "{\"type\":\"object\",\"required\":[\"agent_id\"],\"properties\":{"
	 "\"agent_id\":{\"type\":\"string\",\"description\":\"agt_...\"}},\"additionalProperties\":false}",
	 AGENT_SCHEMA, 1, 0, AGENT_ARGS, call_get_agent},
	{"trigger_agent", "Trigger an agent",
	 "Sends the agent a signal, which queues a run (trigger type mcp); answers the run's id. Read the outcome "
	 "with get_run.",
	 "{\"type\":\"object\",\"required\":[\"agent_id\"],\"properties\":{"
	 "\"agent_id\":{\"type\":\"string\",\"description\":\"agt_...\"},"
	 "\"type\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9_.:-]{1,100}$\",\"default\":\"mcp\","
	 "\"description\":\"the signal type the run sees\"},"
	 "\"payload\":{\"type\":\"object\",\"description\":\"the signal payload the run sees\"}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"run_id\",\"signal_id\",\"agent_id\",\"status\"],\"properties\":{"
	 "\"run_id\":{\"type\":\"string\"},\"signal_id\":{\"type\":\"string\"},\"agent_id\":{\"type\":\"string\"},"
	 "\"status\":{\"type\":\"string\",\"enum\":[\"queued\"]}}}",
	 0, 0, TRIGGER_ARGS, call_trigger_agent},
	{"get_run", "Get a run",
	 "One run of the account: status, trigger, input, output, error, timing, and the display messages it wrote "
	 "(the first 100).",
	 "{\"type\":\"object\",\"required\":[\"run_id\"],\"properties\":{"
	 "\"run_id\":{\"type\":\"string\",\"description\":\"run_...\"}},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"id\",\"agent_id\",\"status\",\"trigger\",\"messages\"],\"properties\":{"
	 "\"id\":{\"type\":\"string\"},\"agent_id\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},"
	 "\"trigger\":{\"type\":\"object\"},\"error_message\":" NULLABLE_STRING ","
	 "\"messages\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\",\"role\",\"content\"],"
	 "\"properties\":{\"id\":{\"type\":\"string\"},\"role\":{\"type\":\"string\"},\"content\":{\"type\":\"string\"}}}}}}",
	 1, 0, RUN_ARGS, call_get_run},
	{"list_pending_approvals", "List pending approvals",
	 "The account's approvals waiting for a person's decision (agents' gated runs and send_email requests), "
	 "newest first, a page at a time.",
	 "{\"type\":\"object\",\"properties\":{"
	 "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":20},"
	 "\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page\"}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"approvals\",\"next_cursor\"],\"properties\":{"
	 "\"approvals\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\",\"status\"],"
	 "\"properties\":{\"id\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"}}}},"
	 "\"next_cursor\":" NULLABLE_STRING "}}",
	 1, 0, LIST_ARGS, call_list_pending_approvals},
};
#define NTOOLS ((int)(sizeof TOOLS / sizeof TOOLS[0]))

int mcp_tools_count(void)
{
	return NTOOLS;
}

const mcp_tool *mcp_tools_at(int i)
{
	return i >= 0 && i < NTOOLS ? &TOOLS[i] : NULL;
}

const char *mcp_tools_name(const mcp_tool *t)
{
	return t->name;
}

int mcp_tools_index(const char *name)
{
	for (int i = 0; i < NTOOLS; i++)
		if (strcmp(TOOLS[i].name, name) == 0)
			return i;
	return -1;
}

const mcp_tool *mcp_tools_find(const char *name)
{
	return mcp_tools_at(mcp_tools_index(name));
}

static json_t *schema(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);
	if (!v)
		abort(); /* a constant of this file: the unit suite parses every one */
	return v;
}

json_t *mcp_tools_describe(const mcp_tool *t)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:o}", "name", t->name, "title", t->title, "description", t->description,
			      "inputSchema", schema(t->input_schema));
	if (t->output_schema)
		json_object_set_new(d, "outputSchema", schema(t->output_schema));
	json_object_set_new(d, "annotations",
			    json_pack("{s:s, s:b, s:b, s:b}", "title", t->title, "readOnlyHint", t->read_only,
				      "destructiveHint", 0, "openWorldHint", t->open_world));
	return d;
}

/* Unknown arguments are the caller's mistake: refused by name. */
static int check_args(const mcp_tool *t, const json_t *args, tool_out *out)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)args, key, v)
	{
		int ok = 0;
		for (const char *const *k = t->args; *k; k++)
			ok |= strcmp(*k, key) == 0;
		if (!ok)
			return tool_fail(out, "unknown argument '%.64s'", key);
	}
	return 0;
}

json_t *mcp_tools_call(request *r, const mcp_tool *t, const json_t *args)
{
	tool_out out = {.tool = t};
	int nhdr = r->nhdr; /* a refused signal adds Retry-After: it belongs to the tool result, not the HTTP answer */
	int rc = check_args(t, args, &out);
	if (rc == 0 && util_now_ms() >= request_deadline(r))
		rc = tool_fail(&out, "not run: the request's time limit of %d seconds ran out (the tool calls of a batch "
			       "share it)", r->app->cfg->mcp_tool_timeout_seconds);
	if (rc == 0)
		rc = t->call(r, args, &out);
	r->nhdr = nhdr;
	if (rc == 0 && !out.structured)
		rc = tool_fail(&out, "the tool produced no result");
	if (r->err != ERR_NONE) /* a failure a tool did not turn into its text */
		rc = tool_fail_request(r, &out);
	/* Writes audit inside their transaction; reads and failed calls are audited here. */
	if (!out.audited && tool_audit(r, &out, rc != 0) != 0) {
		log_error("request %s: the audit row of MCP tool %s was not written", r->request_id, t->name);
		r->err = ERR_NONE;
		json_decref(out.structured);
		return NULL;
	}
	if (rc != 0) {
		json_decref(out.structured);
		return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", out.error, "isError", 1);
	}
	char *text = json_dumps(out.structured, JSON_COMPACT);
	if (!text)
		abort();
	json_t *res = json_pack("{s:[{s:s, s:s}], s:o, s:b}", "content", "type", "text", "text", text,
				"structuredContent", out.structured, "isError", 0);
	free(text);
	return res;
}
