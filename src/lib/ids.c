/* ids: time-sortable random ids with a type prefix. */
#include "ids.h"
#include "crypto.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

void ids_new(const char *prefix, char out[IDS_MAX_LEN])
{
	size_t plen = strlen(prefix);
	if (plen + IDS_BODY_LEN + 1 > IDS_MAX_LEN)
		plen = IDS_MAX_LEN - IDS_BODY_LEN - 1;
	memcpy(out, prefix, plen);
	crypto_base62_fixed((uint64_t)util_now_ms(), out + plen, 9);
	crypto_random_base62(out + plen + 9, IDS_BODY_LEN - 9);
}

int ids_valid(const char *prefix, const char *s)
{
	size_t plen = strlen(prefix);
	if (!s || strncmp(s, prefix, plen) != 0)
		return 0;
	s += plen;
	return strlen(s) == IDS_BODY_LEN && crypto_is_base62(s, IDS_BODY_LEN);
}
