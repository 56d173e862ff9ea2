/* usageflush: the periodic flush of API request counts from Redis to MariaDB (see usageflush.h). */
#include "usageflush.h"
#include "log.h"
#include "store_usage.h"
#include "usage.h"

#include <stdio.h>

#define PURGE_LIMIT 1000

/* Renames every live hash to a fresh flush key. -1 on a Redis failure. */
static int move_live(kv *k, arena *a)
{
	char **names;
	int n;
	if (usage_set_members(k, a, USAGE_LIVE_SET, &names, &n) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		usage_key_parts p;
		if (!names[i] || usage_parse_key(names[i], 0, &p) != 0) {
			log_warn("usage flush: ignoring a malformed live usage key");
			continue;
		}
		char id[IDS_MAX_LEN], flush_key[USAGE_KEY_MAX];
		ids_new(USAGE_FLUSH_ID_PREFIX, id);
		snprintf(flush_key, sizeof flush_key, "usage:flush:{%s}:%s:%s", p.account_id, p.day, id);
		if (usage_move_to_flush(k, a, names[i], flush_key) < 0)
			return -1;
	}
	return 0;
}

/* Applies flush key NAME if it is not applied yet; deletes it once applied long enough ago. */
static int apply_one(db *d, kv *k, arena *a, const char *name)
{
	usage_key_parts p;
	if (usage_parse_key(name, 1, &p) != 0) {
		log_warn("usage flush: dropping a malformed flush key from %s", USAGE_FLUSHING_SET);
		return usage_forget_flush_key(k, a, name);
	}
	int applied;
	long long age;
	if (store_usage_flush_state(d, a, p.flush_id, &applied, &age) != STORE_OK)
		return -1;
	if (applied)
		return age >= USAGEFLUSH_KEEP_SECONDS ? usage_forget_flush_key(k, a, name) : 0;
	char **fields;
	long long *values;
	int n;
	if (usage_hash_read(k, a, name, &fields, &values, &n) != 0)
		return -1;
	enum store_result res = store_usage_apply(d, a, p.flush_id, p.account_id, p.day, fields, values, n);
	if (res == STORE_CONFLICT) /* another scheduler applied it meanwhile */
		return 0;
	return res == STORE_OK ? 0 : -1;
}

int usageflush_run(db *d, kv *k, arena *a)
{
	int rc = move_live(k, a);
	char **names;
	int n;
	if (usage_set_members(k, a, USAGE_FLUSHING_SET, &names, &n) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (names[i] && apply_one(d, k, a, names[i]) != 0)
			return -1;
	long purged;
	if (store_usage_purge_flushes(d, a, USAGEFLUSH_RECORD_DAYS, PURGE_LIMIT, &purged) != STORE_OK)
		return -1;
	return rc;
}
