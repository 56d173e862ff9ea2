/* fuzz_cursor: cursor_decode on arbitrary text; a decoded cursor re-encodes to itself. */
#include "cursor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefixes[] = {"agt_", "run_", "msg_", "key_"};
	if (size < 1)
		return 0;
	const char *prefix = prefixes[data[0] % (sizeof prefixes / sizeof prefixes[0])];
	data++;
	size--;
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	char id[IDS_MAX_LEN];
	if (cursor_decode(text, prefix, id) == 0) {
		char enc[CURSOR_MAX_LEN], back[IDS_MAX_LEN];
		if (!ids_valid(prefix, id))
			abort();
		cursor_encode(id, enc);
		if (cursor_decode(enc, prefix, back) != 0 || strcmp(back, id) != 0)
			abort();
		/* One spelling per cursor: only the canonical encoding decodes. */
		if (strcmp(enc, text) != 0)
			abort();
	}
	free(text);
	return 0;
}
