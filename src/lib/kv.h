/* kv: the one Redis connection of a process (hiredis 0.14), reconnecting after failures. */
#ifndef AP_KV_H
#define AP_KV_H

#include "settings.h"

typedef struct kv kv;

/* A handle that connects lazily (and again after any failure). Never NULL. */
kv *kv_new(const settings *s);
void kv_free(kv *k);

/* How many connections K has made: it changes whenever K connects again (after a failure or a Redis
 * restart), so a caller can tell that what it learnt from Redis before may be from another server's life. */
unsigned kv_epoch(const kv *k);

/* 0 when Redis answers PING, -1 otherwise. */
int kv_ping(kv *k);

/* Runs SCRIPT by EVALSHA (SHA: its 40-hex SHA-1), loading it again on NOSCRIPT (e.g. after a Redis
 * restart). KEYS and ARGV are NUL-terminated strings. The reply must be an array of integers; up to
 * NOUT of them are stored in OUT. Returns the number of integers, or -1 if Redis is unreachable or the
 * reply is not of that shape (logged). */
int kv_eval_ints(kv *k, const char *script, const char *sha, int nkeys, const char *const *keys, int nargs,
		 const char *const *argv, long long *out, int nout);

enum kv_reply_type { KV_NIL, KV_INT, KV_STR, KV_STATUS, KV_ARRAY, KV_ERROR };

/* A reply, copied into an arena. Arrays hold only their string/integer items as text in ITEMS. */
typedef struct kv_reply {
	enum kv_reply_type type;
	long long integer;
	char *str; /* KV_STR, KV_STATUS, KV_ERROR */
	size_t len;
	size_t elements;
	char **items; /* KV_ARRAY: each item as text (NULL for nil) */
} kv_reply;

struct arena;
/* Runs one command (ARGC NUL-terminated arguments) and copies the reply into A. Returns 0 (even for a
 * Redis error reply: see OUT->type), or -1 if Redis is unreachable (logged; reconnect on next use). */
int kv_command(kv *k, struct arena *a, int argc, const char *const *argv, kv_reply *out);

#endif
