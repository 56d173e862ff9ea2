/* agent_echo: the echo agent type: writes its trigger's payload (after config.message) back as a display message. */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

/* One message: content "MESSAGE PAYLOAD-JSON", "PAYLOAD-JSON" or "MESSAGE" (cron runs), data the payload;
 * output {"echo": payload or null}. Never fails. */
int agent_echo_run(runner_ctx *ctx)
{
	const json_t *payload = runner_payload(ctx);
	const json_t *m = json_object_get(ctx->config, "message");
	const char *message = json_is_string(m) && json_string_length(m) > 0 ? json_string_value(m) : NULL;
	char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (payload && !text)
		abort();
	const char *content;
	if (message && text)
		content = arena_printf(ctx->a, "%s %s", message, text);
	else if (text)
		content = text;
	else
		content = message ? message : "(scheduled run: no payload)";
	runner_message_add(ctx, content, payload);
	free(text);
	runner_set_output(ctx, json_pack("{s:O?}", "echo", payload));
	return 0;
}
