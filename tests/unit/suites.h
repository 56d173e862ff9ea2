/* suites: every CUnit suite of the unit test binary; each adds its suite and tests, returning 0 or -1. */
#ifndef AP_TEST_SUITES_H
#define AP_TEST_SUITES_H

int test_approvals_suite(void);
int test_audit_suite(void);
int test_calendar_suite(void);
int test_credential_suite(void);
int test_cron_suite(void);
int test_keycache_suite(void);
int test_lib_suite(void);
int test_mcp_suite(void);
int test_mcpclient_suite(void);
int test_openapi_suite(void);
int test_outbound_suite(void);
int test_pipeline_suite(void);
int test_ratelimit_suite(void);
int test_scheduler_suite(void);
int test_smtp_suite(void);
int test_webhook_url_suite(void);

#endif
