/* util: checked integer parsing, UTF-8 length, time formatting. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

int util_parse_long(const char *text, long min, long max, long *out)
{
	if (!text || !*text)
		return -1;
	if (!((text[0] >= '0' && text[0] <= '9') || (text[0] == '-' && min < 0)))
		return -1;
	errno = 0;
	char *end;
	long v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

long util_utf8_length(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		size_t need;
		uint32_t cp;
		if (c == 0)
			return -1;
		if (c < 0x80) {
			i++;
			count++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			need = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3;
			cp = c & 0x07;
		} else {
			return -1;
		}
		if (i + need >= len)
			return -1;
		for (size_t k = 1; k <= need; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		i += need + 1;
		count++;
	}
	return count;
}

void util_format_time_ms(int64_t ms, char *out, size_t outlen)
{
	/* Floor division: before 1970, -1 ms is 23:59:59.999 of the previous second, not ".-01". */
	int64_t rem = ms % 1000;
	if (rem < 0)
		rem += 1000;
	time_t secs = (time_t)((ms - rem) / 1000);
	struct tm tm;
	if (!gmtime_r(&secs, &tm)) {
		/* Beyond what struct tm holds: a fixed, recognisable value rather than uninitialised fields. */
		snprintf(out, outlen, "%s", "0000-00-00T00:00:00.000Z");
		return;
	}
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}

int64_t util_now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
