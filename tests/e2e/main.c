/* main: the e2e runner: reads the stack's environment, registers the suites, runs CUnit in verbose mode. */
#include "e2e.h"

#include <CUnit/Basic.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *var;
	const char **slot;
} VARS[] = {
	{"AGENTPLATFORM_URL", &E2E.url},
	{"AGENTPLATFORM_CONFIG", &E2E.config},
	{"AGENTPLATFORM_ADMIN", &E2E.admin},
	{"AP_TEST_STACK", &E2E.stack},
	{"AP_TEST_DB_SOCKET", &E2E.db_socket},
	{"AP_TEST_DB_NAME", &E2E.db_name},
	{"AP_TEST_DB_USER", &E2E.db_user},
	{"AP_TEST_DB_PASSWORD", &E2E.db_password},
};

static int read_env(void)
{
	int missing = 0;
	for (size_t i = 0; i < sizeof VARS / sizeof VARS[0]; i++) {
		const char *v = getenv(VARS[i].var);
		if (!v || !*v) {
			fprintf(stderr, "e2e: %s is not set\n", VARS[i].var);
			missing = 1;
		}
		*VARS[i].slot = v;
	}
	if (missing) {
		fprintf(stderr, "e2e: run me through tests/run, which starts a private stack and exports AGENTPLATFORM_URL,\n"
				"AGENTPLATFORM_CONFIG, AGENTPLATFORM_ADMIN, AP_TEST_STACK and AP_TEST_DB_SOCKET, _NAME, _USER,\n"
				"_PASSWORD\n");
		return -1;
	}
	/* The origin, without a trailing slash: every request path starts with one. */
	size_t n = strlen(E2E.url);
	if (n > 0 && E2E.url[n - 1] == '/') {
		fprintf(stderr, "e2e: AGENTPLATFORM_URL must be an origin without a trailing slash (got %s)\n", E2E.url);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: e2e (configured by the environment; see tests/run)\n");
		return 2;
	}
	if (read_env() != 0)
		return 2;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "e2e: curl_global_init failed\n");
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "e2e: CUnit: %s\n", CU_get_error_msg());
		return 2;
	}
	int status = 2;
	if (suite_platform_register() != 0 || suite_auth_register() != 0 || suite_agents_register() != 0 || suite_audit_register() != 0 ||
	    suite_runs_register() != 0 || suite_signals_register() != 0 || suite_usage_register() != 0 || suite_reports_register() != 0 ||
	    suite_notifications_register() != 0 || suite_deliveries_register() != 0 ||
	    suite_webhooks_register() != 0 || suite_calendar_register() != 0 || suite_mcp_servers_register() != 0 || suite_credentials_register() != 0 || suite_mcp_register() != 0 || suite_approvals_register() != 0 || suite_email_register() != 0) {
		fprintf(stderr, "e2e: registering the suites failed: %s\n", CU_get_error_msg());
	} else {
		CU_basic_set_mode(CU_BRM_VERBOSE);
		/* AP_E2E_SUITE=name runs that suite alone (while developing it); tests/run runs them all. */
		const char *only = getenv("AP_E2E_SUITE");
		CU_pSuite suite = only && *only ? CU_get_suite(only) : NULL;
		if (only && *only && !suite) {
			fprintf(stderr, "e2e: no suite named %s\n", only);
		} else {
			if (suite)
				CU_basic_run_suite(suite);
			else
				CU_basic_run_tests();
			int failed = (int)(CU_get_number_of_failures() + CU_get_number_of_suites_failed() +
					   CU_get_number_of_tests_failed());
			status = CU_get_error() == CUE_SUCCESS && failed == 0 ? 0 : 1;
		}
	}
	CU_cleanup_registry();
	e2e_sql_close();
	curl_global_cleanup();
	return status;
}
