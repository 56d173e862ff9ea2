/* weather: Open-Meteo geocoding and forecast: parsing, wording, alerts, and the lookup itself — shared by the
 * weather_check runner (scheduler) and the get_weather MCP tool (API). */
#include "weather.h"
#include "httpc.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Both answers are small (a few KiB); anything bigger is not what we asked for. */
#define WEATHER_MAX_RESPONSE (256 * 1024)
#define WEATHER_REQUEST_TIMEOUT_MS 10000L
#define WEATHER_UNEXPECTED "the weather service returned an unexpected answer"

static const struct {
	int code;
	const char *text;
} WMO[] = {
	{0, "clear sky"},
	{1, "mainly clear"},
	{2, "partly cloudy"},
	{3, "overcast"},
	{45, "fog"},
	{48, "depositing rime fog"},
	{51, "light drizzle"},
	{53, "moderate drizzle"},
	{55, "dense drizzle"},
	{56, "light freezing drizzle"},
	{57, "dense freezing drizzle"},
	{61, "slight rain"},
	{63, "moderate rain"},
	{65, "heavy rain"},
	{66, "light freezing rain"},
	{67, "heavy freezing rain"},
	{71, "slight snowfall"},
	{73, "moderate snowfall"},
	{75, "heavy snowfall"},
	{77, "snow grains"},
	{80, "slight rain showers"},
	{81, "moderate rain showers"},
	{82, "violent rain showers"},
	{85, "slight snow showers"},
	{86, "heavy snow showers"},
	{95, "thunderstorm"},
	{96, "thunderstorm with slight hail"},
	{99, "thunderstorm with heavy hail"},
};

const char *weather_conditions(int code)
{
	for (size_t i = 0; i < sizeof WMO / sizeof WMO[0]; i++)
		if (WMO[i].code == code)
			return WMO[i].text;
	return NULL;
}

static json_t *load(const char *body, size_t len)
{
	json_error_t e;
	if (!body || len == 0)
		return NULL;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (v && !json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int weather_number_in(const json_t *v, double lo, double hi, double *out)
{
	if (!json_is_number(v))
		return -1;
	double d = json_number_value(v);
	if (!isfinite(d) || d < lo || d > hi)
		return -1;
	*out = d;
	return 0;
}

/* A short string member copied into OUT ("" when absent or null); -1 when present but not a fitting string. */
static int copy_string(const json_t *v, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= outlen || strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int weather_parse_place(const char *body, size_t len, weather_place *out)
{
	json_t *v = load(body, len);
	if (!v)
		return -1;
	int rc = -1;
	const json_t *results = json_object_get(v, "results");
	if (!results || (json_is_array(results) && json_array_size(results) == 0)) {
		rc = 0;
	} else if (json_is_array(results)) {
		const json_t *r = json_array_get(results, 0);
		if (json_is_object(r) && weather_number_in(json_object_get(r, "latitude"), -90, 90, &out->latitude) == 0 &&
		    weather_number_in(json_object_get(r, "longitude"), -180, 180, &out->longitude) == 0 &&
		    copy_string(json_object_get(r, "name"), out->name, sizeof out->name) == 0 && out->name[0] &&
		    copy_string(json_object_get(r, "country"), out->country, sizeof out->country) == 0)
			rc = 1;
	}
	json_decref(v);
	return rc;
}

/* The first element of the array member NAME of OBJ. */
static const json_t *first_of(const json_t *obj, const char *name)
{
	const json_t *a = json_object_get(obj, name);
	return json_is_array(a) ? json_array_get(a, 0) : NULL;
}

int weather_parse_forecast(const char *body, size_t len, weather_report *out)
{
	json_t *v = load(body, len);
	if (!v)
		return -1;
	int rc = -1;
	const json_t *cur = json_object_get(v, "current"), *daily = json_object_get(v, "daily");
	double code;
	memset(out, 0, sizeof *out);
	if (json_is_object(cur) && json_is_object(daily) &&
	    weather_number_in(json_object_get(cur, "temperature_2m"), -200, 200, &out->temperature) == 0 &&
	    weather_number_in(json_object_get(cur, "weather_code"), 0, 99, &code) == 0 && code == (double)(int)code &&
	    weather_number_in(first_of(daily, "temperature_2m_max"), -200, 200, &out->temperature_max) == 0 &&
	    weather_number_in(first_of(daily, "temperature_2m_min"), -200, 200, &out->temperature_min) == 0) {
		out->weather_code = (int)code;
		const json_t *p = first_of(daily, "precipitation_probability_max");
		if (!p || json_is_null(p))
			rc = 0;
		else if (weather_number_in(p, 0, 100, &out->precipitation_max) == 0) {
			out->has_precipitation = 1;
			rc = 0;
		}
	}
	json_decref(v);
	return rc;
}

/* D as a JSON integer when it is whole (rain probabilities, thresholds), else as a real. */
static json_t *number(double d)
{
	return d > -1e15 && d < 1e15 && (double)(json_int_t)d == d ? json_integer((json_int_t)d) : json_real(d);
}

/* Rounded to a whole number, never "-0". */
static long whole(double d)
{
	return (long)(d < 0 ? d - 0.5 : d + 0.5); /* the callers' values are bounded (-200..200) */
}

void weather_describe(const char *place, const weather_report *r, int imperial, char *out,
				  size_t outlen)
{
	const char *unit = imperial ? "°F" : "°C";
	const char *words = weather_conditions(r->weather_code);
	char cond[48], rain[32] = "";
	if (words)
		snprintf(cond, sizeof cond, "%s", words);
	else
		snprintf(cond, sizeof cond, "weather code %d", r->weather_code);
	if (r->has_precipitation)
		snprintf(rain, sizeof rain, ", %ld%% rain", whole(r->precipitation_max));
	snprintf(out, outlen, "%s: %ld %s, %s, high %ld %s / low %ld %s%s", place, whole(r->temperature), unit, cond,
		 whole(r->temperature_max), unit, whole(r->temperature_min), unit, rain);
}

json_t *weather_alert(const json_t *alert, const char *place, const weather_report *r,
				  int imperial)
{
	const char *unit = imperial ? "°F" : "°C";
	if (!json_is_object(alert))
		return NULL;
	json_t *conds = json_array();
	char text[512];
	size_t o = (size_t)snprintf(text, sizeof text, "Weather alert for %s:", place);
	const json_t *t;
	if (o >= sizeof text)
		o = sizeof text - 1;
	if ((t = json_object_get(alert, "rain_probability_above")) && json_is_number(t) && r->has_precipitation &&
	    r->precipitation_max > json_number_value(t)) {
		json_array_append_new(conds, json_pack("{s:s, s:O, s:o}", "condition", "rain_probability_above",
						       "threshold", t, "value", number(r->precipitation_max)));
		o += (size_t)snprintf(text + o, sizeof text - o, "%s %ld%% chance of rain (above %g%%)",
				      json_array_size(conds) > 1 ? ";" : "", whole(r->precipitation_max),
				      json_number_value(t));
	}
	if (o < sizeof text && (t = json_object_get(alert, "temperature_above")) && json_is_number(t) &&
	    r->temperature_max > json_number_value(t)) {
		json_array_append_new(conds, json_pack("{s:s, s:O, s:o}", "condition", "temperature_above", "threshold",
						       t, "value", number(r->temperature_max)));
		o += (size_t)snprintf(text + o, sizeof text - o, "%s high of %ld %s (above %g %s)",
				      json_array_size(conds) > 1 ? ";" : "", whole(r->temperature_max), unit,
				      json_number_value(t), unit);
	}
	if (o < sizeof text && (t = json_object_get(alert, "temperature_below")) && json_is_number(t) &&
	    r->temperature_min < json_number_value(t)) {
		json_array_append_new(conds, json_pack("{s:s, s:O, s:o}", "condition", "temperature_below", "threshold",
						       t, "value", number(r->temperature_min)));
		snprintf(text + o, sizeof text - o, "%s low of %ld %s (below %g %s)", json_array_size(conds) > 1 ? ";" : "",
			 whole(r->temperature_min), unit, json_number_value(t), unit);
	}
	if (json_array_size(conds) == 0) {
		json_decref(conds);
		return NULL;
	}
	return json_pack("{s:s, s:o}", "message", text, "conditions", conds);
}

int weather_escape(const char *s, char *out, size_t outlen)
{
	static const char HEX[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == '.' || *p == '_' || *p == '~';
		if (o + (plain ? 1 : 3) >= outlen)
			return -1;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = HEX[*p >> 4];
			out[o++] = HEX[*p & 15];
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

/* Monotonic milliseconds: the clock of the lookup's budget. */
static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records the failure reason MESSAGE in OUT; returns -1. */
static int fail(weather_result *out, const char *message)
{
	snprintf(out->error, sizeof out->error, "%s", message);
	return -1;
}

/* GET URL from the weather service within what is left of the budget: 0 with the body of a 200 answer. */
static int fetch(arena *a, const settings *cfg, const char *url, int64_t deadline, weather_result *out,
		 const char **body, size_t *len)
{
	long left = (long)(deadline - mono_ms());
	if (left <= 0) {
		out->timed_out = 1;
		return fail(out, "the weather lookup ran out of time");
	}
	httpc_request req = {
		.method = "GET",
		.url = url,
		.timeout_ms = left < WEATHER_REQUEST_TIMEOUT_MS ? left : WEATHER_REQUEST_TIMEOUT_MS,
		.max_response_bytes = WEATHER_MAX_RESPONSE,
		.allow_private = cfg->allow_private_addresses,
	};
	httpc_response resp;
	char err[256];
	if (httpc_do(a, &req, &resp, err, sizeof err) != 0) {
		if (strcmp(err, "response is too large") == 0)
			return fail(out, WEATHER_UNEXPECTED);
		snprintf(out->error, sizeof out->error, "could not reach the weather service: %s", err);
		return -1;
	}
	if (resp.status != 200) {
		log_info("the weather service answered HTTP %ld", resp.status);
		snprintf(out->error, sizeof out->error, "the weather service answered with HTTP status %ld", resp.status);
		return -1;
	}
	*body = resp.body;
	*len = resp.body_len;
	return 0;
}

/* BASE plus the query QUERY, joined with ? or & (the base may already carry a query). */
static const char *with_query(arena *a, const char *base, const char *query)
{
	return arena_printf(a, "%s%c%s", base, strchr(base, '?') ? '&' : '?', query);
}

int weather_lookup(arena *a, const settings *cfg, const weather_query *q, long budget_ms, weather_result *out)
{
	memset(out, 0, sizeof *out);
	int64_t deadline = mono_ms() + budget_ms;
	weather_place place = {0};
	const char *body;
	size_t len;

	if (q->location) {
		char name[3 * 800 + 1];
		if (weather_escape(q->location, name, sizeof name) != 0)
			return fail(out, "the location is too long");
		const char *url = with_query(a, cfg->weather_geocoding_url,
					     arena_printf(a, "name=%s&count=1&language=en&format=json", name));
		if (fetch(a, cfg, url, deadline, out, &body, &len) != 0)
			return -1;
		int found = weather_parse_place(body, len, &place);
		if (found < 0)
			return fail(out, WEATHER_UNEXPECTED);
		if (found == 0) {
			snprintf(out->error, sizeof out->error, "the weather service knows no place named \"%.200s\"",
				 q->location);
			return -1;
		}
	} else {
		place.latitude = q->latitude;
		place.longitude = q->longitude;
		snprintf(place.name, sizeof place.name, "%.4f, %.4f", place.latitude, place.longitude);
	}

	const char *url = with_query(
		a, cfg->weather_forecast_url,
		arena_printf(a,
			     "latitude=%.4f&longitude=%.4f&current=temperature_2m,weather_code"
			     "&daily=temperature_2m_max,temperature_2m_min,precipitation_probability_max"
			     "&timezone=auto&forecast_days=1%s",
			     place.latitude, place.longitude, q->imperial ? "&temperature_unit=fahrenheit" : ""));
	if (fetch(a, cfg, url, deadline, out, &body, &len) != 0)
		return -1;
	weather_report r;
	if (weather_parse_forecast(body, len, &r) != 0)
		return fail(out, WEATHER_UNEXPECTED);

	weather_describe(place.name, &r, q->imperial, out->line, sizeof out->line);
	const char *words = weather_conditions(r.weather_code);
	json_t *alert = weather_alert(q->alert, place.name, &r, q->imperial);
	out->output = json_pack(
		"{s:{s:s, s:s?, s:f, s:f}, s:s, s:s, s:{s:f, s:i, s:s}, s:{s:f, s:f, s:o}, s:o?}", "location", "name",
		place.name, "country", place.country[0] ? place.country : NULL, "latitude", place.latitude, "longitude",
		place.longitude, "units", q->imperial ? "imperial" : "metric", "temperature_unit", q->imperial ? "°F" : "°C",
		"current", "temperature", r.temperature, "weather_code", r.weather_code, "conditions",
		words ? words : "unknown", "today", "temperature_max", r.temperature_max, "temperature_min",
		r.temperature_min, "precipitation_probability_max",
		r.has_precipitation ? number(r.precipitation_max) : json_null(), "alert", alert ? json_incref(alert) : NULL);
	if (!out->output) {
		json_decref(alert);
		return fail(out, WEATHER_UNEXPECTED);
	}
	out->alert = alert;
	return 0;
}
