/* fuzz_stdwebhook: stdwebhook_verify on arbitrary headers and body, stdwebhook_secret_decode on arbitrary secrets. */
#include "stdwebhook.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The secret published in the Standard Webhooks specification's examples. */
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define NOW 1614265330LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One copy with NUL terminators written over the first three newlines: id, timestamp, signatures, body. */
	char *buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	const char *part[3] = {"", "", ""};
	size_t at = 0;
	for (int i = 0; i < 3; i++) {
		char *nl = memchr(buf + at, '\n', size - at);
		if (!nl)
			break;
		*nl = '\0';
		part[i] = buf + at;
		at = (size_t)(nl - buf) + 1;
	}
	char err[256];
	(void)stdwebhook_verify(SECRET, part[0], part[1], part[2], buf + at, size - at, NOW, STDWEBHOOK_TOLERANCE,
				err, sizeof err);

	memcpy(buf, data, size);
	buf[size] = '\0';
	unsigned char key[STDWEBHOOK_KEY_BYTES * 2];
	long n = stdwebhook_secret_decode(buf, key, sizeof key);
	if (n == 0 || n > (long)sizeof key)
		abort();
	free(buf);
	return 0;
}
