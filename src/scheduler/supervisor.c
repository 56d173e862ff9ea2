/* supervisor: forks and restarts run workers, heartbeats their runs, runs the cron tick, the sweep, the usage
 * flush and the API key expiry check; forks and restarts the webhook delivery process. */
#include "supervisor.h"
#include "arena.h"
#include "crontick.h"
#include "crypto.h"
#include "db.h"
#include "approvals.h"
#include "deliveries.h"
#include "keyexpiry.h"
#include "kv.h"
#include "log.h"
#include "mcpdiscovery.h"
#include "queue.h"
#include "runner.h"
#include "store_run.h"
#include "sweep.h"
#include "usageflush.h"
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A worker that dies sooner than this after its start is restarted after a growing delay (crash loops). */
#define QUICK_DEATH_MS 10000
#define RESTART_DELAY_MAX_MS 30000

typedef struct child {
	pid_t pid;            /* 0: not running */
	char worker[64];      /* <host>:<pid>:<random>, the runs.worker column (VARCHAR(64)) */
	int64_t started_ms;   /* runner_now_ms() at fork */
	int64_t restart_at_ms;
	int quick_deaths;
} child;

typedef struct supervisor {
	const settings *cfg;
	volatile sig_atomic_t *stop;
	worker_slot *slots; /* shared with the workers */
	child *kids;
	int n;
	db *d;
	kv *k;
	arena *a;
	char host[41];
	int ttl_s;          /* lifetime of a worker's liveness key */
	int tick_failing, sweep_failing, flush_failing, expiry_failing;
	child deliverer;    /* the webhook delivery process (deliveries.h) */
	child discoverer;   /* the MCP discovery process (mcpdiscovery.h) */
} supervisor;

/* This machine's name, reduced to what the ascii worker column and Redis keys take well. */
static void host_name(char *out, size_t outlen)
{
	char h[256] = "";
	if (gethostname(h, sizeof h - 1) != 0 || !h[0])
		snprintf(h, sizeof h, "host");
	size_t o = 0;
	for (const char *p = h; *p && o + 1 < outlen; p++)
		out[o++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == '.' || *p == '_')
				   ? *p
				   : '_';
	out[o] = '\0';
}

static void spawn(supervisor *s, int i)
{
	child *c = &s->kids[i];
	char rnd[9];
	crypto_random_base62(rnd, 8);
	worker_slot_set(&s->slots[i], NULL);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("cannot start a run worker: fork: %s", strerror(errno));
		c->restart_at_ms = runner_now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		/* If the supervisor dies (even by SIGKILL), the worker finishes its current run and exits. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		char id[64];
		snprintf(id, sizeof id, "%s:%ld:%s", s->host, (long)getpid(), rnd);
		/* The supervisor's connections belong to it: the worker makes its own and never touches these. */
		exit(worker_main(s->cfg, id, &s->slots[i], s->stop, parent));
	}
	c->pid = pid;
	c->started_ms = runner_now_ms();
	snprintf(c->worker, sizeof c->worker, "%s:%ld:%s", s->host, (long)pid, rnd);
	if (queue_worker_alive(s->k, s->a, c->worker, s->ttl_s) != 0)
		log_warn("run worker %s: could not register it in Redis (will retry)", c->worker);
}

typedef int (*service_main)(const settings *cfg, volatile sig_atomic_t *stop);

/* Forks a service process (webhook deliveries, MCP discovery) into C: apart from this loop, so a slow receiver
 * or MCP server never delays it. NAME labels it in the logs. */
static void spawn_service(supervisor *s, child *c, const char *name, service_main fn)
{
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("cannot start the %s process: fork: %s", name, strerror(errno));
		c->restart_at_ms = runner_now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		exit(fn(s->cfg, s->stop));
	}
	c->pid = pid;
	c->started_ms = runner_now_ms();
	snprintf(c->worker, sizeof c->worker, "%s:%ld", name, (long)pid);
}

static void spawn_deliverer(supervisor *s)
{
	spawn_service(s, &s->deliverer, "webhook delivery", deliveries_main);
}

static void spawn_discoverer(supervisor *s)
{
	spawn_service(s, &s->discoverer, "mcp discovery", mcpdiscovery_main);
}

static const char *describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	return buf;
}

/* Collects exited workers: gives back what they held and plans their restart. Returns how many still run. */
static int reap(supervisor *s)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->deliverer.pid || pid == s->discoverer.pid) {
			child *c = pid == s->deliverer.pid ? &s->deliverer : &s->discoverer;
			char why[48];
			if (!*s->stop || status != 0)
				log_warn("%s process %s", c == &s->deliverer ? "webhook delivery" : "mcp discovery",
					 describe_exit(status, why, sizeof why));
			int64_t now = runner_now_ms();
			c->pid = 0;
			c->quick_deaths = now - c->started_ms < QUICK_DEATH_MS ? c->quick_deaths + 1 : 0;
			long delay = c->quick_deaths ? 500L << (c->quick_deaths < 6 ? c->quick_deaths : 6) : 0;
			c->restart_at_ms = now + (delay < RESTART_DELAY_MAX_MS ? delay : RESTART_DELAY_MAX_MS);
			continue;
		}
		for (int i = 0; i < s->n; i++) {
			child *c = &s->kids[i];
			if (c->pid != pid)
				continue;
			char run_id[IDS_MAX_LEN], why[48];
			int64_t since, now = runner_now_ms();
			int busy = worker_slot_get(&s->slots[i], run_id, &since) == 1;
			if (!*s->stop || status != 0)
				log_warn("run worker %s %s%s%s%s", c->worker, describe_exit(status, why, sizeof why),
					 busy ? " while executing run " : "", busy ? run_id : "",
					 busy ? " (the sweep queues it again once its heartbeat expires)" : "");
			if (queue_worker_release(s->k, s->a, c->worker) < 0)
				log_warn("run worker %s: Redis unavailable; the sweep will give back what it held", c->worker);
			c->pid = 0;
			int quick = now - c->started_ms < QUICK_DEATH_MS;
			c->quick_deaths = quick ? c->quick_deaths + 1 : 0;
			long delay = quick ? 500L << (c->quick_deaths < 6 ? c->quick_deaths : 6) : 0;
			c->restart_at_ms = now + (delay < RESTART_DELAY_MAX_MS ? delay : RESTART_DELAY_MAX_MS);
		}
	}
	int alive = (s->deliverer.pid != 0) + (s->discoverer.pid != 0);
	for (int i = 0; i < s->n; i++)
		alive += s->kids[i].pid != 0;
	return alive;
}

/* Refreshes the liveness keys of the running workers (a sweep anywhere gives back what an unregistered
 * worker holds). Stops at the first failure: Redis is down. */
static void register_workers(supervisor *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->kids[i].pid && queue_worker_alive(s->k, s->a, s->kids[i].worker, s->ttl_s) != 0)
			return;
}

/* Keeps the workers registered and the heartbeat of their runs fresh; kills a worker stuck on one run well
 * past run_timeout_seconds (its run is then recovered by the sweep). */
static void heartbeat(supervisor *s)
{
	int64_t now = runner_now_ms();
	int64_t hung_ms = ((int64_t)s->cfg->run_timeout_seconds + WORKER_SLACK_SECONDS) * 1000;
	register_workers(s);
	for (int i = 0; i < s->n; i++) {
		child *c = &s->kids[i];
		if (!c->pid)
			continue;
		char run_id[IDS_MAX_LEN];
		int64_t since;
		if (worker_slot_get(&s->slots[i], run_id, &since) != 1)
			continue;
		if (now - since > hung_ms) {
			log_error("run worker %s has been on run %s for %lld s; killing it", c->worker, run_id,
				  (long long)((now - since) / 1000));
			kill(c->pid, SIGKILL);
			continue;
		}
		if (store_run_heartbeat(s->d, s->a, run_id, c->worker) == STORE_UNAVAILABLE)
			break; /* MariaDB is down: the others would only wait for the same timeout */
	}
}

static void tick(supervisor *s)
{
	int made = crontick_run(s->d, s->k, s->a);
	if (made < 0 && !s->tick_failing)
		log_warn("cron tick failed (MariaDB unavailable?); retrying every %d s", s->cfg->cron_tick_seconds);
	else if (made >= 0 && s->tick_failing)
		log_info("cron tick works again");
	s->tick_failing = made < 0;
}

static void sweep(supervisor *s)
{
	/* Our own workers are alive whatever kept this process from refreshing their keys (a slow MariaDB). */
	register_workers(s);
	int rc = sweep_run(s->d, s->k, s->a, s->cfg);
	if (rc != 0 && !s->sweep_failing)
		log_warn("sweep failed (MariaDB or Redis unavailable?); retrying every %d s", s->cfg->sweep_interval_seconds);
	else if (rc == 0 && s->sweep_failing)
		log_info("sweep works again");
	s->sweep_failing = rc != 0;
}

static void flush_usage(supervisor *s)
{
	int rc = usageflush_run(s->d, s->k, s->a);
	if (rc != 0 && !s->flush_failing)
		log_warn("usage flush failed (MariaDB or Redis unavailable?); retrying every %d s", s->cfg->usage_flush_seconds);
	else if (rc == 0 && s->flush_failing)
		log_info("usage flush works again");
	s->flush_failing = rc != 0;
}

static void check_key_expiry(supervisor *s)
{
	int rc = keyexpiry_run(s->d, s->a);
	if (rc < 0 && !s->expiry_failing)
		log_warn("API key expiry check failed (MariaDB unavailable?); retrying every %d s",
			 s->cfg->key_expiry_check_seconds);
	else if (rc >= 0 && s->expiry_failing)
		log_info("API key expiry check works again");
	s->expiry_failing = rc < 0;
}

static void expire_approvals(supervisor *s)
{
	if (approvals_expire(s->d, s->a) < 0)
		log_warn("approval expiry check failed (MariaDB unavailable?); retrying in %d s",
			 s->cfg->approval_expiry_check_seconds);
}

static void nap_ms(int64_t ms)
{
	if (ms < 10)
		ms = 10;
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL); /* a signal (SIGCHLD, SIGTERM) ends it early */
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Stops taking work: SIGTERM to the workers, then up to shutdown_grace_seconds (or a second signal) before
 * SIGKILL. Heartbeats continue meanwhile so no sweep takes their runs. */
static void shut_down(supervisor *s, int64_t hb_ms)
{
	int alive = reap(s);
	log_info("stopping: %d run worker%s get up to %d s to record their current run", alive, alive == 1 ? "" : "s",
		 s->cfg->shutdown_grace_seconds);
	for (int i = 0; i < s->n; i++)
		if (s->kids[i].pid)
			kill(s->kids[i].pid, SIGTERM);
	if (s->deliverer.pid)
		kill(s->deliverer.pid, SIGTERM);
	if (s->discoverer.pid)
		kill(s->discoverer.pid, SIGTERM);
	int64_t end = runner_now_ms() + (int64_t)s->cfg->shutdown_grace_seconds * 1000, next_hb = 0;
	int killed = 0;
	while ((alive = reap(s)) > 0) {
		arena_reset(s->a);
		int64_t now = runner_now_ms();
		if (!killed && (now >= end || *s->stop >= 2)) {
			log_warn("stopping: %d run worker%s still busy; killing (their runs are recovered by the sweep)",
				 alive, alive == 1 ? "" : "s");
			for (int i = 0; i < s->n; i++)
				if (s->kids[i].pid)
					kill(s->kids[i].pid, SIGKILL);
			if (s->deliverer.pid)
				kill(s->deliverer.pid, SIGKILL);
			if (s->discoverer.pid)
				kill(s->discoverer.pid, SIGKILL);
			killed = 1;
		}
		if (!killed && now >= next_hb) {
			heartbeat(s);
			next_hb = now + hb_ms;
		}
		nap_ms(50);
	}
}

int supervisor_run(const settings *cfg, volatile sig_atomic_t *stop)
{
	supervisor s = {.cfg = cfg, .stop = stop, .n = cfg->scheduler_concurrency};
	s.slots = mmap(NULL, (size_t)s.n * sizeof *s.slots, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s.slots == MAP_FAILED) {
		log_error("cannot map the shared worker slots: %s", strerror(errno));
		return 1;
	}
	s.kids = calloc((size_t)s.n, sizeof *s.kids);
	if (!s.kids)
		abort();
	host_name(s.host, sizeof s.host);
	s.ttl_s = cfg->heartbeat_timeout_seconds > 2 ? cfg->heartbeat_timeout_seconds : 2;
	s.d = db_new(cfg);
	s.k = kv_new(cfg);
	s.a = arena_new();
	int64_t hb_ms = (int64_t)cfg->heartbeat_timeout_seconds * 1000 / 3;
	if (hb_ms < 200)
		hb_ms = 200;
	log_info("scheduler started: %d run workers, cron tick %d s, sweep %d s, usage flush %d s, heartbeat %lld ms", s.n,
		 cfg->cron_tick_seconds, cfg->sweep_interval_seconds, cfg->usage_flush_seconds, (long long)hb_ms);

	for (int i = 0; i < s.n; i++)
		spawn(&s, i);
	spawn_deliverer(&s);
	spawn_discoverer(&s);
	int64_t now = runner_now_ms(), next_hb = now, next_tick = now, next_sweep = now, next_flush = now,
		next_expiry = now, next_approvals = now;
	while (!*stop) {
		arena_reset(s.a);
		reap(&s);
		now = runner_now_ms();
		int64_t wake = now + 1000;
		for (int i = 0; i < s.n && !*stop; i++) {
			if (s.kids[i].pid)
				continue;
			if (now >= s.kids[i].restart_at_ms)
				spawn(&s, i);
			else
				wake = min64(wake, s.kids[i].restart_at_ms);
		}
		if (!*stop && !s.deliverer.pid) {
			if (now >= s.deliverer.restart_at_ms)
				spawn_deliverer(&s);
			else
				wake = min64(wake, s.deliverer.restart_at_ms);
		}
		if (!*stop && !s.discoverer.pid) {
			if (now >= s.discoverer.restart_at_ms)
				spawn_discoverer(&s);
			else
				wake = min64(wake, s.discoverer.restart_at_ms);
		}
		if (now >= next_hb) {
			heartbeat(&s);
			next_hb = now + hb_ms;
		}
		if (!*stop && now >= next_tick) {
			tick(&s);
			next_tick = now + (int64_t)cfg->cron_tick_seconds * 1000;
		}
		if (!*stop && now >= next_sweep) {
			sweep(&s);
			next_sweep = now + (int64_t)cfg->sweep_interval_seconds * 1000;
		}
		if (!*stop && now >= next_flush) {
			flush_usage(&s);
			next_flush = now + (int64_t)cfg->usage_flush_seconds * 1000;
		}
		if (!*stop && now >= next_expiry) {
			check_key_expiry(&s);
			next_expiry = now + (int64_t)cfg->key_expiry_check_seconds * 1000;
		}
		wake = min64(wake, min64(min64(next_hb, next_flush), min64(next_tick, next_sweep)));
		if (!*stop && now >= next_approvals) {
			expire_approvals(&s);
			next_approvals = now + (int64_t)cfg->approval_expiry_check_seconds * 1000;
		}
		wake = min64(wake, min64(next_expiry, next_approvals));
		if (!*stop)
			nap_ms(wake - runner_now_ms());
	}
	shut_down(&s, hb_ms);
	log_info("scheduler stopped");
	arena_free(s.a);
	db_free(s.d);
	kv_free(s.k);
	free(s.kids);
	munmap(s.slots, (size_t)s.n * sizeof *s.slots);
	return 0;
}
