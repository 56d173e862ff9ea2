/* agenttype: agent types and the shape of their config. The scheduler's runners live in src/scheduler/. */
#include "agenttype.h"

#include "ids.h"
#include "smtp.h"

#include <string.h>

/* A number in LO..HI at PARAM. */
static int check_number(const json_t *v, const char *param, double lo, double hi, verr *e)
{
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
		return verr_set(e, VERR_INVALID, param, "%s must be a number from %g to %g", param, lo, hi);
	return 0;
}

/* config.alert: at least one condition; the run raises the alert when any of them holds. */
static int check_weather_alert(const json_t *alert, verr *e)
{
	static const char *const keys[] = {"rain_probability_above", "temperature_above", "temperature_below", NULL};
	if (!json_is_object(alert) || json_object_size(alert) == 0)
		return verr_set(e, VERR_INVALID, "config.alert",
				"config.alert must be an object with rain_probability_above, temperature_above or "
				"temperature_below");
	if (validate_known_keys(alert, "config.alert", keys, e) != 0)
		return -1;
	const json_t *v;
	if ((v = json_object_get(alert, "rain_probability_above")) &&
	    check_number(v, "config.alert.rain_probability_above", 0, 100, e) != 0)
		return -1;
	if ((v = json_object_get(alert, "temperature_above")) &&
	    check_number(v, "config.alert.temperature_above", -100, 150, e) != 0)
		return -1;
	if ((v = json_object_get(alert, "temperature_below")) &&
	    check_number(v, "config.alert.temperature_below", -100, 150, e) != 0)
		return -1;
	return 0;
}

/* Either config.location (geocoded at run time) or config.latitude with config.longitude. */
static int check_weather(const json_t *c, verr *e)
{
	static const char *const keys[] = {"location", "latitude", "longitude", "units", "alert", NULL};
	if (validate_known_keys(c, "config", keys, e) != 0)
		return -1;
	const json_t *loc = json_object_get(c, "location");
	const json_t *lat = json_object_get(c, "latitude"), *lon = json_object_get(c, "longitude");
	if (loc && (lat || lon))
		return verr_set(e, VERR_INVALID, lat ? "config.latitude" : "config.longitude",
				"give either config.location or config.latitude and config.longitude, not both");
	if (!loc && !lat && !lon)
		return verr_set(e, VERR_MISSING, "config.location", "config.location is required for weather_check");
	if (loc) {
		if (validate_string(loc, "config.location", 1, 200, e) != 0)
			return -1;
	} else {
		if (!lat)
			return verr_set(e, VERR_MISSING, "config.latitude", "config.latitude is required with config.longitude");
		if (!lon)
			return verr_set(e, VERR_MISSING, "config.longitude", "config.longitude is required with config.latitude");
		if (check_number(lat, "config.latitude", -90, 90, e) != 0 ||
		    check_number(lon, "config.longitude", -180, 180, e) != 0)
			return -1;
	}
	const json_t *units = json_object_get(c, "units");
	if (units && !(json_is_string(units) && (strcmp(json_string_value(units), "metric") == 0 ||
						 strcmp(json_string_value(units), "imperial") == 0)))
		return verr_set(e, VERR_INVALID, "config.units", "config.units must be \"metric\" or \"imperial\"");
	const json_t *alert = json_object_get(c, "alert");
	if (alert && check_weather_alert(alert, e) != 0)
		return -1;
	return 0;
}

static int check_url(const json_t *v, verr *e)
{
	if (!json_is_string(v))
		return verr_set(e, VERR_INVALID, "config.url", "config.url must be a string");
	const char *u = json_string_value(v);
	size_t n = json_string_length(v);
	size_t skip = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
	if (skip == 0 || n > 2048 || n == skip || u[skip] == '/' || !validate_header_safe(u, n))
		return verr_set(e, VERR_INVALID, "config.url", "config.url must be an http or https URL of at most 2048 characters");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= ' ' || (unsigned char)u[i] >= 0x7f)
			return verr_set(e, VERR_INVALID, "config.url", "config.url must not contain spaces or control characters");
	return 0;
}

static int check_http(const json_t *c, verr *e)
{
	static const char *const keys[] = {"url", "method", "headers", "body", "timeout_seconds", "fail_on_status", NULL};
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};
	if (validate_known_keys(c, "config", keys, e) != 0)
		return -1;
	const json_t *url = json_object_get(c, "url");
	if (!url)
		return verr_set(e, VERR_MISSING, "config.url", "config.url is required for http_request");
	if (check_url(url, e) != 0)
		return -1;
	const json_t *m = json_object_get(c, "method");
	if (m) {
		int ok = 0;
		for (const char *const *p = methods; json_is_string(m) && *p; p++)
			ok |= strcmp(*p, json_string_value(m)) == 0;
		if (!ok)
			return verr_set(e, VERR_INVALID, "config.method", "config.method must be one of GET, POST, PUT, PATCH, DELETE, HEAD");
	}
	const json_t *h = json_object_get(c, "headers");
	if (h) {
		if (!json_is_object(h) || json_object_size(h) > 32)
			return verr_set(e, VERR_INVALID, "config.headers", "config.headers must be an object of at most 32 string values");
		const char *name;
		json_t *val;
		json_object_foreach((json_t *)h, name, val)
		{
			if (!validate_token(name) || strlen(name) > 100)
				return verr_set(e, VERR_INVALID, "config.headers", "config.headers: '%.40s' is not a valid header name", name);
			if (!json_is_string(val) || json_string_length(val) > 4096 ||
			    !validate_header_safe(json_string_value(val), json_string_length(val)))
				return verr_set(e, VERR_INVALID, "config.headers", "config.headers.%.40s must be a string of at most 4096 characters without CR, LF or NUL", name);
		}
	}
	const json_t *b = json_object_get(c, "body");
	if (b && !(json_is_string(b) && json_string_length(b) <= 65536))
		return verr_set(e, VERR_INVALID, "config.body", "config.body must be a string of at most 65536 bytes");
	if (b && (!m || strcmp(json_string_value(m), "GET") == 0 || strcmp(json_string_value(m), "HEAD") == 0))
		return verr_set(e, VERR_INVALID, "config.body", "config.body needs config.method POST, PUT, PATCH or DELETE");
	const json_t *t = json_object_get(c, "timeout_seconds");
	if (t && !(json_is_integer(t) && json_integer_value(t) >= 1 && json_integer_value(t) <= 30))
		return verr_set(e, VERR_INVALID, "config.timeout_seconds", "config.timeout_seconds must be an integer from 1 to 30");
	const json_t *f = json_object_get(c, "fail_on_status");
	if (f && !json_is_boolean(f))
		return verr_set(e, VERR_INVALID, "config.fail_on_status", "config.fail_on_status must be true or false");
	return 0;
}

static int check_echo(const json_t *c, verr *e)
{
	static const char *const keys[] = {"message", NULL};
	if (validate_known_keys(c, "config", keys, e) != 0)
		return -1;
	const json_t *m = json_object_get(c, "message");
	if (m && validate_string(m, "config.message", 0, 10000, e) != 0)
		return -1;
	return 0;
}

/* config.connection_id (a calendar connection of the agent's account: checked by the API through
 * CALENDAR_DIGEST_REFS) and config.days_ahead, the window in days (default 7). */
static int check_calendar_digest(const json_t *c, verr *e)
{
	static const char *const keys[] = {"connection_id", "days_ahead", NULL};
	if (validate_known_keys(c, "config", keys, e) != 0)
		return -1;
	const json_t *id = json_object_get(c, "connection_id"), *days = json_object_get(c, "days_ahead");
	if (!id)
		return verr_set(e, VERR_MISSING, "config.connection_id", "config.connection_id is required for calendar_digest");
	if (!json_is_string(id) || json_string_length(id) > 64)
		return verr_set(e, VERR_INVALID, "config.connection_id", "config.connection_id must be a connection id");
	if (days && !(json_is_integer(days) && json_integer_value(days) >= 1 && json_integer_value(days) <= 31))
		return verr_set(e, VERR_INVALID, "config.days_ahead", "config.days_ahead must be an integer from 1 to 31");
	return 0;
}

static const agenttype_ref CALENDAR_DIGEST_REFS[] = {
	{"connection_id", AGENTTYPE_REF_CONNECTION, NULL},
	{NULL, AGENTTYPE_REF_CREDENTIAL, NULL},
};

/* config.to, config.subject and config.body as every email is checked, and config.credential_id (that it names
 * an smtp credential of the agent's account is checked by the API through SEND_EMAIL_REFS). */
static int check_send_email(const json_t *c, verr *e)
{
	static const char *const keys[] = {"to", "subject", "body", "credential_id", NULL};
	if (validate_known_keys(c, "config", keys, e) != 0)
		return -1;
	if (smtp_check_fields(json_object_get(c, "to"), json_object_get(c, "subject"), json_object_get(c, "body"),
			      "config", e) != 0)
		return -1;
	const json_t *cred = json_object_get(c, "credential_id");
	if (!cred)
		return verr_set(e, VERR_MISSING, "config.credential_id", "config.credential_id is required for send_email");
	if (!json_is_string(cred) || json_string_length(cred) == 0 || json_string_length(cred) > 64)
		return verr_set(e, VERR_INVALID, "config.credential_id", "config.credential_id must be a credential id");
	return 0;
}

static const agenttype_ref SEND_EMAIL_REFS[] = {
	{"credential_id", AGENTTYPE_REF_CREDENTIAL, "smtp"},
	{NULL, AGENTTYPE_REF_CREDENTIAL, NULL},
};

/* config.mcp_server_id (an MCP server of the agent's account, checked by refs), config.tool and optional
 * config.arguments (an object, sent as the tool's arguments). */
static int check_mcp_tool(const json_t *c, verr *e)
{
	static const char *const keys[] = {"mcp_server_id", "tool", "arguments", NULL};
	if (validate_known_keys(c, "config", keys, e) != 0)
		return -1;
	const json_t *id = json_object_get(c, "mcp_server_id"), *tool = json_object_get(c, "tool");
	if (!id)
		return verr_set(e, VERR_MISSING, "config.mcp_server_id", "config.mcp_server_id is required for mcp_tool");
	if (validate_string(id, "config.mcp_server_id", 1, 64, e) != 0)
		return -1;
	if (!tool)
		return verr_set(e, VERR_MISSING, "config.tool", "config.tool is required for mcp_tool");
	if (validate_string(tool, "config.tool", 1, 128, e) != 0)
		return -1;
	const json_t *args = json_object_get(c, "arguments");
	if (args && !json_is_object(args))
		return verr_set(e, VERR_INVALID, "config.arguments", "config.arguments must be an object");
	return 0;
}

static const agenttype_ref MCP_TOOL_REFS[] = {
	{"mcp_server_id", AGENTTYPE_REF_MCP_SERVER, NULL},
	{NULL, AGENTTYPE_REF_CREDENTIAL, NULL},
};

const agenttype AGENTTYPES[] = {
	{"weather_check", "Fetches the weather for a location and raises alerts", check_weather, NULL},
	{"http_request", "Calls an HTTP endpoint and records the response", check_http, NULL},
	{"echo", "Writes its trigger payload (and optional message) back as display messages", check_echo, NULL},
	{"send_email", "Sends an email through an smtp credential once a person approves it", check_send_email,
	 SEND_EMAIL_REFS},
	{"calendar_digest", "Lists the upcoming events of a calendar connection as a display message",
	 check_calendar_digest, CALENDAR_DIGEST_REFS},
	{"mcp_tool", "Calls a tool of an external MCP server and records its result", check_mcp_tool, MCP_TOOL_REFS},
};
const int AGENTTYPES_COUNT = (int)(sizeof AGENTTYPES / sizeof AGENTTYPES[0]);

const agenttype *agenttype_find(const char *name)
{
	for (int i = 0; i < AGENTTYPES_COUNT; i++)
		if (strcmp(AGENTTYPES[i].name, name) == 0)
			return &AGENTTYPES[i];
	return NULL;
}
