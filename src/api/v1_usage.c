/* v1_usage: GET /usage: requests (per key), runs, run time, signals, deliveries, MCP tool calls, per UTC day and in total. */
#include "handlers.h"
#include "log.h"
#include "store_usage.h"
#include "usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USAGE_DEFAULT_DAYS 30
#define USAGE_MAX_DAYS 366

static const char *const RUN_STATUSES[] = {"queued", "running", "waiting_approval", "succeeded",
					   "failed", "rejected", "expired",          "cancelled"};
#define NSTATUS ((int)(sizeof RUN_STATUSES / sizeof RUN_STATUSES[0]))

/* Days since 1970-01-01 of the calendar date TEXT (exactly YYYY-MM-DD, a real date), or -1. */
static long parse_day(const char *text)
{
	if (strlen(text) != 10)
		return -1;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? text[i] != '-' : (text[i] < '0' || text[i] > '9'))
			return -1;
	int y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
	int m = (text[5] - '0') * 10 + (text[6] - '0'), d = (text[8] - '0') * 10 + (text[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return -1;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
	return (long)(timegm(&tm) / 86400);
}

static void format_day(long day, char out[11])
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	/* strftime: its output length is bounded by the format, so the 10-character day always fits */
	if (strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		out[0] = '\0';
}

/* One day's figures (or the totals). */
typedef struct figures {
	long long requests, run_time_ms, signals, deliveries_succeeded, deliveries_failed, mcp_tool_calls;
	long long runs[NSTATUS];
	json_t *keys; /* key id -> requests */
} figures;

static void add_requests(figures *f, const char *key_id, long long n)
{
	f->requests += n;
	json_t *v = json_object_get(f->keys, key_id);
	json_object_set_new(f->keys, key_id, json_integer((v ? json_integer_value(v) : 0) + n));
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The figures as JSON; DATE: the day, or NULL for the totals. */
static json_t *figures_json(arena *a, const figures *f, const char *date)
{
	size_t nk = json_object_size(f->keys), i = 0;
	const char **ids = arena_alloc(a, (nk ? nk : 1) * sizeof *ids);
	const char *k;
	json_t *v;
	json_object_foreach(f->keys, k, v)
		ids[i++] = k;
	qsort(ids, nk, sizeof *ids, cmp_str);
	json_t *by_key = json_array();
	for (i = 0; i < nk; i++)
		json_array_append_new(by_key, json_pack("{s:s, s:I}", "api_key_id", ids[i], "requests",
							(json_int_t)json_integer_value(json_object_get(f->keys, ids[i]))));
	json_t *runs = json_object();
	for (int s = 0; s < NSTATUS; s++)
		json_object_set_new(runs, RUN_STATUSES[s], json_integer(f->runs[s]));
	json_t *j = json_pack("{s:I, s:o, s:o, s:I, s:I, s:{s:I, s:I}}", "api_requests", (json_int_t)f->requests,
			      "api_requests_by_key", by_key, "runs", runs, "run_time_ms", (json_int_t)f->run_time_ms,
			      "signals", (json_int_t)f->signals, "webhook_deliveries", "succeeded",
			      (json_int_t)f->deliveries_succeeded, "failed", (json_int_t)f->deliveries_failed);
	json_object_set_new(j, "mcp_tool_calls", json_integer(f->mcp_tool_calls));
	if (date)
		json_object_set_new(j, "date", json_string(date));
	return j;
}

/* The figure slot of DAY (yyyy-mm-dd) in FIG[0..n), FIRST being day 0; NULL outside. */
static figures *slot(figures *fig, int n, long first, const char *day)
{
	long d = day ? parse_day(day) : -1;
	return d >= first && d < first + n ? &fig[d - first] : NULL;
}

/* Counts not yet in usage_daily: live hashes, and flush keys the snapshot does not show as applied. */
static int add_redis_counts(request *r, figures *fig, int n, long first, figures *total)
{
	usage_count *c;
	int nc;
	if (usage_read_redis(r->app->kv, r->a, r->account_id, &c, &nc) != 0) {
		log_warn("request %s: Redis unavailable: usage shows flushed API request counts only", r->request_id);
		return 0;
	}
	for (int i = 0; i < nc; i++) {
		figures *f = slot(fig, n, first, c[i].day);
		if (!f)
			continue;
		if (c[i].flush_id[0]) {
			int applied;
			enum store_result res = store_usage_flush_applied(r->app->db, r->a, c[i].flush_id, &applied);
			if (res != STORE_OK)
				return req_fail_store(r, res, NULL);
			if (applied)
				continue;
		}
		add_requests(f, c[i].key_id, c[i].requests);
		add_requests(total, c[i].key_id, c[i].requests);
	}
	return 0;
}

/* Reads everything inside one transaction: usage_daily first (its snapshot is then fixed), Redis next, and
 * the flush records of the keys Redis still holds from the same snapshot, so each request counts once. */
static int collect(request *r, const char *from, const char *to, figures *fig, int n, long first, figures *total)
{
	db *d = r->app->db;
	usage_day_key *req;
	usage_day_status *runs, *dlv;
	usage_day_value *rt, *sig, *mcp;
	int nreq, nruns, nrt, nsig, ndlv, nmcp;
	enum store_result res = db_begin(d);
	if (res == STORE_OK)
		res = store_usage_requests(d, r->a, r->account_id, from, to, &req, &nreq);
	if (res == STORE_OK)
		res = store_usage_runs(d, r->a, r->account_id, from, to, &runs, &nruns);
	if (res == STORE_OK)
		res = store_usage_run_time(d, r->a, r->account_id, from, to, &rt, &nrt);
	if (res == STORE_OK)
		res = store_usage_signals(d, r->a, r->account_id, from, to, &sig, &nsig);
	if (res == STORE_OK)
		res = store_usage_deliveries(d, r->a, r->account_id, from, to, &dlv, &ndlv);
	if (res == STORE_OK)
		res = store_usage_mcp_tool_calls(d, r->a, r->account_id, from, to, &mcp, &nmcp);
	if (res != STORE_OK) {
		db_rollback(d);
		return req_fail_store(r, res, NULL);
	}
	for (int i = 0; i < nreq; i++) {
		figures *f = slot(fig, n, first, req[i].day);
		if (f) {
			add_requests(f, req[i].key_id, req[i].requests);
			add_requests(total, req[i].key_id, req[i].requests);
		}
	}
	for (int i = 0; i < nruns; i++) {
		figures *f = slot(fig, n, first, runs[i].day);
		for (int s = 0; f && s < NSTATUS; s++)
			if (runs[i].status && strcmp(runs[i].status, RUN_STATUSES[s]) == 0) {
				f->runs[s] += runs[i].count;
				total->runs[s] += runs[i].count;
			}
	}
	for (int i = 0; i < nrt; i++) {
		figures *f = slot(fig, n, first, rt[i].day);
		if (f) {
			f->run_time_ms += rt[i].value;
			total->run_time_ms += rt[i].value;
		}
	}
	for (int i = 0; i < nsig; i++) {
		figures *f = slot(fig, n, first, sig[i].day);
		if (f) {
			f->signals += sig[i].value;
			total->signals += sig[i].value;
		}
	}
	for (int i = 0; i < nmcp; i++) {
		figures *f = slot(fig, n, first, mcp[i].day);
		if (f) {
			f->mcp_tool_calls += mcp[i].value;
			total->mcp_tool_calls += mcp[i].value;
		}
	}
	for (int i = 0; i < ndlv; i++) {
		figures *f = slot(fig, n, first, dlv[i].day);
		if (!f || !dlv[i].status)
			continue;
		int ok = strcmp(dlv[i].status, "succeeded") == 0;
		*(ok ? &f->deliveries_succeeded : &f->deliveries_failed) += dlv[i].count;
		*(ok ? &total->deliveries_succeeded : &total->deliveries_failed) += dlv[i].count;
	}
	int rc = add_redis_counts(r, fig, n, first, total);
	db_rollback(d); /* read only */
	return rc;
}

int v1_usage_get(request *r)
{
	const char *from_q = req_query(r, "from"), *to_q = req_query(r, "to");
	long today = (long)(time(NULL) / 86400), from, to;
	to = to_q ? parse_day(to_q) : today;
	if (to < 0)
		return req_fail_param(r, ERR_QUERY_INVALID, "to", "to must be a date YYYY-MM-DD");
	from = from_q ? parse_day(from_q) : to - (USAGE_DEFAULT_DAYS - 1);
	if (from < 0)
		return req_fail_param(r, ERR_QUERY_INVALID, "from", "from must be a date YYYY-MM-DD");
	if (from > to)
		return req_fail_param(r, ERR_QUERY_INVALID, "from", "from must not be after to");
	if (to - from + 1 > USAGE_MAX_DAYS)
		return req_fail_param(r, ERR_QUERY_INVALID, "from", "the range from..to may span at most 366 days");

	int n = (int)(to - from + 1);
	char from_s[11], to_s[11];
	format_day(from, from_s);
	format_day(to, to_s);
	figures *fig = arena_alloc(r->a, (size_t)n * sizeof *fig), total = {0};
	memset(fig, 0, (size_t)n * sizeof *fig);
	total.keys = req_keep(r, json_object());
	for (int i = 0; i < n; i++)
		fig[i].keys = req_keep(r, json_object());
	if (collect(r, from_s, to_s, fig, n, from, &total) != 0)
		return -1;

	json_t *days = json_array();
	for (int i = 0; i < n; i++) {
		char day[11];
		format_day(from + i, day);
		json_array_append_new(days, figures_json(r->a, &fig[i], day));
	}
	return req_respond_data(r, 200, json_pack("{s:s, s:s, s:o, s:o}", "from", from_s, "to", to_s, "totals",
						  figures_json(r->a, &total, NULL), "days", days));
}
