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
} runner_ctx;

/* A runner: 0 when the run succeeded (output set), -1 when it failed (error set by runner_fail; the
 * output may be set too). */
typedef int (*runner_fn)(runner_ctx *ctx);

/* The runner of agent type NAME, or NULL when this scheduler has none. */
runner_fn runner_find(const char *name);

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
int agent_echo_run(runner_ctx *ctx);
int agent_http_request_run(runner_ctx *ctx);
int agent_weather_check_run(runner_ctx *ctx);

#endif
