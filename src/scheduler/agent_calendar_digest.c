/* agent_calendar_digest: the calendar_digest agent type: the upcoming events of a calendar connection as a
 * readable display message, and the events as the run's output. */
#include "caldav.h"
#include "cron.h"
#include "ical.h"
#include "rfc3339.h"
#include "runner.h"
#include "sbuf.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DIGEST_DEFAULT_DAYS 7
#define DIGEST_TIMEOUT_MS 30000L

/* Epoch seconds of "YYYY-MM-DD" (midnight UTC) or an RFC 3339 date-time; -1 when neither. */
static int64_t event_time(const char *s)
{
	int64_t ms;
	int y, m, d;
	char tail;
	if (!s)
		return -1;
	if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3)
		return (int64_t)cron_days_from_civil(y, m, d) * 86400;
	return rfc3339_parse_ms(s, &ms) == 0 ? ms / 1000 : -1;
}

/* "Tue 1 Dec 2026" of TM (C locale names). */
static void day_text(const struct tm *tm, char *out, size_t n)
{
	char wd[16], mon[16];
	strftime(wd, sizeof wd, "%a", tm);
	strftime(mon, sizeof mon, "%b", tm);
	snprintf(out, n, "%.3s %d %.3s %d", wd, tm->tm_mday, mon, tm->tm_year + 1900);
}

/* One line of the digest: "Tue 1 Dec 2026, 09:00-10:30 (Europe/Berlin): Team sync — Room 42". */
static void digest_line(sbuf *b, const json_t *ev)
{
	const char *summary = json_string_value(json_object_get(ev, "summary"));
	const char *location = json_string_value(json_object_get(ev, "location"));
	const char *zone = json_string_value(json_object_get(ev, "timezone"));
	int all_day = json_is_true(json_object_get(ev, "all_day"));
	int64_t start = event_time(json_string_value(json_object_get(ev, "start")));
	int64_t end = event_time(json_string_value(json_object_get(ev, "end")));
	char day[40], range[200];
	struct tm ts, te;
	if (!zone || !cron_tz_valid(zone))
		zone = NULL;
	if (all_day) {
		time_t t0 = (time_t)start, t1 = (time_t)(end > start ? end - 86400 : start);
		gmtime_r(&t0, &ts);
		gmtime_r(&t1, &te);
		day_text(&ts, day, sizeof day);
		if (t1 > t0) {
			char last[40];
			day_text(&te, last, sizeof last);
			snprintf(range, sizeof range, " to %s, all day", last);
		} else {
			snprintf(range, sizeof range, ", all day");
		}
	} else {
		if (ical_local_time(start, zone, &ts) != 0 || ical_local_time(end, zone, &te) != 0) {
			time_t t0 = (time_t)start, t1 = (time_t)end;
			gmtime_r(&t0, &ts);
			gmtime_r(&t1, &te);
			zone = NULL;
		}
		char a[16], z[80];
		day_text(&ts, day, sizeof day);
		strftime(a, sizeof a, "%H:%M", &ts);
		if (end > start && end - start < 86400 && te.tm_mday == ts.tm_mday)
			strftime(z, sizeof z, "-%H:%M", &te);
		else if (end > start) {
			char last[40], hm[16];
			day_text(&te, last, sizeof last);
			strftime(hm, sizeof hm, "%H:%M", &te);
			snprintf(z, sizeof z, " to %s %s", last, hm);
		} else {
			z[0] = '\0';
		}
		snprintf(range, sizeof range, ", %s%s (%s)", a, z, zone ? zone : "UTC");
	}
	sbuf_cstr(b, "- ");
	sbuf_cstr(b, day);
	sbuf_cstr(b, range);
	sbuf_cstr(b, ": ");
	sbuf_cstr(b, summary && summary[0] ? summary : "(no title)");
	if (location && location[0]) {
		sbuf_cstr(b, " — ");
		sbuf_cstr(b, location);
	}
	sbuf_cstr(b, "\n");
}

/* Policy: the window is now .. now + config.days_ahead days (an event in progress counts as upcoming); a
 * connection that is gone, refused credentials, an unreachable server or an unreadable answer fail the run
 * with the reason (also recorded on the connection). No events is a successful run. */
int agent_calendar_digest_run(runner_ctx *ctx)
{
	const char *conn = json_string_value(json_object_get(ctx->config, "connection_id"));
	const json_t *d = json_object_get(ctx->config, "days_ahead");
	int days = json_is_integer(d) ? (int)json_integer_value(d) : DIGEST_DEFAULT_DAYS;
	if (!conn)
		return runner_fail(ctx, "config.connection_id is missing");
	long left = runner_remaining_ms(ctx);
	if (left <= 0)
		return runner_fail(ctx, "the run exceeded its time limit of %d seconds", ctx->cfg->run_timeout_seconds);
	int64_t from = util_now_ms() / 1000, to = from + (int64_t)days * 86400;
	json_t *events;
	int not_found;
	char err[600];
	if (calendar_events(ctx->db, ctx->a, ctx->cfg, ctx->run->account_id, conn, from, to, CALDAV_MAX_EVENTS,
			    left < DIGEST_TIMEOUT_MS ? left : DIGEST_TIMEOUT_MS, &events, &not_found, err, sizeof err) != 0)
		return runner_fail(ctx, "%s", not_found ? "the agent's connection (config.connection_id) no longer exists" : err);
	runner_keep(ctx, events);

	char from_text[32], to_text[32];
	util_format_time_ms(from * 1000, from_text, sizeof from_text);
	util_format_time_ms(to * 1000, to_text, sizeof to_text);
	sbuf b;
	sbuf_init(&b, ctx->a, 1024);
	size_t n = json_array_size(events);
	char head[160];
	if (n == 0)
		snprintf(head, sizeof head, "No events in the next %d day%s.", days, days == 1 ? "" : "s");
	else
		snprintf(head, sizeof head, "%zu upcoming event%s in the next %d day%s:\n", n, n == 1 ? "" : "s", days,
			 days == 1 ? "" : "s");
	sbuf_cstr(&b, head);
	for (size_t i = 0; i < n; i++)
		digest_line(&b, json_array_get(events, i));
	if (b.len > 0 && b.buf[b.len - 1] == '\n')
		b.buf[--b.len] = '\0';
	runner_message_add(ctx, b.buf, NULL);
	runner_set_output(ctx, json_pack("{s:s, s:s, s:s, s:I, s:O}", "connection_id", conn, "from", from_text, "to",
					 to_text, "count", (json_int_t)n, "events", events));
	return 0;
}
