/* worker: the run-worker loop: queue_pop -> store_run_claim -> runner -> store_run_finish -> queue_ack. */
#include "worker.h"
#include "agenttype.h"
#include "approvals.h"
#include "arena.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "queue.h"
#include "runner.h"
#include "store_approval.h"
#include "store_notification.h"
#include "store_run.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000

typedef struct worker {
	const settings *cfg;
	const char *id;
	worker_slot *slot;
	volatile sig_atomic_t *stop;
	pid_t parent;
	db *d;
	kv *k;
	arena *a;
	int dirty; /* an ack failed: the processing list may hold ids of runs already recorded */
} worker;

void worker_slot_set(worker_slot *s, const char *run_id)
{
	uint64_t w[IDS_MAX_LEN / 8] = {0};
	if (run_id) {
		size_t n = strlen(run_id);
		memcpy(w, run_id, n < IDS_MAX_LEN - 1 ? n : IDS_MAX_LEN - 1);
	}
	unsigned q = atomic_load_explicit(&s->seq, memory_order_relaxed);
	atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < IDS_MAX_LEN / 8; i++)
		atomic_store_explicit(&s->run_id[i], w[i], memory_order_relaxed);
	atomic_store_explicit(&s->since_ms, run_id ? runner_now_ms() : 0, memory_order_relaxed);
	atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

int worker_slot_get(worker_slot *s, char *run_id, int64_t *since_ms)
{
	for (int tries = 0; tries < 1000; tries++) {
		unsigned q = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (q & 1)
			continue;
		uint64_t w[IDS_MAX_LEN / 8];
		for (size_t i = 0; i < IDS_MAX_LEN / 8; i++)
			w[i] = atomic_load_explicit(&s->run_id[i], memory_order_relaxed);
		int64_t since = atomic_load_explicit(&s->since_ms, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) != q)
			continue;
		memcpy(run_id, w, IDS_MAX_LEN);
		run_id[IDS_MAX_LEN - 1] = '\0';
		*since_ms = since;
		return run_id[0] ? 1 : 0;
	}
	return -1;
}

static int stopping(const worker *w)
{
	return *w->stop || getppid() != w->parent;
}

/* Sleeps MS milliseconds in short steps, returning early once the worker is told to stop. */
static void nap(const worker *w, long ms)
{
	while (ms > 0 && !stopping(w)) {
		long step = ms < 100 ? ms : 100;
		struct timespec ts = {0, step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Sleeps MS milliseconds even while stopping: recording a finished run is worth the shutdown grace. */
static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long next_backoff(long ms)
{
	return ms <= 0 ? BACKOFF_MIN_MS : ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
}

/* Runs RUNNER_FN FN for the claimed RUN of an agent of TYPE into CTX behind the approval gates: the agent's
 * require_approval (the whole run is gated unless the type gates its own action) and the type's own. */
static int run_gated(worker *w, runner_ctx *ctx, const run_row *run, const char *type, runner_fn fn)
{
	int flags = runner_flags(type), require = 0;
	char *name = NULL, *approved = NULL;
	if (store_approval_gate_info(w->d, w->a, run->id, &require, &name, &approved) != STORE_OK)
		return runner_fail(ctx, "the agent's approval settings could not be read");
	ctx->require_approval = require || (flags & RUNNER_APPROVAL_DEFAULT);
	ctx->approved_action = approved;
	if (ctx->require_approval && !(flags & RUNNER_OWN_GATE) &&
	    !runner_gate(ctx, type, arena_printf(w->a, "Run %s", name), ctx->input))
		return RUNNER_WAITING;
	return fn(ctx);
}

/* Runs the claimed RUN of an agent of TYPE with CONFIG (JSON text) into CTX; returns "succeeded", "failed" or
 * "waiting_approval". */
static const char *execute(worker *w, runner_ctx *ctx, const run_row *run, const char *type, const char *config)
{
	json_error_t je;
	runner_init(ctx, w->a, w->cfg, run, NULL, NULL);
	ctx->db = w->d;
	json_t *conf = runner_keep(ctx, config ? json_loads(config, 0, &je) : NULL);
	ctx->config = conf;
	ctx->input = runner_keep(ctx, run->input ? json_loads(run->input, JSON_DECODE_ANY, &je) : NULL);
	const agenttype *t = agenttype_find(type);
	runner_fn fn = runner_find(type);
	verr e;
	int rc;
	if (!t || !fn)
		rc = runner_fail(ctx, "agent type \"%.40s\" is not supported by this scheduler", type);
	else if (!json_is_object(conf))
		rc = runner_fail(ctx, "the agent's config could not be read");
	else if (t->validate(conf, &e) != 0)
		rc = runner_fail(ctx, "the agent's config is not valid: %s", e.message);
	else
		rc = run_gated(w, ctx, run, type, fn);
	if (rc == RUNNER_WAITING && ctx->gate_action)
		return "waiting_approval";
	if (rc == RUNNER_WAITING)
		rc = runner_fail(ctx, "the run stopped for an approval without naming its action");
	if (rc != 0 && !ctx->error[0])
		runner_fail(ctx, "the run failed");
	return rc == 0 ? "succeeded" : "failed";
}

/* The text of the weather alert a succeeded weather_check run raised (its output's alert.message), or NULL. */
static const char *weather_alert(const runner_ctx *ctx, const char *type, const char *status)
{
	if (strcmp(status, "succeeded") != 0 || !type || strcmp(type, "weather_check") != 0)
		return NULL;
	const json_t *alert = json_object_get(ctx->output, "alert");
	return json_string_value(json_object_get(alert, "message"));
}

/* Stores CTX's messages, the outcome and the notifications it causes (ALERT: a weather alert's text, or
 * NULL) in one transaction, so a run re-executed after a lost worker never shows the messages of an attempt
 * whose outcome was not recorded. */
static enum store_result record(worker *w, const run_row *run, runner_ctx *ctx, const char *status,
				const char *alert)
{
	char *out = ctx->output ? json_dumps(ctx->output, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
	/* A run stopped at a gate keeps no messages: it runs again from the start once approved. */
	int waiting = strcmp(status, "waiting_approval") == 0;
	char *args = waiting ? json_dumps(ctx->gate_args, JSON_COMPACT) : NULL;
	enum store_result res = db_begin(w->d);
	int64_t last_ms = 0;
	for (runner_message *m = waiting ? NULL : ctx->messages; m && res == STORE_OK; m = m->next) {
		/* Messages list in id order, and an id orders by its millisecond only: one millisecond each. */
		while (m != ctx->messages && util_now_ms() <= last_ms)
			pause_ms(1);
		last_ms = util_now_ms();
		res = store_message_insert(w->d, w->a, run->account_id, run->agent_id, run->id, "agent", m->content,
					   m->data);
	}
	if (res == STORE_OK && waiting)
		res = store_approval_wait(w->d, w->a, run->id, w->id, ctx->gate_action, ctx->gate_summary, args,
					  w->cfg->approval_default_timeout_seconds);
	else if (res == STORE_OK)
		res = store_run_finish(w->d, w->a, run->id, w->id, status, out,
				       strcmp(status, "succeeded") == 0 ? NULL : ctx->error);
	if (res == STORE_OK && alert)
		res = store_notification_weather_alert(w->d, w->a, run->id, alert);
	if (res == STORE_OK)
		res = db_commit(w->d);
	if (res != STORE_OK)
		db_rollback(w->d);
	free(out);
	free(args);
	return res;
}

/* record(), again while MariaDB is unreachable (until the run's time plus WORKER_SLACK_SECONDS from T0 is
 * over, or for shutdown_grace_seconds once the worker is told to stop) and a few times after a refusal (a
 * deadlock with a sweep, a lock wait timeout). */
static enum store_result record_retrying(worker *w, const run_row *run, runner_ctx *ctx, const char *status,
					 const char *alert, int64_t t0)
{
	int64_t give_up = t0 + ((int64_t)w->cfg->run_timeout_seconds + WORKER_SLACK_SECONDS) * 1000;
	int64_t stop_limit = runner_now_ms() + (int64_t)w->cfg->shutdown_grace_seconds * 1000;
	long backoff = 0;
	enum store_result res;
	for (int refused = 0;; refused++) {
		res = record(w, run, ctx, status, alert);
		int64_t now = runner_now_ms();
		if (res == STORE_UNAVAILABLE && now < give_up && !(stopping(w) && now >= stop_limit)) {
			backoff = next_backoff(backoff);
			log_warn("run %s: MariaDB unavailable while recording the outcome; retrying in %ld ms", run->id,
				 backoff);
			pause_ms(backoff);
		} else if (res == STORE_ERROR && refused < 3) {
			pause_ms(50L << refused);
		} else {
			return res;
		}
	}
}

/* Handles one id popped from the queue. 0 when done with it (recorded, or not claimable), -1 when MariaDB
 * could not be asked (the caller backs off and tries the same id again). */
static int handle(worker *w, const char *id)
{
	if (ids_valid("apr_", id)) {
		/* An approved agentless action (store_approval_decide pushes its approval id). */
		if (approvals_perform(w->d, w->a, w->cfg, id) != 0)
			return -1;
	} else if (!ids_valid("run_", id)) {
		log_warn("dropping a malformed entry from the run queue");
	} else {
		run_row run;
		char *type = NULL, *config = NULL;
		enum store_result res = store_run_claim(w->d, w->a, id, w->id, &run, &type, &config);
		if (res != STORE_OK && res != STORE_NOT_FOUND)
			return -1;
		if (res == STORE_OK) {
			worker_slot_set(w->slot, id);
			int64_t t0 = runner_now_ms();
			runner_ctx ctx;
			const char *status = execute(w, &ctx, &run, type, config);
			res = record_retrying(w, &run, &ctx, status, weather_alert(&ctx, type, status), t0);
			if (res == STORE_ERROR) {
				/* Refused (a bug, or a value the table will not take): record a plain failure instead. */
				runner_ctx plain;
				runner_init(&plain, w->a, w->cfg, &run, NULL, NULL);
				runner_fail(&plain, "the run's result could not be stored");
				status = "failed";
				res = record_retrying(w, &run, &plain, status, NULL, t0);
			}
			if (res == STORE_OK)
				log_info("run %s agent %s %s in %lld ms (attempt %d)", id, run.agent_id, status,
					 (long long)(runner_now_ms() - t0), run.attempt);
			else if (res == STORE_NOT_FOUND)
				log_warn("run %s agent %s: no longer held by this worker (its heartbeat expired or it was "
					 "cancelled); outcome dropped", id, run.agent_id);
			else
				log_error("run %s agent %s: the outcome could not be recorded; the sweep will run it again",
					  id, run.agent_id);
			worker_slot_set(w->slot, NULL);
		}
	}
	if (queue_ack(w->k, w->a, w->id, id) != 0)
		w->dirty = 1;
	return 0;
}

int worker_main(const settings *cfg, const char *worker_id, worker_slot *slot, volatile sig_atomic_t *stop,
		pid_t parent)
{
	worker w = {.cfg = cfg, .id = worker_id, .slot = slot, .stop = stop, .parent = parent};
	w.d = db_new(cfg);
	w.k = kv_new(cfg);
	w.a = arena_new();
	/* The blocking pop must end before the Redis command timeout, or hiredis drops the connection. */
	int pop_ms = cfg->redis_timeout_ms / 2;
	pop_ms = pop_ms < 50 ? 50 : pop_ms > 2000 ? 2000 : pop_ms;
	char held[IDS_MAX_LEN] = "";
	long backoff = 0;
	log_info("run worker %s started", worker_id);
	while (!stopping(&w)) {
		arena_reset(w.a);
		if (held[0]) {
			if (handle(&w, held) == 0) {
				held[0] = '\0';
				backoff = 0;
			} else {
				backoff = next_backoff(backoff);
				nap(&w, backoff);
			}
			continue;
		}
		if (w.dirty && queue_clear_processing(w.k, w.a, w.id) == 0)
			w.dirty = 0;
		char *id = NULL;
		int got = queue_pop(w.k, w.a, w.id, pop_ms, &id);
		if (got < 0) {
			backoff = next_backoff(backoff);
			nap(&w, backoff);
			continue;
		}
		backoff = 0;
		if (got == 1 && strlen(id) >= sizeof held) {
			log_warn("dropping a malformed entry from the run queue");
			if (queue_ack(w.k, w.a, w.id, id) != 0)
				w.dirty = 1;
		} else if (got == 1) {
			snprintf(held, sizeof held, "%s", id);
		}
	}
	/* An id still held (MariaDB was down) stays in the processing list: the supervisor gives it back. */
	log_info("run worker %s stopped", worker_id);
	arena_free(w.a);
	db_free(w.d);
	kv_free(w.k);
	return 0;
}
