/* runner: the interface every agent type's runner implements, and the context one run executes in. */
#ifndef AP_RUNNER_H
#define AP_RUNNER_H

#include "arena.h"
#include "db.h"
#include "settings.h"
#include "store_run.h"

#include <jansson.h>
#include <stdint.h>

/* A display message a runner wrote; the worker stores them together with the run's outcome. */
typedef struct runner_message {
	struct runner_message *next;
	char *content; /* arena */
	char *data;    /* JSON text in the arena, or NULL */
} runner_message;

/* What a runner gets (read-only) and fills in (output or error, messages). Everything lives in A. */
typedef struct runner_ctx {
	arena *a;               /* this run's memory, released after its outcome is recorded */
	const settings *cfg;    /* server-side settings (allow_private_addresses, weather URLs, ...) */
	db *db;                 /* the worker's MariaDB connection (no transaction open), for runners that
	                         * load credentials, connections or MCP servers; set by the worker */
	const run_row *run;     /* the claimed run */
	const json_t *input;    /* the run's input ({"type", "payload"} for signals), or NULL (cron runs) */
	const json_t *config;   /* the agent's config object, already validated for its type */
	int64_t deadline_ms;    /* runner_now_ms() value by which the run must be done (run_timeout_seconds) */
	json_t *output;         /* set by runner_set_output; kept alive by the arena */
	char error[600];        /* set by runner_fail: readable, no internals or secrets */
	runner_message *messages, **last;
	int nmessages;
	/* Approval gating (runner_gate). Set by the worker before the runner starts: */
	int require_approval;         /* the agent's require_approval, or its type's RUNNER_APPROVAL_DEFAULT */
	const char *approved_action;  /* the action this run's approval approved (a resumed run), or NULL */
	/* Set by the first runner_gate that answered 0: what the approval asks (arena; arguments kept by it). */
	const char *gate_action, *gate_summary;
	json_t *gate_args;
} runner_ctx;

/* A runner: 0 when the run succeeded (output set), -1 when it failed (error set by runner_fail; the
 * output may be set too), RUNNER_WAITING when runner_gate answered 0 (the run stops before its action; the
 * worker records an approval with the gate's action, summary and arguments and sets the run
 * waiting_approval; once approved the run is executed again from the start and the same runner_gate
 * answers 1). */
typedef int (*runner_fn)(runner_ctx *ctx);
#define RUNNER_WAITING 1

/* Flags of a runner in the table (runner.c): */
#define RUNNER_OWN_GATE 1         /* it calls runner_gate before its action: the worker does not gate the
				     whole run of an agent with require_approval */
#define RUNNER_APPROVAL_DEFAULT 2 /* its gated action needs approval even when require_approval is false */

/* The runner of agent type NAME, or NULL when this scheduler has none. */
runner_fn runner_find(const char *name);
/* The RUNNER_* flags of agent type NAME (0 for an unknown type). */
int runner_flags(const char *name);

/* A gated action: 1 when the run may perform ACTION now (approval is not required, or this run's approval
 * for ACTION was approved), 0 when the runner must stop and return RUNNER_WAITING. On 0 the first call
 * records ACTION, SUMMARY (one human-readable line) and ARGS (the exact arguments, never secrets; copied;
 * NULL: {}) for the approval the worker creates. */
int runner_gate(runner_ctx *ctx, const char *action, const char *summary, const json_t *args);

/* Prepares CTX for one run in A; DEADLINE_MS = now + run_timeout_seconds. */
void runner_init(runner_ctx *ctx, arena *a, const settings *cfg, const run_row *run, const json_t *input,
		 const json_t *config);

/* Monotonic milliseconds (CLOCK_MONOTONIC): the clock of deadlines. */
int64_t runner_now_ms(void);
/* Milliseconds left before CTX's deadline (<= 0: over). */
long runner_remaining_ms(const runner_ctx *ctx);

/* Appends a display message (role agent): CONTENT is copied (cut at 60000 bytes on a UTF-8 boundary);
 * DATA (may be NULL) is serialized and not stolen. */
void runner_message_add(runner_ctx *ctx, const char *content, const json_t *data);
/* Sets the run's output to OUTPUT (stolen; released with the arena). */
void runner_set_output(runner_ctx *ctx, json_t *output);
/* Records the first readable failure reason; always returns -1 so a runner can `return runner_fail(...)`. */
int runner_fail(runner_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Registers V (may be NULL) for release with the arena; returns V. */
json_t *runner_keep(runner_ctx *ctx, json_t *v);

/* The signal payload of the run's input (an object for signals and hooks), or NULL (cron runs). Borrowed. */
const json_t *runner_payload(const runner_ctx *ctx);

/* LEN bytes of S (any bytes) as a valid UTF-8 JSON string: invalid sequences and NUL become U+FFFD.
 * Returns a new reference. */
json_t *runner_text(const char *s, size_t len);

/* The runners, one file each. */
int agent_calendar_digest_run(runner_ctx *ctx);
int agent_echo_run(runner_ctx *ctx);
int agent_http_request_run(runner_ctx *ctx);
int agent_mcp_tool_run(runner_ctx *ctx);
int agent_send_email_run(runner_ctx *ctx);
int agent_weather_check_run(runner_ctx *ctx);

#endif
