/* test_approvals: the runner's approval gate (runner_gate, runner flags) and the approval object as the API
 * shows it. */
#include "arena.h"
#include "runner.h"
#include "settings.h"
#include "store_approval.h"
#include "suites.h"

#include <CUnit/CUnit.h>
#include <string.h>

/* A runner context for one run of nothing in A (the gate needs only the arena and its fields). */
static void ctx_for(runner_ctx *ctx, arena *a, settings *cfg, run_row *run)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->run_timeout_seconds = 10;
	memset(run, 0, sizeof *run);
	runner_init(ctx, a, cfg, run, NULL, NULL);
}

static void test_gate_not_required(void)
{
	arena *a = arena_new();
	settings cfg;
	run_row run;
	runner_ctx ctx;
	ctx_for(&ctx, a, &cfg, &run);
	CU_ASSERT_EQUAL(runner_gate(&ctx, "send_email", "Send", NULL), 1);
	CU_ASSERT_PTR_NULL(ctx.gate_action);
	arena_free(a);
}

static void test_gate_waits_then_passes_once_approved(void)
{
	arena *a = arena_new();
	settings cfg;
	run_row run;
	runner_ctx ctx;
	ctx_for(&ctx, a, &cfg, &run);
	ctx.require_approval = 1;
	json_t *args = json_pack("{s:s, s:s}", "to", "a@example.com", "subject", "Hi");
	CU_ASSERT_EQUAL(runner_gate(&ctx, "send_email", "Send email to a@example.com: Hi", args), 0);
	CU_ASSERT_STRING_EQUAL(ctx.gate_action, "send_email");
	CU_ASSERT_STRING_EQUAL(ctx.gate_summary, "Send email to a@example.com: Hi");
	/* The arguments are copied: the caller may change or free its own. */
	CU_ASSERT_TRUE(json_equal(ctx.gate_args, args));
	CU_ASSERT_PTR_NOT_EQUAL(ctx.gate_args, args);
	json_object_set_new(args, "to", json_string("b@example.com"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ctx.gate_args, "to")), "a@example.com");
	/* A second gate does not replace what the first one asks. */
	CU_ASSERT_EQUAL(runner_gate(&ctx, "other", "Other", NULL), 0);
	CU_ASSERT_STRING_EQUAL(ctx.gate_action, "send_email");
	json_decref(args);

	/* The resumed run: its approval approved send_email, and only that. */
	runner_ctx again;
	ctx_for(&again, a, &cfg, &run);
	again.require_approval = 1;
	again.approved_action = "send_email";
	CU_ASSERT_EQUAL(runner_gate(&again, "send_email", "Send", NULL), 1);
	CU_ASSERT_EQUAL(runner_gate(&again, "http_request", "Other", NULL), 0);
	CU_ASSERT_STRING_EQUAL(again.gate_action, "http_request");
	CU_ASSERT_TRUE(json_is_object(again.gate_args) && json_object_size(again.gate_args) == 0);
	arena_free(a);
}

static void test_runner_flags(void)
{
	/* The built-in types gate nothing of their own: an agent's require_approval gates their whole run. */
	CU_ASSERT_EQUAL(runner_flags("echo"), 0);
	CU_ASSERT_EQUAL(runner_flags("http_request") & RUNNER_OWN_GATE, 0);
	CU_ASSERT_EQUAL(runner_flags("no_such_type"), 0);
	CU_ASSERT_EQUAL(runner_flags(NULL), 0);
	CU_ASSERT_NOT_EQUAL(RUNNER_WAITING, 0);
	CU_ASSERT_NOT_EQUAL(RUNNER_WAITING, -1);
}

static void test_approval_json(void)
{
	approval_row x = {.id = "apr_00VcHJe73XpzbiQsNySOY6eRf", .account_id = "acct_x", .source = "mcp",
			  .action = "send_email", .summary = "Send", .arguments = "{\"to\":\"a@example.com\"}",
			  .status = "approved", .expires_at = "2026-11-29T14:30:30.864Z",
			  .created_at = "2026-11-28T14:30:30.864Z", .decided_at = "2026-11-28T15:00:00.000Z",
			  .decided_by = "key_1", .action_status = "failed", .action_error = "refused"};
	json_t *j = store_approval_json(&x);
	CU_ASSERT_EQUAL(json_object_size(j), 14);
	CU_ASSERT_TRUE(json_is_null(json_object_get(j, "agent_id")) && json_is_null(json_object_get(j, "run_id")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(j, "comment")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(j, "arguments"), "to")), "a@example.com");
	json_t *res = json_object_get(j, "action_result");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "status")), "failed");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "error")), "refused");
	CU_ASSERT_TRUE(json_is_null(json_object_get(res, "at")));
	json_decref(j);
	/* An agent's approval has no action_result; unreadable arguments show as {}. */
	x.action_status = NULL;
	x.arguments = "not json";
	j = store_approval_json(&x);
	CU_ASSERT_TRUE(json_is_null(json_object_get(j, "action_result")));
	CU_ASSERT_TRUE(json_is_object(json_object_get(j, "arguments")) &&
		       json_object_size(json_object_get(j, "arguments")) == 0);
	json_decref(j);
}

int test_approvals_suite(void)
{
	CU_pSuite s = CU_add_suite("approvals", NULL, NULL);
	if (!s || !CU_add_test(s, "gate: no approval required", test_gate_not_required) ||
	    !CU_add_test(s, "gate: waits with a copy of its arguments, passes once approved", test_gate_waits_then_passes_once_approved) ||
	    !CU_add_test(s, "runner flags", test_runner_flags) ||
	    !CU_add_test(s, "the approval object", test_approval_json))
		return -1;
	return 0;
}
