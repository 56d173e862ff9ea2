/* kv: hiredis wrapper: lazy connection, timeouts, EVALSHA with script reload. */
#include "kv.h"
#include "arena.h"
#include "log.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct kv {
	const settings *cfg;
	redisContext *c;
	unsigned epoch; /* connections made so far */
};

kv *kv_new(const settings *s)
{
	kv *k = calloc(1, sizeof *k);
	if (!k)
		abort();
	k->cfg = s;
	return k;
}

static void drop(kv *k)
{
	if (k->c)
		redisFree(k->c);
	k->c = NULL;
}

void kv_free(kv *k)
{
	if (!k)
		return;
	drop(k);
	free(k);
}

static int connect_if_needed(kv *k)
{
	if (k->c)
		return 0;
	struct timeval tv = {k->cfg->redis_timeout_ms / 1000, (k->cfg->redis_timeout_ms % 1000) * 1000};
	redisContext *c;
	if (k->cfg->redis_socket && *k->cfg->redis_socket)
		c = redisConnectUnixWithTimeout(k->cfg->redis_socket, tv);
	else
		c = redisConnectWithTimeout(k->cfg->redis_host, k->cfg->redis_port, tv);
	if (!c)
		abort();
	if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
		log_error("redis connect failed: %s", c->errstr);
		redisFree(c);
		return -1;
	}
	k->c = c;
	k->epoch++;
	return 0;
}

unsigned kv_epoch(const kv *k)
{
	return k->epoch;
}

/* Sends one command; on a transport error the connection is dropped (reconnect on next use). A kept
 * connection that the server closed while it sat idle (Redis restarted, or its idle timeout) fails
 * on first use with EOF or a reset: the command is then sent once more on a new connection, so a
 * Redis restart does not cost every worker one failed request. */
static redisReply *command(kv *k, int argc, const char **argv, const size_t *lens)
{
	for (int attempt = 0;; attempt++) {
		int reused = k->c != NULL;
		if (connect_if_needed(k) != 0)
			return NULL;
		errno = 0;
		redisReply *r = redisCommandArgv(k->c, argc, argv, lens);
		if (r)
			return r;
		int e = errno;
		int stale = reused && attempt == 0 &&
			    (k->c->err == REDIS_ERR_EOF || (k->c->err == REDIS_ERR_IO && (e == ECONNRESET || e == EPIPE)));
		if (stale)
			log_warn("redis connection was closed by the server (%s); reconnecting", k->c->errstr);
		else
			log_error("redis command failed: %s", k->c->errstr);
		drop(k);
		if (!stale)
			return NULL;
	}
}

int kv_ping(kv *k)
{
	const char *argv[] = {"PING"};
	size_t lens[] = {4};
	redisReply *r = command(k, 1, argv, lens);
	if (!r)
		return -1;
	int ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
	freeReplyObject(r);
	return ok ? 0 : -1;
}

int kv_eval_ints(kv *k, const char *script, const char *sha, int nkeys, const char *const *keys, int nargs,
		 const char *const *args, long long *out, int nout)
{
	enum { MAXARGS = 16 };
	const char *argv[MAXARGS + 3];
	size_t lens[MAXARGS + 3];
	char nk[16];
	if (nkeys + nargs > MAXARGS)
		abort();
	snprintf(nk, sizeof nk, "%d", nkeys);
	int argc = 0;
	argv[argc++] = "EVALSHA";
	argv[argc++] = sha;
	argv[argc++] = nk;
	for (int i = 0; i < nkeys; i++)
		argv[argc++] = keys[i];
	for (int i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);

	redisReply *r = command(k, argc, argv, lens);
	if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		/* A restarted (or flushed) Redis forgot the script: EVAL loads it under the same SHA. */
		freeReplyObject(r);
		argv[0] = "EVAL";
		argv[1] = script;
		lens[0] = 4;
		lens[1] = strlen(script);
		r = command(k, argc, argv, lens);
	}
	if (!r)
		return -1;
	int n = -1;
	if (r->type == REDIS_REPLY_ARRAY) {
		n = 0;
		for (size_t i = 0; i < r->elements && n < nout; i++) {
			if (r->element[i]->type != REDIS_REPLY_INTEGER) {
				n = -1;
				break;
			}
			out[n++] = r->element[i]->integer;
		}
	}
	if (n < 0)
		log_error("redis script reply of unexpected shape (type %d%s%s)", r->type,
			  r->type == REDIS_REPLY_ERROR ? ": " : "", r->type == REDIS_REPLY_ERROR ? r->str : "");
	freeReplyObject(r);
	return n;
}

static char *copy_text(arena *a, const char *s, size_t n)
{
	return arena_strndup(a, s ? s : "", s ? n : 0);
}

int kv_command(kv *k, arena *a, int argc, const char *const *argv, kv_reply *out)
{
	enum { MAXARGS = 32 };
	size_t lens[MAXARGS];
	if (argc > MAXARGS)
		abort();
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	redisReply *r = command(k, argc, (const char **)argv, lens);
	memset(out, 0, sizeof *out);
	if (!r)
		return -1;
	switch (r->type) {
	case REDIS_REPLY_INTEGER:
		out->type = KV_INT;
		out->integer = r->integer;
		break;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		out->type = r->type == REDIS_REPLY_STRING ? KV_STR : r->type == REDIS_REPLY_STATUS ? KV_STATUS : KV_ERROR;
		out->str = copy_text(a, r->str, r->len);
		out->len = r->len;
		if (out->type == KV_ERROR)
			log_error("redis error reply to %s: %s", argv[0], r->str);
		break;
	case REDIS_REPLY_ARRAY:
		out->type = KV_ARRAY;
		out->elements = r->elements;
		out->items = arena_alloc(a, (r->elements + 1) * sizeof *out->items);
		for (size_t i = 0; i < r->elements; i++) {
			redisReply *e = r->element[i];
			if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
				out->items[i] = copy_text(a, e->str, e->len);
			else if (e->type == REDIS_REPLY_INTEGER)
				out->items[i] = arena_printf(a, "%lld", e->integer);
		}
		break;
	default:
		out->type = KV_NIL;
	}
	freeReplyObject(r);
	return 0;
}
