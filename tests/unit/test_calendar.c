/* test_calendar: the multistatus XML reader (davxml) and the iCalendar reader with its recurrence expansion (ical). */
#include "caldav.h"
#include "cron.h"
#include "davxml.h"
#include "ical.h"
#include "sbuf.h"
#include "suites.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Epoch seconds of a UTC date and time. */
static int64_t tc_utc(int y, int mo, int d, int h, int mi)
{
	return (int64_t)cron_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static int tc_xml(arena *a, const char *xml, int max, davxml_item **items, int *n, char *err, size_t errlen)
{
	return davxml_multistatus(a, xml, strlen(xml), max, items, n, err, errlen);
}

static void tc_xml_prefixes(void)
{
	static const char doc[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<!-- a comment -->\n"
		"<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
		"<D:response><D:href>/cal/a.ics</D:href><D:propstat><D:prop><D:getetag>\"1\"</D:getetag>"
		"<C:calendar-data>BEGIN:VCALENDAR&#13;\nSUMMARY:a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#x41;&#66;"
		"</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
		"<D:propstat><D:prop><X:other xmlns:X=\"urn:x\"/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status>"
		"</D:propstat></D:response>"
		"<D:response><D:href>/cal/b.ics</D:href><D:propstat><D:prop>"
		"<C:calendar-data><![CDATA[BEGIN:VCALENDAR <raw> & ]]>tail</C:calendar-data>"
		"</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
		"<D:response><D:href>/cal/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype>"
		"</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
		"</D:multistatus>\n";
	arena *a = arena_new();
	davxml_item *it;
	int n;
	char err[200];
	CU_ASSERT_EQUAL_FATAL(tc_xml(a, doc, 10, &it, &n, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(it[0].href, "/cal/a.ics");
	CU_ASSERT_STRING_EQUAL(it[0].calendar_data, "BEGIN:VCALENDAR\r\nSUMMARY:a & b <c> \"d\" 'e' AB");
	CU_ASSERT_EQUAL(it[0].data_len, strlen(it[0].calendar_data));
	CU_ASSERT_STRING_EQUAL(it[1].href, "/cal/b.ics");
	CU_ASSERT_STRING_EQUAL(it[1].calendar_data, "BEGIN:VCALENDAR <raw> & tail");
	arena_free(a);
}

/* Namespaces are resolved, not matched by prefix: a default namespace, other prefixes, a redefinition. */
static void tc_xml_namespaces(void)
{
	static const char doc[] =
		"<multistatus xmlns=\"DAV:\"><response><href>/x.ics</href><propstat><prop>"
		"<cal:calendar-data xmlns:cal=\"urn:ietf:params:xml:ns:caldav\">DATA1</cal:calendar-data>"
		"</prop><status>HTTP/1.1 200 OK</status></propstat></response>"
		"<d:response xmlns:d=\"DAV:\"><d:href>/y.ics</d:href><d:propstat><d:prop>"
		"<calendar-data xmlns='urn:ietf:params:xml:ns:caldav'>DATA2</calendar-data>"
		"<d:calendar-data>not caldav</d:calendar-data>"
		"</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
		/* C is bound to another namespace here: not calendar-data. */
		"<response xmlns:C=\"urn:other\"><href>/z.ics</href><propstat><prop><C:calendar-data>NO</C:calendar-data>"
		"</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
	arena *a = arena_new();
	davxml_item *it;
	int n;
	char err[200];
	CU_ASSERT_EQUAL_FATAL(tc_xml(a, doc, 10, &it, &n, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(it[0].calendar_data, "DATA1");
	CU_ASSERT_STRING_EQUAL(it[1].href, "/y.ics");
	CU_ASSERT_STRING_EQUAL(it[1].calendar_data, "DATA2");
	arena_free(a);
}

static void tc_xml_expect_error(const char *doc, int max, const char *want)
{
	arena *a = arena_new();
	davxml_item *it;
	int n;
	char err[200] = "";
	int rc = tc_xml(a, doc, max, &it, &n, err, sizeof err);
	if (rc == 0 || !strstr(err, want))
		fprintf(stderr, "\nxml %.60s: rc %d err \"%s\" (wanted \"%s\")\n", doc, rc, err, want);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	arena_free(a);
}

static void tc_xml_errors(void)
{
	tc_xml_expect_error("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><D:multistatus xmlns:D=\"DAV:\"/>", 10,
			    "document type declarations");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\">&bogus;</D:multistatus>", 10, "unknown entity");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\">&#0;</D:multistatus>", 10, "does not allow");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\">&#xD800;</D:multistatus>", 10, "does not allow");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\">&#99999999;</D:multistatus>", 10, "beyond");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\"><D:response></D:multistatus>", 10, "does not match");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\"><D:response>", 10, "ends inside");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"urn:not-dav\"/>", 10, "not a DAV:multistatus");
	tc_xml_expect_error("<html><body>Login</body></html>", 10, "not a DAV:multistatus");
	tc_xml_expect_error("<X:multistatus/>", 10, "not declared");
	tc_xml_expect_error("", 10, "empty");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\"/><D:multistatus xmlns:D=\"DAV:\"/>", 10, "after the document");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\" a=\"1\" a=\"2\"/>", 10, "repeated attribute");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\" a=\"<\"/>", 10, "'<' in an attribute");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\">\xff</D:multistatus>", 10, "UTF-8");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\"><![CDATA[x</D:multistatus>", 10, "CDATA");
	tc_xml_expect_error("<D:multistatus xmlns:D=\"DAV:\"><D:response><D:propstat><D:prop>"
			    "<C:calendar-data xmlns:C=\"urn:ietf:params:xml:ns:caldav\">x</C:calendar-data></D:prop>"
			    "</D:propstat></D:response></D:multistatus>",
			    10, "no status");
	/* Nesting beyond the limit. */
	char deep[2048] = "<D:multistatus xmlns:D=\"DAV:\">";
	for (int i = 0; i < DAVXML_MAX_DEPTH; i++)
		strcat(deep, "<a>");
	tc_xml_expect_error(deep, 10, "deeper than");
	/* More calendar objects than allowed. */
	char many[4096] = "<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">";
	for (int i = 0; i < 3; i++)
		strcat(many, "<D:response><D:propstat><D:prop><C:calendar-data>x</C:calendar-data></D:prop>"
			     "<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>");
	strcat(many, "</D:multistatus>");
	tc_xml_expect_error(many, 2, "more than 2");
}

/* ---- iCalendar ---- */

static ical_list tc_ical(arena *a, const char *text, int64_t from, int64_t to, int want_rc)
{
	ical_list l;
	char err[200] = "";
	memset(&l, 0, sizeof l);
	int rc = ical_collect(a, text, strlen(text), from, to, &l, err, sizeof err);
	if (rc != want_rc)
		fprintf(stderr, "\nical: rc %d err \"%s\"\n", rc, err);
	CU_ASSERT_EQUAL(rc, want_rc);
	ical_sort(&l);
	return l;
}

static void tc_ical_basic(void)
{
	static const char text[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
		"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
		"TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
		"BEGIN:VEVENT\r\nUID:timed@test\r\nDTSTART;TZID=Europe/Berlin:20261201T090000\r\n"
		"DTEND;TZID=\"Europe/Berlin\":20261201T103000\r\nSUMMARY:Team\\, sync\\; with \\\\ and\\nnew line\r\n"
		"LOCATION:Room \r\n 42, floor 3\r\n"
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nSUMMARY:not the event\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
		"END:VEVENT\r\n"
		"BEGIN:VEVENT\nUID:allday@test\nDTSTART;VALUE=DATE:20261203\nDTEND;VALUE=DATE:20261204\nSUMMARY:Holiday\n"
		"END:VEVENT\n"
		"BEGIN:VEVENT\nUID:utc@test\nDTSTART:20261202T120000Z\nDURATION:PT45M\nSUMMARY:Call\nEND:VEVENT\n"
		"BEGIN:VEVENT\nUID:floating@test\nDTSTART:20261202T070000\nSUMMARY:Floating\nEND:VEVENT\n"
		"BEGIN:VEVENT\nUID:out@test\nDTSTART:20270115T120000Z\nSUMMARY:Outside\nEND:VEVENT\n"
		"BEGIN:VEVENT\nUID:cancelled@test\nDTSTART:20261202T130000Z\nSTATUS:CANCELLED\nSUMMARY:Gone\nEND:VEVENT\n"
		"END:VCALENDAR\r\n";
	arena *a = arena_new();
	ical_list l = tc_ical(a, text, tc_utc(2026, 12, 1, 0, 0), tc_utc(2026, 12, 8, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 4);
	/* 09:00 in Berlin in winter is 08:00 UTC. */
	CU_ASSERT_STRING_EQUAL(l.ev[0].summary, "Team, sync; with \\ and\nnew line");
	CU_ASSERT_STRING_EQUAL(l.ev[0].location, "Room 42, floor 3");
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 12, 1, 8, 0));
	CU_ASSERT_EQUAL(l.ev[0].end, tc_utc(2026, 12, 1, 9, 30));
	CU_ASSERT_STRING_EQUAL(l.ev[0].tzid, "Europe/Berlin");
	CU_ASSERT_STRING_EQUAL(l.ev[0].zone, "Europe/Berlin");
	CU_ASSERT_FALSE(l.ev[0].all_day);
	CU_ASSERT_STRING_EQUAL(l.ev[1].summary, "Floating");
	CU_ASSERT_TRUE(l.ev[1].floating);
	CU_ASSERT_EQUAL(l.ev[1].start, tc_utc(2026, 12, 2, 7, 0));
	CU_ASSERT_STRING_EQUAL(l.ev[2].summary, "Call");
	CU_ASSERT_EQUAL(l.ev[2].end - l.ev[2].start, 45 * 60);
	CU_ASSERT_PTR_NULL(l.ev[2].tzid);
	CU_ASSERT_STRING_EQUAL(l.ev[3].summary, "Holiday");
	CU_ASSERT_TRUE(l.ev[3].all_day);
	CU_ASSERT_EQUAL(l.ev[3].start, tc_utc(2026, 12, 3, 0, 0));
	CU_ASSERT_EQUAL(l.ev[3].end, tc_utc(2026, 12, 4, 0, 0));
	arena_free(a);
}

static void tc_ical_recurrence(void)
{
	/* Weekly on Tuesday 09:00 Berlin from 2026-03-10, 5 times, the 2nd excluded, the 3rd moved to 11:00:
	 * Berlin changes to summer time on 2026-03-29, so the UTC hour moves from 08 to 07. */
	static const char text[] =
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:weekly@test\nDTSTART;TZID=Europe/Berlin:20260310T090000\n"
		"DTEND;TZID=Europe/Berlin:20260310T093000\nRRULE:FREQ=WEEKLY;COUNT=5\n"
		"EXDATE;TZID=Europe/Berlin:20260317T090000\nSUMMARY:Standup\nEND:VEVENT\n"
		"BEGIN:VEVENT\nUID:weekly@test\nRECURRENCE-ID;TZID=Europe/Berlin:20260324T090000\n"
		"DTSTART;TZID=Europe/Berlin:20260324T110000\nDTEND;TZID=Europe/Berlin:20260324T113000\n"
		"SUMMARY:Standup (moved)\nEND:VEVENT\nEND:VCALENDAR\n";
	arena *a = arena_new();
	ical_list l = tc_ical(a, text, tc_utc(2026, 3, 1, 0, 0), tc_utc(2026, 5, 1, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 4);
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 3, 10, 8, 0));
	CU_ASSERT_STRING_EQUAL(l.ev[1].summary, "Standup (moved)");
	CU_ASSERT_EQUAL(l.ev[1].start, tc_utc(2026, 3, 24, 10, 0));
	CU_ASSERT_EQUAL(l.ev[2].start, tc_utc(2026, 3, 31, 7, 0));
	CU_ASSERT_EQUAL(l.ev[2].end, tc_utc(2026, 3, 31, 7, 30));
	CU_ASSERT_EQUAL(l.ev[3].start, tc_utc(2026, 4, 7, 7, 0));
	CU_ASSERT_TRUE(l.ev[3].recurring);
	/* A window in the middle sees only what overlaps it. */
	l = tc_ical(a, text, tc_utc(2026, 3, 30, 0, 0), tc_utc(2026, 4, 1, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 3, 31, 7, 0));
	arena_free(a);
}

static void tc_ical_rules(void)
{
	arena *a = arena_new();
	/* Last Friday of each month, all day, until the end of June. */
	ical_list l = tc_ical(a,
			      "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:m\nDTSTART;VALUE=DATE:20260130\n"
			      "RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20260630\nSUMMARY:Review\nEND:VEVENT\nEND:VCALENDAR\n",
			      tc_utc(2026, 1, 1, 0, 0), tc_utc(2027, 1, 1, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 6);
	CU_ASSERT_EQUAL(l.ev[1].start, tc_utc(2026, 2, 27, 0, 0));
	CU_ASSERT_EQUAL(l.ev[5].start, tc_utc(2026, 6, 26, 0, 0));
	CU_ASSERT_EQUAL(l.ev[5].end, tc_utc(2026, 6, 27, 0, 0));
	/* Every other day, UTC, far in the past: the walk starts near the window. */
	l = tc_ical(a,
		    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART:19800101T060000Z\nRRULE:FREQ=DAILY;INTERVAL=2\n"
		    "SUMMARY:Pills\nEND:VEVENT\nEND:VCALENDAR\n",
		    tc_utc(2026, 12, 1, 0, 0), tc_utc(2026, 12, 8, 0, 0), 0);
	CU_ASSERT_EQUAL(l.n, 4);
	CU_ASSERT_FALSE(l.truncated);
	/* COUNT from long ago: counted without converting, the instances near the window in summer time; the
	 * 1400th and last is 2026-10-27. */
	static const char counted[] = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:c\nDTSTART;TZID=Europe/Berlin:20000104T090000\n"
				      "RRULE:FREQ=WEEKLY;COUNT=1400\nSUMMARY:Counted\nEND:VEVENT\nEND:VCALENDAR\n";
	l = tc_ical(a, counted, tc_utc(2026, 7, 6, 0, 0), tc_utc(2026, 7, 13, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 7, 7, 7, 0));
	l = tc_ical(a, counted, tc_utc(2026, 10, 20, 0, 0), tc_utc(2026, 11, 30, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	CU_ASSERT_EQUAL(l.ev[1].start, tc_utc(2026, 10, 27, 8, 0));
	/* Yearly birthday on the 29th of February appears only in leap years; the 31st only in long months. */
	l = tc_ical(a,
		    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:y\nDTSTART;VALUE=DATE:20240229\nRRULE:FREQ=YEARLY\n"
		    "SUMMARY:Leap\nEND:VEVENT\nBEGIN:VEVENT\nUID:m31\nDTSTART:20260131T100000Z\nRRULE:FREQ=MONTHLY;COUNT=4\n"
		    "SUMMARY:Thirty-first\nEND:VEVENT\nEND:VCALENDAR\n",
		    tc_utc(2024, 1, 1, 0, 0), tc_utc(2030, 1, 1, 0, 0), 0);
	int leap = 0, m31 = 0;
	for (int i = 0; i < l.n; i++) {
		leap += strcmp(l.ev[i].summary, "Leap") == 0;
		m31 += strcmp(l.ev[i].summary, "Thirty-first") == 0;
	}
	CU_ASSERT_EQUAL(leap, 2);   /* 2024 and 2028 */
	CU_ASSERT_EQUAL(m31, 4);    /* Jan, Mar, May, Jul: COUNT counts instances, not months */
	/* Parts this reader does not expand keep the first instance and say so. */
	l = tc_ical(a,
		    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:h\nDTSTART:20261201T100000Z\nRRULE:FREQ=HOURLY;COUNT=3\n"
		    "SUMMARY:Hourly\nEND:VEVENT\nEND:VCALENDAR\n",
		    tc_utc(2026, 12, 1, 0, 0), tc_utc(2026, 12, 2, 0, 0), 0);
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT_TRUE(l.unsupported);
	/* RDATE adds instances (EXDATE still removes them); a PERIOD value is not read and says so. */
	l = tc_ical(a,
		    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:r\nDTSTART:20261201T100000Z\nDURATION:PT30M\n"
		    "RDATE:20261203T100000Z,20261205T100000Z\nRDATE:20261207T100000Z\nEXDATE:20261205T100000Z\n"
		    "SUMMARY:Extra\nEND:VEVENT\nBEGIN:VEVENT\nUID:p\nDTSTART:20261202T100000Z\n"
		    "RDATE;VALUE=PERIOD:20261204T100000Z/PT1H\nSUMMARY:Period\nEND:VEVENT\nEND:VCALENDAR\n",
		    tc_utc(2026, 12, 1, 0, 0), tc_utc(2026, 12, 31, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 4);
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 12, 1, 10, 0));
	CU_ASSERT_STRING_EQUAL(l.ev[1].summary, "Period");
	CU_ASSERT_EQUAL(l.ev[2].start, tc_utc(2026, 12, 3, 10, 0));
	CU_ASSERT_EQUAL(l.ev[2].end, tc_utc(2026, 12, 3, 10, 30));
	CU_ASSERT_EQUAL(l.ev[3].start, tc_utc(2026, 12, 7, 10, 0));
	CU_ASSERT_TRUE(l.unsupported);
	/* Instances a server already expanded (RECURRENCE-ID, UTC, no RRULE) pass through. */
	l = tc_ical(a,
		    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nRECURRENCE-ID:20261201T100000Z\nDTSTART:20261201T100000Z\n"
		    "DTEND:20261201T110000Z\nSUMMARY:Expanded\nEND:VEVENT\nBEGIN:VEVENT\nUID:x\n"
		    "RECURRENCE-ID:20261208T100000Z\nDTSTART:20261208T100000Z\nDTEND:20261208T110000Z\nSUMMARY:Expanded\n"
		    "END:VEVENT\nEND:VCALENDAR\n",
		    tc_utc(2026, 12, 1, 0, 0), tc_utc(2026, 12, 31, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	CU_ASSERT_TRUE(l.ev[1].recurring);
	arena_free(a);
}

static void tc_ical_errors(void)
{
	static const char *const bad[] = {
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY no colon\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261301T000000Z\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026120\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261201T250000Z\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261201T100000Z\nDURATION:P1X\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261201T100000Z\nRRULE:FREQ=DAILY;COUNT=2;UNTIL=20270101\n"
		"END:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=\"Europe/Berlin:20261201T100000\nEND:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261201T100000Z\n",
		"SUMMARY:outside\n",
		"BEGIN:VEVENT\nEND:VEVENT\n",
		"",
	};
	arena *a = arena_new();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ical_list l = tc_ical(a, bad[i], 0, tc_utc(2100, 1, 1, 0, 0), -1);
		(void)l;
	}
	/* A zone the system does not know: times are read as UTC, the TZID is kept. */
	ical_list l = tc_ical(a,
			      "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Mars Standard Time:20261201T100000\n"
			      "END:VEVENT\nEND:VCALENDAR\n",
			      0, tc_utc(2100, 1, 1, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.ev[0].tzid, "Mars Standard Time");
	CU_ASSERT_PTR_NULL(l.ev[0].zone);
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 12, 1, 10, 0));
	/* A TZID the system does not know, defined by the object's VTIMEZONE: its rules give the offset (the
	 * European rules here: +01:00 in winter, +02:00 from the last Sunday of March). */
	static const char custom[] =
		"BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Custom Central\nBEGIN:STANDARD\nDTSTART:19701025T030000\n"
		"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\n"
		"BEGIN:DAYLIGHT\nDTSTART:19700329T020000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nTZOFFSETFROM:+0100\n"
		"TZOFFSETTO:+0200\nEND:DAYLIGHT\nEND:VTIMEZONE\n"
		"BEGIN:VEVENT\nUID:w\nDTSTART;TZID=Custom Central:20260324T090000\nRRULE:FREQ=WEEKLY;COUNT=2\n"
		"SUMMARY:Across DST\nEND:VEVENT\n"
		"BEGIN:VTIMEZONE\nTZID:Fixed\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0530\n"
		"TZOFFSETTO:+0530\nEND:STANDARD\nEND:VTIMEZONE\n"
		"BEGIN:VEVENT\nUID:f\nDTSTART;TZID=Fixed:20260325T120000\nSUMMARY:Fixed\nEND:VEVENT\nEND:VCALENDAR\n";
	l = tc_ical(a, custom, tc_utc(2026, 3, 1, 0, 0), tc_utc(2026, 4, 30, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 3, 24, 8, 0));
	CU_ASSERT_STRING_EQUAL(l.ev[0].tzid, "Custom Central");
	CU_ASSERT_PTR_NULL(l.ev[0].zone);
	CU_ASSERT_EQUAL(l.ev[1].start, tc_utc(2026, 3, 25, 6, 30));
	CU_ASSERT_EQUAL(l.ev[2].start, tc_utc(2026, 3, 31, 7, 0));
	/* A VTIMEZONE it cannot use does not fail the object; the time is then read as UTC. */
	l = tc_ical(a,
		    "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Broken\nBEGIN:STANDARD\nDTSTART:nonsense\n"
		    "TZOFFSETTO:+9999\nRRULE:FREQ=YEARLY;BYDAY=XX\nEND:STANDARD\nEND:VTIMEZONE\n"
		    "BEGIN:VEVENT\nDTSTART;TZID=Broken:20261201T100000\nEND:VEVENT\nEND:VCALENDAR\n",
		    0, tc_utc(2100, 1, 1, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 12, 1, 10, 0));
	/* Windows names (Exchange) map to their IANA zones. */
	l = tc_ical(a,
		    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=\"Eastern Standard Time\":20260701T100000\n"
		    "END:VEVENT\nEND:VCALENDAR\n",
		    0, tc_utc(2100, 1, 1, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.ev[0].zone, "America/New_York");
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 7, 1, 14, 0));
	/* Vendor paths end in a known zone. */
	l = tc_ical(a,
		    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20261201T100000\n"
		    "END:VEVENT\nEND:VCALENDAR\n",
		    0, tc_utc(2100, 1, 1, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.ev[0].zone, "Europe/Berlin");
	CU_ASSERT_EQUAL(l.ev[0].start, tc_utc(2026, 12, 1, 9, 0));
	/* The caller's TZ is left as it was. */
	const char *before = getenv("TZ");
	char saved[128];
	snprintf(saved, sizeof saved, "%s", before ? before : "(unset)");
	struct tm tm;
	CU_ASSERT_EQUAL(ical_local_time(tc_utc(2026, 7, 1, 12, 0), "Europe/Berlin", &tm), 0);
	CU_ASSERT_EQUAL(tm.tm_hour, 14);
	const char *after = getenv("TZ");
	CU_ASSERT_STRING_EQUAL(after ? after : "(unset)", saved);
	arena_free(a);
}

/* ---- the client's pieces that need no server ---- */

/* Review finding 4: the hostile rule, an event every day from 1600 with a COUNT far beyond 2026. */
#define TC_HOSTILE_RULE "FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT="

/* A VCALENDAR of NEV VEVENTs starting at DTSTART (the text after "DTSTART") repeating by RULE (arena). */
static char *tc_many(arena *a, int nev, const char *dtstart, const char *rule, size_t *len)
{
	sbuf b;
	sbuf_init(&b, a, 1024);
	sbuf_cstr(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
	for (int i = 0; i < nev; i++) {
		char one[512];
		snprintf(one, sizeof one, "BEGIN:VEVENT\r\nUID:ev%d\r\nDTSTART%s\r\nRRULE:%s\r\nSUMMARY:e%d\r\nEND:VEVENT\r\n", i,
			 dtstart, rule, i);
		sbuf_cstr(&b, one);
	}
	sbuf_cstr(&b, "END:VCALENDAR\r\n");
	*len = b.len;
	return b.buf;
}

/* The expansion work of one list is bounded across objects: a 4 MiB answer's worth of hostile events stops at
 * ICAL_MAX_WORK, marked truncated; later objects are still checked, not expanded. */
static void tc_ical_work_budget(void)
{
	arena *a = arena_new();
	size_t len;
	char *text = tc_many(a, ICAL_MAX_EVENTS, ":16000101T000000Z", TC_HOSTILE_RULE "1000000", &len);
	int64_t from = tc_utc(2026, 1, 1, 0, 0), to = tc_utc(2027, 1, 1, 0, 0);
	ical_list l;
	memset(&l, 0, sizeof l);
	char err[200];
	int objects = (int)(CALDAV_MAX_RESPONSE / len);
	CU_ASSERT(objects >= 20);
	for (int i = 0; i < objects; i++)
		CU_ASSERT_EQUAL_FATAL(ical_collect(a, text, len, from, to, &l, err, sizeof err), 0);
	CU_ASSERT_TRUE(l.truncated);
	CU_ASSERT(l.n <= ICAL_MAX_INSTANCES);
	CU_ASSERT(l.work >= ICAL_MAX_WORK);
	/* At most one step past the budget: a period (a year of days) or a rule's month table (4 x 7 x 31). */
	CU_ASSERT(l.work <= ICAL_MAX_WORK + 4 * 7 * 31 + 366);
	long long spent = l.work;
	CU_ASSERT_EQUAL(ical_collect(a, text, len, from, to, &l, err, sizeof err), 0);
	CU_ASSERT_EQUAL(l.work, spent);
	static const char bad[] = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026x\nEND:VEVENT\nEND:VCALENDAR\n";
	CU_ASSERT_EQUAL(ical_collect(a, bad, strlen(bad), from, to, &l, err, sizeof err), -1);

	/* One such event costs a few thousand units, not a walk of every day since 1600. */
	ical_list one = tc_ical(a, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:h\nDTSTART:16000101T000000Z\nRRULE:" TC_HOSTILE_RULE
				   "1000000\nEND:VEVENT\nEND:VCALENDAR\n",
				from, tc_utc(2026, 2, 1, 0, 0), 0);
	CU_ASSERT_EQUAL(one.n, 31);
	CU_ASSERT_FALSE(one.truncated);
	CU_ASSERT(one.work < 20000);
	CU_ASSERT_EQUAL(one.n ? one.ev[0].start : 0, from);
	/* COUNT runs out on 2026-01-15: one instance a day since 1600-01-01. */
	char last[600];
	snprintf(last, sizeof last,
		 "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:h\nDTSTART:16000101T090000Z\nRRULE:" TC_HOSTILE_RULE
		 "%lld\nEND:VEVENT\nEND:VCALENDAR\n",
		 cron_days_from_civil(2026, 1, 15) - cron_days_from_civil(1600, 1, 1) + 1);
	one = tc_ical(a, last, from, tc_utc(2026, 2, 1, 0, 0), 0);
	CU_ASSERT_EQUAL(one.n, 15);
	CU_ASSERT_EQUAL(one.n ? one.ev[one.n - 1].start : 0, tc_utc(2026, 1, 15, 9, 0));

	/* A far-past DAILY rule with a BYxxx part and COUNT is walked a period at a time: cut, not unbounded. */
	one = tc_ical(a, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART:16000101T000000Z\nRRULE:FREQ=DAILY;BYMONTH=1;"
			 "COUNT=1000000\nEND:VEVENT\nEND:VCALENDAR\n",
		      from, to, 0);
	CU_ASSERT_TRUE(one.truncated);
	CU_ASSERT(one.work <= 2 * ICAL_MAX_PERIODS);

	/* An ordinary answer is not cut: 300 weekly events over 13 weeks. */
	text = tc_many(a, 1, ";TZID=Europe/Berlin:20150105T090000", "FREQ=WEEKLY;BYDAY=MO", &len);
	memset(&l, 0, sizeof l);
	for (int i = 0; i < 300; i++)
		CU_ASSERT_EQUAL_FATAL(ical_collect(a, text, len, from, from + 91 * 86400, &l, err, sizeof err), 0);
	CU_ASSERT_FALSE(l.truncated);
	CU_ASSERT_EQUAL(l.n, 300 * 13);
	arena_free(a);
}

/* Zone conversions through a costly VTIMEZONE (32 observances with every-day rules) are charged too: EXDATE
 * lists and daily events stop at the budget instead of converting every value. */
static void tc_ical_work_vtimezone(void)
{
	arena *a = arena_new();
	sbuf b;
	sbuf_init(&b, a, 1 << 16);
	sbuf_cstr(&b, "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Costly\r\n");
	for (int i = 0; i < 32; i++) {
		char one[300];
		snprintf(one, sizeof one,
			 "BEGIN:%s\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0%d00\r\n"
			 "RRULE:FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYDAY=MO,TU,WE,TH,FR,SA,SU\r\nEND:%s\r\n",
			 i % 2 ? "DAYLIGHT" : "STANDARD", i % 9, i % 2 ? "DAYLIGHT" : "STANDARD");
		sbuf_cstr(&b, one);
	}
	sbuf_cstr(&b, "END:VTIMEZONE\r\n");
	for (int i = 0; i < 20; i++) {
		char one[200];
		snprintf(one, sizeof one, "BEGIN:VEVENT\r\nUID:x%d\r\nDTSTART;TZID=Costly:20260101T090000\r\n"
					  "RRULE:FREQ=DAILY\r\n", i);
		sbuf_cstr(&b, one);
		for (int j = 0; j < 10; j++) {
			sbuf_cstr(&b, "EXDATE;TZID=Costly:20250101T090000");
			for (int k = 1; k < 100; k++)
				sbuf_cstr(&b, ",20250101T090000");
			sbuf_cstr(&b, "\r\n");
		}
		sbuf_cstr(&b, "END:VEVENT\r\n");
	}
	sbuf_cstr(&b, "END:VCALENDAR\r\n");
	ical_list l;
	char err[200];
	memset(&l, 0, sizeof l);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(ical_collect(a, b.buf, b.len, tc_utc(2026, 1, 1, 0, 0), tc_utc(2027, 1, 1, 0, 0), &l, err,
					 sizeof err),
				0);
	CU_ASSERT_TRUE(l.truncated);
	CU_ASSERT(l.n < 366);
	/* Past the budget by at most one conversion: 32 observances, each two years of days. */
	CU_ASSERT(l.work >= ICAL_MAX_WORK && l.work <= ICAL_MAX_WORK + 32 * (1 + 2 * 366) + 4 * 7 * 31 + 366);
	arena_free(a);
}

/* With COUNT, the periods before the window are counted, not listed: the instances in a late window are those
 * of the full expansion from DTSTART. */
static void tc_ical_count_forward(void)
{
	static const struct {
		const char *dtstart, *rule;
		int year; /* the window: that whole year */
	} cases[] = {
		{":20000131T100000Z", "FREQ=MONTHLY;BYMONTHDAY=31,-1;COUNT=400", 2026},
		{":20000103T100000Z", "FREQ=MONTHLY;BYDAY=1MO,-1FR;COUNT=700", 2027},
		{":20000103T100000Z", "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=13;BYDAY=FR;COUNT=9", 2026},
		{":20000103T100000Z", "FREQ=YEARLY;BYMONTH=2,8;BYDAY=MO,WE;COUNT=500", 2028},
		{";VALUE=DATE:20000229", "FREQ=YEARLY;COUNT=9", 2028},
		{";VALUE=DATE:20000229", "FREQ=YEARLY;COUNT=7", 2028},
		{";TZID=Europe/Berlin:20000103T090000", "FREQ=YEARLY;INTERVAL=2;BYMONTH=3,10;BYDAY=-1SU,2TU;COUNT=60", 2026},
		{";TZID=Europe/Berlin:20000103T090000", "FREQ=WEEKLY;BYDAY=MO,WE,FR,MO;COUNT=4000", 2025},
		{":20000104T070000Z", "FREQ=WEEKLY;INTERVAL=3;BYMONTH=1,7;BYDAY=TU;COUNT=120", 2026},
		{":20000104T070000Z", "FREQ=DAILY;BYMONTHDAY=13;BYDAY=FR;COUNT=60", 2026},
		{":20000104T070000Z", "FREQ=DAILY;INTERVAL=3;COUNT=3300", 2027},
	};
	arena *a = arena_new();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len;
		char *text = tc_many(a, 1, cases[i].dtstart, cases[i].rule, &len);
		int64_t wf = tc_utc(cases[i].year, 1, 1, 0, 0), wt = tc_utc(cases[i].year + 1, 1, 1, 0, 0);
		ical_list all = tc_ical(a, text, tc_utc(2000, 1, 1, 0, 0), tc_utc(2060, 1, 1, 0, 0), 0);
		ical_list win = tc_ical(a, text, wf, wt, 0);
		CU_ASSERT_FALSE(all.truncated || win.truncated || all.unsupported);
		int want = 0, same = 1;
		for (int j = 0; j < all.n; j++)
			if (all.ev[j].start < wt && all.ev[j].end > wf - (all.ev[j].end == all.ev[j].start)) {
				same &= want < win.n && win.ev[want].start == all.ev[j].start;
				want++;
			}
		if (!same || want != win.n)
			fprintf(stderr, "\ncase %zu (%s): %d instances in %d, expected %d\n", i, cases[i].rule, win.n,
				cases[i].year, want);
		CU_ASSERT_TRUE(same);
		CU_ASSERT_EQUAL(win.n, want);
	}
	/* Whole weeks and days are counted at once: a daily COUNT from 1600 ends where arithmetic says. */
	char text[400];
	long long n = cron_days_from_civil(2026, 3, 10) - cron_days_from_civil(1600, 1, 1) + 1;
	snprintf(text, sizeof text,
		 "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART:16000101T080000Z\nRRULE:FREQ=DAILY;COUNT=%lld\n"
		 "END:VEVENT\nEND:VCALENDAR\n",
		 n);
	ical_list l = tc_ical(a, text, tc_utc(2026, 3, 1, 0, 0), tc_utc(2026, 4, 1, 0, 0), 0);
	CU_ASSERT_EQUAL(l.n, 10);
	CU_ASSERT_FALSE(l.truncated);
	CU_ASSERT_EQUAL(l.n ? l.ev[l.n - 1].start : 0, tc_utc(2026, 3, 10, 8, 0));
	/* 1600-01-03 was a Monday: three a week, COUNT ending on the Wednesday 2026-03-04. */
	n = (cron_days_from_civil(2026, 3, 2) - cron_days_from_civil(1600, 1, 3)) / 7 * 3 + 2;
	snprintf(text, sizeof text,
		 "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:w\nDTSTART:16000103T080000Z\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=%lld\n"
		 "END:VEVENT\nEND:VCALENDAR\n",
		 n);
	l = tc_ical(a, text, tc_utc(2026, 3, 1, 0, 0), tc_utc(2026, 4, 1, 0, 0), 0);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT_EQUAL(l.n ? l.ev[l.n - 1].start : 0, tc_utc(2026, 3, 4, 8, 0));
	arena_free(a);
}

/* caldav_read stops between objects at its deadline, marking the list truncated. */
static void tc_caldav_deadline(void)
{
	arena *a = arena_new();
	sbuf b;
	sbuf_init(&b, a, 4096);
	sbuf_cstr(&b, "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">");
	for (int i = 0; i < 5; i++) {
		char one[600];
		snprintf(one, sizeof one,
			 "<D:response><D:href>/cal/%d.ics</D:href><D:propstat><D:prop><C:calendar-data>BEGIN:VCALENDAR\n"
			 "BEGIN:VEVENT\nUID:%d\nDTSTART:2026010%dT090000Z\nSUMMARY:o%d\nEND:VEVENT\nEND:VCALENDAR\n"
			 "</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>",
			 i, i, i + 1, i);
		sbuf_cstr(&b, one);
	}
	sbuf_cstr(&b, "</D:multistatus>");
	int64_t from = tc_utc(2026, 1, 1, 0, 0), to = tc_utc(2026, 2, 1, 0, 0);
	ical_list l;
	char err[300];
	memset(&l, 0, sizeof l);
	CU_ASSERT_EQUAL(caldav_read(a, b.buf, b.len, from, to, util_now_ms() + 60000, &l, err, sizeof err), 0);
	CU_ASSERT_EQUAL(l.n, 5);
	CU_ASSERT_FALSE(l.truncated);
	memset(&l, 0, sizeof l);
	CU_ASSERT_EQUAL(caldav_read(a, b.buf, b.len, from, to, util_now_ms() - 1, &l, err, sizeof err), 0);
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT_TRUE(l.truncated);
	arena_free(a);
}

static void tc_caldav_url(void)
{
	char err[200];
	CU_ASSERT_EQUAL(caldav_url_check("https://dav.example.com/calendars/alice/work/", err, sizeof err), 0);
	CU_ASSERT_EQUAL(caldav_url_check("http://127.0.0.1:5232/alice/work/", err, sizeof err), 0);
	static const char *const bad[] = {"ftp://dav.example.com/", "https://", "https:///x", "dav.example.com/cal",
					  "https://dav.example.com/a b", "https://alice:secret@dav.example.com/",
					  "https://dav.example.com/Ã©", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(caldav_url_check(bad[i], err, sizeof err), -1);
		CU_ASSERT(err[0] != '\0');
	}
	CU_ASSERT_EQUAL(caldav_url_check(NULL, err, sizeof err), -1);
}

static void tc_events_json(void)
{
	static const char text[] = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART;TZID=/vendor/Europe/Berlin:20261201T090000\n"
				   "DTEND;TZID=/vendor/Europe/Berlin:20261201T100000\nSUMMARY:One\nEND:VEVENT\n"
				   "BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20261202\nSUMMARY:Two\nEND:VEVENT\n"
				   "BEGIN:VEVENT\nUID:c\nDTSTART:20261203T000000Z\nEND:VEVENT\nEND:VCALENDAR\n";
	arena *a = arena_new();
	ical_list l = tc_ical(a, text, tc_utc(2026, 12, 1, 0, 0), tc_utc(2026, 12, 8, 0, 0), 0);
	json_t *arr = caldav_events_json(&l, 2);
	CU_ASSERT_EQUAL_FATAL(json_array_size(arr), 2);
	json_t *e0 = json_array_get(arr, 0), *e1 = json_array_get(arr, 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e0, "start")), "2026-12-01T08:00:00Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e0, "end")), "2026-12-01T09:00:00Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e0, "timezone")), "Europe/Berlin");
	CU_ASSERT_TRUE(json_is_null(json_object_get(e0, "location")));
	CU_ASSERT_TRUE(json_is_false(json_object_get(e0, "all_day")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e1, "start")), "2026-12-02");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e1, "end")), "2026-12-03");
	CU_ASSERT_TRUE(json_is_true(json_object_get(e1, "all_day")));
	CU_ASSERT_EQUAL(json_object_size(e1), 8);
	json_decref(arr);
	arena_free(a);
}

int test_calendar_suite(void)
{
	CU_pSuite s = CU_add_suite("calendar", NULL, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "multistatus: prefixes, entities, CDATA, 404 propstats", tc_xml_prefixes) ||
	    !CU_add_test(s, "multistatus: namespaces resolved from xmlns", tc_xml_namespaces) ||
	    !CU_add_test(s, "multistatus: malformed and hostile documents", tc_xml_errors) ||
	    !CU_add_test(s, "ical: zones, all-day, escapes, folding, durations", tc_ical_basic) ||
	    !CU_add_test(s, "ical: weekly recurrence with EXDATE, override and DST", tc_ical_recurrence) ||
	    !CU_add_test(s, "ical: monthly, daily, yearly rules and server expansion", tc_ical_rules) ||
	    !CU_add_test(s, "ical: malformed objects, unknown zones, VTIMEZONE rules", tc_ical_errors) ||
	    !CU_add_test(s, "ical: one work budget per list, across objects", tc_ical_work_budget) ||
	    !CU_add_test(s, "ical: zone conversions are charged to the budget", tc_ical_work_vtimezone) ||
	    !CU_add_test(s, "ical: COUNT counted, not listed, before the window", tc_ical_count_forward) ||
	    !CU_add_test(s, "caldav: an answer is read within the deadline", tc_caldav_deadline) ||
	    !CU_add_test(s, "caldav: connection URLs", tc_caldav_url) ||
	    !CU_add_test(s, "caldav: events as JSON", tc_events_json))
		return -1;
	return 0;
}
