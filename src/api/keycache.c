/* keycache: a direct-mapped table of recently read API keys (see keycache.h for when an entry may be used). */
#include "keycache.h"

#include <stdlib.h>
#include <string.h>

keycache *keycache_new(int ttl_seconds)
{
	keycache *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	c->ttl_ms = (int64_t)ttl_seconds * 1000;
	return c;
}

static keycache_entry *slot_of(keycache *c, const unsigned char hash[CRYPTO_SHA256_LEN])
{
	return &c->slot[((unsigned)hash[0] << 8 | hash[1]) % KEYCACHE_SLOTS];
}

keycache_entry *keycache_find(keycache *c, const unsigned char hash[CRYPTO_SHA256_LEN], int64_t now_ms,
			      unsigned epoch)
{
	keycache_entry *e = slot_of(c, hash);
	if (e->loaded_ms == 0 || memcmp(e->hash, hash, CRYPTO_SHA256_LEN) != 0)
		return NULL;
	if (e->epoch != epoch || now_ms - e->loaded_ms >= c->ttl_ms || now_ms < e->loaded_ms) {
		e->loaded_ms = 0;
		return NULL;
	}
	return e;
}

void keycache_put(keycache *c, const keycache_entry *e)
{
	*slot_of(c, e->hash) = *e;
}

void keycache_drop(keycache *c, const unsigned char hash[CRYPTO_SHA256_LEN])
{
	keycache_entry *e = slot_of(c, hash);
	if (memcmp(e->hash, hash, CRYPTO_SHA256_LEN) == 0)
		e->loaded_ms = 0;
}
