/* openapi: the OpenAPI 3.1 document (src/api/openapi.json, compiled in) and its serving. */
#ifndef AP_OPENAPI_H
#define AP_OPENAPI_H

#include "app.h"

/* The document exactly as in src/api/openapi.json, NUL-terminated (generated: openapi_doc.c). */
extern const char OPENAPI_JSON[];
extern const unsigned long OPENAPI_JSON_LEN;

/* Parses the document once per process, points `servers` at public_base_url and keeps the compact text in
 * AP. Returns 0, or -1 if the compiled-in document is not valid JSON (a build defect). */
int openapi_prepare(app *ap);

#endif
