/* test_webhook_url: the webhook endpoint URL policy (https unless allowed; loopback only among private
 * addresses). Numeric hosts only: no lookup, no traffic. */
#include "suites.h"
#include "webhook_url.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

static void twu_expect(const char *url, int allow_http, int allow_private, int want_ok, const char *reason)
{
	urlguard_target t;
	char err[160] = "";
	int rc = webhook_url_check(url, allow_http, allow_private, &t, err, sizeof err);
	if ((rc == 0) != want_ok || (reason && strcmp(err, reason) != 0))
		fprintf(stderr, "\nwebhook url %s (http %d, private %d): rc %d err \"%s\"\n", url, allow_http, allow_private,
			rc, err);
	CU_ASSERT_EQUAL(rc == 0, want_ok);
	if (reason)
		CU_ASSERT_STRING_EQUAL(err, reason);
}

static void twu_schemes(void)
{
	twu_expect("http://1.1.1.1/hook", 0, 0, 0, "URL must use https");
	twu_expect("HTTP://1.1.1.1/hook", 0, 1, 0, "URL must use https");
	twu_expect("http://1.1.1.1/hook", 1, 0, 1, NULL);
	twu_expect("https://1.1.1.1/hook", 0, 0, 1, NULL);
	twu_expect("ftp://1.1.1.1/", 1, 1, 0, "URL scheme is not allowed");
	twu_expect("smtp://1.1.1.1/", 1, 1, 0, "URL scheme is not allowed");
}

static void twu_addresses(void)
{
	static const char *const never_for_webhooks[] = {
		"https://10.0.0.1/",         "https://169.254.169.254/", "https://172.16.0.1/",
		"https://192.168.1.1/",      "https://100.64.0.1/",      "https://[fd00::1]/",
		"https://[fe80::1]/",        "https://[::ffff:10.0.0.1]/", "https://[64:ff9b::a9fe:a9fe]/",
		"https://0.0.0.0/",          "https://2852039166/",      "https://0xa9fea9fe/",
		"https://[2002:a9fe:a9fe::]/", "https://224.0.0.1/",
	};
	for (size_t i = 0; i < sizeof never_for_webhooks / sizeof never_for_webhooks[0]; i++) {
		twu_expect(never_for_webhooks[i], 1, 0, 0, NULL);
		twu_expect(never_for_webhooks[i], 1, 1, 0, NULL);
	}
	/* Loopback: only with allow_private (local stacks and tests). */
	twu_expect("http://127.0.0.1:9/x", 1, 0, 0, NULL);
	twu_expect("http://127.0.0.1:9/x", 1, 1, 1, NULL);
	twu_expect("http://127.1:9/x", 1, 1, 1, NULL);
	twu_expect("http://[::1]:9/x", 1, 1, 1, NULL);
	twu_expect("http://[::ffff:127.0.0.1]:9/x", 1, 1, 1, NULL);
	twu_expect("https://8.8.8.8/x", 0, 1, 1, NULL);
}

int test_webhook_url_suite(void)
{
	CU_pSuite s = CU_add_suite("webhook_url", NULL, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "https unless webhooks_allow_http", twu_schemes) ||
	    !CU_add_test(s, "private addresses: loopback only, and only when allowed", twu_addresses))
		return -1;
	return 0;
}
