/* keygen: generations of API keys: their Redis key, new values, parsing and replacement. */
#include "keygen.h"
#include "arena.h"

#include <stdio.h>
#include <string.h>

void keygen_key(const char *hash_hex, char out[KEYGEN_KEY_LEN + 1])
{
	snprintf(out, KEYGEN_KEY_LEN + 1, "apikey:%.64s", hash_hex);
}

long long keygen_new(void)
{
	unsigned char b[6];
	long long g = 0;
	while (g == 0) {
		crypto_random(b, sizeof b);
		g = 0;
		for (size_t i = 0; i < sizeof b; i++)
			g = g << 8 | b[i];
	}
	return g;
}

long long keygen_parse(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15 || s[0] == '0')
		return -1;
	long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int keygen_bump(kv *k, const char *hash_hex)
{
	char key[KEYGEN_KEY_LEN + 1], gen[24], ttl[16];
	keygen_key(hash_hex, key);
	snprintf(gen, sizeof gen, "%lld", keygen_new());
	snprintf(ttl, sizeof ttl, "%d", KEYGEN_TTL_SECONDS);
	arena *a = arena_new();
	kv_reply r;
	int rc = kv_command(k, a, 5, (const char *const[]){"SET", key, gen, "EX", ttl}, &r);
	if (rc == 0 && r.type != KV_STATUS)
		rc = -1;
	arena_free(a);
	return rc;
}
