/* fuzz_apikey: apikey_well_formed and scope_parse_list on arbitrary text. */
#include "apikey.h"
#include "scope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	if (apikey_well_formed(text, size) &&
	    (size != APIKEY_LEN || strncmp(text, APIKEY_PREFIX, strlen(APIKEY_PREFIX)) != 0))
		abort();

	uint32_t mask = 0;
	char bad[64];
	memset(bad, 'x', sizeof bad);
	if (scope_parse_list(text, &mask, bad, sizeof bad) == 0) {
		if (mask == 0 || (mask & ~SCOPE_ALL_MASK))
			abort();
		char names[512];
		uint32_t again = 0;
		if (scope_format(mask, names, sizeof names) != 0 || scope_parse_list(names, &again, bad, sizeof bad) != 0 ||
		    again != mask)
			abort();
	} else if (!memchr(bad, '\0', sizeof bad)) {
		abort();
	}
	free(text);
	return 0;
}
