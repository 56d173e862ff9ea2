/* ical: the VEVENTs of iCalendar text (RFC 5545), recurrences expanded, as instances in a time range. */
#ifndef AP_ICAL_H
#define AP_ICAL_H

#include "arena.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ICAL_MAX_BYTES ((size_t)1 << 20) /* one calendar object */
#define ICAL_MAX_LINE 16384               /* bytes of one unfolded content line */
#define ICAL_MAX_DEPTH 8                  /* BEGIN/END nesting */
#define ICAL_MAX_EVENTS 1000              /* VEVENT components of one object */
#define ICAL_MAX_PERIODS 20000            /* recurrence periods walked per recurring event */
#define ICAL_MAX_INSTANCES 5000           /* instances one list holds at most */
#define ICAL_MAX_WORK 2000000L            /* work units one list may spend expanding (see ical_list.work) */

/* One event instance. Strings are in the arena (UTF-8, unescaped) or NULL when absent. */
typedef struct ical_event {
	char *uid, *summary, *location;
	char *tzid;        /* the DTSTART's TZID as written, or NULL (UTC, floating or all-day) */
	char *zone;        /* the IANA zone TZID was resolved to (NULL when none: times taken as UTC) */
	int all_day;       /* DTSTART is a DATE: START/END are midnights UTC of the dates, END exclusive */
	int floating;      /* a local time without zone: taken as UTC */
	int recurring;     /* an instance of a recurring event (expanded here or by the server) */
	int64_t start, end; /* epoch seconds; END >= START */
} ical_event;

/* Instances collected from one or more calendar objects. Zero-initialize, then call ical_collect. */
typedef struct ical_list {
	ical_event *ev; /* arena */
	int n, cap;
	int truncated;  /* more than ICAL_MAX_INSTANCES overlapped, or a recurrence walk was cut (at ICAL_MAX_PERIODS
			 * periods of one event, or when WORK reached ICAL_MAX_WORK), or the caller stopped early */
	long long work; /* expansion work spent on this list, across every ical_collect call: a unit per day
			 * of a recurrence period looked at, per month counted, per event emitted, per override
			 * matched; at ICAL_MAX_WORK the remaining events and periods are skipped */
	int unsupported; /* a recurrence rule used parts this reader does not expand (its first instance is kept) */
} ical_list;

/* Parses the LEN bytes of TEXT (one VCALENDAR, as a CalDAV server returns a calendar object) and appends
 * to L every VEVENT instance overlapping [FROM, TO) (epoch seconds): lines are unfolded, text values
 * unescaped, DATE and DATE-TIME values read (UTC "Z", TZID zones known to the system's zoneinfo,
 * Windows zone names mapped to
 * their IANA zones, other TZIDs read with the object's VTIMEZONE (yearly STANDARD/DAYLIGHT rules), floating
 * times and zones defined nowhere taken as UTC), DTEND or DURATION give the end. A master with RRULE is expanded here
 * (FREQ DAILY, WEEKLY, MONTHLY, YEARLY with INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH;
 * RDATE date and date-time lists; EXDATE; instances overridden by a RECURRENCE-ID component of the same UID
 * are replaced by it);
 * instances a server already expanded pass through. Cancelled events are left out. Returns 0, or -1
 * with a short reason in ERR for text that is not iCalendar (bad nesting, a line without ':', a
 * malformed date, over the bounds above). Switches the TZ environment variable while it runs and
 * restores it (not thread-safe). */
int ical_collect(arena *a, const char *text, size_t len, int64_t from, int64_t to, ical_list *l, char *err,
		 size_t errlen);

/* Sorts L's instances by start, then end, then summary. */
void ical_sort(ical_list *l);

/* The wall-clock time of instant T in IANA zone ZONE (NULL: UTC) into *OUT. Returns 0 or -1. Switches TZ
 * like ical_collect. */
int ical_local_time(int64_t t, const char *zone, struct tm *out);

#endif
