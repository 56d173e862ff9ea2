/* main: runs every unit suite with CUnit's basic interface; exit status 1 if any test failed. */
#include "suites.h"

#include <CUnit/Basic.h>
#include <stdio.h>

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	int (*const suites[])(void) = {test_approvals_suite, test_audit_suite, test_calendar_suite, test_credential_suite, test_cron_suite, test_keycache_suite, test_lib_suite, test_mcp_suite, test_mcpclient_suite, test_openapi_suite, test_outbound_suite, test_pipeline_suite, test_ratelimit_suite, test_scheduler_suite, test_smtp_suite,
				      test_webhook_url_suite};
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
		if (suites[i]() != 0) {
			fprintf(stderr, "could not register suite %zu: %s\n", i, CU_get_error_msg());
			CU_cleanup_registry();
			return 2;
		}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_tests_failed();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return (failed || failures) ? 1 : 0;
}
