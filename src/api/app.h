/* app: the process-wide state of an API worker, made in main and passed to every request. */
#ifndef AP_APP_H
#define AP_APP_H

#include "db.h"
#include "keycache.h"
#include "kv.h"
#include "ratelimit.h"
#include "settings.h"

typedef struct app {
	const settings *cfg;
	db *db;
	kv *kv;
	ratelimit rl;
	keycache *keys;     /* NULL: api_key_cache_seconds = 0, every request reads its key */
	char *openapi;      /* the served OpenAPI document (openapi_prepare), heap */
	size_t openapi_len;
} app;

#endif
