/* agent_send_email: the send_email agent type (gated by approval by default) and the performer of approved agentless send_email approvals: one sending function serves both. */
#include "agent_send_email.h"

#include "runner.h"
#include "sbuf.h"
#include "smtp.h"
#include "store.h"
#include "store_approval.h"
#include "store_credential.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Approved approvals of the agent searched for the run's own (newest first). */

static int send_fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

/* The string member NAME of the credential's FIELDS, or "" when absent. */
static const char *field_str(const json_t *fields, const char *name)
{
	const char *v = json_string_value(json_object_get(fields, name));
	return v ? v : "";
}

static void json_release(void *p)
{
	json_decref(p);
}

int send_email_perform(arena *a, const settings *cfg, db *d, const char *account_id, const json_t *args,
		       long timeout_ms, json_t **output, const char **sent_to, char *err, size_t errlen)
{
	const json_t *to = json_object_get(args, "to"), *subject = json_object_get(args, "subject");
	const json_t *body = json_object_get(args, "body");
	const char *cred_id = json_string_value(json_object_get(args, "credential_id"));
	verr e;
	const char **rcpt;

	static const char *const keys[] = {"to", "subject", "body", "credential_id", NULL};
	if (!json_is_object(args) || validate_known_keys(args, "arguments", keys, &e) != 0 ||
	    smtp_check_fields(to, subject, body, "arguments", &e) != 0) {
		snprintf(err, errlen, "the email is not valid: %s", json_is_object(args) ? e.message : "no arguments");
		return -1;
	}
	if (!cred_id)
		return send_fail(err, errlen, "the email names no credential (credential_id)");
	if (smtp_recipients(a, to, &rcpt) < 0)
		return send_fail(err, errlen, "the email's recipients are not valid");

	const char *type = NULL;
	json_t *fields = NULL;
	switch (store_credential_use(d, a, cfg, account_id, cred_id, &type, &fields)) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
		snprintf(err, errlen, "credential %.40s was not found", cred_id);
		return -1;
	case STORE_CONFLICT:
		snprintf(err, errlen, "credential %.40s has been revoked", cred_id);
		return -1;
	default:
		return send_fail(err, errlen, "the credential could not be loaded (the database is unavailable); try again");
	}
	arena_defer(a, json_release, fields);
	if (strcmp(type, "smtp") != 0) {
		snprintf(err, errlen, "credential %.40s is not an smtp credential", cred_id);
		return -1;
	}

	smtp_server srv = {
		.host = field_str(fields, "host"),
		.port = (int)json_integer_value(json_object_get(fields, "port")),
		.tls = field_str(fields, "tls"),
		.username = field_str(fields, "username"),
		.password = field_str(fields, "password"),
		.timeout_ms = timeout_ms,
		.allow_private = cfg->allow_private_addresses,
	};
	smtp_message m = {
		.from = field_str(fields, "from"),
		.to = rcpt,
		.subject = json_string_value(subject),
		.body = json_string_value(body),
		.body_len = json_string_length(body),
		.date = time(NULL),
	};
	const char *message_id = NULL;
	if (smtp_send(a, &srv, &m, &message_id, err, errlen) != 0)
		return -1;

	json_t *list = json_array();
	sbuf joined;
	sbuf_init(&joined, a, 128);
	for (int i = 0; rcpt[i]; i++) {
		json_array_append_new(list, json_string(rcpt[i]));
		if (i)
			sbuf_cstr(&joined, ", ");
		sbuf_cstr(&joined, rcpt[i]);
	}
	*sent_to = joined.buf;
	*output = json_pack("{s:s, s:o}", "message_id", message_id, "to", list);
	return 0;
}

/* The arguments of the gated action, exactly what will be sent: the config's fields (the credential by id). */
static json_t *email_args(const json_t *config)
{
	return json_pack("{s:O, s:O, s:O, s:O}", "to", json_object_get(config, "to"), "subject",
			 json_object_get(config, "subject"), "body", json_object_get(config, "body"), "credential_id",
			 json_object_get(config, "credential_id"));
}

/* Policy: the email is the run's one action and needs approval unless the agent is configured otherwise
 * (RUNNER_APPROVAL_DEFAULT makes it need one always); the run stops at the gate until a person approves,
 * then runs again and sends. A failed send (refused login, revoked credential, unreachable server) fails
 * the run; it is never retried on its own, as a retry could send twice. */
int agent_send_email_run(runner_ctx *ctx)
{
	json_t *args = email_args(ctx->config);
	if (!args)
		return runner_fail(ctx, "the agent's config is not a valid email");
	runner_keep(ctx, args);
	const char **rcpt;
	if (smtp_recipients(ctx->a, json_object_get(args, "to"), &rcpt) < 0)
		return runner_fail(ctx, "config.to is not valid");
	const char *summary = smtp_summary(ctx->a, json_string_value(json_object_get(args, "subject")), rcpt);
	if (!runner_gate(ctx, SEND_EMAIL_ACTION, summary, args))
		return RUNNER_WAITING;
	/* On the pass after approval: claim the approved action first (at most once, even when a worker is lost
	 * between sending and recording the outcome), then send exactly the approved arguments, which are what
	 * the person saw even when the agent's config changed meanwhile. */
	const char *claimed = NULL;
	if (ctx->approved_action && strcmp(ctx->approved_action, SEND_EMAIL_ACTION) == 0) {
		approval_row apr;
		enum store_result res = store_approval_run_action_claim(ctx->db, ctx->a, ctx->run->id, SEND_EMAIL_ACTION, &apr);
		if (res == STORE_CONFLICT)
			return runner_fail(ctx, "an earlier attempt of this run may already have sent the email; it is "
						"not sent again");
		if (res != STORE_OK || !(args = runner_keep(ctx, json_loads(apr.arguments, 0, NULL))))
			return runner_fail(ctx, "the approved email could not be read back; nothing was sent");
		claimed = apr.id;
	}

	long left = runner_remaining_ms(ctx);
	if (left <= 0) {
		if (claimed)
			store_approval_action_finish(ctx->db, ctx->a, claimed, "the run ran out of time before sending");
		return runner_fail(ctx, "the run exceeded its time limit of %d seconds", ctx->cfg->run_timeout_seconds);
	}
	json_t *output = NULL;
	const char *sent_to = NULL;
	char err[400];
	if (send_email_perform(ctx->a, ctx->cfg, ctx->db, ctx->run->account_id, args,
			       left < SMTP_DEFAULT_TIMEOUT_MS ? left : SMTP_DEFAULT_TIMEOUT_MS, &output, &sent_to, err,
			       sizeof err) != 0) {
		runner_message_add(ctx, arena_printf(ctx->a, "The email was not sent: %s", err), NULL);
		if (claimed)
			store_approval_action_finish(ctx->db, ctx->a, claimed, err);
		return runner_fail(ctx, "the email was not sent: %s", err);
	}
	if (claimed)
		store_approval_action_finish(ctx->db, ctx->a, claimed, NULL);
	runner_set_output(ctx, output);
	runner_message_add(ctx, arena_printf(ctx->a, "Email sent to %s", sent_to), NULL);
	return 0;
}

int agent_send_email_perform(approval_perform_ctx *ctx)
{
	json_t *output = NULL;
	const char *sent_to = NULL;
	char err[400];
	if (send_email_perform(ctx->a, ctx->cfg, ctx->db, ctx->account_id, ctx->args, SMTP_DEFAULT_TIMEOUT_MS, &output,
			       &sent_to, err, sizeof err) != 0) {
		/* as approvals_fail would, without linking approvals.c into every runner's users */
		snprintf(ctx->error, sizeof ctx->error, "the email was not sent: %s", err);
		return -1;
	}
	json_decref(output);
	return 0;
}
