/* jsonbody: strict parsing of untrusted JSON request bodies (bounded size and depth, no duplicate keys). */
#ifndef AP_JSONBODY_H
#define AP_JSONBODY_H

#include <jansson.h>
#include <stddef.h>

#define JSONBODY_MAX_DEPTH 32

/* Parses LEN bytes of DATA. The top level must be an object; keys must be unique at every level; nesting
 * may be at most JSONBODY_MAX_DEPTH deep. Returns a new reference, or NULL with a client-safe one-line
 * reason in ERR. */
json_t *jsonbody_parse(const char *data, size_t len, char *err, size_t errlen);

/* The same for inbound webhooks: any JSON value at the top level. */
json_t *jsonbody_parse_any(const char *data, size_t len, char *err, size_t errlen);

/* Nesting depth of V: a scalar is 0, {} or [] is 1. Stops counting at LIMIT + 1. */
int jsonbody_depth(const json_t *v, int limit);

#endif
