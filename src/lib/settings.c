/* settings: parses the configuration file and AGENTPLATFORM_* overrides into one struct. */
#include "settings.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef AP_DATADIR
#define AP_DATADIR "/usr/local/share"
#endif

enum setting_kind { K_STR, K_INT, K_KEYHEX, K_RLMODE, K_LOGLEVEL, K_URL, K_BOOL, K_HTTPURL };

struct setting_spec {
	const char *name;
	enum setting_kind kind;
	size_t offset;
	int required;
	long min, max; /* K_INT bounds */
};

#define S(f) offsetof(settings, f)
static const struct setting_spec SPECS[] = {
	{"db_host", K_STR, S(db_host), 0, 0, 0},
	{"db_port", K_INT, S(db_port), 0, 1, 65535},
	{"db_socket", K_STR, S(db_socket), 0, 0, 0},
	{"db_user", K_STR, S(db_user), 1, 0, 0},
	{"db_password", K_STR, S(db_password), 0, 0, 0},
	{"db_name", K_STR, S(db_name), 1, 0, 0},
	{"redis_host", K_STR, S(redis_host), 0, 0, 0},
	{"redis_port", K_INT, S(redis_port), 0, 1, 65535},
	{"redis_socket", K_STR, S(redis_socket), 0, 0, 0},
	{"master_key", K_KEYHEX, S(master_key), 1, 0, 0},
	{"master_key_version", K_INT, S(master_key_version), 0, 1, 1000000},
	{"previous_master_key", K_KEYHEX, S(previous_master_key), 0, 0, 0},
	{"previous_master_key_version", K_INT, S(previous_master_key_version), 0, 1, 1000000},
	{"credentials_max_per_account", K_INT, S(credentials_max_per_account), 0, 0, 10000000},
	{"rate_limit_default", K_INT, S(rate_limit_default), 0, 1, 10000000},
	{"rate_limit_redis_down", K_RLMODE, S(rate_limit_redis_down), 0, 0, 0},
	{"api_key_cache_seconds", K_INT, S(api_key_cache_seconds), 0, 0, 300},
	{"log_level", K_LOGLEVEL, S(log_level), 0, 0, 0},
	{"log_file", K_STR, S(log_file), 0, 0, 0},
	{"public_base_url", K_URL, S(public_base_url), 1, 0, 0},
	{"sql_dir", K_STR, S(sql_dir), 0, 0, 0},
	{"agents_max_per_account", K_INT, S(agents_max_per_account), 0, 0, 10000000},
	{"db_timeout_seconds", K_INT, S(db_timeout_seconds), 0, 1, 600},
	{"db_lock_wait_seconds", K_INT, S(db_lock_wait_seconds), 0, 1, 600},
	{"redis_timeout_ms", K_INT, S(redis_timeout_ms), 0, 10, 60000},
	{"allow_private_addresses", K_BOOL, S(allow_private_addresses), 0, 0, 0},
	{"queued_runs_max_per_agent", K_INT, S(queued_runs_max_per_agent), 0, 1, 10000000},
	{"hook_rate_limit_per_minute", K_INT, S(hook_rate_limit_per_minute), 0, 1, 1000000},
	{"scheduler_concurrency", K_INT, S(scheduler_concurrency), 0, 1, 256},
	{"cron_tick_seconds", K_INT, S(cron_tick_seconds), 0, 1, 3600},
	{"sweep_interval_seconds", K_INT, S(sweep_interval_seconds), 0, 1, 3600},
	{"sweep_requeue_after_seconds", K_INT, S(sweep_requeue_after_seconds), 0, 1, 86400},
	{"usage_flush_seconds", K_INT, S(usage_flush_seconds), 0, 1, 3600},
	{"key_expiry_check_seconds", K_INT, S(key_expiry_check_seconds), 0, 1, 86400},
	{"heartbeat_timeout_seconds", K_INT, S(heartbeat_timeout_seconds), 0, 2, 86400},
	{"run_max_attempts", K_INT, S(run_max_attempts), 0, 1, 100},
	{"approval_default_timeout_seconds", K_INT, S(approval_default_timeout_seconds), 0, 60, 2592000},
	{"approval_expiry_check_seconds", K_INT, S(approval_expiry_check_seconds), 0, 1, 3600},
	{"run_timeout_seconds", K_INT, S(run_timeout_seconds), 0, 1, 3600},
	{"shutdown_grace_seconds", K_INT, S(shutdown_grace_seconds), 0, 0, 3600},
	{"weather_geocoding_url", K_HTTPURL, S(weather_geocoding_url), 0, 0, 0},
	{"weather_forecast_url", K_HTTPURL, S(weather_forecast_url), 0, 0, 0},
	{"webhooks_allow_http", K_BOOL, S(webhooks_allow_http), 0, 0, 0},
	{"webhooks_max_per_account", K_INT, S(webhooks_max_per_account), 0, 0, 10000000},
	{"webhook_dispatch_seconds", K_INT, S(webhook_dispatch_seconds), 0, 1, 3600},
	{"webhook_retry_schedule", K_STR, S(webhook_retry_schedule), 0, 0, 0},
	{"webhook_disable_after_failures", K_INT, S(webhook_disable_after_failures), 0, 1, 1000},
	{"mcp_servers_max_per_account", K_INT, S(mcp_servers_max_per_account), 0, 0, 10000000},
	{"mcp_discovery_seconds", K_INT, S(mcp_discovery_seconds), 0, 1, 3600},
	{"mcp_client_timeout_seconds", K_INT, S(mcp_client_timeout_seconds), 0, 1, 300},
	{"mcp_allowed_origins", K_STR, S(mcp_allowed_origins), 0, 0, 0},
	{"mcp_tool_timeout_seconds", K_INT, S(mcp_tool_timeout_seconds), 0, 1, 120},
};
#undef S
#define NSPECS (sizeof SPECS / sizeof SPECS[0])

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Stores VALUE into the field SPEC describes; -1 with a message naming the setting on error. */
static int apply(settings *s, const struct setting_spec *spec, const char *value, const char *origin,
		 char *err, size_t errlen)
{
	char *base = (char *)s;
	switch (spec->kind) {
	case K_STR: {
		/* "db_user =" is a mistake, not a value: a required setting cannot be satisfied by nothing. */
		if (spec->required && *value == '\0') {
			snprintf(err, errlen, "setting %s (%s): must not be empty", spec->name, origin);
			return -1;
		}
		char **slot = (char **)(base + spec->offset);
		free(*slot);
		*slot = xstrdup(value);
		return 0;
	}
	case K_INT: {
		long v;
		if (util_parse_long(value, spec->min, spec->max, &v) != 0) {
			snprintf(err, errlen, "setting %s (%s): '%s' is not an integer in %ld..%ld", spec->name,
				 origin, value, spec->min, spec->max);
			return -1;
		}
		*(int *)(base + spec->offset) = (int)v;
		return 0;
	}
	case K_KEYHEX: {
		unsigned char *out = (unsigned char *)(base + spec->offset);
		if (strlen(value) != 64)
			goto badkey;
		for (int i = 0; i < 32; i++) {
			int hi = hexval((unsigned char)value[2 * i]), lo = hexval((unsigned char)value[2 * i + 1]);
			if (hi < 0 || lo < 0)
				goto badkey;
			out[i] = (unsigned char)(hi << 4 | lo);
		}
		return 0;
badkey:
		snprintf(err, errlen, "setting %s (%s): must be 64 hex digits (openssl rand -hex 32)", spec->name,
			 origin);
		return -1;
	}
	case K_RLMODE:
		if (strcmp(value, "open") == 0)
			s->rate_limit_redis_down = RL_DOWN_OPEN;
		else if (strcmp(value, "closed") == 0)
			s->rate_limit_redis_down = RL_DOWN_CLOSED;
		else {
			snprintf(err, errlen, "setting %s (%s): '%s' is not open or closed", spec->name, origin, value);
			return -1;
		}
		return 0;
	case K_LOGLEVEL: {
		int lvl = log_level_parse(value);
		if (lvl < 0) {
			snprintf(err, errlen, "setting %s (%s): '%s' is not debug, info, warn or error", spec->name,
				 origin, value);
			return -1;
		}
		s->log_level = lvl;
		return 0;
	}
	case K_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
			*(int *)(base + spec->offset) = value[0] == 't';
			return 0;
		}
		snprintf(err, errlen, "setting %s (%s): '%s' is not true or false", spec->name, origin, value);
		return -1;
	case K_HTTPURL:
		if ((strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) || strlen(value) > 500) {
			snprintf(err, errlen, "setting %s (%s): '%s' must be an http(s) URL", spec->name, origin, value);
			return -1;
		} else {
			char **slot = (char **)(base + spec->offset);
			free(*slot);
			*slot = xstrdup(value);
		}
		return 0;
	case K_URL: {
		size_t n = strlen(value);
		if ((strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) || n < 9 || n > 200 ||
		    value[n - 1] == '/') {
			snprintf(err, errlen,
				 "setting %s (%s): '%s' must be an http(s) origin without a trailing slash", spec->name,
				 origin, value);
			return -1;
		}
		char **slot = (char **)(base + spec->offset);
		free(*slot);
		*slot = xstrdup(value);
		return 0;
	}
	}
	return -1;
}

static const struct setting_spec *find_spec(const char *name)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (strcmp(SPECS[i].name, name) == 0)
			return &SPECS[i];
	return NULL;
}

/* AGENTPLATFORM_<NAME IN UPPER CASE>, the override variable of SPEC. */
static void env_name(const struct setting_spec *spec, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "AGENTPLATFORM_%s", spec->name);
	for (int j = 14; j < n && (size_t)j < outlen; j++)
		out[j] = (char)toupper((unsigned char)out[j]);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static int load_file(settings *s, const char *path, unsigned char *seen, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "config file %s: %s", path, strerror(errno));
		return -1;
	}
	char line[4096];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "config file %s:%d: line too long", path, lineno);
			rc = -1;
			break;
		}
		char *p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		char *eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "config file %s:%d: expected 'key = value'", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *key = trim(p), *value = trim(eq + 1);
		const struct setting_spec *spec = find_spec(key);
		if (!spec) {
			snprintf(err, errlen, "config file %s:%d: unknown setting '%s'", path, lineno, key);
			rc = -1;
			break;
		}
		char origin[64];
		snprintf(origin, sizeof origin, "line %d", lineno);
		if (apply(s, spec, value, origin, err, errlen) != 0) {
			rc = -1;
			break;
		}
		seen[spec - SPECS] = 1;
	}
	fclose(f);
	return rc;
}

settings *settings_new(const char *path, char *err, size_t errlen)
{
	settings *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->db_host = xstrdup("127.0.0.1");
	s->db_port = 3306;
	s->db_password = xstrdup("");
	s->redis_host = xstrdup("127.0.0.1");
	s->redis_port = 6379;
	s->master_key_version = 1;
	s->rate_limit_default = 100;
	s->rate_limit_redis_down = RL_DOWN_OPEN;
	s->api_key_cache_seconds = 10;
	s->log_level = LOG_INFO;
	s->sql_dir = xstrdup(AP_DATADIR "/agentplatform/sql");
	s->agents_max_per_account = 1000;
	s->db_timeout_seconds = 5;
	s->db_lock_wait_seconds = 3;
	s->redis_timeout_ms = 1000;
	s->queued_runs_max_per_agent = 1000;
	s->hook_rate_limit_per_minute = 60;
	s->scheduler_concurrency = 4;
	s->cron_tick_seconds = 15;
	s->sweep_interval_seconds = 30;
	s->sweep_requeue_after_seconds = 60;
	s->usage_flush_seconds = 60;
	s->key_expiry_check_seconds = 3600;
	s->heartbeat_timeout_seconds = 300;
	s->run_max_attempts = 3;
	s->approval_default_timeout_seconds = 86400;
	s->approval_expiry_check_seconds = 30;
	s->run_timeout_seconds = 60;
	s->shutdown_grace_seconds = 30;
	s->weather_geocoding_url = xstrdup("https://geocoding-api.open-meteo.com/v1/search");
	s->weather_forecast_url = xstrdup("https://api.open-meteo.com/v1/forecast");
	s->webhooks_max_per_account = 20;
	s->webhook_dispatch_seconds = 2;
	s->webhook_retry_schedule = xstrdup("5,30,120,600,3600,18000,36000");
	s->webhook_disable_after_failures = 5;
	s->mcp_servers_max_per_account = 20;
	s->mcp_discovery_seconds = 5;
	s->mcp_client_timeout_seconds = 15;
	s->mcp_tool_timeout_seconds = 8;
	s->credentials_max_per_account = 1000;

	unsigned char seen[NSPECS] = {0};
	if (!path)
		path = getenv("AGENTPLATFORM_CONFIG");
	if (path && *path && load_file(s, path, seen, err, errlen) != 0)
		goto fail;

	for (size_t i = 0; i < NSPECS; i++) {
		char var[96];
		env_name(&SPECS[i], var, sizeof var);
		const char *v = getenv(var);
		if (!v)
			continue;
		if (apply(s, &SPECS[i], v, var, err, errlen) != 0)
			goto fail;
		seen[i] = 1;
	}
	for (size_t i = 0; i < NSPECS; i++) {
		if (SPECS[i].required && !seen[i]) {
			char var[96];
			env_name(&SPECS[i], var, sizeof var);
			snprintf(err, errlen, "setting %s is missing (set it in the config file or %s)", SPECS[i].name,
				 var);
			goto fail;
		}
	}
	/* A previous key and its version come together, and never share the current key's version. */
	int has_prev_key = 0, has_prev_version = s->previous_master_key_version != 0;
	for (size_t i = 0; i < NSPECS; i++)
		if (strcmp(SPECS[i].name, "previous_master_key") == 0)
			has_prev_key = seen[i];
	if (has_prev_key != has_prev_version) {
		snprintf(err, errlen, "settings previous_master_key and previous_master_key_version go together");
		goto fail;
	}
	if (has_prev_version && s->previous_master_key_version == s->master_key_version) {
		snprintf(err, errlen, "setting previous_master_key_version must differ from master_key_version");
		goto fail;
	}
	return s;
fail:
	settings_free(s);
	return NULL;
}

void settings_free(settings *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < NSPECS; i++)
		if (SPECS[i].kind == K_STR || SPECS[i].kind == K_URL || SPECS[i].kind == K_HTTPURL)
			free(*(char **)((char *)s + SPECS[i].offset));
	explicit_bzero(s->master_key, sizeof s->master_key);
	explicit_bzero(s->previous_master_key, sizeof s->previous_master_key);
	free(s);
}

const unsigned char *settings_master_key(const settings *s, int version)
{
	if (version == s->master_key_version)
		return s->master_key;
	if (s->previous_master_key_version != 0 && version == s->previous_master_key_version)
		return s->previous_master_key;
	return NULL;
}

const char *settings_take_config_arg(int *argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < *argc; i++) {
		int take = 0;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < *argc) {
			path = argv[i + 1];
			take = 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			path = argv[i] + 9;
			take = 1;
		}
		if (take) {
			memmove(&argv[i], &argv[i + take], (size_t)(*argc - i - take + 1) * sizeof *argv);
			*argc -= take;
			i--;
		}
	}
	return path;
}
