/* agent_weather_check: the pure pieces of the weather_check runner (answer parsing, wording, alerts), for tests. */
#ifndef AP_AGENT_WEATHER_CHECK_H
#define AP_AGENT_WEATHER_CHECK_H

#include <jansson.h>
#include <stddef.h>

/* The first geocoding result. */
typedef struct agent_weather_check_place {
	char name[256];
	char country[128]; /* "" when the answer has none */
	double latitude, longitude;
} agent_weather_check_place;

/* Current weather and today's forecast. */
typedef struct agent_weather_check_report {
	double temperature;
	int weather_code;
	double temperature_max, temperature_min;
	int has_precipitation; /* 0 when the service sent null for today's rain probability */
	double precipitation_max;
} agent_weather_check_report;

/* Words for a WMO weather interpretation code ("overcast", "slight rain"), or NULL for an unknown code. */
const char *agent_weather_check_conditions(int code);

/* Parses an Open-Meteo geocoding answer (LEN bytes of BODY). 1 with OUT filled from results[0], 0 when the
 * answer has no result, -1 when it is not the expected shape. */
int agent_weather_check_parse_place(const char *body, size_t len, agent_weather_check_place *out);

/* Parses an Open-Meteo forecast answer (current=temperature_2m,weather_code and daily=temperature_2m_max,
 * temperature_2m_min,precipitation_probability_max). 0 with OUT filled, or -1 when it is not that shape. */
int agent_weather_check_parse_forecast(const char *body, size_t len, agent_weather_check_report *out);

/* "New York: 7 °C, overcast, high 9 °C / low 3 °C, 20% rain" into OUT (°F when IMPERIAL). */
void agent_weather_check_describe(const char *place, const agent_weather_check_report *r, int imperial, char *out,
				  size_t outlen);

/* The alert that config.alert (ALERT, may be NULL) raises for R: a new object {"message": "...",
 * "conditions": [{"condition", "threshold", "value"}, ...]}, or NULL when no condition holds. */
json_t *agent_weather_check_alert(const json_t *alert, const char *place, const agent_weather_check_report *r,
				  int imperial);

/* Percent-encodes S (RFC 3986 unreserved characters kept) into OUT. Returns 0, or -1 if OUT is too small. */
int agent_weather_check_escape(const char *s, char *out, size_t outlen);

#endif
