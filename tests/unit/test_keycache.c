/* test_keycache: the API worker's direct-mapped key cache (slots, hash check, TTL, connection epoch, drop). */
#include "suites.h"

#include "keycache.h"

#include <CUnit/CUnit.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TKC_T0 1700000000000LL /* a plausible util_now_ms() */

/* A hash whose first two bytes are B0, B1 (they name the slot) and whose other bytes are all FILL. */
static void tkc_hash(unsigned char h[CRYPTO_SHA256_LEN], unsigned char b0, unsigned char b1, unsigned char fill)
{
	memset(h, fill, CRYPTO_SHA256_LEN);
	h[0] = b0;
	h[1] = b1;
}

/* An entry for HASH read at LOADED_MS through connection EPOCH, with recognisable fields. */
static keycache_entry tkc_entry(const unsigned char hash[CRYPTO_SHA256_LEN], const char *id, int64_t loaded_ms,
				unsigned epoch)
{
	keycache_entry e;
	memset(&e, 0, sizeof e);
	memcpy(e.hash, hash, CRYPTO_SHA256_LEN);
	snprintf(e.id, sizeof e.id, "%s", id);
	snprintf(e.account_id, sizeof e.account_id, "acc_%s", id);
	e.scopes = 0x5a5u;
	e.rate_limit = 1234;
	e.expires_ms = TKC_T0 + 86400000LL;
	e.last_used_ms = TKC_T0 - 5000;
	e.gen = 0x123456789abLL;
	e.epoch = epoch;
	e.loaded_ms = loaded_ms;
	return e;
}

static void tkc_round_trip(void)
{
	keycache *c = keycache_new(30);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	unsigned char h[CRYPTO_SHA256_LEN], other[CRYPTO_SHA256_LEN], zero[CRYPTO_SHA256_LEN] = {0};
	tkc_hash(h, 0x12, 0x34, 0xab);
	tkc_hash(other, 0x56, 0x78, 0xab);

	/* An empty cache knows nothing, not even the all-zero hash its empty slots hold. */
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0, 1));
	CU_ASSERT_PTR_NULL(keycache_find(c, zero, TKC_T0, 0));
	CU_ASSERT_PTR_NULL(keycache_find(c, zero, TKC_T0, 1));

	keycache_entry e = tkc_entry(h, "key_one", TKC_T0, 3);
	keycache_put(c, &e);
	/* The cache holds a copy: changing the caller's entry afterwards changes nothing. */
	keycache_entry want = e;
	memset(&e, 0xee, sizeof e);

	keycache_entry *got = keycache_find(c, h, TKC_T0, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT(memcmp(got->hash, h, CRYPTO_SHA256_LEN) == 0);
	CU_ASSERT_STRING_EQUAL(got->id, "key_one");
	CU_ASSERT_STRING_EQUAL(got->account_id, "acc_key_one");
	CU_ASSERT_EQUAL(got->scopes, want.scopes);
	CU_ASSERT_EQUAL(got->rate_limit, want.rate_limit);
	CU_ASSERT_EQUAL(got->expires_ms, want.expires_ms);
	CU_ASSERT_EQUAL(got->last_used_ms, want.last_used_ms);
	CU_ASSERT_EQUAL(got->gen, want.gen);
	CU_ASSERT_EQUAL(got->epoch, 3);
	CU_ASSERT_EQUAL(got->loaded_ms, TKC_T0);

	/* The entry is the cache's own: what the caller writes through it (last_used_ms) is kept. */
	got->last_used_ms = TKC_T0 + 10;
	got = keycache_find(c, h, TKC_T0 + 20, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(got->last_used_ms, TKC_T0 + 10);

	/* Another slot is still empty. */
	CU_ASSERT_PTR_NULL(keycache_find(c, other, TKC_T0, 3));
	/* A put with loaded_ms 0 is an empty slot. */
	keycache_entry none = tkc_entry(other, "key_none", 0, 3);
	keycache_put(c, &none);
	CU_ASSERT_PTR_NULL(keycache_find(c, other, TKC_T0, 3));
	CU_ASSERT_PTR_NULL(keycache_find(c, other, 0, 3));
	free(c);
}

static void tkc_same_slot_other_hash(void)
{
	keycache *c = keycache_new(30);
	unsigned char a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN], d[CRYPTO_SHA256_LEN], last[CRYPTO_SHA256_LEN];
	tkc_hash(a, 0x12, 0x34, 0xab);
	tkc_hash(b, 0x12, 0x34, 0xcd); /* same first two bytes, different rest */
	tkc_hash(d, 0x12 ^ 0x02, 0x34, 0xab); /* (0x10 << 8 | 0x34) % 512 == (0x12 << 8 | 0x34) % 512 */
	memcpy(last, a, sizeof last);
	last[CRYPTO_SHA256_LEN - 1] ^= 1; /* differs in the last byte only */
	CU_ASSERT_EQUAL(((unsigned)a[0] << 8 | a[1]) % KEYCACHE_SLOTS, ((unsigned)d[0] << 8 | d[1]) % KEYCACHE_SLOTS);

	keycache_entry e = tkc_entry(a, "key_a", TKC_T0, 1);
	keycache_put(c, &e);
	CU_ASSERT_PTR_NULL(keycache_find(c, b, TKC_T0, 1));
	CU_ASSERT_PTR_NULL(keycache_find(c, d, TKC_T0, 1));
	CU_ASSERT_PTR_NULL(keycache_find(c, last, TKC_T0, 1));
	/* Asking for another hash does not evict the slot's entry. */
	keycache_entry *got = keycache_find(c, a, TKC_T0, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->id, "key_a");
	free(c);
}

static void tkc_collision_replaces(void)
{
	keycache *c = keycache_new(30);
	unsigned char a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN], d[CRYPTO_SHA256_LEN];
	tkc_hash(a, 0x01, 0xff, 0x11);
	tkc_hash(b, 0x01, 0xff, 0x22);
	tkc_hash(d, 0xff, 0xff, 0x11); /* (0xff << 8 | 0xff) % 512 == 511 == (0x01 << 8 | 0xff) % 512 */

	keycache_entry ea = tkc_entry(a, "key_a", TKC_T0, 1), eb = tkc_entry(b, "key_b", TKC_T0 + 1, 1);
	keycache_put(c, &ea);
	keycache_put(c, &eb);
	CU_ASSERT_PTR_NULL(keycache_find(c, a, TKC_T0 + 2, 1));
	keycache_entry *got = keycache_find(c, b, TKC_T0 + 2, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->id, "key_b");

	/* A different first byte that lands on the same slot replaces it too. */
	keycache_entry ed = tkc_entry(d, "key_d", TKC_T0 + 3, 1);
	keycache_put(c, &ed);
	CU_ASSERT_PTR_NULL(keycache_find(c, b, TKC_T0 + 4, 1));
	got = keycache_find(c, d, TKC_T0 + 4, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->id, "key_d");

	/* Putting the same hash again replaces its entry in place. */
	keycache_entry ed2 = tkc_entry(d, "key_d2", TKC_T0 + 5, 2);
	keycache_put(c, &ed2);
	CU_ASSERT_PTR_NULL(keycache_find(c, d, TKC_T0 + 6, 1));
	keycache_put(c, &ed2);
	got = keycache_find(c, d, TKC_T0 + 6, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->id, "key_d2");

	/* Entries in other slots are unaffected by all of this. */
	unsigned char far[CRYPTO_SHA256_LEN];
	tkc_hash(far, 0x00, 0x00, 0x33);
	keycache_entry ef = tkc_entry(far, "key_far", TKC_T0, 2);
	keycache_put(c, &ef);
	keycache_put(c, &ea);
	CU_ASSERT_PTR_NOT_NULL(keycache_find(c, far, TKC_T0 + 7, 2));
	free(c);
}

static void tkc_ttl_boundary(void)
{
	keycache *c = keycache_new(30);
	CU_ASSERT_EQUAL(c->ttl_ms, 30000);
	unsigned char h[CRYPTO_SHA256_LEN];
	tkc_hash(h, 0xa0, 0x0b, 0x42);
	keycache_entry e = tkc_entry(h, "key_ttl", TKC_T0, 7);
	keycache_put(c, &e);

	CU_ASSERT_PTR_NOT_NULL(keycache_find(c, h, TKC_T0, 7));
	CU_ASSERT_PTR_NOT_NULL(keycache_find(c, h, TKC_T0 + 30000 - 1, 7));
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 30000, 7));
	/* Expired once, gone for good: not found again at a time inside the TTL. */
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 30000 - 1, 7));
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0, 7));

	/* Well past the TTL as well. */
	keycache_put(c, &e);
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 3600000, 7));
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 1, 7));
	free(c);

	/* A TTL of one second: 999 ms kept, 1000 ms not. */
	c = keycache_new(1);
	CU_ASSERT_EQUAL(c->ttl_ms, 1000);
	keycache_put(c, &e);
	CU_ASSERT_PTR_NOT_NULL(keycache_find(c, h, TKC_T0 + 999, 7));
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 1000, 7));
	free(c);

	/* The TTL in milliseconds does not overflow int. */
	c = keycache_new(INT_MAX);
	CU_ASSERT_EQUAL(c->ttl_ms, (int64_t)INT_MAX * 1000);
	keycache_put(c, &e);
	CU_ASSERT_PTR_NOT_NULL(keycache_find(c, h, TKC_T0 + (int64_t)INT_MAX * 1000 - 1, 7));
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + (int64_t)INT_MAX * 1000, 7));
	free(c);
}

static void tkc_epoch_mismatch(void)
{
	keycache *c = keycache_new(30);
	unsigned char h[CRYPTO_SHA256_LEN];
	tkc_hash(h, 0x33, 0x44, 0x55);
	keycache_entry e = tkc_entry(h, "key_epoch", TKC_T0, 5);
	keycache_put(c, &e);

	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 1, 6)); /* reconnected since */
	keycache_put(c, &e);
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 1, 4));
	keycache_put(c, &e);
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 1, 0));
	keycache_put(c, &e);
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 1, 5u + 0x10000u));
	keycache_put(c, &e);
	CU_ASSERT_PTR_NOT_NULL(keycache_find(c, h, TKC_T0 + 1, 5));

	/* Epoch 0 (a kv that never connected) is an epoch like any other. */
	keycache_entry z = tkc_entry(h, "key_epoch0", TKC_T0, 0);
	keycache_put(c, &z);
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 + 1, 1));
	free(c);
}

static void tkc_clock_backwards(void)
{
	keycache *c = keycache_new(30);
	unsigned char h[CRYPTO_SHA256_LEN];
	tkc_hash(h, 0x77, 0x88, 0x99);
	keycache_entry e = tkc_entry(h, "key_clock", TKC_T0, 2);
	keycache_put(c, &e);

	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 - 1, 2));
	keycache_put(c, &e);
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0 - 3600000, 2));
	keycache_put(c, &e);
	CU_ASSERT_PTR_NULL(keycache_find(c, h, 1, 2));
	/* The entry read at T0 was dropped by the backwards step: not found at T0 either. */
	CU_ASSERT_PTR_NULL(keycache_find(c, h, TKC_T0, 2));
	keycache_put(c, &e);
	CU_ASSERT_PTR_NOT_NULL(keycache_find(c, h, TKC_T0, 2));
	free(c);
}

static void tkc_drop(void)
{
	keycache *c = keycache_new(30);
	unsigned char a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN], d[CRYPTO_SHA256_LEN], far[CRYPTO_SHA256_LEN];
	tkc_hash(a, 0x0c, 0x0d, 0x01);
	tkc_hash(b, 0x0c, 0x0d, 0x02);        /* same slot, another key */
	tkc_hash(d, 0x0c ^ 0x04, 0x0d, 0x01); /* same slot through another first byte */
	tkc_hash(far, 0x40, 0x41, 0x01);
	keycache_entry ea = tkc_entry(a, "key_a", TKC_T0, 1), ef = tkc_entry(far, "key_far", TKC_T0, 1);
	keycache_put(c, &ea);
	keycache_put(c, &ef);

	/* Dropping another key of the same slot, or a key of another slot, leaves the entry. */
	keycache_drop(c, b);
	keycache_drop(c, d);
	keycache_drop(c, far);
	keycache_entry *got = keycache_find(c, a, TKC_T0 + 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->id, "key_a");
	CU_ASSERT_PTR_NULL(keycache_find(c, far, TKC_T0 + 1, 1));

	/* Dropping its own hash forgets it; a second drop is harmless. */
	keycache_drop(c, a);
	CU_ASSERT_PTR_NULL(keycache_find(c, a, TKC_T0 + 1, 1));
	keycache_drop(c, a);
	CU_ASSERT_PTR_NULL(keycache_find(c, a, TKC_T0 + 1, 1));

	/* A dropped slot takes a new entry again. */
	keycache_entry eb = tkc_entry(b, "key_b", TKC_T0 + 2, 1);
	keycache_put(c, &eb);
	got = keycache_find(c, b, TKC_T0 + 3, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->id, "key_b");
	CU_ASSERT_PTR_NULL(keycache_find(c, a, TKC_T0 + 3, 1));

	/* Dropping on an empty cache does nothing harmful. */
	keycache *empty = keycache_new(30);
	unsigned char zero[CRYPTO_SHA256_LEN] = {0};
	keycache_drop(empty, zero);
	keycache_drop(empty, a);
	CU_ASSERT_PTR_NULL(keycache_find(empty, zero, TKC_T0, 0));
	free(empty);
	free(c);
}

static void tkc_every_slot(void)
{
	/* All KEYCACHE_SLOTS slots hold an entry at once: the first two bytes spread over every slot. */
	keycache *c = keycache_new(30);
	unsigned char h[CRYPTO_SHA256_LEN];
	for (unsigned s = 0; s < KEYCACHE_SLOTS; s++) {
		tkc_hash(h, (unsigned char)(s >> 8), (unsigned char)(s & 0xff), (unsigned char)(s * 7));
		char id[IDS_MAX_LEN];
		snprintf(id, sizeof id, "key_%u", s);
		keycache_entry e = tkc_entry(h, id, TKC_T0, 1);
		keycache_put(c, &e);
	}
	unsigned found = 0;
	for (unsigned s = 0; s < KEYCACHE_SLOTS; s++) {
		tkc_hash(h, (unsigned char)(s >> 8), (unsigned char)(s & 0xff), (unsigned char)(s * 7));
		char id[IDS_MAX_LEN];
		snprintf(id, sizeof id, "key_%u", s);
		keycache_entry *e = keycache_find(c, h, TKC_T0 + 1, 1);
		found += e && strcmp(e->id, id) == 0;
	}
	CU_ASSERT_EQUAL(found, KEYCACHE_SLOTS);
	free(c);
}

int test_keycache_suite(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"put/find round trip", tkc_round_trip},
		{"same slot, other hash: NULL, entry kept", tkc_same_slot_other_hash},
		{"a colliding put replaces the older entry", tkc_collision_replaces},
		{"TTL boundary; expired stays gone", tkc_ttl_boundary},
		{"epoch mismatch: NULL", tkc_epoch_mismatch},
		{"clock going backwards: NULL", tkc_clock_backwards},
		{"drop only drops a matching hash", tkc_drop},
		{"every slot usable at once", tkc_every_slot},
	};
	CU_pSuite suite = CU_add_suite("keycache", NULL, NULL);

	if (!suite)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
