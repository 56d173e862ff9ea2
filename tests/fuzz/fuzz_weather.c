/* fuzz_weather: the weather_check runner's parsing of Open-Meteo answers (geocoding and forecast). */
#include "weather.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A heap copy of exactly SIZE bytes, so ASan sees any read past the answer. */
	char *body = malloc(size ? size : 1);
	if (!body)
		abort();
	memcpy(body, data, size);

	weather_place place;
	int rc = weather_parse_place(body, size, &place);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 1) {
		if (!memchr(place.name, '\0', sizeof place.name) || !memchr(place.country, '\0', sizeof place.country))
			abort();
		char escaped[3 * sizeof place.name];
		if (weather_escape(place.name, escaped, sizeof escaped) != 0)
			abort();
	}

	weather_report rep;
	if (weather_parse_forecast(body, size, &rep) == 0) {
		const char *name = rc == 1 ? place.name : "Somewhere";
		char line[512];
		/* Thresholds every parsed report crosses: the temperature ones always hold. */
		json_t *alert = json_pack("{s:i, s:i, s:i}", "rain_probability_above", -1, "temperature_above", -300,
					  "temperature_below", 300);
		for (int imperial = 0; imperial <= 1; imperial++) {
			weather_describe(name, &rep, imperial, line, sizeof line);
			if (!memchr(line, '\0', sizeof line))
				abort();
			json_t *a = weather_alert(alert, name, &rep, imperial);
			if (!json_is_object(a) || json_array_size(json_object_get(a, "conditions")) < 2)
				abort();
			json_decref(a);
		}
		json_decref(alert);
	}
	free(body);
	return 0;
}
