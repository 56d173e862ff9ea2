/* ical: a bounded iCalendar reader for VEVENTs, with the recurrence expansion a digest needs. */
#include "ical.h"

#include "cron.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ICAL_ZONEINFO_DIR "/usr/share/zoneinfo"
#define ICAL_MAX_EXDATES 1000
#define ICAL_MAX_OVERRIDES 1000
#define ICAL_MAX_VTIMEZONES 16
#define ICAL_MAX_OBSERVANCES 32

/* A DATE or DATE-TIME value as written: a wall clock, UTC, or a wall clock in a zone. */
typedef struct ical_dt {
	int y, mo, d, h, mi, s;
	int date_only, utc;
	char *tzid; /* as written */
	char *zone; /* resolved IANA zone, or NULL */
} ical_dt;

typedef struct ical_vevent {
	char *uid, *summary, *location, *status, *rrule;
	ical_dt start, end, rid;
	int has_start, has_end, has_rid, has_duration;
	int64_t duration; /* seconds */
	int64_t *exdates; /* UTC instants (all-day: midnights UTC) */
	int nex, capex;
	int64_t *rdates;  /* the same, of RDATE */
	int nrd, caprd;
} ical_vevent;

/* A STANDARD or DAYLIGHT observance of a VTIMEZONE (RFC 5545 3.6.5): from its onset DTSTART (local time) on,
 * repeating by RRULE, the zone is OFFSET_TO seconds east of UTC. */
typedef struct ical_obs {
	ical_dt start;
	int has_start, has_to;
	int offset_from, offset_to;
	char *rrule;
} ical_obs;

/* A VTIMEZONE of the calendar object: how its TZID is read when the system does not know that name. */
typedef struct ical_vtz {
	char *tzid;
	ical_obs obs[ICAL_MAX_OBSERVANCES];
	int nobs;
} ical_vtz;

/* The state of one ical_collect call. */
typedef struct ical_ctx {
	arena *a;
	char *err;
	size_t errlen;
	int64_t from, to;
	ical_list *l;
	char *saved_tz;   /* the caller's TZ, restored at the end */
	int tz_switched, had_tz;
	char current[96]; /* the TZ value in effect while switched */
	struct {
		char *tzid, *zone;
	} zcache[8];
	int nz;
	ical_vtz *vtz; /* the object's VTIMEZONEs (arena) */
	int nvtz;
} ical_ctx;

static int ical_fail(ical_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ical_fail(ical_ctx *c, const char *fmt, ...)
{
	if (c->err && c->errlen && !c->err[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- time zones ---- */

/* Makes ZONE (IANA name, already validated; NULL: UTC) the TZ in effect, remembering the caller's. */
static int tz_use(ical_ctx *c, const char *zone)
{
	char want[96];
	if (snprintf(want, sizeof want, ":%s/%s", ICAL_ZONEINFO_DIR, zone ? zone : "UTC") >= (int)sizeof want)
		return -1;
	if (c->tz_switched && strcmp(c->current, want) == 0)
		return 0;
	if (!c->tz_switched) {
		const char *cur = getenv("TZ");
		c->had_tz = cur != NULL;
		c->saved_tz = cur ? arena_strdup(c->a, cur) : NULL;
		c->tz_switched = 1;
	}
	if (setenv("TZ", want, 1) != 0)
		return -1;
	snprintf(c->current, sizeof c->current, "%s", want);
	tzset();
	return 0;
}

static void tz_restore(ical_ctx *c)
{
	if (!c->tz_switched)
		return;
	if (c->had_tz)
		setenv("TZ", c->saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	c->tz_switched = 0;
}

/* Windows zone names (Exchange, Outlook) -> the IANA zone of their territory "001" (CLDR windowsZones). */
static const char *const WINDOWS_ZONES[][2] = {
	{"UTC", "UTC"},
	{"GMT Standard Time", "Europe/London"},
	{"Greenwich Standard Time", "Atlantic/Reykjavik"},
	{"W. Europe Standard Time", "Europe/Berlin"},
	{"Romance Standard Time", "Europe/Paris"},
	{"Central Europe Standard Time", "Europe/Budapest"},
	{"Central European Standard Time", "Europe/Warsaw"},
	{"GTB Standard Time", "Europe/Bucharest"},
	{"FLE Standard Time", "Europe/Kiev"},
	{"E. Europe Standard Time", "Europe/Chisinau"},
	{"Turkey Standard Time", "Europe/Istanbul"},
	{"Russian Standard Time", "Europe/Moscow"},
	{"Israel Standard Time", "Asia/Jerusalem"},
	{"South Africa Standard Time", "Africa/Johannesburg"},
	{"Arabian Standard Time", "Asia/Dubai"},
	{"India Standard Time", "Asia/Kolkata"},
	{"SE Asia Standard Time", "Asia/Bangkok"},
	{"China Standard Time", "Asia/Shanghai"},
	{"Singapore Standard Time", "Asia/Singapore"},
	{"Taipei Standard Time", "Asia/Taipei"},
	{"Tokyo Standard Time", "Asia/Tokyo"},
	{"Korea Standard Time", "Asia/Seoul"},
	{"W. Australia Standard Time", "Australia/Perth"},
	{"Cen. Australia Standard Time", "Australia/Adelaide"},
	{"E. Australia Standard Time", "Australia/Brisbane"},
	{"AUS Eastern Standard Time", "Australia/Sydney"},
	{"New Zealand Standard Time", "Pacific/Auckland"},
	{"Hawaiian Standard Time", "Pacific/Honolulu"},
	{"Alaskan Standard Time", "America/Anchorage"},
	{"Pacific Standard Time", "America/Los_Angeles"},
	{"US Mountain Standard Time", "America/Phoenix"},
	{"Mountain Standard Time", "America/Denver"},
	{"Central Standard Time", "America/Chicago"},
	{"Central Standard Time (Mexico)", "America/Mexico_City"},
	{"Canada Central Standard Time", "America/Regina"},
	{"Eastern Standard Time", "America/New_York"},
	{"Atlantic Standard Time", "America/Halifax"},
	{"Newfoundland Standard Time", "America/St_Johns"},
	{"E. South America Standard Time", "America/Sao_Paulo"},
	{"Argentina Standard Time", "America/Argentina/Buenos_Aires"},
};

/* The IANA zone a TZID names: itself, a known zone at the end of a vendor path such as
 * "/mozilla.org/20050126_1/Europe/Berlin", or a Windows zone name's. NULL when none is known. */
static char *zone_of(ical_ctx *c, const char *tzid)
{
	for (int i = 0; i < c->nz; i++)
		if (strcmp(c->zcache[i].tzid, tzid) == 0)
			return c->zcache[i].zone;
	char *zone = NULL;
	if (cron_tz_valid(tzid))
		zone = arena_strdup(c->a, tzid);
	for (const char *s = tzid; !zone && (s = strchr(s, '/')) != NULL; s++)
		if (cron_tz_valid(s + 1))
			zone = arena_strdup(c->a, s + 1);
	for (size_t i = 0; !zone && i < sizeof WINDOWS_ZONES / sizeof WINDOWS_ZONES[0]; i++)
		if (strcmp(tzid, WINDOWS_ZONES[i][0]) == 0 && cron_tz_valid(WINDOWS_ZONES[i][1]))
			zone = arena_strdup(c->a, WINDOWS_ZONES[i][1]);
	if (c->nz < (int)(sizeof c->zcache / sizeof c->zcache[0])) {
		c->zcache[c->nz].tzid = arena_strdup(c->a, tzid);
		c->zcache[c->nz].zone = zone;
		c->nz++;
	}
	return zone;
}

static int vtz_offset(ical_ctx *c, const char *tzid, int64_t wall, int64_t *offset);

/* Seconds of wall clock WALL (seconds since 1970-01-01 00:00 of that clock) -> the instant, in T's zone: an IANA
 * zone through the C library, else the object's VTIMEZONE of that TZID, else (unknown, floating) as UTC. */
static int64_t wall_to_utc(ical_ctx *c, const ical_dt *t, int64_t wall)
{
	int64_t off = 0;
	if (t->date_only || t->utc)
		return wall;
	if (!t->zone)
		return t->tzid && vtz_offset(c, t->tzid, wall, &off) == 0 ? wall - off : wall;
	if (tz_use(c, t->zone) != 0)
		return wall;
	long long y;
	int mo, d;
	int64_t day = wall >= 0 ? wall / 86400 : -((-wall + 86399) / 86400), sec = wall - day * 86400;
	cron_civil_from_days(day, &y, &mo, &d);
	struct tm tm = {0};
	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = (int)(sec / 3600);
	tm.tm_min = (int)(sec / 60 % 60);
	tm.tm_sec = (int)(sec % 60);
	tm.tm_isdst = -1;
	time_t r = mktime(&tm);
	return r == (time_t)-1 ? wall : (int64_t)r;
}

static int64_t dt_wall(const ical_dt *t)
{
	return cron_days_from_civil(t->y, t->mo, t->d) * 86400 + t->h * 3600 + t->mi * 60 + t->s;
}

static int64_t dt_utc(ical_ctx *c, const ical_dt *t)
{
	return wall_to_utc(c, t, dt_wall(t));
}

int ical_local_time(int64_t t, const char *zone, struct tm *out)
{
	ical_ctx c;
	memset(&c, 0, sizeof c);
	arena *a = arena_new();
	c.a = a;
	time_t tt = (time_t)t;
	int rc = -1;
	if (zone && !cron_tz_valid(zone))
		zone = NULL;
	if (tz_use(&c, zone) == 0 && localtime_r(&tt, out))
		rc = 0;
	tz_restore(&c);
	arena_free(a);
	return rc;
}

/* ---- values ---- */

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* DATE (YYYYMMDD) or DATE-TIME (YYYYMMDDThhmmss[Z]) text V; VALUE_DATE when the property said VALUE=DATE. */
static int parse_dt(ical_ctx *c, const char *v, const char *tzid, int value_date, ical_dt *t, const char *prop)
{
	size_t n = strlen(v);
	memset(t, 0, sizeof *t);
	if (n < 8 || digits(v, 4, &t->y) || digits(v + 4, 2, &t->mo) || digits(v + 6, 2, &t->d))
		return ical_fail(c, "%s: '%.40s' is not a date", prop, v);
	if (t->y < 1600 || t->y > 3000 || t->mo < 1 || t->mo > 12 || t->d < 1 || t->d > cron_days_in_month(t->y, t->mo))
		return ical_fail(c, "%s: '%.40s' is not a valid date", prop, v);
	if (n == 8) {
		t->date_only = 1;
		return 0;
	}
	if (value_date || !(n == 15 || (n == 16 && (v[15] == 'Z' || v[15] == 'z'))) || (v[8] != 'T' && v[8] != 't') ||
	    digits(v + 9, 2, &t->h) || digits(v + 11, 2, &t->mi) || digits(v + 13, 2, &t->s) || t->h > 23 || t->mi > 59 ||
	    t->s > 60)
		return ical_fail(c, "%s: '%.40s' is not a valid date-time", prop, v);
	if (t->s == 60)
		t->s = 59; /* a leap second: the instant before */
	t->utc = n == 16;
	if (!t->utc && tzid) {
		t->tzid = arena_strdup(c->a, tzid);
		t->zone = zone_of(c, tzid);
	}
	return 0;
}

/* DURATION text ([+-]P[nW] or P[nD][T[nH][nM][nS]]) -> seconds. */
static int parse_duration(const char *v, int64_t *out)
{
	int sign = 1, in_time = 0, any = 0;
	int64_t total = 0;
	if (*v == '+' || *v == '-')
		sign = *v++ == '-' ? -1 : 1;
	if (*v++ != 'P')
		return -1;
	while (*v) {
		if (*v == 'T') {
			if (in_time)
				return -1;
			in_time = 1;
			v++;
			continue;
		}
		int64_t num = 0;
		int nd = 0;
		while (*v >= '0' && *v <= '9' && nd < 9) {
			num = num * 10 + (*v++ - '0');
			nd++;
		}
		if (nd == 0 || (*v >= '0' && *v <= '9'))
			return -1;
		char u = *v++;
		int64_t mult = u == 'W' && !in_time ? 604800 : u == 'D' && !in_time ? 86400 : u == 'H' && in_time ? 3600
			       : u == 'M' && in_time ? 60 : u == 'S' && in_time ? 1 : 0;
		if (!mult)
			return -1;
		total += num * mult;
		any = 1;
	}
	if (!any)
		return -1;
	*out = sign * total;
	return 0;
}

/* Unescapes a TEXT value (RFC 5545 3.3.11: \n \N \, \; \\) into the arena. */
static char *unescape(arena *a, const char *v)
{
	size_t n = strlen(v), o = 0;
	char *r = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n) {
			char e = v[++i];
			r[o++] = e == 'n' || e == 'N' ? '\n' : e;
		} else {
			r[o++] = v[i];
		}
	}
	r[o] = '\0';
	return r;
}

/* ---- content lines ---- */

typedef struct ical_line {
	char name[64];
	char tzid[128];
	int has_tzid, value_date;
	const char *value;
} ical_line;

static int name_ch(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

/* Splits unfolded line S into name, the parameters this reader uses (TZID, VALUE) and the value. */
static int parse_line(ical_ctx *c, char *s, ical_line *ln)
{
	size_t i = 0;
	memset(ln, 0, sizeof *ln);
	while (name_ch(s[i]))
		i++;
	if (i == 0 || i >= sizeof ln->name)
		return ical_fail(c, "a content line has no valid name: '%.30s'", s);
	memcpy(ln->name, s, i);
	ln->name[i] = '\0';
	while (s[i] == ';') {
		size_t st = ++i;
		while (name_ch(s[i]))
			i++;
		size_t pl = i - st;
		if (pl == 0 || s[i] != '=')
			return ical_fail(c, "%s: a malformed parameter", ln->name);
		int is_tzid = pl == 4 && strncasecmp(s + st, "TZID", 4) == 0;
		int is_value = pl == 5 && strncasecmp(s + st, "VALUE", 5) == 0;
		int first = 1;
		do {
			i++; /* '=' or ',' */
			const char *v;
			size_t vl;
			if (s[i] == '"') {
				const char *q = strchr(s + i + 1, '"');
				if (!q)
					return ical_fail(c, "%s: an unterminated quoted parameter", ln->name);
				v = s + i + 1;
				vl = (size_t)(q - v);
				i = (size_t)(q - s) + 1;
			} else {
				v = s + i;
				while (s[i] && s[i] != ';' && s[i] != ':' && s[i] != ',' && s[i] != '"')
					i++;
				vl = (size_t)(s + i - v);
			}
			if (first && is_tzid && vl > 0 && vl < sizeof ln->tzid) {
				memcpy(ln->tzid, v, vl);
				ln->tzid[vl] = '\0';
				ln->has_tzid = 1;
			}
			if (first && is_value && vl == 4 && strncasecmp(v, "DATE", 4) == 0)
				ln->value_date = 1;
			first = 0;
		} while (s[i] == ',');
	}
	if (s[i] != ':')
		return ical_fail(c, "%s: the content line has no ':'", ln->name);
	ln->value = s + i + 1;
	return 0;
}

/* ---- recurrence ---- */

typedef struct ical_rule {
	enum { FREQ_NONE, FREQ_DAILY, FREQ_WEEKLY, FREQ_MONTHLY, FREQ_YEARLY } freq;
	int interval, count; /* count 0: none */
	int has_until;
	ical_dt until;
	int byday_n;
	struct {
		int ord; /* 0: every; 1..53 / -1..-53: the nth (last) in the month */
		int wd;  /* 0 = Monday .. 6 = Sunday */
	} byday[7 * 5];
	int bymonthday[31], nbymonthday;
	int bymonth; /* bit m */
	int unsupported;
} ical_rule;

static int weekday_of(const char *s)
{
	static const char *const names[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
	for (int i = 0; i < 7; i++)
		if (strncasecmp(s, names[i], 2) == 0 && s[2] == '\0')
			return i;
	return -1;
}

/* Monday = 0 of day D (days since 1970-01-01, a Thursday). */
static int dow(long long d)
{
	return (int)(((d % 7) + 10) % 7);
}

static int parse_rule(ical_ctx *c, const char *text, ical_rule *r)
{
	char buf[1024];
	memset(r, 0, sizeof *r);
	r->interval = 1;
	if (strlen(text) >= sizeof buf) {
		r->unsupported = 1;
		return 0;
	}
	snprintf(buf, sizeof buf, "%s", text);
	char *save = NULL;
	for (char *part = strtok_r(buf, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(part, '=');
		if (!eq)
			return ical_fail(c, "RRULE: '%.30s' is not NAME=VALUE", part);
		*eq = '\0';
		const char *k = part, *v = eq + 1;
		long num;
		if (strcasecmp(k, "FREQ") == 0) {
			r->freq = strcasecmp(v, "DAILY") == 0     ? FREQ_DAILY
				  : strcasecmp(v, "WEEKLY") == 0  ? FREQ_WEEKLY
				  : strcasecmp(v, "MONTHLY") == 0 ? FREQ_MONTHLY
				  : strcasecmp(v, "YEARLY") == 0  ? FREQ_YEARLY
								  : FREQ_NONE;
			if (r->freq == FREQ_NONE)
				r->unsupported = 1; /* SECONDLY, MINUTELY, HOURLY */
		} else if (strcasecmp(k, "INTERVAL") == 0) {
			if (util_parse_long(v, 1, 10000, &num) != 0)
				return ical_fail(c, "RRULE: INTERVAL '%.20s' is not valid", v);
			r->interval = (int)num;
		} else if (strcasecmp(k, "COUNT") == 0) {
			if (util_parse_long(v, 1, 1000000, &num) != 0)
				return ical_fail(c, "RRULE: COUNT '%.20s' is not valid", v);
			r->count = (int)num;
		} else if (strcasecmp(k, "UNTIL") == 0) {
			if (parse_dt(c, v, NULL, 0, &r->until, "RRULE UNTIL") != 0)
				return -1;
			r->has_until = 1;
		} else if (strcasecmp(k, "BYDAY") == 0) {
			char *s2 = NULL;
			for (char *d = strtok_r((char *)v, ",", &s2); d; d = strtok_r(NULL, ",", &s2)) {
				size_t dl = strlen(d);
				int wd = dl >= 2 ? weekday_of(d + dl - 2) : -1;
				long ord = 0;
				if (wd < 0 || r->byday_n == (int)(sizeof r->byday / sizeof r->byday[0]))
					return ical_fail(c, "RRULE: BYDAY '%.20s' is not valid", d);
				if (dl > 2) {
					d[dl - 2] = '\0';
					const char *o = d[0] == '+' ? d + 1 : d;
					if (util_parse_long(o[0] == '-' ? o + 1 : o, 1, 53, &ord) != 0)
						return ical_fail(c, "RRULE: BYDAY ordinal '%.20s' is not valid", d);
					if (o[0] == '-')
						ord = -ord;
				}
				r->byday[r->byday_n].ord = (int)ord;
				r->byday[r->byday_n].wd = wd;
				r->byday_n++;
			}
		} else if (strcasecmp(k, "BYMONTHDAY") == 0) {
			char *s2 = NULL;
			for (char *d = strtok_r((char *)v, ",", &s2); d; d = strtok_r(NULL, ",", &s2)) {
				const char *o = d[0] == '+' || d[0] == '-' ? d + 1 : d;
				if (util_parse_long(o, 1, 31, &num) != 0 || r->nbymonthday == 31)
					return ical_fail(c, "RRULE: BYMONTHDAY '%.20s' is not valid", d);
				r->bymonthday[r->nbymonthday++] = d[0] == '-' ? -(int)num : (int)num;
			}
		} else if (strcasecmp(k, "BYMONTH") == 0) {
			char *s2 = NULL;
			for (char *d = strtok_r((char *)v, ",", &s2); d; d = strtok_r(NULL, ",", &s2)) {
				if (util_parse_long(d, 1, 12, &num) != 0)
					return ical_fail(c, "RRULE: BYMONTH '%.20s' is not valid", d);
				r->bymonth |= 1 << num;
			}
		} else if (strcasecmp(k, "WKST") == 0) {
			if (weekday_of(v) < 0)
				return ical_fail(c, "RRULE: WKST '%.20s' is not valid", v);
			if (weekday_of(v) != 0)
				r->unsupported |= r->freq == FREQ_WEEKLY && r->interval > 1;
		} else {
			r->unsupported = 1; /* BYSETPOS, BYYEARDAY, BYWEEKNO, BYHOUR, BYMINUTE, BYSECOND, X- parts */
		}
	}
	if (r->count && r->has_until)
		return ical_fail(c, "RRULE: COUNT and UNTIL cannot both be given");
	/* Ordinal BYDAY inside a whole year (no BYMONTH) counts weeks of the year: not expanded here. */
	for (int i = 0; i < r->byday_n; i++)
		if (r->byday[i].ord && !(r->freq == FREQ_MONTHLY || (r->freq == FREQ_YEARLY && r->bymonth)))
			r->unsupported = 1;
	return 0;
}

/* Whether day D of a month of DIM days, a weekday WD, matches BYDAY entry list of R (ordinals count in the month). */
static int byday_matches(const ical_rule *r, int wd, int dim, int d)
{
	for (int i = 0; i < r->byday_n; i++) {
		if (r->byday[i].wd != wd)
			continue;
		int ord = r->byday[i].ord;
		if (ord == 0 || (ord > 0 && (d - 1) / 7 + 1 == ord) || (ord < 0 && (dim - d) / 7 + 1 == -ord))
			return 1;
	}
	return 0;
}

static int monthday_matches(const ical_rule *r, int dim, int d)
{
	for (int i = 0; i < r->nbymonthday; i++) {
		int want = r->bymonthday[i];
		if (want == d || (want < 0 && dim + want + 1 == d))
			return 1;
	}
	return 0;
}

/* Whether day D of a month of DIM days whose first day is weekday WD1 is one of a MONTHLY or YEARLY rule R's days
 * (SDD: DTSTART's day of month, when R has neither BYDAY nor BYMONTHDAY). */
static int month_day_hit(const ical_rule *r, int sdd, int wd1, int dim, int d)
{
	if (!r->byday_n && !r->nbymonthday)
		return d == sdd;
	return (!r->byday_n || byday_matches(r, (wd1 + d - 1) % 7, dim, d)) &&
	       (!r->nbymonthday || monthday_matches(r, dim, d));
}

/* The months (index y * 12 + m - 1) of period K of a MONTHLY or YEARLY rule R for an event starting on Y-M (SY, SM)
 * into MONTHS (at most 12); their number. *PSTART: the first day of the period, *PEND its last. */
static int period_months(const ical_rule *r, long long sy, int sm, long long k, long long months[12], long long *pstart,
			 long long *pend)
{
	int nm = 0;
	if (r->freq == FREQ_MONTHLY) {
		long long idx = sy * 12 + (sm - 1) + k * r->interval;
		*pstart = cron_days_from_civil(idx / 12, (int)(idx % 12) + 1, 1);
		*pend = *pstart + cron_days_in_month(idx / 12, (int)(idx % 12) + 1) - 1;
		if (!r->bymonth || (r->bymonth >> (idx % 12 + 1) & 1))
			months[nm++] = idx;
		return nm;
	}
	long long y = sy + k * r->interval;
	*pstart = cron_days_from_civil(y, 1, 1);
	*pend = cron_days_from_civil(y + 1, 1, 1) - 1;
	for (int m = 1; m <= 12; m++)
		if (r->bymonth ? (r->bymonth >> m & 1) : m == sm)
			months[nm++] = y * 12 + (m - 1);
	return nm;
}

/* The days (since 1970-01-01, ascending) of period K of rule R for an event starting on day SD (at most 366),
 * and the first day of that period in *PSTART. Adds the days it looked at to *WORK. */
static int period_days(const ical_rule *r, long long sd, long long k, long long *out, long long *pstart, long long *work)
{
	long long sy;
	int sm, sdd, n = 0;
	cron_civil_from_days(sd, &sy, &sm, &sdd);
	if (r->freq == FREQ_DAILY) {
		long long day = sd + k * r->interval;
		long long y;
		*pstart = day;
		int m, d;
		cron_civil_from_days(day, &y, &m, &d);
		int dim = cron_days_in_month(y, m);
		*work += 1;
		if ((!r->bymonth || (r->bymonth >> m & 1)) && (!r->nbymonthday || monthday_matches(r, dim, d)) &&
		    (!r->byday_n || byday_matches(r, dow(day), dim, d)))
			out[n++] = day;
		return n;
	}
	if (r->freq == FREQ_WEEKLY) {
		long long week0 = sd - dow(sd) + k * 7 * r->interval;
		*pstart = week0;
		*work += 7;
		for (int i = 0; i < 7; i++) {
			long long day = week0 + i, y;
			int m, d, hit = 0;
			cron_civil_from_days(day, &y, &m, &d);
			if (r->byday_n) {
				for (int j = 0; j < r->byday_n; j++)
					hit |= r->byday[j].wd == i;
			} else {
				hit = i == dow(sd);
			}
			if (hit && (!r->bymonth || (r->bymonth >> m & 1)))
				out[n++] = day;
		}
		return n;
	}
	/* MONTHLY: one month per period; YEARLY: the months of BYMONTH (or DTSTART's) of one year. */
	long long months[12], pend;
	int nm = period_months(r, sy, sm, k, months, pstart, &pend);
	for (int i = 0; i < nm; i++) {
		long long y = months[i] / 12;
		int m = (int)(months[i] % 12) + 1, dim = cron_days_in_month(y, m);
		long long first = cron_days_from_civil(y, m, 1);
		*work += dim;
		for (int d = 1; d <= dim; d++)
			if (month_day_hit(r, sdd, dow(first), dim, d))
				out[n++] = first + d - 1;
	}
	return n;
}

/* Counts the days of a period of rule R without listing them: for MONTHLY and YEARLY, a month's count depends
 * only on its length and the weekday of its first day, so it is looked up in COUNTS[dim - 28][weekday]
 * (filled by month_counts). */
static void month_counts(const ical_rule *r, int sdd, int counts[4][7])
{
	for (int dim = 28; dim <= 31; dim++)
		for (int wd1 = 0; wd1 < 7; wd1++) {
			int n = 0;
			for (int d = 1; d <= dim; d++)
				n += month_day_hit(r, sdd, wd1, dim, d);
			counts[dim - 28][wd1] = n;
		}
}

/* The number of days of period K of rule R for an event starting on day SD, and the period's last day in *PEND;
 * COUNTS as month_counts fills it (MONTHLY, YEARLY). Adds its cost to *WORK. */
static long long period_count(const ical_rule *r, long long sd, long long k, int counts[4][7], long long *pend,
			      long long *work)
{
	long long sy, pstart, days[366];
	int sm, sdd;
	if (r->freq == FREQ_DAILY || r->freq == FREQ_WEEKLY) {
		int n = period_days(r, sd, k, days, &pstart, work);
		*pend = pstart + (r->freq == FREQ_DAILY ? 0 : 6);
		return n;
	}
	cron_civil_from_days(sd, &sy, &sm, &sdd);
	long long months[12], n = 0;
	int nm = period_months(r, sy, sm, k, months, &pstart, pend);
	for (int i = 0; i < nm; i++) {
		long long y = months[i] / 12;
		int m = (int)(months[i] % 12) + 1;
		n += counts[cron_days_in_month(y, m) - 28][dow(cron_days_from_civil(y, m, 1))];
	}
	*work += nm + 1;
	return n;
}

/* ---- VTIMEZONE ---- */

/* A UTC offset "+hhmm", "-hhmm" or "+hhmmss" -> seconds; -1 when malformed (*OUT unchanged). */
static int parse_offset(const char *v, int *out)
{
	size_t n = strlen(v);
	int h, m, sec = 0;
	if ((n != 5 && n != 7) || (v[0] != '+' && v[0] != '-') || digits(v + 1, 2, &h) || digits(v + 3, 2, &m) ||
	    (n == 7 && digits(v + 5, 2, &sec)) || h > 23 || m > 59 || sec > 59)
		return -1;
	*out = (v[0] == '-' ? -1 : 1) * (h * 3600 + m * 60 + sec);
	return 0;
}

/* A failure this reader recovers from (a VTIMEZONE part it cannot use): its message is dropped. Only ever
 * reached while ERR is still empty: every real failure ends the parse. */
static void forget_failure(ical_ctx *c)
{
	if (c->err && c->errlen)
		c->err[0] = '\0';
}

/* The latest onset at or before WALL of observance O (its DTSTART, or a yearly RRULE's occurrence in WALL's year
 * or the one before), or INT64_MIN. Other rules count from their DTSTART only. */
static int64_t obs_onset(ical_ctx *c, const ical_obs *o, int64_t wall)
{
	int64_t s = dt_wall(&o->start), best = s <= wall ? s : INT64_MIN;
	ical_rule r;
	c->l->work++;
	if (!o->rrule || s > wall)
		return best;
	if (parse_rule(c, o->rrule, &r) != 0) {
		forget_failure(c);
		return best;
	}
	if (r.freq != FREQ_YEARLY || r.unsupported || r.count)
		return best;
	long long wy, sd = cron_days_from_civil(o->start.y, o->start.mo, o->start.d), days[366], pstart;
	int wm, wd;
	cron_civil_from_days(wall >= 0 ? wall / 86400 : -((-wall + 86399) / 86400), &wy, &wm, &wd);
	int64_t tod = o->start.h * 3600 + o->start.mi * 60 + o->start.s;
	int64_t until = r.has_until ? dt_wall(&r.until) + (r.until.date_only ? 86399 : 0) : INT64_MAX;
	for (long long y = wy - 1; y <= wy; y++) {
		long long k = y - o->start.y;
		if (k < 0 || k % r.interval != 0)
			continue;
		int n = period_days(&r, sd, k / r.interval, days, &pstart, &c->l->work);
		for (int i = 0; i < n; i++) {
			int64_t t = (int64_t)days[i] * 86400 + tod;
			if (t >= s && t <= wall && t <= until && t > best)
				best = t;
		}
	}
	return best;
}

/* The UTC offset in effect at wall time WALL in the object's VTIMEZONE TZID: that of the observance with the
 * latest onset (before the first onset, the first observance's TZOFFSETFROM). Returns 0, or -1 when the object
 * defines no usable VTIMEZONE of that name. Onsets are compared in wall time, so the hour around a change
 * may be read with either offset. */
static int vtz_offset(ical_ctx *c, const char *tzid, int64_t wall, int64_t *offset)
{
	const ical_vtz *z = NULL;
	for (int i = 0; i < c->nvtz && !z; i++)
		if (c->vtz[i].tzid && strcmp(c->vtz[i].tzid, tzid) == 0)
			z = &c->vtz[i];
	if (!z)
		return -1;
	int64_t best = INT64_MIN, earliest = INT64_MAX;
	int found = 0;
	for (int i = 0; i < z->nobs; i++) {
		const ical_obs *o = &z->obs[i];
		if (!o->has_start || !o->has_to)
			continue;
		int64_t s = dt_wall(&o->start), onset = obs_onset(c, o, wall);
		if (s < earliest) {
			earliest = s;
			if (!found)
				*offset = o->offset_from;
		}
		if (onset != INT64_MIN && onset >= best) {
			best = onset;
			*offset = o->offset_to;
			found = 1;
		}
	}
	return found || earliest != INT64_MAX ? 0 : -1;
}

/* ---- instances ---- */

static void add_instance(ical_ctx *c, const ical_vevent *e, int64_t start, int64_t end, int recurring)
{
	ical_list *l = c->l;
	int zero = end == start;
	if (!(start < c->to && (end > c->from || (zero && start >= c->from))))
		return;
	if (l->n == ICAL_MAX_INSTANCES) {
		l->truncated = 1;
		return;
	}
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 32;
		ical_event *nv = arena_alloc(c->a, (size_t)cap * sizeof *nv);
		if (l->n)
			memcpy(nv, l->ev, (size_t)l->n * sizeof *nv);
		l->ev = nv;
		l->cap = cap;
	}
	ical_event *x = &l->ev[l->n++];
	memset(x, 0, sizeof *x);
	x->uid = e->uid;
	x->summary = e->summary;
	x->location = e->location;
	x->tzid = e->start.tzid;
	x->zone = e->start.zone;
	x->all_day = e->start.date_only;
	x->floating = !e->start.date_only && !e->start.utc && !e->start.zone;
	x->recurring = recurring || e->has_rid;
	x->start = start;
	x->end = end;
}

/* The length of event E in seconds (DTEND - DTSTART, DURATION, or the RFC 5545 defaults). */
static int64_t event_length(ical_ctx *c, const ical_vevent *e)
{
	int64_t len;
	if (e->has_end)
		len = e->start.date_only ? dt_wall(&e->end) - dt_wall(&e->start) : dt_utc(c, &e->end) - dt_utc(c, &e->start);
	else if (e->has_duration)
		len = e->duration;
	else
		len = e->start.date_only ? 86400 : 0;
	return len < 0 ? 0 : len;
}

static int is_excluded(const int64_t *list, int n, int64_t t)
{
	for (int i = 0; i < n; i++)
		if (list[i] == t)
			return 1;
	return 0;
}

/* Whether the list's work budget is spent: then it is marked truncated and the caller stops expanding. */
static int out_of_work(ical_ctx *c)
{
	if (c->l->work < ICAL_MAX_WORK)
		return 0;
	c->l->truncated = 1;
	return 1;
}

/* The number of days every period of rule R has, when it is the same for all (DAILY without BYxxx parts, WEEKLY
 * without BYMONTH), else -1. */
static int constant_per_period(const ical_rule *r)
{
	if (r->freq == FREQ_DAILY)
		return r->bymonth || r->nbymonthday || r->byday_n ? -1 : 1;
	if (r->freq != FREQ_WEEKLY || r->bymonth)
		return -1;
	if (!r->byday_n)
		return 1;
	int seen = 0, n = 0;
	for (int i = 0; i < r->byday_n; i++)
		if (!(seen >> r->byday[i].wd & 1)) {
			seen |= 1 << r->byday[i].wd;
			n++;
		}
	return n;
}

/* Instances of the RRULE of master E (the first of them is DTSTART); OVERRIDDEN holds the instants that a
 * RECURRENCE-ID component replaces. Every period walked is charged to the list's work budget. */
static int expand_rule(ical_ctx *c, const ical_vevent *e, const int64_t *overridden, int nover)
{
	ical_rule r;
	if (parse_rule(c, e->rrule, &r) != 0)
		return -1;
	int64_t len = event_length(c, e), first = dt_utc(c, &e->start);
	if (r.unsupported || r.freq == FREQ_NONE) {
		c->l->unsupported = 1;
		if (!is_excluded(e->exdates, e->nex, first) && !is_excluded(overridden, nover, first))
			add_instance(c, e, first, first + len, 1);
		return 0;
	}
	long long sd = cron_days_from_civil(e->start.y, e->start.mo, e->start.d);
	int64_t tod = e->start.date_only ? 0 : e->start.h * 3600 + e->start.mi * 60 + e->start.s;
	int64_t until = r.has_until ? (r.until.date_only   ? cron_days_from_civil(r.until.y, r.until.mo, r.until.d) * 86400 + 86399
				       : r.until.utc ? dt_utc(c, &r.until)
						     : wall_to_utc(c, &e->start, dt_wall(&r.until)))
				    : INT64_MAX;
	/* Periods beyond the window's end (with two days' margin for zone offsets) cannot matter. Periods before K0
	 * lie wholly before the window's start: without COUNT they are skipped, with COUNT only counted (at once when
	 * every period has the same number of days, else a period at a time, a month by table lookup). */
	long long last_day = c->to / 86400 + 2, first_day = c->from / 86400 - 2, sy = e->start.y, k0 = 0;
	if (first_day > sd) {
		long long fy, span;
		int fm, fd;
		cron_civil_from_days(first_day, &fy, &fm, &fd);
		span = r.freq == FREQ_DAILY    ? (first_day - sd) / r.interval
		       : r.freq == FREQ_WEEKLY ? (first_day - sd) / (7LL * r.interval)
		       : r.freq == FREQ_MONTHLY ? ((fy * 12 + fm) - (sy * 12 + e->start.mo)) / r.interval
						: (fy - sy) / r.interval;
		k0 = span > 1 ? span - 1 : 0;
	}
	if (first > until)
		return 0;
	/* DTSTART is always the first instance (RFC 5545 3.8.5.3), whether or not the rule matches it. */
	long long count = 1;
	if (!is_excluded(e->exdates, e->nex, first) && !is_excluded(overridden, nover, first))
		add_instance(c, e, first, first + len, 1);
	long long days[366], pstart, pend;
	int per = constant_per_period(&r), counts[4][7], have_counts = 0;
	long long k = r.count ? 0 : k0;
	for (long long walked = 0; walked < ICAL_MAX_PERIODS; walked++, k++) {
		if (out_of_work(c))
			return 0;
		if (r.count && k >= 1 && k < k0) {
			if (per >= 0) {
				count += (long long)per * (k0 - k);
				k = k0 - 1;
				c->l->work++;
			} else {
				if (!have_counts && r.freq != FREQ_DAILY && r.freq != FREQ_WEEKLY) {
					int sdd = e->start.d;
					month_counts(&r, sdd, counts);
					c->l->work += 4 * 7 * 31;
					have_counts = 1;
				}
				count += period_count(&r, sd, k, counts, &pend, &c->l->work);
			}
			if (count >= r.count)
				return 0;
			continue;
		}
		int n = period_days(&r, sd, k, days, &pstart, &c->l->work);
		if (pstart > last_day)
			return 0;
		for (int i = 0; i < n; i++) {
			if (days[i] <= sd)
				continue;
			if (days[i] > last_day || (r.count && count >= r.count))
				return 0;
			/* Well before the window and UNTIL, an instance only counts: no zone conversion needed. */
			if (days[i] < first_day && (until == INT64_MAX || days[i] < until / 86400 - 2)) {
				count++;
				continue;
			}
			/* A zone conversion may cost a VTIMEZONE's rules: the budget is checked per instance too. */
			if (out_of_work(c))
				return 0;
			int64_t t = wall_to_utc(c, &e->start, (int64_t)days[i] * 86400 + tod);
			if (t > until)
				return 0;
			count++;
			if (!is_excluded(e->exdates, e->nex, t) && !is_excluded(overridden, nover, t))
				add_instance(c, e, t, t + len, 1);
		}
	}
	c->l->truncated = 1;
	return 0;
}

/* Instances of recurring master E: DTSTART, its RRULE's and its RDATEs (RFC 5545 3.8.5.2), less EXDATEs and the
 * instants in OVERRIDDEN. */
static int expand(ical_ctx *c, const ical_vevent *e, const int64_t *overridden, int nover)
{
	int64_t len = event_length(c, e), first = dt_utc(c, &e->start);
	if (e->rrule) {
		if (expand_rule(c, e, overridden, nover) != 0)
			return -1;
	} else if (!is_excluded(e->exdates, e->nex, first) && !is_excluded(overridden, nover, first)) {
		add_instance(c, e, first, first + len, 1);
	}
	for (int i = 0; i < e->nrd; i++) {
		int64_t t = e->rdates[i];
		if (t != first && !is_excluded(e->exdates, e->nex, t) && !is_excluded(overridden, nover, t) &&
		    !is_excluded(e->rdates, i, t))
			add_instance(c, e, t, t + len, 1);
	}
	return 0;
}

/* Appends the comma-separated DATE or DATE-TIME values V of property PROP to *LIST (UTC instants). */
static int add_dates(ical_ctx *c, const char *v, const char *tz, int value_date, const char *prop, int64_t **list,
		     int *n, int *cap)
{
	char *copy = arena_strdup(c->a, v), *save = NULL;
	for (char *one = strtok_r(copy, ",", &save); one; one = strtok_r(NULL, ",", &save)) {
		ical_dt x;
		if (parse_dt(c, one, tz, value_date, &x, prop) != 0)
			return -1;
		if (*n == ICAL_MAX_EXDATES)
			return ical_fail(c, "more than %d %s values", ICAL_MAX_EXDATES, prop);
		if (*n == *cap) {
			int nc = *cap ? *cap * 2 : 8;
			int64_t *nx = arena_alloc(c->a, (size_t)nc * sizeof *nx);
			if (*n)
				memcpy(nx, *list, (size_t)*n * sizeof *nx);
			*list = nx;
			*cap = nc;
		}
		/* A zone conversion may cost a VTIMEZONE's rules: charged to the budget, and skipped once it is spent
		 * (then no instance is emitted any more, so the value is never used). */
		int spent = out_of_work(c);
		c->l->work += !spent;
		(*list)[(*n)++] = spent ? dt_wall(&x) : dt_utc(c, &x);
	}
	return 0;
}

/* ---- the reader ---- */

static int vevent_property(ical_ctx *c, ical_vevent *e, ical_line *ln)
{
	const char *n = ln->name, *v = ln->value, *tz = ln->has_tzid ? ln->tzid : NULL;
	if (strcasecmp(n, "UID") == 0)
		e->uid = unescape(c->a, v);
	else if (strcasecmp(n, "SUMMARY") == 0)
		e->summary = unescape(c->a, v);
	else if (strcasecmp(n, "LOCATION") == 0)
		e->location = unescape(c->a, v);
	else if (strcasecmp(n, "STATUS") == 0)
		e->status = arena_strdup(c->a, v);
	else if (strcasecmp(n, "RRULE") == 0)
		e->rrule = arena_strdup(c->a, v);
	else if (strcasecmp(n, "DTSTART") == 0) {
		if (parse_dt(c, v, tz, ln->value_date, &e->start, "DTSTART") != 0)
			return -1;
		e->has_start = 1;
	} else if (strcasecmp(n, "DTEND") == 0) {
		if (parse_dt(c, v, tz, ln->value_date, &e->end, "DTEND") != 0)
			return -1;
		e->has_end = 1;
	} else if (strcasecmp(n, "RECURRENCE-ID") == 0) {
		if (parse_dt(c, v, tz, ln->value_date, &e->rid, "RECURRENCE-ID") != 0)
			return -1;
		e->has_rid = 1;
	} else if (strcasecmp(n, "DURATION") == 0) {
		if (parse_duration(v, &e->duration) != 0)
			return ical_fail(c, "DURATION: '%.40s' is not a valid duration", v);
		e->has_duration = 1;
	} else if (strcasecmp(n, "EXDATE") == 0) {
		return add_dates(c, v, tz, ln->value_date, "EXDATE", &e->exdates, &e->nex, &e->capex);
	} else if (strcasecmp(n, "RDATE") == 0) {
		/* VALUE=PERIOD (start/end or start/duration) is not read: its start alone would mislead. */
		if (strchr(v, '/')) {
			c->l->unsupported = 1;
			return 0;
		}
		return add_dates(c, v, tz, ln->value_date, "RDATE", &e->rdates, &e->nrd, &e->caprd);
	}
	return 0;
}

/* One property of a VTIMEZONE observance. What cannot be read leaves the observance unusable, not the object:
 * the zone may be one the system knows anyway. */
static void vtz_property(ical_ctx *c, ical_obs *o, const ical_line *ln)
{
	if (strcasecmp(ln->name, "DTSTART") == 0) {
		o->has_start = parse_dt(c, ln->value, NULL, 0, &o->start, "VTIMEZONE DTSTART") == 0 && !o->start.date_only &&
			       !o->start.utc;
		if (!o->has_start)
			forget_failure(c);
	} else if (strcasecmp(ln->name, "TZOFFSETTO") == 0) {
		o->has_to = parse_offset(ln->value, &o->offset_to) == 0;
	} else if (strcasecmp(ln->name, "TZOFFSETFROM") == 0) {
		(void)parse_offset(ln->value, &o->offset_from);
	} else if (strcasecmp(ln->name, "RRULE") == 0) {
		o->rrule = arena_strdup(c->a, ln->value);
	}
}

/* Emits the instances of the collected events: masters expanded, overrides and single events as they are. */
static int emit(ical_ctx *c, ical_vevent *ev, int nev)
{
	for (int i = 0; i < nev; i++) {
		ical_vevent *e = &ev[i];
		if (out_of_work(c))
			return 0;
		c->l->work++;
		if (!e->has_start || (e->status && strcasecmp(e->status, "CANCELLED") == 0))
			continue;
		if (e->has_end && e->end.date_only != e->start.date_only)
			return ical_fail(c, "DTSTART and DTEND must both be dates or both date-times");
		if ((e->rrule || e->nrd) && !e->has_rid) {
			int64_t over[ICAL_MAX_OVERRIDES];
			int nover = 0;
			for (int j = 0; j < nev; j++)
				if (j != i && ev[j].has_rid && nover < ICAL_MAX_OVERRIDES &&
				    ((!e->uid && !ev[j].uid) || (e->uid && ev[j].uid && strcmp(e->uid, ev[j].uid) == 0))) {
					if (out_of_work(c))
						return 0;
					over[nover++] = dt_utc(c, &ev[j].rid);
					c->l->work++;
				}
			if (expand(c, e, over, nover) != 0)
				return -1;
		} else {
			int64_t s = dt_utc(c, &e->start);
			add_instance(c, e, s, s + event_length(c, e), 0);
		}
	}
	return 0;
}

static int collect(ical_ctx *c, const char *text, size_t len)
{
	char *line = arena_alloc(c->a, ICAL_MAX_LINE + 1);
	char stack[ICAL_MAX_DEPTH][64];
	int depth = 0, vevent_depth = -1, nev = 0, capev = 0, seen_begin = 0, vtz_depth = -1, obs_depth = -1;
	ical_vevent *ev = NULL, *cur = NULL;
	ical_vtz *tz = NULL;
	ical_obs *obs = NULL;
	size_t pos = 0;
	if (len > ICAL_MAX_BYTES)
		return ical_fail(c, "a calendar object is larger than %zu bytes", ICAL_MAX_BYTES);
	if (util_utf8_length(text, len) < 0)
		return ical_fail(c, "a calendar object is not valid UTF-8");
	while (pos < len) {
		/* One logical line: a physical line and the continuation lines (leading space or tab) after it. */
		size_t ll = 0;
		int first = 1;
		while (pos < len) {
			if (!first && text[pos] != ' ' && text[pos] != '\t')
				break;
			size_t st = first ? pos : pos + 1;
			const char *nl = memchr(text + pos, '\n', len - pos);
			size_t end = nl ? (size_t)(nl - text) : len;
			size_t stop = end > st && text[end - 1] == '\r' ? end - 1 : end;
			if (stop < st)
				stop = st;
			if (ll + (stop - st) > ICAL_MAX_LINE)
				return ical_fail(c, "a content line is longer than %d bytes", ICAL_MAX_LINE);
			memcpy(line + ll, text + st, stop - st);
			ll += stop - st;
			pos = nl ? end + 1 : len;
			first = 0;
		}
		line[ll] = '\0';
		if (ll == 0)
			continue;
		ical_line ln;
		if (parse_line(c, line, &ln) != 0)
			return -1;
		if (strcasecmp(ln.name, "BEGIN") == 0) {
			if (depth == ICAL_MAX_DEPTH)
				return ical_fail(c, "components are nested deeper than %d", ICAL_MAX_DEPTH);
			if (depth == 0 && (seen_begin || strcasecmp(ln.value, "VCALENDAR") != 0))
				return ical_fail(c, "a calendar object must be one VCALENDAR");
			seen_begin = 1;
			snprintf(stack[depth], sizeof stack[depth], "%s", ln.value);
			if (depth == 1 && strcasecmp(ln.value, "VEVENT") == 0) {
				if (nev == ICAL_MAX_EVENTS)
					return ical_fail(c, "a calendar object has more than %d events", ICAL_MAX_EVENTS);
				if (nev == capev) {
					capev = capev ? capev * 2 : 8;
					ical_vevent *nv = arena_alloc(c->a, (size_t)capev * sizeof *nv);
					if (nev)
						memcpy(nv, ev, (size_t)nev * sizeof *nv);
					ev = nv;
				}
				cur = &ev[nev++];
				memset(cur, 0, sizeof *cur);
				vevent_depth = depth + 1;
			} else if (depth == 1 && strcasecmp(ln.value, "VTIMEZONE") == 0 && c->nvtz < ICAL_MAX_VTIMEZONES) {
				if (!c->vtz)
					c->vtz = arena_alloc(c->a, ICAL_MAX_VTIMEZONES * sizeof *c->vtz);
				tz = &c->vtz[c->nvtz++];
				vtz_depth = depth + 1;
			} else if (tz && depth == vtz_depth && tz->nobs < ICAL_MAX_OBSERVANCES &&
				   (strcasecmp(ln.value, "STANDARD") == 0 || strcasecmp(ln.value, "DAYLIGHT") == 0)) {
				obs = &tz->obs[tz->nobs++];
				obs_depth = depth + 1;
			}
			depth++;
		} else if (strcasecmp(ln.name, "END") == 0) {
			if (depth == 0 || strncasecmp(stack[depth - 1], ln.value, sizeof stack[0] - 1) != 0 ||
			    strlen(ln.value) >= sizeof stack[0])
				return ical_fail(c, "END:%.30s does not close the open component", ln.value);
			depth--;
			if (depth + 1 == vevent_depth) {
				cur = NULL;
				vevent_depth = -1;
			}
			if (depth + 1 == obs_depth) {
				obs = NULL;
				obs_depth = -1;
			}
			if (depth + 1 == vtz_depth) {
				tz = NULL;
				vtz_depth = -1;
			}
		} else if (depth == 0) {
			return ical_fail(c, "a content line outside BEGIN:VCALENDAR");
		} else if (cur && depth == vevent_depth) {
			if (vevent_property(c, cur, &ln) != 0)
				return -1;
		} else if (tz && depth == vtz_depth && strcasecmp(ln.name, "TZID") == 0) {
			tz->tzid = arena_strdup(c->a, ln.value);
		} else if (obs && depth == obs_depth) {
			vtz_property(c, obs, &ln);
		}
	}
	if (depth != 0 || !seen_begin)
		return ical_fail(c, seen_begin ? "the calendar object ends inside a component" : "the calendar object is empty");
	return emit(c, ev, nev);
}

int ical_collect(arena *a, const char *text, size_t len, int64_t from, int64_t to, ical_list *l, char *err,
		 size_t errlen)
{
	ical_ctx c;
	memset(&c, 0, sizeof c);
	c.a = a;
	c.err = err;
	c.errlen = errlen;
	c.from = from;
	c.to = to;
	c.l = l;
	if (err && errlen)
		err[0] = '\0';
	int rc = collect(&c, text, len);
	tz_restore(&c);
	return rc;
}

static int cmp_event(const void *x, const void *y)
{
	const ical_event *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return strcmp(a->summary ? a->summary : "", b->summary ? b->summary : "");
}

void ical_sort(ical_list *l)
{
	if (l->n > 1)
		qsort(l->ev, (size_t)l->n, sizeof *l->ev, cmp_event);
}
