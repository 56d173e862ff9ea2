/* ids: time-sortable random ids with a type prefix. */
#include "ids.h"
#include "crypto.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RANDOM_LEN (IDS_BODY_LEN - 9)

/* The generator's memory, so that ids made by one process in the same millisecond still sort in creation
 * order (the random part of the previous id plus one, as monotonic ULIDs do). Keyed by pid: a forked child
 * starts fresh instead of counting on from its parent's value. */
static struct {
	pid_t pid;
	uint64_t ms;
	char random[RANDOM_LEN + 1];
} last;

/* Adds one to a base62 digit string (carrying); all 'z' wraps to all '0', which a new random draw avoids. */
static int increment_base62(char *s, size_t n)
{
	static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	for (size_t i = n; i > 0; i--) {
		const char *p = strchr(B62, s[i - 1]);
		if (p[1]) {
			s[i - 1] = p[1];
			return 0;
		}
		s[i - 1] = '0';
	}
	return -1;
}

void ids_new(const char *prefix, char out[IDS_MAX_LEN])
{
	size_t plen = strlen(prefix);
	if (plen + IDS_BODY_LEN + 1 > IDS_MAX_LEN)
		plen = IDS_MAX_LEN - IDS_BODY_LEN - 1;
	memcpy(out, prefix, plen);
	uint64_t ms = (uint64_t)util_now_ms();
	pid_t pid = getpid();
	if (pid != last.pid || ms > last.ms) {
		last.pid = pid;
		last.ms = ms;
		crypto_random_base62(last.random, RANDOM_LEN);
	} else if (increment_base62(last.random, RANDOM_LEN) != 0) {
		/* 62^16 ids within one millisecond: move on to the next one */
		last.ms++;
		crypto_random_base62(last.random, RANDOM_LEN);
	}
	crypto_base62_fixed(last.ms, out + plen, 9);
	memcpy(out + plen + 9, last.random, RANDOM_LEN + 1);
}

int ids_valid(const char *prefix, const char *s)
{
	size_t plen = strlen(prefix);
	if (!s || strncmp(s, prefix, plen) != 0)
		return 0;
	s += plen;
	return strlen(s) == IDS_BODY_LEN && crypto_is_base62(s, IDS_BODY_LEN);
}
