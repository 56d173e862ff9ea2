/* test_cron: unit tests for cron.c (expression syntax, zone names, next due instant across DST). */
#include <CUnit/CUnit.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

int test_cron_suite(void);

/* Seconds since the epoch of the UTC date-time Y-MO-D H:MI:S. */
static time_t test_cron_utc_s(int y, int mo, int d, int h, int mi, int s)
{
	long long yy = y - (mo <= 2), era, yoe, doy, doe;

	era = (yy >= 0 ? yy : yy - 399) / 400;
	yoe = yy - era * 400;
	doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (time_t)((era * 146097 + doe - 719468) * 86400 + h * 3600LL + mi * 60LL + s);
}

static time_t test_cron_utc(int y, int mo, int d, int h, int mi)
{
	return test_cron_utc_s(y, mo, d, h, mi, 0);
}

static int test_cron_parses(const char *text, cron_expr *c)
{
	char err[256];
	int rc = cron_parse(text, c, err, sizeof err);

	if (rc != 0)
		fprintf(stderr, "\nunexpected parse failure for '%s': %s\n", text, err);
	return rc;
}

/* The next instant of EXPR in TZ after AFTER, or (time_t)-1 when there is none. */
static time_t test_cron_next(const char *expr, const char *tz, time_t after)
{
	cron_expr c;
	time_t t = 0;

	if (test_cron_parses(expr, &c) != 0)
		return (time_t)-1;
	if (cron_next(&c, tz, after, &t) != 0)
		return (time_t)-1;
	return t;
}

/* Collects the successive instants of EXPR in TZ within [FROM, TO) into OUT (at most MAX). */
static int test_cron_runs(const char *expr, const char *tz, time_t from, time_t to, time_t *out, int max)
{
	cron_expr c;
	time_t t = from - 1, n;
	int count = 0;

	if (test_cron_parses(expr, &c) != 0)
		return -1;
	while (cron_next(&c, tz, t, &n) == 0 && n < to) {
		if (n <= t)
			return -1;
		if (count < max)
			out[count] = n;
		count++;
		t = n;
		if (count > 100000)
			return -1;
	}
	return count;
}

static uint64_t test_cron_bits(int lo, int hi)
{
	uint64_t b = 0;
	int i;

	for (i = lo; i <= hi; i++)
		b |= (uint64_t)1 << i;
	return b;
}

static void test_cron_parse_star(void)
{
	cron_expr c;

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("* * * * *", &c), 0);
	CU_ASSERT_EQUAL(c.minutes, test_cron_bits(0, 59));
	CU_ASSERT_EQUAL(c.hours, test_cron_bits(0, 23));
	CU_ASSERT_EQUAL(c.days, test_cron_bits(1, 31));
	CU_ASSERT_EQUAL(c.months, test_cron_bits(1, 12));
	CU_ASSERT_EQUAL(c.weekdays, test_cron_bits(0, 6));
	CU_ASSERT_EQUAL(c.days_restricted, 0);
	CU_ASSERT_EQUAL(c.weekdays_restricted, 0);
}

static void test_cron_parse_numbers_ranges_lists(void)
{
	cron_expr c;

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("5,10-12,59 0,23 1,15-16,31 6 1-5", &c), 0);
	CU_ASSERT_EQUAL(c.minutes, ((uint64_t)1 << 5) | test_cron_bits(10, 12) | ((uint64_t)1 << 59));
	CU_ASSERT_EQUAL(c.hours, 1u | (1u << 23));
	CU_ASSERT_EQUAL(c.days, (1u << 1) | (1u << 15) | (1u << 16) | (1u << 31));
	CU_ASSERT_EQUAL(c.months, 1u << 6);
	CU_ASSERT_EQUAL(c.weekdays, test_cron_bits(1, 5));
	CU_ASSERT_EQUAL(c.days_restricted, 1);
	CU_ASSERT_EQUAL(c.weekdays_restricted, 1);

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("07 7-7 09 1-12 0-6", &c), 0);
	CU_ASSERT_EQUAL(c.minutes, (uint64_t)1 << 7);
	CU_ASSERT_EQUAL(c.hours, 1u << 7);
	CU_ASSERT_EQUAL(c.days, 1u << 9);
	CU_ASSERT_EQUAL(c.months, test_cron_bits(1, 12));
	CU_ASSERT_EQUAL(c.weekdays, test_cron_bits(0, 6));
}

static void test_cron_parse_steps(void)
{
	cron_expr c;

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("*/15 10-20/5 */10 */3 */2", &c), 0);
	CU_ASSERT_EQUAL(c.minutes, (uint64_t)1 | (uint64_t)1 << 15 | (uint64_t)1 << 30 | (uint64_t)1 << 45);
	CU_ASSERT_EQUAL(c.hours, (1u << 10) | (1u << 15) | (1u << 20));
	CU_ASSERT_EQUAL(c.days, (1u << 1) | (1u << 11) | (1u << 21) | (1u << 31));
	CU_ASSERT_EQUAL(c.months, (1u << 1) | (1u << 4) | (1u << 7) | (1u << 10));
	CU_ASSERT_EQUAL(c.weekdays, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 6));

	/* a/n runs from a to the end of the field. */
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("50/5 3/7 25/3 11/1 5/1", &c), 0);
	CU_ASSERT_EQUAL(c.minutes, (uint64_t)1 << 50 | (uint64_t)1 << 55);
	CU_ASSERT_EQUAL(c.hours, (1u << 3) | (1u << 10) | (1u << 17));
	CU_ASSERT_EQUAL(c.days, (1u << 25) | (1u << 28) | (1u << 31));
	CU_ASSERT_EQUAL(c.months, (1u << 11) | (1u << 12));
	CU_ASSERT_EQUAL(c.weekdays, (1u << 5) | (1u << 6));

	/* Largest allowed steps, and a list mixing steps and values. */
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("*/59 */23 1-31/30 1-12/11 0-6/6", &c), 0);
	CU_ASSERT_EQUAL(c.minutes, (uint64_t)1 | (uint64_t)1 << 59);
	CU_ASSERT_EQUAL(c.hours, 1u | (1u << 23));
	CU_ASSERT_EQUAL(c.days, (1u << 1) | (1u << 31));
	CU_ASSERT_EQUAL(c.months, (1u << 1) | (1u << 12));
	CU_ASSERT_EQUAL(c.weekdays, (1u << 0) | (1u << 6));
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("1,*/20,45-47/2 * * * *", &c), 0);
	CU_ASSERT_EQUAL(c.minutes, (uint64_t)1 | (uint64_t)1 << 1 | (uint64_t)1 << 20 | (uint64_t)1 << 40 |
					   (uint64_t)1 << 45 | (uint64_t)1 << 47);
}

static void test_cron_parse_month_names(void)
{
	cron_expr c;
	const char *names[] = { "JAN", "feb", "Mar", "aPr", "MAY", "jun", "JUL", "aug", "SEP", "oct", "NOV", "dEc" };
	char text[64];
	int i;

	for (i = 0; i < 12; i++) {
		snprintf(text, sizeof text, "0 0 1 %s *", names[i]);
		CU_ASSERT_EQUAL_FATAL(test_cron_parses(text, &c), 0);
		CU_ASSERT_EQUAL(c.months, 1u << (i + 1));
	}
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 1 jan-mar,JUL,10 *", &c), 0);
	CU_ASSERT_EQUAL(c.months, test_cron_bits(1, 3) | (1u << 7) | (1u << 10));
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 1 FEB/4 *", &c), 0);
	CU_ASSERT_EQUAL(c.months, (1u << 2) | (1u << 6) | (1u << 10));
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 1 jan-dec/6 *", &c), 0);
	CU_ASSERT_EQUAL(c.months, (1u << 1) | (1u << 7));
}

static void test_cron_parse_weekday_names(void)
{
	cron_expr c;
	const char *names[] = { "SUN", "mon", "Tue", "wEd", "THU", "fri", "SaT" };
	char text[64];
	int i;

	for (i = 0; i < 7; i++) {
		snprintf(text, sizeof text, "0 0 * * %s", names[i]);
		CU_ASSERT_EQUAL_FATAL(test_cron_parses(text, &c), 0);
		CU_ASSERT_EQUAL(c.weekdays, 1u << i);
		CU_ASSERT_EQUAL(c.weekdays_restricted, 1);
	}
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * MON-FRI", &c), 0);
	CU_ASSERT_EQUAL(c.weekdays, test_cron_bits(1, 5));
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * sat,sun", &c), 0);
	CU_ASSERT_EQUAL(c.weekdays, (1u << 0) | (1u << 6));
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * jan MON-SAT/2", &c), 0);
	CU_ASSERT_EQUAL(c.weekdays, (1u << 1) | (1u << 3) | (1u << 5));
}

static void test_cron_parse_sunday_seven(void)
{
	cron_expr c;

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * 7", &c), 0);
	CU_ASSERT_EQUAL(c.weekdays, 1u);
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * 0", &c), 0);
	CU_ASSERT_EQUAL(c.weekdays, 1u);
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * 5-7", &c), 0);
	CU_ASSERT_EQUAL(c.weekdays, 1u | (1u << 5) | (1u << 6));
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * 0-7", &c), 0);
	CU_ASSERT_EQUAL(c.weekdays, test_cron_bits(0, 6));
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * 0,7", &c), 0);
	CU_ASSERT_EQUAL(c.weekdays, 1u);
	/* Sunday the 4th of January 2026 via 7. */
	CU_ASSERT_EQUAL(test_cron_next("0 0 * * 7", "UTC", test_cron_utc(2026, 1, 1, 0, 0)),
			test_cron_utc(2026, 1, 4, 0, 0));
}

static void test_cron_parse_macros(void)
{
	static const struct {
		const char *macro, *fields;
	} m[] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
		{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" }, { " \t@daily \t", "0 0 * * *" },
	};
	cron_expr a, b;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof m / sizeof m[0]; i++) {
		memset(&a, 0, sizeof a);
		memset(&b, 0, sizeof b);
		CU_ASSERT_EQUAL(test_cron_parses(m[i].macro, &a), 0);
		CU_ASSERT_EQUAL(test_cron_parses(m[i].fields, &b), 0);
		CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
	}
	CU_ASSERT_EQUAL(cron_parse("@reboot", &a, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "@reboot is not supported");
	CU_ASSERT_EQUAL(cron_parse("@every", &a, err, sizeof err), -1);
	CU_ASSERT_EQUAL(cron_parse("@", &a, err, sizeof err), -1);
	CU_ASSERT_EQUAL(cron_parse("@daily 5", &a, err, sizeof err), -1);
	CU_ASSERT_EQUAL(cron_parse("@DAILY", &a, err, sizeof err), -1);
	CU_ASSERT_EQUAL(cron_parse("0 0 * * @daily", &a, err, sizeof err), -1);
}

static void test_cron_parse_blanks(void)
{
	cron_expr a, b;

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("5 4 3 2 1", &a), 0);
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("\t 5\t\t4  3 \t2 1 \t", &b), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
}

static void test_cron_parse_restricted_flags(void)
{
	cron_expr c;

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * *", &c), 0);
	CU_ASSERT_EQUAL(c.days_restricted, 0);
	CU_ASSERT_EQUAL(c.weekdays_restricted, 0);
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 */2 * *", &c), 0);
	CU_ASSERT_EQUAL(c.days_restricted, 1);
	CU_ASSERT_EQUAL(c.weekdays_restricted, 0);
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 * * */2", &c), 0);
	CU_ASSERT_EQUAL(c.days_restricted, 0);
	CU_ASSERT_EQUAL(c.weekdays_restricted, 1);
	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 0 1-31 * 0-7", &c), 0);
	CU_ASSERT_EQUAL(c.days_restricted, 1);
	CU_ASSERT_EQUAL(c.weekdays_restricted, 1);
}

static void test_cron_parse_rejects(void)
{
	static const char *bad[] = {
		/* field count and empty fields */
		"", " \t ", "* * * *", "* * * * * *", "*", "1 2 3 4 5 6 7", "1,,2 * * * *", ",1 * * * *",
		"1, * * * *", "* * * * ,", "* * , * *",
		/* out of range */
		"60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 0 *", "* * * 13 *", "* * * * 8",
		"-1 * * * *", "99999999999999999999 * * * *", "0-60 * * * *", "* 0-24 * * *", "* * * * 1-8",
		/* reversed ranges */
		"5-1 * * * *", "* 23-0 * * *", "* * 31-1 * *", "* * * DEC-JAN *", "* * * * FRI-MON", "* * * * 7-1",
		/* steps */
		"*/0 * * * *", "*/60 * * * *", "* */24 * * *", "* * */31 * *", "* * * */12 *", "* * * * */7",
		"0-10/11 * * * *", "59/1 * * * *", "5-5/1 * * * *", "*/ * * * *", "*/x * * * *", "*/-1 * * * *",
		"1-5/2/3 * * * *", "/5 * * * *", "*/5/ * * * *", "*/99999999999 * * * *", "* * * JAN/FEB *",
		/* malformed elements and garbage */
		"*-5 * * * *", "5- * * * *", "-5 * * * *", "1-2-3 * * * *", "** * * * *", "*5 * * * *",
		"1x * * * *", "1.5 * * * *", "+1 * * * *", "0x1 * * * *", "1 2 3 4 5\n", "1 2 3 4 5;",
		"1\n2 3 4 5", "\xff * * * *", "* * * * *\x01", "1 2 3 4 5 #c",
		/* names where they do not belong */
		"MON * * * *", "* jan * * *", "* * sun * *", "* * * MON *", "* * * * JAN", "* * * JANUARY *",
		"* * * * MONDAY", "* * * * MON-SUN", "* * * ja *", "* * * * FOO", "* * * JAN-FOO *", "* * * 1-FEBX *",
		/* macros */
		"@reboot", "@", "@yearly2", "@ daily",
	};
	cron_expr c, before;
	char err[256];
	size_t i;

	memset(&before, 0x5a, sizeof before);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = before;
		err[0] = '\0';
		if (cron_parse(bad[i], &c, err, sizeof err) != -1) {
			fprintf(stderr, "\naccepted bad expression #%zu '%s'\n", i, bad[i]);
			CU_FAIL("bad expression accepted");
			continue;
		}
		CU_ASSERT(err[0] != '\0');
		CU_ASSERT_PTR_NULL(strchr(err, '\n'));
		CU_ASSERT_EQUAL(memcmp(&c, &before, sizeof c), 0);
	}
}

static void test_cron_parse_error_messages(void)
{
	static const struct {
		const char *text, *msg;
	} m[] = {
		{ "61 * * * *", "minute field: 61 is out of range 0-59" },
		{ "* 24 * * *", "hour field: 24 is out of range 0-23" },
		{ "* * 0 * *", "day-of-month field: 0 is out of range 1-31" },
		{ "* * * 13 *", "month field: 13 is out of range 1-12" },
		{ "* * * * 8", "day-of-week field: 8 is out of range 0-7" },
		{ "5-1 * * * *", "minute field: range 5-1 is reversed" },
		{ "*/0 * * * *", "minute field: step 0 is not allowed" },
		{ "*/60 * * * *", "minute field: step 60 is larger than the range 0-59" },
		{ "* * * * */7", "day-of-week field: step 7 is larger than the range 0-6" },
		{ "MON * * * *", "minute field: names are not allowed here ('MON')" },
		{ "* * * FOO *", "month field: unknown name 'FOO'" },
		{ "* * * * 1-", "day-of-week field: a value is missing at the end" },
		{ "1,,2 * * * *", "minute field: empty list element" },
		{ "1x * * * *", "minute field: unexpected 'x'" },
		{ "* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4" },
		{ "", "empty expression" },
		{ "1\n * * * *", "minute field: unexpected '?'" },
	};
	cron_expr c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof m / sizeof m[0]; i++) {
		CU_ASSERT_EQUAL(cron_parse(m[i].text, &c, err, sizeof err), -1);
		if (strcmp(err, m[i].msg) != 0)
			fprintf(stderr, "\n'%s': got '%s', want '%s'\n", m[i].text, err, m[i].msg);
		CU_ASSERT_STRING_EQUAL(err, m[i].msg);
	}
}

static void test_cron_parse_length_limit(void)
{
	char text[CRON_TEXT_MAX + 2];
	cron_expr c;
	char err[256];

	/* 91 blanks then "0 0 * * *": exactly 100 bytes. */
	memset(text, ' ', CRON_TEXT_MAX - 9);
	memcpy(text + CRON_TEXT_MAX - 9, "0 0 * * *", 10);
	CU_ASSERT_EQUAL(strlen(text), 100);
	CU_ASSERT_EQUAL(cron_parse(text, &c, err, sizeof err), 0);
	memset(text, ' ', CRON_TEXT_MAX - 8);
	memcpy(text + CRON_TEXT_MAX - 8, "0 0 * * *", 10);
	CU_ASSERT_EQUAL(strlen(text), 101);
	CU_ASSERT_EQUAL(cron_parse(text, &c, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "expression is longer than 100 bytes");
}

static void test_cron_parse_err_buffers(void)
{
	cron_expr c;
	char err[8];

	CU_ASSERT_EQUAL(cron_parse("61 * * * *", &c, NULL, 0), -1);
	CU_ASSERT_EQUAL(cron_parse("61 * * * *", &c, NULL, 100), -1);
	memset(err, 'x', sizeof err);
	CU_ASSERT_EQUAL(cron_parse("61 * * * *", &c, err, 0), -1);
	CU_ASSERT_EQUAL(err[0], 'x');
	CU_ASSERT_EQUAL(cron_parse("61 * * * *", &c, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "minute ");
	CU_ASSERT_EQUAL(cron_parse(NULL, &c, err, sizeof err), -1);
	CU_ASSERT_EQUAL(cron_parse("* * * * *", NULL, err, sizeof err), -1);
	CU_ASSERT_EQUAL(cron_parse("* * * * *", &c, NULL, 0), 0);
}

static void test_cron_next_utc_basic(void)
{
	CU_ASSERT_EQUAL(test_cron_next("*/15 * * * *", "UTC", test_cron_utc(2026, 5, 5, 10, 7)),
			test_cron_utc(2026, 5, 5, 10, 15));
	CU_ASSERT_EQUAL(test_cron_next("* * * * *", "UTC", test_cron_utc_s(2026, 5, 5, 10, 7, 59)),
			test_cron_utc(2026, 5, 5, 10, 8));
	/* Friday 2026-01-02 10:00 -> Monday 09:00. */
	CU_ASSERT_EQUAL(test_cron_next("0 9 * * 1-5", "UTC", test_cron_utc(2026, 1, 2, 10, 0)),
			test_cron_utc(2026, 1, 5, 9, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 9 * * MON-FRI", "UTC", test_cron_utc(2026, 1, 2, 8, 0)),
			test_cron_utc(2026, 1, 2, 9, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 0 1 1 *", "UTC", test_cron_utc(2026, 1, 1, 0, 0)),
			test_cron_utc(2027, 1, 1, 0, 0));
	CU_ASSERT_EQUAL(test_cron_next("59 23 31 12 *", "UTC", test_cron_utc(2026, 6, 1, 0, 0)),
			test_cron_utc(2026, 12, 31, 23, 59));
	CU_ASSERT_EQUAL(test_cron_next("0 12 * JAN,JUL *", "UTC", test_cron_utc(2026, 2, 1, 0, 0)),
			test_cron_utc(2026, 7, 1, 12, 0));
	CU_ASSERT_EQUAL(test_cron_next("30 4 31 * *", "UTC", test_cron_utc(2026, 4, 1, 0, 0)),
			test_cron_utc(2026, 5, 31, 4, 30));
	CU_ASSERT_EQUAL(test_cron_next("@hourly", "UTC", test_cron_utc(2026, 5, 5, 23, 0)),
			test_cron_utc(2026, 5, 6, 0, 0));
	CU_ASSERT_EQUAL(test_cron_next("@yearly", "UTC", test_cron_utc(2026, 12, 31, 23, 59)),
			test_cron_utc(2027, 1, 1, 0, 0));
	CU_ASSERT_EQUAL(test_cron_next("@weekly", "UTC", test_cron_utc(2026, 1, 1, 0, 0)),
			test_cron_utc(2026, 1, 4, 0, 0));
	CU_ASSERT_EQUAL(test_cron_next("@monthly", "UTC", test_cron_utc(2026, 1, 1, 0, 0)),
			test_cron_utc(2026, 2, 1, 0, 0));
	/* Fixed offset zone: Etc/GMT+5 is UTC-5. */
	CU_ASSERT_EQUAL(test_cron_next("0 0 * * *", "Etc/GMT+5", test_cron_utc(2026, 1, 1, 0, 0)),
			test_cron_utc(2026, 1, 1, 5, 0));
	/* Before 1970 and across the end of 1999. */
	CU_ASSERT_EQUAL(test_cron_next("0 0 1 1 *", "UTC", test_cron_utc(1969, 6, 1, 0, 0)),
			test_cron_utc(1970, 1, 1, 0, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 0 29 2 *", "UTC", test_cron_utc(1999, 3, 1, 0, 0)),
			test_cron_utc(2000, 2, 29, 0, 0));
}

static void test_cron_next_strictly_after(void)
{
	time_t t = test_cron_utc(2026, 5, 5, 10, 15);

	CU_ASSERT_EQUAL(test_cron_next("*/15 * * * *", "UTC", t), test_cron_utc(2026, 5, 5, 10, 30));
	CU_ASSERT_EQUAL(test_cron_next("*/15 * * * *", "UTC", t - 1), t);
	CU_ASSERT_EQUAL(test_cron_next("*/15 * * * *", "UTC", t + 30), test_cron_utc(2026, 5, 5, 10, 30));
	CU_ASSERT_EQUAL(test_cron_next("15 10 5 5 *", "UTC", t), test_cron_utc(2027, 5, 5, 10, 15));
}

static void test_cron_next_vixie_or(void)
{
	/* 2026-01-01 is a Thursday; 2026-02-13 is a Friday the 13th. */
	static const int jan_feb[][2] = { { 1, 2 },  { 1, 9 },  { 1, 13 }, { 1, 16 }, { 1, 23 },
					  { 1, 30 }, { 2, 6 },  { 2, 13 }, { 2, 20 }, { 2, 27 } };
	time_t runs[16];
	int n, i;

	n = test_cron_runs("0 0 13 * 5", "UTC", test_cron_utc(2026, 1, 1, 0, 0), test_cron_utc(2026, 3, 1, 0, 0),
			   runs, 16);
	CU_ASSERT_EQUAL_FATAL(n, 10);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(runs[i], test_cron_utc(2026, jan_feb[i][0], jan_feb[i][1], 0, 0));
	/* The same with a name for the weekday. */
	CU_ASSERT_EQUAL(test_cron_next("0 0 13 * FRI", "UTC", test_cron_utc(2026, 1, 9, 0, 0)),
			test_cron_utc(2026, 1, 13, 0, 0));
	/* "* / 2" in the day field is restricted: odd days OR Fridays. */
	CU_ASSERT_EQUAL(test_cron_next("0 0 */2 * 5", "UTC", test_cron_utc(2026, 1, 1, 0, 0)),
			test_cron_utc(2026, 1, 2, 0, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 0 */2 * 5", "UTC", test_cron_utc(2026, 1, 2, 0, 0)),
			test_cron_utc(2026, 1, 3, 0, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 0 */2 * 5", "UTC", test_cron_utc(2026, 1, 3, 0, 0)),
			test_cron_utc(2026, 1, 5, 0, 0));
	/* A day that cannot exist in February still fires on February's Fridays. */
	CU_ASSERT_EQUAL(test_cron_next("0 0 31 2 5", "UTC", test_cron_utc(2026, 1, 31, 0, 0)),
			test_cron_utc(2026, 2, 6, 0, 0));
}

static void test_cron_next_single_day_field(void)
{
	time_t runs[8];
	int n;

	n = test_cron_runs("0 0 13 * *", "UTC", test_cron_utc(2026, 1, 1, 0, 0), test_cron_utc(2026, 3, 1, 0, 0),
			   runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 1, 13, 0, 0));
	CU_ASSERT_EQUAL(runs[1], test_cron_utc(2026, 2, 13, 0, 0));
	n = test_cron_runs("0 0 * * 5", "UTC", test_cron_utc(2026, 1, 1, 0, 0), test_cron_utc(2026, 1, 20, 0, 0),
			   runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 1, 2, 0, 0));
	CU_ASSERT_EQUAL(runs[1], test_cron_utc(2026, 1, 9, 0, 0));
	CU_ASSERT_EQUAL(runs[2], test_cron_utc(2026, 1, 16, 0, 0));
	/* Restricted weekday with an unrestricted day of month: weekdays only. */
	CU_ASSERT_EQUAL(test_cron_next("0 0 * * */2", "UTC", test_cron_utc(2026, 1, 1, 0, 0)),
			test_cron_utc(2026, 1, 3, 0, 0));
}

static void test_cron_next_leap_day(void)
{
	CU_ASSERT_EQUAL(test_cron_next("0 0 29 2 *", "UTC", test_cron_utc(2026, 3, 1, 0, 0)),
			test_cron_utc(2028, 2, 29, 0, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 0 29 2 *", "America/New_York", test_cron_utc(2026, 3, 1, 0, 0)),
			test_cron_utc(2028, 2, 29, 5, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 0 29 2 *", "UTC", test_cron_utc(2028, 2, 29, 0, 0)),
			test_cron_utc(2032, 2, 29, 0, 0));
}

static void test_cron_next_impossible(void)
{
	static const char *never[] = { "0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 FEB *" };
	cron_expr c;
	time_t t = 12345;
	size_t i;

	for (i = 0; i < sizeof never / sizeof never[0]; i++) {
		CU_ASSERT_EQUAL_FATAL(test_cron_parses(never[i], &c), 0);
		CU_ASSERT_EQUAL(cron_next(&c, "UTC", test_cron_utc(2026, 1, 1, 0, 0), &t), -1);
		CU_ASSERT_EQUAL(cron_next(&c, "Europe/Berlin", test_cron_utc(2026, 1, 1, 0, 0), &t), -1);
		CU_ASSERT_EQUAL(t, 12345);
	}
}

static void test_cron_next_bad_args(void)
{
	cron_expr c;
	time_t t = 777;

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("* * * * *", &c), 0);
	CU_ASSERT_EQUAL(cron_next(&c, "Not/AZone", 0, &t), -1);
	CU_ASSERT_EQUAL(cron_next(&c, "../etc/passwd", 0, &t), -1);
	CU_ASSERT_EQUAL(cron_next(&c, NULL, 0, &t), -1);
	CU_ASSERT_EQUAL(cron_next(NULL, "UTC", 0, &t), -1);
	CU_ASSERT_EQUAL(cron_next(&c, "UTC", 0, NULL), -1);
	CU_ASSERT_EQUAL(cron_next(&c, "UTC", (time_t)LLONG_MAX, &t), -1);
	CU_ASSERT_EQUAL(cron_next(&c, "UTC", (time_t)LLONG_MIN, &t), -1);
	CU_ASSERT_EQUAL(t, 777);
	CU_ASSERT_EQUAL(cron_next(&c, "UTC", 0, &t), 0);
	CU_ASSERT_EQUAL(t, 60);
}

static void test_cron_next_berlin_dst(void)
{
	const char *tz = "Europe/Berlin";
	time_t t;

	CU_ASSERT_EQUAL(test_cron_next("0 9 * * *", tz, test_cron_utc(2026, 1, 10, 0, 0)),
			test_cron_utc(2026, 1, 10, 8, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 9 * * *", tz, test_cron_utc(2026, 7, 10, 0, 0)),
			test_cron_utc(2026, 7, 10, 7, 0));
	/* Spring forward 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00Z; 02:30 runs at 03:00 CEST. */
	t = test_cron_next("30 2 * * *", tz, test_cron_utc(2026, 3, 28, 12, 0));
	CU_ASSERT_EQUAL(t, test_cron_utc(2026, 3, 29, 1, 0));
	CU_ASSERT_EQUAL(test_cron_next("30 2 * * *", tz, t), test_cron_utc(2026, 3, 30, 0, 30));
	CU_ASSERT_EQUAL(test_cron_next("0 3 * * *", tz, test_cron_utc(2026, 3, 28, 12, 0)),
			test_cron_utc(2026, 3, 29, 1, 0));
	CU_ASSERT_EQUAL(test_cron_next("30 1 * * *", tz, test_cron_utc(2026, 3, 28, 12, 0)),
			test_cron_utc(2026, 3, 29, 0, 30));
	/* Fall back 2026-10-25: 03:00 CEST -> 02:00 CET at 01:00Z; 02:30 runs at its first occurrence. */
	t = test_cron_next("30 2 * * *", tz, test_cron_utc(2026, 10, 24, 12, 0));
	CU_ASSERT_EQUAL(t, test_cron_utc(2026, 10, 25, 0, 30));
	CU_ASSERT_EQUAL(test_cron_next("30 2 * * *", tz, t), test_cron_utc(2026, 10, 26, 1, 30));
	/* From inside the repeated hour (02:10 CET) the day's 02:30 is already done. */
	CU_ASSERT_EQUAL(test_cron_next("30 2 * * *", tz, test_cron_utc(2026, 10, 25, 1, 10)),
			test_cron_utc(2026, 10, 26, 1, 30));
	CU_ASSERT_EQUAL(test_cron_next("0 3 * * *", tz, test_cron_utc(2026, 10, 24, 12, 0)),
			test_cron_utc(2026, 10, 25, 2, 0));
}

static void test_cron_next_new_york_dst(void)
{
	const char *tz = "America/New_York";
	time_t t;

	CU_ASSERT_EQUAL(test_cron_next("0 9 * * *", tz, test_cron_utc(2026, 1, 10, 0, 0)),
			test_cron_utc(2026, 1, 10, 14, 0));
	CU_ASSERT_EQUAL(test_cron_next("0 9 * * *", tz, test_cron_utc(2026, 7, 10, 0, 0)),
			test_cron_utc(2026, 7, 10, 13, 0));
	/* Spring forward 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z. */
	t = test_cron_next("30 2 * * *", tz, test_cron_utc(2026, 3, 7, 12, 0));
	CU_ASSERT_EQUAL(t, test_cron_utc(2026, 3, 8, 7, 0));
	CU_ASSERT_EQUAL(test_cron_next("30 2 * * *", tz, t), test_cron_utc(2026, 3, 9, 6, 30));
	CU_ASSERT_EQUAL(test_cron_next("30 2 * * *", tz, test_cron_utc(2026, 3, 8, 6, 59)),
			test_cron_utc(2026, 3, 8, 7, 0));
	CU_ASSERT_EQUAL(test_cron_next("30 1 * * *", tz, test_cron_utc(2026, 3, 7, 12, 0)),
			test_cron_utc(2026, 3, 8, 6, 30));
	CU_ASSERT_EQUAL(test_cron_next("30 3 * * *", tz, test_cron_utc(2026, 3, 7, 12, 0)),
			test_cron_utc(2026, 3, 8, 7, 30));
	/* Fall back 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z; 01:30 happens twice, runs once. */
	t = test_cron_next("30 1 * * *", tz, test_cron_utc(2026, 10, 31, 12, 0));
	CU_ASSERT_EQUAL(t, test_cron_utc(2026, 11, 1, 5, 30));
	CU_ASSERT_EQUAL(test_cron_next("30 1 * * *", tz, t), test_cron_utc(2026, 11, 2, 6, 30));
	CU_ASSERT_EQUAL(test_cron_next("30 1 * * *", tz, test_cron_utc(2026, 11, 1, 6, 15)),
			test_cron_utc(2026, 11, 2, 6, 30));
	t = test_cron_next("30 2 * * *", tz, test_cron_utc(2026, 10, 31, 12, 0));
	CU_ASSERT_EQUAL(t, test_cron_utc(2026, 11, 1, 7, 30));
	CU_ASSERT_EQUAL(test_cron_next("30 2 * * *", tz, t), test_cron_utc(2026, 11, 2, 7, 30));
	CU_ASSERT_EQUAL(test_cron_next("0 2 * * *", tz, test_cron_utc(2026, 11, 1, 6, 10)),
			test_cron_utc(2026, 11, 1, 7, 0));
}

static void test_cron_next_new_york_gap_once(void)
{
	/* Local 2026-03-08 runs from 05:00Z to 04:00Z the next day (a 23-hour day). */
	time_t from = test_cron_utc(2026, 3, 8, 5, 0), to = test_cron_utc(2026, 3, 9, 4, 0);
	time_t runs[8];
	int n;

	n = test_cron_runs("30 2 * * *", "America/New_York", from, to, runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 3, 8, 7, 0));
	/* 02:00, 02:15, 02:30, 02:45 and 03:00 all fall on 07:00Z: one run, then 03:15. */
	n = test_cron_runs("*/15 2-3 * * *", "America/New_York", from, to, runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 3, 8, 7, 0));
	CU_ASSERT_EQUAL(runs[1], test_cron_utc(2026, 3, 8, 7, 15));
	CU_ASSERT_EQUAL(runs[2], test_cron_utc(2026, 3, 8, 7, 30));
	CU_ASSERT_EQUAL(runs[3], test_cron_utc(2026, 3, 8, 7, 45));
	/* Berlin's gap the same way. */
	n = test_cron_runs("*/30 2-3 * * *", "Europe/Berlin", test_cron_utc(2026, 3, 28, 23, 0),
			   test_cron_utc(2026, 3, 29, 22, 0), runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 3, 29, 1, 0));
	CU_ASSERT_EQUAL(runs[1], test_cron_utc(2026, 3, 29, 1, 30));
}

static void test_cron_next_new_york_fallback_once(void)
{
	/* Local 2026-11-01 runs from 04:00Z to 05:00Z the next day (a 25-hour day). */
	time_t from = test_cron_utc(2026, 11, 1, 4, 0), to = test_cron_utc(2026, 11, 2, 5, 0);
	time_t runs[8];
	int n;

	n = test_cron_runs("30 2 * * *", "America/New_York", from, to, runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 11, 1, 7, 30));
	n = test_cron_runs("30 1 * * *", "America/New_York", from, to, runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 11, 1, 5, 30));
	n = test_cron_runs("*/20 1 * * *", "America/New_York", from, to, runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 11, 1, 5, 0));
	CU_ASSERT_EQUAL(runs[2], test_cron_utc(2026, 11, 1, 5, 40));
	n = test_cron_runs("30 2 * * *", "Europe/Berlin", test_cron_utc(2026, 10, 24, 22, 0),
			   test_cron_utc(2026, 10, 25, 23, 0), runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 10, 25, 0, 30));
}

/* Hourly jobs: the hour skipped in spring has no run of its own; the repeated hour in autumn runs
 * once (its first pass), so 01:00 EDT is followed by 02:00 EST two hours later. */
static void test_cron_next_hourly_across_dst(void)
{
	time_t runs[8];
	int n;

	n = test_cron_runs("0 * * * *", "America/New_York", test_cron_utc(2026, 3, 8, 5, 30),
			   test_cron_utc(2026, 3, 8, 8, 30), runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 3, 8, 6, 0));
	CU_ASSERT_EQUAL(runs[1], test_cron_utc(2026, 3, 8, 7, 0));
	CU_ASSERT_EQUAL(runs[2], test_cron_utc(2026, 3, 8, 8, 0));
	n = test_cron_runs("0 * * * *", "America/New_York", test_cron_utc(2026, 11, 1, 3, 30),
			   test_cron_utc(2026, 11, 1, 8, 30), runs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(runs[0], test_cron_utc(2026, 11, 1, 4, 0));
	CU_ASSERT_EQUAL(runs[1], test_cron_utc(2026, 11, 1, 5, 0));
	CU_ASSERT_EQUAL(runs[2], test_cron_utc(2026, 11, 1, 7, 0));
	CU_ASSERT_EQUAL(runs[3], test_cron_utc(2026, 11, 1, 8, 0));
}

/* A daily job in a DST zone runs exactly once on every local day of 2026. */
static void test_cron_next_no_day_skipped(void)
{
	static const struct {
		const char *expr, *tz;
	} cases[] = {
		{ "30 2 * * *", "America/New_York" }, { "30 1 * * *", "America/New_York" },
		{ "0 0 * * *", "America/New_York" },  { "30 2 * * *", "Europe/Berlin" },
		{ "0 3 * * *", "Europe/Berlin" },     { "59 23 * * *", "Europe/Berlin" },
	};
	static time_t runs[400];
	const char *orig = getenv("TZ");
	char *saved = orig ? strdup(orig) : NULL;
	struct tm tm;
	size_t i;
	int n, k, in_2026, prev_yday;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = test_cron_runs(cases[i].expr, cases[i].tz, test_cron_utc(2025, 12, 31, 0, 0),
				   test_cron_utc(2027, 1, 2, 0, 0), runs, 400);
		CU_ASSERT_FATAL(n > 0 && n <= 400);
		setenv("TZ", cases[i].tz, 1);
		tzset();
		in_2026 = 0;
		prev_yday = -1;
		for (k = 0; k < n; k++) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(localtime_r(&runs[k], &tm));
			if (tm.tm_year + 1900 != 2026)
				continue;
			CU_ASSERT_EQUAL(tm.tm_yday, prev_yday + 1);
			prev_yday = tm.tm_yday;
			in_2026++;
		}
		CU_ASSERT_EQUAL(in_2026, 365);
	}
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static void test_cron_tz_valid_good(void)
{
	CU_ASSERT_EQUAL(cron_tz_valid("UTC"), 1);
	CU_ASSERT_EQUAL(cron_tz_valid("Europe/Berlin"), 1);
	CU_ASSERT_EQUAL(cron_tz_valid("America/New_York"), 1);
	CU_ASSERT_EQUAL(cron_tz_valid("America/Argentina/Buenos_Aires"), 1);
	CU_ASSERT_EQUAL(cron_tz_valid("Etc/GMT+5"), 1);
	CU_ASSERT_EQUAL(cron_tz_valid("Etc/GMT-14"), 1);
	CU_ASSERT_EQUAL(cron_tz_valid("Asia/Kolkata"), 1);
	CU_ASSERT_EQUAL(cron_tz_valid("Australia/Lord_Howe"), 1);
}

static void test_cron_tz_valid_bad(void)
{
	static const char *bad[] = {
		"", "Not/AZone", "../etc/passwd", "/etc/passwd", "/usr/share/zoneinfo/UTC", "Europe/../UTC",
		"..", "America", "America/", "America//New_York", "leapseconds", "zone.tab", "tzdata.zi",
		"UTC ", " UTC", "UTC\n", "utc", "Europe/Berlin\x01", "Europe\\Berlin", "Europe/Berlin;rm",
		"right/UTC", "localtime", "Etc/GMT+5:", "$HOME", "~root",
	};
	char name[201];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (cron_tz_valid(bad[i]) != 0)
			fprintf(stderr, "\naccepted bad zone '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(cron_tz_valid(bad[i]), 0);
	}
	CU_ASSERT_EQUAL(cron_tz_valid(NULL), 0);
	memset(name, 'A', 200);
	name[200] = '\0';
	CU_ASSERT_EQUAL(cron_tz_valid(name), 0);
	/* 65 bytes of a plausible shape. */
	memcpy(name, "Europe/", 7);
	memset(name + 7, 'a', 58);
	name[65] = '\0';
	CU_ASSERT_EQUAL(cron_tz_valid(name), 0);
}

static void test_cron_next_restores_tz(void)
{
	const char *orig = getenv("TZ");
	char *saved = orig ? strdup(orig) : NULL;
	cron_expr c;
	time_t t, zero = 0;
	struct tm tm;

	CU_ASSERT_EQUAL_FATAL(test_cron_parses("0 12 * * *", &c), 0);

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	CU_ASSERT_EQUAL(cron_next(&c, "America/New_York", test_cron_utc(2026, 1, 1, 0, 0), &t), 0);
	CU_ASSERT_EQUAL(t, test_cron_utc(2026, 1, 1, 17, 0));
	CU_ASSERT_PTR_NOT_NULL_FATAL(getenv("TZ"));
	CU_ASSERT_STRING_EQUAL(getenv("TZ"), "Asia/Tokyo");
	CU_ASSERT_PTR_NOT_NULL(localtime_r(&zero, &tm));
	CU_ASSERT_EQUAL(tm.tm_hour, 9);
	/* A failing call restores too. */
	CU_ASSERT_EQUAL(cron_next(&c, "UTC", (time_t)LLONG_MAX, &t), -1);
	CU_ASSERT_STRING_EQUAL(getenv("TZ"), "Asia/Tokyo");

	unsetenv("TZ");
	tzset();
	CU_ASSERT_EQUAL(cron_next(&c, "Europe/Berlin", test_cron_utc(2026, 1, 1, 0, 0), &t), 0);
	CU_ASSERT_EQUAL(t, test_cron_utc(2026, 1, 1, 11, 0));
	CU_ASSERT_PTR_NULL(getenv("TZ"));

	/* Already in the requested zone: nothing to switch, same answer. */
	setenv("TZ", ":/usr/share/zoneinfo/Europe/Berlin", 1);
	tzset();
	CU_ASSERT_EQUAL(cron_next(&c, "Europe/Berlin", test_cron_utc(2026, 1, 1, 0, 0), &t), 0);
	CU_ASSERT_EQUAL(t, test_cron_utc(2026, 1, 1, 11, 0));
	CU_ASSERT_STRING_EQUAL(getenv("TZ"), ":/usr/share/zoneinfo/Europe/Berlin");

	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static uint32_t test_cron_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* In UTC, T is a minute that EXPR selects. */
static int test_cron_selects(const cron_expr *c, time_t t)
{
	struct tm tm;
	int dom, dow;

	if (!gmtime_r(&t, &tm) || tm.tm_sec != 0)
		return 0;
	if (!((c->minutes >> tm.tm_min) & 1) || !((c->hours >> tm.tm_hour) & 1) || !((c->months >> (tm.tm_mon + 1)) & 1))
		return 0;
	dom = (c->days >> tm.tm_mday) & 1;
	dow = (c->weekdays >> tm.tm_wday) & 1;
	return (c->days_restricted && c->weekdays_restricted) ? (dom || dow) : (dom && dow);
}

/* One random field element for a field spanning LO-HI: mostly valid, sometimes just outside. */
static int test_cron_element(uint32_t *seed, int lo, int hi, char *out, size_t outlen)
{
	int a = lo + (int)(test_cron_rand(seed) % (uint32_t)(hi - lo + 1)) - (test_cron_rand(seed) % 16 == 0);
	int b = a + (int)(test_cron_rand(seed) % (uint32_t)(hi - a + 1 + (test_cron_rand(seed) % 16 == 0)));
	int step = 1 + (int)(test_cron_rand(seed) % (uint32_t)(hi - lo) / 2);

	switch (test_cron_rand(seed) % 6) {
	case 0:
		return snprintf(out, outlen, "*");
	case 1:
		return snprintf(out, outlen, "*/%d", step);
	case 2:
		return snprintf(out, outlen, "%d", a);
	case 3:
		return snprintf(out, outlen, "%d-%d", a, b);
	case 4:
		return snprintf(out, outlen, "%d-%d/%d", a, b, step);
	default:
		return snprintf(out, outlen, "%d/%d", a, step);
	}
}

/* Random text of three kinds: raw bytes, a soup of cron tokens, and five plausible fields. */
static void test_cron_random_text(uint32_t *seed, int kind, char *text, size_t size)
{
	static const char *atoms[] = { "*",  "0",   "1",   "5",   "7",   "12",  "13",  "23",  "29",  "31",
				       "59", "60",  "-",   ",",   "/",   "/2",  "/7",  " ",   "\t",  "JAN",
				       "mon", "Fri", "dec", "@",  "@daily", "x", "*/15", "1-5", "0-7", "\n" };
	static const int lo[] = { 0, 0, 1, 1, 0 }, hi[] = { 59, 23, 31, 12, 7 };
	size_t len = 0, k;
	int f, e, elems, w;

	text[0] = '\0';
	if (kind == 0) {
		len = test_cron_rand(seed) % 120;
		if (len >= size)
			len = size - 1;
		for (k = 0; k < len; k++)
			text[k] = (char)(test_cron_rand(seed) % 255 + 1);
		text[len] = '\0';
	} else if (kind == 1) {
		for (k = 0; k < 12; k++) {
			const char *a = atoms[test_cron_rand(seed) % (sizeof atoms / sizeof atoms[0])];
			size_t al = strlen(a);
			if (len + al + 2 >= size)
				break;
			memcpy(text + len, a, al + 1);
			len += al;
			if (test_cron_rand(seed) % 3 == 0) {
				text[len++] = ' ';
				text[len] = '\0';
			}
		}
	} else {
		for (f = 0; f < 5; f++) {
			elems = 1 + (int)(test_cron_rand(seed) % 3);
			for (e = 0; e < elems; e++) {
				w = test_cron_element(seed, lo[f], hi[f], text + len, size - len);
				if (w < 0 || (size_t)w >= size - len - 2)
					return;
				len += (size_t)w;
				text[len++] = e + 1 < elems ? ',' : ' ';
				text[len] = '\0';
			}
		}
	}
}

/* Random text must never crash the parser; random valid expressions are checked against a
 * minute-by-minute search in UTC. */
static void test_cron_fuzz(void)
{
	uint32_t seed = 0x2545F491u;
	char text[160], err[128];
	cron_expr c;
	time_t after = test_cron_utc(2026, 4, 10, 13, 37), t, m, limit;
	int i, checked = 0, ok;

	for (i = 0; i < 30000; i++) {
		test_cron_random_text(&seed, i % 3, text, sizeof text);
		err[0] = '\0';
		ok = cron_parse(text, &c, err, sizeof err);
		CU_ASSERT(ok == 0 || ok == -1);
		if (ok != 0) {
			CU_ASSERT(err[0] != '\0' && strchr(err, '\n') == NULL && strlen(err) < sizeof err);
			continue;
		}
		CU_ASSERT(c.minutes != 0 && (c.minutes >> 60) == 0);
		CU_ASSERT(c.hours != 0 && (c.hours >> 24) == 0);
		CU_ASSERT(c.days != 0 && (c.days & 1) == 0);
		CU_ASSERT(c.months != 0 && (c.months & 1) == 0 && (c.months >> 13) == 0);
		CU_ASSERT(c.weekdays != 0 && (c.weekdays >> 7) == 0);
		if (checked >= 400)
			continue;
		checked++;
		if (cron_next(&c, "UTC", after, &t) != 0) {
			t = (time_t)-1;
			limit = after + 3 * 86400;
		} else {
			CU_ASSERT(t > after);
			CU_ASSERT(test_cron_selects(&c, t));
			limit = t < after + 3 * 86400 ? t : after + 3 * 86400;
		}
		for (m = after - after % 60 + 60; m < limit; m += 60) {
			if (test_cron_selects(&c, m)) {
				fprintf(stderr, "\n'%s': missed %lld before %lld\n", text, (long long)m, (long long)t);
				CU_FAIL("cron_next skipped a due minute");
				break;
			}
		}
		/* Never crashes in a DST zone, and answers after AFTER. */
		if (cron_next(&c, "America/New_York", after, &t) == 0)
			CU_ASSERT(t > after);
	}
	CU_ASSERT(checked >= 400);
}

/* Local wall clock of T in the current TZ, in seconds counted like test_cron_utc. */
static long long test_cron_wall(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return LLONG_MIN;
	return (long long)test_cron_utc_s(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
					  tm.tm_sec);
}

/* Reference model, minute by minute: an instant fires when the wall clock first reaches a selected
 * local minute (directly, or by jumping over it in a spring-forward gap). Returns the first firing
 * instant in (AFTER, AFTER + 3 days], or -1. */
static time_t test_cron_model(const cron_expr *c, time_t after)
{
	time_t m = after - after % 60 - 3 * 3600;
	long long maxwall = test_cron_wall(m), w, l;

	for (m += 60; m <= after + 3 * 86400; m += 60) {
		w = test_cron_wall(m);
		if (w <= maxwall)
			continue;
		for (l = maxwall + 60; l <= w; l += 60) {
			if (m > after && test_cron_selects(c, (time_t)l))
				return m;
		}
		maxwall = w;
	}
	return (time_t)-1;
}

/* Random expressions near the 2026 transitions of three zones (Lord Howe shifts by 30 minutes)
 * against the reference model. */
static void test_cron_dst_model(void)
{
	static const struct {
		const char *tz;
		time_t at;
	} tr[] = {
		{ "America/New_York", 1772953200 }, /* 2026-03-08 07:00Z */
		{ "America/New_York", 1793512800 }, /* 2026-11-01 06:00Z */
		{ "Europe/Berlin", 1774746000 },    /* 2026-03-29 01:00Z */
		{ "Europe/Berlin", 1792890000 },    /* 2026-10-25 01:00Z */
		{ "Australia/Lord_Howe", 1775314800 }, /* 2026-04-04 15:00Z */
		{ "Australia/Lord_Howe", 1791041400 }, /* 2026-10-03 15:30Z */
	};
	const char *orig = getenv("TZ");
	char *saved = orig ? strdup(orig) : NULL;
	uint32_t seed = 0x9E3779B9u;
	char text[160], err[128];
	cron_expr c;
	time_t after, got, want;
	size_t i;
	int n, mismatches = 0;

	CU_ASSERT_EQUAL(tr[0].at, test_cron_utc(2026, 3, 8, 7, 0));
	CU_ASSERT_EQUAL(tr[3].at, test_cron_utc(2026, 10, 25, 1, 0));
	for (i = 0; i < sizeof tr / sizeof tr[0]; i++) {
		for (n = 0; n < 40;) {
			test_cron_random_text(&seed, 2, text, sizeof text);
			if (cron_parse(text, &c, err, sizeof err) != 0)
				continue;
			n++;
			/* Half the time force the hours around the transition so that it matters. */
			if (n % 2 == 0)
				c.hours = 0x1eu;
			after = tr[i].at - 30 * 3600 + (time_t)(test_cron_rand(&seed) % (48 * 3600));
			if (cron_next(&c, tr[i].tz, after, &got) != 0)
				got = (time_t)-1;
			setenv("TZ", tr[i].tz, 1);
			tzset();
			want = test_cron_model(&c, after);
			if (want == (time_t)-1 ? (got != (time_t)-1 && got <= after + 3 * 86400) : got != want) {
				if (mismatches++ < 5)
					fprintf(stderr, "\n%s '%s' hours=%#x after %lld: got %lld, model %lld\n", tr[i].tz,
						text, (unsigned)c.hours, (long long)after, (long long)got, (long long)want);
			}
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

int test_cron_suite(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "parse star", test_cron_parse_star },
		{ "parse numbers, ranges, lists", test_cron_parse_numbers_ranges_lists },
		{ "parse steps", test_cron_parse_steps },
		{ "parse month names", test_cron_parse_month_names },
		{ "parse weekday names", test_cron_parse_weekday_names },
		{ "parse 7 is Sunday", test_cron_parse_sunday_seven },
		{ "parse macros", test_cron_parse_macros },
		{ "parse blanks", test_cron_parse_blanks },
		{ "parse restricted day flags", test_cron_parse_restricted_flags },
		{ "parse rejects", test_cron_parse_rejects },
		{ "parse error messages", test_cron_parse_error_messages },
		{ "parse length limit", test_cron_parse_length_limit },
		{ "parse error buffers", test_cron_parse_err_buffers },
		{ "next in UTC", test_cron_next_utc_basic },
		{ "next is strictly after", test_cron_next_strictly_after },
		{ "next Vixie day OR rule", test_cron_next_vixie_or },
		{ "next with one day field", test_cron_next_single_day_field },
		{ "next leap day", test_cron_next_leap_day },
		{ "next impossible date", test_cron_next_impossible },
		{ "next bad arguments", test_cron_next_bad_args },
		{ "next Europe/Berlin DST", test_cron_next_berlin_dst },
		{ "next America/New_York DST", test_cron_next_new_york_dst },
		{ "next spring gap runs once", test_cron_next_new_york_gap_once },
		{ "next fall back runs once", test_cron_next_new_york_fallback_once },
		{ "next hourly across DST", test_cron_next_hourly_across_dst },
		{ "next skips no day", test_cron_next_no_day_skipped },
		{ "tz valid names", test_cron_tz_valid_good },
		{ "tz invalid names", test_cron_tz_valid_bad },
		{ "next restores TZ", test_cron_next_restores_tz },
		{ "fuzz", test_cron_fuzz },
		{ "DST reference model", test_cron_dst_model },
	};
	CU_pSuite suite = CU_add_suite("cron", NULL, NULL);
	size_t i;

	if (!suite)
		return -1;
	for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	}
	return 0;
}
