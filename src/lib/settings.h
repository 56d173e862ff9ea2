/* settings: the one configuration file (key = value) plus AGENTPLATFORM_* overrides. */
#ifndef AP_SETTINGS_H
#define AP_SETTINGS_H

#include <stddef.h>

enum ratelimit_down_mode { RL_DOWN_OPEN, RL_DOWN_CLOSED };

typedef struct settings {
	char *db_host;            /* db_host, default 127.0.0.1 */
	int db_port;              /* db_port, default 3306 */
	char *db_socket;          /* db_socket, optional: used instead of host/port */
	char *db_user;            /* db_user, required */
	char *db_password;        /* db_password, default empty */
	char *db_name;            /* db_name, required */
	char *redis_host;         /* redis_host, default 127.0.0.1 */
	int redis_port;           /* redis_port, default 6379 */
	char *redis_socket;       /* redis_socket, optional */
	unsigned char master_key[32]; /* master_key, required: 64 hex digits */
	int master_key_version;   /* master_key_version, default 1 */
	unsigned char previous_master_key[32]; /* previous_master_key, optional: the key before a rotation, still opens
					* values recorded under previous_master_key_version (see rotate-master-key) */
	int previous_master_key_version; /* previous_master_key_version, default 0 (none) */
	int credentials_max_per_account; /* credentials_max_per_account: live credentials per account, default 1000 */
	int rate_limit_default;   /* rate_limit_default, requests per 60 s, default 100 */
	enum ratelimit_down_mode rate_limit_redis_down; /* open | closed, default open */
	int api_key_cache_seconds; /* api_key_cache_seconds: how long an API worker trusts a key it read, checked against
				    * Redis on every request (see src/api/keycache.h); 0 reads the key on every request.
				    * Default 10 */
	int log_level;            /* log_level: debug | info | warn | error, default info */
	char *log_file;           /* log_file, optional: default stderr */
	char *public_base_url;    /* public_base_url, required: http(s)://host[:port], no trailing slash */
	char *sql_dir;            /* sql_dir, default DATADIR/agentplatform/sql */
	int agents_max_per_account; /* agents_max_per_account, default 1000 */
	int db_timeout_seconds;   /* db_timeout_seconds, connect/read/write timeout, default 5 */
	int db_lock_wait_seconds; /* db_lock_wait_seconds, innodb_lock_wait_timeout of our sessions, default 3 */
	int redis_timeout_ms;     /* redis_timeout_ms, connect and command timeout, default 1000 */
	int allow_private_addresses; /* allow_private_addresses (true|false, default false): outbound calls may
				      * reach loopback/private networks (local stacks and tests only) */
	int queued_runs_max_per_agent; /* queued_runs_max_per_agent, default 1000 */
	int hook_rate_limit_per_minute; /* hook_rate_limit_per_minute, inbound webhook calls per agent, default 60 */
	int scheduler_concurrency;     /* scheduler_concurrency, run workers per scheduler, default 4 */
	int cron_tick_seconds;         /* cron_tick_seconds, default 15 */
	int sweep_interval_seconds;    /* sweep_interval_seconds, default 30 */
	int sweep_requeue_after_seconds; /* sweep_requeue_after_seconds: a queued run this old is pushed again, default 60 */
	int usage_flush_seconds;       /* usage_flush_seconds: API request counts go from Redis to MariaDB, default 60 */
	int key_expiry_check_seconds;  /* key_expiry_check_seconds: API keys expiring within 7 days are notified, default 3600 */
	int heartbeat_timeout_seconds; /* heartbeat_timeout_seconds: a running run silent this long is re-queued, default 300 */
	int run_max_attempts;          /* run_max_attempts, default 3 */
	int approval_default_timeout_seconds; /* approval_default_timeout_seconds: an approval expires after this
						 unless its agent sets approval_timeout_seconds, default 86400 */
	int approval_expiry_check_seconds; /* approval_expiry_check_seconds: overdue approvals are expired, default 30 */
	int run_timeout_seconds;       /* run_timeout_seconds: bound on one run's outbound work, default 60 */
	int shutdown_grace_seconds;    /* shutdown_grace_seconds: SIGTERM waits this long for running runs, default 30 */
	char *weather_geocoding_url;   /* weather_geocoding_url, default https://geocoding-api.open-meteo.com/v1/search */
	char *weather_forecast_url;    /* weather_forecast_url, default https://api.open-meteo.com/v1/forecast */
	int webhooks_allow_http;       /* webhooks_allow_http (true|false, default false): endpoint URLs may use http
				       * (local stacks and tests only); otherwise https is required */
	int webhooks_max_per_account;  /* webhooks_max_per_account: live webhook endpoints per account, default 20 */
	int webhook_dispatch_seconds;  /* webhook_dispatch_seconds: outbox dispatch and due deliveries, default 2 */
	char *webhook_retry_schedule;  /* webhook_retry_schedule: seconds before each retry (comma-separated, jitter +-20%),
				       * default 5,30,120,600,3600,18000,36000; the attempts are 1 + its entries */
	int webhook_disable_after_failures; /* webhook_disable_after_failures: consecutive failed deliveries that disable
					     * an endpoint, default 5 */
	int mcp_servers_max_per_account; /* mcp_servers_max_per_account: live MCP server configs per account, default 20 */
	int mcp_discovery_seconds;     /* mcp_discovery_seconds: how often the scheduler discovers unchecked MCP servers,
				       * default 5 */
	int mcp_client_timeout_seconds; /* mcp_client_timeout_seconds: bound on one discovery (initialize and every
					 * tools/list page) of an external MCP server, default 15 */
	char *mcp_allowed_origins;     /* mcp_allowed_origins: origins (scheme://host[:port], space- or comma-separated) whose
				       * browser requests /mcp accepts; unset: every request with an Origin header gets 403 */
	int mcp_tool_timeout_seconds;  /* mcp_tool_timeout_seconds: bound on an MCP tool's outbound calls, default 8 */
} settings;

/* Loads PATH (NULL: $AGENTPLATFORM_CONFIG; neither: only the environment), then applies
 * AGENTPLATFORM_<KEY> overrides. Returns a heap object (free with settings_free) or NULL after
 * writing one message naming the bad or missing setting into ERR. */
settings *settings_new(const char *path, char *err, size_t errlen);
void settings_free(settings *s);

/* The master key that opens values recorded under key VERSION: master_key or previous_master_key, or NULL when
 * neither has that version. */
const unsigned char *settings_master_key(const settings *s, int version);

/* Finds --config FILE (or --config=FILE) in argv and removes it; returns the path or NULL. */
const char *settings_take_config_arg(int *argc, char **argv);

#endif
