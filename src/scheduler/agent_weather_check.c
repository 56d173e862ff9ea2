/* agent_weather_check: the weather_check agent type: the shared weather lookup (src/lib/weather.c), a display
 * line, and alerts. */
#include "runner.h"
#include "weather.h"

#include <string.h>

int agent_weather_check_run(runner_ctx *ctx)
{
	const json_t *c = ctx->config;
	const json_t *units = json_object_get(c, "units");
	const json_t *loc = json_object_get(c, "location");
	weather_query q = {
		.imperial = json_is_string(units) && strcmp(json_string_value(units), "imperial") == 0,
		.alert = json_object_get(c, "alert"),
	};
	if (json_is_string(loc)) {
		q.location = json_string_value(loc);
	} else if (weather_number_in(json_object_get(c, "latitude"), -90, 90, &q.latitude) != 0 ||
		   weather_number_in(json_object_get(c, "longitude"), -180, 180, &q.longitude) != 0) {
		return runner_fail(ctx, "config.latitude and config.longitude are required without config.location");
	}
	long left = runner_remaining_ms(ctx);
	if (left <= 0)
		return runner_fail(ctx, "the run exceeded its time limit of %d seconds", ctx->cfg->run_timeout_seconds);
	weather_result w;
	if (weather_lookup(ctx->a, ctx->cfg, &q, left, &w) != 0) {
		if (w.timed_out)
			return runner_fail(ctx, "the run exceeded its time limit of %d seconds", ctx->cfg->run_timeout_seconds);
		return runner_fail(ctx, "%s", w.error);
	}
	runner_set_output(ctx, w.output);
	runner_message_add(ctx, w.line, w.output);
	if (w.alert) {
		runner_message_add(ctx, json_string_value(json_object_get(w.alert, "message")), w.alert);
		json_decref(w.alert);
	}
	return 0;
}
