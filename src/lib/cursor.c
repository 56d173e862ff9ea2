/* cursor: base64url of a version byte and the last id seen. */
#include "cursor.h"
#include "crypto.h"

#include <string.h>

#define CURSOR_VERSION 'c'

void cursor_encode(const char *last_id, char out[CURSOR_MAX_LEN])
{
	unsigned char raw[IDS_MAX_LEN + 1];
	size_t n = strnlen(last_id, IDS_MAX_LEN - 1);
	raw[0] = CURSOR_VERSION;
	memcpy(raw + 1, last_id, n);
	crypto_b64url_encode(raw, n + 1, out);
}

int cursor_decode(const char *text, const char *prefix, char id[IDS_MAX_LEN])
{
	unsigned char raw[IDS_MAX_LEN + 1];
	size_t n = strnlen(text, CURSOR_MAX_LEN);
	if (n == 0 || n >= CURSOR_MAX_LEN)
		return -1;
	long got = crypto_b64url_decode(text, n, raw, sizeof raw - 1);
	/* An embedded NUL would let "id\0anything" pass as id: every cursor has exactly one spelling. */
	if (got < 2 || raw[0] != CURSOR_VERSION || got - 1 >= IDS_MAX_LEN || memchr(raw + 1, '\0', (size_t)got - 1))
		return -1;
	memcpy(id, raw + 1, (size_t)got - 1);
	id[got - 1] = '\0';
	return ids_valid(prefix, id) ? 0 : -1;
}
