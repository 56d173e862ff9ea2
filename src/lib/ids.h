/* ids: prefixed, time-sortable random identifiers (acct_, key_, agt_, ...) and their shape checks. */
#ifndef AP_IDS_H
#define AP_IDS_H

#include <stddef.h>

/* Body: 9 base62 digits of epoch milliseconds, then 16 random base62 digits (~95 bits). */
#define IDS_BODY_LEN 25
#define IDS_MAX_LEN 32 /* longest prefix (6) + body + NUL, rounded up */

/* Writes PREFIX (e.g. "agt_") followed by a new body into OUT (IDS_MAX_LEN bytes). */
void ids_new(const char *prefix, char out[IDS_MAX_LEN]);

/* 1 if S is PREFIX followed by a well-formed body, else 0. Cheap: runs before any query. */
int ids_valid(const char *prefix, const char *s);

#endif
