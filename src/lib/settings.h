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
	int rate_limit_default;   /* rate_limit_default, requests per 60 s, default 100 */
	enum ratelimit_down_mode rate_limit_redis_down; /* open | closed, default open */
	int log_level;            /* log_level: debug | info | warn | error, default info */
	char *log_file;           /* log_file, optional: default stderr */
	char *public_base_url;    /* public_base_url, required: http(s)://host[:port], no trailing slash */
	char *sql_dir;            /* sql_dir, default DATADIR/agentplatform/sql */
	int agents_max_per_account; /* agents_max_per_account, default 1000 */
	int db_timeout_seconds;   /* db_timeout_seconds, connect/read/write timeout, default 5 */
	int redis_timeout_ms;     /* redis_timeout_ms, connect and command timeout, default 1000 */
} settings;

/* Loads PATH (NULL: $AGENTPLATFORM_CONFIG; neither: only the environment), then applies
 * AGENTPLATFORM_<KEY> overrides. Returns a heap object (free with settings_free) or NULL after
 * writing one message naming the bad or missing setting into ERR. */
settings *settings_new(const char *path, char *err, size_t errlen);
void settings_free(settings *s);

/* Finds --config FILE (or --config=FILE) in argv and removes it; returns the path or NULL. */
const char *settings_take_config_arg(int *argc, char **argv);

#endif
