/* caldav: the CalDAV client (RFC 4791): the events of a connection's calendar in a time range. */
#ifndef AP_CALDAV_H
#define AP_CALDAV_H

#include "arena.h"
#include "db.h"
#include "ical.h"
#include "settings.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CALDAV_MAX_RESPONSE ((size_t)4 << 20) /* bytes of one REPORT answer */
#define CALDAV_MAX_OBJECTS 2000               /* calendar objects in one answer */
#define CALDAV_MAX_EVENTS 500                 /* events one call returns at most */
#define CALDAV_MAX_RANGE_DAYS 366             /* the widest FROM..TO window */

/* How the client authenticates: basic (USERNAME, PASSWORD) or bearer (TOKEN). Never logged or returned. */
typedef struct caldav_auth {
	const char *username, *password; /* basic_auth */
	const char *token;               /* bearer_token */
} caldav_auth;

/* 0 when URL is acceptable as a connection's calendar URL (http or https, a host, at most 2048 bytes, no spaces
 * or control characters, no user:password@), else -1 with a readable reason in ERR. The outbound guard still applies at use. */
int caldav_url_check(const char *url, char *err, size_t errlen);

/* Asks the calendar collection at URL for the VEVENTs overlapping [FROM, TO) (epoch seconds): one REPORT
 * calendar-query (Depth: 1) with a time-range filter, asking the server to expand recurrences (servers that
 * do not are expanded by ical_collect), through httpc (the outbound guard; ALLOW_PRIVATE is the server-side
 * setting) within TIMEOUT_MS. Appends the instances to L (sorted). The answer's objects are read within the same
 * TIMEOUT_MS (counted from the call) and L's work budget (ICAL_MAX_WORK): when either runs out, the objects or
 * recurrences not yet read are left out and L->truncated is set. Returns 0, or -1 with a readable reason in
 * ERR (no secrets): the server unreachable, credentials refused (401/403), no calendar there (404), another
 * status, or an answer that is not a readable multistatus of iCalendar objects. *AUTH_FAILED is set for 401/403. */
int caldav_fetch(arena *a, const char *url, const caldav_auth *auth, int64_t from, int64_t to, long timeout_ms,
		 int allow_private, ical_list *l, int *auth_failed, char *err, size_t errlen);

/* Reads BODY (LEN bytes of a REPORT answer: a multistatus of calendar objects) into L as caldav_fetch does: the
 * instances overlapping [FROM, TO), sorted. Objects after the first are read only while util_now_ms() is before
 * DEADLINE_MS; the rest are left out and L->truncated set. Returns 0, or -1 with a readable reason in ERR. */
int caldav_read(arena *a, const char *body, size_t len, int64_t from, int64_t to, int64_t deadline_ms, ical_list *l,
		char *err, size_t errlen);

/* The first MAX instances of sorted L as a new JSON array of event objects: summary, start, end (RFC 3339 UTC;
 * all-day events as dates, end exclusive), all_day, timezone (the IANA zone the TZID names, else the TZID as
 * written, or null for UTC, floating and all-day times), location, uid, recurring. */
json_t *caldav_events_json(const ical_list *l, int max);

/* Events of connection CONN_ID of ACCOUNT_ID between FROM and TO (epoch seconds), at most MAX, within TIMEOUT_MS:
 * loads the connection and its credential, fetches, parses; updates status/last_error/last_synced_at.
 * Returns 0 with *OUT (a new JSON array of event objects), or -1 with a readable ERR (no secrets, no internals)
 * and *NOT_FOUND set when the connection is absent or another account's. */
int calendar_events(db *d, arena *a, const settings *cfg, const char *account_id, const char *conn_id, int64_t from,
		    int64_t to, int max, long timeout_ms, json_t **out, int *not_found, char *err, size_t errlen);

/* The ids of ACCOUNT_ID's connections (newest first, at most MAX; those in status error too, so that a use
 * retries them and reports why they fail) into *IDS (arena). Returns 0, or -1 when the database failed. */
int calendar_connection_ids(db *d, arena *a, const char *account_id, int max, char ***ids, int *n);

#endif
