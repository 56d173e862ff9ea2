/* cron: parsing five-field cron expressions and finding their next due instant in an IANA zone. */
#include "cron.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CRON_ZONEINFO_DIR "/usr/share/zoneinfo"
/* How far cron_next looks before giving up: five years of days, leap days included. */
#define CRON_HORIZON_DAYS (5 * 366)
/* cron_next refuses AFTER outside 1900-01-01 .. ~9990 so that no date arithmetic can overflow. */
#define CRON_AFTER_MIN (-2208988800LL)
#define CRON_AFTER_MAX (253402300799LL - 10LL * 366 * 86400)
/* UTC offsets on record reach about +-16 h (Manila and Sitka local mean time). */
#define CRON_OFFSET_SPAN (26LL * 3600)
/* Longest piece of user input echoed back in an error message. */
#define CRON_ECHO_MAX 20

enum cron_field { CRON_MINUTE, CRON_HOUR, CRON_DOM, CRON_MONTH, CRON_DOW, CRON_FIELD__MAX };

static const char *const cron_month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const cron_dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

/* STAR_MAX is where '*' and 'a/n' stop: the weekday field accepts 7 but its full range is 0-6. */
static const struct cron_field_spec {
	const char *label;
	int min, max, star_max;
	const char *const *names; /* names[i] stands for min + i; NULL: numbers only */
} cron_fields[CRON_FIELD__MAX] = {
	[CRON_MINUTE] = { "minute", 0, 59, 59, NULL },
	[CRON_HOUR] = { "hour", 0, 23, 23, NULL },
	[CRON_DOM] = { "day-of-month", 1, 31, 31, NULL },
	[CRON_MONTH] = { "month", 1, 12, 12, cron_month_names },
	[CRON_DOW] = { "day-of-week", 0, 7, 6, cron_dow_names },
};

static const struct cron_macro {
	const char *name;
	const char *fields;
} cron_macros[] = {
	{ "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

__attribute__((format(printf, 3, 4)))
static int cron_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Copies up to CRON_ECHO_MAX bytes of S[0..N) into DST for an error message, replacing anything
 * that is not printable ASCII so that the message stays one line. */
static void cron_echo(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i, k = 0;

	if (n > CRON_ECHO_MAX)
		n = CRON_ECHO_MAX;
	for (i = 0; i < n && k + 1 < dstlen; i++) {
		unsigned char ch = (unsigned char)s[i];
		dst[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (dstlen > 0)
		dst[k] = '\0';
}

static int cron_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int cron_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int cron_is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static char cron_lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* Reads a run of digits at S[*POS..N) into *VAL, saturating at 1000000 (anything that large is out
 * of range anyway). Returns the number of digits read. */
static size_t cron_digits(const char *s, size_t n, size_t *pos, int *val)
{
	size_t start = *pos;
	int v = 0;

	while (*pos < n && cron_is_digit(s[*pos])) {
		if (v < 1000000)
			v = v * 10 + (s[*pos] - '0');
		(*pos)++;
	}
	*val = v;
	return *pos - start;
}

/* One value of field F (a number, or a name where the field has names) at S[*POS..N). */
static int cron_value(enum cron_field f, const char *s, size_t n, size_t *pos, int *val, char *err,
		      size_t errlen)
{
	const struct cron_field_spec *spec = &cron_fields[f];
	size_t start = *pos, len, i;
	char echo[CRON_ECHO_MAX + 1];

	if (*pos < n && cron_is_digit(s[*pos])) {
		cron_digits(s, n, pos, val);
		if (*val < spec->min || *val > spec->max) {
			cron_echo(echo, sizeof echo, s + start, *pos - start);
			return cron_fail(err, errlen, "%s field: %s is out of range %d-%d", spec->label, echo,
					 spec->min, spec->max);
		}
		return 0;
	}
	if (*pos < n && cron_is_alpha(s[*pos])) {
		while (*pos < n && cron_is_alpha(s[*pos]))
			(*pos)++;
		len = *pos - start;
		cron_echo(echo, sizeof echo, s + start, len);
		if (!spec->names)
			return cron_fail(err, errlen, "%s field: names are not allowed here ('%s')", spec->label,
					 echo);
		for (i = 0; len == 3 && spec->names[i]; i++) {
			if (cron_lower(s[start]) == spec->names[i][0] && cron_lower(s[start + 1]) == spec->names[i][1] &&
			    cron_lower(s[start + 2]) == spec->names[i][2]) {
				*val = spec->min + (int)i;
				return 0;
			}
		}
		return cron_fail(err, errlen, "%s field: unknown name '%s'", spec->label, echo);
	}
	if (*pos >= n)
		return cron_fail(err, errlen, "%s field: a value is missing at the end", spec->label);
	cron_echo(echo, sizeof echo, s + *pos, 1);
	return cron_fail(err, errlen, "%s field: expected a number, found '%s'", spec->label, echo);
}

/* One list element of field F: '*', a, a-b, each optionally followed by /step. */
static int cron_element(enum cron_field f, const char *s, size_t n, size_t *pos, uint64_t *bits,
			char *err, size_t errlen)
{
	const struct cron_field_spec *spec = &cron_fields[f];
	size_t start = *pos, step_start;
	int lo, hi, step = 1, star = 0, ranged = 0, v;
	char echo[CRON_ECHO_MAX + 1];

	if (s[*pos] == '*') {
		(*pos)++;
		lo = spec->min;
		hi = spec->star_max;
		star = 1;
	} else {
		if (cron_value(f, s, n, pos, &lo, err, errlen) != 0)
			return -1;
		hi = lo;
		if (*pos < n && s[*pos] == '-') {
			(*pos)++;
			if (cron_value(f, s, n, pos, &hi, err, errlen) != 0)
				return -1;
			ranged = 1;
			if (hi < lo) {
				cron_echo(echo, sizeof echo, s + start, *pos - start);
				return cron_fail(err, errlen, "%s field: range %s is reversed", spec->label, echo);
			}
		}
	}
	if (*pos < n && s[*pos] == '/') {
		(*pos)++;
		step_start = *pos;
		if (cron_digits(s, n, pos, &step) == 0)
			return cron_fail(err, errlen, "%s field: '/' must be followed by a number", spec->label);
		cron_echo(echo, sizeof echo, s + step_start, *pos - step_start);
		if (step == 0)
			return cron_fail(err, errlen, "%s field: step 0 is not allowed", spec->label);
		if (!star && !ranged)
			hi = lo > spec->star_max ? spec->max : spec->star_max;
		if (step > hi - lo)
			return cron_fail(err, errlen, "%s field: step %s is larger than the range %d-%d",
					 spec->label, echo, lo, hi);
	}
	for (v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << v;
	return 0;
}

/* Field F from S[0..N) (non-empty, no blanks) into *BITS. */
static int cron_field_parse(enum cron_field f, const char *s, size_t n, uint64_t *bits, char *err,
			    size_t errlen)
{
	const char *label = cron_fields[f].label;
	size_t pos = 0;
	char echo[CRON_ECHO_MAX + 1];

	*bits = 0;
	for (;;) {
		if (pos >= n || s[pos] == ',')
			return cron_fail(err, errlen, "%s field: empty list element", label);
		if (cron_element(f, s, n, &pos, bits, err, errlen) != 0)
			return -1;
		if (pos >= n)
			return 0;
		if (s[pos] != ',') {
			cron_echo(echo, sizeof echo, s + pos, n - pos);
			return cron_fail(err, errlen, "%s field: unexpected '%s'", label, echo);
		}
		pos++;
	}
}

static int cron_parse_macro(const char *s, size_t n, cron_expr *out, char *err, size_t errlen)
{
	size_t i;
	char echo[CRON_ECHO_MAX + 1];

	for (i = 0; i < sizeof cron_macros / sizeof cron_macros[0]; i++) {
		if (strlen(cron_macros[i].name) == n && strncmp(cron_macros[i].name, s, n) == 0)
			return cron_parse(cron_macros[i].fields, out, err, errlen);
	}
	if (n == 7 && strncmp(s, "@reboot", 7) == 0)
		return cron_fail(err, errlen, "@reboot is not supported");
	cron_echo(echo, sizeof echo, s, n);
	return cron_fail(err, errlen,
			 "unknown macro '%s' (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)",
			 echo);
}

int cron_parse(const char *text, cron_expr *out, char *err, size_t errlen)
{
	const char *field[CRON_FIELD__MAX];
	size_t flen[CRON_FIELD__MAX];
	size_t n, pos = 0, count = 0, start, end;
	uint64_t bits[CRON_FIELD__MAX];
	cron_expr c;
	int f;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!text || !out)
		return cron_fail(err, errlen, "no expression");
	n = strnlen(text, CRON_TEXT_MAX + 1);
	if (n > CRON_TEXT_MAX)
		return cron_fail(err, errlen, "expression is longer than %d bytes", CRON_TEXT_MAX);

	start = 0;
	while (start < n && cron_is_blank(text[start]))
		start++;
	end = n;
	while (end > start && cron_is_blank(text[end - 1]))
		end--;
	if (start == end)
		return cron_fail(err, errlen, "empty expression");
	if (text[start] == '@')
		return cron_parse_macro(text + start, end - start, out, err, errlen);

	pos = start;
	while (pos < end) {
		size_t b = pos;
		while (pos < end && !cron_is_blank(text[pos]))
			pos++;
		if (count < CRON_FIELD__MAX) {
			field[count] = text + b;
			flen[count] = pos - b;
		}
		count++;
		while (pos < end && cron_is_blank(text[pos]))
			pos++;
	}
	if (count != CRON_FIELD__MAX)
		return cron_fail(err, errlen, "expected 5 fields (minute hour day-of-month month day-of-week), found %zu",
				 count);

	for (f = 0; f < CRON_FIELD__MAX; f++) {
		if (cron_field_parse((enum cron_field)f, field[f], flen[f], &bits[f], err, errlen) != 0)
			return -1;
	}
	/* Vixie: 7 is another spelling of Sunday. */
	if (bits[CRON_DOW] & ((uint64_t)1 << 7))
		bits[CRON_DOW] = (bits[CRON_DOW] & ~((uint64_t)1 << 7)) | 1;

	memset(&c, 0, sizeof c);
	c.minutes = bits[CRON_MINUTE];
	c.hours = (uint32_t)bits[CRON_HOUR];
	c.days = (uint32_t)bits[CRON_DOM];
	c.months = (uint16_t)bits[CRON_MONTH];
	c.weekdays = (uint8_t)bits[CRON_DOW];
	c.days_restricted = !(flen[CRON_DOM] == 1 && field[CRON_DOM][0] == '*');
	c.weekdays_restricted = !(flen[CRON_DOW] == 1 && field[CRON_DOW][0] == '*');
	*out = c;
	return 0;
}

int cron_tz_valid(const char *name)
{
	char path[sizeof CRON_ZONEINFO_DIR + CRON_TZ_MAX + 1];
	unsigned char magic[4];
	struct stat st;
	size_t n, i;
	ssize_t got;
	int fd, ok;

	if (!name)
		return 0;
	n = strnlen(name, CRON_TZ_MAX + 1);
	if (n == 0 || n > CRON_TZ_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = name[i];
		if (!(cron_is_alpha(ch) || cron_is_digit(ch) || ch == '_' || ch == '+' || ch == '-' || ch == '/'))
			return 0;
	}
	if (name[0] == '/' || name[n - 1] == '/' || strstr(name, "..") || strstr(name, "//"))
		return 0;
	/* "localtime" follows the host's setting and "right/" zones count leap seconds in time_t. */
	if (strcmp(name, "localtime") == 0 || strncmp(name, "right/", 6) == 0)
		return 0;
	if (snprintf(path, sizeof path, "%s/%s", CRON_ZONEINFO_DIR, name) >= (int)sizeof path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (ok) {
		do
			got = read(fd, magic, sizeof magic);
		while (got < 0 && errno == EINTR);
		ok = got == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
	}
	close(fd);
	return ok;
}

/* Days since 1970-01-01 of the proleptic Gregorian date Y-M-D (H. Hinnant's days_from_civil). */
long long cron_days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void cron_civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int cron_days_in_month(long long y, int m)
{
	static const int len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : len[m - 1];
}

/* The local wall clock at T, as seconds since 1970-01-01 00:00 of that wall clock. */
static int cron_wall(time_t t, long long *wall)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return -1;
	*wall = cron_days_from_civil((long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
		tm.tm_hour * 3600LL + tm.tm_min * 60LL + tm.tm_sec;
	return 0;
}

static int cron_offset(long long t, long long *off)
{
	long long wall;

	if (cron_wall((time_t)t, &wall) != 0)
		return -1;
	*off = wall - t;
	return 0;
}

/* The first instant in (LO, HI] whose wall clock reaches W, given that none at LO does and one at
 * HI does; assumes the wall clock does not step back in between. */
static int cron_first_reaching(long long w, long long lo, long long hi, long long *t)
{
	long long mid, wall;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (cron_wall((time_t)mid, &wall) != 0)
			return -1;
		if (wall >= w)
			hi = mid;
		else
			lo = mid;
	}
	*t = hi;
	return 0;
}

/* Slow path for zones that change offset more than once around W: scans in quarter hours, then
 * narrows down to the second. */
static int cron_instant_scan(long long w, long long *t)
{
	long long s, wall;

	for (s = w - CRON_OFFSET_SPAN; s <= w + CRON_OFFSET_SPAN; s += 900) {
		if (cron_wall((time_t)s, &wall) != 0)
			return -1;
		if (wall >= w)
			return s == w - CRON_OFFSET_SPAN ? -1 : cron_first_reaching(w, s - 900, s, t);
	}
	return -1;
}

/* The instant at which local wall time W (seconds, as from cron_wall) is due: its first occurrence,
 * or the end of the gap when a spring-forward skips it. OFF_EARLY and OFF_LATE are the zone's
 * offsets a day before and two days after the start of W's day. */
static int cron_instant(long long w, long long off_early, long long off_late, long long *t)
{
	long long t1 = w - off_early, t2 = w - off_late, wall;
	int ok1, ok2;

	if (cron_wall((time_t)t1, &wall) != 0)
		return -1;
	ok1 = wall == w;
	if (off_late == off_early) {
		if (ok1) {
			*t = t1;
			return 0;
		}
		return cron_instant_scan(w, t);
	}
	if (cron_wall((time_t)t2, &wall) != 0)
		return -1;
	ok2 = wall == w;
	if (ok1 || ok2) {
		*t = ok1 && ok2 ? (t1 < t2 ? t1 : t2) : (ok1 ? t1 : t2);
		return 0;
	}
	/* In a spring-forward gap the clock jumps from below W (at t2) to above W (at t1). */
	if (off_late > off_early && cron_first_reaching(w, t2, t1, t) == 0) {
		long long before;
		if (cron_wall((time_t)(*t - 1), &before) == 0 && before < w && cron_wall((time_t)*t, &wall) == 0 &&
		    wall > w)
			return 0;
	}
	return cron_instant_scan(w, t);
}

static int cron_day_matches(const cron_expr *c, int dom, int dow)
{
	int dom_ok = (c->days >> dom) & 1, dow_ok = (c->weekdays >> dow) & 1;

	/* Vixie: when both day fields are restricted, either one may match. */
	if (c->days_restricted && c->weekdays_restricted)
		return dom_ok || dow_ok;
	return dom_ok && dow_ok;
}

/* cron_next with TZ already in effect. */
static int cron_search(const cron_expr *c, time_t after, time_t *next)
{
	long long wall_after, day, last_day, y, wh, w, t, off_early, off_late;
	int m, d, h, mi, dow;

	if (cron_wall(after, &wall_after) != 0)
		return -1;
	day = wall_after >= 0 ? wall_after / 86400 : -((-wall_after + 86399) / 86400);
	last_day = day + CRON_HORIZON_DAYS;
	while (day <= last_day) {
		cron_civil_from_days(day, &y, &m, &d);
		if (!((c->months >> m) & 1)) {
			day += cron_days_in_month(y, m) - d + 1;
			continue;
		}
		dow = (int)(((day % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
		if (!cron_day_matches(c, d, dow)) {
			day++;
			continue;
		}
		if (cron_offset(day * 86400 - 86400, &off_early) != 0 ||
		    cron_offset(day * 86400 + 2 * 86400, &off_late) != 0)
			return -1;
		for (h = 0; h < 24; h++) {
			if (!((c->hours >> h) & 1))
				continue;
			wh = day * 86400 + h * 3600LL;
			if (wh + 59 * 60 < wall_after)
				continue;
			for (mi = 0; mi < 60; mi++) {
				if (!((c->minutes >> mi) & 1))
					continue;
				w = wh + mi * 60LL;
				/* A wall time already passed at AFTER was due then (or in the gap before it). */
				if (w < wall_after)
					continue;
				if (cron_instant(w, off_early, off_late, &t) == 0 && t > (long long)after) {
					*next = (time_t)t;
					return 0;
				}
			}
		}
		day++;
	}
	return -1;
}

int cron_next(const cron_expr *c, const char *tz, time_t after, time_t *next)
{
	char want[sizeof CRON_ZONEINFO_DIR + CRON_TZ_MAX + 2];
	const char *cur;
	char *saved = NULL;
	int switched = 0, rc;

	if (!c || !next || !cron_tz_valid(tz))
		return -1;
	if ((long long)after < CRON_AFTER_MIN || (long long)after > CRON_AFTER_MAX)
		return -1;
	/* An absolute path after ':' makes the C library read exactly the file validated above. */
	snprintf(want, sizeof want, ":%s/%s", CRON_ZONEINFO_DIR, tz);
	cur = getenv("TZ");
	if (!cur || strcmp(cur, want) != 0) {
		if (cur) {
			saved = strdup(cur);
			if (!saved)
				abort();
		}
		if (setenv("TZ", want, 1) != 0) {
			free(saved);
			return -1;
		}
		switched = 1;
	}
	tzset();
	rc = cron_search(c, after, next);
	if (switched) {
		if (saved)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
		free(saved);
	}
	return rc;
}
