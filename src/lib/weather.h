/* weather: Open-Meteo geocoding and forecast for the weather_check runner and the get_weather MCP tool: the
 * lookup, and its pure pieces (answer parsing, wording, alerts) for tests. */
#ifndef AP_WEATHER_H
#define AP_WEATHER_H

#include "arena.h"
#include "settings.h"

#include <jansson.h>
#include <stddef.h>

/* The first geocoding result. */
typedef struct weather_place {
	char name[256];
	char country[128]; /* "" when the answer has none */
	double latitude, longitude;
} weather_place;

/* Current weather and today's forecast. */
typedef struct weather_report {
	double temperature;
	int weather_code;
	double temperature_max, temperature_min;
	int has_precipitation; /* 0 when the service sent null for today's rain probability */
	double precipitation_max;
} weather_report;

/* 0 with *OUT set when V is a finite JSON number in LO..HI (coordinates, temperatures), else -1. */
int weather_number_in(const json_t *v, double lo, double hi, double *out);

/* Words for a WMO weather interpretation code ("overcast", "slight rain"), or NULL for an unknown code. */
const char *weather_conditions(int code);

/* Parses an Open-Meteo geocoding answer (LEN bytes of BODY). 1 with OUT filled from results[0], 0 when the
 * answer has no result, -1 when it is not the expected shape. */
int weather_parse_place(const char *body, size_t len, weather_place *out);

/* Parses an Open-Meteo forecast answer (current=temperature_2m,weather_code and daily=temperature_2m_max,
 * temperature_2m_min,precipitation_probability_max). 0 with OUT filled, or -1 when it is not that shape. */
int weather_parse_forecast(const char *body, size_t len, weather_report *out);

/* "New York: 7 °C, overcast, high 9 °C / low 3 °C, 20% rain" into OUT (°F when IMPERIAL). */
void weather_describe(const char *place, const weather_report *r, int imperial, char *out, size_t outlen);

/* The alert that ALERT (a weather_check config.alert, may be NULL) raises for R: a new object {"message": "...",
 * "conditions": [{"condition", "threshold", "value"}, ...]}, or NULL when no condition holds. */
json_t *weather_alert(const json_t *alert, const char *place, const weather_report *r, int imperial);

/* Percent-encodes S (RFC 3986 unreserved characters kept) into OUT. Returns 0, or -1 if OUT is too small. */
int weather_escape(const char *s, char *out, size_t outlen);

/* What to look up: a place name (geocoded first) or coordinates (already in range). */
typedef struct weather_query {
	const char *location; /* NULL: LATITUDE and LONGITUDE */
	double latitude, longitude;
	int imperial;
	const json_t *alert;  /* conditions to raise an alert for (weather_check's config.alert), or NULL */
} weather_query;

typedef struct weather_result {
	json_t *output;   /* success: {location, units, temperature_unit, current, today, alert?} (new reference) */
	json_t *alert;    /* success: the raised alert (new reference), or NULL */
	char line[512];   /* success: the display line (weather_describe) */
	char error[320];  /* failure: a readable reason, no internals */
	int timed_out;    /* failure: the budget ran out before a request could start */
} weather_result;

/* Looks Q up at the configured Open-Meteo URLs (through the outbound guard; each request at most 10 s) within
 * BUDGET_MS milliseconds in all. Returns 0 with OUT's output, alert and line set (the caller owns the JSON), or
 * -1 with OUT->error (and timed_out) set. */
int weather_lookup(arena *a, const settings *cfg, const weather_query *q, long budget_ms, weather_result *out);

#endif
