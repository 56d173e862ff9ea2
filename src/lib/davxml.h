/* davxml: a bounded parser of the WebDAV multistatus answers (RFC 4918) a CalDAV calendar-query returns. */
#ifndef AP_DAVXML_H
#define AP_DAVXML_H

#include "arena.h"

#include <stddef.h>

#define DAVXML_MAX_BYTES ((size_t)4 << 20) /* larger documents are refused before parsing */
#define DAVXML_MAX_DEPTH 32                /* element nesting */
#define DAVXML_MAX_NAMESPACES 128          /* xmlns declarations in scope at once */
#define DAVXML_MAX_ATTRIBUTES 64           /* per element */
#define DAVXML_MAX_NAME 256                /* bytes of an element or attribute name */

/* One calendar object of the answer (strings in the arena, NUL-terminated, entities and CDATA decoded). */
typedef struct davxml_item {
	char *href;          /* the response's DAV:href, or NULL */
	char *calendar_data; /* the CALDAV:calendar-data text of a propstat whose status is 2xx */
	size_t data_len;
} davxml_item;

/* Parses the LEN bytes of XML as a DAV:multistatus document. Namespaces are resolved from the xmlns
 * declarations in scope (any prefixes, default namespaces); DTDs are refused (no entity definitions, so
 * no expansion attacks); the predefined and numeric character references are decoded; comments and
 * processing instructions are skipped. Each DAV:response that carries CALDAV:calendar-data in a 2xx
 * propstat (or under a 2xx response-level status) becomes an item; other responses (404 propstats,
 * collections) are skipped. Returns 0 with *ITEMS (arena) and *N, or -1 with a short reason in ERR when
 * the document is not well-formed, not a multistatus, deeper than DAVXML_MAX_DEPTH, larger than
 * DAVXML_MAX_BYTES, or has more than MAX_ITEMS items. */
int davxml_multistatus(arena *a, const char *xml, size_t len, int max_items, davxml_item **items, int *n, char *err,
		       size_t errlen);

#endif
