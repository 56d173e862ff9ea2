/* openapi: serves GET /api/v1/openapi.json from the document prepared at start-up. */
#include "openapi.h"
#include "handlers.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

int openapi_prepare(app *ap)
{
	json_error_t e;
	json_t *doc = json_loadb(OPENAPI_JSON, OPENAPI_JSON_LEN, JSON_REJECT_DUPLICATES, &e);
	if (!doc) {
		log_error("compiled-in OpenAPI document is invalid: %s (line %d)", e.text, e.line);
		return -1;
	}
	json_object_set_new(doc, "servers",
			    json_pack("[{s:s, s:s}]", "url", ap->cfg->public_base_url, "description", "This deployment"));
	ap->openapi = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!ap->openapi)
		abort();
	ap->openapi_len = strlen(ap->openapi);
	return 0;
}

int openapi_get(request *r)
{
	if (!r->app->openapi)
		return req_fail(r, ERR_INTERNAL, "the API description is unavailable");
	r->status = 200;
	r->raw_out = r->app->openapi;
	r->raw_out_len = r->app->openapi_len;
	return 0;
}
