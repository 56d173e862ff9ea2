/* caldav: REPORT calendar-query through httpc, then davxml and ical; the connection-level entry points. */
#include "caldav.h"

#include "crypto.h"
#include "davxml.h"
#include "httpc.h"
#include "ids.h"
#include "log.h"
#include "store_connection.h"
#include "store_credential.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int caldav_url_check(const char *url, char *err, size_t errlen)
{
	size_t n = url ? strlen(url) : 0;
	size_t skip = n >= 8 && strncmp(url, "https://", 8) == 0 ? 8 : n >= 7 && strncmp(url, "http://", 7) == 0 ? 7 : 0;
	if (skip == 0 || n > 2048 || n == skip || url[skip] == '/') {
		snprintf(err, errlen, "the URL must be an http or https URL with a host, of at most 2048 characters");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f) {
			snprintf(err, errlen, "the URL must not contain spaces, control or non-ASCII characters");
			return -1;
		}
	/* Secrets belong in the credential: user:password@ in the URL would be stored and shown in the clear. */
	size_t host_len = strcspn(url + skip, "/?#");
	if (memchr(url + skip, '@', host_len)) {
		snprintf(err, errlen, "the URL must not contain a user name or password (use the credential)");
		return -1;
	}
	return 0;
}

/* "YYYYMMDDThhmmssZ" of T (CalDAV time-range and expand attributes are UTC date-times). */
static void ical_utc(int64_t t, char out[17])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int caldav_fetch(arena *a, const char *url, const caldav_auth *auth, int64_t from, int64_t to, long timeout_ms,
		 int allow_private, ical_list *l, int *auth_failed, char *err, size_t errlen)
{
	char s[17], e[17], reason[200];
	int64_t deadline = util_now_ms() + timeout_ms;
	*auth_failed = 0;
	ical_utc(from, s);
	ical_utc(to, e);
	char *body = arena_printf(
		a,
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\n"
		" <D:prop>\n  <D:getetag/>\n  <C:calendar-data>\n   <C:expand start=\"%s\" end=\"%s\"/>\n"
		"  </C:calendar-data>\n </D:prop>\n"
		" <C:filter>\n  <C:comp-filter name=\"VCALENDAR\">\n   <C:comp-filter name=\"VEVENT\">\n"
		"    <C:time-range start=\"%s\" end=\"%s\"/>\n   </C:comp-filter>\n  </C:comp-filter>\n </C:filter>\n"
		"</C:calendar-query>\n",
		s, e, s, e);

	const char *authz = NULL;
	if (auth && auth->token) {
		authz = arena_printf(a, "Authorization: Bearer %s", auth->token);
	} else if (auth && auth->username) {
		char *pair = arena_printf(a, "%s:%s", auth->username, auth->password ? auth->password : "");
		size_t pl = strlen(pair);
		char *b64 = arena_alloc(a, 4 * ((pl + 2) / 3) + 1);
		crypto_b64_encode((const unsigned char *)pair, pl, b64);
		explicit_bzero(pair, pl);
		authz = arena_printf(a, "Authorization: Basic %s", b64);
	}
	const char *headers[] = {"Content-Type: application/xml; charset=utf-8", "Depth: 1",
				 "Accept: application/xml, text/xml", authz, NULL};
	httpc_request req = {
		.method = "REPORT",
		.url = url,
		.headers = headers,
		.body = body,
		.body_len = strlen(body),
		.timeout_ms = timeout_ms,
		.max_response_bytes = CALDAV_MAX_RESPONSE,
		.allow_private = allow_private,
	};
	httpc_response resp;
	if (httpc_do(a, &req, &resp, reason, sizeof reason) != 0) {
		snprintf(err, errlen, "the calendar server could not be reached: %s", reason);
		return -1;
	}
	if (resp.status == 401 || resp.status == 403) {
		*auth_failed = 1;
		snprintf(err, errlen, "the calendar server refused the connection's credentials (HTTP %ld)", resp.status);
		return -1;
	}
	if (resp.status == 404) {
		snprintf(err, errlen, "no calendar was found at the connection's URL (HTTP 404)");
		return -1;
	}
	if (resp.status != 207) {
		snprintf(err, errlen, "the calendar server answered HTTP %ld instead of a multistatus (207)", resp.status);
		return -1;
	}
	return caldav_read(a, resp.body, resp.body_len, from, to, deadline, l, err, errlen);
}

int caldav_read(arena *a, const char *body, size_t len, int64_t from, int64_t to, int64_t deadline_ms, ical_list *l,
		char *err, size_t errlen)
{
	char reason[200];
	davxml_item *items;
	int n;
	if (davxml_multistatus(a, body, len, CALDAV_MAX_OBJECTS, &items, &n, reason, sizeof reason) != 0) {
		snprintf(err, errlen, "the calendar server's answer could not be read: %s", reason);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		/* The answer is read within the same time limit as the request: the rest of the objects are left out. */
		if (i > 0 && util_now_ms() >= deadline_ms) {
			l->truncated = 1;
			break;
		}
		if (ical_collect(a, items[i].calendar_data, items[i].data_len, from, to, l, reason, sizeof reason) != 0) {
			snprintf(err, errlen, "a calendar object (%.200s) could not be read: %s",
				 items[i].href ? items[i].href : "no href", reason);
			return -1;
		}
	}
	ical_sort(l);
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_json(int64_t t, int all_day)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof buf, all_day ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *caldav_events_json(const ical_list *l, int max)
{
	json_t *arr = json_array();
	for (int i = 0; i < l->n && i < max; i++) {
		const ical_event *x = &l->ev[i];
		json_t *o = json_object();
		json_object_set_new(o, "summary", str_or_null(x->summary));
		json_object_set_new(o, "start", time_json(x->start, x->all_day));
		json_object_set_new(o, "end", time_json(x->end, x->all_day));
		json_object_set_new(o, "all_day", json_boolean(x->all_day));
		json_object_set_new(o, "timezone", str_or_null(x->zone ? x->zone : x->tzid));
		json_object_set_new(o, "location", str_or_null(x->location));
		json_object_set_new(o, "uid", str_or_null(x->uid));
		json_object_set_new(o, "recurring", json_boolean(x->recurring));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Records the outcome of a use on the connection (failures to record are logged: the caller's answer stands). */
static void record(db *d, arena *a, const char *account_id, const char *id, const char *error)
{
	enum store_result res = store_connection_record(d, a, account_id, id, error);
	if (res != STORE_OK)
		log_warn("connection %s: its status could not be recorded (store result %d)", id, (int)res);
}

static void json_release(void *p)
{
	json_decref(p);
}

int calendar_events(db *d, arena *a, const settings *cfg, const char *account_id, const char *conn_id, int64_t from,
		    int64_t to, int max, long timeout_ms, json_t **out, int *not_found, char *err, size_t errlen)
{
	connection_row c;
	*out = NULL;
	*not_found = 0;
	if (to <= from || to - from > (int64_t)CALDAV_MAX_RANGE_DAYS * 86400) {
		snprintf(err, errlen, "the time range must be positive and at most %d days", CALDAV_MAX_RANGE_DAYS);
		return -1;
	}
	if (max < 1 || max > CALDAV_MAX_EVENTS)
		max = CALDAV_MAX_EVENTS;
	enum store_result res = ids_valid("conn_", conn_id) ? store_connection_get(d, a, account_id, conn_id, &c)
							    : STORE_NOT_FOUND;
	if (res == STORE_NOT_FOUND) {
		*not_found = 1;
		snprintf(err, errlen, "connection %.40s not found", conn_id);
		return -1;
	}
	if (res != STORE_OK) {
		snprintf(err, errlen, "the connection could not be loaded (the database is unavailable)");
		return -1;
	}
	if (strcmp(c.provider, CONNECTION_PROVIDER_CALDAV) != 0 || !c.url || !c.credential_id) {
		snprintf(err, errlen, "connection %s: provider %.40s cannot list events", c.id, c.provider);
		return -1;
	}
	const char *type;
	json_t *fields = NULL;
	res = store_credential_use(d, a, cfg, account_id, c.credential_id, &type, &fields);
	if (res == STORE_OK)
		arena_defer(a, json_release, fields);
	const char *problem = res == STORE_NOT_FOUND ? "the connection's credential no longer exists"
			      : res == STORE_CONFLICT ? "the connection's credential was revoked"
			      : res != STORE_OK       ? NULL
			      : strcmp(type, "basic_auth") != 0 && strcmp(type, "bearer_token") != 0
				      ? "the connection's credential is not a basic_auth or bearer_token credential"
				      : NULL;
	if (problem) {
		snprintf(err, errlen, "connection %s: %s", c.id, problem);
		record(d, a, account_id, c.id, problem);
		return -1;
	}
	if (res != STORE_OK) {
		snprintf(err, errlen, "connection %s: its credential could not be opened", c.id);
		return -1;
	}
	caldav_auth auth = {0};
	if (strcmp(type, "bearer_token") == 0)
		auth.token = json_string_value(json_object_get(fields, "token"));
	else {
		auth.username = json_string_value(json_object_get(fields, "username"));
		auth.password = json_string_value(json_object_get(fields, "password"));
	}
	ical_list l;
	memset(&l, 0, sizeof l);
	int auth_failed;
	char why[600];
	if (caldav_fetch(a, c.url, &auth, from, to, timeout_ms, cfg->allow_private_addresses, &l, &auth_failed, why,
			 sizeof why) != 0) {
		record(d, a, account_id, c.id, why);
		snprintf(err, errlen, "connection %s: %s", c.id, why);
		return -1;
	}
	record(d, a, account_id, c.id, NULL);
	if (l.truncated || l.unsupported)
		log_info("connection %s: %d events%s%s", c.id, l.n, l.truncated ? ", cut at the bound" : "",
			 l.unsupported ? ", a recurrence rule was not expanded" : "");
	*out = caldav_events_json(&l, max);
	return 0;
}

int calendar_connection_ids(db *d, arena *a, const char *account_id, int max, char ***ids, int *n)
{
	return store_connection_ids(d, a, account_id, max, ids, n) == STORE_OK ? 0 : -1;
}
