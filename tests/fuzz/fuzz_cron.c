/* fuzz_cron: cron_parse, cron_next and cron_tz_valid on arbitrary expression and zone text. */
#include "cron.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX 200
/* 2024-03-31 00:30:00 UTC: a leap year, near a European DST change. */
#define FIXED_TIME ((time_t)1711845000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[INPUT_MAX + 1];
	if (size > INPUT_MAX)
		size = INPUT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';

	cron_expr c;
	char err[256];
	if (cron_parse(text, &c, err, sizeof err) == 0) {
		time_t next = 0;
		if (cron_next(&c, "UTC", FIXED_TIME, &next) == 0 && next <= FIXED_TIME)
			abort();
	}
	(void)cron_tz_valid(text);
	return 0;
}
