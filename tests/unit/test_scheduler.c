/* test_scheduler: unit tests for the scheduler's pure parts: cron plan, weather answers and wording, runner helpers. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weather.h"
#include "agenttype.h"
#include "arena.h"
#include "crontick.h"
#include "deliveries.h"
#include "runner.h"
#include "suites.h"
#include "worker.h"

/* 2024-01-01T12:00:00Z in epoch milliseconds. */
#define NOON_MS 1704110400000LL

/* The answer Open-Meteo's geocoding API gives for name=New York&count=1 (trimmed). */
static const char GEO_NEW_YORK[] =
	"{\"results\":[{\"id\":5128581,\"name\":\"New York\",\"latitude\":40.71427,\"longitude\":-74.00597,"
	"\"elevation\":10.0,\"feature_code\":\"PPL\",\"country_code\":\"US\",\"admin1_id\":5128638,"
	"\"timezone\":\"America/New_York\",\"population\":8175133,\"country_id\":6252001,"
	"\"country\":\"United States\",\"admin1\":\"New York\"}],\"generationtime_ms\":0.5}";

/* A forecast answer in Open-Meteo's shape for the query the runner sends. */
static const char FORECAST[] =
	"{\"latitude\":40.710335,\"longitude\":-73.99307,\"generationtime_ms\":0.05,\"utc_offset_seconds\":-18000,"
	"\"timezone\":\"America/New_York\",\"timezone_abbreviation\":\"EST\",\"elevation\":32.0,"
	"\"current_units\":{\"time\":\"iso8601\",\"interval\":\"seconds\",\"temperature_2m\":\"°C\","
	"\"weather_code\":\"wmo code\"},\"current\":{\"time\":\"2024-01-01T12:00\",\"interval\":900,"
	"\"temperature_2m\":7.2,\"weather_code\":3},\"daily_units\":{\"time\":\"iso8601\","
	"\"temperature_2m_max\":\"°C\",\"temperature_2m_min\":\"°C\",\"precipitation_probability_max\":\"%\"},"
	"\"daily\":{\"time\":[\"2024-01-01\"],\"temperature_2m_max\":[9.1],\"temperature_2m_min\":[3.0],"
	"\"precipitation_probability_max\":[20]}}";

static void test_wmo_words(void)
{
	CU_ASSERT_STRING_EQUAL(weather_conditions(0), "clear sky");
	CU_ASSERT_STRING_EQUAL(weather_conditions(3), "overcast");
	CU_ASSERT_STRING_EQUAL(weather_conditions(45), "fog");
	CU_ASSERT_STRING_EQUAL(weather_conditions(61), "slight rain");
	CU_ASSERT_STRING_EQUAL(weather_conditions(75), "heavy snowfall");
	CU_ASSERT_STRING_EQUAL(weather_conditions(95), "thunderstorm");
	CU_ASSERT_STRING_EQUAL(weather_conditions(99), "thunderstorm with heavy hail");
	CU_ASSERT_PTR_NULL(weather_conditions(4));
	CU_ASSERT_PTR_NULL(weather_conditions(-1));
	CU_ASSERT_PTR_NULL(weather_conditions(100));
}

static int place(const char *body, weather_place *p)
{
	memset(p, 0x55, sizeof *p);
	return weather_parse_place(body, strlen(body), p);
}

static void test_parse_place(void)
{
	weather_place p;
	CU_ASSERT_EQUAL(place(GEO_NEW_YORK, &p), 1);
	CU_ASSERT_STRING_EQUAL(p.name, "New York");
	CU_ASSERT_STRING_EQUAL(p.country, "United States");
	CU_ASSERT_DOUBLE_EQUAL(p.latitude, 40.71427, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(p.longitude, -74.00597, 1e-9);
	/* No result: Open-Meteo leaves "results" out. */
	CU_ASSERT_EQUAL(place("{\"generationtime_ms\":0.3}", &p), 0);
	CU_ASSERT_EQUAL(place("{\"results\":[]}", &p), 0);
	CU_ASSERT_EQUAL(place("{\"results\":[{\"name\":\"X\",\"latitude\":1,\"longitude\":2}]}", &p), 1);
	CU_ASSERT_STRING_EQUAL(p.country, "");
	static const char *const BAD[] = {
		"",
		"<html>busy</html>",
		"[]",
		"\"results\"",
		"{\"results\":{}}",
		"{\"results\":[42]}",
		"{\"results\":[{\"name\":\"X\",\"latitude\":91,\"longitude\":2}]}",
		"{\"results\":[{\"name\":\"X\",\"latitude\":1,\"longitude\":-181}]}",
		"{\"results\":[{\"name\":\"X\",\"latitude\":\"1\",\"longitude\":2}]}",
		"{\"results\":[{\"name\":\"X\",\"longitude\":2}]}",
		"{\"results\":[{\"name\":\"\",\"latitude\":1,\"longitude\":2}]}",
		"{\"results\":[{\"name\":7,\"latitude\":1,\"longitude\":2}]}",
		"{\"results\":[{\"name\":\"X\",\"latitude\":1,\"longitude\":2,\"country\":[]}]}",
		"{\"results\":[{\"name\":\"a\\u0000b\",\"latitude\":1,\"longitude\":2}]}",
		"{\"results\":[],\"results\":[]}",
		"{\"results\":[{\"name\":\"X\",\"latitude\":1,\"longitude\":2}]",
	};
	for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		int rc = place(BAD[i], &p);
		if (rc != -1)
			fprintf(stderr, "\nplace answer %zu (%s) -> %d, want -1\n", i, BAD[i], rc);
		CU_ASSERT_EQUAL(rc, -1);
	}
	/* A name longer than the place buffer is refused rather than cut. */
	char big[600];
	memset(big, 'a', 300);
	big[300] = '\0';
	char body[800];
	snprintf(body, sizeof body, "{\"results\":[{\"name\":\"%s\",\"latitude\":1,\"longitude\":2}]}", big);
	CU_ASSERT_EQUAL(place(body, &p), -1);
}

static int forecast(const char *body, weather_report *r)
{
	return weather_parse_forecast(body, strlen(body), r);
}

static void test_parse_forecast(void)
{
	weather_report r;
	CU_ASSERT_EQUAL(forecast(FORECAST, &r), 0);
	CU_ASSERT_DOUBLE_EQUAL(r.temperature, 7.2, 1e-9);
	CU_ASSERT_EQUAL(r.weather_code, 3);
	CU_ASSERT_DOUBLE_EQUAL(r.temperature_max, 9.1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.temperature_min, 3.0, 1e-9);
	CU_ASSERT_EQUAL(r.has_precipitation, 1);
	CU_ASSERT_DOUBLE_EQUAL(r.precipitation_max, 20, 1e-9);
	/* Some places have no rain probability: null, or no such series. */
	CU_ASSERT_EQUAL(forecast("{\"current\":{\"temperature_2m\":-1.5,\"weather_code\":71.0},\"daily\":{"
				 "\"temperature_2m_max\":[0],\"temperature_2m_min\":[-4],"
				 "\"precipitation_probability_max\":[null]}}",
				 &r),
			0);
	CU_ASSERT_EQUAL(r.has_precipitation, 0);
	CU_ASSERT_EQUAL(r.weather_code, 71);
	CU_ASSERT_EQUAL(forecast("{\"current\":{\"temperature_2m\":1,\"weather_code\":0},\"daily\":{"
				 "\"temperature_2m_max\":[2],\"temperature_2m_min\":[0]}}",
				 &r),
			0);
	CU_ASSERT_EQUAL(r.has_precipitation, 0);
	static const char *const BAD[] = {
		"",
		"null",
		"{\"error\":true,\"reason\":\"Latitude must be in range of -90 to 90°.\"}",
		"{\"current\":{\"temperature_2m\":1,\"weather_code\":0}}",
		"{\"daily\":{\"temperature_2m_max\":[2],\"temperature_2m_min\":[0]}}",
		"{\"current\":{\"temperature_2m\":\"1\",\"weather_code\":0},\"daily\":{\"temperature_2m_max\":[2],"
		"\"temperature_2m_min\":[0]}}",
		"{\"current\":{\"temperature_2m\":1,\"weather_code\":3.5},\"daily\":{\"temperature_2m_max\":[2],"
		"\"temperature_2m_min\":[0]}}",
		"{\"current\":{\"temperature_2m\":1,\"weather_code\":100},\"daily\":{\"temperature_2m_max\":[2],"
		"\"temperature_2m_min\":[0]}}",
		"{\"current\":{\"temperature_2m\":1,\"weather_code\":0},\"daily\":{\"temperature_2m_max\":[],"
		"\"temperature_2m_min\":[0]}}",
		"{\"current\":{\"temperature_2m\":1,\"weather_code\":0},\"daily\":{\"temperature_2m_max\":2,"
		"\"temperature_2m_min\":[0]}}",
		"{\"current\":{\"temperature_2m\":1,\"weather_code\":0},\"daily\":{\"temperature_2m_max\":[2],"
		"\"temperature_2m_min\":[0],\"precipitation_probability_max\":[120]}}",
		"{\"current\":{\"temperature_2m\":1e300,\"weather_code\":0},\"daily\":{\"temperature_2m_max\":[2],"
		"\"temperature_2m_min\":[0]}}",
		"{\"current\":[],\"daily\":{}}",
	};
	for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		int rc = forecast(BAD[i], &r);
		if (rc != -1)
			fprintf(stderr, "\nforecast answer %zu -> %d, want -1\n", i, rc);
		CU_ASSERT_EQUAL(rc, -1);
	}
}

static void test_describe(void)
{
	char out[256];
	weather_report r = {7.2, 3, 9.1, 3.0, 1, 20};
	weather_describe("New York", &r, 0, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "New York: 7 °C, overcast, high 9 °C / low 3 °C, 20% rain");
	weather_report cold = {-0.4, 73, -2.5, -12.6, 0, 0};
	weather_describe("Oslo", &cold, 0, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "Oslo: 0 °C, moderate snowfall, high -3 °C / low -13 °C");
	weather_report odd = {70.5, 4, 80, 60, 1, 0};
	weather_describe("Austin", &odd, 1, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "Austin: 71 °F, weather code 4, high 80 °F / low 60 °F, 0% rain");
}

static void test_alert(void)
{
	weather_report r = {7.2, 3, 9.1, 3.0, 1, 20};
	json_t *cfg = json_pack("{s:i}", "rain_probability_above", 10);
	json_t *a = weather_alert(cfg, "New York", &r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(a, "message")),
			       "Weather alert for New York: 20% chance of rain (above 10%)");
	json_t *c = json_array_get(json_object_get(a, "conditions"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "condition")), "rain_probability_above");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "threshold")), 10);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "value")), 20);
	json_decref(a);
	json_decref(cfg);

	cfg = json_pack("{s:i}", "rain_probability_above", 20); /* above, not at */
	CU_ASSERT_PTR_NULL(weather_alert(cfg, "New York", &r, 0));
	json_decref(cfg);
	CU_ASSERT_PTR_NULL(weather_alert(NULL, "New York", &r, 0));

	cfg = json_pack("{s:f, s:i, s:i}", "temperature_above", 8.5, "temperature_below", 5, "rain_probability_above", 90);
	a = weather_alert(cfg, "Paris", &r, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(a, "message")),
			       "Weather alert for Paris: high of 9 °F (above 8.5 °F); low of 3 °F (below 5 °F)");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(a, "conditions")), 2);
	json_decref(a);
	json_decref(cfg);

	/* No rain probability in the answer: a rain condition does not hold. */
	weather_report dry = {7.2, 3, 9.1, 3.0, 0, 0};
	cfg = json_pack("{s:i}", "rain_probability_above", 0);
	CU_ASSERT_PTR_NULL(weather_alert(cfg, "X", &dry, 0));
	json_decref(cfg);
}

static void test_escape(void)
{
	char out[64];
	CU_ASSERT_EQUAL(weather_escape("New York", out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "New%20York");
	CU_ASSERT_EQUAL(weather_escape("S\xc3\xa3o Paulo", out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "S%C3%A3o%20Paulo");
	CU_ASSERT_EQUAL(weather_escape("a&b=c#d/e?f+g~h_i.j-k", out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "a%26b%3Dc%23d%2Fe%3Ff%2Bg~h_i.j-k");
	CU_ASSERT_EQUAL(weather_escape("  ", out, 7), 0);
	CU_ASSERT_STRING_EQUAL(out, "%20%20");
	CU_ASSERT_EQUAL(weather_escape("   ", out, 9), -1);
	CU_ASSERT_EQUAL(weather_escape("", out, 1), 0);
}

static void test_cron_plan(void)
{
	int64_t next;
	/* Invalid schedule or zone: no run, no next time. */
	CU_ASSERT_EQUAL(crontick_plan("61 * * * *", "UTC", NOON_MS, NOON_MS, &next), 0);
	CU_ASSERT_EQUAL(next, -1);
	CU_ASSERT_EQUAL(crontick_plan("* * * * *", "Mars/Olympus", NOON_MS, NOON_MS, &next), 0);
	CU_ASSERT_EQUAL(crontick_plan(NULL, "UTC", NOON_MS, NOON_MS, &next), 0);
	/* On time: the next minute. */
	CU_ASSERT_EQUAL(crontick_plan("* * * * *", "UTC", NOON_MS, NOON_MS + 300, &next), 1);
	CU_ASSERT_EQUAL(next, NOON_MS + 60000);
	/* Down for three days: one catch-up run, and the next time comes from now, not from the due time. */
	CU_ASSERT_EQUAL(crontick_plan("*/15 * * * *", "UTC", NOON_MS - 3 * 86400000LL, NOON_MS + 5000, &next), 1);
	CU_ASSERT_EQUAL(next, NOON_MS + 15 * 60000);
	/* A slot at exactly the current second is not skipped. */
	CU_ASSERT_EQUAL(crontick_plan("* * * * *", "UTC", NOON_MS - 60000, NOON_MS + 500, &next), 1);
	CU_ASSERT_EQUAL(next, NOON_MS);
	/* ... but the next time is always after the due time. */
	CU_ASSERT_EQUAL(crontick_plan("0 12 * * *", "UTC", NOON_MS, NOON_MS, &next), 1);
	CU_ASSERT_EQUAL(next, NOON_MS + 86400000LL);
	/* In the agent's zone: 09:00 in New York is 14:00 UTC in January. */
	CU_ASSERT_EQUAL(crontick_plan("0 9 * * *", "America/New_York", NOON_MS - 86400000LL, NOON_MS, &next), 1);
	CU_ASSERT_EQUAL(next, NOON_MS + 2 * 3600000LL);
	/* A schedule that never fires again: this run, then none. */
	CU_ASSERT_EQUAL(crontick_plan("0 0 30 2 *", "UTC", NOON_MS, NOON_MS, &next), 1);
	CU_ASSERT_EQUAL(next, -1);
}

static void test_runner_text(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} CASES[] = {
		{"plain", 5, "plain"},
		{"h\xc3\xa9", 3, "h\xc3\xa9"},
		{"a\xff" "b", 3, "a\xef\xbf\xbd" "b"},
		{"a\0b", 3, "a\xef\xbf\xbd" "b"},
		{"cut \xe2\x82", 6, "cut \xef\xbf\xbd\xef\xbf\xbd"},
		{"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
		{"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},
		{"", 0, ""},
	};
	for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
		json_t *v = runner_text(CASES[i].in, CASES[i].len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		CU_ASSERT_STRING_EQUAL(json_string_value(v), CASES[i].out);
		json_decref(v);
	}
}

static void test_runner_ctx(void)
{
	settings cfg = {.run_timeout_seconds = 30};
	run_row run = {.id = "run_x"};
	arena *a = arena_new();
	runner_ctx ctx;
	json_t *input = json_pack("{s:s, s:{s:i}}", "type", "t", "payload", "n", 1);
	runner_init(&ctx, a, &cfg, &run, input, NULL);
	CU_ASSERT(runner_remaining_ms(&ctx) > 29000 && runner_remaining_ms(&ctx) <= 30000);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(runner_payload(&ctx), "n")), 1);
	/* Messages: in order, data serialized, content cut at 60000 bytes on a character boundary. */
	size_t big = 70000;
	char *text = malloc(big + 1);
	for (size_t i = 0; i < big; i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[big] = '\0';
	runner_message_add(&ctx, "first", runner_payload(&ctx));
	runner_message_add(&ctx, text, NULL);
	free(text);
	CU_ASSERT_EQUAL(ctx.nmessages, 2);
	CU_ASSERT_STRING_EQUAL(ctx.messages->content, "first");
	CU_ASSERT_STRING_EQUAL(ctx.messages->data, "{\"n\":1}");
	const char *cut = ctx.messages->next->content;
	CU_ASSERT_EQUAL(strlen(cut), 60000 + strlen(" …"));
	CU_ASSERT(strcmp(cut + 60000, " …") == 0);
	CU_ASSERT_PTR_NULL(ctx.messages->next->data);
	/* The first failure reason stays. */
	CU_ASSERT_EQUAL(runner_fail(&ctx, "first %d", 1), -1);
	runner_fail(&ctx, "second");
	CU_ASSERT_STRING_EQUAL(ctx.error, "first 1");
	runner_set_output(&ctx, json_pack("{s:b}", "ok", 1));
	CU_ASSERT(json_is_true(json_object_get(ctx.output, "ok")));
	/* A cron run has no payload. */
	runner_init(&ctx, a, &cfg, &run, NULL, NULL);
	CU_ASSERT_PTR_NULL(runner_payload(&ctx));
	CU_ASSERT_PTR_NOT_NULL(runner_find("echo"));
	CU_ASSERT_PTR_NOT_NULL(runner_find("http_request"));
	CU_ASSERT_PTR_NOT_NULL(runner_find("weather_check"));
	CU_ASSERT_PTR_NULL(runner_find("teleport"));
	/* Every agent type has a runner. */
	for (int i = 0; i < AGENTTYPES_COUNT; i++)
		CU_ASSERT_PTR_NOT_NULL(runner_find(AGENTTYPES[i].name));
	arena_free(a);
	json_decref(input);
}

static void test_echo_runner(void)
{
	settings cfg = {.run_timeout_seconds = 30};
	run_row run = {.id = "run_x"};
	arena *a = arena_new();
	runner_ctx ctx;
	json_t *input = json_pack("{s:s, s:{s:s}}", "type", "t", "payload", "k", "v");
	json_t *conf = json_pack("{s:s}", "message", "hi");
	json_t *empty = json_object();
	runner_init(&ctx, a, &cfg, &run, input, conf);
	CU_ASSERT_EQUAL(agent_echo_run(&ctx), 0);
	CU_ASSERT_STRING_EQUAL(ctx.messages->content, "hi {\"k\":\"v\"}");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(ctx.output, "echo"), "k")), "v");
	runner_init(&ctx, a, &cfg, &run, input, empty);
	CU_ASSERT_EQUAL(agent_echo_run(&ctx), 0);
	CU_ASSERT_STRING_EQUAL(ctx.messages->content, "{\"k\":\"v\"}");
	runner_init(&ctx, a, &cfg, &run, NULL, conf);
	CU_ASSERT_EQUAL(agent_echo_run(&ctx), 0);
	CU_ASSERT_STRING_EQUAL(ctx.messages->content, "hi");
	CU_ASSERT(json_is_null(json_object_get(ctx.output, "echo")));
	arena_free(a);
	json_decref(input);
	json_decref(conf);
	json_decref(empty);
}

/* Validates CONFIG (JSON text) for TYPE: 0, or -1 with the error's param in PARAM. */
static int check(const char *type, const char *config, const char **param)
{
	static verr e;
	json_t *c = json_loads(config, 0, NULL);
	int rc = agenttype_find(type)->validate(c, &e);
	json_decref(c);
	*param = rc == 0 ? "" : e.param;
	return rc;
}

static void test_validators(void)
{
	static const struct {
		const char *type, *config, *param; /* param "" when valid */
	} CASES[] = {
		{"weather_check", "{\"location\":\"Berlin\"}", ""},
		{"weather_check", "{\"latitude\":52.52,\"longitude\":13.4,\"units\":\"imperial\"}", ""},
		{"weather_check", "{\"location\":\"Berlin\",\"alert\":{\"rain_probability_above\":50,\"temperature_above\":30,"
				  "\"temperature_below\":-5}}",
		 ""},
		{"weather_check", "{}", "config.location"},
		{"weather_check", "{\"latitude\":52.52}", "config.longitude"},
		{"weather_check", "{\"longitude\":13.4}", "config.latitude"},
		{"weather_check", "{\"location\":\"Berlin\",\"latitude\":52.52}", "config.latitude"},
		{"weather_check", "{\"latitude\":91,\"longitude\":13.4}", "config.latitude"},
		{"weather_check", "{\"latitude\":\"52\",\"longitude\":13.4}", "config.latitude"},
		{"weather_check", "{\"latitude\":52,\"longitude\":181}", "config.longitude"},
		{"weather_check", "{\"location\":\"Berlin\",\"alert\":{}}", "config.alert"},
		{"weather_check", "{\"location\":\"Berlin\",\"alert\":true}", "config.alert"},
		{"weather_check", "{\"location\":\"Berlin\",\"alert\":{\"snow\":1}}", "config.alert.snow"},
		{"weather_check", "{\"location\":\"Berlin\",\"alert\":{\"rain_probability_above\":101}}",
		 "config.alert.rain_probability_above"},
		{"weather_check", "{\"location\":\"Berlin\",\"alert\":{\"temperature_below\":\"0\"}}",
		 "config.alert.temperature_below"},
		{"weather_check", "{\"location\":\"Berlin\",\"units\":\"kelvin\"}", "config.units"},
		{"http_request", "{\"url\":\"https://example.com/\",\"fail_on_status\":true}", ""},
		{"http_request", "{\"url\":\"https://example.com/\",\"method\":\"POST\",\"body\":\"x\"}", ""},
		{"http_request", "{\"url\":\"https://example.com/\",\"fail_on_status\":\"yes\"}", "config.fail_on_status"},
		{"http_request", "{\"url\":\"https://example.com/\",\"body\":\"x\"}", "config.body"},
		{"http_request", "{\"url\":\"https://example.com/\",\"method\":\"HEAD\",\"body\":\"x\"}", "config.body"},
	};
	for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
		const char *param;
		int rc = check(CASES[i].type, CASES[i].config, &param);
		if (strcmp(param, CASES[i].param) != 0)
			fprintf(stderr, "\n%s %s: param '%s', want '%s'\n", CASES[i].type, CASES[i].config, param,
				CASES[i].param);
		CU_ASSERT_EQUAL(rc, CASES[i].param[0] ? -1 : 0);
		CU_ASSERT_STRING_EQUAL(param, CASES[i].param);
	}
}

static void test_worker_slot(void)
{
	worker_slot s;
	char id[IDS_MAX_LEN];
	int64_t since = -5;
	memset(&s, 0, sizeof s);
	CU_ASSERT_EQUAL(worker_slot_get(&s, id, &since), 0);
	worker_slot_set(&s, "run_00VcHPxSo5rOqOVycMpYdlBpp");
	CU_ASSERT_EQUAL(worker_slot_get(&s, id, &since), 1);
	CU_ASSERT_STRING_EQUAL(id, "run_00VcHPxSo5rOqOVycMpYdlBpp");
	CU_ASSERT(since > 0);
	worker_slot_set(&s, NULL);
	CU_ASSERT_EQUAL(worker_slot_get(&s, id, &since), 0);
	CU_ASSERT_STRING_EQUAL(id, "");
}

static void test_retry_schedule(void)
{
	long d[8];
	CU_ASSERT_EQUAL(deliveries_parse_schedule("5,30,120,600,3600,18000,36000", d, 8), 7);
	CU_ASSERT_EQUAL(d[0], 5);
	CU_ASSERT_EQUAL(d[6], 36000);
	CU_ASSERT_EQUAL(deliveries_parse_schedule("1", d, 8), 1);
	const char *bad[] = {"", "0", "1,,2", "1,", ",1", "-1", "1 ,2", "x", "1,2,3,4,5,6,7,8,9", "604801", NULL};
	for (int i = 0; bad[i]; i++)
		CU_ASSERT_EQUAL(deliveries_parse_schedule(bad[i], d, 8), -1);
	CU_ASSERT_EQUAL(deliveries_parse_schedule(NULL, d, 8), -1);
	/* +-20% jitter around each entry; past the last entry there is no retry. */
	long s[] = {5, 30};
	for (int i = 0; i < 200; i++) {
		long long a = deliveries_retry_in_ms(s, 2, 1), b = deliveries_retry_in_ms(s, 2, 2);
		CU_ASSERT(a >= 4000 && a <= 6000);
		CU_ASSERT(b >= 24000 && b <= 36000);
	}
	CU_ASSERT_EQUAL(deliveries_retry_in_ms(s, 2, 3), -1);
	CU_ASSERT_EQUAL(deliveries_retry_in_ms(s, 2, 0), -1);
}

int test_scheduler_suite(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"WMO weather codes in words", test_wmo_words},
		{"geocoding answers: result, none, garbage", test_parse_place},
		{"forecast answers: numbers, null rain, garbage", test_parse_forecast},
		{"the display line: rounding, units, unknown codes", test_describe},
		{"alert conditions", test_alert},
		{"query escaping", test_escape},
		{"cron plan: catch-up, next from now, zones", test_cron_plan},
		{"response text made valid UTF-8", test_runner_text},
		{"runner context: messages, output, failure", test_runner_ctx},
		{"echo runner", test_echo_runner},
		{"agent type validators (weather, http_request)", test_validators},
		{"worker slot", test_worker_slot},
		{"webhook retry schedule and jitter", test_retry_schedule},
	};
	CU_pSuite suite = CU_add_suite("scheduler", NULL, NULL);
	if (!suite)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
