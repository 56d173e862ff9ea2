/* usage: Redis key names and the Redis steps of API request counting (see usage.h). */
#include "usage.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void usage_live_key(const char *account_id, int64_t epoch_s, char *out)
{
	time_t t = (time_t)epoch_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, USAGE_KEY_MAX, "usage:{%s}:%04d-%02d-%02d", account_id, tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday);
}

static int valid_day(const char *s)
{
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static int copy_id(char *dst, const char *src, size_t n)
{
	if (n == 0 || n >= IDS_MAX_LEN)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int usage_parse_key(const char *name, int flush, usage_key_parts *out)
{
	const char *prefix = flush ? "usage:flush:{" : "usage:{";
	size_t pl = strlen(prefix);
	memset(out, 0, sizeof *out);
	if (strncmp(name, prefix, pl) != 0)
		return -1;
	const char *acct = name + pl, *close = strchr(acct, '}');
	if (!close || close[1] != ':' || copy_id(out->account_id, acct, (size_t)(close - acct)) != 0)
		return -1;
	const char *day = close + 2;
	if (strlen(day) < 10 || !valid_day(day))
		return -1;
	memcpy(out->day, day, 10);
	const char *rest = day + 10;
	if (!flush)
		return *rest == '\0' ? 0 : -1;
	if (*rest != ':' || copy_id(out->flush_id, rest + 1, strlen(rest + 1)) != 0)
		return -1;
	return ids_valid(USAGE_FLUSH_ID_PREFIX, out->flush_id) ? 0 : -1;
}

/* Returns {tag, name, field, value, ...}: tag "l" for a live hash of the account, "f" for a flush key. Keys not
 * named in KEYS (single node only, like the counting itself). */
static const char READ_SCRIPT[] =
	"local out = {}\n"
	"local function add(tag, name)\n"
	"  local h = redis.call('HGETALL', name)\n"
	"  for i = 1, #h, 2 do\n"
	"    out[#out + 1] = tag; out[#out + 1] = name; out[#out + 1] = h[i]; out[#out + 1] = h[i + 1]\n"
	"  end\n"
	"end\n"
	"for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	"  if string.sub(name, 1, #ARGV[1]) == ARGV[1] then add('l', name) end\n"
	"end\n"
	"for _, name in ipairs(redis.call('SMEMBERS', KEYS[2])) do\n"
	"  if string.sub(name, 1, #ARGV[2]) == ARGV[2] then add('f', name) end\n"
	"end\n"
	"return out\n";

int usage_read_redis(kv *k, arena *a, const char *account_id, usage_count **out, int *n)
{
	char live[USAGE_KEY_MAX], flush[USAGE_KEY_MAX];
	snprintf(live, sizeof live, "usage:{%s}:", account_id);
	snprintf(flush, sizeof flush, "usage:flush:{%s}:", account_id);
	const char *argv[] = {"EVAL", READ_SCRIPT, "2", USAGE_LIVE_SET, USAGE_FLUSHING_SET, live, flush};
	kv_reply rep;
	*out = NULL;
	*n = 0;
	if (kv_command(k, a, 7, argv, &rep) != 0)
		return -1;
	if (rep.type != KV_ARRAY || rep.elements % 4 != 0) {
		log_error("usage: unexpected reply to the read script");
		return -1;
	}
	int m = (int)(rep.elements / 4);
	usage_count *c = arena_alloc(a, (size_t)(m ? m : 1) * sizeof *c);
	int used = 0;
	for (int i = 0; i < m; i++) {
		char **it = rep.items + 4 * i;
		usage_key_parts p;
		char *end;
		if (!it[0] || !it[1] || !it[2] || !it[3] || usage_parse_key(it[1], it[0][0] == 'f', &p) != 0 ||
		    strlen(it[2]) >= IDS_MAX_LEN)
			continue;
		long long v = strtoll(it[3], &end, 10);
		if (*end || v < 0)
			continue;
		usage_count *x = &c[used++];
		memcpy(x->day, p.day, sizeof x->day);
		snprintf(x->key_id, sizeof x->key_id, "%s", it[2]);
		memcpy(x->flush_id, p.flush_id, sizeof x->flush_id);
		x->requests = v;
	}
	*out = c;
	*n = used;
	return 0;
}

int usage_set_members(kv *k, arena *a, const char *set, char ***names, int *n)
{
	const char *argv[] = {"SMEMBERS", set};
	kv_reply rep;
	if (kv_command(k, a, 2, argv, &rep) != 0 || rep.type != KV_ARRAY)
		return -1;
	*names = rep.items;
	*n = (int)rep.elements;
	return 0;
}

static const char MOVE_SCRIPT[] =
	"redis.call('SREM', KEYS[3], KEYS[1])\n"
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	"redis.call('RENAME', KEYS[1], KEYS[2])\n"
	"redis.call('SADD', KEYS[4], KEYS[2])\n"
	"return 1\n";

int usage_move_to_flush(kv *k, arena *a, const char *live, const char *flush_key)
{
	const char *argv[] = {"EVAL", MOVE_SCRIPT, "4", live, flush_key, USAGE_LIVE_SET, USAGE_FLUSHING_SET};
	kv_reply rep;
	if (kv_command(k, a, 7, argv, &rep) != 0 || rep.type != KV_INT)
		return -1;
	return rep.integer == 1;
}

int usage_hash_read(kv *k, arena *a, const char *name, char ***fields, long long **values, int *n)
{
	const char *argv[] = {"HGETALL", name};
	kv_reply rep;
	if (kv_command(k, a, 2, argv, &rep) != 0 || rep.type != KV_ARRAY || rep.elements % 2 != 0)
		return -1;
	int m = (int)(rep.elements / 2);
	*fields = arena_alloc(a, (size_t)(m ? m : 1) * sizeof **fields);
	*values = arena_alloc(a, (size_t)(m ? m : 1) * sizeof **values);
	int used = 0;
	for (int i = 0; i < m; i++) {
		char *f = rep.items[2 * i], *v = rep.items[2 * i + 1], *end;
		if (!f || !v)
			continue;
		long long x = strtoll(v, &end, 10);
		if (*end || x <= 0)
			continue;
		(*fields)[used] = f;
		(*values)[used++] = x;
	}
	*n = used;
	return 0;
}

int usage_forget_flush_key(kv *k, arena *a, const char *name)
{
	kv_reply rep;
	const char *del[] = {"DEL", name};
	if (kv_command(k, a, 2, del, &rep) != 0 || rep.type == KV_ERROR)
		return -1;
	const char *srem[] = {"SREM", USAGE_FLUSHING_SET, name};
	if (kv_command(k, a, 3, srem, &rep) != 0 || rep.type == KV_ERROR)
		return -1;
	return 0;
}
