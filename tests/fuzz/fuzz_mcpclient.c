/* fuzz_mcpclient: mcpclient_parse_response on arbitrary answers, as JSON or as an SSE stream (the first byte chooses). */
#include "mcpclient.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const TYPES[] = {"text/event-stream", "application/json", "application/json; charset=utf-8",
					    "TEXT/EVENT-STREAM;charset=utf-8", "text/html", NULL};
	if (size == 0)
		return 0;
	const char *type = TYPES[data[0] % 6];
	long long id = 1 + (data[0] >> 4);
	json_t *result = NULL;
	char err[256];
	int rc = mcpclient_parse_response(type, (const char *)data + 1, size - 1, id, &result, err, sizeof err);
	if ((rc == 1) != (result != NULL))
		abort();
	json_decref(result);
	return 0;
}
