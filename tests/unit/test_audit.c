/* test_audit: every write route is audited (and marked so in the spec); the audit listing's time bounds. */
#include "openapi.h"
#include "rfc3339.h"
#include "routes.h"
#include "store_audit.h"
#include "suites.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The data-plane writes: events kept in the signals table, not audited (see the comment on ROUTES). */
static const char *const DATA_PLANE[] = {"sendSignal", "receiveInboundWebhook", NULL};

static int is_data_plane(const route *rt)
{
	for (const char *const *p = DATA_PLANE; *p; p++)
		if (strcmp(*p, rt->operation_id) == 0)
			return 1;
	return 0;
}

/* Every non-GET route is ROUTE_AUDITED unless it is one of the data-plane writes; no GET route is; the
 * data-plane routes are exactly the signal and the public inbound hook. */
static void test_write_routes_audited(void)
{
	int data_plane = 0;
	for (int i = 0; i < ROUTES_COUNT; i++) {
		const route *rt = &ROUTES[i];
		int audited = (rt->flags & ROUTE_AUDITED) != 0;
		if (strcmp(rt->method, "GET") == 0) {
			if (audited)
				fprintf(stderr, "\n  %s %s reads but is ROUTE_AUDITED\n", rt->method, rt->path);
			CU_ASSERT_FALSE(audited);
		} else if (is_data_plane(rt)) {
			data_plane++;
			CU_ASSERT_FALSE(audited);
		} else {
			if (!audited)
				fprintf(stderr, "\n  %s %s writes but is not ROUTE_AUDITED\n", rt->method, rt->path);
			CU_ASSERT_TRUE(audited);
			CU_ASSERT_FALSE(rt->flags & ROUTE_PUBLIC);
		}
	}
	CU_ASSERT_EQUAL(data_plane, 2);
}

/* The spec marks exactly the audited operations with x-audited: true (the e2e audit suite reads it to know
 * which writes it must cover). */
static void test_spec_marks_audited(void)
{
	json_error_t e;
	json_t *doc = json_loadb(OPENAPI_JSON, OPENAPI_JSON_LEN, 0, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	for (int i = 0; i < ROUTES_COUNT; i++) {
		const route *rt = &ROUTES[i];
		char lower[16];
		size_t k = 0;
		for (; rt->method[k] && k < sizeof lower - 1; k++)
			lower[k] = (char)tolower((unsigned char)rt->method[k]);
		lower[k] = '\0';
		json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), rt->path), lower);
		int marked = json_is_true(json_object_get(op, "x-audited"));
		if (marked != ((rt->flags & ROUTE_AUDITED) != 0))
			fprintf(stderr, "\n  %s: x-audited %d, ROUTE_AUDITED %d\n", rt->operation_id, marked, !marked);
		CU_ASSERT_EQUAL(marked, (rt->flags & ROUTE_AUDITED) != 0);
	}
	json_decref(doc);
}

static void test_rfc3339(void)
{
	int64_t ms = -1;
	CU_ASSERT_EQUAL(rfc3339_parse_ms("1970-01-01T00:00:00Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 0);
	CU_ASSERT_EQUAL(rfc3339_parse_ms("2024-02-29T12:34:56.789Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1709210096789LL);
	CU_ASSERT_EQUAL(rfc3339_parse_ms("2024-02-29t14:34:56.789+02:00", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1709210096789LL);
	CU_ASSERT_EQUAL(rfc3339_parse_ms("2024-02-29T12:34:56.5z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1709210096500LL);
	/* A finer fraction rounds up: "at or after .0001" starts at the next millisecond. */
	CU_ASSERT_EQUAL(rfc3339_parse_ms("2024-02-29T12:34:56.000100Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1709210096001LL);
	CU_ASSERT_EQUAL(rfc3339_parse_ms("2024-02-29T12:34:56.123000000Z", &ms), 0);
	CU_ASSERT_EQUAL(ms, 1709210096123LL);
	CU_ASSERT_EQUAL(rfc3339_parse_ms("2000-01-01T00:00:00-05:30", &ms), 0);
	CU_ASSERT_EQUAL(ms, 946684800000LL + 19800000LL);
	static const char *const BAD[] = {
		"", "2024-02-29", "2024-02-29T12:34:56", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
		"2024-00-01T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z",
		"2024-01-01T00:00:60Z", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.1234567890Z",
		"2024-01-01T00:00:00+0100", "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00Zjunk", "1969-12-31T23:59:59Z",
		"+2024-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "now", "1700000000", NULL};
	for (const char *const *b = BAD; *b; b++) {
		if (rfc3339_parse_ms(*b, &ms) == 0)
			fprintf(stderr, "\n  accepted %s\n", *b);
		CU_ASSERT_EQUAL(rfc3339_parse_ms(*b, &ms), -1);
	}
}

/* The id floor of a millisecond sorts after every id of the millisecond before and at or before every id
 * made in it. */
static void test_id_floor(void)
{
	char lo[IDS_MAX_LEN], id[IDS_MAX_LEN];
	store_audit_id_floor(0, lo);
	CU_ASSERT_STRING_EQUAL(lo, "aud_0000000000000000000000000");
	CU_ASSERT_TRUE(ids_valid("aud_", lo));
	int64_t now = util_now_ms();
	ids_new("aud_", id);
	store_audit_id_floor(now - 1, lo);
	CU_ASSERT_TRUE(strcmp(lo, id) < 0);
	store_audit_id_floor(now + 2, lo);
	CU_ASSERT_TRUE(strcmp(lo, id) > 0);
	/* The largest id of a millisecond is below the floor of the next. */
	char top[IDS_MAX_LEN];
	store_audit_id_floor(now, top);
	memset(top + 4 + 9, 'z', IDS_BODY_LEN - 9);
	store_audit_id_floor(now + 1, lo);
	CU_ASSERT_TRUE(strcmp(top, lo) < 0);
}

int test_audit_suite(void)
{
	CU_pSuite s = CU_add_suite("audit", NULL, NULL);
	if (!s || !CU_add_test(s, "every write route is audited", test_write_routes_audited) ||
	    !CU_add_test(s, "the spec marks audited operations", test_spec_marks_audited) ||
	    !CU_add_test(s, "since/until: strict RFC 3339", test_rfc3339) ||
	    !CU_add_test(s, "since/until: id floors", test_id_floor))
		return -1;
	return 0;
}
