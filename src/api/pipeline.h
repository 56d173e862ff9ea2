/* pipeline: the one driver every request goes through (route, authenticate, rate limit, scope, body,
 * query, handler), in DESIGN.md's order. Handlers hold only their resource's logic. */
#ifndef AP_PIPELINE_H
#define AP_PIPELINE_H

#include "request.h"

/* Runs R to completion: afterwards R's status/body/headers (or recorded error) are final. */
void pipeline_run(request *r);

/* One access-log line for the finished R: request id, key id, method, route pattern (never the raw path,
 * which may hold an inbound-hook token), status, duration. */
void pipeline_log(const request *r);

/* Steps exposed for unit tests. Each returns 0, or -1 with the failure recorded in R. */
int pipeline_route(request *r);
int pipeline_body(request *r);
int pipeline_query(request *r);

/* Whether Content-Type value CT has the media type WANT (parameters such as charset ignored, case-insensitive). */
int pipeline_media_type_is(const char *ct, const char *want);

#endif
