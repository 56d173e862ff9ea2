/* health: /healthz (the worker answers) and /readyz (its MariaDB and Redis answer). */
#include "handlers.h"

int health_live(request *r)
{
	return req_respond(r, 200, json_pack("{s:s}", "status", "ok"));
}

int health_ready(request *r)
{
	int db_ok = db_ping(r->app->db) == 0;
	int kv_ok = kv_ping(r->app->kv) == 0;
	if (!db_ok || !kv_ok)
		return req_fail(r, ERR_DEPENDENCY_UNAVAILABLE,
				!db_ok && !kv_ok ? "MariaDB and Redis are unreachable"
				: !db_ok         ? "MariaDB is unreachable"
						 : "Redis is unreachable");
	return req_respond(r, 200,
			   json_pack("{s:s, s:{s:s, s:s}}", "status", "ready", "checks", "mariadb", "ok", "redis", "ok"));
}
