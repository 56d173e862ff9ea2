/* rfc3339: strict parsing of RFC 3339 date-time text (query parameters such as since and until). */
#ifndef AP_RFC3339_H
#define AP_RFC3339_H

#include <stdint.h>

/* Parses all of TEXT as an RFC 3339 date-time (section 5.6: YYYY-MM-DDThh:mm:ss, an optional fraction of
 * 1 to 9 digits, then Z or +hh:mm / -hh:mm; 'T' and 'Z' in either case) into epoch milliseconds in *MS,
 * rounding a finer fraction up to the next millisecond. Dates are checked against the calendar; leap
 * seconds (:60) and instants before 1970 are refused. Returns 0, or -1 for anything else. */
int rfc3339_parse_ms(const char *text, int64_t *ms);

#endif
