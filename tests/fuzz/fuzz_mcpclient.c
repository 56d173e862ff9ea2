/* fuzz_mcpclient: mcpclient_parse_response on arbitrary answers, as JSON or as an SSE stream (the first byte chooses);
 * and the incremental SSE reader fed the same bytes in chunks must decide as one whole parse does, in linear work. */
#include "mcpclient.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

	const char *body = (const char *)data + 1;
	size_t len = size - 1, step = 1 + (data[0] & 7) * (len / 64 + 1);
	mcpclient_sse whole, inc;
	mcpclient_sse_init(&whole, id);
	int want = mcpclient_sse_feed(&whole, body, len);
	mcpclient_sse_init(&inc, id);
	int got = 2;
	for (size_t n = 0; got == 2 && n < len + step; n += step)
		got = mcpclient_sse_feed(&inc, body, n < len ? n : len);
	if (got != want || (!whole.result) != (!inc.result) || (whole.result && !json_equal(whole.result, inc.result)) ||
	    strcmp(whole.err, inc.err) != 0 || inc.examined > 2 * len)
		abort();
	mcpclient_sse_free(&whole);
	mcpclient_sse_free(&inc);
	return 0;
}
