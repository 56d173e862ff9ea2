/* queue: LPUSH / BLMOVE (the id sits in a per-worker list while it runs) / LREM, and the live-worker registry. */
#include "queue.h"

#include <stdio.h>
#include <string.h>

int queue_push(kv *k, arena *a, const char *run_id)
{
	const char *argv[] = {"LPUSH", QUEUE_KEY, run_id};
	kv_reply r;
	return kv_command(k, a, 3, argv, &r) == 0 && r.type == KV_INT ? 0 : -1;
}

int queue_pop(kv *k, arena *a, const char *worker, int timeout_ms, char **run_id)
{
	char processing[128], timeout[32];
	snprintf(processing, sizeof processing, QUEUE_PROCESSING_PREFIX "%s", worker);
	snprintf(timeout, sizeof timeout, "%d.%03d", timeout_ms / 1000, timeout_ms % 1000);
	const char *argv[] = {"BLMOVE", QUEUE_KEY, processing, "RIGHT", "LEFT", timeout};
	kv_reply r;
	if (kv_command(k, a, 6, argv, &r) != 0 || r.type == KV_ERROR)
		return -1;
	if (r.type != KV_STR)
		return 0;
	*run_id = r.str;
	return 1;
}

int queue_ack(kv *k, arena *a, const char *worker, const char *run_id)
{
	char processing[128];
	snprintf(processing, sizeof processing, QUEUE_PROCESSING_PREFIX "%s", worker);
	const char *argv[] = {"LREM", processing, "1", run_id};
	kv_reply r;
	return kv_command(k, a, 4, argv, &r) == 0 && r.type == KV_INT ? 0 : -1;
}

int queue_clear_processing(kv *k, arena *a, const char *worker)
{
	char processing[128];
	snprintf(processing, sizeof processing, QUEUE_PROCESSING_PREFIX "%s", worker);
	const char *argv[] = {"DEL", processing};
	kv_reply r;
	return kv_command(k, a, 2, argv, &r) == 0 && r.type == KV_INT ? 0 : -1;
}

int queue_worker_alive(kv *k, arena *a, const char *worker, int ttl_s)
{
	char key[128], ttl[16];
	snprintf(key, sizeof key, QUEUE_WORKER_PREFIX "%s", worker);
	snprintf(ttl, sizeof ttl, "%d", ttl_s > 0 ? ttl_s : 1);
	const char *sadd[] = {"SADD", QUEUE_WORKERS_KEY, worker};
	const char *set[] = {"SET", key, "1", "EX", ttl};
	kv_reply r;
	if (kv_command(k, a, 3, sadd, &r) != 0 || r.type != KV_INT)
		return -1;
	return kv_command(k, a, 5, set, &r) == 0 && r.type == KV_STATUS ? 0 : -1;
}

int queue_worker_release(kv *k, arena *a, const char *worker)
{
	/* A worker holds at most one id at a time; the bound only guards against a list filled by mistake. */
	enum { MOVE_MAX = 1000 };
	char processing[128], key[128];
	snprintf(processing, sizeof processing, QUEUE_PROCESSING_PREFIX "%s", worker);
	snprintf(key, sizeof key, QUEUE_WORKER_PREFIX "%s", worker);
	const char *move[] = {"LMOVE", processing, QUEUE_KEY, "RIGHT", "RIGHT"};
	kv_reply r;
	int moved = 0;
	for (; moved < MOVE_MAX; moved++) {
		if (kv_command(k, a, 5, move, &r) != 0 || r.type == KV_ERROR)
			return -1;
		if (r.type != KV_STR)
			break;
	}
	const char *del[] = {"DEL", processing, key};
	const char *srem[] = {"SREM", QUEUE_WORKERS_KEY, worker};
	if (kv_command(k, a, 3, del, &r) != 0 || r.type != KV_INT || kv_command(k, a, 3, srem, &r) != 0 ||
	    r.type != KV_INT)
		return -1;
	return moved;
}

int queue_workers_lost(kv *k, arena *a, char ***workers, int *n)
{
	const char *members[] = {"SMEMBERS", QUEUE_WORKERS_KEY};
	kv_reply r;
	*n = 0;
	if (kv_command(k, a, 2, members, &r) != 0 || r.type != KV_ARRAY)
		return -1;
	*workers = arena_alloc(a, (r.elements + 1) * sizeof **workers);
	for (size_t i = 0; i < r.elements; i++) {
		char key[128];
		kv_reply e;
		if (!r.items[i] || strlen(r.items[i]) > 100)
			continue;
		snprintf(key, sizeof key, QUEUE_WORKER_PREFIX "%s", r.items[i]);
		const char *exists[] = {"EXISTS", key};
		if (kv_command(k, a, 2, exists, &e) != 0 || e.type != KV_INT)
			return -1;
		if (e.integer == 0)
			(*workers)[(*n)++] = r.items[i];
	}
	return 0;
}
