/* fuzz_davxml: davxml_multistatus on arbitrary bytes; every item it returns must be well-formed. */
#include "arena.h"
#include "davxml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = arena_new();
	davxml_item *items;
	int n;
	char err[200];
	if (davxml_multistatus(a, (const char *)data, size, 50, &items, &n, err, sizeof err) == 0) {
		if (n < 0 || n > 50)
			abort();
		for (int i = 0; i < n; i++)
			if (!items[i].calendar_data || strlen(items[i].calendar_data) > items[i].data_len ||
			    items[i].data_len > size)
				abort();
	} else if (!err[0]) {
		abort(); /* a refusal always says why */
	}
	arena_free(a);
	return 0;
}
