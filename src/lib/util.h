/* util: small checked conversions shared by every program. */
#ifndef AP_UTIL_H
#define AP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Parses all of TEXT as a base-10 integer in MIN..MAX (no sign for MIN >= 0, no spaces, no junk).
 * Returns 0 and sets *OUT, or -1. */
int util_parse_long(const char *text, long min, long max, long *out);

/* Number of code points in the valid UTF-8 string S of LEN bytes, or -1 if it is not valid UTF-8
 * (overlong forms, surrogates and NUL are invalid). */
long util_utf8_length(const char *s, size_t len);

/* Formats T (epoch milliseconds) as RFC 3339 UTC with milliseconds and Z into OUT (>= 25 bytes). */
void util_format_time_ms(int64_t ms, char *out, size_t outlen);

/* Current wall-clock time in epoch milliseconds. */
int64_t util_now_ms(void);

#endif
