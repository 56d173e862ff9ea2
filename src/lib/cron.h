/* cron: five-field cron expressions (Vixie semantics) and their next due instant in an IANA zone. */
#ifndef AP_CRON_H
#define AP_CRON_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>

/* Longest accepted expression text, in bytes. */
#define CRON_TEXT_MAX 100
/* Longest accepted timezone name, in bytes. */
#define CRON_TZ_MAX 64

typedef struct cron_expr {
	uint64_t minutes;   /* bit m set: minute m (0-59) */
	uint32_t hours;     /* 0-23 */
	uint32_t days;      /* bit d: day of month d (1-31) */
	uint16_t months;    /* bit m: month m (1-12) */
	uint8_t weekdays;   /* bit w: weekday w (0 = Sunday .. 6) ; 7 in input means Sunday */
	unsigned days_restricted : 1;     /* day-of-month field was not '*' */
	unsigned weekdays_restricted : 1; /* day-of-week field was not '*' */
} cron_expr;

/* Parses TEXT (5 fields separated by spaces/tabs). Returns 0, or -1 with a one-line human message in ERR
 * (e.g. "minute field: 61 is out of range 0-59").
 * Also accepts @yearly @annually @monthly @weekly @daily @midnight @hourly. A step must be at least
 * 1 and at most the span hi - lo of its range (step 60 over minutes 0-59 is rejected). OUT is
 * written only on success; ERR may be NULL. */
int cron_parse(const char *text, cron_expr *out, char *err, size_t errlen);

/* 1 if NAME is a valid IANA timezone name on this system ("UTC", "Europe/Berlin", "America/New_York"), else 0.
 * Valid: at most CRON_TZ_MAX bytes of letters, digits, "_+-/", no leading '/', no "..", naming a TZif file
 * under /usr/share/zoneinfo; "localtime" and the leap-second "right/" variants are refused. */
int cron_tz_valid(const char *name);

/* The first due instant strictly after AFTER, evaluating the expression in timezone TZ.
 * Returns 0 and sets *NEXT, or -1 if none within ~5 years (e.g. "0 0 30 2 *") or TZ is invalid.
 * A local time skipped by a DST gap runs once at the end of the gap (02:30 -> 03:00); a local time
 * repeated by a fall-back runs once, at its first occurrence. Sets TZ for the duration of the call
 * and restores the caller's value (not thread-safe). */
int cron_next(const cron_expr *c, const char *tz, time_t after, time_t *next);

/* Calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms), shared with the iCalendar reader:
 * days since 1970-01-01 of Y-M-D; the date of day Z; the number of days of month M of year Y. */
long long cron_days_from_civil(long long y, int m, int d);
void cron_civil_from_days(long long z, long long *y, int *m, int *d);
int cron_days_in_month(long long y, int m);

#endif
