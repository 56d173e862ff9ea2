/* app: the process-wide state of an API worker, made in main and passed to every request. */
#ifndef AP_APP_H
#define AP_APP_H

#include "db.h"
#include "kv.h"
#include "ratelimit.h"
#include "settings.h"

typedef struct app {
	const settings *cfg;
	db *db;
	kv *kv;
	ratelimit rl;
	char *openapi;      /* the served OpenAPI document (openapi_prepare), heap */
	size_t openapi_len;
} app;

#endif
