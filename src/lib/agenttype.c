/* agenttype: agent types and the shape of their config. The scheduler's runners live in src/scheduler/. */
#include "agenttype.h"

#include <string.h>

static int check_weather(const json_t *c, verr *e)
{
	static const char *const keys[] = {"location", "units", NULL};
	if (validate_known_keys(c, "config", keys, e) != 0)
		return -1;
	const json_t *loc = json_object_get(c, "location");
	if (!loc)
		return verr_set(e, VERR_MISSING, "config.location", "config.location is required for weather_check");
	if (validate_string(loc, "config.location", 1, 200, e) != 0)
		return -1;
	const json_t *units = json_object_get(c, "units");
	if (units && !(json_is_string(units) && (strcmp(json_string_value(units), "metric") == 0 ||
						 strcmp(json_string_value(units), "imperial") == 0)))
		return verr_set(e, VERR_INVALID, "config.units", "config.units must be \"metric\" or \"imperial\"");
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
	static const char *const keys[] = {"url", "method", "headers", "body", "timeout_seconds", NULL};
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
	const json_t *t = json_object_get(c, "timeout_seconds");
	if (t && !(json_is_integer(t) && json_integer_value(t) >= 1 && json_integer_value(t) <= 30))
		return verr_set(e, VERR_INVALID, "config.timeout_seconds", "config.timeout_seconds must be an integer from 1 to 30");
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

const agenttype AGENTTYPES[] = {
	{"weather_check", "Fetches the weather for a location and raises alerts", check_weather},
	{"http_request", "Calls an HTTP endpoint and records the response", check_http},
	{"echo", "Writes its trigger payload (and optional message) back as display messages", check_echo},
};
const int AGENTTYPES_COUNT = (int)(sizeof AGENTTYPES / sizeof AGENTTYPES[0]);

const agenttype *agenttype_find(const char *name)
{
	for (int i = 0; i < AGENTTYPES_COUNT; i++)
		if (strcmp(AGENTTYPES[i].name, name) == 0)
			return &AGENTTYPES[i];
	return NULL;
}
